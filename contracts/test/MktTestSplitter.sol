// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title MktTestSplitter (test helper)
/// @notice Stands in for a pull-based royalty splitter: receive() only accepts the ETH and
///         announces it (like OpenZeppelin's PaymentSplitter); payees would pull their shares.
///         `received()` counts what arrived. Never deployed by the platform.
contract MktTestSplitter {
    event PaymentReceived(address from, uint256 amount);

    receive() external payable {
        emit PaymentReceived(msg.sender, msg.value);
    }

    /// @notice Every wei this splitter received (nothing is released in the test double).
    function received() external view returns (uint256) {
        return address(this).balance;
    }
}
