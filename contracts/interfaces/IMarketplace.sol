// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IMarketplace
/// @notice Chainright's marketplace: EIP-712 signed listings and offers for ERC-721 and ERC-1155
///         tokens, English auctions in ETH, and the on-chain guards (identity, price band, halt,
///         pause) that an off-chain circuit breaker drives.
/// @dev Prices in orders are per unit: a fill of `amount` units costs `unitPrice * amount`.
///      Every sale pays the ERC-2981 royalty (when the collection has one; capped at what the fee
///      leaves, and for an auction at the royalty of its creation) and the platform fee out of the
///      price; the seller gets the rest. ETH payouts that fail are credited to
///      `pendingWithdrawals` (pull) so that no payee can block a sale.
interface IMarketplace {
    // ------------------------------------------------------------------ types

    /// @notice Which side signed the order: the seller (a listing) or the buyer (an offer).
    enum OrderSide {
        Listing,
        Offer
    }

    /// @notice The token standard of the traded token.
    enum TokenStandard {
        ERC721,
        ERC1155
    }

    /// @notice A signed order. Signed as EIP-712 `Listing(address seller,...,uint256 holdingEpoch)`
    ///         when `side` is Listing and `Offer(address buyer,...,uint256 counter)` when it is
    ///         Offer (without `holdingEpoch`, which offers ignore); `side` itself is not a field of
    ///         the signed struct, it selects the struct type.
    /// @dev Field order after `side` is the EIP-712 field order (see LISTING_TYPEHASH).
    struct Order {
        OrderSide side;
        address signer; // the seller of a listing, the buyer of an offer
        address token; // the collection
        uint256 tokenId;
        TokenStandard standard;
        uint256 quantity; // units offered (1 for ERC-721); ERC-1155 orders fill partially
        uint256 unitPrice; // price per unit in `currency`
        address currency; // address(0) = ETH (listings only), else an ERC-20
        uint64 start; // first second the order can be filled
        uint64 expiry; // first second the order can no longer be filled
        uint256 salt;
        uint256 counter; // the signer's counter at signing; a bump invalidates the order
        // Listings only (not a field of the signed Offer): the collection's holdingEpoch(seller,
        // tokenId) at signing (IHoldingEpoch); the listing fills only while it is unchanged, so a
        // listing whose token left the seller never fills again, even when the token comes back.
        uint256 holdingEpoch;
    }

    /// @notice How a sale's price was split.
    struct Payout {
        address royaltyReceiver;
        uint256 royalty;
        uint256 fee;
        uint256 sellerProceeds;
    }

    /// @notice Life cycle of an auction.
    enum AuctionStatus {
        None,
        Open,
        Settled,
        Cancelled
    }

    /// @notice What a seller chooses when creating an auction.
    struct AuctionParams {
        address token;
        TokenStandard standard;
        uint256 tokenId;
        uint96 quantity; // 1 for ERC-721
        uint128 reservePrice; // the first bid must be at least this (and at least 1 wei)
        uint128 minIncrementWei; // each later bid beats the last by at least this ...
        uint16 minIncrementBps; // ... and by at least this share of the last bid
        uint40 start; // 0 = now
        uint40 end;
        uint32 extension; // a bid in the last `extension` seconds moves the end to bid time + extension
    }

    /// @notice An auction as stored (packed).
    struct Auction {
        address seller;
        uint40 start;
        uint40 end;
        AuctionStatus status;
        address token;
        TokenStandard standard;
        uint32 extension;
        uint16 minIncrementBps;
        uint16 feeBps; // the platform fee at creation: the seller's terms do not change mid-auction
        bool lotHeld; // the lot could not be delivered at settlement; its recipient claims it
        uint16 royaltyBps; // the collection's royalty at creation: settlement pays at most this
        uint256 tokenId;
        address highBidder;
        uint96 quantity;
        uint128 highBid;
        uint128 reservePrice;
        uint128 minIncrementWei;
    }

    // ------------------------------------------------------------------ events

