// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IMilestoneEscrow
/// @notice Escrow for commissioned digital work, paid by milestone. The buyer funds every
///         milestone at creation; the seller delivers each one (content hash + CID); the buyer
///         accepts or disputes within the review period; an arbitrator splits disputed
///         milestones; a dispute the arbitrator leaves unanswered for the escrow's arbitration
///         period is settled by anyone with the escrow's default split. Missed delivery
///         deadlines refund the buyer; review periods that lapse in silence release to the
///         seller. Whatever the seller receives pays the platform fee to the treasury and, when
///         the terms name one, a royalty (e.g. a commission of a derivative work) to its receiver.
/// @dev Invariant: for every currency, escrowBalance(currency) equals the sum of the amounts of
///      open (Funded, Delivered, Disputed) milestones, and the contract holds exactly
///      escrowBalance(currency) + owedBalance(currency) of it.
interface IMilestoneEscrow {
    /// @notice Where a milestone stands. Funded, Delivered and Disputed are open (funds held).
    enum MilestoneState {
        None,
        Funded,
        Delivered,
        Disputed,
        Released,
        Refunded,
        Resolved
    }

    /// @notice A milestone as the buyer specifies it.
    struct MilestoneSpec {
        uint128 amount;
        uint40 deadline; // last second the seller may deliver
    }

    /// @notice A milestone as stored (one slot).
    struct Milestone {
        uint128 amount;
        uint40 deadline;
        uint40 deliveredAt;
        MilestoneState state;
        uint40 disputedAt;
    }

    /// @notice What happens to disputes and royalties, fixed at funding, published in
    ///         EscrowTermsSet; the seller accepts them with acceptEscrow before any delivery counts.
    struct EscrowTerms {
        uint40 arbitrationPeriod; // seconds the arbitrator has after a dispute; then the default applies
        uint16 defaultSellerBps; // the seller's share of a dispute the arbitrator did not answer
        address royaltyReceiver; // address(0): no royalty
        uint16 royaltyBps; // of what the seller receives, paid to royaltyReceiver
    }

    /// @notice The terms of one escrow.
    struct Escrow {
        address buyer;
        uint40 reviewPeriod; // seconds the buyer has after each delivery to accept or dispute
        uint16 feeBps; // platform fee at creation, applied to what the seller receives
        uint8 milestoneCount;
        bool sellerAccepted; // the seller accepted the terms (acceptEscrow); deliveries need it
        address seller;
        uint16 royaltyBps;
        address arbitrator;
        uint40 arbitrationPeriod;
        uint16 defaultSellerBps;
        address currency; // address(0) = ETH
        address royaltyReceiver;
    }

    /// @notice Emitted when `buyer` created and funded escrow `escrowId` with `total` in `currency`.
    event EscrowCreated(
        uint256 indexed escrowId,
        address indexed buyer,
        address indexed seller,
        address arbitrator,
        address currency,
        uint256 total,
        uint8 milestoneCount,
        uint40 reviewPeriod,
        uint16 feeBps
    );
    /// @notice Emitted with EscrowCreated: the dispute and royalty terms the seller is asked to accept.
    event EscrowTermsSet(
        uint256 indexed escrowId,
        address indexed arbitrator,
        uint40 arbitrationPeriod,
        uint16 defaultSellerBps,
        address royaltyReceiver,
        uint16 royaltyBps
    );
    /// @notice Emitted when the seller accepted escrow `escrowId`'s terms (deliveries count from now).
    event EscrowAccepted(uint256 indexed escrowId, address indexed seller);
    /// @notice Emitted when the seller delivered milestone `index`: the work's content hash and its CID.
    event MilestoneDelivered(uint256 indexed escrowId, uint256 indexed index, bytes32 contentHash, string cid);
    /// @notice Emitted when the buyer disputed milestone `index`.
    event MilestoneDisputed(uint256 indexed escrowId, uint256 indexed index);
    /// @notice Emitted when milestone `index` was released to the seller, by the buyer's acceptance
    ///         (`by` = buyer) or by the seller's claim after a silent review period (`by` = seller).
    event MilestoneReleased(
        uint256 indexed escrowId, uint256 indexed index, address indexed by, uint256 toSeller, uint256 fee
    );
    /// @notice Emitted when the buyer reclaimed milestone `index` after its delivery deadline passed.
    event MilestoneRefunded(uint256 indexed escrowId, uint256 indexed index, uint256 amount);
    /// @notice Emitted when the arbitrator split disputed milestone `index`.
    event DisputeResolved(
        uint256 indexed escrowId, uint256 indexed index, uint16 sellerBps, uint256 toSeller, uint256 fee, uint256 toBuyer
    );
    /// @notice Emitted when nobody answered dispute `index` within the arbitration period and it was
    ///         settled with the escrow's default split (a DisputeResolved follows).
    event DisputeLapsed(uint256 indexed escrowId, uint256 indexed index, address settledBy);
    /// @notice Emitted when a release or split of milestone `index` paid `amount` of royalty to `receiver`.
    event EscrowRoyaltyPaid(uint256 indexed escrowId, uint256 indexed index, address receiver, uint256 amount);
    /// @notice Emitted when a payout to `payee` failed and was credited for withdraw().
    event PaymentCredited(address indexed currency, address indexed payee, uint256 amount);
    /// @notice Emitted when `payee` withdrew `amount` of `currency` to `to`.
    event Withdrawn(address indexed currency, address indexed payee, address to, uint256 amount);
    /// @notice Emitted when the platform fee for new escrows changed.
    event PlatformFeeSet(uint16 feeBps);
    /// @notice Emitted when the treasury changed.
    event TreasurySet(address indexed treasury);

