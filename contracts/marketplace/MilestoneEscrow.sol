// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IMilestoneEscrow} from "../interfaces/IMilestoneEscrow.sol";

/// @title MilestoneEscrow
/// @notice Milestone escrow for commissioned digital work (see IMilestoneEscrow).
/// @dev Funded in full at creation, so the seller knows every milestone is covered before
///      starting work. A royalty applies only when the terms name a receiver (a commission of a
///      derivative owes the original's rights holder; an original commission owes nobody). The platform fee is fixed per escrow at creation
///      and taken from what the seller receives (never from refunds). Payouts are pushed (ETH
///      with a bounded stipend, ERC-20 by a transfer whose failure is caught) and credited to
///      `pendingWithdrawals` when they fail, so neither party can block the other. Pausing stops
///      only new escrows: funded commitments always run to completion on their own timelines.
///      Every timeline ends without anyone's cooperation: an undelivered milestone refunds the
///      buyer, an unreviewed one releases to the seller, an unanswered dispute splits by the
///      escrow's default once its arbitration period lapses. The buyer alone writes the terms
///      (arbitrator, periods at most MAX_PERIOD, default split, royalty); they are published in
///      EscrowTermsSet and count only once the seller accepts them (acceptEscrow): before that
///      no delivery is possible and the buyer may take the funds back at once. What the seller receives pays the
///      fee, then the optional royalty of the terms, then the seller.
contract MilestoneEscrow is IMilestoneEscrow, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Pauses and unpauses the creation of escrows.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice The platform fee can never exceed 10%.
    uint16 public constant MAX_FEE_BPS = 1_000;
    /// @notice At most this many milestones per escrow (bounds every loop).
    uint256 public constant MAX_MILESTONES = 32;
    /// @notice The longest review or arbitration period an escrow may set: the buyer picks them,
    ///         and an unbounded one (up to 2^40 s) would hold the seller's money for ever.
    uint40 public constant MAX_PERIOD = 90 days;
    /// @notice Gas forwarded with an ETH payout; a payee needing more is credited instead.
    uint256 public constant PAYOUT_GAS = 50_000;

    uint256 private constant _BPS = 10_000;

    /// @inheritdoc IMilestoneEscrow
    address public treasury;
    /// @inheritdoc IMilestoneEscrow
    uint16 public platformFeeBps;
    /// @inheritdoc IMilestoneEscrow
    uint256 public nextEscrowId = 1;

    mapping(uint256 escrowId => Escrow) private _escrows;
    mapping(uint256 escrowId => mapping(uint256 index => Milestone)) private _milestones;
    mapping(address currency => uint256 amount) private _escrowBalance;
    mapping(address currency => uint256 amount) private _owedBalance;
    mapping(address currency => mapping(address payee => uint256 amount)) private _pending;

    /// @param admin Holds DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param treasury_ Receives platform fees.
    /// @param feeBps Platform fee in basis points (at most MAX_FEE_BPS).
    constructor(address admin, address treasury_, uint16 feeBps) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _setTreasury(treasury_);
        _setPlatformFee(feeBps);
    }

    // ================================================================== life cycle

    /// @inheritdoc IMilestoneEscrow
    function createEscrow(
        address seller,
        address arbitrator,
        address currency,
        uint40 reviewPeriod,
        EscrowTerms calldata terms,
        MilestoneSpec[] calldata milestones
    ) external payable nonReentrant whenNotPaused returns (uint256 escrowId) {
        if (seller == address(0) || seller == msg.sender) revert EscrowPartyInvalid(seller);
        if (arbitrator == address(0) || arbitrator == msg.sender || arbitrator == seller) {
            revert EscrowPartyInvalid(arbitrator);
        }
        if (reviewPeriod == 0 || reviewPeriod > MAX_PERIOD) revert EscrowReviewPeriodInvalid(reviewPeriod);
        uint16 feeBps = platformFeeBps;
        _checkTerms(terms, feeBps);
        uint256 count = milestones.length;
        if (count == 0 || count > MAX_MILESTONES) revert EscrowMilestoneCountInvalid(count, MAX_MILESTONES);
        if (currency != address(0) && msg.value != 0) revert EscrowFundingMismatch(0, msg.value);

        escrowId = nextEscrowId++;
        uint256 total = 0;
        for (uint256 i = 0; i < count; ++i) {
            MilestoneSpec calldata spec = milestones[i];
            if (spec.amount == 0) revert MilestoneAmountZero(i);
            if (spec.deadline <= block.timestamp) revert MilestoneDeadlinePassed(i, spec.deadline);
            _milestones[escrowId][i] = Milestone(spec.amount, spec.deadline, 0, MilestoneState.Funded, 0);
            total += spec.amount;
        }
        if (currency == address(0) && msg.value != total) revert EscrowFundingMismatch(total, msg.value);
        {
            Escrow storage e = _escrows[escrowId];
            (e.buyer, e.reviewPeriod, e.feeBps, e.milestoneCount) = (msg.sender, reviewPeriod, feeBps, uint8(count));
            _writeTerms(e, seller, arbitrator, currency, terms);
        }
        _escrowBalance[currency] += total;
        emit EscrowCreated(escrowId, msg.sender, seller, arbitrator, currency, total, uint8(count), reviewPeriod, feeBps);
        emit EscrowTermsSet(
            escrowId, arbitrator, terms.arbitrationPeriod, terms.defaultSellerBps, terms.royaltyReceiver, terms.royaltyBps
        );

        if (currency != address(0)) {
            IERC20 token = IERC20(currency);
            uint256 before = token.balanceOf(address(this));
            token.safeTransferFrom(msg.sender, address(this), total);
            uint256 received = token.balanceOf(address(this)) - before;
            if (received != total) revert EscrowFundingMismatch(total, received);
        }
    }

    /// @inheritdoc IMilestoneEscrow
    function acceptEscrow(uint256 escrowId) external nonReentrant {
        Escrow storage e = _escrows[escrowId];
        if (e.buyer == address(0)) revert EscrowNotFound(escrowId);
        if (msg.sender != e.seller) revert EscrowUnauthorized(escrowId, msg.sender);
        if (e.sellerAccepted) revert EscrowAlreadyAccepted(escrowId);

        e.sellerAccepted = true;
        emit EscrowAccepted(escrowId, msg.sender);
    }

    /// @inheritdoc IMilestoneEscrow
    function deliverMilestone(uint256 escrowId, uint256 index, bytes32 contentHash, string calldata cid)
        external
        nonReentrant
    {
        (Escrow storage e, Milestone storage m) = _load(escrowId, index);
        if (msg.sender != e.seller) revert EscrowUnauthorized(escrowId, msg.sender);
        if (!e.sellerAccepted) revert EscrowNotAccepted(escrowId);
        _requireState(escrowId, index, m, MilestoneState.Funded);
        if (block.timestamp > m.deadline) revert MilestoneDeliveryLate(escrowId, index, m.deadline);
        if (contentHash == bytes32(0) || bytes(cid).length == 0) revert MilestoneDeliveryEmpty(escrowId, index);

        m.state = MilestoneState.Delivered;
        m.deliveredAt = uint40(block.timestamp);
        emit MilestoneDelivered(escrowId, index, contentHash, cid);
    }

    /// @inheritdoc IMilestoneEscrow
    function acceptMilestone(uint256 escrowId, uint256 index) external nonReentrant {
        (Escrow storage e, Milestone storage m) = _load(escrowId, index);
        if (msg.sender != e.buyer) revert EscrowUnauthorized(escrowId, msg.sender);
        _requireState(escrowId, index, m, MilestoneState.Delivered);

        _release(escrowId, index, e, m);
    }

    /// @inheritdoc IMilestoneEscrow
    function disputeMilestone(uint256 escrowId, uint256 index) external nonReentrant {
        (Escrow storage e, Milestone storage m) = _load(escrowId, index);
        if (msg.sender != e.buyer) revert EscrowUnauthorized(escrowId, msg.sender);
        _requireState(escrowId, index, m, MilestoneState.Delivered);
        uint256 reviewEnds = uint256(m.deliveredAt) + e.reviewPeriod;
        if (block.timestamp > reviewEnds) revert MilestoneReviewClosed(escrowId, index, reviewEnds);

        m.state = MilestoneState.Disputed;
        m.disputedAt = uint40(block.timestamp);
        emit MilestoneDisputed(escrowId, index);
    }

    /// @inheritdoc IMilestoneEscrow
    function resolveDispute(uint256 escrowId, uint256 index, uint16 sellerBps) external nonReentrant {
        (Escrow storage e, Milestone storage m) = _load(escrowId, index);
        if (msg.sender != e.arbitrator) revert EscrowUnauthorized(escrowId, msg.sender);
        _requireState(escrowId, index, m, MilestoneState.Disputed);
        if (sellerBps > _BPS) revert DisputeSplitInvalid(sellerBps);

        _split(escrowId, index, e, m, sellerBps);
    }

    /// @inheritdoc IMilestoneEscrow
    function settleLapsedDispute(uint256 escrowId, uint256 index) external nonReentrant {
        (Escrow storage e, Milestone storage m) = _load(escrowId, index);
        _requireState(escrowId, index, m, MilestoneState.Disputed);
        uint256 arbitrationEnds = uint256(m.disputedAt) + e.arbitrationPeriod;
        if (block.timestamp <= arbitrationEnds) revert DisputeArbitrationOpen(escrowId, index, arbitrationEnds);

        emit DisputeLapsed(escrowId, index, msg.sender);
        _split(escrowId, index, e, m, e.defaultSellerBps);
    }

    /// @inheritdoc IMilestoneEscrow
    function reclaimMilestone(uint256 escrowId, uint256 index) external nonReentrant {
        (Escrow storage e, Milestone storage m) = _load(escrowId, index);
        if (msg.sender != e.buyer) revert EscrowUnauthorized(escrowId, msg.sender);
        _requireState(escrowId, index, m, MilestoneState.Funded);
        if (e.sellerAccepted && block.timestamp <= m.deadline) {
            revert MilestoneDeadlineNotReached(escrowId, index, m.deadline);
        }

        uint256 amount = m.amount;
        address currency = e.currency;
        m.state = MilestoneState.Refunded;
        _escrowBalance[currency] -= amount;
        emit MilestoneRefunded(escrowId, index, amount);

        _payout(currency, msg.sender, amount);
    }

    /// @inheritdoc IMilestoneEscrow
    function claimMilestone(uint256 escrowId, uint256 index) external nonReentrant {
        (Escrow storage e, Milestone storage m) = _load(escrowId, index);
        if (msg.sender != e.seller) revert EscrowUnauthorized(escrowId, msg.sender);
        _requireState(escrowId, index, m, MilestoneState.Delivered);
        uint256 reviewEnds = uint256(m.deliveredAt) + e.reviewPeriod;
        if (block.timestamp <= reviewEnds) revert MilestoneReviewOpen(escrowId, index, reviewEnds);

        _release(escrowId, index, e, m);
    }

    /// @inheritdoc IMilestoneEscrow
    function withdraw(address currency) external nonReentrant {
        _withdraw(currency, msg.sender);
    }

    /// @inheritdoc IMilestoneEscrow
    function withdrawTo(address currency, address to) external nonReentrant {
        _withdraw(currency, to);
    }

    // ================================================================== views

    /// @inheritdoc IMilestoneEscrow
    function getEscrow(uint256 escrowId) external view returns (Escrow memory) {
        return _escrows[escrowId];
    }

    /// @inheritdoc IMilestoneEscrow
    function getMilestone(uint256 escrowId, uint256 index) external view returns (Milestone memory) {
        return _milestones[escrowId][index];
    }

    /// @inheritdoc IMilestoneEscrow
    function openAmount(uint256 escrowId) external view returns (uint256 amount) {
        uint256 count = _escrows[escrowId].milestoneCount;
        for (uint256 i = 0; i < count; ++i) {
            Milestone storage m = _milestones[escrowId][i];
            if (_isOpen(m.state)) amount += m.amount;
        }
    }

    /// @inheritdoc IMilestoneEscrow
    function escrowBalance(address currency) external view returns (uint256) {
        return _escrowBalance[currency];
    }

    /// @inheritdoc IMilestoneEscrow
    function owedBalance(address currency) external view returns (uint256) {
        return _owedBalance[currency];
    }

    /// @inheritdoc IMilestoneEscrow
    function pendingWithdrawals(address currency, address payee) external view returns (uint256) {
        return _pending[currency][payee];
    }

    // ================================================================== admin

    /// @inheritdoc IMilestoneEscrow
    function setPlatformFee(uint16 feeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPlatformFee(feeBps);
    }

    /// @inheritdoc IMilestoneEscrow
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(treasury_);
    }

    /// @inheritdoc IMilestoneEscrow
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IMilestoneEscrow
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ================================================================== internals

    function _checkTerms(EscrowTerms calldata terms, uint16 feeBps) internal pure {
        if (
            terms.arbitrationPeriod == 0 || terms.arbitrationPeriod > MAX_PERIOD || terms.defaultSellerBps > _BPS
                || (terms.royaltyReceiver == address(0)) != (terms.royaltyBps == 0)
                || uint256(terms.royaltyBps) + feeBps > _BPS
        ) {
            revert EscrowTermsInvalid(
                terms.arbitrationPeriod, terms.defaultSellerBps, terms.royaltyReceiver, terms.royaltyBps
            );
        }
    }

    /// @dev The parties and terms of a new escrow; the royalty receiver's slot is written only
    ///      when there is one.
    function _writeTerms(
        Escrow storage e,
        address seller,
        address arbitrator,
        address currency,
        EscrowTerms calldata terms
    ) internal {
        (e.seller, e.royaltyBps) = (seller, terms.royaltyBps);
        (e.arbitrator, e.arbitrationPeriod, e.defaultSellerBps) =
            (arbitrator, terms.arbitrationPeriod, terms.defaultSellerBps);
        e.currency = currency;
        if (terms.royaltyReceiver != address(0)) e.royaltyReceiver = terms.royaltyReceiver;
    }

    function _load(uint256 escrowId, uint256 index) internal view returns (Escrow storage e, Milestone storage m) {
        e = _escrows[escrowId];
        if (e.buyer == address(0)) revert EscrowNotFound(escrowId);
        if (index >= e.milestoneCount) revert MilestoneNotFound(escrowId, index);
        m = _milestones[escrowId][index];
    }

    function _requireState(uint256 escrowId, uint256 index, Milestone storage m, MilestoneState expected)
        internal
        view
    {
        if (m.state != expected) revert MilestoneStateInvalid(escrowId, index, m.state);
    }

    function _isOpen(MilestoneState state) internal pure returns (bool) {
        return state == MilestoneState.Funded || state == MilestoneState.Delivered || state == MilestoneState.Disputed;
    }

    /// @dev Close a delivered milestone in the seller's favour: fee to the treasury, royalty (if the
    ///      terms name one) to its receiver, the rest to the seller.
    function _release(uint256 escrowId, uint256 index, Escrow storage e, Milestone storage m) internal {
        uint256 amount = m.amount;
        address currency = e.currency;
        (uint256 fee, uint256 royalty) = _deductions(e, amount);
        m.state = MilestoneState.Released;
        _escrowBalance[currency] -= amount;
        emit MilestoneReleased(escrowId, index, msg.sender, amount - fee - royalty, fee);

        _payout(currency, treasury, fee);
        _payRoyalty(escrowId, index, e, currency, royalty);
        _payout(currency, e.seller, amount - fee - royalty);
    }

    /// @dev Close a disputed milestone: `sellerBps` of it to the seller's side (fee, royalty, seller),
    ///      the rest back to the buyer.
    function _split(uint256 escrowId, uint256 index, Escrow storage e, Milestone storage m, uint16 sellerBps)
        internal
    {
        uint256 amount = m.amount;
        uint256 sellerShare = amount * sellerBps / _BPS;
        (uint256 fee, uint256 royalty) = _deductions(e, sellerShare);
        uint256 toBuyer = amount - sellerShare;
        address currency = e.currency;
        m.state = MilestoneState.Resolved;
        _escrowBalance[currency] -= amount;
        emit DisputeResolved(escrowId, index, sellerBps, sellerShare - fee - royalty, fee, toBuyer);

        _payout(currency, treasury, fee);
        _payRoyalty(escrowId, index, e, currency, royalty);
        _payout(currency, e.seller, sellerShare - fee - royalty);
        _payout(currency, e.buyer, toBuyer);
    }

    /// @dev The platform fee and the terms' royalty out of `sellerShare` (their bps sum to at most
    ///      10,000, checked at funding, so the seller's rest never underflows).
    function _deductions(Escrow storage e, uint256 sellerShare) internal view returns (uint256 fee, uint256 royalty) {
        fee = sellerShare * e.feeBps / _BPS;
        uint256 royaltyBps = e.royaltyBps;
        if (royaltyBps != 0) royalty = sellerShare * royaltyBps / _BPS;
    }

    function _payRoyalty(uint256 escrowId, uint256 index, Escrow storage e, address currency, uint256 royalty)
        internal
    {
        if (royalty == 0) return;
        address receiver = e.royaltyReceiver;
        emit EscrowRoyaltyPaid(escrowId, index, receiver, royalty);
        _payout(currency, receiver, royalty);
    }

    /// @dev Push `amount` of `currency` to `to`; on failure credit it (it stays held, as owed).
    function _payout(address currency, address to, uint256 amount) internal {
        if (amount == 0) return;
        bool ok;
        if (currency == address(0)) {
            assembly ("memory-safe") {
                ok := call(PAYOUT_GAS, to, amount, 0, 0, 0, 0)
            }
        } else {
            ok = IERC20(currency).trySafeTransfer(to, amount);
        }
        if (!ok) {
            _pending[currency][to] += amount;
            _owedBalance[currency] += amount;
            emit PaymentCredited(currency, to, amount);
        }
    }

    function _withdraw(address currency, address to) internal {
        uint256 amount = _pending[currency][msg.sender];
        if (amount == 0) revert WithdrawalNothingOwed(currency, msg.sender);
        _pending[currency][msg.sender] = 0;
        _owedBalance[currency] -= amount;
        emit Withdrawn(currency, msg.sender, to, amount);

        bool ok;
        if (currency == address(0)) {
            (ok,) = to.call{value: amount}("");
        } else {
            ok = IERC20(currency).trySafeTransfer(to, amount);
        }
        if (!ok) revert WithdrawalFailed(currency, msg.sender, to, amount);
    }

    function _setPlatformFee(uint16 feeBps) internal {
        if (feeBps > MAX_FEE_BPS) revert PlatformFeeTooHigh(feeBps, MAX_FEE_BPS);
        platformFeeBps = feeBps;
        emit PlatformFeeSet(feeBps);
    }

    function _setTreasury(address treasury_) internal {
        if (treasury_ == address(0)) revert TreasuryZeroAddress();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }
}
