// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IBridgeEndpoint} from "../interfaces/IBridge.sol";

/// @title BridgeEndpoint
/// @notice What the home lockbox and the remote bridge share: the EIP-712 message and its digest,
///         M-of-N validator signatures, replay protection, the per-direction rate limit, the guardian
///         pause, the peer endpoint and the transfer ids.
/// @dev Storage is laid out for the delivery path:
///      - `_route` (one slot, read by every entry point): peer address and chain id, threshold, pause.
///      - `_traffic` (one slot, written by every transfer): the rate limit, the current window and the
///        counts of both directions in it, the tokens outstanding on this side, the departure nonce.
///      - `_processedWords`: a bitmap of delivered transfer ids; ids of one source are consecutive, so
///        marking one updates a slot that is usually non-zero already.
///      Roles: DEFAULT_ADMIN_ROLE sets validators, peer, rate limit and lifts a pause; GUARDIAN_ROLE
///      pauses. The constructor grants both to `admin`.
abstract contract BridgeEndpoint is IBridgeEndpoint, EIP712, AccessControl, ReentrancyGuardTransient {
    /// @notice May pause every entry point.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice EIP-712 type hash of `Rights`.
    bytes32 public constant RIGHTS_TYPEHASH = keccak256(
        "Rights(string tokenURI,bytes cid,bytes32 contentHash,address royaltyReceiver,uint96 royaltyBps,"
        "address[] splitRecipients,uint16[] splitBps,bytes32 licenseTermsHash,bytes32 provenanceHash)"
    );

    /// @notice EIP-712 type hash of `BridgeMessage` (with the referenced `Rights` type appended).
    bytes32 public constant MESSAGE_TYPEHASH = keccak256(
        "BridgeMessage(uint256 sourceChainId,uint256 destChainId,address sourceBridge,address destBridge,"
        "uint256 transferId,address collection,uint256 tokenId,address sender,address recipient,Rights rights)"
        "Rights(string tokenURI,bytes cid,bytes32 contentHash,address royaltyReceiver,uint96 royaltyBps,"
        "address[] splitRecipients,uint16[] splitBps,bytes32 licenseTermsHash,bytes32 provenanceHash)"
    );

    struct Route {
        address peerBridge;
        uint64 peerChainId;
        uint8 threshold;
        bool paused;
    }

    struct Traffic {
        uint32 windowSeconds;
        uint32 outboundLimit;
        uint32 inboundLimit;
        uint32 window; // index of the window the counts belong to: block.timestamp / windowSeconds
        uint32 outboundCount;
        uint32 inboundCount;
        uint32 outstanding;
        uint32 nonce;
    }

    Route private _route;
    Traffic private _traffic;
    address[] private _validators;
    mapping(address account => bool) private _isValidator;
    mapping(uint256 word => uint256 bits) private _processedWords;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and GUARDIAN_ROLE.
    /// @param validators The initial validator set, strictly ascending.
    /// @param threshold Signatures needed per message.
    constructor(
        address admin,
        address[] memory validators,
        uint256 threshold,
        uint32 windowSeconds,
        uint32 outboundLimit,
        uint32 inboundLimit
    ) EIP712("Chainright Bridge", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, admin);
        _setValidators(validators, threshold);
        _setRateLimit(windowSeconds, outboundLimit, inboundLimit);
    }

    // ------------------------------------------------------------------ admin and guardian

    /// @inheritdoc IBridgeEndpoint
    function setValidators(address[] calldata validators, uint256 threshold) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setValidators(validators, threshold);
    }

    /// @inheritdoc IBridgeEndpoint
    function setPeer(uint256 chainId, address bridge) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (chainId == 0 || chainId > type(uint64).max || bridge == address(0)) {
            revert BridgePeerInvalid(chainId, bridge);
        }
        _route.peerChainId = uint64(chainId);
        _route.peerBridge = bridge;
        emit PeerUpdated(chainId, bridge);
    }

    /// @inheritdoc IBridgeEndpoint
    function setRateLimit(uint32 windowSeconds, uint32 outboundLimit, uint32 inboundLimit)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setRateLimit(windowSeconds, outboundLimit, inboundLimit);
    }

    /// @inheritdoc IBridgeEndpoint
    function pause() external onlyRole(GUARDIAN_ROLE) {
        if (_route.paused) revert BridgePaused();
        _route.paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IBridgeEndpoint
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_route.paused) revert BridgeNotPaused();
        _route.paused = false;
        emit Unpaused(msg.sender);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IBridgeEndpoint
    function hashMessage(BridgeMessage calldata message) external view returns (bytes32) {
        return _hashTypedDataV4(_structHash(message));
    }

    /// @inheritdoc IBridgeEndpoint
    function processed(uint256 transferId) public view returns (bool) {
        return _processedWords[transferId >> 8] & (1 << (transferId & 0xff)) != 0;
    }

    /// @inheritdoc IBridgeEndpoint
    function validatorSet() external view returns (address[] memory validators, uint256 threshold) {
        return (_validators, _route.threshold);
    }

    /// @inheritdoc IBridgeEndpoint
    function isValidator(address account) external view returns (bool) {
        return _isValidator[account];
    }

    /// @inheritdoc IBridgeEndpoint
    function peer() external view returns (uint256 chainId, address bridge) {
        return (_route.peerChainId, _route.peerBridge);
    }

    /// @inheritdoc IBridgeEndpoint
    function paused() external view returns (bool) {
        return _route.paused;
    }

    /// @inheritdoc IBridgeEndpoint
    function rateLimit()
        external
        view
        returns (uint256 windowSeconds, uint256 outboundLimit, uint256 inboundLimit, uint256 outboundUsed,
            uint256 inboundUsed)
    {
        Traffic memory t = _traffic;
        bool current = t.window == block.timestamp / t.windowSeconds;
        return (t.windowSeconds, t.outboundLimit, t.inboundLimit, current ? t.outboundCount : 0,
            current ? t.inboundCount : 0);
    }

    /// @inheritdoc IBridgeEndpoint
    function departures() external view returns (uint256) {
        return _traffic.nonce;
    }

    /// @inheritdoc IBridgeEndpoint
    function outstanding() external view returns (uint256) {
        return _traffic.outstanding;
    }

    /// @inheritdoc IBridgeEndpoint
    function transferIdOf(uint256 nonce_) public view returns (uint256) {
        return (uint256(uint64(block.chainid)) << 192) | (uint256(uint160(address(this))) << 32) | uint32(nonce_);
    }

    // ------------------------------------------------------------------ for the endpoints

    /// @dev The route: peer, threshold, pause.
    function _currentRoute() internal view returns (Route memory) {
        return _route;
    }

    /// @dev The checks every departure makes; returns the route (peer chain id for the event).
    function _requireDeparture(uint256 destChainId, address recipient) internal view returns (Route memory route) {
        route = _route;
        if (route.paused) revert BridgePaused();
        if (route.peerBridge == address(0)) revert BridgePeerNotSet();
        if (destChainId != route.peerChainId) revert BridgeDestinationUnsupported(destChainId);
        if (recipient == address(0)) revert BridgeRecipientZero();
    }

    /// @dev The checks every delivery makes: not paused, from the peer, for this endpoint, not yet
    ///      processed, signed by at least `threshold` current validators in ascending order.
    function _authorize(BridgeMessage calldata m, bytes[] calldata signatures) internal view {
        Route memory route = _route;
        if (route.paused) revert BridgePaused();
        if (route.peerBridge == address(0)) revert BridgePeerNotSet();
        if (m.sourceChainId != route.peerChainId || m.sourceBridge != route.peerBridge) {
            revert BridgeWrongSource(m.sourceChainId, m.sourceBridge);
        }
        if (m.destChainId != block.chainid || m.destBridge != address(this)) {
            revert BridgeWrongDestination(m.destChainId, m.destBridge);
        }
        if (m.transferId >> 32 != (uint256(route.peerChainId) << 160) | uint160(route.peerBridge)) {
            revert BridgeTransferIdInvalid(m.transferId);
        }
        if (processed(m.transferId)) revert BridgeAlreadyProcessed(m.transferId);
        _checkSignatures(_hashTypedDataV4(_structHash(m)), signatures, route.threshold);
    }

    /// @dev Mark `transferId` delivered (the first effect of every delivery).
    function _markProcessed(uint256 transferId) internal {
        _processedWords[transferId >> 8] |= 1 << (transferId & 0xff);
    }

    /// @dev Count a departure against the outbound limit, take the next nonce and adjust the tokens
    ///      outstanding here by `outstandingDelta` (+1 locked into custody, -1 wrapped token burned).
    function _countDeparture(int256 outstandingDelta) internal returns (uint256 transferId) {
        Traffic memory t = _rolled();
        if (t.outboundCount >= t.outboundLimit) {
            revert BridgeRateLimitExceeded(Direction.Outbound, uint256(t.window) * t.windowSeconds, t.windowSeconds,
                t.outboundLimit);
        }
        ++t.outboundCount;
        ++t.nonce;
        t.outstanding = outstandingDelta > 0 ? t.outstanding + 1 : t.outstanding - 1;
        _traffic = t;
        return transferIdOf(t.nonce);
    }

    /// @dev Count a delivery against the inbound limit and adjust the tokens outstanding here by
    ///      `outstandingDelta` (+1 wrapped token minted, -1 released from custody).
    function _countArrival(int256 outstandingDelta) internal {
        Traffic memory t = _rolled();
        if (t.inboundCount >= t.inboundLimit) {
            revert BridgeRateLimitExceeded(Direction.Inbound, uint256(t.window) * t.windowSeconds, t.windowSeconds,
                t.inboundLimit);
        }
        ++t.inboundCount;
        t.outstanding = outstandingDelta > 0 ? t.outstanding + 1 : t.outstanding - 1;
        _traffic = t;
    }

    /// @dev The next provenance accumulator of a token leaving the remote chain (see IHomeLockbox).
    function _extendProvenance(bytes32 previous, address collection, uint256 tokenId, address from)
        internal
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(previous, block.chainid, collection, tokenId, from, block.number));
    }

    // ------------------------------------------------------------------ internals

    function _rolled() private view returns (Traffic memory t) {
        t = _traffic;
        uint32 window = uint32(block.timestamp / t.windowSeconds);
        if (window != t.window) {
            t.window = window;
            t.outboundCount = 0;
            t.inboundCount = 0;
        }
    }

    function _checkSignatures(bytes32 digest, bytes[] calldata signatures, uint256 threshold) private view {
        uint256 count = signatures.length;
        if (count < threshold) revert BridgeThresholdNotMet(count, threshold);
        address previous = address(0);
        for (uint256 i = 0; i < count; ++i) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert BridgeSignatureInvalid(i);
            if (signer <= previous) revert BridgeSignersNotAscending(i, previous, signer);
            if (!_isValidator[signer]) revert BridgeSignerNotValidator(i, signer);
            previous = signer;
        }
    }

    function _structHash(BridgeMessage calldata m) private pure returns (bytes32) {
        Rights calldata r = m.rights;
        bytes32 rightsHash = keccak256(
            abi.encode(
                RIGHTS_TYPEHASH,
                keccak256(bytes(r.tokenURI)),
                keccak256(r.cid),
                r.contentHash,
                r.royaltyReceiver,
                r.royaltyBps,
                keccak256(abi.encodePacked(r.splitRecipients)),
                keccak256(abi.encodePacked(r.splitBps)),
                r.licenseTermsHash,
                r.provenanceHash
            )
        );
        return keccak256(
            bytes.concat(
                abi.encode(MESSAGE_TYPEHASH, m.sourceChainId, m.destChainId, m.sourceBridge, m.destBridge),
                abi.encode(m.transferId, m.collection, m.tokenId, m.sender, m.recipient, rightsHash)
            )
        );
    }

    function _setValidators(address[] memory validators, uint256 threshold) private {
        uint256 count = validators.length;
        if (threshold == 0 || threshold > count || threshold > type(uint8).max) {
            revert BridgeThresholdInvalid(threshold, count);
        }
        address previous = address(0);
        for (uint256 i = 0; i < count; ++i) {
            if (validators[i] <= previous) revert BridgeValidatorInvalid(i, validators[i]);
            previous = validators[i];
        }
        address[] storage current = _validators;
        for (uint256 i = current.length; i > 0; --i) {
            _isValidator[current[i - 1]] = false;
            current.pop();
        }
        for (uint256 i = 0; i < count; ++i) {
            _isValidator[validators[i]] = true;
            current.push(validators[i]);
        }
        _route.threshold = uint8(threshold);
        emit ValidatorSetUpdated(validators, threshold);
    }

    function _setRateLimit(uint32 windowSeconds, uint32 outboundLimit, uint32 inboundLimit) private {
        if (windowSeconds == 0) revert BridgeRateLimitInvalid(windowSeconds);
        Traffic memory t = _traffic;
        t.windowSeconds = windowSeconds;
        t.outboundLimit = outboundLimit;
        t.inboundLimit = inboundLimit;
        t.window = uint32(block.timestamp / windowSeconds);
        t.outboundCount = 0;
        t.inboundCount = 0;
        _traffic = t;
        emit RateLimitUpdated(windowSeconds, outboundLimit, inboundLimit);
    }
}
