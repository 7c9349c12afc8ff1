"""The audit report's core (pure): event rows in, sections, totals and mismatches out.

Rows are chain events in one normal form (``EventRow``), whether they come from the indexer's
table or straight from the chain's logs; ``build_report`` makes the sections from the index's rows,
``reconcile`` compares them with the chain's rows for the same window. No I/O here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ETH = "0x0000000000000000000000000000000000000000"
TOTAL_BPS = 10_000

SALE_EVENTS = {("Marketplace", "OrderFilled")}
LICENSE_EVENTS = {
    ("Licensing", "LicenseGranted"),
    ("Licensing", "LicenseFeePaid"),
    ("Licensing", "LicenseFeeCredited"),
}
BRIDGE_KINDS = {
    ("HomeLockbox", "TokenLocked"): "lock",
    ("RemoteBridge", "TokenMinted"): "delivery",
    ("RemoteBridge", "TokenBurned"): "burn",
    ("HomeLockbox", "TokenUnlocked"): "unlock",
}
SPLITTER_CONTRACT = "RoyaltySplitter"
WATCHED_CONTRACTS = ("Marketplace", "Licensing", "HomeLockbox", "RemoteBridge", SPLITTER_CONTRACT)
"""The contracts whose events the report reads (the splitters among them by address)."""


@dataclass(frozen=True)
class EventRow:
    """One decoded event, from the index or from the chain (args as the indexer stores them)."""

    chain_id: int
    block_number: int
    tx_hash: str
    log_index: int
    address: str
    contract: str
    event: str
    args: Mapping[str, Any]
    block_time: int | None = None
    block_hash: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return self.tx_hash.lower(), self.log_index

    def arg(self, name: str) -> Any:
        return self.args.get(name)

    def addr(self, name: str) -> str:
        return str(self.args.get(name) or "").lower()

    def amount(self, name: str) -> int:
        return int(self.args.get(name) or 0)


@dataclass(frozen=True)
class Window:
    from_block: int
    to_block: int
    from_time: int | None = None
    to_time: int | None = None


@dataclass(frozen=True)
class Currency:
    address: str
    symbol: str
    decimals: int


@dataclass(frozen=True)
class Split:
    """A splitter's fixed recipients and their basis points, in the contract's order (the first
    recipient also takes the rounding remainder)."""

    splitter: str
    recipients: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class AuctionLot:
    """What ``AuctionCreated`` said of an auction (its settlement names only the auction id)."""

    auction_id: str
    seller: str
    token_id: str
    quantity: int


@dataclass(frozen=True)
class Sale:
    time: int | None
    block: int
    tx: str
    log_index: int
    token_id: str
    seller: str
    buyer: str
    quantity: int
    unit_price: int
    price: int
    currency: str
    royalty: int
    royalty_receiver: str
    fee: int
    side: str

    @property
    def seller_proceeds(self) -> int:
        return self.price - self.royalty - self.fee


@dataclass(frozen=True)
class RoyaltyLine:
    """What one recipient was due in the window (split by fixed basis points when the royalty
    receiver is a splitter) and what it actually withdrew from that splitter."""

    receiver: str
    recipient: str
    share_bps: int
    currency: str
    royalties: int
    license_fees: int
    withdrawn: int | None
    """None when the receiver is not a splitter (paid directly, nothing to withdraw)."""


@dataclass(frozen=True)
class License:
    time: int | None
    block: int
    tx: str
    grant_id: str
    token_id: str
    licensee: str
    price: int
    receiver: str
    settled: str
    """'paid' (pushed to the receiver), 'credited' (the push failed; withdrawable) or '' (free)."""
    terms_hash: str


@dataclass(frozen=True)
class LicenseTotal:
    token_id: str
    count: int
    total: int


@dataclass(frozen=True)
class BridgeMove:
    time: int | None
    block: int
    tx: str
    kind: str
    transfer_id: str
    token_id: str
    sender: str
    recipient: str
    dest_chain_id: str


@dataclass(frozen=True)
class Mismatch:
    kind: str
    """missing_from_index, not_on_chain, differs, index_lags, block_hash, receipt"""
    where: str
    detail: str


@dataclass(frozen=True)
class Totals:
    currency: str
    sales: int
    volume: int
    royalties: int
    fees: int
    seller_proceeds: int


@dataclass(frozen=True)
class Bucket:
    label: str
    volume: dict[str, int]
    royalties: dict[str, int]


@dataclass
class Report:
    collection: str
    chain_id: int
    window: Window
    indexed_to: int | None
    sales: list[Sale] = field(default_factory=list)
    royalties: list[RoyaltyLine] = field(default_factory=list)
    licenses: list[License] = field(default_factory=list)
    license_totals: list[LicenseTotal] = field(default_factory=list)
    bridge: list[BridgeMove] = field(default_factory=list)
    totals: list[Totals] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)
    bucket_unit: str = "day"
    currencies: dict[str, Currency] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    compared: int = 0
    """How many events reconciliation compared (index and chain together, each key once)."""

    @property
    def reconciled(self) -> bool:
        return not self.mismatches

    @property
    def license_income(self) -> int:
        return sum(lic.price for lic in self.licenses)

    def currency(self, address: str) -> Currency:
        return self.currencies.get(address.lower()) or (
            Currency(ETH, "ETH", 18) if address.lower() == ETH else Currency(address, address, 0)
        )


# -- which rows matter ------------------------------------------------------------------------


def splits_from(rows: Iterable[EventRow]) -> dict[str, Split]:
    """Splitters announced by ``SplitterFactory.SplitterCreated``, by lower-case address."""
    out: dict[str, Split] = {}
    for r in rows:
        if r.contract == "SplitterFactory" and r.event == "SplitterCreated":
            recipients = tuple(
                (str(a).lower(), int(b))
                for a, b in zip(r.args.get("recipients") or [], r.args.get("bps") or [], strict=True)
            )
            out[r.addr("splitter")] = Split(r.addr("splitter"), recipients)
    return out


def auctions_from(rows: Iterable[EventRow], collection: str) -> dict[str, AuctionLot]:
    """The collection's auctions announced by ``Marketplace.AuctionCreated``, by auction id."""
    coll = collection.lower()
    return {
        str(r.arg("auctionId")): AuctionLot(
            str(r.arg("auctionId")), str(r.arg("seller")), str(r.arg("tokenId")), r.amount("quantity")
        )
        for r in rows
        if (r.contract, r.event) == ("Marketplace", "AuctionCreated") and r.addr("token") == coll
    }


