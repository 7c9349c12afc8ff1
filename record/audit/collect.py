"""The audit report's effects: the index's rows from the database, the same window's logs and
receipts from the chain, then the pure core (``report.build_report`` and ``report.reconcile``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sqlalchemy import Engine, and_, inspect, or_, select
from web3 import Web3

from chain.errors import AuditError
from chain.tx import retry_read
from record.audit.report import (
    ETH,
    SPLITTER_CONTRACT,
    WATCHED_CONTRACTS,
    AuctionLot,
    Currency,
    EventRow,
    Mismatch,
    ReceiptFacts,
    Report,
    Split,
    Window,
    auctions_from,
    build_report,
    reconcile,
    relevant,
    splits_from,
    splitters_of,
)
from record.audit.window import Point, first_block_at_or_after, iso, last_block_at_or_before
from record.index.decoder import EventDecoder
from record.index.store import chain_events, chain_watch

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

_ERC20 = [
    {
        "type": "function",
        "name": "symbol",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "string"}],
    },
    {
        "type": "function",
        "name": "decimals",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint8"}],
    },
]
_AUCTION_CREATED = "AuctionCreated(uint256,address,address,uint256,uint96,uint128,uint40,uint40)"
_SPLITTER_VIEW = [
    {
        "type": "function",
        "name": "recipients",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "accounts", "type": "address[]"}, {"name": "bps", "type": "uint16[]"}],
    }
]
_ROYALTY_INFO = [
    {
        "type": "function",
        "name": "royaltyInfo",
        "stateMutability": "view",
        "inputs": [{"name": "tokenId", "type": "uint256"}, {"name": "price", "type": "uint256"}],
        "outputs": [{"name": "receiver", "type": "address"}, {"name": "amount", "type": "uint256"}],
    }
]


def quiet(_: str) -> None:
    return None


# -- window -----------------------------------------------------------------------------------


def resolve_window(web3: Web3, start: Point, stop: Point) -> Window:
    """Block numbers (and times) of the window; dates become the blocks they cover."""
    head = int(retry_read(lambda: web3.eth.block_number, what="eth_blockNumber"))
    cache: dict[int, int] = {}

    def ts(n: int) -> int:
        if n not in cache:
            cache[n] = int(
                retry_read(lambda: web3.eth.get_block(n), what="eth_getBlockByNumber")["timestamp"]
            )
        return cache[n]

    if start.block is not None:
        if start.block > head:
            raise AuditError(f"--from block {start.block} is beyond the chain head (block {head})")
        from_block = start.block
    else:
        assert start.time is not None
        from_block = first_block_at_or_after(start.time, 0, head, ts)
    if stop.block is not None:
        if stop.block > head:
            raise AuditError(
                f"--to block {stop.block} is beyond the chain head (block {head}); use {head} or a date"
            )
        to_block = stop.block
    else:
        assert stop.time is not None
        to_block = last_block_at_or_before(stop.time, 0, head, ts)
    if from_block > to_block:
        raise AuditError(
            f"the window holds no block (from {_describe(start)} to {_describe(stop)}; the chain has "
            f"blocks 0 to {head}, from {iso(ts(0))} to {iso(ts(head))})"
        )
    return Window(
        from_block,
        to_block,
        start.time if start.time is not None else ts(from_block),
        stop.time if stop.time is not None else ts(to_block),
    )


def _describe(p: Point) -> str:
    return f"block {p.block}" if p.block is not None else iso(p.time)


# -- index side -------------------------------------------------------------------------------


def _row(r: Any) -> EventRow:
    return EventRow(
        chain_id=int(r.chain_id),
        block_number=int(r.block_number),
        tx_hash=str(r.tx_hash),
        log_index=int(r.log_index),
        address=str(r.address),
        contract=str(r.contract),
        event=str(r.event),
        args=json.loads(r.args),
        block_time=None if r.block_time is None else int(r.block_time),
        block_hash=str(r.block_hash),
    )


def index_rows(
    engine: Engine, chain_id: int, window: Window, collection: str
) -> tuple[list[EventRow], list[EventRow], int | None, bool]:
    """(rows of the watched contracts in the window, splitter announcements and the collection's
    royalty settings up to the window's end, the last indexed block, whether the index knows the
    collection at all)."""
    if not inspect(engine).has_table("chain_events"):
        raise AuditError(
            f"the database {engine.url.render_as_string(hide_password=True)} has no index "
            "tables; run 'chainright indexer run --once' first"
        )
    from record.index.store import IndexStore

    store = IndexStore(engine)
    with engine.connect() as conn:
        in_window = [
            _row(r)
            for r in conn.execute(
                select(chain_events)
                .where(
                    and_(
                        chain_events.c.chain_id == chain_id,
                        chain_events.c.block_number.between(window.from_block, window.to_block),
                        chain_events.c.contract.in_(WATCHED_CONTRACTS),
                    )
                )
                .order_by(chain_events.c.block_number, chain_events.c.log_index)
            )
        ]
        support = [
            _row(r)
            for r in conn.execute(
                select(chain_events).where(
                    and_(
                        chain_events.c.chain_id == chain_id,
                        chain_events.c.block_number <= window.to_block,
                        or_(
                            and_(
                                chain_events.c.contract == "SplitterFactory",
                                chain_events.c.event == "SplitterCreated",
                            ),
                            and_(
                                chain_events.c.event == "DefaultRoyaltyUpdated",
                                chain_events.c.address == collection,
                            ),
                            and_(
                                chain_events.c.contract == "Marketplace",
                                chain_events.c.event == "AuctionCreated",
                                chain_events.c.ref_address == collection,
                            ),
                        ),
                    )
                )
            )
        ]
        next_block = store.next_block(conn, chain_id, default=-1)
        known = (
            conn.execute(
                select(chain_watch.c.address).where(
                    and_(chain_watch.c.chain_id == chain_id, chain_watch.c.address == collection)
                )
            ).first()
            is not None
            or conn.execute(
                select(chain_events.c.id)
                .where(and_(chain_events.c.chain_id == chain_id, chain_events.c.ref_address == collection))
                .limit(1)
            ).first()
            is not None
        )
    return in_window, support, (next_block - 1 if next_block >= 0 else None), known


# -- chain side -------------------------------------------------------------------------------


def chain_logs(
    web3: Web3,
    decoder: EventDecoder,
    chain_id: int,
    addresses: Mapping[str, str],
    window: Window,
    *,
    chunk: int = 2_000,
    progress: Progress = quiet,
) -> list[EventRow]:
    """Logs of ``addresses`` (address -> contract name) in the window, decoded like the indexer does."""
    if not addresses:
        return []
    wanted = {Web3.to_checksum_address(a): c for a, c in addresses.items()}
    rows: list[EventRow] = []
    start = window.from_block
    while start <= window.to_block:
        end = min(window.to_block, start + chunk - 1)
        progress(f"reading logs of blocks {start}-{end} from chain {chain_id}")
        logs = retry_read(
            lambda s=start, e=end: web3.eth.get_logs(  # type: ignore[misc]
                {"fromBlock": s, "toBlock": e, "address": list(wanted)}
            ),
            what="eth_getLogs",
        )
        for raw in logs:
            contract = wanted.get(Web3.to_checksum_address(raw["address"]))
            event = decoder.decode(contract, raw, chain_id) if contract else None
            if event is not None:
                rows.append(
                    EventRow(
                        chain_id=chain_id,
                        block_number=event.block_number,
                        tx_hash=event.tx_hash,
                        log_index=event.log_index,
                        address=event.address,
                        contract=event.contract,
                        event=event.event,
                        args=json.loads(event.args_json()),
                        block_hash=event.block_hash,
                    )
                )
        start = end + 1
    return rows


def chain_splits(web3: Web3, candidates: Iterable[str]) -> dict[str, Split]:
    """Which of ``candidates`` are splitters (they answer ``recipients()``), with their split."""
    out: dict[str, Split] = {}
    for address in sorted({c.lower() for c in candidates if c and c.lower() != ETH}):
        target = Web3.to_checksum_address(address)
        if not retry_read(lambda t=target: web3.eth.get_code(t), what="eth_getCode"):  # type: ignore[misc]
            continue
        try:
            accounts, bps = (
                web3.eth.contract(address=target, abi=_SPLITTER_VIEW).functions.recipients().call()
            )
        except Exception as exc:  # a contract without recipients() is not a splitter
            log.debug("%s is not a splitter (%s)", address, type(exc).__name__)
            continue
        out[address] = Split(
            address, tuple((str(a).lower(), int(b)) for a, b in zip(accounts, bps, strict=True))
        )
    return out


def auction_lots(
    web3: Web3,
    decoder: EventDecoder,
    chain_id: int,
    marketplace: str | None,
    collection: str,
    window: Window,
    auction_ids: Iterable[str],
) -> dict[str, AuctionLot]:
    """The chain's ``AuctionCreated`` of the settled auctions (the settlement names only the id):
    one ``eth_getLogs`` filtered on the indexed auction ids, up to the window's end."""
    ids = sorted({int(i) for i in auction_ids})
    if not ids or marketplace is None:
        return {}
    topic = "0x" + keccak(text=_AUCTION_CREATED).hex()
    logs = retry_read(
        lambda: web3.eth.get_logs(
            {
                "fromBlock": 0,
                "toBlock": window.to_block,
                "address": Web3.to_checksum_address(marketplace),
                "topics": [topic, ["0x" + i.to_bytes(32, "big").hex() for i in ids]],
            }
        ),
        what="eth_getLogs",
    )
    rows = []
    for raw in logs:
        event = decoder.decode("Marketplace", raw, chain_id)
        if event is not None:
            rows.append(
                EventRow(
                    chain_id,
                    event.block_number,
                    event.tx_hash,
                    event.log_index,
                    event.address,
                    event.contract,
                    event.event,
                    json.loads(event.args_json()),
                )
            )
    return auctions_from(rows, collection)


