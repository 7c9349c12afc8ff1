// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title MktTestIdentity (test helper)
/// @notice An identity registry whose verifications anyone can set. Never deployed by the platform.
/// @dev Answers only `isVerified`, the view the marketplace reads from an IIdentityRegistry.
contract MktTestIdentity {
    mapping(address => bool) private _verified;

    function setVerified(address account, bool verified) external {
        _verified[account] = verified;
    }

    function isVerified(address account) external view returns (bool) {
        return _verified[account];
    }
}
