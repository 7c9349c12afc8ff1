// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TestIdentityRegistry (TEST HELPER, never deployed by the plan)
/// @notice Answers `isVerified` (the only view collections and the marketplace read from an
///         IIdentityRegistry) as a test sets it directly.
contract TestIdentityRegistry {
    mapping(address account => bool verified) public isVerified;

    /// @notice Set whether `account` counts as verified. Anyone (test helper).
    function setVerified(address account, bool verified) external {
        isVerified[account] = verified;
    }
}
