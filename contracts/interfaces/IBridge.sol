// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IBridgeLicensing
/// @notice The one view of the licensing family the bridge reads: the license terms attached to a token.
/// @dev Declared here so the bridge does not depend on the licensing family's sources; the deployed
///      licensing contract answers it.
interface IBridgeLicensing {
    /// @notice The ids of the license terms attached to `tokenId` of `collection` (empty: none).
    function attachedTerms(address collection, uint256 tokenId) external view returns (bytes32[] memory);
}

/// @title IBridgeEndpoint
/// @notice What both ends of the lock-mint-burn bridge share: the EIP-712 message, delivery with M-of-N
///         validator signatures, replay protection, rate limits and a guardian pause.
/// @dev One endpoint talks to exactly one peer (a chain id and a bridge address there). Messages are
///      EIP-712 typed data in the domain of the destination endpoint (name "Chainright Bridge",
///      version "1", the destination chain id, the destination endpoint as verifying contract), and
///      name both chain ids and both endpoints again, so a message is valid at one endpoint only.
///
///      Transfer ids are `sourceChainId << 192 | sourceBridge << 32 | nonce` (nonce from 1, 32 bits):
///      unique per source chain and endpoint, and consecutive for one source, which lets the
///      destination keep `processed` as a bitmap.
///
///      Rate limits are token buckets, each of capacity C refilled by C per hour (`RATE_PERIOD`), so at
///      most C pass at once and no more than C plus the refill in any interval (no window edge to
///      straddle). A departure (`lock`, `burnToHome`) spends from three buckets: its sender's
///      (`senderLimit`), its home collection's (`collectionLimit`) and the outbound ceiling
///      (`outboundLimit`); one sender or one collection can use up only its own budget, not the bridge.
///      A delivery spends from the inbound ceiling (`inboundLimit`) only: it bounds how fast forged
///      messages could drain the lockbox or mint on remote if validators were compromised (a forger
///      picks sender and collection freely, so budgets per sender or collection would not slow it), and
///      honest traffic has met its sender's and collection's budgets at its source.
interface IBridgeEndpoint {
    /// @notice The rights metadata a token carries across the bridge.
    /// @param tokenURI The home token's URI, `prefix` followed by the CID in base32 (`b...`, 59 chars).
    /// @param cid The work's binary CIDv1 (36 bytes).
    /// @param contentHash The work's content hash, as recorded in the home RightsRegistry.
    /// @param royaltyReceiver ERC-2981 receiver on the home chain at lock time. It stays frozen while the
    ///        token is wrapped: a receiver rotated at home (e.g. after a key compromise) reaches the remote
    ///        chain only on the token's next trip (burn home, lock again: the lock reads `royaltyInfo`
    ///        afresh). The return is unaffected: the lockbox checks the rights the token left with.
    /// @param royaltyBps ERC-2981 royalty in basis points (`royaltyInfo(tokenId, 10000)`).
    /// @param splitRecipients When the home receiver is a RoyaltySplitter clone of the lockbox's
    ///        splitter implementation: its recipients (ascending); empty otherwise. The remote side pays
    ///        royalties to the SplitterFactory clone of the same split there (salt zero).
    /// @param splitBps The basis points of `splitRecipients` (summing to 10000; empty with them).
    /// @param licenseTermsHash keccak256(abi.encode(attachedTerms)) at lock time; zero when no licensing
    ///        contract is configured or no terms are attached.
    /// @param provenanceHash The token's provenance accumulator after this hop: each home departure
    ///        commits to the home chain's state at the lock (its previous block hash) and the rights
    ///        record, each remote departure to the burn; see IHomeLockbox.
    struct Rights {
        string tokenURI;
        bytes cid;
        bytes32 contentHash;
        address royaltyReceiver;
        uint96 royaltyBps;
        address[] splitRecipients;
        uint16[] splitBps;
        bytes32 licenseTermsHash;
        bytes32 provenanceHash;
    }

    /// @notice The signed message: one token moving from `sourceBridge` on `sourceChainId` to
    ///         `destBridge` on `destChainId`.
    /// @param collection The token's home collection (in both directions).
    /// @param tokenId The token's id in its home collection (in both directions).
    /// @param sender Who locked (home) or burned (remote) the token.
    /// @param recipient Who receives it at the destination.
    struct BridgeMessage {
        uint256 sourceChainId;
        uint256 destChainId;
        address sourceBridge;
        address destBridge;
        uint256 transferId;
        address collection;
        uint256 tokenId;
        address sender;
        address recipient;
        Rights rights;
    }

