// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IBridgeEndpoint, IBridgeLicensing} from "../interfaces/IBridge.sol";
import {IHomeLockbox} from "../interfaces/IHomeLockbox.sol";
import {ICreatorCollection} from "../interfaces/ICreatorCollection.sol";
import {IRightsRegistry} from "../interfaces/IRightsRegistry.sol";
import {IRoyaltySplitter} from "../interfaces/IRoyaltySplitter.sol";
import {Cid} from "../issuance/Cid.sol";
import {BridgeEndpoint} from "./BridgeEndpoint.sol";

/// @title HomeLockbox
/// @notice The home end of the bridge: holds tokens of factory-made collections while they live on the
///         remote chain as wrapped tokens, and releases them when a signed return message arrives.
/// @dev Per token the lockbox keeps the provenance accumulator (kept across trips) and, while it holds
///      the token for the bridge, a custody digest of the rights the token left with (token URI, CID,
///      content hash, royalty receiver, bps and split, license terms hash). A return message must bring
///      the same rights back (`LockboxRightsChanged` otherwise); only its provenance differs (extended
///      at the burn). A royalty receiver whose code is a clone (EIP-1167 with immutable args) of the
///      configured RoyaltySplitter implementation travels with its split (recipients and bps).
///      Tokens sent to the lockbox without `lock` are not in custody and are never announced.
contract HomeLockbox is BridgeEndpoint, IHomeLockbox {
    /// @notice Length of a CID rendered as base32 text (`b` + 58 characters).
    uint256 private constant _CID_TEXT_LENGTH = 59;
    /// @notice Length of the EIP-1167 clone code before the immutable args.
    uint256 private constant _CLONE_PREFIX_LENGTH = 45;
    /// @notice Length of one split entry in a splitter clone's args (recipient, uint16 bps).
    uint256 private constant _SPLIT_ENTRY_LENGTH = 22;

    IRightsRegistry private immutable _registry;
    IBridgeLicensing private _licensing;
    address private _splitterImplementation;
    mapping(address collection => mapping(uint256 tokenId => bytes32)) private _provenance;
    mapping(address collection => mapping(uint256 tokenId => bytes32)) private _custody;

    /// @param registry The RightsRegistry whose records tokens must match.
    /// @param licensing_ The licensing contract answering `attachedTerms` (zero: none).
    /// @param admin Receives DEFAULT_ADMIN_ROLE and GUARDIAN_ROLE.
    constructor(
        address registry,
        address licensing_,
        address admin,
        address[] memory validators,
        uint256 threshold,
        uint32 outboundLimit,
        uint32 inboundLimit,
        uint32 senderLimit,
        uint32 collectionLimit
    ) BridgeEndpoint(admin, validators, threshold, outboundLimit, inboundLimit, senderLimit, collectionLimit) {
        if (registry == address(0)) revert LockboxRegistryZero();
        _registry = IRightsRegistry(registry);
        _licensing = IBridgeLicensing(licensing_);
        emit LicensingUpdated(licensing_);
    }

    // ------------------------------------------------------------------ departure

    /// @inheritdoc IHomeLockbox
    function lock(address collection, uint256 tokenId, address recipient, uint256 destChainId, bytes32 contentHash)
        external
        nonReentrant
        returns (uint256 transferId)
    {
        // Checks
        _requireDeparture(destChainId, recipient);
        if (tokenId > type(uint96).max) revert LockboxTokenIdTooLarge(tokenId);
        address holder = IERC721(collection).ownerOf(tokenId);
        if (holder != msg.sender) revert LockboxNotTokenOwner(msg.sender, holder);
        (Rights memory rights, bytes32 homeState) = _readRights(collection, tokenId, contentHash);

        // Effects
        transferId = _countDeparture(msg.sender, collection, 1);
        rights.provenanceHash = keccak256(
            abi.encode(_provenance[collection][tokenId], block.chainid, collection, tokenId, msg.sender, block.number,
                homeState)
        );
        _provenance[collection][tokenId] = rights.provenanceHash;
        _custody[collection][tokenId] = _rightsDigest(
            keccak256(bytes(rights.tokenURI)), keccak256(rights.cid), rights.contentHash, rights.royaltyReceiver,
            rights.royaltyBps, keccak256(abi.encode(rights.splitRecipients, rights.splitBps)), rights.licenseTermsHash
        );

        // Interactions: take the token, then announce only what the lockbox really holds.
        IERC721(collection).transferFrom(msg.sender, address(this), tokenId);
        if (IERC721(collection).ownerOf(tokenId) != address(this)) revert LockboxCustodyNotTaken(collection, tokenId);
        emit TokenLocked(transferId, collection, tokenId, msg.sender, recipient, destChainId, rights);
    }

    // ------------------------------------------------------------------ return

    /// @inheritdoc IBridgeEndpoint
    /// @dev Home side: releases the token to `message.recipient` (no receiver callback, so a recipient
    ///      cannot block it) and stores the provenance the token came back with. Emits `TokenUnlocked`.
    ///      Also reverts with `LockboxNotLocked`, `LockboxRightsChanged`, `BridgeRecipientZero` and the
    ///      collection's transfer errors (e.g. the collection is paused: the delivery can be retried).
    function deliver(BridgeMessage calldata message, bytes[] calldata signatures) external nonReentrant {
        // Checks
        _authorize(message, signatures);
        address collection = message.collection;
        uint256 tokenId = message.tokenId;
        Rights calldata rights = message.rights;
        bytes32 held = _custody[collection][tokenId];
        if (held == 0) revert LockboxNotLocked(collection, tokenId);
        bytes32 returned = _rightsDigest(
            keccak256(bytes(rights.tokenURI)), keccak256(rights.cid), rights.contentHash, rights.royaltyReceiver,
            rights.royaltyBps, keccak256(abi.encode(rights.splitRecipients, rights.splitBps)), rights.licenseTermsHash
        );
        if (returned != held) revert LockboxRightsChanged(collection, tokenId);
        if (message.recipient == address(0)) revert BridgeRecipientZero();

        // Effects
        _markProcessed(message.transferId);
        _countArrival(-1);
        delete _custody[collection][tokenId];
        _provenance[collection][tokenId] = rights.provenanceHash;

        // Interactions
        IERC721(collection).transferFrom(address(this), message.recipient, tokenId);
        emit TokenUnlocked(message.transferId, collection, tokenId, message.recipient, rights.provenanceHash);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IHomeLockbox
    function setLicensing(address licensing_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _licensing = IBridgeLicensing(licensing_);
        emit LicensingUpdated(licensing_);
    }

    /// @inheritdoc IHomeLockbox
    function setSplitterImplementation(address implementation) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _splitterImplementation = implementation;
        emit SplitterImplementationUpdated(implementation);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IHomeLockbox
    function splitterImplementation() external view returns (address) {
        return _splitterImplementation;
    }

    /// @inheritdoc IHomeLockbox
    function rightsRegistry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IHomeLockbox
    function licensing() external view returns (address) {
        return address(_licensing);
    }

    /// @inheritdoc IHomeLockbox
    function provenanceOf(address collection, uint256 tokenId) external view returns (bytes32) {
        return _provenance[collection][tokenId];
    }

    /// @inheritdoc IHomeLockbox
    function isLocked(address collection, uint256 tokenId) external view returns (bool) {
        return _custody[collection][tokenId] != 0;
    }

    /// @inheritdoc IHomeLockbox
    function licenseTermsHashOf(address collection, uint256 tokenId) public view returns (bytes32) {
        IBridgeLicensing licensing_ = _licensing;
        if (address(licensing_) == address(0)) return 0;
        bytes32[] memory terms = licensing_.attachedTerms(collection, tokenId);
        return terms.length == 0 ? bytes32(0) : keccak256(abi.encode(terms));
    }

    // ------------------------------------------------------------------ internals

    /// @dev Read and verify the token's rights (provenance left zero for the caller to fill in), and the
    ///      home-state commitment the provenance folds in (see IHomeLockbox).
    function _readRights(address collection, uint256 tokenId, bytes32 contentHash)
        private
        view
        returns (Rights memory rights, bytes32 homeState)
    {
        (uint256 workId, bytes memory cid) = ICreatorCollection(collection).workOf(tokenId);
        IRightsRegistry.Record memory record = _registry.recordOf(contentHash);
        if (record.collection != collection || record.tokenId != workId || cid.length != Cid.LENGTH) {
            revert LockboxRightsMismatch(contentHash, collection, tokenId);
        }
        string memory uri = IERC721Metadata(collection).tokenURI(tokenId);
        if (!_endsWithCid(bytes(uri), cid)) revert LockboxTokenUriUnsupported(uri);
        (address receiver, uint256 bps) = IERC2981(collection).royaltyInfo(tokenId, 10_000);
        if (bps > 10_000) revert LockboxRoyaltyUnsupported(bps);
        (address[] memory splitRecipients, uint16[] memory splitBps) = _splitOf(receiver);
        rights = Rights({
            tokenURI: uri,
            cid: cid,
            contentHash: contentHash,
            royaltyReceiver: receiver,
            royaltyBps: uint96(bps),
            splitRecipients: splitRecipients,
            splitBps: splitBps,
            licenseTermsHash: licenseTermsHashOf(collection, tokenId),
            provenanceHash: 0
        });
        homeState = keccak256(
            abi.encode(blockhash(block.number - 1), contentHash, record.creator, record.tokenId, record.registeredAt)
        );
    }

    /// @dev The split of `receiver` when its code is a clone of the splitter implementation (whose
    ///      `recipients` answer is then the split in its own code); empty arrays otherwise.
    function _splitOf(address receiver)
        private
        view
        returns (address[] memory splitRecipients, uint16[] memory splitBps)
    {
        address implementation = _splitterImplementation;
        if (implementation == address(0) || receiver.code.length == 0) return (splitRecipients, splitBps);
        bytes memory code = receiver.code;
        uint256 length = code.length;
        if (length <= _CLONE_PREFIX_LENGTH || (length - _CLONE_PREFIX_LENGTH) % _SPLIT_ENTRY_LENGTH != 0) {
            return (splitRecipients, splitBps);
        }
        bytes32 expected = keccak256(
            abi.encodePacked(hex"363d3d373d3d3d363d73", implementation, hex"5af43d82803e903d91602b57fd5bf3")
        );
        bytes32 actual;
        assembly ("memory-safe") {
            actual := keccak256(add(code, 32), _CLONE_PREFIX_LENGTH)
        }
        if (actual != expected) return (splitRecipients, splitBps);
        return IRoyaltySplitter(receiver).recipients();
    }

    /// @dev True when `uri` ends with the base32 rendering of the 36-byte binary CID `cid`.
    function _endsWithCid(bytes memory uri, bytes memory cid) private pure returns (bool) {
        uint256 length = uri.length;
        if (length < _CID_TEXT_LENGTH) return false;
        uint16 head = (uint16(uint8(cid[1])) << 8) | uint16(uint8(cid[2]));
        bytes32 digest;
        bytes32 tail;
        assembly ("memory-safe") {
            digest := mload(add(cid, 36))
            tail := keccak256(add(add(uri, 32), sub(length, _CID_TEXT_LENGTH)), _CID_TEXT_LENGTH)
        }
        return tail == keccak256(bytes(Cid.toString(head, digest)));
    }

    /// @dev The custody digest: every right except the provenance, which changes at each hop.
    function _rightsDigest(
        bytes32 uriHash,
        bytes32 cidHash,
        bytes32 contentHash,
        address royaltyReceiver,
        uint96 royaltyBps,
        bytes32 splitHash,
        bytes32 licenseTermsHash
    ) private pure returns (bytes32) {
        return keccak256(
            abi.encode(uriHash, cidHash, contentHash, royaltyReceiver, royaltyBps, splitHash, licenseTermsHash)
        );
    }
}
