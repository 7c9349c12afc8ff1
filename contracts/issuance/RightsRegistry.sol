// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IRightsRegistry, IRightsSource} from "../interfaces/IRightsRegistry.sol";
import {Cid} from "./Cid.sol";

/// @title RightsRegistry
/// @notice One rights record per content hash: who claimed the work, when, its CID, and the token it
///         is bound to. Singleton; collections created by allowed factories record their mints here.
/// @dev Storage is laid out so that minting a work writes a single registry slot:
///
///      record (one slot per content hash):
///        bits   0..159  creator
///        bits 160..199  registeredAt (uint40 seconds)
///        bits 200..223  collection index (uint24, from 1; 0 while the record is unbound)
///        bits 224..255  bound: token id (uint32); unbound: CID head (codec << 8 | hash code)
///
///      A bound record's CID is the minting collection's (`IRightsSource.workCid`): the collection
///      stores it once for tokenURI, the registry does not store it again. An unbound record keeps its
///      CID here (head in the record, digest in `_unboundDigest`) until its creator mints the content,
///      which binds the record to the token once (the CID must be the registered one) and clears the
///      digest. The creator and registeredAt of a record never change.
///
///      Priority (front-running): a creator may first `commit` keccak256(abi.encode(contentHash,
///      creator)). That hash names neither the content nor, to anyone without the content, the work;
///      it only dates the creator's knowledge of it. A later claim (register or mint) by that creator
///      displaces a record of another creator written strictly after the commitment (within
///      `COMMIT_WINDOW` of it), and the record then dates from the commitment. Someone who copies
///      the creator's pending mint learns the hash only then, so any record they win the race with
///      is younger than the commitment and is taken back in the same block. Without a commitment
///      the first record wins, as before.
///
///      Trust: the owner decides which factories may add collections. A collection added by a
///      factory is trusted to pass its owner as `creator`. Revoking a factory stops new collections,
///      not the ones it added.
contract RightsRegistry is IRightsRegistry, Ownable {
    uint256 private constant _TIME_SHIFT = 160;
    uint256 private constant _INDEX_SHIFT = 200;
    uint256 private constant _LOCATION_SHIFT = 224;

    mapping(bytes32 contentHash => uint256 packed) private _records;
    mapping(bytes32 contentHash => bytes32 digest) private _unboundDigest;
    mapping(address collection => uint256 index) private _collectionIndex;
    address[] private _collections;
    mapping(address factory => bool allowed) private _factories;
    address private _transferPolicy;
    mapping(bytes32 commitment => uint64 committedAt) private _commits;

    /// @notice How long a commitment can take back a younger record (a claim must follow it sooner).
    uint256 public constant COMMIT_WINDOW = 1 days;

    /// @param initialOwner May allow factories (`setFactory`).
    constructor(address initialOwner) Ownable(initialOwner) {}

    /// @inheritdoc IRightsRegistry
    function commit(bytes32 commitment) external {
        if (_commits[commitment] != 0) return; // the earliest commitment counts; a copy changes nothing
        _commits[commitment] = uint64(block.timestamp);
        emit RightsCommitted(commitment, msg.sender);
    }

    /// @inheritdoc IRightsRegistry
    function register(bytes32 contentHash, bytes calldata cid) external {
        if (contentHash == 0) revert RightsContentHashZero();
        (uint16 head, bytes32 digest) = Cid.pack(cid);
        uint256 existing = _records[contentHash];
        uint256 registeredAt = block.timestamp;
        if (existing != 0) registeredAt = _takeBack(contentHash, existing, msg.sender);

        _records[contentHash] = _pack(msg.sender, registeredAt, 0, head);
        _unboundDigest[contentHash] = digest;
        emit RightsRegistered(contentHash, msg.sender, address(0), 0, cid);
    }

    /// @inheritdoc IRightsRegistry
    function recordMint(bytes32 contentHash, address creator, uint256 tokenId, uint16 cidHead, bytes32 cidDigest)
        external
        returns (bool bound)
    {
        uint256 index = _collectionIndex[msg.sender];
        if (index == 0) revert RightsCollectionUnknown(msg.sender);
        if (contentHash == 0) revert RightsContentHashZero();
        if (tokenId > type(uint32).max) revert RightsTokenIdTooLarge(tokenId);
        uint256 existing = _records[contentHash];
        if (existing == 0) {
            _records[contentHash] = _pack(creator, block.timestamp, index, tokenId);
            emit RightsRegistered(contentHash, creator, msg.sender, tokenId, Cid.toBytes(cidHead, cidDigest));
            return false;
        }
        if (address(uint160(existing)) != creator) {
            uint256 since = _takeBack(contentHash, existing, creator);
            _records[contentHash] = _pack(creator, since, index, tokenId);
            if (_indexOf(existing) == 0) delete _unboundDigest[contentHash];
            emit RightsRegistered(contentHash, creator, msg.sender, tokenId, Cid.toBytes(cidHead, cidDigest));
            return false;
        }
        if (_indexOf(existing) != 0) _revertRegistered(contentHash, existing);
        uint16 head = uint16(existing >> _LOCATION_SHIFT);
        bytes32 digest = _unboundDigest[contentHash];
        if (head != cidHead || digest != cidDigest) {
            revert RightsCidMismatch(contentHash, Cid.toBytes(head, digest), Cid.toBytes(cidHead, cidDigest));
        }

        _records[contentHash] = _pack(creator, _registeredAt(existing), index, tokenId);
        delete _unboundDigest[contentHash];
        emit RightsBound(contentHash, creator, msg.sender, tokenId);
        return true;
    }

    /// @inheritdoc IRightsRegistry
    function addCollection(address collection) external returns (uint256 index) {
        if (!_factories[msg.sender]) revert RightsFactoryUnknown(msg.sender);
        if (_collectionIndex[collection] != 0) revert RightsCollectionAlreadyAdded(collection);
        _collections.push(collection);
        // 24 bits hold 16.7 million collections; SafeCast reverts beyond (never expected).
        index = SafeCast.toUint24(_collections.length);
        _collectionIndex[collection] = index;
        emit CollectionAdded(collection, msg.sender, index);
    }

    /// @inheritdoc IRightsRegistry
    function setFactory(address factory, bool allowed) external onlyOwner {
        _factories[factory] = allowed;
        emit FactoryUpdated(factory, allowed);
    }

    /// @inheritdoc IRightsRegistry
    function setTransferPolicy(address policy) external onlyOwner {
        _transferPolicy = policy;
        emit TransferPolicyUpdated(policy);
    }

    /// @inheritdoc IRightsRegistry
    function transferPolicy() external view returns (address) {
        return _transferPolicy;
    }

    /// @inheritdoc IRightsRegistry
    function committedAt(bytes32 contentHash, address creator) external view returns (uint64) {
        return _commits[commitmentOf(contentHash, creator)];
    }

    /// @inheritdoc IRightsRegistry
    function commitmentOf(bytes32 contentHash, address creator) public pure returns (bytes32) {
        return keccak256(abi.encode(contentHash, creator));
    }

    /// @inheritdoc IRightsRegistry
    function recordOf(bytes32 contentHash) external view returns (Record memory record) {
        uint256 packed = _records[contentHash];
        if (packed == 0) return record;
        record.creator = address(uint160(packed));
        record.registeredAt = _registeredAt(packed);
        uint256 index = _indexOf(packed);
        if (index == 0) {
            record.cid = Cid.toBytes(uint16(packed >> _LOCATION_SHIFT), _unboundDigest[contentHash]);
        } else {
            record.collection = _collections[index - 1];
            record.tokenId = packed >> _LOCATION_SHIFT;
            record.cid = IRightsSource(record.collection).workCid(record.tokenId);
        }
    }

    /// @inheritdoc IRightsRegistry
    function isRegistered(bytes32 contentHash) external view returns (bool) {
        return _records[contentHash] != 0;
    }

    /// @inheritdoc IRightsRegistry
    function isCollection(address account) external view returns (bool) {
        return _collectionIndex[account] != 0;
    }

    /// @inheritdoc IRightsRegistry
    function isFactory(address account) external view returns (bool) {
        return _factories[account];
    }

    /// @inheritdoc IRightsRegistry
    function collectionCount() external view returns (uint256) {
        return _collections.length;
    }

    function _pack(address creator, uint256 registeredAt, uint256 index, uint256 location)
        private
        pure
        returns (uint256)
    {
        // registeredAt is a block timestamp: 40 bits last until the year 36812.
        return uint256(uint160(creator)) | (uint256(uint40(registeredAt)) << _TIME_SHIFT)
            | (index << _INDEX_SHIFT) | (location << _LOCATION_SHIFT);
    }

    function _registeredAt(uint256 packed) private pure returns (uint64) {
        return uint64(uint40(packed >> _TIME_SHIFT));
    }

    function _indexOf(uint256 packed) private pure returns (uint256) {
        return uint24(packed >> _INDEX_SHIFT);
    }

    /// @dev `claimant` takes the record of another creator back when its commitment is strictly
    ///      older than that record and than the record creator's own commitment, and at most
    ///      `COMMIT_WINDOW` old; returns the commitment's time (the new record's registeredAt) and
    ///      emits `RightsTakenBack`. Reverts `RightsAlreadyRegistered`. (The holder's commitment
    ///      counts so that someone who copies a commitment into the same block only ties.)
    function _takeBack(bytes32 contentHash, uint256 existing, address claimant) private returns (uint256) {
        address previous = address(uint160(existing));
        uint256 at = _commits[commitmentOf(contentHash, claimant)];
        uint256 defended = _registeredAt(existing);
        uint256 theirs = _commits[commitmentOf(contentHash, previous)];
        if (theirs != 0 && theirs < defended) defended = theirs;
        if (previous == claimant || at == 0 || at >= defended || block.timestamp > at + COMMIT_WINDOW) {
            _revertRegistered(contentHash, existing);
        }
        emit RightsTakenBack(contentHash, previous, claimant, uint64(at));
        return at;
    }

    function _revertRegistered(bytes32 contentHash, uint256 packed) private view {
        uint256 index = _indexOf(packed);
        address collection = index == 0 ? address(0) : _collections[index - 1];
        uint256 tokenId = index == 0 ? 0 : packed >> _LOCATION_SHIFT;
        bytes memory cid = index == 0
            ? Cid.toBytes(uint16(packed >> _LOCATION_SHIFT), _unboundDigest[contentHash])
            : IRightsSource(collection).workCid(tokenId);
        revert RightsAlreadyRegistered(contentHash, collection, tokenId, address(uint160(packed)),
                                       _registeredAt(packed), cid);
    }
}