    /// @notice Emitted when `amount` units of the order `orderHash` were filled.
    event OrderFilled(
        bytes32 indexed orderHash,
        address indexed seller,
        address indexed buyer,
        OrderSide side,
        address token,
        uint256 tokenId,
        uint256 amount,
        uint256 unitPrice,
        address currency,
        address royaltyReceiver,
        uint256 royalty,
        uint256 fee
    );
    /// @notice Emitted when `signer` cancelled the order `orderHash`.
    event OrderCancelled(bytes32 indexed orderHash, address indexed signer);
    /// @notice Emitted when `signer` bumped its counter to `newCounter`, invalidating all older orders.
    event CounterIncremented(address indexed signer, uint256 newCounter);
    /// @notice Emitted when an ETH payout to `payee` failed and was credited for `withdraw()`.
    event PaymentCredited(address indexed payee, uint256 amount);
    /// @notice Emitted when `payee` withdrew `amount` of its credit to `to`.
    event Withdrawn(address indexed payee, address indexed to, uint256 amount);
    /// @notice Emitted when an ERC-20 payout to `payee` was refused by the token and credited for
    ///         `withdrawErc20(currency, to)`.
    event Erc20PaymentCredited(address indexed currency, address indexed payee, uint256 amount);
    /// @notice Emitted when `payee` withdrew `amount` of its `currency` credit to `to`.
    event Erc20Withdrawn(address indexed currency, address indexed payee, address to, uint256 amount);

    /// @notice Emitted when `seller` escrowed a lot and opened auction `auctionId`.
    event AuctionCreated(
        uint256 indexed auctionId,
        address indexed seller,
        address indexed token,
        uint256 tokenId,
        uint96 quantity,
        uint128 reservePrice,
        uint40 start,
        uint40 end
    );
    /// @notice Emitted when `bidder` became the high bidder with `amount`; `end` is the (possibly extended) end.
    event BidPlaced(uint256 indexed auctionId, address indexed bidder, uint256 amount, uint40 end);
    /// @notice Emitted when auction `auctionId` was settled; `winner` is address(0) when there was no bid.
    event AuctionSettled(
        uint256 indexed auctionId,
        address indexed winner,
        uint256 amount,
        address royaltyReceiver,
        uint256 royalty,
        uint256 fee
    );
    /// @notice Emitted when the seller cancelled auction `auctionId` before any bid.
    event AuctionCancelled(uint256 indexed auctionId);
    /// @notice Emitted when auction `auctionId`, unsettled SETTLEMENT_GRACE after its end, was
    ///         unwound: `bid` credited back to `bidder` (address(0): none), the lot back to the seller.
    event AuctionUnwound(uint256 indexed auctionId, address indexed bidder, uint256 bid);
    /// @notice Emitted when a lot could not be delivered to `recipient` and is held for `claimLot`.
    event LotHeld(uint256 indexed auctionId, address indexed recipient);
    /// @notice Emitted when `recipient` claimed a held lot to `to`.
    event LotClaimed(uint256 indexed auctionId, address indexed recipient, address to);

    /// @notice Emitted when `account` paused trading.
    event Paused(address account);
    /// @notice Emitted when `account` resumed trading.
    event Unpaused(address account);
    /// @notice Emitted when the platform fee changed.
    event PlatformFeeSet(uint16 feeBps);
    /// @notice Emitted when the treasury changed.
    event TreasurySet(address indexed treasury);
    /// @notice Emitted when the identity registry changed (address(0): none).
    event IdentityRegistrySet(address indexed registry);
    /// @notice Emitted when a collection's identity requirement changed.
    event IdentityRequirementSet(address indexed collection, bool required);
    /// @notice Emitted when a collection's price band in `currency` changed (referencePrice 0: removed).
    event PriceBandSet(address indexed collection, address indexed currency, uint256 referencePrice, uint16 widthBps);
    /// @notice Emitted when a collection was halted or resumed.
    event CollectionHaltSet(address indexed collection, bool halted);

    // ------------------------------------------------------------------ errors

