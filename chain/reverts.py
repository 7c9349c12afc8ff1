"""Every custom error of our contracts as a sentence a person can act on.

``explain(name, args)`` turns a decoded revert (``ErrorDecoder.decode``) into what happened
and what to do, with addresses, ETH amounts and dates written out (``chain.formatting``). The console
command prints it; the API puts it in the ``detail`` of its ``/problems/reverted`` problem documents.

Templates name the error's ABI inputs: ``{price:eth}`` is an amount of wei, ``{expiry:time}`` a unix
time, ``{bps:bps}`` basis points, ``{side:side}`` etc. an enum of ``contracts/interfaces``. A test
checks that every custom error in the compiled ABIs of ``contracts/`` has an entry here, so a new
error cannot reach a user without its sentence.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from typing import Any

from eth_utils.abi import function_abi_to_4byte_selector

from chain.artifacts import abi_type
from chain.formatting import format_time, format_wei

_ENUMS: dict[str, tuple[str, ...]] = {
    "side": ("listing", "offer"),
    "standard": ("ERC-721", "ERC-1155"),
    "status": ("none", "open", "settled", "cancelled"),
    "state": ("none", "funded", "delivered", "disputed", "released", "refunded", "resolved"),
    "direction": ("outbound", "inbound"),
}

OPERATOR = "ask an operator"

SENTENCES: dict[str, str] = {
    # --- access control, pausing and OpenZeppelin internals ---------------------------------------
    "AccessControlBadConfirmation": "a role can only be renounced by its holder for itself; renounce it "
                                    "from the account that holds it",
    "AccessControlUnauthorizedAccount": "{account} lacks the role {neededRole} that this call needs; use "
                                        "an account with that role or ask an operator to grant it",
    "OwnableInvalidOwner": "{owner} cannot be the owner (the zero address); give a real account",
    "OwnableUnauthorizedAccount": "only the contract's owner may do this, not {account}; use the owner's "
                                  "wallet",
    "EnforcedPause": "this contract is paused by an operator; try again once it is unpaused or " + OPERATOR,
    "ExpectedPause": "this contract is not paused, so there is nothing to unpause",
    "ReentrancyGuardReentrantCall": "the contract was called again while it was still running a call "
                                    "(re-entrancy is refused); call it once, not from a callback",
    "SafeCastOverflowedUintDowncast": "the value {value} does not fit in {bits} bits; use a smaller value",
    "SafeERC20FailedOperation": "the token {token} refused or failed a transfer; check your balance and "
                                "allowance of that token",
    "InsufficientBalance": "the contract holds {balance:eth} but needs {needed:eth}; fund it first",
    "FailedDeployment": "creating a contract failed; check the constructor arguments and the gas limit",
    "Create2EmptyBytecode": "there is no bytecode to deploy; rebuild the contracts ('chainright compile')",
    "CloneArgumentsTooLong": "the arguments for the new clone are too long; shorten the name or symbol",
    "InvalidShortString": "a short string (name or symbol) is too long; shorten it",
    "StringTooLong": "the text {str!r} is too long; shorten it",
    # --- ERC-721 / ERC-1155 / ERC-2981 (OpenZeppelin) ------------------------------------------------
    "ERC721IncorrectOwner": "token {tokenId} belongs to {owner}, not {sender}; only its owner (or an "
                            "approved operator) can move it",
    "ERC721InsufficientApproval": "{operator} is not approved to move token {tokenId}; approve it first "
                                  "(for a sale: approve the marketplace)",
    "ERC721InvalidApprover": "{approver} cannot approve for this token; approve from the owner's wallet",
    "ERC721InvalidOperator": "{operator} cannot be an operator; give another address",
    "ERC721InvalidOwner": "{owner} cannot own tokens (the zero address); give a real account",
    "ERC721InvalidReceiver": "{receiver} cannot receive this token (the zero address, or a contract "
                             "without onERC721Received); send it to a wallet",
    "ERC721InvalidSender": "{sender} cannot send this token (it does not exist there)",
    "ERC721NonexistentToken": "token {tokenId} does not exist (never minted, or burned); check the token id",
    "ERC1155InsufficientBalance": "{sender} holds {balance} of token {tokenId} but {needed} are needed; "
                                  "move fewer",
    "ERC1155InvalidApprover": "{approver} cannot approve; approve from the holder's wallet",
    "ERC1155InvalidArrayLength": "{idsLength} token ids but {valuesLength} amounts; give one amount per id",
    "ERC1155InvalidOperator": "{operator} cannot be an operator; give another address",
    "ERC1155InvalidReceiver": "{receiver} cannot receive these tokens (the zero address, or a contract "
                              "without onERC1155Received); send them to a wallet",
    "ERC1155InvalidSender": "{sender} cannot send these tokens",
    "ERC1155MissingApprovalForAll": "{operator} is not approved for the tokens of {owner}; approve it "
                                    "first (for a sale: approve the marketplace)",
    "ERC2981InvalidDefaultRoyalty": "a royalty of {numerator}/{denominator} is more than the whole price; "
                                    "choose at most {denominator:bps}",
    "ERC2981InvalidDefaultRoyaltyReceiver": "the royalty receiver {receiver} is invalid (the zero address); "
                                            "give a real receiver",
    "ERC2981InvalidTokenRoyalty": "a royalty of {numerator}/{denominator} on token {tokenId} is more than "
                                  "the whole price; choose a smaller one",
    "ERC2981InvalidTokenRoyaltyReceiver": "the royalty receiver {receiver} of token {tokenId} is invalid; "
                                          "give a real receiver",
    # --- issuance: collections, editions, rights ----------------------------------------------------
    "CollectionAlreadyInitialized": "this collection is already set up; it cannot be initialized twice",
    "CollectionNotOwner": "{caller} does not own this collection; use the collection owner's wallet",
    "CollectionNotMinter": "{caller} may not mint in this collection; use the owner's wallet or ask the "
                           "owner to make you a minter",
    "CollectionInvalidOwner": "{owner} cannot own a collection (the zero address); give a real account",
    "CollectionRightsRegistryMissing": "this collection has no rights registry, so works cannot be "
                                       "registered; create collections through the platform's factory",
    "CollectionPaused": "this collection is paused by its owner; try again once it is unpaused",
    "CollectionNotPaused": "this collection is not paused, so there is nothing to unpause",
    "CollectionRecipientNotVerified": "{account} has no valid KYC on chain, and this collection only goes "
                                      "to verified holders; apply with 'chainright kyc apply' and wait for "
                                      "approval",
    "CollectionIdentityRegistryMissing": "this collection requires KYC but has no identity registry; "
                                         + OPERATOR,
    "CollectionQuantityZero": "the quantity must be at least 1",
    "CollectionSupplyExhausted": "only {available} can still be minted, not {requested}; mint fewer",
    "CollectionMetadataFrozen": "this collection's metadata is frozen for good; it can no longer change",
    "CollectionHalted": "trading in collection {collection} is halted by the price circuit breaker (prices "
                        "moved too far too fast) {until}; try again later or " + OPERATOR,
    "EditionsAlreadyInitialized": "this editions contract is already set up; it cannot be initialized twice",
    "EditionsNotOwner": "{caller} does not own this editions contract; use the owner's wallet",
    "EditionsNotMinter": "{caller} may not mint these editions; use the owner's wallet",
    "EditionsInvalidOwner": "{owner} cannot own an editions contract (the zero address)",
    "EditionsRightsRegistryMissing": "this editions contract has no rights registry; create it through the "
                                     "platform's factory",
    "EditionsPaused": "these editions are paused by their owner; try again once they are unpaused",
    "EditionsNotPaused": "these editions are not paused, so there is nothing to unpause",
    "EditionsAmountZero": "the amount must be at least 1",
    "EditionsUnknownWork": "edition {id} does not exist; check the id",
    "FactoryCloneExists": "a contract with these parameters already exists at {clone}; use it",
    "FactoryZeroAddress": "an address given to the factory is the zero address; give real addresses",
    "RightsContentHashZero": "the work has no content hash; upload the work first",
    "RightsAlreadyRegistered": "this work (content hash {contentHash}) was already registered by {creator} "
                               "at {registeredAt:time}, as token {tokenId} of {collection}; a work can be "
                               "registered only once (buy or license it instead)",
    "RightsCidMismatch": "the content hash {contentHash} is registered with another CID; mint with the CID "
                         "the upload returned",
    "RightsCollectionUnknown": "{caller} is not a collection of this platform; mint through a collection "
                               "made by the platform's factory",
    "RightsFactoryUnknown": "{caller} is not a factory the rights registry knows; " + OPERATOR,
    "RightsCollectionAlreadyAdded": "collection {collection} is already known to the rights registry",
    "RightsTokenIdTooLarge": "token id {tokenId} is too large for the rights registry; use a smaller id",
    "CidUnsupported": "the CID {cid} is not one the contracts store (CIDv1 with a one-byte codec and "
                      "hash); upload the work through the API to get one",
    # --- identity (KYC) --------------------------------------------------------------------------------
    "IdentityZeroAddress": "the zero address cannot have an identity; give a real account",
    "IdentityLevelZero": "the KYC level of {account} must be at least 1",
    "IdentityCountryInvalid": "{country} is not a two-letter country code (for {account}); use ISO 3166 "
                              "alpha-2, e.g. DE",
    "IdentityExpiryInPast": "the KYC of {account} would expire in the past ({expiresAt:time}); give a "
                            "future date",
    "IdentityAlreadyRegistered": "{account} already has an identity on chain; update or revoke it instead",
    "IdentityNotRegistered": "{account} has no identity on chain; apply for KYC ('chainright kyc apply')",
    "IdentityAlreadyRevoked": "the identity of {account} is already revoked",
    "IdentityBatchLengthMismatch": "the batch has {accounts} accounts, {levels} levels, {countries} "
                                   "countries and {expiries} expiries; give one of each per account",
    "IdentityNotVerified": "{account} has no valid KYC on chain, and this collection trades only between "
                           "verified accounts; apply with 'chainright kyc apply' and wait for approval",
    "IdentityRegistryUnset": "KYC is required here but no identity registry is set; " + OPERATOR,
    # --- licensing ----------------------------------------------------------------------------------
    "LicenseTermsAlreadyPublished": "these license terms ({termsHash}) are already published; attach the "
                                    "published ones",
    "LicenseTermsUnknown": "no license terms {termsHash} are published; publish them first",
    "LicenseTermsShareTooHigh": "a revenue share of {bps:bps} is too high; choose a smaller share",
    "LicenseTermsTerritoryInvalid": "territory #{index} ({code}) is not a two-letter country code",
    "LicenseTermsTerritoriesNotAscending": "territories must be sorted and unique (#{index} is out of "
                                           "order); sort them",
    "LicenseTermsLegalTextMissing": "the license terms have no legal text; give the text's hash and URI",
    "LicenseWorkUnknown": "token {tokenId} of {collection} is not a registered work; mint it through the "
                          "platform first",
    "LicenseNotWorkOwner": "{caller} does not own token {tokenId} of {collection}; only its owner can "
                           "attach license terms",
    "LicenseTermsAlreadyAttached": "these terms are already attached to token {tokenId} of {collection}",
    "LicenseTermsNotAttached": "these terms ({termsHash}) are not offered for token {tokenId} of "
                               "{collection}; pick terms the work offers",
    "LicenseFeeMismatch": "the license costs {expected:eth} but {sent:eth} was sent; send exactly the fee",
    "LicenseGrantUnknown": "license {grantId} does not exist; check the id",
    "LicenseNotRevocable": "license {grantId} cannot be revoked under its terms",
    "LicenseNotTransferable": "license {grantId} cannot be transferred under its terms",
    "LicenseGrantRevoked": "license {grantId} was revoked; it no longer grants anything",
    "LicenseExpired": "license {grantId} expired at {expiredAt:time}; buy a new one",
    "LicenseNotLicensee": "{caller} does not hold license {grantId}; use the licensee's wallet",
    "LicenseRecipientInvalid": "{to} cannot receive a license; give a real account",
    "LicenseNoCredit": "{account} has nothing to withdraw from licensing",
    "LicenseCreditTransferFailed": "paying {amount:eth} to {to} failed (the receiver refused ETH); withdraw "
                                   "to an address that accepts ETH",
    "LicenseUsageUnknown": "usage kind {usage} is unknown; use one the terms define",
    # --- marketplace ----------------------------------------------------------------------------------
    "OrderSideMismatch": "this order is a {actual:side} but a {expected:side} was expected here; use the "
                         "call for that kind of order",
    "OrderSignatureInvalid": "order {orderHash} is not validly signed by {signer}; sign it again with the "
                             "signer's wallet",
    "OrderNotStarted": "order {orderHash} opens only at {start:time}; try again then",
    "OrderExpired": "order {orderHash} expired at {expiry:time}; ask for a new one",
    "OrderIsCancelled": "order {orderHash} was cancelled by its signer; it can no longer be filled",
    "OrderCounterStale": "order {orderHash} was revoked (its signer cancelled all orders signed before; "
                         "counter {orderCounter}, now {currentCounter}); ask for a new one",
    "OrderQuantityInvalid": "a quantity of {quantity} is invalid for an {standard:standard} order "
                            "(ERC-721 orders sell exactly 1)",
    "OrderPriceZero": "order {orderHash} has a price of zero; give a positive price",
    "OrderFillAmountZero": "fill at least 1 of order {orderHash}",
    "OrderFillExceedsRemaining": "only {remaining} of order {orderHash} remain, not {requested}; buy fewer",
    "OrderCancelUnauthorized": "{caller} did not sign order {orderHash}; only its signer can cancel it",
    "OfferCurrencyNotErc20": "offer {orderHash} must be in an ERC-20 token (e.g. WETH), not ETH",
    "PaymentValueMismatch": "the price is {expected:eth} but {sent:eth} was sent; send exactly the price",
    "OrderValueOverflow": "{amount} x {unitPrice:eth} is too large to pay; buy fewer",
    "BatchEmpty": "the batch is empty; give at least one order",
    "BatchTooLarge": "{count} orders in one batch is over the limit of {maxCount}; split the batch",
    "BatchLengthMismatch": "{orders} orders, {signatures} signatures and {amounts} amounts; give one of "
                           "each per order",
    "PaymentShortfall": "{payee} should have received {expected} of {currency:token} but got {received} "
                        "(the token takes a fee or lies about transfers); use another currency",
    "RoyaltyExceedsProceeds": "the royalty of {royalty:eth} to {receiver} exceeds what the sale leaves "
                              "({available:eth}); raise the price or lower the royalty",
    "PriceOutsideBand": "{price:eth} is outside the allowed band for {collection} ({low:eth} to "
                        "{high:eth}) set by the circuit breaker; choose a price within it",
    "PlatformFeeTooHigh": "a platform fee of {feeBps:bps} is over the maximum of {maxFeeBps:bps}",
    "TreasuryZeroAddress": "the treasury cannot be the zero address; give a real account",
    "PriceBandInvalid": "a band of {widthBps:bps} around {referencePrice:eth} is invalid; choose a "
                        "positive reference price and a width below 100%",
    "WithdrawalNothingOwed": "nothing is owed to {payee}; there is nothing to withdraw",
    "WithdrawalFailed": "paying {amount} to {to} for {payee} failed (the receiver refused it); withdraw to "
                        "an address that accepts the payment",
    "TokenReceiptUnexpected": "this contract accepts tokens only from its own auctions, not from "
                              "{operator}; do not send tokens to it directly",
    "AuctionNotOpen": "auction {auctionId} is not open (it is {status:status})",
    "AuctionNotStarted": "auction {auctionId} starts at {start:time}; bid then",
    "AuctionAlreadyEnded": "auction {auctionId} ended at {end:time}; no more bids",
    "AuctionNotEnded": "auction {auctionId} runs until {end:time}; settle it after that",
    "AuctionBidTooLow": "a bid of {bid:eth} on auction {auctionId} is below the minimum of {minimum:eth}; "
                        "bid at least that",
    "AuctionUnwindTooEarly": "auction {auctionId} can be unwound by anyone only from {unwindableAt:time}; "
                             "until then settle it",
    "ListingHoldingEpochStale": "this listing was signed before the token last came to its seller (epoch "
                                "{signedEpoch}, now {currentEpoch}), so it can never fill; ask the seller "
                                "to list again",
    "ListingHoldingEpochUnavailable": "collection {collection} does not count its transfers, so its tokens "
                                      "cannot be sold by listing; make an offer or use an auction instead",
    "OrderSelfFill": "{account} cannot buy from or sell to itself; use another buyer",
    "EscrowAlreadyAccepted": "escrow {escrowId} was already accepted by the seller",
    "EscrowNotAccepted": "the seller has not accepted escrow {escrowId} yet; the seller accepts its terms "
                         "first, then deliveries count",
    "TransferPolicyBridgeForbidden": "token {id} of {collection} is under a jurisdiction profile and "
                                     "cannot leave through the bridge",
    "TransferPolicyHoldingPeriod": "{holder} may pass on token {id} of {collection} only from "
                                   "{allowedAt:time} (the collection's holding period)",
    "TransferPolicyIdentityRegistryMissing": "the transfer policy has no identity registry set; an "
                                             "operator must set it before verified-only profiles work",
    "TransferPolicyNotPlatform": "{caller} is not the platform's transfer policy, so it cannot attach "
                                 "itself to a collection",
    "TransferPolicyNotVerified": "{account} is not a verified identity, and collection {collection} "
                                 "trades between verified identities only; complete KYC first",
    "TransferPolicyResaleForbidden": "collection {collection} allows no resale: token {id} of {holder} "
                                     "cannot be moved by {operator} or sold on a market",
    "AuctionHasBids": "auction {auctionId} already has bids, so it can no longer be cancelled",
    "AuctionNotSeller": "{caller} is not the seller of auction {auctionId}; use the seller's wallet",
    "AuctionWindowInvalid": "an auction from {start:time} to {end:time} is invalid; the end must come "
                            "after the start and lie in the future",
    "AuctionQuantityInvalid": "a quantity of {quantity} is invalid for an {standard:standard} auction",
    "LotNotHeld": "the lot of auction {auctionId} is no longer held by the marketplace",
    "LotClaimUnauthorized": "{caller} may not claim the lot of auction {auctionId}; only the winner (or "
                            "the seller when nobody bid) can",
    # --- escrow -----------------------------------------------------------------------------------------
    "EscrowNotFound": "escrow {escrowId} does not exist; check the id",
    "EscrowMilestoneCountInvalid": "{count} milestones is not allowed (1 to {maxCount})",
    "EscrowPartyInvalid": "{party} cannot be a party to an escrow; give a real account other than yours",
    "EscrowReviewPeriodInvalid": "a review period of {reviewPeriod:secs} is not allowed",
    "EscrowFundingMismatch": "the escrow needs {expected:eth} but {received:eth} was sent; send exactly that",
    "EscrowUnauthorized": "{caller} is not a party of escrow {escrowId}; use a party's wallet",
    "EscrowTermsInvalid": "the escrow terms are invalid (arbitration period {arbitrationPeriod:secs}, "
                          "default seller share {defaultSellerBps:bps}, royalty {royaltyBps:bps} to "
                          "{royaltyReceiver}); check them",
    "MilestoneAmountZero": "milestone #{index} has no amount; give each milestone a positive amount",
    "MilestoneDeadlinePassed": "milestone #{index}'s deadline {deadline:time} has already passed; choose "
                               "a later one",
    "MilestoneNotFound": "escrow {escrowId} has no milestone #{index}",
    "MilestoneStateInvalid": "milestone #{index} of escrow {escrowId} is {state:state}, so this step is "
                             "not possible now",
    "MilestoneDeliveryLate": "milestone #{index} of escrow {escrowId} was due at {deadline:time}; it can "
                             "no longer be delivered",
    "MilestoneDeliveryEmpty": "the delivery of milestone #{index} of escrow {escrowId} is empty; give the "
                              "delivered work's hash",
    "MilestoneDeadlineNotReached": "milestone #{index} of escrow {escrowId} is due only at {deadline:time}; "
                                   "wait until then",
    "MilestoneReviewOpen": "milestone #{index} of escrow {escrowId} is under review until "
                           "{reviewEnds:time}; wait until then",
    "MilestoneReviewClosed": "the review of milestone #{index} of escrow {escrowId} closed at "
                             "{reviewEnds:time}",
    "DisputeSplitInvalid": "a seller share of {sellerBps:bps} is invalid; choose 0% to 100%",
    "DisputeArbitrationOpen": "the dispute over milestone #{index} of escrow {escrowId} is with the "
                              "arbiter until {arbitrationEnds:time}; wait until then",
    # --- royalty splits -------------------------------------------------------------------------------
    "SplitterNotAClone": "call the royalty splitter through its clone, not the implementation",
    "SplitterNotRecipient": "{account} is not a recipient of this royalty split",
    "SplitterNothingToWithdraw": "{account} has nothing to withdraw in {token:token} from this split",
    "SplitterNothingToDistribute": "this split holds no {token:token} to distribute",
    "SplitterPayeeZero": "the payee cannot be the zero address",
    "SplitterEthTransferFailed": "paying {amount:eth} to {to} failed (the receiver refused ETH)",
    "SplitterTokenBalanceTooLow": "the split holds {held} of {token:token}, less than {amount}",
    "SplitterTokenMisbehaved": "the token {token:token} moved {taken} instead of {amount}; it cannot be "
                               "split",
    "SplitterFactoryImplementationHasNoCode": "the splitter implementation {implementation} has no code; "
                                              + OPERATOR,
    "SplitNoRecipients": "a split needs at least one recipient",
    "SplitTooManyRecipients": "{count} recipients is over the limit of {max}",
    "SplitLengthMismatch": "{recipients} recipients but {shares} shares; give one share per recipient",
    "SplitRecipientZero": "recipient #{index} is the zero address; give real accounts",
    "SplitRecipientsNotAscending": "recipients must be sorted by address without repeats (#{index} is "
                                   "out of order)",
    "SplitShareZero": "recipient #{index} has a share of zero; give every recipient a share",
    "SplitSharesTotalWrong": "the shares add up to {total}, not 10000 (100%); fix them",
    # --- bridge -----------------------------------------------------------------------------------------
    "BridgePaused": "the bridge is paused by an operator; try again later or " + OPERATOR,
    "BridgeNotPaused": "the bridge is not paused, so there is nothing to unpause",
    "BridgePeerNotSet": "the bridge has no peer on the other chain yet; " + OPERATOR,
    "BridgePeerInvalid": "{bridge} on chain {chainId} is not a valid bridge peer",
    "BridgeDestinationUnsupported": "chain {destChainId} is not a destination of this bridge; pick a "
                                    "configured chain",
    "BridgeWrongSource": "the message comes from {sourceBridge} on chain {sourceChainId}, not from this "
                         "bridge's peer",
    "BridgeWrongDestination": "the message is for {destBridge} on chain {destChainId}, not for this bridge",
    "BridgeTransferIdInvalid": "transfer {transferId} is not a valid transfer id",
    "BridgeAlreadyProcessed": "transfer {transferId} was already delivered; nothing to do",
    "BridgeSignatureInvalid": "validator signature #{index} is invalid",
    "BridgeSignersNotAscending": "validator signatures must be sorted by signer ({signer} after "
                                "{previous} at #{index})",
    "BridgeSignerNotValidator": "signature #{index} is by {signer}, who is not a validator",
    "BridgeThresholdNotMet": "{signatures} validator signatures, {threshold} needed; wait for more "
                             "validators to sign",
    "BridgeRateLimitExceeded": "the bridge's {direction:direction} limit of {limit} transfers an hour "
                               "is used up; try again after {retryAt:time}",
    "BridgeSenderRateLimitExceeded": "{sender} has used up its bridge budget of {limit} departures an hour; "
                                     "try again after {retryAt:time}",
    "BridgeCollectionRateLimitExceeded": "collection {collection} has used up its bridge budget of {limit} "
                                         "departures an hour; try again after {retryAt:time}",
    "BridgeRateLimitInvalid": "a rate-limit window of {windowSeconds:secs} is invalid",
    "BridgeValidatorInvalid": "validator #{index} ({validator}) is invalid (zero or repeated)",
    "BridgeThresholdInvalid": "a threshold of {threshold} with {validators} validators is invalid",
    "BridgeRecipientZero": "the recipient cannot be the zero address; give a real account",
    "LockboxNotTokenOwner": "{caller} does not own this token ({owner} does); bridge it from the owner's "
                            "wallet",
    "LockboxRightsMismatch": "token {tokenId} of {collection} does not match its rights record "
                             "({contentHash}); only registered works can be bridged",
    "LockboxTokenUriUnsupported": "the token URI {tokenURI!r} cannot be carried across the bridge",
    "LockboxTokenIdTooLarge": "token id {tokenId} is too large to bridge",
    "LockboxRoyaltyUnsupported": "a royalty of {bps:bps} cannot be carried across the bridge",
    "LockboxCustodyNotTaken": "the lockbox did not receive token {tokenId} of {collection}; approve the "
                              "lockbox and try again",
    "LockboxNotLocked": "token {tokenId} of {collection} is not locked in the bridge",
    "LockboxRightsChanged": "the rights of token {tokenId} of {collection} changed while it was away",
    "LockboxRegistryZero": "the lockbox has no rights registry; " + OPERATOR,
    "RemoteWrappedZero": "the remote bridge has no wrapped collection; " + OPERATOR,
    "RemoteSplitterFactoryNotSet": "the remote bridge has no splitter factory; " + OPERATOR,
    "RemoteTokenIdTooLarge": "token id {tokenId} is too large for the remote chain",
    "RemoteNotTokenOwner": "{caller} does not own wrapped token {wrappedTokenId}; bridge it back from the "
                           "owner's wallet",
    "WrappedNotBridge": "only the bridge may mint or burn wrapped tokens, not {caller}",
    "WrappedTokenExists": "wrapped token {wrappedTokenId} already exists",
    "WrappedRightsInvalid": "wrapped token {wrappedTokenId} carries invalid rights data",
    # --- wrapped ETH (the offers' currency) ------------------------------------------------------------
    "WrappedEtherBalanceTooLow": "{account} holds only {balance:eth} of wrapped ETH but {needed:eth} is "
                                 "needed; wrap more ETH first ('chainright trade weth wrap')",
    "WrappedEtherAllowanceTooLow": "{owner} allowed {spender} to move only {allowance:eth} of wrapped ETH "
                                   "but {needed:eth} is needed; approve the marketplace for at least that",
    "WrappedEtherRecipientInvalid": "wrapped ETH cannot be sent to {to}; give a real account",
    "WrappedEtherPayoutFailed": "sending {amount:eth} to {to} failed (it refused ETH); unwrap to an "
                                "account that accepts ETH",
}


# What a sentence may say beyond the error's arguments, when the caller knows more (the API knows until
# when the breaker halts a collection); these are the words used when it does not.
CONTEXT_DEFAULTS: dict[str, str] = {
    "until": "for a cooldown (GET /market/breaker/<chain id>/<collection> says until when)",
}


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "eth":
            return format_wei(int(value))
        if format_spec == "time":
            return format_time(int(value))
        if format_spec == "bps":
            return f"{int(value) / 100:g}%"
        if format_spec == "secs":
            return f"{int(value)} s"
        if format_spec == "token":
            return "ETH" if int(str(value), 16) == 0 else str(value)
        if format_spec in _ENUMS:
            names = _ENUMS[format_spec]
            return names[int(value)] if 0 <= int(value) < len(names) else f"#{int(value)}"
        return str(super().format_field(value, format_spec))


def _plain(value: Any, abi_type: str) -> Any:
    if isinstance(value, (bytes, bytearray)):
        if abi_type == "bytes2":
            try:
                return bytes(value).decode("ascii")
            except UnicodeDecodeError:
                pass
        return "0x" + bytes(value).hex()
    if abi_type == "address":
        from eth_utils.address import to_checksum_address

        return to_checksum_address(value)
    return value


def explain(name: str, args: Sequence[Any] = (), inputs: Sequence[dict[str, Any]] | None = None,
            **context: str) -> str:
    """The sentence for custom error ``name`` with its decoded ``args``; ``inputs`` are its ABI inputs
    (names and types; without them, or for an error with no sentence, it says ``Name(args)``);
    ``context`` fills words the caller knows beyond the arguments (``until``, see CONTEXT_DEFAULTS)."""
    if name == "Error" and args:
        return f"the contract refused: {args[0]}"
    if name == "Panic" and args:
        return f"the contract failed (panic 0x{int(args[0]):02x}); this is a bug, please report it"
    template = SENTENCES.get(name)
    listed = ", ".join(str(_plain(a, i.get("type", ""))) for a, i in
                       zip(args, inputs or [{}] * len(args), strict=False))
    if template is None or (inputs is None and args):
        return f"the contract refused with {name}({listed})"
    values = {**CONTEXT_DEFAULTS, **context,
              **{i["name"]: _plain(a, i["type"]) for a, i in zip(args, inputs or [], strict=False)}}
    try:
        return str(_Formatter().format(template, **values))
    except (KeyError, IndexError, ValueError):
        return f"the contract refused with {name}({listed})"


def explain_exception(exc: Exception, abis: Sequence[list[dict[str, Any]]] | None = None) -> str:
    """What to tell a person about ``exc``: for a revert with known revert data, its sentence (and the
    transaction, if one was mined); otherwise the exception's own message."""
    from chain.errors import TransactionRevertedError

    if not isinstance(exc, TransactionRevertedError) or not exc.revert_data:
        return str(exc)
    decoder = ErrorDecoder(abis if abis is not None else platform_abis())
    if decoder.decode(exc.revert_data) is None:
        return str(exc)
    where = f" (transaction {exc.tx_hash})" if exc.tx_hash else ""
    return decoder.explain(exc.revert_data) + where