    /// @notice Traffic directions of the rate limit.
    enum Direction {
        Outbound,
        Inbound
    }

    /// @notice Emitted when the admin replaces the validator set (also at construction).
    event ValidatorSetUpdated(address[] validators, uint256 threshold);
    /// @notice Emitted when the admin sets the peer endpoint.
    event PeerUpdated(uint256 indexed chainId, address indexed bridge);
    /// @notice Emitted when the admin sets the rate limits (also at construction): transfers per hour.
    event RateLimitsUpdated(uint256 outboundLimit, uint256 inboundLimit, uint256 senderLimit,
        uint256 collectionLimit);
    /// @notice Emitted when a guardian pauses every entry point.
    event Paused(address account);
    /// @notice Emitted when the admin lifts the pause.
    event Unpaused(address account);

    /// @notice The endpoint is paused.
    error BridgePaused();
    /// @notice The endpoint is not paused.
    error BridgeNotPaused();
    /// @notice No peer is set yet (the admin sets it with `setPeer`).
    error BridgePeerNotSet();
    /// @notice A peer needs a non-zero chain id and address.
    error BridgePeerInvalid(uint256 chainId, address bridge);
    /// @notice Tokens can only go to the peer's chain.
    error BridgeDestinationUnsupported(uint256 destChainId);
    /// @notice The message does not come from the peer endpoint.
    error BridgeWrongSource(uint256 sourceChainId, address sourceBridge);
    /// @notice The message is for another chain or another endpoint.
    error BridgeWrongDestination(uint256 destChainId, address destBridge);
    /// @notice The transfer id does not encode the message's source chain and endpoint.
    error BridgeTransferIdInvalid(uint256 transferId);
    /// @notice The transfer was delivered already.
    error BridgeAlreadyProcessed(uint256 transferId);
    /// @notice Signature `index` is not a valid 65-byte ECDSA signature with a low `s`.
    error BridgeSignatureInvalid(uint256 index);
    /// @notice Signers must be strictly ascending (which also rules out a signer counted twice).
    error BridgeSignersNotAscending(uint256 index, address previous, address signer);
    /// @notice Signature `index` recovers to an address outside the current validator set.
    error BridgeSignerNotValidator(uint256 index, address signer);
    /// @notice Fewer signatures than the threshold.
    error BridgeThresholdNotMet(uint256 signatures, uint256 threshold);
    /// @notice The direction's global ceiling (`limit` per hour) is used up; one more transfer fits at
    ///         `retryAt` (unix seconds; 0: the limit is zero).
    error BridgeRateLimitExceeded(Direction direction, uint256 limit, uint256 retryAt);
    /// @notice `sender` used up its departure budget (`limit` per hour); one more fits at `retryAt` (0: the
    ///         limit is zero).
    error BridgeSenderRateLimitExceeded(address sender, uint256 limit, uint256 retryAt);
    /// @notice The home collection used up its departure budget (`limit` per hour); one more fits at
    ///         `retryAt` (0: the limit is zero).
    error BridgeCollectionRateLimitExceeded(address collection, uint256 limit, uint256 retryAt);
    /// @notice Validators must be non-zero and strictly ascending (no duplicates).
    error BridgeValidatorInvalid(uint256 index, address validator);
    /// @notice The threshold must be at least 1 and at most the number of validators (at most 255).
    error BridgeThresholdInvalid(uint256 threshold, uint256 validators);
    /// @notice The recipient cannot be the zero address.
    error BridgeRecipientZero();

    /// @notice Deliver a message signed by at least `threshold` validators: mint (remote) or unlock (home).
    /// @dev Anyone may submit (the relayer's submitter pays the gas). Not while paused. Marks the
    ///      transfer processed before any other state change or external call. Emits the endpoint's
    ///      delivery event. Reverts with `BridgePaused`, `BridgePeerNotSet`, `BridgeWrongSource`,
    ///      `BridgeWrongDestination`, `BridgeTransferIdInvalid`, `BridgeAlreadyProcessed`,
    ///      `BridgeSignatureInvalid`, `BridgeSignersNotAscending`, `BridgeSignerNotValidator`,
    ///      `BridgeThresholdNotMet`, `BridgeRateLimitExceeded` (inbound) and the endpoint's own errors.
    /// @param signatures 65-byte signatures (r, s, v) of `hashMessage(message)`, ordered by signer
    ///        address, ascending.
    function deliver(BridgeMessage calldata message, bytes[] calldata signatures) external;