    /// @notice No escrow has id `escrowId`.
    error EscrowNotFound(uint256 escrowId);
    /// @notice An escrow needs between 1 and `maxCount` (MAX_MILESTONES) milestones; it had `count`.
    error EscrowMilestoneCountInvalid(uint256 count, uint256 maxCount);
    /// @notice `party` cannot be the seller or the arbitrator: the zero address, the buyer, or (for the
    ///         arbitrator) the seller.
    error EscrowPartyInvalid(address party);
    /// @notice The review period must be non-zero and at most MAX_PERIOD.
    error EscrowReviewPeriodInvalid(uint40 reviewPeriod);
    /// @notice The escrow must be funded with exactly the milestones' total: `expected`, but `received`
    ///         arrived (msg.value, or the ERC-20 balance change; msg.value must be zero for an ERC-20
    ///         escrow).
    error EscrowFundingMismatch(uint256 expected, uint256 received);
    /// @notice `caller` is not the party this step belongs to (seller, buyer or arbitrator).
    error EscrowUnauthorized(uint256 escrowId, address caller);
    /// @notice The seller has not accepted the escrow's terms yet, so no delivery counts.
    error EscrowNotAccepted(uint256 escrowId);
    /// @notice The seller accepted the escrow's terms already.
    error EscrowAlreadyAccepted(uint256 escrowId);
    /// @notice Milestone `index` of the spec has a zero amount.
    error MilestoneAmountZero(uint256 index);
    /// @notice Milestone `index` of the spec has a `deadline` that is not in the future.
    error MilestoneDeadlinePassed(uint256 index, uint40 deadline);
    /// @notice Escrow `escrowId` has no milestone `index`.
    error MilestoneNotFound(uint256 escrowId, uint256 index);
    /// @notice The milestone is in `state`, which does not allow this step.
    error MilestoneStateInvalid(uint256 escrowId, uint256 index, MilestoneState state);
    /// @notice The milestone's delivery `deadline` has passed.
    error MilestoneDeliveryLate(uint256 escrowId, uint256 index, uint40 deadline);
    /// @notice A delivery needs a non-zero content hash and a non-empty CID.
    error MilestoneDeliveryEmpty(uint256 escrowId, uint256 index);
    /// @notice The buyer can reclaim an undelivered milestone of an accepted escrow only after its
    ///         `deadline`.
    error MilestoneDeadlineNotReached(uint256 escrowId, uint256 index, uint40 deadline);
    /// @notice The seller can claim a delivered milestone only after its review period ends
    ///         (`reviewEnds`).
    error MilestoneReviewOpen(uint256 escrowId, uint256 index, uint256 reviewEnds);
    /// @notice The buyer can dispute a delivery only until its review period ends (`reviewEnds`).
    error MilestoneReviewClosed(uint256 escrowId, uint256 index, uint256 reviewEnds);
    /// @notice A split gives the seller at most 10,000 bps; `sellerBps` is more.
    error DisputeSplitInvalid(uint16 sellerBps);
    /// @notice The terms are invalid: an arbitration period of zero or above MAX_PERIOD, a default
    ///         split above 10,000 bps, a royalty receiver without bps or bps without a receiver, or
    ///         royalty bps above what the platform fee leaves.
    error EscrowTermsInvalid(uint40 arbitrationPeriod, uint16 defaultSellerBps, address royaltyReceiver, uint16 royaltyBps);
    /// @notice The arbitrator may still answer the dispute until `arbitrationEnds`; it cannot be
    ///         settled by default before.
    error DisputeArbitrationOpen(uint256 escrowId, uint256 index, uint256 arbitrationEnds);
    /// @notice The platform fee may be at most `maxFeeBps`; `feeBps` was asked for.
    error PlatformFeeTooHigh(uint256 feeBps, uint256 maxFeeBps);
    /// @notice The treasury cannot be the zero address.
    error TreasuryZeroAddress();
    /// @notice `payee` has no credit in `currency` to withdraw.
    error WithdrawalNothingOwed(address currency, address payee);
    /// @notice Sending `amount` of `currency` credited to `payee` to `to` failed (the credit is kept).
    error WithdrawalFailed(address currency, address payee, address to, uint256 amount);

