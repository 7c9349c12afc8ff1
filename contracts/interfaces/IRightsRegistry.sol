// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IRightsRegistry
/// @notice The rights registry as other contracts see it: one record per content hash, naming who
///         claimed the work, when, its IPFS CID and (once minted) the collection token bound to it.
/// @dev A record is written either by `register` (a timestamped claim of authorship by the caller,
///      without a token) or by a collection created by an allowed factory when it mints the work
///      (`recordMint`). A record is never removed; an unbound record may be bound once to a token of
///      its creator's collection. Its creator changes only when an older commitment (`commit`) of
///      another creator takes it back (the record then dates from that commitment). CIDs are binary CIDv1 with a
///      one-byte codec, a one-byte multihash code and a 32-byte digest (36 bytes, see `Cid.sol`).
interface IRightsRegistry {
    /// @notice A rights record as returned by `recordOf`; all zero when the hash is unregistered.
    /// @param collection The collection holding the bound token, or zero while unbound.
    /// @param tokenId The bound token (for an ERC-721 edition, its first token), or zero.
    /// @param creator Who claimed the work: the registrant, or the collection owner at mint time.
    /// @param registeredAt Block timestamp of the first claim (kept when the record is bound later).
    /// @param cid The binary CIDv1 of the work.
    struct Record {
        address collection;
        uint256 tokenId;
        address creator;
        uint64 registeredAt;
        bytes cid;
    }

    /// @notice Emitted when a new record is written, by `register` (collection and token zero) or by
    ///         a collection minting a work that had no record.
    event RightsRegistered(
        bytes32 indexed contentHash,
        address indexed creator,
        address indexed collection,
        uint256 tokenId,
        bytes cid
    );

    /// @notice Emitted when an unbound record is bound to the token its creator minted for it.
    event RightsBound(bytes32 indexed contentHash, address indexed creator, address indexed collection,
                      uint256 tokenId);

    /// @notice Emitted when a commitment to a future claim is dated (`by` sent it; it names nobody).
    event RightsCommitted(bytes32 indexed commitment, address indexed by);

    /// @notice Emitted when a creator whose commitment is older than the record takes it back from
    ///         `previousCreator` (a registration that copied the creator's pending claim).
    event RightsTakenBack(bytes32 indexed contentHash, address indexed previousCreator, address indexed creator,
                          uint64 committedAt);

    /// @notice Emitted when the owner allows or disallows a factory to add collections.
    event FactoryUpdated(address indexed factory, bool allowed);

    /// @notice Emitted when an allowed factory adds a collection it created (`index` starts at 1).
    event CollectionAdded(address indexed collection, address indexed factory, uint256 index);

    /// @notice The content hash already has a record; carries the whole existing record (as `recordOf`).
    error RightsAlreadyRegistered(bytes32 contentHash, address collection, uint256 tokenId, address creator,
                                  uint64 registeredAt, bytes cid);
    /// @notice A zero content hash cannot be registered.
    error RightsContentHashZero();
    /// @notice The creator minted registered content under another CID than the one registered.
    error RightsCidMismatch(bytes32 contentHash, bytes registeredCid, bytes mintedCid);
    /// @notice The caller is not a collection added by an allowed factory.
    error RightsCollectionUnknown(address caller);
    /// @notice The caller is not an allowed factory.
    error RightsFactoryUnknown(address caller);
    /// @notice The collection was already added.
    error RightsCollectionAlreadyAdded(address collection);
    /// @notice Records keep token ids in 32 bits; this one is larger.
    error RightsTokenIdTooLarge(uint256 tokenId);
    /// @notice The CID is not a binary CIDv1 with one-byte codec and hash code and a 32-byte digest.
    error CidUnsupported(bytes cid);

