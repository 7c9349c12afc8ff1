// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICreatorCollection} from "./ICreatorCollection.sol";
import {IEditions1155} from "./IEditions1155.sol";
import {ISplitterFactory} from "./ISplitterFactory.sol";

/// @title ICollectionFactory
/// @notice Creates creators' collections as minimal clones (EIP-1167) of the CreatorCollection and
///         Editions1155 implementations, at deterministic addresses, and adds each to the
///         RightsRegistry so it may record its mints.
/// @dev Each caller has its own address space: the CREATE2 salt is keccak256(caller, salt), so nobody
///      can take the address another account predicted for itself.
interface ICollectionFactory {
    /// @notice Emitted when `deployer` creates the ERC-721 collection `collection` owned by `owner`.
    event CollectionCreated(address indexed collection, address indexed owner, address indexed deployer,
                            bytes32 salt);
    /// @notice Emitted when `deployer` creates the ERC-1155 editions `editions` owned by `owner`.
    event Editions1155Created(address indexed editions, address indexed owner, address indexed deployer,
                              bytes32 salt);

    /// @notice A clone already exists at the address this caller and salt lead to.
    error FactoryCloneExists(address clone);
    /// @notice The factory needs a registry and both implementations.
    error FactoryZeroAddress();

    /// @notice Create an ERC-721 collection at `predictCollectionAddress(msg.sender, salt)`.
    /// @dev Anyone may call (usually the creator, with `settings.owner` = itself). Initializes the
    ///      clone and adds it to the registry in the same transaction. Emits `CollectionCreated`
    ///      (and the clone's and registry's events). Reverts with `FactoryCloneExists` and the
    ///      collection's `initialize` errors.
    function createCollection(ICreatorCollection.Settings calldata settings, bytes32 salt)
        external returns (address collection);

    /// @notice Create an ERC-721 collection whose ERC-2981 royalty receiver is a royalty splitter,
    ///         created (or found, the address committing to the split) in the same transaction.
    /// @dev Anyone may call. The splitter is `splitterFactory.createSplitter(recipients, bps, salt)`,
    ///      at `splitterFactory.predictSplitterAddress(recipients, bps, salt)`; it replaces
    ///      `settings.royaltyReceiver`. The collection lands at `predictCollectionAddress(msg.sender,
    ///      salt)`. Emits `CollectionCreated` (with the splitter factory's `SplitterCreated` when the
    ///      splitter is new, and the clone's `DefaultRoyaltyUpdated` naming the splitter). Reverts as
    ///      `createCollection`, and with the splitter factory's `Split*` errors.
    /// @param splitterFactory The platform's SplitterFactory (the deploy plan's).
    /// @param recipients The split's recipients, ascending addresses.
    /// @param bps Each recipient's basis points, summing to 10,000.
    function createCollectionWithSplit(
        ICreatorCollection.Settings calldata settings,
        ISplitterFactory splitterFactory,
        address[] calldata recipients,
        uint16[] calldata bps,
        bytes32 salt
    ) external returns (address collection, address splitter);

    /// @notice Create ERC-1155 editions at `predictEditionsAddress(msg.sender, salt)`.
    /// @dev As `createCollection`; emits `Editions1155Created`.
    function createEditions1155(IEditions1155.Settings calldata settings, bytes32 salt)
        external returns (address editions);

    /// @notice The address `createCollection` called by `deployer` with `salt` deploys to.
    function predictCollectionAddress(address deployer, bytes32 salt) external view returns (address);

    /// @notice The address `createEditions1155` called by `deployer` with `salt` deploys to.
    function predictEditionsAddress(address deployer, bytes32 salt) external view returns (address);

    /// @notice The rights registry collections are added to.
    function rightsRegistry() external view returns (address);
    /// @notice The CreatorCollection implementation (locked) the ERC-721 clones delegate to.
    function collectionImplementation() external view returns (address);
    /// @notice The Editions1155 implementation (locked) the ERC-1155 clones delegate to.
    function editionsImplementation() external view returns (address);
}