    /// @notice Trading is paused (fills, auction creation, bids, settlement), or `pause` was called
    ///         while paused.
    error EnforcedPause();
    /// @notice `unpause` was called while trading is not paused.
    error ExpectedPause();
    /// @notice The order is of the other side: an offer passed to a listing fill, or the reverse.
    /// @param expected The side the function fills.
    /// @param actual The side the order names.
    error OrderSideMismatch(OrderSide expected, OrderSide actual);
    /// @notice The signature is not `signer`'s over the order's EIP-712 digest (ECDSA with low s, or
    ///         EIP-1271 for a contract signer).
    error OrderSignatureInvalid(bytes32 orderHash, address signer);
    /// @notice The order is not valid before `start`.
    error OrderNotStarted(bytes32 orderHash, uint64 start);
    /// @notice The order was valid until `expiry`, which has passed.
    error OrderExpired(bytes32 orderHash, uint64 expiry);
    /// @notice The order's signer cancelled it.
    error OrderIsCancelled(bytes32 orderHash);
    /// @notice The order carries `orderCounter`, but its signer has since bumped the counter to
    ///         `currentCounter`.
    error OrderCounterStale(bytes32 orderHash, uint256 orderCounter, uint256 currentCounter);
    /// @notice The order's quantity is zero, too large (over 2^248 - 1), or not 1 for an ERC-721.
    error OrderQuantityInvalid(TokenStandard standard, uint256 quantity);
    /// @notice The order's unit price is zero.
    error OrderPriceZero(bytes32 orderHash);
    /// @notice A fill of zero units.
    error OrderFillAmountZero(bytes32 orderHash);
    /// @notice The fill asks for more units than the order has left (an ERC-721 order filled once has
    ///         none).
    /// @param requested Units asked for.
    /// @param remaining Units still available.
    error OrderFillExceedsRemaining(bytes32 orderHash, uint256 requested, uint256 remaining);
    /// @notice Only an order's signer may cancel it; `caller` is not.
    error OrderCancelUnauthorized(bytes32 orderHash, address caller);
    /// @notice Offers are ERC-20 only; this offer names ETH.
    error OfferCurrencyNotErc20(bytes32 orderHash);
    /// @notice msg.value must equal the ETH due exactly (the price of an ETH fill or the cart's ETH
    ///         total; zero when paying in ERC-20).
    error PaymentValueMismatch(uint256 expected, uint256 sent);
    /// @notice `unitPrice * amount` overflows 256 bits.
    error OrderValueOverflow(uint256 unitPrice, uint256 amount);
    /// @notice A cart needs at least one listing.
    error BatchEmpty();
    /// @notice A cart holds at most `maxCount` (MAX_BATCH_FILLS) listings; it had `count`.
    error BatchTooLarge(uint256 count, uint256 maxCount);
    /// @notice A cart's orders, signatures and amounts must be arrays of one length.
    error BatchLengthMismatch(uint256 orders, uint256 signatures, uint256 amounts);
    /// @notice The ERC-20 `currency` delivered `received` where `expected` was due to `payee` (a token
    ///         that lies about transfers or charges a fee on them).
    error PaymentShortfall(address currency, address payee, uint256 expected, uint256 received);
    /// @notice `account` signed the order and cannot fill it itself (a seller buying its own listing, a
    ///         buyer selling into its own offer).
    error OrderSelfFill(bytes32 orderHash, address account);
    /// @notice The token left the seller since the listing was signed (the collection's holding epoch
    ///         is no longer `signedEpoch`): the listing is dead for good.
    /// @param signedEpoch The epoch the listing signed.
    /// @param currentEpoch The collection's epoch for the seller and token now.
    error ListingHoldingEpochStale(bytes32 orderHash, uint256 signedEpoch, uint256 currentEpoch);
    /// @notice `collection` does not answer `IHoldingEpoch.holdingEpoch`, so none of its listings can
    ///         fill (offers and auctions still work).
    error ListingHoldingEpochUnavailable(address collection);
    /// @notice The risk role halted trading in `collection`.
    error CollectionHalted(address collection);
    /// @notice `price` (per unit) is outside `collection`'s price band [`low`, `high`] in the currency
    ///         of the sale.
    error PriceOutsideBand(address collection, uint256 price, uint256 low, uint256 high);
    /// @notice `collection` requires verified parties and `account` is not verified in the identity
    ///         registry.
    error IdentityNotVerified(address account);
    /// @notice A collection requires verified parties but no identity registry is set.
    error IdentityRegistryUnset();
    /// @notice The platform fee may be at most `maxFeeBps`; `feeBps` was asked for.
    error PlatformFeeTooHigh(uint256 feeBps, uint256 maxFeeBps);
    /// @notice The treasury cannot be the zero address.
    error TreasuryZeroAddress();
    /// @notice A band needs a width of at most 10,000 bps and a reference price below 2^240; a zero
    ///         reference (removal) needs a zero width.
    error PriceBandInvalid(uint256 referencePrice, uint256 widthBps);
    /// @notice `payee` has no credit to withdraw (in the currency asked for).
    error WithdrawalNothingOwed(address payee);
    /// @notice Sending `amount` of `payee`'s credit to `to` failed (the credit is kept).
    error WithdrawalFailed(address payee, address to, uint256 amount);
    /// @notice The marketplace only accepts tokens it pulls itself (an auction's lot); `operator` sent
    ///         one unasked.
    error TokenReceiptUnexpected(address operator);
    /// @notice The auction is not open (`status`: none, settled, cancelled or unwound).
    error AuctionNotOpen(uint256 auctionId, AuctionStatus status);
    /// @notice The auction takes bids from `start` only.
    error AuctionNotStarted(uint256 auctionId, uint40 start);
    /// @notice The auction ended at `end`; no more bids.
    error AuctionAlreadyEnded(uint256 auctionId, uint40 end);
    /// @notice The auction runs until `end`; it cannot be settled before.
    error AuctionNotEnded(uint256 auctionId, uint40 end);
    /// @notice `bid` is below `minimum`: the reserve for a first bid, else the high bid plus the larger
    ///         of the absolute and the relative increment.
    error AuctionBidTooLow(uint256 auctionId, uint256 bid, uint256 minimum);
    /// @notice An auction with a bid cannot be cancelled.
    error AuctionHasBids(uint256 auctionId);
    /// @notice An unsettled auction can be unwound only from `unwindableAt` (its end +
    ///         SETTLEMENT_GRACE).
    error AuctionUnwindTooEarly(uint256 auctionId, uint256 unwindableAt);
    /// @notice Only the auction's seller may cancel it; `caller` is not.
    error AuctionNotSeller(uint256 auctionId, address caller);
    /// @notice The auction must end after it starts and after now.
    error AuctionWindowInvalid(uint40 start, uint40 end);
    /// @notice The lot's quantity is zero, or not 1 for an ERC-721.
    error AuctionQuantityInvalid(TokenStandard standard, uint256 quantity);
    /// @notice Auction `auctionId` has no lot held for `claimLot` (it was delivered, or already
    ///         claimed).
    error LotNotHeld(uint256 auctionId);
    /// @notice Only the recipient the held lot is for may claim it; `caller` is not.
    error LotClaimUnauthorized(uint256 auctionId, address caller);