def _settles(r: EventRow, auctions: Mapping[str, AuctionLot] | None) -> bool:
    return (r.contract, r.event) == ("Marketplace", "AuctionSettled") and str(r.arg("auctionId")) in (
        auctions or {}
    )


def relevant(
    rows: Iterable[EventRow],
    collection: str,
    splitters: Iterable[str],
    window: Window | None = None,
    auctions: Mapping[str, AuctionLot] | None = None,
) -> list[EventRow]:
    """The rows the report is about: sales (fills, and settlements of ``auctions``), licenses
    (grants and their fee payments) and bridge movements of ``collection``, and withdrawals from
    ``splitters``; within ``window`` if given."""
    coll = collection.lower()
    split_set = {s.lower() for s in splitters}
    rows = [r for r in rows if window is None or window.from_block <= r.block_number <= window.to_block]
    grants = {
        str(r.arg("grantId"))
        for r in rows
        if (r.contract, r.event) == ("Licensing", "LicenseGranted") and r.addr("collection") == coll
    }
    out = []
    for r in rows:
        what = (r.contract, r.event)
        if (
            (what in SALE_EVENTS and r.addr("token") == coll)
            or _settles(r, auctions)
            or (what == ("Licensing", "LicenseGranted") and r.addr("collection") == coll)
            or (
                what in LICENSE_EVENTS
                and what != ("Licensing", "LicenseGranted")
                and str(r.arg("grantId")) in grants
            )
            or (what in BRIDGE_KINDS and r.addr("collection") == coll)
            or (r.contract == SPLITTER_CONTRACT and r.event == "Withdrawn" and r.address.lower() in split_set)
        ):
            out.append(r)
    return sorted(out, key=lambda r: (r.block_number, r.log_index))


def splitters_of(
    rows: Iterable[EventRow],
    collection: str,
    splits: Mapping[str, Split],
    auctions: Mapping[str, AuctionLot] | None = None,
) -> list[str]:
    """The collection's royalty receivers that are splitters: named by its sales, its license fee
    payments, or its ``DefaultRoyaltyUpdated`` events."""
    coll = collection.lower()
    rows = list(rows)
    grants = {
        str(r.arg("grantId"))
        for r in rows
        if (r.contract, r.event) == ("Licensing", "LicenseGranted") and r.addr("collection") == coll
    }
    seen: set[str] = set()
    for r in rows:
        if ((r.contract, r.event) in SALE_EVENTS and r.addr("token") == coll) or _settles(r, auctions):
            seen.add(r.addr("royaltyReceiver"))
        elif r.event == "DefaultRoyaltyUpdated" and r.address.lower() == coll:
            seen.add(r.addr("receiver"))
        elif (
            r.contract == "Licensing"
            and r.event in ("LicenseFeePaid", "LicenseFeeCredited")
            and str(r.arg("grantId")) in grants
        ):
            seen.add(r.addr("receiver"))
    return sorted(s for s in seen if s in splits)


