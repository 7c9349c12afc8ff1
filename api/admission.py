"""Whether an order is admitted to the book, and whether a wallet may sell what it offers to sell.

The checks of an incoming order, in order: the caller's wallet signed it; the signature, domain,
time window and counter (``chain.orders.verify_order``, pure); not submitted before; a listing's
signer holds the token and signed its current holding epoch; the collection's jurisdiction policy;
an offer's signer could pay it now (balance and allowance of its currency:
``api.trading.require_funded_offer``, the check POST /offers makes too); the price circuit breaker
(``api.risk``).
The rules are pure functions of what was read (``*_refusal`` say what refuses, or None);
``OrderReads`` holds the chain reads they need, each read once per request. A cancel asks whether
the chain would still fill the order (``dead_on_chain``); a gift waits for the collection's
holding period (``gift_check``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from api.errors import ApiError, ConflictError, ForbiddenError, UnprocessableError
from api.gateway import ChainGateway
from api.models import CollectionPolicyRow, MarketOrder
from api.pausing import refuse_when_paused
from api.risk import BreakerMemo, breaker_check, insert_decisions
from api.schemas.market import OrderIn
from api.trading import require_funded_offer
from chain.addresses import checksummed
from chain.errors import OrderError
from chain.orders import MarketDomain, Order, OrderSide, SignedOrder, TokenStandard, verify_order
from record.index.store import chain_events

__all__ = [
    "AdmitBatch",
    "OrderReads",
    "acquired_at",
    "admit",
    "dead_on_chain",
    "epoch_check",
    "epoch_refusal",
    "gift_check",
    "gift_free_at",
    "holder_check",
    "jurisdiction_check",
    "jurisdiction_refusal",
    "jurisdiction_rule",
    "order_of",
    "row_of",
    "row_values",
    "signer_refusal",
]


# ------------------------------------------------------------------------------ pure rules


def signer_refusal(caller_address: str | None, signer: str) -> str | None:
    """Only the wallet the caller logged in with may submit its orders."""
    if caller_address is None or checksummed(caller_address) != signer:
        return "you can only submit orders your own wallet signed (log in with that wallet)"
    return None


def epoch_refusal(order: Order, current: int) -> str | None:
    """A listing must carry its token's current holding epoch: the marketplace fills it only while
    that is unchanged (a wrong one could never fill)."""
    if current == order.holding_epoch:
        return None
    return (f"the listing carries holding epoch {order.holding_epoch}, but token {order.token_id} of "
            f"{order.token} is at {current} for {order.signer}: sign it again with holding_epoch "
            f"{current} (read holdingEpoch(seller, tokenId) from the collection)")


def jurisdiction_rule(gift_holding_s: int) -> str:
    """The sentence that states a no-resale jurisdiction policy."""
    return ("this collection's jurisdiction policy forbids secondary sales: only the creator may sell; "
            f"holders may give the token away (POST /market/gift-tx) after {gift_holding_s} s of holding")


def jurisdiction_refusal(order: Order, creator: str, creator_holds: bool, gift_holding_s: int) -> str | None:
    """On a collection that forbids secondary sales only its creator sells, whether by listing or by
    accepting an offer (an offer on a token someone else holds would be a secondary sale)."""
    rule = jurisdiction_rule(gift_holding_s)
    if order.side is OrderSide.LISTING:
        return rule if order.signer != creator else None
    if not creator_holds:
        return f"offer refused: the creator does not hold token {order.token_id}; {rule}"
    return None


def order_of(row: MarketOrder) -> Order:
    """The order a book row stores."""
    return Order(
        OrderSide.LISTING if row.side == "listing" else OrderSide.OFFER,
        row.signer,
        row.token,
        int(row.token_id),
        TokenStandard(row.standard),
        int(row.quantity),
        int(row.unit_price),
        row.currency,
        row.start,
        row.expiry,
        int(row.salt),
        int(row.counter),
        int(row.holding_epoch),
    )


def row_of(body: OrderIn, order: Order, order_hash: str, now: datetime) -> MarketOrder:
    """The book row of an admitted order (open)."""
    return MarketOrder(**row_values(body, order, order_hash, now))


def row_values(body: OrderIn, order: Order, order_hash: str, now: datetime) -> dict[str, Any]:
    """The columns of ``row_of``'s row, for a plain INSERT."""
    return dict(
        order_hash=order_hash,
        chain_id=body.chain_id,
        side=body.side,
        signer=order.signer,
        token=order.token,
        token_id=str(order.token_id),
        standard=int(order.standard),
        quantity=str(order.quantity),
        unit_price=str(order.unit_price),
        currency=order.currency,
        start=order.start,
        expiry=order.expiry,
        salt=str(order.salt),
        counter=str(order.counter),
        holding_epoch=str(order.holding_epoch),
        signature=body.signature,
        status="open",
        created_at=now,
    )


