// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IBridgeEndpoint} from "../interfaces/IBridge.sol";

/// @title BridgeEndpoint
/// @notice What the home lockbox and the remote bridge share: the EIP-712 message and its digest,
///         M-of-N validator signatures, replay protection, the rate limits, the guardian pause, the peer
///         endpoint and the transfer ids.
/// @dev Rate limits are token buckets of capacity C refilled by C per `RATE_PERIOD` (one hour), kept in
///      GCRA form: one timestamp per bucket, the moment (in microseconds) the bucket is full again. A
///      transfer moves it `RATE_PERIOD / C` later (from now, if it lay in the past) and is refused when it
///      would then lie more than `RATE_PERIOD` ahead. So any burst is at most C, any interval of length d
///      passes at most C + C * d / RATE_PERIOD, and there is no window edge to straddle. A limit change
///      takes effect at once; a bucket's state is a time, so it keeps the share of its capacity in use.
///      Departures spend from three buckets: the sender's, the collection's and the direction's global
///      ceiling; deliveries from the inbound global ceiling only (see IBridgeEndpoint).
///      Storage is laid out for the delivery path:
///      - `_route` (one slot, read by every entry point): peer address and chain id, threshold, pause.
///      - `_traffic` (one slot, written by every transfer): both global buckets and their limits, the
///        tokens outstanding on this side, the departure nonce.
///      - `_budgets` (one slot, read by departures): the per-sender and per-collection limits; the
///        buckets themselves in `_senderFullAt` and `_collectionFullAt`.
///      - `_processedWords`: a bitmap of delivered transfer ids; ids of one source are consecutive, so
///        marking one updates a slot that is usually non-zero already.
///      Roles: DEFAULT_ADMIN_ROLE sets validators, peer, rate limits and lifts a pause; GUARDIAN_ROLE
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
        uint64 outboundFullAt; // microseconds; see the contract's @dev
        uint64 inboundFullAt;
        uint32 outboundLimit;
        uint32 inboundLimit;
        uint32 outstanding;
        uint32 nonce;
    }

    struct Budgets {
        uint32 senderLimit;
        uint32 collectionLimit;
    }

    /// @notice The refill period of every rate-limit bucket: a bucket of capacity C regains C per period.
    uint256 public constant RATE_PERIOD = 1 hours;
    uint256 private constant _MICROS = 1e6;

    Route private _route;
    Traffic private _traffic;
    Budgets private _budgets;
    mapping(address sender => uint256 fullAt) private _senderFullAt;
    mapping(address collection => uint256 fullAt) private _collectionFullAt;
    address[] private _validators;
    mapping(address account => bool) private _isValidator;
    mapping(uint256 word => uint256 bits) private _processedWords;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and GUARDIAN_ROLE.
    /// @param validators The initial validator set, strictly ascending.
    /// @param threshold Signatures needed per message.
    /// @param outboundLimit, inboundLimit, senderLimit, collectionLimit The rate limits (see `setRateLimits`).
    constructor(
        address admin,
        address[] memory validators,
        uint256 threshold,
        uint32 outboundLimit,
        uint32 inboundLimit,
        uint32 senderLimit,
        uint32 collectionLimit
    ) EIP712("Chainright Bridge", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, admin);
        _setValidators(validators, threshold);
        _setRateLimits(outboundLimit, inboundLimit, senderLimit, collectionLimit);
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
    function setRateLimits(uint32 outboundLimit, uint32 inboundLimit, uint32 senderLimit, uint32 collectionLimit)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setRateLimits(outboundLimit, inboundLimit, senderLimit, collectionLimit);
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
    function rateLimits()
        external
        view
        returns (uint256 outboundLimit, uint256 inboundLimit, uint256 senderLimit, uint256 collectionLimit)
    {
        Traffic memory t = _traffic;
        Budgets memory b = _budgets;
        return (t.outboundLimit, t.inboundLimit, b.senderLimit, b.collectionLimit);
    }

    /// @inheritdoc IBridgeEndpoint
    function rateLimitAvailable(address sender, address collection)
        external
        view
        returns (uint256 outbound, uint256 inbound, uint256 senderAvailable, uint256 collectionAvailable)
    {
        Traffic memory t = _traffic;
        Budgets memory b = _budgets;
        uint256 now_ = block.timestamp * _MICROS;
        return (
            _available(t.outboundFullAt, t.outboundLimit, now_),
            _available(t.inboundFullAt, t.inboundLimit, now_),
            _available(_senderFullAt[sender], b.senderLimit, now_),
            _available(_collectionFullAt[collection], b.collectionLimit, now_)
        );
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

    /// @dev Spend one transfer from the bucket of `sender`, of `collection` and the outbound ceiling (in
    ///      that order: a refusal names the narrowest budget that is used up), take the next nonce and
    ///      adjust the tokens outstanding here by `outstandingDelta` (+1 locked into custody, -1 wrapped
    ///      token burned). `collection` is the home collection on both ends.
    function _countDeparture(address sender, address collection, int256 outstandingDelta)
        internal
        returns (uint256 transferId)
    {
        uint256 now_ = block.timestamp * _MICROS;
        Budgets memory b = _budgets;
        (bool ok, uint256 senderNext, uint256 retryAt) = _spend(_senderFullAt[sender], b.senderLimit, now_);
        if (!ok) revert BridgeSenderRateLimitExceeded(sender, b.senderLimit, retryAt);
        uint256 collectionNext;
        (ok, collectionNext, retryAt) = _spend(_collectionFullAt[collection], b.collectionLimit, now_);
        if (!ok) revert BridgeCollectionRateLimitExceeded(collection, b.collectionLimit, retryAt);
        Traffic memory t = _traffic;
        uint256 next;
        (ok, next, retryAt) = _spend(t.outboundFullAt, t.outboundLimit, now_);
        if (!ok) revert BridgeRateLimitExceeded(Direction.Outbound, t.outboundLimit, retryAt);

        _senderFullAt[sender] = senderNext;
        _collectionFullAt[collection] = collectionNext;
        t.outboundFullAt = uint64(next);
        ++t.nonce;
        t.outstanding = outstandingDelta > 0 ? t.outstanding + 1 : t.outstanding - 1;
        _traffic = t;
        return transferIdOf(t.nonce);
    }

    /// @dev Spend one delivery from the inbound ceiling and adjust the tokens outstanding here by
    ///      `outstandingDelta` (+1 wrapped token minted, -1 released from custody).
    function _countArrival(int256 outstandingDelta) internal {
        Traffic memory t = _traffic;
        (bool ok, uint256 next, uint256 retryAt) = _spend(t.inboundFullAt, t.inboundLimit, block.timestamp * _MICROS);
        if (!ok) revert BridgeRateLimitExceeded(Direction.Inbound, t.inboundLimit, retryAt);
        t.inboundFullAt = uint64(next);
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

    /// @dev One transfer's share of the period in microseconds (rounded up: never more than `limit`
    ///      transfers per period).
    function _cost(uint256 limit) private pure returns (uint256) {
        return (RATE_PERIOD * _MICROS + limit - 1) / limit;
    }

    /// @dev One token-bucket step at `now_` (microseconds) for a bucket full again at `fullAt` with
    ///      capacity `limit`: whether one more transfer fits, the bucket's next `fullAt` if it does, and
    ///      otherwise the first second at which it will (0 when the limit is zero: not before it is raised).
    function _spend(uint256 fullAt, uint256 limit, uint256 now_)
        private
        pure
        returns (bool ok, uint256 next, uint256 retryAt)
    {
        if (limit == 0) return (false, fullAt, 0);
        uint256 cost = _cost(limit);
        uint256 start = fullAt > now_ ? fullAt : now_;
        if (start - now_ > (limit - 1) * cost) {
            return (false, fullAt, (fullAt - (limit - 1) * cost + _MICROS - 1) / _MICROS);
        }
        return (true, start + cost, 0);
    }

    /// @dev Whole transfers the bucket lets through at `now_`.
    function _available(uint256 fullAt, uint256 limit, uint256 now_) private pure returns (uint256) {
        if (limit == 0) return 0;
        uint256 cost = _cost(limit);
        uint256 debt = fullAt > now_ ? fullAt - now_ : 0;
        uint256 capacity = limit * cost;
        return debt >= capacity ? 0 : (capacity - debt) / cost;
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

    function _setRateLimits(uint32 outboundLimit, uint32 inboundLimit, uint32 senderLimit, uint32 collectionLimit)
        private
    {
        Traffic memory t = _traffic;
        t.outboundLimit = outboundLimit;
        t.inboundLimit = inboundLimit;
        _traffic = t;
        _budgets = Budgets(senderLimit, collectionLimit);
        emit RateLimitsUpdated(outboundLimit, inboundLimit, senderLimit, collectionLimit);
    }
}
