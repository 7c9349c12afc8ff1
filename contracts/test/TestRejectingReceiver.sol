// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TestRejectingReceiver (TEST HELPER)
/// @notice A contract that cannot receive ETH: `receive` reverts, or burns all gas when `burnGas`.
///         It can still call other contracts through `forward` (e.g. to withdraw to another address).
contract TestRejectingReceiver {
    error TestReceiverRejected();
    error TestForwardFailed(bytes reason);

    bool public burnGas;

    /// @notice Burn all gas on receipt instead of reverting.
    function setBurnGas(bool value) external {
        burnGas = value;
    }

    /// @notice Call `target` with `data`; reverts TestForwardFailed with the callee's revert data.
    function forward(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) revert TestForwardFailed(result);
        return result;
    }

    /// @notice Refuse ETH: revert TestReceiverRejected, or burn all gas.
    receive() external payable {
        if (burnGas) {
            while (true) {}
        }
        revert TestReceiverRejected();
    }
}