def platform_abis() -> list[list[dict[str, Any]]]:
    """The ABIs of every compiled contract (empty when nothing is compiled yet)."""
    from chain.artifacts import Artifacts
    from chain.errors import ArtifactMissingError

    try:
        artifacts = Artifacts.load()
    except ArtifactMissingError:
        return []
    return [artifacts.get(n).abi for n in artifacts.names()]


class ErrorDecoder:
    """Decodes revert data into ``ErrorName(args)`` using the custom errors of known ABIs."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]] = ()) -> None:
        self._errors: dict[bytes, dict[str, Any]] = {}
        for abi in abis:
            self.add(abi)

    def add(self, abi: list[dict[str, Any]]) -> None:
        for item in abi:
            if item.get("type") == "error":
                selector = function_abi_to_4byte_selector(item)  # type: ignore[arg-type]
                self._errors.setdefault(selector, item)

    def decode(self, data: bytes) -> tuple[str, tuple[Any, ...]] | None:
        """(name, args) for known custom errors, Error(string) and Panic(uint256); else None."""
        from eth_abi.abi import decode as abi_decode

        if len(data) < 4:
            return None
        selector, payload = bytes(data[:4]), bytes(data[4:])
        if selector == bytes.fromhex("08c379a0"):
            return "Error", tuple(abi_decode(["string"], payload))
        if selector == bytes.fromhex("4e487b71"):
            return "Panic", tuple(abi_decode(["uint256"], payload))
        item = self._errors.get(selector)
        if item is None:
            return None
        types = [abi_type(i) for i in item.get("inputs", [])]
        try:
            return item["name"], tuple(abi_decode(types, payload))
        except Exception:
            return None

    def explain(self, data: bytes, **context: str) -> str:
        """A sentence saying what went wrong and what to do; ``describe`` for revert data no known
        ABI explains."""
        decoded = self.decode(data)
        if decoded is None:
            return self.describe(data)
        item = self._errors.get(bytes(data[:4]), {})
        return explain(decoded[0], decoded[1], item.get("inputs"), **context)

    def describe(self, data: bytes) -> str:
        decoded = self.decode(data)
        if decoded is None:
            return f"unknown revert data 0x{bytes(data).hex()}" if data else "no revert reason"
        name, args = decoded
        return f"{name}({', '.join(_fmt(a) for a in args)})"


def _fmt(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value) if isinstance(value, str) else str(value)


def revert_data(exc: Exception) -> bytes:
    """The revert data a web3 call exception carries (empty when it carries none)."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    return b""
