// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {IERC2309} from "@openzeppelin/contracts/interfaces/IERC2309.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC4907} from "./IERC4907.sol";
import {IRightsSource} from "./IRightsRegistry.sol";
import {IHoldingEpoch} from "./IHoldingEpoch.sol";
import {ICollectionAdmin} from "./ICollectionAdmin.sol";

/// @title ICreatorCollection
/// @notice A creator's ERC-721 collection (one clone per creator, made by the CollectionFactory): each
///         token is bound to a work (IPFS CID + content hash) whose rights record the mint writes in
///         the RightsRegistry. ERC-2981 royalties, ERC-4906 metadata events, ERC-4907 rentals, and
///         editions (many tokens of one work in one transaction, announced by ERC-2309's
///         `ConsecutiveTransfer`). Owner, minters and pause: ICollectionAdmin (errors below: its
///         NotOwner, NotMinter, InvalidOwner, Paused, NotPaused are `Collection*`; the pause blocks
///         minting, transfers and rentals).
interface ICreatorCollection is
    IERC721Metadata,
    IERC4906,
    IERC2309,
    IERC2981,
    IERC4907,
    IRightsSource,
    IHoldingEpoch,
    ICollectionAdmin
{
    /// @notice What a creator chooses for a new collection.
    /// @param royaltyReceiver Receiver of the default ERC-2981 royalty (e.g. the creator's splitter).
    /// @param royaltyBps Royalty in basis points of the sale price (at most 10,000).
    /// @param identityRegistry Optional IIdentityRegistry (zero: none).
    /// @param requireVerifiedHolders When true, mint and transfer recipients must be verified there.
    struct Settings {
        string name;
        string symbol;
        address owner;
        address royaltyReceiver;
        uint96 royaltyBps;
        address identityRegistry;
        bool requireVerifiedHolders;
    }

    /// @notice Emitted when the verified-holder policy is set (at initialization too).
    event IdentityPolicyUpdated(address indexed identityRegistry, bool requireVerifiedHolders);
    /// @notice Emitted when the default royalty is set (at initialization too).
    event DefaultRoyaltyUpdated(address indexed receiver, uint96 bps);
    /// @notice Emitted when the owner sets the token URI prefix (empty: the default `ipfs://`).
    event UriPrefixUpdated(string prefix);
    /// @notice Emitted when the owner freezes the metadata: the URI prefix can no longer change.
    event MetadataFrozen();
    /// @notice Emitted when tokens `workId` .. `workId + quantity - 1` are minted for one work.
    event WorkMinted(uint256 indexed workId, bytes32 indexed contentHash, uint256 quantity);

    /// @notice `initialize` ran already (or this is the locked implementation).
    error CollectionAlreadyInitialized();
    /// @notice The caller is not the owner.
    error CollectionNotOwner(address caller);
    /// @notice The caller is neither the owner nor a minter.
    error CollectionNotMinter(address caller);
    /// @notice The owner cannot be the zero address.
    error CollectionInvalidOwner(address owner);
    /// @notice The collection needs a rights registry: the one its clone carries (the factory appends
    ///         the registry address to every clone's code), passed again to `initialize`.
    error CollectionRightsRegistryMissing();
    /// @notice The collection is paused.
    error CollectionPaused();
    /// @notice The collection is not paused.
    error CollectionNotPaused();
    /// @notice The verified-holder policy is on and `account` is not verified.
    error CollectionRecipientNotVerified(address account);
    /// @notice The verified-holder policy needs an identity registry.
    error CollectionIdentityRegistryMissing();
    /// @notice An edition needs at least one token.
    error CollectionQuantityZero();
    /// @notice Token ids are 32-bit; only `available` more tokens can be minted.
    error CollectionSupplyExhausted(uint256 requested, uint256 available);
    /// @notice The metadata is frozen.
    error CollectionMetadataFrozen();

    /// @notice Set up a fresh clone. Callable once; the implementation itself is locked.
    /// @dev `rightsRegistry` must be the registry the clone carries as immutable argument (a clone
    ///      made without one cannot be initialized). The factory calls it in the transaction that creates the clone. Emits
    ///      `OwnershipTransferred`, `DefaultRoyaltyUpdated` and `IdentityPolicyUpdated`. Reverts with
    ///      `CollectionAlreadyInitialized`, `CollectionInvalidOwner`, `CollectionRightsRegistryMissing`,
    ///      `CollectionIdentityRegistryMissing` or OpenZeppelin's ERC2981 errors (bad royalty).
    function initialize(Settings calldata settings, address rightsRegistry) external;

    /// @notice Mint one token of a new work to `to` and write the work's rights record.
    /// @dev Owner or minter, not paused. Emits `Transfer`, `WorkMinted`, and the registry's
    ///      `RightsRegistered` (or `RightsBound` when the owner registered the content earlier).
    ///      Calls `onERC721Received` when `to` is a contract. Reverts with `CollectionNotMinter`,
    ///      `CollectionPaused`, `ERC721InvalidReceiver`, `CidUnsupported`,
    ///      `CollectionSupplyExhausted`, `CollectionRecipientNotVerified` and the registry's errors
    ///      (`RightsAlreadyRegistered`, `RightsCidMismatch`, `RightsContentHashZero`, ...).
    /// @param cid Binary CIDv1 of the work (36 bytes); `tokenURI` renders it as `ipfs://b...`.
    /// @return tokenId The new token (also the work id).
    function mintWork(address to, bytes32 contentHash, bytes calldata cid) external returns (uint256 tokenId);

    /// @notice Mint `quantity` tokens of one new work to `to` (consecutive ids) and write its record.
    /// @dev As `mintWork`; emits one `ConsecutiveTransfer` (ERC-2309) instead of `Transfer` events
    ///      when `quantity` > 1. Also reverts with `CollectionQuantityZero`.
    /// @return firstTokenId The first token of the edition (also the work id).
    function mintEdition(address to, uint256 quantity, bytes32 contentHash, bytes calldata cid)
        external returns (uint256 firstTokenId);

    /// @notice The work `tokenId` belongs to: its id (first token of its edition) and binary CID.
    /// @dev Reverts with `ERC721NonexistentToken`. The content hash is in the registry record of the
    ///      work (`recordOf(hash)` names this collection and `workId`) and in `WorkMinted`.
    function workOf(uint256 tokenId) external view returns (uint256 workId, bytes memory cid);

    /// @notice Set the verified-holder policy. Only the owner; emits `IdentityPolicyUpdated`.
    /// @dev Applies to later mints and transfers only. Reverts with `CollectionNotOwner` or
    ///      `CollectionIdentityRegistryMissing` (policy on without registry).
    function setIdentityPolicy(address identityRegistry, bool requireVerifiedHolders) external;

    /// @notice Set the default royalty. Only the owner; emits `DefaultRoyaltyUpdated`.
    /// @dev Reverts with `CollectionNotOwner` or OpenZeppelin's ERC2981 errors.
    function setDefaultRoyalty(address receiver, uint96 bps) external;

    /// @notice Set the prefix `tokenURI` puts before the CID (empty: `ipfs://`), e.g. a gateway.
    /// @dev Only the owner, before `freezeMetadata`. Emits `UriPrefixUpdated` and, when tokens
    ///      exist, `BatchMetadataUpdate(1, totalSupply())`. Reverts with `CollectionNotOwner` or
    ///      `CollectionMetadataFrozen`. The CIDs themselves never change.
    function setUriPrefix(string calldata prefix) external;

    /// @notice Freeze the metadata for good. Only the owner; emits `MetadataFrozen`.
    /// @dev Reverts with `CollectionNotOwner` or `CollectionMetadataFrozen` (already frozen).
    function freezeMetadata() external;

    /// @notice The rights registry this collection records mints in.
    function rightsRegistry() external view returns (address);
    /// @notice The identity registry (zero: none) and whether holders must be verified.
    function identityPolicy() external view returns (address identityRegistry, bool requireVerifiedHolders);
    /// @notice The token URI prefix (empty: `ipfs://`).
    function uriPrefix() external view returns (string memory);
    /// @notice True once the metadata is frozen.
    function metadataFrozen() external view returns (bool);
    /// @notice How many tokens exist (ids 1 .. totalSupply(); there is no burn).
    function totalSupply() external view returns (uint256);
}