# ------------------------------------------------------------------------------ chain reads


class OrderReads:
    """What admission reads on chain, each read once per request: the marketplace's EIP-712 domain
    per chain, each signer's on-chain counter; and who holds a token, its holding epoch, a
    collection's creator. ``prefetch`` reads what a set of orders needs (counters, holders,
    holding epochs) in one JSON-RPC batch, so a cart of listings costs one round trip."""

    def __init__(self, gateway: ChainGateway) -> None:
        self.gateway = gateway
        self._domains: dict[int, MarketDomain] = {}
        self._counters: dict[tuple[int, str], int] = {}
        self._reads: dict[tuple[Any, ...], Any] = {}
        """Prefetched or read views: their value, or the exception the read failed with."""
        self.breaker: BreakerMemo = {}
        """Breaker states this request read (``api.risk.breaker_check``): a batch reads each once."""

    def domain(self, chain_id: int) -> MarketDomain:
        if chain_id not in self._domains:
            market = self.gateway.contract(chain_id, "Marketplace")
            self._domains[chain_id] = MarketDomain(chain_id, market.address)
        return self._domains[chain_id]

    @staticmethod
    def _holder_call(order: Order, who: str) -> tuple[str, str, str, Sequence[Any]]:
        if order.standard is TokenStandard.ERC721:
            return (order.token, "CreatorCollection", "ownerOf", [order.token_id])
        return (order.token, "Editions1155", "balanceOf", [who, order.token_id])

    @staticmethod
    def _epoch_call(order: Order) -> tuple[str, str, str, Sequence[Any]]:
        abi = "CreatorCollection" if order.standard is TokenStandard.ERC721 else "Editions1155"
        return (order.token, abi, "holdingEpoch", [order.signer, order.token_id])

    def prefetch(self, chain_id: int, orders: Sequence[Order]) -> None:
        """Read, in one JSON-RPC batch, every signer's counter and, for listings, whether the signer
        holds the token and its holding epoch; the checks then find them here."""
        market = self.domain(chain_id).verifying_contract
        keys: list[tuple[Any, ...]] = []
        calls: list[tuple[str, str, str, Sequence[Any]]] = []
        for order in orders:
            wanted: list[tuple[tuple[Any, ...], tuple[str, str, str, Sequence[Any]]]] = []
            if (chain_id, order.signer) not in self._counters:
                wanted.append((("counter", chain_id, order.signer),
                               (market, "Marketplace", "counterOf", [order.signer])))
            if order.side is OrderSide.LISTING:
                wanted += [(self._key(chain_id, call), call)
                           for call in (self._holder_call(order, order.signer), self._epoch_call(order))]
            for key, call in wanted:
                if key not in self._reads and key not in keys:
                    keys.append(key)
                    calls.append(call)
        for key, value in zip(keys, self.gateway.views(chain_id, calls), strict=True):
            if key[0] == "counter" and not isinstance(value, Exception):
                self._counters[(chain_id, key[2])] = int(value)
            else:
                self._reads[key] = value

    @staticmethod
    def _key(chain_id: int, call: tuple[str, str, str, Sequence[Any]]) -> tuple[Any, ...]:
        return ("view", chain_id, *call[:3], *map(str, call[3]))

    def _view(self, chain_id: int, call: tuple[str, str, str, Sequence[Any]]) -> Any:
        key = self._key(chain_id, call)
        if key not in self._reads:
            self._reads[key] = self.gateway.views(chain_id, [call])[0]
        value = self._reads[key]
        if isinstance(value, Exception):
            raise value
        return value

    def counter(self, chain_id: int, signer: str) -> int:
        key = (chain_id, signer)
        if key not in self._counters:
            market = self.domain(chain_id).verifying_contract
            counter = self.gateway.view(chain_id, market, "Marketplace", "counterOf", [signer])
            self._counters[key] = int(counter)
        return self._counters[key]

    def holds(self, order: Order, chain_id: int, who: str, quantity: int, hint: str) -> bool:
        """Whether ``who`` holds ``quantity`` of the order's token on chain (``hint``: what to do when
        the token cannot be read)."""
        try:
            answer = self._view(chain_id, self._holder_call(order, who))
            if order.standard is TokenStandard.ERC721:
                return bool(checksummed(answer) == who)
            return int(answer) >= quantity
        except ApiError:
            raise
        except Exception:
            raise UnprocessableError(
                f"could not read who holds token {order.token_id} of {order.token} on chain {chain_id}: "
                f"{hint}") from None

    def holding_epoch(self, order: Order, chain_id: int) -> int:
        """The collection's ``holdingEpoch(signer, token_id)`` now (IHoldingEpoch)."""
        return int(self._view(chain_id, self._epoch_call(order)))

    def creator(self, chain_id: int, collection: str) -> str:
        """The collection's owner: its creator."""
        return checksummed(
            self.gateway.contract(chain_id, "CreatorCollection", collection).functions.owner().call())