# -- sections ---------------------------------------------------------------------------------


def split_amount(amount: int, split: Split) -> list[int]:
    """``amount`` by the split's basis points as the splitter credits it: floor for every recipient
    but the first, who takes the rest."""
    parts = [amount * bps // TOTAL_BPS for _, bps in split.recipients]
    if parts:
        parts[0] = amount - sum(parts[1:])
    return parts


def build_report(
    collection: str,
    chain_id: int,
    window: Window,
    rows: Sequence[EventRow],
    splits: Mapping[str, Split],
    *,
    indexed_to: int | None = None,
    currencies: Mapping[str, Currency] | None = None,
    auctions: Mapping[str, AuctionLot] | None = None,
    max_buckets: int = 12,
) -> Report:
    """The report's sections and totals from ``rows`` (already limited by ``relevant``)."""
    report = Report(
        collection=collection,
        chain_id=chain_id,
        window=window,
        indexed_to=indexed_to,
        currencies={k.lower(): v for k, v in (currencies or {}).items()},
    )
    for r in rows:
        lot = (auctions or {}).get(str(r.arg("auctionId"))) if r.event == "AuctionSettled" else None
        if lot is not None and r.addr("winner") not in ("", ETH):
            report.sales.append(
                Sale(
                    time=r.block_time,
                    block=r.block_number,
                    tx=r.tx_hash,
                    log_index=r.log_index,
                    token_id=lot.token_id,
                    seller=lot.seller,
                    buyer=str(r.arg("winner")),
                    quantity=lot.quantity,
                    unit_price=r.amount("amount") // max(1, lot.quantity),
                    price=r.amount("amount"),
                    currency=ETH,
                    royalty=r.amount("royalty"),
                    royalty_receiver=str(r.arg("royaltyReceiver")),
                    fee=r.amount("fee"),
                    side="auction",
                )
            )
        elif (r.contract, r.event) in SALE_EVENTS:
            qty, unit = r.amount("amount"), r.amount("unitPrice")
            report.sales.append(
                Sale(
                    time=r.block_time,
                    block=r.block_number,
                    tx=r.tx_hash,
                    log_index=r.log_index,
                    token_id=str(r.arg("tokenId")),
                    seller=str(r.arg("seller")),
                    buyer=str(r.arg("buyer")),
                    quantity=qty,
                    unit_price=unit,
                    price=qty * unit,
                    currency=r.addr("currency") or ETH,
                    royalty=r.amount("royalty"),
                    royalty_receiver=str(r.arg("royaltyReceiver")),
                    fee=r.amount("fee"),
                    side="offer" if int(r.arg("side") or 0) == 1 else "listing",
                )
            )
        elif r.event == "LicenseGranted":
            fee_rows = [
                x
                for x in rows
                if x.contract == "Licensing"
                and x.event in ("LicenseFeePaid", "LicenseFeeCredited")
                and str(x.arg("grantId")) == str(r.arg("grantId"))
            ]
            settled = fee_rows[0] if fee_rows else None
            report.licenses.append(
                License(
                    time=r.block_time,
                    block=r.block_number,
                    tx=r.tx_hash,
                    grant_id=str(r.arg("grantId")),
                    token_id=str(r.arg("tokenId")),
                    licensee=str(r.arg("licensee")),
                    price=r.amount("fee"),
                    receiver=str(settled.arg("receiver")) if settled else "",
                    settled=("paid" if settled.event == "LicenseFeePaid" else "credited") if settled else "",
                    terms_hash=str(r.arg("termsHash")),
                )
            )
        elif (r.contract, r.event) in BRIDGE_KINDS:
            report.bridge.append(
                BridgeMove(
                    time=r.block_time,
                    block=r.block_number,
                    tx=r.tx_hash,
                    kind=BRIDGE_KINDS[(r.contract, r.event)],
                    transfer_id=str(r.arg("transferId")),
                    token_id=str(r.arg("tokenId")),
                    sender=str(r.arg("sender") or ""),
                    recipient=str(r.arg("recipient") or ""),
                    dest_chain_id=str(r.arg("destChainId") or ""),
                )
            )

    per_token: dict[str, list[int]] = defaultdict(list)
    for lic in report.licenses:
        per_token[lic.token_id].append(lic.price)
    report.license_totals = [
        LicenseTotal(t, len(p), sum(p)) for t, p in sorted(per_token.items(), key=lambda kv: _num(kv[0]))
    ]
    report.royalties = _royalty_lines(report, rows, splits)
    report.totals = _totals(report.sales)
    report.buckets, report.bucket_unit = buckets(report.sales, window, max_buckets=max_buckets)
    return report


def _num(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (0, text)


def _royalty_lines(
    report: Report, rows: Sequence[EventRow], splits: Mapping[str, Split]
) -> list[RoyaltyLine]:
    royalties: dict[tuple[str, str], int] = defaultdict(int)  # (receiver, currency) -> amount
    for s in report.sales:
        if s.royalty:
            royalties[(s.royalty_receiver.lower(), s.currency)] += s.royalty
    fees: dict[tuple[str, str], int] = defaultdict(int)
    for lic in report.licenses:
        if lic.receiver and lic.price:
            fees[(lic.receiver.lower(), ETH)] += lic.price
    withdrawn: dict[tuple[str, str, str], int] = defaultdict(int)  # (splitter, recipient, token)
    for r in rows:
        if r.contract == SPLITTER_CONTRACT and r.event == "Withdrawn":
            withdrawn[(r.address.lower(), r.addr("recipient"), r.addr("token"))] += r.amount("amount")

    lines: list[RoyaltyLine] = []
    receivers = sorted(
        {k for k in royalties} | {k for k in fees} | {(w[0], w[2]) for w in withdrawn if w[0] in splits}
    )
    for receiver, currency in receivers:
        total, lic_total = royalties.get((receiver, currency), 0), fees.get((receiver, currency), 0)
        split = splits.get(receiver)
        if split is None:
            lines.append(RoyaltyLine(receiver, receiver, TOTAL_BPS, currency, total, lic_total, None))
            continue
        parts, lic_parts = split_amount(total, split), split_amount(lic_total, split)
        for (recipient, bps), part, lic_part in zip(split.recipients, parts, lic_parts, strict=True):
            lines.append(
                RoyaltyLine(
                    receiver,
                    recipient,
                    bps,
                    currency,
                    part,
                    lic_part,
                    withdrawn.get((receiver, recipient, currency), 0),
                )
            )
    return lines


def _totals(sales: Sequence[Sale]) -> list[Totals]:
    by: dict[str, list[Sale]] = defaultdict(list)
    for s in sales:
        by[s.currency].append(s)
    return [
        Totals(
            c,
            len(ss),
            sum(s.price for s in ss),
            sum(s.royalty for s in ss),
            sum(s.fee for s in ss),
            sum(s.seller_proceeds for s in ss),
        )
        for c, ss in sorted(by.items())
    ]


def buckets(sales: Sequence[Sale], window: Window, *, max_buckets: int = 12) -> tuple[list[Bucket], str]:
    """Sale volume and royalties per currency over time: by UTC day when the window spans two days
    or more (by its times, else its sales' times), otherwise by equal block ranges."""
    times = [s.time for s in sales if s.time is not None]
    start = window.from_time if window.from_time is not None else min(times, default=None)
    end = window.to_time if window.to_time is not None else max(times, default=None)
    if (
        start is not None
        and end is not None
        and end - start >= 2 * 86_400
        and all(s.time is not None for s in sales)
    ):
        first, last = _day(start), _day(end)
        days = [first]
        while days[-1] < last:
            days.append(_next_day(days[-1]))
        out = {d: Bucket(d, defaultdict(int), defaultdict(int)) for d in days}
        for s in sales:
            b = out.setdefault(
                _day(s.time or 0), Bucket(_day(s.time or 0), defaultdict(int), defaultdict(int))
            )
            b.volume[s.currency] += s.price
            b.royalties[s.currency] += s.royalty
        return [out[k] for k in sorted(out)], "day"
    span = window.to_block - window.from_block + 1
    n = max(1, min(max_buckets, span))
    size = -(-span // n)
    result = []
    for i in range(n):
        lo = window.from_block + i * size
        if lo > window.to_block:
            break
        hi = min(window.to_block, lo + size - 1)
        b = Bucket(f"{lo}-{hi}" if hi > lo else str(lo), defaultdict(int), defaultdict(int))
        for s in sales:
            if lo <= s.block <= hi:
                b.volume[s.currency] += s.price
                b.royalties[s.currency] += s.royalty
        result.append(b)
    return result, "blocks"


def _day(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def _next_day(day: str) -> str:
    t = int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()) + 86_400
    return _day(t)


# -- reconciliation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptFacts:
    """What a transaction receipt says: its status, block hash and the (log index) of its logs."""

    status: int
    block_hash: str
    log_indexes: frozenset[int]


def reconcile(
    index_rows: Sequence[EventRow],
    chain_rows: Sequence[EventRow],
    window: Window,
    *,
    indexed_to: int | None,
    receipts: Mapping[str, ReceiptFacts] | None = None,
) -> list[Mismatch]:
    """Every disagreement between the index and the chain over ``window``: an index that has not
    reached the window's end, events only on one side, fields that differ, and index rows whose
    block hash or log the transaction's receipt does not confirm."""
    out: list[Mismatch] = []
    if indexed_to is None or indexed_to < window.to_block:
        have = "nothing" if indexed_to is None else f"blocks up to {indexed_to}"
        out.append(
            Mismatch(
                "index_lags",
                f"block {window.to_block}",
                f"the index holds {have} but the window ends at block {window.to_block}; "
                "run 'chainright indexer run --once' and try again",
            )
        )
    on_index = {r.key: r for r in index_rows}
    on_chain = {r.key: r for r in chain_rows}
    for key in sorted(
        on_chain.keys() | on_index.keys(), key=lambda k: ((on_chain.get(k) or on_index[k]).block_number, k[1])
    ):
        i, c = on_index.get(key), on_chain.get(key)
        where = f"{key[0]}#{key[1]}"
        if i is None and c is not None:
            if indexed_to is not None and c.block_number <= indexed_to:  # lag is reported once above
                out.append(
                    Mismatch(
                        "missing_from_index",
                        where,
                        f"{c.contract}.{c.event} in block {c.block_number} is on the chain "
                        f"but not in the index ({_brief(c)})",
                    )
                )
        elif c is None and i is not None:
            out.append(
                Mismatch(
                    "not_on_chain",
                    where,
                    f"{i.contract}.{i.event} in block {i.block_number} is in the index but the "
                    f"chain has no such log ({_brief(i)})",
                )
            )
        elif i is not None and c is not None:
            diffs = [
                f"{k}: index {_show(i.args.get(k))}, chain {_show(c.args.get(k))}"
                for k in sorted(set(i.args) | set(c.args))
                if _norm(i.args.get(k)) != _norm(c.args.get(k))
            ]
            for name in ("block_number", "contract", "event"):
                if getattr(i, name) != getattr(c, name):
                    diffs.append(f"{name}: index {getattr(i, name)}, chain {getattr(c, name)}")
            if i.address.lower() != c.address.lower():
                diffs.append(f"address: index {i.address}, chain {c.address}")
            if diffs:
                out.append(
                    Mismatch(
                        "differs",
                        where,
                        f"{c.contract}.{c.event} in block {c.block_number}: " + "; ".join(diffs),
                    )
                )
        if i is not None and receipts is not None and i.key[0] in receipts:
            facts = receipts[i.key[0]]
            if i.block_hash and facts.block_hash and i.block_hash.lower() != facts.block_hash.lower():
                out.append(
                    Mismatch(
                        "block_hash",
                        where,
                        f"the index has block hash {i.block_hash} but the "
                        f"receipt says {facts.block_hash} (a reorg the index missed?)",
                    )
                )
            if facts.status != 1 or i.log_index not in facts.log_indexes:
                out.append(
                    Mismatch(
                        "receipt",
                        where,
                        f"the transaction's receipt (status {facts.status}) has no log {i.log_index}",
                    )
                )
    return out


def _brief(r: EventRow) -> str:
    keys = [
        k
        for k in ("tokenId", "grantId", "transferId", "unitPrice", "royalty", "fee", "amount")
        if k in r.args
    ]
    return ", ".join(f"{k} {r.args[k]}" for k in keys) or "no amounts"


def _norm(v: Any) -> Any:
    if isinstance(v, str) and v.startswith("0x"):
        return v.lower()
    if isinstance(v, str) and v.lstrip("-").isdigit():
        return int(v)
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    return v


def _show(v: Any) -> str:
    return "absent" if v is None else str(v)
