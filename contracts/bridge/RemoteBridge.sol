// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBridgeEndpoint} from "../interfaces/IBridge.sol";
import {IRemoteBridge} from "../interfaces/IRemoteBridge.sol";
import {IWrappedCollection} from "../interfaces/IWrappedCollection.sol";
import {ISplitterFactory} from "../interfaces/ISplitterFactory.sol";
import {BridgeEndpoint} from "./BridgeEndpoint.sol";

/// @title RemoteBridge
/// @notice The remote end of the bridge: mints the wrapped token of a locked home token when a signed
///         lock message arrives, and burns it when its owner sends it home.
/// @dev The WrappedCollection must name this bridge (`setBridge`) before the first delivery. At a
///      departure the provenance is extended on this chain (see IHomeLockbox) and the return message
///      carries the rights the wrapped token held, which the lockbox checks against its custody record.
///      A message with a royalty split gets the SplitterFactory clone of that split (salt zero) as the
///      wrapped token's royalty payee: created on the split's first delivery, reused afterwards.
contract RemoteBridge is BridgeEndpoint, IRemoteBridge {
    IWrappedCollection private immutable _wrapped;
    ISplitterFactory private _splitterFactory;

    /// @param wrapped_ The WrappedCollection this bridge mints and burns.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and GUARDIAN_ROLE.
    constructor(
        address wrapped_,
        address admin,
        address[] memory validators,
        uint256 threshold,
        uint32 outboundLimit,
        uint32 inboundLimit,
        uint32 senderLimit,
        uint32 collectionLimit
    ) BridgeEndpoint(admin, validators, threshold, outboundLimit, inboundLimit, senderLimit, collectionLimit) {
        if (wrapped_ == address(0)) revert RemoteWrappedZero();
        _wrapped = IWrappedCollection(wrapped_);
    }

    /// @inheritdoc IBridgeEndpoint
    /// @dev Remote side: mints the wrapped token (id from the home collection and token id) to
    ///      `message.recipient` with the message's rights. Emits `TokenMinted` (and the collection's
    ///      `Transfer`). Also reverts with `BridgeRecipientZero`, `RemoteTokenIdTooLarge` and the
    ///      collection's `WrappedTokenExists`, `WrappedRightsInvalid`, `CidUnsupported`; with a split,
    ///      `RemoteSplitterFactoryNotSet` and the factory's split errors.
    function deliver(BridgeMessage calldata message, bytes[] calldata signatures) external nonReentrant {
        // Checks
        _authorize(message, signatures);
        if (message.recipient == address(0)) revert BridgeRecipientZero();
        if (message.tokenId > type(uint96).max) revert RemoteTokenIdTooLarge(message.tokenId);
        uint256 wrappedTokenId = (uint256(uint160(message.collection)) << 96) | message.tokenId;

        // Effects
        _markProcessed(message.transferId);
        _countArrival(1);

        // Interactions: the factory (creates or returns the split's clone), our own collection, no callbacks.
        address splitter = address(0);
        if (message.rights.splitRecipients.length != 0) {
            ISplitterFactory factory = _splitterFactory;
            if (address(factory) == address(0)) revert RemoteSplitterFactoryNotSet();
            splitter = factory.createSplitter(message.rights.splitRecipients, message.rights.splitBps, bytes32(0));
        }
        _wrapped.mint(message.recipient, wrappedTokenId, message.rights, splitter);
        emit TokenMinted(message.transferId, message.collection, message.tokenId, wrappedTokenId, message.recipient);
    }

    /// @inheritdoc IRemoteBridge
    function burnToHome(uint256 wrappedTokenId, address recipient) external nonReentrant returns (uint256 transferId) {
        // Checks
        Route memory route = _requireDeparture(_currentRoute().peerChainId, recipient);
        address holder = _wrapped.ownerOf(wrappedTokenId);
        if (holder != msg.sender) revert RemoteNotTokenOwner(msg.sender, wrappedTokenId);

        address collection = address(uint160(wrappedTokenId >> 96));
        uint256 tokenId = uint96(wrappedTokenId);

        // Effects
        transferId = _countDeparture(msg.sender, collection, -1);

        // Interactions: burn (our own collection) and take the rights the token carried.
        Rights memory rights = _wrapped.burn(msg.sender, wrappedTokenId);
        rights.provenanceHash = _extendProvenance(rights.provenanceHash, collection, tokenId, msg.sender);
        emit TokenBurned(transferId, collection, tokenId, msg.sender, recipient, route.peerChainId, wrappedTokenId,
            rights);
    }

    /// @inheritdoc IRemoteBridge
    function setSplitterFactory(address factory) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _splitterFactory = ISplitterFactory(factory);
        emit SplitterFactoryUpdated(factory);
    }

    /// @inheritdoc IRemoteBridge
    function splitterFactory() external view returns (address) {
        return address(_splitterFactory);
    }

    /// @inheritdoc IRemoteBridge
    function wrapped() external view returns (address) {
        return address(_wrapped);
    }
}