def receipt_facts(web3: Web3, tx_hashes: Iterable[str]) -> dict[str, ReceiptFacts]:
    out: dict[str, ReceiptFacts] = {}
    for tx in sorted(set(tx_hashes)):
        receipt = retry_read(
            lambda t=tx: web3.eth.get_transaction_receipt(t),  # type: ignore[misc]
            what="eth_getTransactionReceipt",
        )
        out[tx.lower()] = ReceiptFacts(
            int(receipt["status"]),
            "0x" + bytes(HexBytes(receipt["blockHash"])).hex(),
            frozenset(int(lg["logIndex"]) for lg in receipt["logs"]),
        )
    return out


def currencies(web3: Web3, addresses: Iterable[str]) -> dict[str, Currency]:
    out = {ETH: Currency(ETH, "ETH", 18)}
    for address in {a.lower() for a in addresses} - {ETH}:
        token = web3.eth.contract(address=Web3.to_checksum_address(address), abi=_ERC20)
        try:
            out[address] = Currency(
                address, str(token.functions.symbol().call()), int(token.functions.decimals().call())
            )
        except Exception:  # not an ERC-20 that answers: amounts stay in its base units, and say so
            out[address] = Currency(address, f"{address} (base units; decimals unknown)", 0)
    return out


def current_royalty_receiver(web3: Web3, collection: str) -> str | None:
    try:
        receiver, _ = (
            web3.eth.contract(address=Web3.to_checksum_address(collection), abi=_ROYALTY_INFO)
            .functions.royaltyInfo(1, 10_000)
            .call()
        )
    except Exception:
        return None
    return str(receiver).lower()