    // ------------------------------------------------------------------ orders

    /// @notice Buy `amount` units of a signed listing; the tokens go to the caller.
    /// @dev Anyone may call. Pays `unitPrice * amount` in the listing's currency: as msg.value for
    ///      ETH (exactly), else by ERC-20 transferFrom from the caller. Emits OrderFilled (and
    ///      PaymentCredited for a failed ETH payout). Reverts with OrderSideMismatch,
    ///      OrderSignatureInvalid, OrderNotStarted, OrderExpired, OrderIsCancelled,
    ///      OrderCounterStale, OrderQuantityInvalid, OrderPriceZero, OrderFillAmountZero,
    ///      OrderFillExceedsRemaining, OrderSelfFill (the caller is the seller),
    ///      ListingHoldingEpochStale (the token left the seller since signing: the listing is dead),
    ///      ListingHoldingEpochUnavailable (the collection has no IHoldingEpoch), PaymentValueMismatch,
    ///      PaymentShortfall, CollectionHalted, PriceOutsideBand, IdentityNotVerified,
    ///      IdentityRegistryUnset, EnforcedPause, or the token's own error when the seller no
    ///      longer owns or approved it.
    /// @return orderHash The EIP-712 digest of the order (its id).
    function fillListing(Order calldata order, bytes calldata signature, uint256 amount)
        external
        payable
        returns (bytes32 orderHash);

    /// @notice Buy several signed listings in one transaction (a cart); the tokens go to the caller.
    /// @dev All or nothing: every item is settled exactly as fillListing settles it (same checks,
    ///      royalty, fee and payouts, one OrderFilled each, in order), and if any item fails the
    ///      whole call reverts with that item's error. `orders[i]` is bought for `amounts[i]` units
    ///      with `signatures[i]`. msg.value must equal the sum of the ETH items' prices exactly
    ///      (ERC-20 items are pulled from the caller), so no ETH is left behind. The same order may
    ///      appear twice only while units remain (a replayed ERC-721 listing reverts with
    ///      OrderFillExceedsRemaining). Anyone may call. Reverts as fillListing, plus BatchEmpty,
    ///      BatchTooLarge (more than MAX_BATCH_FILLS items) and BatchLengthMismatch.
    /// @return orderHashes The EIP-712 digest of each order, in input order.
    function fillListings(Order[] calldata orders, bytes[] calldata signatures, uint256[] calldata amounts)
        external
        payable
        returns (bytes32[] memory orderHashes);

