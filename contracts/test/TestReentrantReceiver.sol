// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TestReentrantReceiver (TEST HELPER)
/// @notice On receiving ETH, calls `target` with `payload` once (a re-entry attempt) and records the
///         outcome in `reentryOutcome`: 1 = not tried, 2 = failed, 3 = succeeded; `lastRevertData`
///         keeps the revert data of a failed attempt only when `recordRevertData` is set (it costs gas).
///         With `revertWhenBlocked` set, a failed attempt makes `receive` revert.
contract TestReentrantReceiver {
    error TestForwardFailed(bytes reason);

    address public target;
    bytes public payload;
    uint256 public reentryOutcome = 1;
    bool public revertWhenBlocked;
    bool public recordRevertData;
    bytes public lastRevertData;

    /// @notice Re-enter `target_` with `payload_` on the next receipt (resets the outcome).
    function arm(address target_, bytes calldata payload_, bool revertWhenBlocked_, bool recordRevertData_) external {
        target = target_;
        payload = payload_;
        revertWhenBlocked = revertWhenBlocked_;
        recordRevertData = recordRevertData_;
        reentryOutcome = 1;
    }

    /// @notice Call `target_` with `data` and the value sent; reverts TestForwardFailed on failure.
    function forward(address target_, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory result) = target_.call{value: msg.value}(data);
        if (!ok) revert TestForwardFailed(result);
        return result;
    }

    /// @notice Accept ETH and attempt the armed re-entry once.
    receive() external payable {
        if (target == address(0) || reentryOutcome != 1) return;
        (bool ok, bytes memory result) = target.call(payload);
        reentryOutcome = ok ? 3 : 2;
        if (!ok && recordRevertData) lastRevertData = result;
        if (!ok && revertWhenBlocked) revert TestForwardFailed(result);
    }
}
