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
import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";
import {IMarketplace} from "../interfaces/IMarketplace.sol";

/// @title Marketplace
/// @notice Signed listings and offers, English auctions, and the trading guards of Chainright.
/// @dev Orders are EIP-712 typed data bound to this deployment (name "Chainright Marketplace",
///      version "1", chain id, this address) and to the signer's counter. Prices are per unit.
///      Every state-changing entry point is nonReentrant (transient-storage guard) and follows
///      checks, effects, interactions: an order's fill is recorded before any token or payment
///      moves. ETH payouts go out with a bounded gas stipend; a payee that rejects them (or burns
///      the stipend) is credited in `pendingWithdrawals` instead, so no payee can block a sale.
///      ERC-20 payments move from the buyer straight to each payee (SafeERC20) and each leg is
///      balance-checked, so a token that lies about transfers or takes a fee reverts the fill.
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

    bytes32 public constant LISTING_TYPEHASH = keccak256(
        "Listing(address seller,address token,uint256 tokenId,uint8 standard,uint256 quantity,uint256 unitPrice,"
        "address currency,uint64 start,uint64 expiry,uint256 salt,uint256 counter)"
    );
    bytes32 public constant OFFER_TYPEHASH = keccak256(
        "Offer(address buyer,address token,uint256 tokenId,uint8 standard,uint256 quantity,uint256 unitPrice,"
        "address currency,uint64 start,uint64 expiry,uint256 salt,uint256 counter)"
    );

    uint256 private constant _BPS = 10_000;

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

    // The treasury, the fee and the pause flag share one slot: a fill reads it once.
    /// @inheritdoc IMarketplace
    address public treasury;
    /// @inheritdoc IMarketplace
    uint16 public platformFeeBps;
    /// @inheritdoc IMarketplace
    bool public paused;
    IIdentityRegistry private _identityRegistry;
    /// @inheritdoc IMarketplace
    uint256 public nextAuctionId = 1;

    /// @inheritdoc IMarketplace
    mapping(address payee => uint256 amount) public pendingWithdrawals;

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
        whenNotPaused
        returns (bytes32 orderHash)
    {
        uint256 expectedValue = _listingValue(order, amount);
        if (msg.value != expectedValue) revert PaymentValueMismatch(expectedValue, msg.value);
        orderHash = _fillListing(order, signature, amount);
    }

    /// @inheritdoc IMarketplace
    function fillListings(Order[] calldata orders, bytes[] calldata signatures, uint256[] calldata amounts)
        external
        payable
        nonReentrant
        whenNotPaused
        returns (bytes32[] memory orderHashes)
    {
        uint256 count = orders.length;
        if (count == 0) revert BatchEmpty();
        if (count > MAX_BATCH_FILLS) revert BatchTooLarge(count, MAX_BATCH_FILLS);
        if (signatures.length != count || amounts.length != count) {
            revert BatchLengthMismatch(count, signatures.length, amounts.length);
        }
        // Checks first: the ETH due for the whole cart, before any fill moves value.
        uint256 expectedValue = 0;
        for (uint256 i = 0; i < count; ++i) {
            expectedValue += _listingValue(orders[i], amounts[i]);
        }
        if (msg.value != expectedValue) revert PaymentValueMismatch(expectedValue, msg.value);

        orderHashes = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            orderHashes[i] = _fillListing(orders[i], signatures[i], amounts[i]);
        }
    }

    /// @inheritdoc IMarketplace
    function fillOffer(Order calldata order, bytes calldata signature, uint256 amount)
        external
        nonReentrant
        whenNotPaused
        returns (bytes32 orderHash)
    {
        if (order.side != OrderSide.Offer) revert OrderSideMismatch(OrderSide.Offer, order.side);
        address buyer = order.signer;
        uint256 price = order.unitPrice * amount;

        uint256 filled;
        (orderHash, filled) = _checkOrder(order, signature, amount);
        if (order.currency == address(0)) revert OfferCurrencyNotErc20(orderHash);
        _checkTrade(order.token, order.currency, order.unitPrice, msg.sender, buyer);
        Payout memory payout = _quote(order.token, order.tokenId, price, platformFeeBps);

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
        if (winner != address(0)) payout = _quote(token, a.tokenId, amount, a.feeBps);

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

    /// @dev EIP-712 struct hash, then digest. An Order is twelve static words in calldata: `side`
    ///      followed by the signed fields in type order, so copying them and overwriting the first
    ///      word with the side's type hash gives exactly `abi.encode(TYPEHASH, signer, ..., counter)`.
    ///      Copying skips ABI re-validation: an order with dirty high bits hashes to an id no
    ///      wallet signs, and any fill of it reverts when Solidity reads the dirty field.
    function _hashOrder(Order calldata order) internal view returns (bytes32) {
        bytes32 typeHash = order.side == OrderSide.Listing ? LISTING_TYPEHASH : OFFER_TYPEHASH;
        bytes32 structHash;
        assembly ("memory-safe") {
            let ptr := mload(0x40) // scratch: the free memory pointer is not advanced
            calldatacopy(ptr, order, 0x180)
            mstore(ptr, typeHash)
            structHash := keccak256(ptr, 0x180)
        }
        return _hashTypedDataV4(structHash);
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

    /// @dev The ETH a fill of `amount` units of listing `order` must bring (0 when it is paid in an
    ///      ERC-20); reverts with OrderSideMismatch when `order` is not a listing.
    function _listingValue(Order calldata order, uint256 amount) internal pure returns (uint256) {
        if (order.side != OrderSide.Listing) revert OrderSideMismatch(OrderSide.Listing, order.side);
        return order.currency == address(0) ? order.unitPrice * amount : 0;
    }

    /// @dev One listing fill, shared by fillListing and fillListings: every order check, the trade
    ///      guards, the quote, then the effects (fill recorded, fee credited, event) and last the
    ///      interactions (token to the caller, payouts). The caller has checked the side and that
    ///      msg.value covers the ETH due; ETH payouts come out of this contract's balance.
    function _fillListing(Order calldata order, bytes calldata signature, uint256 amount)
        internal
        returns (bytes32 orderHash)
    {
        address seller = order.signer;
        uint256 filled;
        (orderHash, filled) = _checkOrder(order, signature, amount);
        _checkTrade(order.token, order.currency, order.unitPrice, seller, msg.sender);
        Payout memory payout = _quote(order.token, order.tokenId, order.unitPrice * amount, platformFeeBps);

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
        emit OrderFilled(
            orderHash, seller, buyer, order.side, order.token, order.tokenId, amount, order.unitPrice, order.currency,
            payout.royaltyReceiver, payout.royalty, payout.fee
        );
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
    ///      no receiver), platform fee, and the rest to the seller. Reverts with
    ///      RoyaltyExceedsProceeds when the royalty exceeds what is left after the fee.
    function _quote(address collection, uint256 tokenId, uint256 price, uint256 feeBps)
        internal
        view
        returns (Payout memory payout)
    {
        payout.fee = price * feeBps / _BPS;
        (address receiver, uint256 royalty) = _royaltyInfo(collection, tokenId, price);
        if (receiver != address(0) && royalty != 0) {
            uint256 available = price - payout.fee;
            if (royalty > available) revert RoyaltyExceedsProceeds(receiver, royalty, available);
            payout.royaltyReceiver = receiver;
            payout.royalty = royalty;
        }
        payout.sellerProceeds = price - payout.fee - payout.royalty;
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

    /// @dev Effect of an ETH sale: the platform fee is credited to the treasury's
    ///      pendingWithdrawals, which it withdraws in bulk (a push would cost every buyer ~4,400
    ///      gas more). The fee is in the sale's event, so no PaymentCredited is emitted for it.
    function _creditFee(uint256 fee) internal {
        if (fee != 0) pendingWithdrawals[treasury] += fee;
    }

    /// @dev Pay a quoted sale. ETH (held by this contract: msg.value or an auction's high bid):
    ///      the royalty and the seller's proceeds are pushed with a bounded stipend (credited if
    ///      the push fails); the fee was credited by _creditFee. An ERC-20 moves from `payer`
    ///      straight to each payee, treasury included.
    function _pay(address currency, address payer, address seller, Payout memory payout) internal {
        if (currency == address(0)) {
            _sendEth(payout.royaltyReceiver, payout.royalty);
            _sendEth(seller, payout.sellerProceeds);
        } else {
            _pullErc20(currency, payer, payout.royaltyReceiver, payout.royalty);
            _pullErc20(currency, payer, treasury, payout.fee);
            _pullErc20(currency, payer, seller, payout.sellerProceeds);
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
        pendingWithdrawals[payee] += amount;
        emit PaymentCredited(payee, amount);
    }

    /// @dev transferFrom `from` to `to`, then check `to` received exactly `amount`.
    function _pullErc20(address currency, address from, address to, uint256 amount) internal {
        if (amount == 0 || from == to) return;
        IERC20 token = IERC20(currency);
        uint256 before = token.balanceOf(to);
        token.safeTransferFrom(from, to, amount);
        uint256 received = token.balanceOf(to) - before;
        if (received != amount) revert PaymentShortfall(currency, to, amount, received);
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
        uint256 amount = pendingWithdrawals[msg.sender];
        if (amount == 0) revert WithdrawalNothingOwed(msg.sender);
        pendingWithdrawals[msg.sender] = 0;
        emit Withdrawn(msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert WithdrawalFailed(msg.sender, to, amount);
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
