// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1155MetadataURI} from "@openzeppelin/contracts/token/ERC1155/extensions/IERC1155MetadataURI.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IRightsSource} from "./IRightsRegistry.sol";
import {IHoldingEpoch} from "./IHoldingEpoch.sol";
import {ICollectionAdmin} from "./ICollectionAdmin.sol";

/// @title IEditions1155
/// @notice A creator's ERC-1155 editions (one clone per creator, made by the CollectionFactory): each
///         token id is one work (IPFS CID + content hash); its first mint writes the work's rights
///         record in the RightsRegistry, later mints add copies. ERC-2981 royalties. Owner, minters
///         and pause: ICollectionAdmin (errors below: its NotOwner, NotMinter, InvalidOwner, Paused,
///         NotPaused are `Editions*`; the pause blocks minting and transfers).
interface IEditions1155 is IERC2981, IERC1155MetadataURI, IRightsSource, IHoldingEpoch, ICollectionAdmin {
    /// @notice What a creator chooses for new editions.
    struct Settings {
        string name;
        string symbol;
        address owner;
        address royaltyReceiver;
        uint96 royaltyBps;
    }

    /// @notice Emitted when the default royalty is set (at initialization too).
    event DefaultRoyaltyUpdated(address indexed receiver, uint96 bps);
    /// @notice Emitted when token id `id` is created for the work `contentHash`.
    event WorkCreated(uint256 indexed id, bytes32 indexed contentHash);

    /// @notice `initialize` ran already (or this is the locked implementation).
    error EditionsAlreadyInitialized();
    /// @notice The caller is not the owner.
    error EditionsNotOwner(address caller);
    /// @notice The caller is neither the owner nor a minter.
    error EditionsNotMinter(address caller);
    /// @notice The owner cannot be the zero address.
    error EditionsInvalidOwner(address owner);
    /// @notice The editions need a rights registry.
    error EditionsRightsRegistryMissing();
    /// @notice The editions are paused.
    error EditionsPaused();
    /// @notice The editions are not paused.
    error EditionsNotPaused();
    /// @notice A mint needs at least one copy.
    error EditionsAmountZero();
    /// @notice No work has token id `id`.
    error EditionsUnknownWork(uint256 id);

    /// @notice Set up a fresh clone. Callable once; the implementation itself is locked.
    /// @dev Emits `OwnershipTransferred` and `DefaultRoyaltyUpdated`. Reverts with
    ///      `EditionsAlreadyInitialized`, `EditionsInvalidOwner`, `EditionsRightsRegistryMissing` or
    ///      OpenZeppelin's ERC2981 errors.
    function initialize(Settings calldata settings, address rightsRegistry) external;

    /// @notice Create the next token id for a new work, mint `amount` copies to `to`, and write the
    ///         work's rights record.
    /// @dev Owner or minter, not paused. Emits `WorkCreated`, `URI`, `TransferSingle` and the
    ///      registry's `RightsRegistered` or `RightsBound`. Calls `onERC1155Received` when `to` is a
    ///      contract. Reverts with `EditionsNotMinter`, `EditionsPaused`, `EditionsAmountZero`,
    ///      `CidUnsupported`, `ERC1155InvalidReceiver` and the registry's errors.
    /// @return id The new token id (ids start at 1).
    function mintWork(address to, uint256 amount, bytes32 contentHash, bytes calldata cid)
        external returns (uint256 id);

    /// @notice Mint `amount` more copies of the existing work `id` to `to`.
    /// @dev Owner or minter, not paused. Emits `TransferSingle`. Reverts with `EditionsNotMinter`,
    ///      `EditionsPaused`, `EditionsAmountZero`, `EditionsUnknownWork`, `ERC1155InvalidReceiver`.
    function mint(address to, uint256 id, uint256 amount) external;

    /// @notice The binary CID of work `id`. Reverts with `EditionsUnknownWork`.
    function workCid(uint256 id) external view returns (bytes memory);

    /// @notice Set the default royalty. Only the owner; emits `DefaultRoyaltyUpdated`.
    /// @dev Reverts with `EditionsNotOwner` or OpenZeppelin's ERC2981 errors.
    function setDefaultRoyalty(address receiver, uint96 bps) external;

    /// @notice The collection name (for marketplaces; not part of ERC-1155).
    function name() external view returns (string memory);
    /// @notice The collection symbol.
    function symbol() external view returns (string memory);
    /// @notice The rights registry this contract records mints in.
    function rightsRegistry() external view returns (address);
    /// @notice How many works (token ids) exist: ids 1 .. workCount().
    function workCount() external view returns (uint256);
}
