// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

/// @title TestCloner (TEST HELPER, never deployed by the plan)
/// @notice Clones an implementation outside the CollectionFactory, to show that the registry refuses
///         records from collections the factory did not create.
contract TestCloner {
    /// @notice Emitted with the address of each clone.
    event Cloned(address clone);

    /// @notice Clone `implementation` (uninitialized); anyone.
    function clone(address implementation) external returns (address instance) {
        instance = Clones.clone(implementation);
        emit Cloned(instance);
    }
}
