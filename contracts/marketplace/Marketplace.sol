// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IHoldingEpoch} from "../interfaces/IHoldingEpoch.sol";
import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";
import {IMarketplace} from "../interfaces/IMarketplace.sol";

/// @title Marketplace
/// @notice Signed listings and offers, English auctions, and the trading guards of Chainright.
/// @dev Orders are EIP-712 typed data bound to this deployment (name "Chainright Marketplace",
///      version "1", chain id, this address) and to the signer's counter; a listing also to the
///      token's holding epoch (IHoldingEpoch), so it dies when the token leaves the seller. Prices are per unit.
///      Every state-changing entry point is nonReentrant (transient-storage guard) and follows
///      checks, effects, interactions: an order's fill is recorded before any token or payment
///      moves. ETH payouts go out with a bounded gas stipend; a payee that rejects them (or burns
///      the stipend) is credited in `pendingWithdrawals` instead, so no payee can block a sale.
///      An ERC-20 price is pulled from the buyer into this contract in one balance-checked
///      transferFrom (a token that lies about transfers or takes a fee reverts the fill), then
///      each payee's part is sent with a transfer whose failure is caught and credited per
///      currency (`pendingErc20`), so a payee the token refuses cannot block a sale either.
///      The ETH platform fee accrues in the configuration slot every fill reads anyway (the
///      treasury withdraws it with `withdraw()`; `pendingWithdrawals(treasury)` includes it).
contract Marketplace is
    IMarketplace,
    IERC721Receiver,
    IERC1155Receiver,
    EIP712,
    AccessControl,
    ReentrancyGuardTransient
{
    using SafeERC20 for IERC20;

    /// @notice Sets per-collection identity requirements.
    bytes32 public constant POLICY_ADMIN_ROLE = keccak256("POLICY_ADMIN_ROLE");
    /// @notice Sets price bands and halts collections (the circuit breaker's role).
    bytes32 public constant RISK_ROLE = keccak256("RISK_ROLE");
    /// @notice Pauses and unpauses every trading entry point.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice The platform fee can never exceed 10%.
    uint16 public constant MAX_FEE_BPS = 1_000;
    /// @notice Gas forwarded with an ETH payout; enough for a contract wallet or a splitter's
    ///         receive(), too little to grief the sale. A payee needing more is credited instead.
    uint256 public constant PAYOUT_GAS = 50_000;
    /// @notice The most listings one fillListings call may buy (about 100k gas each: 50 stay far
    ///         below a block's gas limit).
    uint256 public constant MAX_BATCH_FILLS = 50;
    /// @notice How long after its end an auction that nobody could (or did) settle waits before
    ///         anyone may unwind it (bid credited back, lot returned): a halt or a pause that
    ///         outlasts it cannot keep a bidder's ETH.
    uint256 public constant SETTLEMENT_GRACE = 7 days;

    bytes32 public constant LISTING_TYPEHASH = keccak256(
        "Listing(address seller,address token,uint256 tokenId,uint8 standard,uint256 quantity,uint256 unitPrice,"
        "address currency,uint64 start,uint64 expiry,uint256 salt,uint256 counter,uint256 holdingEpoch)"
    );
    bytes32 public constant OFFER_TYPEHASH = keccak256(
        "Offer(address buyer,address token,uint256 tokenId,uint8 standard,uint256 quantity,uint256 unitPrice,"
        "address currency,uint64 start,uint64 expiry,uint256 salt,uint256 counter)"
    );

    uint256 private constant _BPS = 10_000;
    /// @dev Bit positions in the configuration slot: treasury (0-159), platformFeeBps (160-175),
    ///      paused (176-183), _accruedFees (184-255). test_marketplace_fee_accrual pins this layout.
    uint256 private constant _FEE_SHIFT = 160;
    uint256 private constant _PAUSED_SHIFT = 176;
    uint256 private constant _ACCRUED_SHIFT = 184;

    /// @dev Every trading entry point: reverts with EnforcedPause while paused.
    modifier whenNotPaused() {
        if (paused) revert EnforcedPause();
        _;
    }

    /// @dev One slot per order: whether it was cancelled and how many units were filled.
    struct OrderState {
        bool cancelled;
        uint248 filled;
    }

    /// @dev One slot per collection. `bandCount` counts the currencies with a price band, so a
    ///      fill reads a band slot only for collections that have one.
    struct CollectionPolicy {
        bool halted;
        bool identityRequired;
        uint32 bandCount;
    }

    /// @dev One slot per (collection, currency).
    struct PriceBandConfig {
        uint240 referencePrice;
        uint16 widthBps;
    }

    // The treasury, the fee, the pause flag and the treasury's accrued ETH fees share one slot:
    // a fill reads it once (for the pause check) and accrues its fee into it for 2,900 gas.
    /// @inheritdoc IMarketplace
    address public treasury;
    /// @inheritdoc IMarketplace
    uint16 public platformFeeBps;
    /// @inheritdoc IMarketplace
    bool public paused;
    /// @dev ETH fees owed to `treasury` not yet withdrawn (spills into _credits before overflowing).
    uint72 private _accruedFees;
    IIdentityRegistry private _identityRegistry;
    /// @inheritdoc IMarketplace
    uint256 public nextAuctionId = 1;

    mapping(address payee => uint256 amount) private _credits;
    mapping(address currency => mapping(address payee => uint256 amount)) private _erc20Credits;

    mapping(bytes32 orderHash => OrderState) private _orders;
    mapping(address signer => uint256 counter) private _counters;
    mapping(address collection => CollectionPolicy) private _policies;
    mapping(address collection => mapping(address currency => PriceBandConfig)) private _bands;
    mapping(uint256 auctionId => Auction) private _auctions;

    /// @param admin Holds every role at deployment (grant and renounce to split them).
    /// @param treasury_ Receives platform fees.
    /// @param feeBps Platform fee in basis points (at most MAX_FEE_BPS).
    constructor(address admin, address treasury_, uint16 feeBps) EIP712("Chainright Marketplace", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(POLICY_ADMIN_ROLE, admin);
        _grantRole(RISK_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _setTreasury(treasury_);
        _setPlatformFee(feeBps);
    }

    // ================================================================== orders

    /// @inheritdoc IMarketplace
    function fillListing(Order calldata order, bytes calldata signature, uint256 amount)
        external
        payable
        nonReentrant
        returns (bytes32 orderHash)
    {
        uint256 feeBps = _tradingFeeBps();
        uint256 price = _listingPrice(order, amount);
        uint256 expectedValue = order.currency == address(0) ? price : 0;
        if (msg.value != expectedValue) revert PaymentValueMismatch(expectedValue, msg.value);
        orderHash = _fillListing(order, signature, amount, price, feeBps);
    }

    /// @inheritdoc IMarketplace
    function fillListings(Order[] calldata orders, bytes[] calldata signatures, uint256[] calldata amounts)
        external
        payable
        nonReentrant
        returns (bytes32[] memory orderHashes)
    {
        uint256 feeBps = _tradingFeeBps();
        uint256 count = orders.length;
        if (count == 0) revert BatchEmpty();
        if (count > MAX_BATCH_FILLS) revert BatchTooLarge(count, MAX_BATCH_FILLS);
        if (signatures.length != count || amounts.length != count) {
            revert BatchLengthMismatch(count, signatures.length, amounts.length);
        }
        // Checks first: the ETH due for the whole cart, before any fill moves value.
        uint256 expectedValue = 0;
        uint256[] memory prices = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 price = _listingPrice(orders[i], amounts[i]);
            prices[i] = price;
            if (orders[i].currency == address(0)) expectedValue += price;
        }
        if (msg.value != expectedValue) revert PaymentValueMismatch(expectedValue, msg.value);

        orderHashes = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            orderHashes[i] = _fillListing(orders[i], signatures[i], amounts[i], prices[i], feeBps);
        }
    }

    /// @inheritdoc IMarketplace
    function fillOffer(Order calldata order, bytes calldata signature, uint256 amount)
        external
        nonReentrant
        returns (bytes32 orderHash)
    {
        uint256 feeBps = _tradingFeeBps();
        if (order.side != OrderSide.Offer) revert OrderSideMismatch(OrderSide.Offer, order.side);
        address buyer = order.signer;
        uint256 price = _orderPrice(order.unitPrice, amount);

        uint256 filled;
        (orderHash, filled) = _checkOrder(order, signature, amount);
        if (msg.sender == buyer) revert OrderSelfFill(orderHash, buyer);
        if (order.currency == address(0)) revert OfferCurrencyNotErc20(orderHash);
        _checkTrade(order.token, order.currency, order.unitPrice, msg.sender, buyer);
        Payout memory payout = _quote(order.token, order.tokenId, price, feeBps, _BPS);

        _recordFill(orderHash, filled + amount);
        _emitFilled(orderHash, order, msg.sender, buyer, amount, payout);

        _moveToken(order.standard, order.token, msg.sender, buyer, order.tokenId, amount);
        _pay(order.currency, buyer, msg.sender, payout);
    }

    /// @inheritdoc IMarketplace
    function cancel(Order[] calldata orders) external nonReentrant {
        for (uint256 i = 0; i < orders.length; ++i) {
            bytes32 orderHash = _hashOrder(orders[i]);
            if (orders[i].signer != msg.sender) revert OrderCancelUnauthorized(orderHash, msg.sender);
            _orders[orderHash].cancelled = true;
            emit OrderCancelled(orderHash, msg.sender);
        }
    }

    /// @inheritdoc IMarketplace
    function incrementCounter() external nonReentrant returns (uint256 newCounter) {
        newCounter = ++_counters[msg.sender];
        emit CounterIncremented(msg.sender, newCounter);
    }

    /// @inheritdoc IMarketplace
    function withdraw() external nonReentrant {
        _withdraw(payable(msg.sender));
    }

    /// @inheritdoc IMarketplace
    function withdrawTo(address payable to) external nonReentrant {
        _withdraw(to);
    }

    /// @inheritdoc IMarketplace
    function withdrawErc20(address currency, address to) external nonReentrant {
        uint256 amount = _erc20Credits[currency][msg.sender];
        if (amount == 0) revert WithdrawalNothingOwed(msg.sender);
        _erc20Credits[currency][msg.sender] = 0;
        emit Erc20Withdrawn(currency, msg.sender, to, amount);
        if (!IERC20(currency).trySafeTransfer(to, amount)) revert WithdrawalFailed(msg.sender, to, amount);
    }

    /// @inheritdoc IMarketplace
    function pendingWithdrawals(address payee) external view returns (uint256) {
        return _credits[payee] + (payee == treasury ? _accruedFees : 0);
    }

    /// @inheritdoc IMarketplace
    function pendingErc20(address currency, address payee) external view returns (uint256) {
        return _erc20Credits[currency][payee];
    }

    /// @inheritdoc IMarketplace
    function hashOrder(Order calldata order) external view returns (bytes32) {
        return _hashOrder(order);
    }

    /// @inheritdoc IMarketplace
    function orderStatus(bytes32 orderHash) external view returns (bool cancelled, uint256 filled) {
        OrderState memory state = _orders[orderHash];
        return (state.cancelled, state.filled);
    }

    /// @inheritdoc IMarketplace
    function counterOf(address signer) external view returns (uint256) {
        return _counters[signer];
    }

    /// @inheritdoc IMarketplace
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ================================================================== auctions

    /// @inheritdoc IMarketplace
    function createAuction(AuctionParams calldata params)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 auctionId)
    {
        uint40 start = params.start == 0 ? uint40(block.timestamp) : params.start;
        if (params.end <= start || params.end <= block.timestamp) revert AuctionWindowInvalid(start, params.end);
        if (params.quantity == 0 || (params.standard == TokenStandard.ERC721 && params.quantity != 1)) {
            revert AuctionQuantityInvalid(params.standard, params.quantity);
        }
        _checkCollection(params.token);
        _checkIdentity(params.token, msg.sender);

        auctionId = nextAuctionId++;
        Auction storage a = _auctions[auctionId];
        a.seller = msg.sender;
        a.start = start;
        a.end = params.end;
        a.status = AuctionStatus.Open;
        a.token = params.token;
        a.standard = params.standard;
        a.extension = params.extension;
        a.minIncrementBps = params.minIncrementBps;
        a.feeBps = platformFeeBps;
        a.royaltyBps = _royaltyBpsOf(params.token, params.tokenId);
        a.tokenId = params.tokenId;
        a.quantity = params.quantity;
        a.reservePrice = params.reservePrice;
        a.minIncrementWei = params.minIncrementWei;
        emit AuctionCreated(
            auctionId, msg.sender, params.token, params.tokenId, params.quantity, params.reservePrice, start,
            params.end
        );

        _moveToken(params.standard, params.token, msg.sender, address(this), params.tokenId, params.quantity);
    }

    /// @inheritdoc IMarketplace
    function bid(uint256 auctionId) external payable nonReentrant whenNotPaused {
        Auction storage a = _auctions[auctionId];
        if (a.status != AuctionStatus.Open) revert AuctionNotOpen(auctionId, a.status);
        if (block.timestamp < a.start) revert AuctionNotStarted(auctionId, a.start);
        uint40 end = a.end;
        if (block.timestamp >= end) revert AuctionAlreadyEnded(auctionId, end);
        uint256 minimum = _minimumBid(a);
        if (msg.value < minimum) revert AuctionBidTooLow(auctionId, msg.value, minimum);
        address token = a.token;
        _checkCollection(token);
        _checkBand(token, address(0), msg.value / a.quantity);
        _checkIdentity(token, msg.sender);

        address previousBidder = a.highBidder;
        uint256 previousBid = a.highBid;
        a.highBidder = msg.sender;
        a.highBid = SafeCast.toUint128(msg.value);
        if (end - block.timestamp < a.extension) {
            end = uint40(block.timestamp) + a.extension;
            a.end = end;
        }
        if (previousBidder != address(0)) _credit(previousBidder, previousBid);
        emit BidPlaced(auctionId, msg.sender, msg.value, end);
    }

    /// @inheritdoc IMarketplace
    function settleAuction(uint256 auctionId) external nonReentrant whenNotPaused {
        Auction storage a = _auctions[auctionId];
        if (a.status != AuctionStatus.Open) revert AuctionNotOpen(auctionId, a.status);
        if (block.timestamp < a.end) revert AuctionNotEnded(auctionId, a.end);
        address token = a.token;
        _checkCollection(token);
        address seller = a.seller;
        address winner = a.highBidder;
        uint256 amount = a.highBid;
        Payout memory payout = Payout(address(0), 0, 0, 0);
        if (winner != address(0)) payout = _quote(token, a.tokenId, amount, a.feeBps, a.royaltyBps);

        a.status = AuctionStatus.Settled;
        _creditFee(payout.fee);
        emit AuctionSettled(auctionId, winner, amount, payout.royaltyReceiver, payout.royalty, payout.fee);

        if (winner != address(0)) _pay(address(0), address(this), seller, payout);
        _deliverLot(auctionId, a, winner != address(0) ? winner : seller);
    }

    /// @inheritdoc IMarketplace
    function cancelAuction(uint256 auctionId) external nonReentrant {
        Auction storage a = _auctions[auctionId];
        if (a.status != AuctionStatus.Open) revert AuctionNotOpen(auctionId, a.status);
        if (a.seller != msg.sender) revert AuctionNotSeller(auctionId, msg.sender);
        if (a.highBidder != address(0)) revert AuctionHasBids(auctionId);

        a.status = AuctionStatus.Cancelled;
        emit AuctionCancelled(auctionId);

        _deliverLot(auctionId, a, msg.sender);
    }

    /// @inheritdoc IMarketplace
    function unwindAuction(uint256 auctionId) external nonReentrant {
        Auction storage a = _auctions[auctionId];
        if (a.status != AuctionStatus.Open) revert AuctionNotOpen(auctionId, a.status);
        uint256 unwindableAt = uint256(a.end) + SETTLEMENT_GRACE;
        if (block.timestamp < unwindableAt) revert AuctionUnwindTooEarly(auctionId, unwindableAt);

        a.status = AuctionStatus.Cancelled;
        address bidder = a.highBidder;
        if (bidder != address(0)) _credit(bidder, a.highBid);
        emit AuctionUnwound(auctionId, bidder, a.highBid);

        _deliverLot(auctionId, a, a.seller);
    }

    /// @inheritdoc IMarketplace
    function claimLot(uint256 auctionId, address to) external nonReentrant {
        Auction storage a = _auctions[auctionId];
        if (!a.lotHeld) revert LotNotHeld(auctionId);
        address recipient = a.highBidder != address(0) && a.status == AuctionStatus.Settled ? a.highBidder : a.seller;
        if (msg.sender != recipient) revert LotClaimUnauthorized(auctionId, msg.sender);

        a.lotHeld = false;
        emit LotClaimed(auctionId, recipient, to);

        _moveToken(a.standard, a.token, address(this), to, a.tokenId, a.quantity);
    }

    /// @inheritdoc IMarketplace
    function getAuction(uint256 auctionId) external view returns (Auction memory) {
        return _auctions[auctionId];
    }

    /// @inheritdoc IMarketplace
    function minimumBid(uint256 auctionId) external view returns (uint256) {
        return _minimumBid(_auctions[auctionId]);
    }

    /// @notice Accepts ERC-721 lots only when the marketplace itself pulls them (createAuction).
    /// @dev Reverts with TokenReceiptUnexpected for any other transfer, so nothing gets stuck here.
    function onERC721Received(address operator, address, uint256, bytes calldata) external view returns (bytes4) {
        if (operator != address(this)) revert TokenReceiptUnexpected(operator);
        return IERC721Receiver.onERC721Received.selector;
    }

    /// @notice Accepts ERC-1155 lots only when the marketplace itself pulls them (createAuction).
    /// @dev Reverts with TokenReceiptUnexpected for any other transfer.
    function onERC1155Received(address operator, address, uint256, uint256, bytes calldata)
        external
        view
        returns (bytes4)
    {
        if (operator != address(this)) revert TokenReceiptUnexpected(operator);
        return IERC1155Receiver.onERC1155Received.selector;
    }

    /// @notice Batch receipts are never expected.
    /// @dev Always reverts with TokenReceiptUnexpected.
    function onERC1155BatchReceived(address operator, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        revert TokenReceiptUnexpected(operator);
    }

    // ================================================================== guards and admin

    /// @inheritdoc IMarketplace
    function setPlatformFee(uint16 feeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPlatformFee(feeBps);
    }

    /// @inheritdoc IMarketplace
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(treasury_);
    }

    /// @inheritdoc IMarketplace
    function setIdentityRegistry(address registry) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _identityRegistry = IIdentityRegistry(registry);
        emit IdentityRegistrySet(registry);
    }

    /// @inheritdoc IMarketplace
    function setIdentityRequired(address collection, bool required) external onlyRole(POLICY_ADMIN_ROLE) {
        _policies[collection].identityRequired = required;
        emit IdentityRequirementSet(collection, required);
    }

    /// @inheritdoc IMarketplace
    function setPriceBand(address collection, address currency, uint256 referencePrice, uint16 widthBps)
        external
        onlyRole(RISK_ROLE)
    {
        if (widthBps > _BPS || referencePrice > type(uint240).max || (referencePrice == 0 && widthBps != 0)) {
            revert PriceBandInvalid(referencePrice, widthBps);
        }
        bool had = _bands[collection][currency].referencePrice != 0;
        if (had && referencePrice == 0) --_policies[collection].bandCount;
        if (!had && referencePrice != 0) ++_policies[collection].bandCount;
        _bands[collection][currency] = PriceBandConfig(uint240(referencePrice), widthBps);
        emit PriceBandSet(collection, currency, referencePrice, widthBps);
    }

    /// @inheritdoc IMarketplace
    function setHalted(address collection, bool halted) external onlyRole(RISK_ROLE) {
        _policies[collection].halted = halted;
        emit CollectionHaltSet(collection, halted);
    }

    /// @inheritdoc IMarketplace
    function pause() external onlyRole(PAUSER_ROLE) {
        if (paused) revert EnforcedPause();
        paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IMarketplace
    function unpause() external onlyRole(PAUSER_ROLE) {
        if (!paused) revert ExpectedPause();
        paused = false;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc IMarketplace
    function priceBand(address collection, address currency) public view returns (uint256 low, uint256 high) {
        PriceBandConfig memory band = _bands[collection][currency];
        if (band.referencePrice == 0) return (0, type(uint256).max);
        uint256 ref = band.referencePrice;
        low = ref * (_BPS - band.widthBps) / _BPS;
        high = ref * (_BPS + band.widthBps) / _BPS;
    }

    /// @inheritdoc IMarketplace
    function identityRegistry() external view returns (address) {
        return address(_identityRegistry);
    }

    /// @inheritdoc IMarketplace
    function collectionPolicy(address collection) external view returns (bool halted, bool identityRequired) {
        CollectionPolicy memory policy = _policies[collection];
        return (policy.halted, policy.identityRequired);
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override(AccessControl, IERC165) returns (bool) {
        return interfaceId == type(IERC1155Receiver).interfaceId || interfaceId == type(IERC721Receiver).interfaceId
            || super.supportsInterface(interfaceId);
    }

    // ================================================================== internals: orders

    /// @dev EIP-712 struct hash, then digest. An Order is thirteen static words in calldata: `side`
    ///      followed by the signed fields in type order, `holdingEpoch` last. Copying them and
    ///      overwriting the first word with the side's type hash gives exactly
    ///      `abi.encode(TYPEHASH, signer, ..., counter, holdingEpoch)` for a listing; an offer's
    ///      hash stops before `holdingEpoch` (not a field of Offer). Copying skips ABI
    ///      re-validation: an order with dirty high bits hashes to an id no wallet signs, and any
    ///      fill of it reverts when Solidity reads the dirty field.
    function _hashOrder(Order calldata order) internal view returns (bytes32) {
        bool listing = order.side == OrderSide.Listing;
        bytes32 typeHash = listing ? LISTING_TYPEHASH : OFFER_TYPEHASH;
        uint256 length = listing ? 0x1a0 : 0x180;
        bytes32 structHash;
        assembly ("memory-safe") {
            let ptr := mload(0x40) // scratch: the free memory pointer is not advanced
            calldatacopy(ptr, order, length)
            mstore(ptr, typeHash)
            structHash := keccak256(ptr, length)
        }
        return _hashTypedDataV4(structHash);
    }

    /// @dev A listing fills only while its token has not left the seller since signing: the
    ///      collection's IHoldingEpoch value must still be the signed one. Fails closed: a
    ///      collection without it (the call reverts or answers fewer than 32 bytes) cannot be sold
    ///      by listing (offers and auctions still work).
    function _checkHoldingEpoch(Order calldata order, bytes32 orderHash) internal view {
        address collection = order.token;
        address seller = order.signer;
        uint256 tokenId = order.tokenId;
        bytes4 selector = IHoldingEpoch.holdingEpoch.selector;
        bool ok;
        uint256 current;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), seller)
            mstore(add(ptr, 0x24), tokenId)
            ok := and(staticcall(gas(), collection, ptr, 0x44, 0x00, 0x20), gt(returndatasize(), 0x1f))
            current := mload(0x00)
        }
        if (!ok) revert ListingHoldingEpochUnavailable(collection);
        if (current != order.holdingEpoch) revert ListingHoldingEpochStale(orderHash, order.holdingEpoch, current);
    }

    /// @dev Every check on a signed order and the requested fill; returns the order hash and the
    ///      units filled so far.
    function _checkOrder(Order calldata order, bytes calldata signature, uint256 amount)
        internal
        view
        returns (bytes32 orderHash, uint256 filled)
    {
        orderHash = _hashOrder(order);
        uint256 quantity = order.quantity;
        if (quantity == 0 || quantity > type(uint248).max || (order.standard == TokenStandard.ERC721 && quantity != 1)) {
            revert OrderQuantityInvalid(order.standard, quantity);
        }
        if (order.unitPrice == 0) revert OrderPriceZero(orderHash);
        if (amount == 0) revert OrderFillAmountZero(orderHash);
        if (block.timestamp < order.start) revert OrderNotStarted(orderHash, order.start);
        if (block.timestamp >= order.expiry) revert OrderExpired(orderHash, order.expiry);
        uint256 current = _counters[order.signer];
        if (order.counter != current) revert OrderCounterStale(orderHash, order.counter, current);
        OrderState storage state = _orders[orderHash];
        if (state.cancelled) revert OrderIsCancelled(orderHash);
        filled = state.filled;
        uint256 remaining = quantity - filled;
        if (amount > remaining) revert OrderFillExceedsRemaining(orderHash, amount, remaining);
        if (!SignatureChecker.isValidSignatureNowCalldata(order.signer, orderHash, signature)) {
            revert OrderSignatureInvalid(orderHash, order.signer);
        }
    }

    /// @dev The price of a fill of `amount` units of listing `order`; reverts with
    ///      OrderSideMismatch when `order` is not a listing, OrderValueOverflow when it overflows.
    function _listingPrice(Order calldata order, uint256 amount) internal pure returns (uint256) {
        if (order.side != OrderSide.Listing) revert OrderSideMismatch(OrderSide.Listing, order.side);
        return _orderPrice(order.unitPrice, amount);
    }

    /// @dev `unitPrice * amount`, reverting with OrderValueOverflow instead of a bare panic.
    function _orderPrice(uint256 unitPrice, uint256 amount) internal pure returns (uint256 price) {
        unchecked {
            price = unitPrice * amount;
            if (unitPrice != 0 && price / unitPrice != amount) revert OrderValueOverflow(unitPrice, amount);
        }
    }

    /// @dev One listing fill, shared by fillListing and fillListings: every order check, the trade
    ///      guards, the quote, then the effects (fill recorded, fee credited, event) and last the
    ///      interactions (token to the caller, payouts). The caller has checked the side and that
    ///      msg.value covers the ETH due; ETH payouts come out of this contract's balance.
    function _fillListing(
        Order calldata order,
        bytes calldata signature,
        uint256 amount,
        uint256 price,
        uint256 feeBps
    ) internal returns (bytes32 orderHash) {
        address seller = order.signer;
        uint256 filled;
        (orderHash, filled) = _checkOrder(order, signature, amount);
        if (msg.sender == seller) revert OrderSelfFill(orderHash, seller);
        _checkHoldingEpoch(order, orderHash);
        _checkTrade(order.token, order.currency, order.unitPrice, seller, msg.sender);
        Payout memory payout = _quote(order.token, order.tokenId, price, feeBps, _BPS);

        _recordFill(orderHash, filled + amount);
        if (order.currency == address(0)) _creditFee(payout.fee);
        _emitFilled(orderHash, order, seller, msg.sender, amount, payout);

        _moveToken(order.standard, order.token, seller, msg.sender, order.tokenId, amount);
        _pay(order.currency, msg.sender, seller, payout);
    }

    function _emitFilled(
        bytes32 orderHash,
        Order calldata order,
        address seller,
        address buyer,
        uint256 amount,
        Payout memory payout
    ) internal {
        // emit OrderFilled(orderHash, seller, buyer, order.side, order.token, order.tokenId, amount,
        //     order.unitPrice, order.currency, payout.royaltyReceiver, payout.royalty, payout.fee),
        // encoded by hand from the order's calldata words (a signed order: its words are what the
        // signer signed) without Solidity's per-field re-encoding.
        bytes32 topic = OrderFilled.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40) // scratch: the free memory pointer is not advanced
            mstore(ptr, calldataload(order)) // side
            calldatacopy(add(ptr, 0x20), add(order, 0x40), 0x40) // token, tokenId
            mstore(add(ptr, 0x60), amount)
            mstore(add(ptr, 0x80), calldataload(add(order, 0xc0))) // unitPrice
            mstore(add(ptr, 0xa0), calldataload(add(order, 0xe0))) // currency
            mstore(add(ptr, 0xc0), mload(payout)) // royaltyReceiver
            mstore(add(ptr, 0xe0), mload(add(payout, 0x20))) // royalty
            mstore(add(ptr, 0x100), mload(add(payout, 0x40))) // fee
            log4(ptr, 0x120, topic, orderHash, seller, buyer)
        }
    }

    /// @dev Effect: `orderHash` is now filled up to `filled` units (a whole-slot write: _checkOrder
    ///      established it is not cancelled). The cast is exact: _checkOrder bounds `filled` by the
    ///      order's quantity, itself at most type(uint248).max.
    function _recordFill(bytes32 orderHash, uint256 filled) internal {
        _orders[orderHash] = OrderState({cancelled: false, filled: uint248(filled)});
    }

    // ================================================================== internals: guards

    /// @dev Halt, price band and identities for a trade of `collection` at `unitPrice` in `currency`.
    function _checkTrade(address collection, address currency, uint256 unitPrice, address seller, address buyer)
        internal
        view
    {
        CollectionPolicy memory policy = _policies[collection];
        if (policy.halted) revert CollectionHalted(collection);
        if (policy.bandCount != 0) _checkBand(collection, currency, unitPrice);
        if (policy.identityRequired) {
            _requireVerified(seller);
            _requireVerified(buyer);
        }
    }

    function _checkCollection(address collection) internal view {
        if (_policies[collection].halted) revert CollectionHalted(collection);
    }

    function _checkIdentity(address collection, address account) internal view {
        if (_policies[collection].identityRequired) _requireVerified(account);
    }

    function _checkBand(address collection, address currency, uint256 unitPrice) internal view {
        PriceBandConfig memory band = _bands[collection][currency];
        if (band.referencePrice == 0) return;
        (uint256 low, uint256 high) = priceBand(collection, currency);
        if (unitPrice < low || unitPrice > high) revert PriceOutsideBand(collection, unitPrice, low, high);
    }

    function _requireVerified(address account) internal view {
        IIdentityRegistry registry = _identityRegistry;
        if (address(registry) == address(0)) revert IdentityRegistryUnset();
        if (!registry.isVerified(account)) revert IdentityNotVerified(account);
    }

    // ================================================================== internals: money and tokens

    /// @dev Split `price`: ERC-2981 royalty (none when the collection has no royaltyInfo or names
    ///      no receiver), platform fee, and the rest to the seller. The royalty is capped twice, so
    ///      a collection owner who raises it cannot make a sale revert (and, for an auction, hold
    ///      the bid hostage): at `royaltyCapBps` of the price (an auction's royalty at creation;
    ///      _BPS for orders) and at what the fee leaves (the seller then gets nothing).
    function _quote(address collection, uint256 tokenId, uint256 price, uint256 feeBps, uint256 royaltyCapBps)
        internal
        view
        returns (Payout memory payout)
    {
        uint256 fee = price * feeBps / _BPS;
        payout.fee = fee;
        (address receiver, uint256 royalty) = _royaltyInfo(collection, tokenId, price);
        // Unchecked: fee <= price (feeBps <= MAX_FEE_BPS < _BPS) and royalty <= price - fee.
        unchecked {
            uint256 available = price - fee;
            if (receiver != address(0) && royalty != 0) {
                if (royaltyCapBps < _BPS) {
                    uint256 cap = price * royaltyCapBps / _BPS;
                    if (royalty > cap) royalty = cap;
                }
                if (royalty > available) royalty = available;
                payout.royaltyReceiver = receiver;
                payout.royalty = royalty;
                available -= royalty;
            }
            payout.sellerProceeds = available;
        }
    }

    /// @dev The royalty of `collection`'s `tokenId` in basis points (its royaltyInfo on a price of
    ///      _BPS, at most _BPS): the royalty an auction's seller accepts when creating it.
    function _royaltyBpsOf(address collection, uint256 tokenId) internal view returns (uint16) {
        (address receiver, uint256 royalty) = _royaltyInfo(collection, tokenId, _BPS);
        if (receiver == address(0)) return 0;
        return uint16(royalty > _BPS ? _BPS : royalty);
    }

    /// @dev ERC-2981 `royaltyInfo(tokenId, price)` of `collection`, or (0, 0) when it has none: the
    ///      call reverts, answers fewer than 64 bytes, or names a malformed address. Decoded from
    ///      the scratch space, without copying the return data.
    function _royaltyInfo(address collection, uint256 tokenId, uint256 price)
        internal
        view
        returns (address receiver, uint256 royalty)
    {
        bytes4 selector = IERC2981.royaltyInfo.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), tokenId)
            mstore(add(ptr, 0x24), price)
            let ok := staticcall(gas(), collection, ptr, 0x44, 0x00, 0x40)
            if and(ok, gt(returndatasize(), 0x3f)) {
                receiver := mload(0x00)
                royalty := mload(0x20)
                if shr(160, receiver) {
                    receiver := 0
                    royalty := 0
                }
            }
        }
    }

    /// @dev Effect of an ETH sale: the platform fee accrues to the treasury in the configuration
    ///      slot (already read by the pause check, so this costs one 2,900-gas write; a push to the
    ///      treasury would cost ~9,300 and a credit in a mapping ~5,000). An accrual that would
    ///      overflow uint72 (4,722 ETH) spills into the treasury's credit first. The fee is in the
    ///      sale's event, so no PaymentCredited is emitted for it.
    function _creditFee(uint256 fee) internal {
        if (fee == 0) return;
        uint256 config;
        assembly ("memory-safe") {
            config := sload(_accruedFees.slot)
        }
        uint256 shift = _ACCRUED_SHIFT;
        uint256 accrued = (config >> shift) + fee;
        if (accrued > type(uint72).max) {
            _credits[address(uint160(config))] += accrued;
            accrued = 0;
        }
        config = (config & ((1 << shift) - 1)) | (accrued << shift);
        assembly ("memory-safe") {
            sstore(_accruedFees.slot, config)
        }
    }

    /// @dev The platform fee of a trade, read with the pause flag in one load of the configuration
    ///      slot; reverts with EnforcedPause while paused.
    function _tradingFeeBps() internal view returns (uint256 feeBps) {
        uint256 config;
        assembly ("memory-safe") {
            config := sload(treasury.slot)
        }
        if ((config >> _PAUSED_SHIFT) & 0xff != 0) revert EnforcedPause();
        feeBps = (config >> _FEE_SHIFT) & 0xffff;
    }

    /// @dev Pay a quoted sale. ETH (held by this contract: msg.value or an auction's high bid):
    ///      the royalty and the seller's proceeds are pushed with a bounded stipend (credited if
    ///      the push fails); the fee was accrued by _creditFee. An ERC-20 price is pulled from
    ///      `payer` into this contract (balance-checked), then each payee's part is sent out with
    ///      a caught transfer and credited per currency if the token refuses it.
    function _pay(address currency, address payer, address seller, Payout memory payout) internal {
        if (currency == address(0)) {
            _sendEth(payout.royaltyReceiver, payout.royalty);
            _sendEth(seller, payout.sellerProceeds);
        } else {
            _pullErc20(currency, payer, payout.royalty + payout.fee + payout.sellerProceeds);
            _sendErc20(currency, payout.royaltyReceiver, payout.royalty);
            _sendErc20(currency, treasury, payout.fee);
            _sendErc20(currency, seller, payout.sellerProceeds);
        }
    }

    /// @dev Push `amount` wei to `to` with PAYOUT_GAS and no return data copied; credit it on failure.
    function _sendEth(address to, uint256 amount) internal {
        if (amount == 0) return;
        bool ok;
        assembly ("memory-safe") {
            ok := call(PAYOUT_GAS, to, amount, 0, 0, 0, 0)
        }
        if (!ok) _credit(to, amount);
    }

    function _credit(address payee, uint256 amount) internal {
        _credits[payee] += amount;
        emit PaymentCredited(payee, amount);
    }

    /// @dev transferFrom `from` to this contract, then check it received exactly `amount`.
    function _pullErc20(address currency, address from, uint256 amount) internal {
        IERC20 token = IERC20(currency);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(from, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert PaymentShortfall(currency, address(this), amount, received);
    }

    /// @dev Send `amount` of `currency` held here to `to`; credit it (per currency) when the token
    ///      refuses the transfer, so a payee the token blocks cannot block the sale.
    function _sendErc20(address currency, address to, uint256 amount) internal {
        if (amount == 0) return;
        if (!IERC20(currency).trySafeTransfer(to, amount)) {
            _erc20Credits[currency][to] += amount;
            emit Erc20PaymentCredited(currency, to, amount);
        }
    }

    function _moveToken(TokenStandard standard, address token, address from, address to, uint256 tokenId, uint256 amount)
        internal
    {
        if (standard == TokenStandard.ERC721) {
            IERC721(token).safeTransferFrom(from, to, tokenId);
        } else {
            IERC1155(token).safeTransferFrom(from, to, tokenId, amount, "");
        }
    }

    /// @dev Send an auction's lot to `recipient`; a recipient that rejects it cannot block the
    ///      settlement: the lot is held for claimLot instead.
    function _deliverLot(uint256 auctionId, Auction storage a, address recipient) internal {
        address token = a.token;
        bool delivered = false;
        if (a.standard == TokenStandard.ERC721) {
            try IERC721(token).safeTransferFrom(address(this), recipient, a.tokenId) {
                delivered = true;
            } catch {}
        } else {
            try IERC1155(token).safeTransferFrom(address(this), recipient, a.tokenId, a.quantity, "") {
                delivered = true;
            } catch {}
        }
        if (!delivered) {
            a.lotHeld = true;
            emit LotHeld(auctionId, recipient);
        }
    }

    function _minimumBid(Auction storage a) internal view returns (uint256) {
        uint256 current = a.highBid;
        if (a.highBidder == address(0)) return a.reservePrice == 0 ? 1 : a.reservePrice;
        uint256 byBps = current * a.minIncrementBps / _BPS;
        uint256 increment = byBps > a.minIncrementWei ? byBps : a.minIncrementWei;
        return current + (increment == 0 ? 1 : increment);
    }

    function _withdraw(address payable to) internal {
        uint256 amount = _credits[msg.sender];
        if (msg.sender == treasury) {
            amount += _accruedFees;
            _accruedFees = 0;
        }
        if (amount == 0) revert WithdrawalNothingOwed(msg.sender);
        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert WithdrawalFailed(msg.sender, to, amount);
    }

    function _setPlatformFee(uint16 feeBps) internal {
        if (feeBps > MAX_FEE_BPS) revert PlatformFeeTooHigh(feeBps, MAX_FEE_BPS);
        platformFeeBps = feeBps;
        emit PlatformFeeSet(feeBps);
    }

    /// @dev Fees accrued to the outgoing treasury stay its own: they move to its credit.
    function _setTreasury(address treasury_) internal {
        if (treasury_ == address(0)) revert TreasuryZeroAddress();
        uint256 accrued = _accruedFees;
        if (accrued != 0) {
            _credits[treasury] += accrued;
            _accruedFees = 0;
        }
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }
}