    /// @notice Sell `amount` units of the token named by a signed offer; the caller is the seller.
    /// @dev Anyone holding the token may call (and must have approved the marketplace). The buyer
    ///      pays in the offer's ERC-20 by transferFrom directly to each payee. Emits OrderFilled.
    ///      Reverts as fillListing (OrderSelfFill: the caller is the offer's buyer; no holding
    ///      epoch check: an offer is for whoever holds the token), plus
    ///      OfferCurrencyNotErc20.
    /// @return orderHash The EIP-712 digest of the order.
    function fillOffer(Order calldata order, bytes calldata signature, uint256 amount)
        external
        returns (bytes32 orderHash);

    /// @notice Cancel orders signed by the caller; a cancelled order can never be filled.
    /// @dev Only each order's signer. Works while paused. Emits OrderCancelled per order.
    ///      Reverts with OrderCancelUnauthorized.
    function cancel(Order[] calldata orders) external;

    /// @notice Invalidate every order the caller signed so far by bumping its counter.
    /// @dev Anyone, for themselves. Works while paused. Emits CounterIncremented.
    /// @return newCounter The counter new orders must carry.
    function incrementCounter() external returns (uint256 newCounter);

    /// @notice Send the caller's credited ETH to the caller.
    /// @dev Emits Withdrawn. Reverts with WithdrawalNothingOwed or WithdrawalFailed. Works while paused.
    function withdraw() external;

    /// @notice Send the caller's credited ETH to `to` (for payees that cannot receive ETH themselves).
    /// @dev As withdraw().
    function withdrawTo(address payable to) external;

    /// @notice Send the caller's credited `currency` (ERC-20 payouts the token refused) to `to`.
    /// @dev Emits Erc20Withdrawn. Reverts with WithdrawalNothingOwed or WithdrawalFailed. Works
    ///      while paused.
    function withdrawErc20(address currency, address to) external;

    /// @notice The order's id: the EIP-712 digest a wallet signs (domain-bound).
    function hashOrder(Order calldata order) external view returns (bytes32);

    /// @notice Whether the order `orderHash` was cancelled and how many units were filled.
    function orderStatus(bytes32 orderHash) external view returns (bool cancelled, uint256 filled);

    /// @notice The counter orders of `signer` must carry to be valid.
    function counterOf(address signer) external view returns (uint256);

    /// @notice ETH credited to `payee` by failed payouts and outbid refunds (for the treasury:
    ///         plus the platform fees accrued since its last withdrawal).
    function pendingWithdrawals(address payee) external view returns (uint256);

    /// @notice `currency` credited to `payee` because the token refused a payout to it.
    function pendingErc20(address currency, address payee) external view returns (uint256);

    /// @notice The EIP-712 domain separator of this deployment on this chain.
    function domainSeparator() external view returns (bytes32);

    // ------------------------------------------------------------------ auctions

    /// @notice Escrow a lot in the marketplace and open an English auction for it, in ETH.
    /// @dev The caller is the seller and must have approved the marketplace. Emits
    ///      AuctionCreated. Reverts with AuctionWindowInvalid, AuctionQuantityInvalid,
    ///      CollectionHalted, IdentityNotVerified, IdentityRegistryUnset, EnforcedPause.
    /// @return auctionId The new auction's id.
    function createAuction(AuctionParams calldata params) external returns (uint256 auctionId);

    /// @notice Bid msg.value on an auction; the previous high bid is credited to its bidder.
    /// @dev Anyone. Emits BidPlaced (and the end moves when the bid falls in the extension
    ///      window). Reverts with AuctionNotOpen, AuctionNotStarted, AuctionAlreadyEnded,
    ///      AuctionBidTooLow, CollectionHalted, PriceOutsideBand, IdentityNotVerified, EnforcedPause.
    function bid(uint256 auctionId) external payable;

    /// @notice Close an auction after its end: the lot to the winner and the price through the
    ///         royalty and fee rules, or the lot back to the seller when nobody bid.
    /// @dev Anyone. Emits AuctionSettled (and LotHeld when the recipient rejects the lot).
    ///      The royalty paid is at most the collection's royalty when the auction was created and
    ///      at most what the fee leaves, so raising the royalty cannot block it. Reverts with
    ///      AuctionNotOpen (e.g. settled twice), AuctionNotEnded, CollectionHalted, EnforcedPause
    ///      (unwindAuction is the way out when those last).
    function settleAuction(uint256 auctionId) external;