# ------------------------------------------------------------------------------ checks


def holder_check(reads: OrderReads, order: Order, chain_id: int, holder: str | None = None,
                 amount: int | None = None) -> None:
    """A listing's signer must hold what it sells (``holder``/``amount``: the wallet that accepts an
    offer, and how many). Without this anyone verified could list other people's tokens at absurd
    prices and let the circuit breaker halt their collection."""
    who = holder or order.signer
    quantity = order.quantity if amount is None else amount
    if not reads.holds(order, chain_id, who, quantity,
                       "list a token that exists, in an ERC-721 or ERC-1155 collection"):
        verb = "list" if holder is None else "accept offers on"
        raise UnprocessableError(
            f"your wallet {who} does not hold token {order.token_id} of {order.token} "
            f"(quantity {quantity}): you can only {verb} what you hold")


def epoch_check(reads: OrderReads, order: Order, chain_id: int) -> None:
    """``epoch_refusal`` against the collection's holding epoch now (422 when it does not report one)."""
    try:
        current = reads.holding_epoch(order, chain_id)
    except ApiError:
        raise
    except Exception:
        raise UnprocessableError(
            f"the collection {order.token} does not report holding epochs (IHoldingEpoch): the "
            "marketplace cannot fill listings of it; sell it by auction or accept an offer") from None
    refusal = epoch_refusal(order, current)
    if refusal is not None:
        raise UnprocessableError(refusal)


def jurisdiction_check(reads: OrderReads, order: Order, chain_id: int,
                       row: CollectionPolicyRow | None) -> None:
    """``jurisdiction_refusal`` for the collection's policy ``row`` (None: no policy, anyone sells)."""
    if row is None or row.secondary_sales:
        return
    creator = reads.creator(chain_id, order.token)
    creator_holds = order.side is OrderSide.LISTING or reads.holds(
        order, chain_id, creator, order.quantity, "make offers on a token that exists")
    refusal = jurisdiction_refusal(order, creator, creator_holds, row.gift_holding_s)
    if refusal is not None:
        raise UnprocessableError(refusal)


