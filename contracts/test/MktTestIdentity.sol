// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";

/// @title MktTestIdentity (test helper)
/// @notice An identity registry whose verifications anyone can set. Never deployed by the platform.
contract MktTestIdentity is IIdentityRegistry {
    mapping(address => bool) private _verified;

    function setVerified(address account, bool verified) external {
        _verified[account] = verified;
    }

    function isVerified(address account) external view returns (bool) {
        return _verified[account];
    }
}
