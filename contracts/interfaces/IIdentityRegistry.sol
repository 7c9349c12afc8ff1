// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IIdentityRegistry
/// @notice The identity registry (ERC-3643-inspired) as other contracts see it: whether an address
///         has passed KYC and its verification has not expired. Written by the KYC flow.
/// @dev The compliance family extends this interface with its events, errors and writers.
interface IIdentityRegistry {
    /// @notice True when `account` holds an unexpired, unrevoked identity verification.
    function isVerified(address account) external view returns (bool);
}