@dataclass
class AdmitBatch:
    """The database reads a batch of orders makes once, not once per order: the book rows already
    stored under its orders' hashes (one SELECT), each collection's policy row, and the hashes
    admitted so far in the batch (a later duplicate is refused without a read). ``admit`` then adds
    each admitted row without flushing it: the caller runs the batch under ``no_autoflush`` and
    calls ``flush`` once at the end, so the rows go in as one INSERT per table."""

    stored: dict[str, MarketOrder | None] = field(default_factory=dict)
    policies: dict[tuple[int, str], CollectionPolicyRow | None] = field(default_factory=dict)
    admitted: set[str] = field(default_factory=set)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    """The breaker's accepts, inserted together by ``flush`` (a refusal inserts those before it)."""
    unpaused: set[int] = field(default_factory=set)
    """Chains whose marketplace this batch found unpaused (read once per chain, not per order)."""

    def flush(self, db: Session) -> None:
        """The admitted rows and their accepts, each table in one statement."""
        db.flush()
        insert_decisions(db, self.decisions)

    def prefetch(self, db: Session, order_hashes: Iterable[str]) -> None:
        """Read the book rows of these hashes (absent ones remembered as absent)."""
        wanted = sorted({h for h in order_hashes if h not in self.stored})
        if not wanted:
            return
        found = {row.order_hash: row for row in db.scalars(
            select(MarketOrder).where(MarketOrder.order_hash.in_(wanted)))}
        for order_hash in wanted:
            self.stored[order_hash] = found.get(order_hash)

    def stored_row(self, db: Session, order_hash: str) -> MarketOrder | None:
        if order_hash in self.stored:
            return self.stored[order_hash]
        return db.get(MarketOrder, order_hash)

    def policy(self, db: Session, chain_id: int, token: str) -> CollectionPolicyRow | None:
        key = (chain_id, token)
        if key not in self.policies:
            self.policies[key] = db.get(CollectionPolicyRow, key)
        return self.policies[key]

    def forget_policy(self, chain_id: int, token: str) -> None:
        """After a refusal or a halt (which may have made or changed the row): read it again."""
        self.policies.pop((chain_id, token), None)


_BOOK = MarketOrder.__table__.c
_STORED = select(_BOOK.order_hash).where(_BOOK.order_hash == bindparam("order_hash"))


def _stored(db: Session, order_hash: str) -> MarketOrder | None:
    """The book's row of ``order_hash``, if any: asked first with a plain select (almost every order
    is new), the row loaded only when it is there."""
    if db.execute(_STORED, {"order_hash": order_hash}).first() is None:
        return None
    return db.get(MarketOrder, order_hash)


def admit(body: OrderIn, caller_address: str | None, db: Session, reads: OrderReads, *,
          rerun: bool = False, batch: AdmitBatch | None = None) -> MarketOrder:
    """Every check of an incoming order (wallet, signature, domain, expiry, counter, duplicate,
    holder and holding epoch, jurisdiction, circuit breaker), then its row, flushed (in a ``batch``:
    added, flushed by the caller with the batch's others). Raises the ApiError that names what was
    wrong. ``rerun``: the request repeats, under its Idempotency-Key, one whose process died before
    its answer was stored; the order it already created is its answer."""
    refusal = signer_refusal(caller_address, body.signer)
    if refusal is not None:
        raise ForbiddenError(refusal)
    if batch is None or body.chain_id not in batch.unpaused:
        refuse_when_paused(reads.gateway, body.chain_id, "marketplace", "new listings and offers")
        if batch is not None:
            batch.unpaused.add(body.chain_id)
    domain = reads.domain(body.chain_id)
    try:
        order = body.order()
        reads.prefetch(body.chain_id, [order])  # counter, holder, epoch: one round trip
        signed = SignedOrder(order, bytes.fromhex(body.signature[2:]), domain)
        counter = reads.counter(body.chain_id, order.signer)
        digest = verify_order(signed, expected_domain=domain, now=int(time.time()), current_counter=counter)
    except OrderError as exc:
        raise UnprocessableError(f"order refused: {exc}") from None
    order_hash = "0x" + digest.hex()
    if batch is not None and order_hash in batch.admitted:
        raise ConflictError(f"order {order_hash} was already submitted (earlier in this batch)")
    existing = batch.stored_row(db, order_hash) if batch is not None else _stored(db, order_hash)
    if existing is not None:
        if rerun and existing.signature == body.signature:
            return existing  # this very request created it before the API died; its retry gets it
        raise ConflictError(f"order {order_hash} was already submitted")
    if order.side is OrderSide.LISTING:
        holder_check(reads, order, body.chain_id)  # before the breaker: only holders count there
        epoch_check(reads, order, body.chain_id)
    # the policy row, read once for both checks
    policy_row = (batch.policy(db, body.chain_id, order.token) if batch is not None
                  else db.get(CollectionPolicyRow, (body.chain_id, order.token)))
    jurisdiction_check(reads, order, body.chain_id, policy_row)
    if order.side is OrderSide.OFFER:  # as POST /offers: an offer nobody can pay never feeds the breaker
        require_funded_offer(reads.gateway, body.chain_id, order)
    try:
        breaker_check(reads.gateway, db, order, body.chain_id, policy_row, reads.breaker,
                      batch.decisions if batch is not None else None)
    except ApiError:
        if batch is not None:
            batch.forget_policy(body.chain_id, order.token)
        raise
    values = row_values(body, order, order_hash, datetime.now(UTC))
    row = MarketOrder(**values)
    if batch is None:
        db.execute(insert(MarketOrder), [values])  # one statement, no unit of work (nothing reads it back)
    else:
        db.add(row)
        batch.admitted.add(order_hash)
    return row