    /// @notice Replace the validator set and threshold. Only the admin (DEFAULT_ADMIN_ROLE).
    /// @dev Emits `ValidatorSetUpdated`. Reverts with `BridgeValidatorInvalid` (zero, unsorted or
    ///      duplicate) or `BridgeThresholdInvalid`, and AccessControl's `AccessControlUnauthorizedAccount`.
    /// @param validators The new set, strictly ascending.
    function setValidators(address[] calldata validators, uint256 threshold) external;

    /// @notice Set the peer endpoint. Only the admin. Emits `PeerUpdated`.
    /// @dev Reverts with `BridgePeerInvalid` (zero chain id or address, or a chain id over 64 bits)
    ///      and `AccessControlUnauthorizedAccount`.
    function setPeer(uint256 chainId, address bridge) external;

    /// @notice Set the rate limits, in transfers per hour (bucket capacity and hourly refill): the global
    ///         ceilings of departures (`outboundLimit`) and deliveries (`inboundLimit`), and the departure
    ///         budgets of one sender (`senderLimit`) and one home collection (`collectionLimit`). Zero
    ///         closes that bucket. Only the admin. Emits `RateLimitsUpdated`.
    /// @dev Takes effect at once; each bucket keeps the share of its capacity in use (an emptied bucket
    ///      stays empty under the new limit, and any bucket is full again at most an hour after its last
    ///      transfer). Reverts with `AccessControlUnauthorizedAccount`.
    function setRateLimits(uint32 outboundLimit, uint32 inboundLimit, uint32 senderLimit, uint32 collectionLimit)
        external;

    /// @notice Pause every entry point (departures and deliveries). Only a guardian (GUARDIAN_ROLE).
    /// @dev Emits `Paused`. Reverts with `BridgePaused` or `AccessControlUnauthorizedAccount`.
    function pause() external;

    /// @notice Lift the pause. Only the admin (a guardian can stop, not restart).
    /// @dev Emits `Unpaused`. Reverts with `BridgeNotPaused` or `AccessControlUnauthorizedAccount`.
    function unpause() external;

    /// @notice The EIP-712 digest validators sign for `message` at this endpoint.
    function hashMessage(BridgeMessage calldata message) external view returns (bytes32);

    /// @notice True when `transferId` was delivered here.
    function processed(uint256 transferId) external view returns (bool);

    /// @notice The current validator set (ascending) and threshold.
    function validatorSet() external view returns (address[] memory validators, uint256 threshold);

    /// @notice True when `account` is in the current validator set.
    function isValidator(address account) external view returns (bool);

    /// @notice The peer endpoint (zero while unset).
    function peer() external view returns (uint256 chainId, address bridge);

    /// @notice True while paused.
    function paused() external view returns (bool);

    /// @notice The rate limits, in transfers per hour (see `setRateLimits`).
    function rateLimits()
        external
        view
        returns (uint256 outboundLimit, uint256 inboundLimit, uint256 senderLimit, uint256 collectionLimit);

    /// @notice Whole transfers each bucket lets through now: the outbound and inbound ceilings, the
    ///         budget of `sender` and that of home collection `collection`. A departure needs room in
    ///         `outbound`, `senderAvailable` and `collectionAvailable`; a delivery in `inbound`.
    function rateLimitAvailable(address sender, address collection)
        external
        view
        returns (uint256 outbound, uint256 inbound, uint256 senderAvailable, uint256 collectionAvailable);

    /// @notice The number of departures so far (the nonce of the last transfer id).
    function departures() external view returns (uint256);

    /// @notice Tokens on this side of the bridge: locked in custody (home) or wrapped (remote).
    function outstanding() external view returns (uint256);

    /// @notice The transfer id of departure `nonce_` from this endpoint.
    function transferIdOf(uint256 nonce_) external view returns (uint256);
}