    /// @notice Create an escrow and fund all its milestones now (msg.value for ETH, else an
    ///         ERC-20 transferFrom of the caller that must arrive in full).
    /// @dev The caller is the buyer. Emits EscrowCreated and EscrowTermsSet (every term the seller
    ///      is asked to accept). Reverts with EscrowPartyInvalid, EscrowReviewPeriodInvalid (zero or
    ///      above MAX_PERIOD), EscrowTermsInvalid (a zero arbitration period or one above MAX_PERIOD, a default
    ///      split above 10,000 bps, a royalty receiver without bps or bps without a receiver, or
    ///      royalty bps above what the platform fee leaves), EscrowMilestoneCountInvalid,
    ///      MilestoneAmountZero, MilestoneDeadlinePassed, EscrowFundingMismatch, EnforcedPause.
    /// @return escrowId The new escrow's id (ids start at 1).
    function createEscrow(
        address seller,
        address arbitrator,
        address currency,
        uint40 reviewPeriod,
        EscrowTerms calldata terms,
        MilestoneSpec[] calldata milestones
    ) external payable returns (uint256 escrowId);

    /// @notice Accept escrow `escrowId`'s terms (parties, milestones, review and arbitration
    ///         periods, default split, royalty, fee: getEscrow, getMilestone, EscrowTermsSet).
    /// @dev Only the seller, once. Until then no delivery counts and the buyer may reclaim any
    ///      funded milestone at once. Emits EscrowAccepted. Reverts with EscrowNotFound,
    ///      EscrowUnauthorized, EscrowAlreadyAccepted.
    function acceptEscrow(uint256 escrowId) external;

    /// @notice Deliver milestone `index`: publishes the work's content hash and CID.
    /// @dev Only the seller, after accepting the terms, while the milestone is Funded and its
    ///      deadline has not passed. Emits MilestoneDelivered. Reverts with EscrowNotFound,
    ///      MilestoneNotFound, EscrowUnauthorized, EscrowNotAccepted, MilestoneStateInvalid,
    ///      MilestoneDeliveryLate, MilestoneDeliveryEmpty.
    function deliverMilestone(uint256 escrowId, uint256 index, bytes32 contentHash, string calldata cid) external;

    /// @notice Accept a delivered milestone: its funds go to the seller, less the platform fee.
    /// @dev Only the buyer, while the milestone is Delivered. Emits MilestoneReleased.
    ///      Reverts with EscrowUnauthorized, MilestoneStateInvalid.
    function acceptMilestone(uint256 escrowId, uint256 index) external;

