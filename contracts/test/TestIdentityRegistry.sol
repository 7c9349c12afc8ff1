// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";

/// @title TestIdentityRegistry (TEST HELPER, never deployed by the plan)
/// @notice An IIdentityRegistry whose answers a test sets directly.
contract TestIdentityRegistry is IIdentityRegistry {
    mapping(address account => bool verified) public override isVerified;

    /// @notice Set whether `account` counts as verified. Anyone (test helper).
    function setVerified(address account, bool verified) external {
        isVerified[account] = verified;
    }
}