    /// @notice Date a future claim: `commitment` is `commitmentOf(contentHash, creator)`.
    /// @dev Anyone may call (the commitment binds the creator, not the sender); the first time
    ///      counts and a repeat does nothing. Emits `RightsCommitted`. A claim by `creator` at least
    ///      one block later takes back a record another creator wrote after this commitment (within
    ///      `COMMIT_WINDOW`): the defence against copying a pending registration or mint.
    function commit(bytes32 commitment) external;

    /// @notice Record `contentHash` as a work of the caller, at `cid`, without minting it.
    /// @dev Anyone may call. Emits `RightsRegistered` with collection and token zero (and
    ///      `RightsTakenBack` when the caller's older commitment displaces another's younger record).
    ///      Reverts with `RightsContentHashZero`, `CidUnsupported` or `RightsAlreadyRegistered`.
    function register(bytes32 contentHash, bytes calldata cid) external;

    /// @notice Record the mint of `contentHash` as token `tokenId` of the calling collection.
    /// @dev Only collections added by an allowed factory. A hash without record gets a new bound
    ///      record (`RightsRegistered`); an unbound record whose creator is `creator` and whose CID is
    ///      the same is bound to the token (`RightsBound`). Reverts with `RightsCollectionUnknown`,
    ///      `RightsContentHashZero`, `RightsTokenIdTooLarge`, `RightsAlreadyRegistered` (bound
    ///      already, or another creator's) or `RightsCidMismatch`.
    /// @param cidHead The CID's codec (high byte) and multihash code (low byte).
    /// @param cidDigest The CID's 32-byte multihash digest.
    /// @return bound True when an existing unbound record was bound, false when a record was created.
    function recordMint(bytes32 contentHash, address creator, uint256 tokenId, uint16 cidHead,
                        bytes32 cidDigest) external returns (bool bound);

    /// @notice Add `collection` as one that may record mints.
    /// @dev Only allowed factories, for collections they just created. Emits `CollectionAdded`.
    ///      Reverts with `RightsFactoryUnknown` or `RightsCollectionAlreadyAdded`.
    /// @return index The collection's index (from 1).
    function addCollection(address collection) external returns (uint256 index);

    /// @notice Allow or disallow `factory` to add collections (collections already added stay).
    /// @dev Only the registry owner. Emits `FactoryUpdated`. Reverts with `OwnableUnauthorizedAccount`.
    function setFactory(address factory, bool allowed) external;

    /// @notice The record of `contentHash` (all zero when there is none).
    function recordOf(bytes32 contentHash) external view returns (Record memory record);

    /// @notice True when `contentHash` has a record.
    function isRegistered(bytes32 contentHash) external view returns (bool);

    /// @notice True when `account` is a collection added by an allowed factory.
    function isCollection(address account) external view returns (bool);

    /// @notice True when `account` may add collections.
    function isFactory(address account) external view returns (bool);

    /// @notice How many collections were added.
    function collectionCount() external view returns (uint256);

    /// @notice When `creator`'s commitment to `contentHash` was dated (0: none).
    function committedAt(bytes32 contentHash, address creator) external view returns (uint64);

    /// @notice The commitment `creator` sends before claiming `contentHash`: keccak256(abi.encode(...)).
    function commitmentOf(bytes32 contentHash, address creator) external pure returns (bytes32);

    /// @notice Emitted when the owner names the platform's transfer policy.
    event TransferPolicyUpdated(address indexed policy);

    /// @notice Name the platform's transfer policy: the one contract collections let attach itself.
    /// @dev Only the registry owner. Emits `TransferPolicyUpdated`.
    function setTransferPolicy(address policy) external;

    /// @notice The platform's transfer policy (zero: none).
    function transferPolicy() external view returns (address);
}

/// @title IRightsSource
/// @notice What the registry reads from a collection to complete a bound record: the work's CID.
interface IRightsSource {
    /// @notice The binary CIDv1 of the work `tokenId` belongs to. Reverts for unknown tokens.
    function workCid(uint256 tokenId) external view returns (bytes memory);
}