# -- the whole report -------------------------------------------------------------------------


def make_report(
    web3: Web3,
    engine: Engine,
    decoder: EventDecoder,
    chain_id: int,
    collection: str,
    start: Point,
    stop: Point,
    platform: Mapping[str, str],
    *,
    progress: Progress = quiet,
) -> Report:
    """Read the index and the chain for ``collection`` over the window and build the reconciled report.

    ``platform`` maps the chain's deployed platform contracts (Marketplace, Licensing, HomeLockbox,
    RemoteBridge) to their addresses, from the deployment registry."""
    collection = Web3.to_checksum_address(collection)
    window = resolve_window(web3, start, stop)
    progress(
        f"window: blocks {window.from_block}-{window.to_block} ({iso(window.from_time)} to "
        f"{iso(window.to_time)})"
    )
    progress("reading the index")
    in_window, support, indexed_to, known = index_rows(engine, chain_id, window, collection)
    has_code = bool(retry_read(lambda: web3.eth.get_code(collection), what="eth_getCode"))
    if not known and not has_code:
        raise AuditError(
            f"unknown collection {collection} on chain {chain_id}: no contract there and the "
            "index has no event about it; check the address and --chain"
        )
    index_splits = splits_from(support)
    index_auctions = auctions_from(support, collection)
    index_splitters = splitters_of([*support, *in_window], collection, index_splits, index_auctions)
    index_side = relevant(in_window, collection, index_splitters, window, index_auctions)

    progress("reading the chain")
    core = {a: c for c, a in platform.items() if c in WATCHED_CONTRACTS and c != SPLITTER_CONTRACT}
    chain_core = chain_logs(web3, decoder, chain_id, core, window, progress=progress)
    chain_auctions = auction_lots(
        web3,
        decoder,
        chain_id,
        platform.get("Marketplace"),
        collection,
        window,
        {str(r.arg("auctionId")) for r in chain_core if r.event == "AuctionSettled"},
    )
    current = current_royalty_receiver(web3, collection)
    candidates = (
        {r.addr("royaltyReceiver") for r in chain_core if r.event in ("OrderFilled", "AuctionSettled")}
        | {r.addr("receiver") for r in chain_core if r.event in ("LicenseFeePaid", "LicenseFeeCredited")}
        | set(index_splitters)
        | {current or ""}
    )
    on_chain_splits = chain_splits(web3, candidates)
    chain_splitters = sorted(
        set(splitters_of(chain_core, collection, on_chain_splits, chain_auctions))
        | {s for s in on_chain_splits if s in {*index_splitters, current}}
    )
    chain_split_logs = chain_logs(
        web3,
        decoder,
        chain_id,
        dict.fromkeys(set(chain_splitters), SPLITTER_CONTRACT),
        window,
        progress=progress,
    )
    chain_side = relevant(
        [*chain_core, *chain_split_logs], collection, set(chain_splitters), window, chain_auctions
    )
    progress(f"checking {len({r.tx_hash for r in index_side})} receipts")
    receipts = receipt_facts(web3, [r.tx_hash for r in index_side])

    mismatches = reconcile(index_side, chain_side, window, indexed_to=indexed_to, receipts=receipts)
    for address in sorted(set(index_splitters) | set(chain_splitters)):
        mine, theirs = index_splits.get(address), on_chain_splits.get(address)
        if mine is None or theirs is None or mine.recipients != theirs.recipients:
            mismatches.append(
                Mismatch(
                    "differs",
                    f"splitter {address}",
                    f"recipients in the index {_split_text(mine)}, on the chain {_split_text(theirs)}",
                )
            )
    report = build_report(
        collection,
        chain_id,
        window,
        index_side,
        index_splits,
        indexed_to=indexed_to,
        auctions=index_auctions,
        currencies=currencies(web3, {r.addr("currency") for r in index_side if r.event == "OrderFilled"}),
    )
    report.mismatches = mismatches
    report.compared = len({r.key for r in index_side} | {r.key for r in chain_side})
    return report


def _split_text(split: Split | None) -> str:
    if split is None:
        return "unknown"
    return ", ".join(f"{a} {b} bps" for a, b in split.recipients)