    /// @notice Cancel an auction that has no bid yet; the lot goes back to the seller.
    /// @dev Only the seller. Works while paused. Emits AuctionCancelled (and LotHeld).
    ///      Reverts with AuctionNotOpen, AuctionNotSeller, AuctionHasBids.
    function cancelAuction(uint256 auctionId) external;

    /// @notice Unwind an auction nobody settled within SETTLEMENT_GRACE after its end (e.g. the
    ///         collection stayed halted or trading paused): the high bid is credited back to its
    ///         bidder (withdraw()) and the lot goes back to the seller.
    /// @dev Anyone. Works while paused and while the collection is halted: it is the escrow's
    ///      way out when settlement is blocked. Emits AuctionUnwound (and LotHeld, PaymentCredited).
    ///      Reverts with AuctionNotOpen, AuctionUnwindTooEarly.
    function unwindAuction(uint256 auctionId) external;

    /// @notice Claim a lot that could not be delivered at settlement or cancellation, to `to`.
    /// @dev Only the lot's recipient (the winner, or the seller when there was no winner).
    ///      Emits LotClaimed. Reverts with LotNotHeld, LotClaimUnauthorized.
    function claimLot(uint256 auctionId, address to) external;

    /// @notice The stored auction `auctionId`.
    function getAuction(uint256 auctionId) external view returns (Auction memory);

    /// @notice The smallest bid auction `auctionId` accepts now.
    function minimumBid(uint256 auctionId) external view returns (uint256);

    // ------------------------------------------------------------------ guards and admin

    /// @notice Set the platform fee in basis points (at most MAX_FEE_BPS).
    /// @dev Only DEFAULT_ADMIN_ROLE. Emits PlatformFeeSet. Reverts with PlatformFeeTooHigh.
    function setPlatformFee(uint16 feeBps) external;

    /// @notice Set the treasury that receives platform fees.
    /// @dev Only DEFAULT_ADMIN_ROLE. Emits TreasurySet. Reverts with TreasuryZeroAddress.
    function setTreasury(address treasury) external;

    /// @notice Set the identity registry consulted for collections that require verified identities.
    /// @dev Only DEFAULT_ADMIN_ROLE. address(0) removes it. Emits IdentityRegistrySet.
    function setIdentityRegistry(address registry) external;

    /// @notice Require (or stop requiring) verified identities for buyer and seller of `collection`.
    /// @dev Only POLICY_ADMIN_ROLE. Emits IdentityRequirementSet.
    function setIdentityRequired(address collection, bool required) external;

    /// @notice Set the band unit prices of `collection` in `currency` must fall in:
    ///         [reference * (1 - width), reference * (1 + width)]. referencePrice 0 removes it.
    /// @dev Only RISK_ROLE. Emits PriceBandSet. Reverts with PriceBandInvalid (width above 100%).
    function setPriceBand(address collection, address currency, uint256 referencePrice, uint16 widthBps) external;

    /// @notice Halt (or resume) all trading of `collection`.
    /// @dev Only RISK_ROLE. Emits CollectionHaltSet.
    function setHalted(address collection, bool halted) external;

    /// @notice Stop every trading entry point (fills, auction creation, bids, settlement).
    /// @dev Only PAUSER_ROLE. Emits Paused. Reverts with EnforcedPause when already paused.
    ///      Cancellations, counter bumps, auction cancellation, lot claims and withdrawals stay
    ///      open: a pause must never stop users from revoking orders or taking back what is theirs.
    function pause() external;

    /// @notice Resume trading.
    /// @dev Only PAUSER_ROLE. Emits Unpaused. Reverts with ExpectedPause when not paused.
    function unpause() external;

    /// @notice Whether `collection` is halted and whether it requires verified identities.
    function collectionPolicy(address collection) external view returns (bool halted, bool identityRequired);

    /// @notice Receives platform fees (credited in ETH, transferred in ERC-20s).
    function treasury() external view returns (address);

    /// @notice Platform fee in basis points of each sale (auctions keep the fee of their creation).
    function platformFeeBps() external view returns (uint16);

    /// @notice Whether trading is paused.
    function paused() external view returns (bool);

    /// @notice The identity registry consulted for collections that require verified identities.
    function identityRegistry() external view returns (address);

    /// @notice The id the next auction gets (ids start at 1).
    function nextAuctionId() external view returns (uint256);

    /// @notice The band of `collection` in `currency` as (low, high); (0, type(uint256).max) when none.
    function priceBand(address collection, address currency) external view returns (uint256 low, uint256 high);
}
