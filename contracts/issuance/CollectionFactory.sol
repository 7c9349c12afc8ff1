// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ICollectionFactory} from "../interfaces/ICollectionFactory.sol";
import {ICreatorCollection} from "../interfaces/ICreatorCollection.sol";
import {IEditions1155} from "../interfaces/IEditions1155.sol";
import {IRightsRegistry} from "../interfaces/IRightsRegistry.sol";
import {ISplitterFactory} from "../interfaces/ISplitterFactory.sol";

/// @title CollectionFactory
/// @notice Creates creators' ERC-721 collections and ERC-1155 editions as EIP-1167 clones at
///         deterministic addresses, initializes them and adds them to the RightsRegistry, all in one
///         transaction (so nobody can initialize a fresh clone first).
/// @dev Stateless. The registry must allow this factory (`RightsRegistry.setFactory`), which the
///      deploy plan does right after deploying it.
contract CollectionFactory is ICollectionFactory {
    IRightsRegistry private immutable _registry;
    address private immutable _collectionImpl;
    address private immutable _editionsImpl;

    /// @param registry The singleton RightsRegistry.
    /// @param collectionImpl The locked CreatorCollection implementation.
    /// @param editionsImpl The locked Editions1155 implementation.
    constructor(IRightsRegistry registry, address collectionImpl, address editionsImpl) {
        if (address(registry) == address(0) || collectionImpl == address(0) || editionsImpl == address(0)) {
            revert FactoryZeroAddress();
        }
        _registry = registry;
        _collectionImpl = collectionImpl;
        _editionsImpl = editionsImpl;
    }

    /// @inheritdoc ICollectionFactory
    function createCollection(ICreatorCollection.Settings calldata settings, bytes32 salt)
        external
        returns (address collection)
    {
        collection = _cloneCollection(salt);
        ICreatorCollection(collection).initialize(settings, address(_registry));
        _registry.addCollection(collection);
        emit CollectionCreated(collection, settings.owner, msg.sender, salt);
    }

    /// @inheritdoc ICollectionFactory
    function createCollectionWithSplit(
        ICreatorCollection.Settings calldata settings,
        ISplitterFactory splitterFactory,
        address[] calldata recipients,
        uint16[] calldata bps,
        bytes32 salt
    ) external returns (address collection, address splitter) {
        splitter = splitterFactory.createSplitter(recipients, bps, salt);
        ICreatorCollection.Settings memory withSplit = settings;
        withSplit.royaltyReceiver = splitter;
        collection = _cloneCollection(salt);
        ICreatorCollection(collection).initialize(withSplit, address(_registry));
        _registry.addCollection(collection);
        emit CollectionCreated(collection, settings.owner, msg.sender, salt);
    }

    /// @inheritdoc ICollectionFactory
    function createEditions1155(IEditions1155.Settings calldata settings, bytes32 salt)
        external
        returns (address editions)
    {
        editions = _clone(_editionsImpl, salt);
        IEditions1155(editions).initialize(settings, address(_registry));
        _registry.addCollection(editions);
        emit Editions1155Created(editions, settings.owner, msg.sender, salt);
    }

    /// @inheritdoc ICollectionFactory
    function predictCollectionAddress(address deployer, bytes32 salt) external view returns (address) {
        return Clones.predictDeterministicAddressWithImmutableArgs(_collectionImpl, _collectionArgs(),
                                                                   _salt(deployer, salt));
    }

    /// @inheritdoc ICollectionFactory
    function predictEditionsAddress(address deployer, bytes32 salt) external view returns (address) {
        return Clones.predictDeterministicAddress(_editionsImpl, _salt(deployer, salt));
    }

    /// @inheritdoc ICollectionFactory
    function rightsRegistry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc ICollectionFactory
    function collectionImplementation() external view returns (address) {
        return _collectionImpl;
    }

    /// @inheritdoc ICollectionFactory
    function editionsImplementation() external view returns (address) {
        return _editionsImpl;
    }

    function _clone(address implementation, bytes32 salt) private returns (address clone) {
        bytes32 fullSalt = _salt(msg.sender, salt);
        address predicted = Clones.predictDeterministicAddress(implementation, fullSalt);
        if (predicted.code.length != 0) revert FactoryCloneExists(predicted);
        clone = Clones.cloneDeterministic(implementation, fullSalt);
    }

    /// @dev ERC-721 clones carry the registry address as their immutable argument (read on every
    ///      mint from the clone's code instead of storage).
    function _cloneCollection(bytes32 salt) private returns (address clone) {
        bytes memory args = _collectionArgs();
        bytes32 fullSalt = _salt(msg.sender, salt);
        address predicted = Clones.predictDeterministicAddressWithImmutableArgs(_collectionImpl, args, fullSalt);
        if (predicted.code.length != 0) revert FactoryCloneExists(predicted);
        clone = Clones.cloneDeterministicWithImmutableArgs(_collectionImpl, args, fullSalt);
    }

    function _collectionArgs() private view returns (bytes memory) {
        return abi.encodePacked(address(_registry));
    }

    function _salt(address deployer, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(deployer, salt));
    }
}