# ------------------------------------------------------------------------------ cancels and gifts


def dead_on_chain(reads: OrderReads, row: MarketOrder, order: Order) -> str | None:
    """Why ``order`` can no longer be filled on chain whoever holds its signature (filled,
    cancelled, expired, counter bumped, listing's token moved), or None when it still can."""
    gateway = reads.gateway
    market = gateway.contract(row.chain_id, "Marketplace").address
    cancelled, filled = gateway.view(row.chain_id, market, "Marketplace", "orderStatus",
                                     [bytes.fromhex(row.order_hash[2:])])
    if cancelled:
        return "it is already cancelled on chain"
    if int(filled) >= order.quantity:
        return "it is already filled on chain"
    if order.expiry <= int(time.time()):
        return "it has expired"
    if int(gateway.view(row.chain_id, market, "Marketplace", "counterOf", [order.signer])) != order.counter:
        return "you bumped your counter since signing it"
    listing = order.side is OrderSide.LISTING
    if listing and reads.holding_epoch(order, row.chain_id) != order.holding_epoch:
        return "the token left your wallet since you signed it (its holding epoch moved)"
    return None


def acquired_at(db: Session, chain_id: int, token: str, token_id: int, holder: str) -> datetime | None:
    """When ``holder`` last received the token, as the index saw it (None: not indexed yet)."""
    rows = db.execute(
        select(chain_events.c.args, chain_events.c.block_time)
        .where(chain_events.c.chain_id == chain_id, chain_events.c.ref_address == token,
               chain_events.c.token_id == str(token_id),
               chain_events.c.event.in_(("Transfer", "TransferSingle")))
        .order_by(chain_events.c.block_number.desc(), chain_events.c.log_index.desc())
    )
    for args_text, block_time in rows:
        if checksummed(json.loads(args_text)["to"]) == holder:
            return datetime.fromtimestamp(block_time or 0, UTC)
    return None


def gift_free_at(since: datetime | None, holding_s: int, now: datetime) -> datetime | None:
    """When a holder who received the token at ``since`` may give it away, if that is still to come
    (None: it may now). ``since`` None (not indexed yet) is refused by the caller, not here."""
    if since is None or holding_s <= 0:
        return None
    free_at = since + timedelta(seconds=holding_s)
    return free_at if now < free_at else None


def gift_check(reads: OrderReads, db: Session, chain_id: int, token: str, token_id: int, holder: str,
               row: CollectionPolicyRow | None) -> None:
    """On a collection whose jurisdiction policy sets a holding period, a holder other than the
    creator may give a token only once it has held it that long (from the transfer that brought it,
    as indexed): 409 while the index has not seen that transfer, 422 until the period is over."""
    if row is None or row.gift_holding_s <= 0 or holder == reads.creator(chain_id, token):
        return
    since = acquired_at(db, chain_id, token, token_id, holder)
    if since is None:
        raise ConflictError(
            f"the index has not seen your wallet receive token {token_id} yet, so its holding "
            "period cannot be checked: try again in a moment")
    free_at = gift_free_at(since, row.gift_holding_s, datetime.now(UTC))
    if free_at is not None:
        raise UnprocessableError(
            f"this collection allows gifts only after {row.gift_holding_s} s of holding: you "
            f"received token {token_id} at {since.isoformat()}, so you can give it from "
            f"{free_at.isoformat()}",
            gift_allowed_from=free_at.isoformat())