    /// @notice Dispute a delivered milestone within its review period; the arbitrator decides.
    /// @dev Only the buyer. Emits MilestoneDisputed. Reverts with EscrowUnauthorized,
    ///      MilestoneStateInvalid, MilestoneReviewClosed.
    function disputeMilestone(uint256 escrowId, uint256 index) external;

    /// @notice Settle a disputed milestone: `sellerBps` of it to the seller (less the fee), the rest to the buyer.
    /// @dev Only the arbitrator. Emits DisputeResolved. Reverts with EscrowUnauthorized,
    ///      MilestoneStateInvalid, DisputeSplitInvalid.
    function resolveDispute(uint256 escrowId, uint256 index, uint16 sellerBps) external;

    /// @notice Settle a dispute the arbitrator left unanswered for the escrow's arbitration period,
    ///         with the escrow's default split. Anyone may call.
    /// @dev While the milestone is Disputed and block.timestamp > disputedAt + arbitrationPeriod
    ///      (until then the arbitrator may still resolve it). Emits DisputeLapsed then
    ///      DisputeResolved. Reverts with MilestoneStateInvalid, DisputeArbitrationOpen.
    function settleLapsedDispute(uint256 escrowId, uint256 index) external;

    /// @notice Take back a milestone the seller did not deliver by its deadline (or at any time
    ///         while the seller has not accepted the escrow's terms).
    /// @dev Only the buyer, after the deadline or before acceptance, while the milestone is Funded. Emits
    ///      MilestoneRefunded. Reverts with EscrowUnauthorized, MilestoneStateInvalid,
    ///      MilestoneDeadlineNotReached.
    function reclaimMilestone(uint256 escrowId, uint256 index) external;

    /// @notice Claim a delivered milestone the buyer neither accepted nor disputed within the review period.
    /// @dev Only the seller. Emits MilestoneReleased. Reverts with EscrowUnauthorized,
    ///      MilestoneStateInvalid, MilestoneReviewOpen.
    function claimMilestone(uint256 escrowId, uint256 index) external;

    /// @notice Send the caller's credited `currency` to the caller.
    /// @dev Emits Withdrawn. Reverts with WithdrawalNothingOwed or WithdrawalFailed.
    function withdraw(address currency) external;

    /// @notice Send the caller's credited `currency` to `to`.
    /// @dev As withdraw().
    function withdrawTo(address currency, address to) external;

    /// @notice The terms of escrow `escrowId`.
    function getEscrow(uint256 escrowId) external view returns (Escrow memory);

    /// @notice Milestone `index` of escrow `escrowId`.
    function getMilestone(uint256 escrowId, uint256 index) external view returns (Milestone memory);

    /// @notice The funds escrow `escrowId` still holds (the sum of its open milestones).
    function openAmount(uint256 escrowId) external view returns (uint256);

    /// @notice The sum of every open milestone in `currency`.
    function escrowBalance(address currency) external view returns (uint256);

    /// @notice Credited payouts in `currency` not yet withdrawn.
    function owedBalance(address currency) external view returns (uint256);

    /// @notice Credit of `payee` in `currency`.
    function pendingWithdrawals(address currency, address payee) external view returns (uint256);

    /// @notice Receives platform fees.
    function treasury() external view returns (address);

    /// @notice Platform fee (basis points) for escrows created from now on.
    function platformFeeBps() external view returns (uint16);

    /// @notice The id the next escrow gets (ids start at 1).
    function nextEscrowId() external view returns (uint256);

    /// @notice Set the platform fee for escrows created from now on (at most MAX_FEE_BPS).
    /// @dev Only DEFAULT_ADMIN_ROLE. Emits PlatformFeeSet. Reverts with PlatformFeeTooHigh.
    function setPlatformFee(uint16 feeBps) external;

    /// @notice Set the treasury that receives fees.
    /// @dev Only DEFAULT_ADMIN_ROLE. Emits TreasurySet. Reverts with TreasuryZeroAddress.
    function setTreasury(address treasury) external;

    /// @notice Stop the creation of new escrows (existing escrows always run to completion).
    /// @dev Only PAUSER_ROLE. Emits Paused.
    function pause() external;

    /// @notice Allow new escrows again.
    /// @dev Only PAUSER_ROLE. Emits Unpaused.
    function unpause() external;
}
