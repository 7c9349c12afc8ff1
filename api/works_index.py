"""Browse and search, the effects: the catalogue follows the index (``sync_catalog``: minted works
from ``WorkMinted`` with the rights record's creator, sales from ``OrderFilled`` and settled
auctions), and the reads the works routes make (``search``, ``related``, ``enrich``, ``work_page``),
every one a bounded number of indexed queries per page, never one per row. The decisions (what a
search means, cursors, ranking, words) are ``api/browse.py``'s."""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, and_, delete, exists, func, literal, or_, select, tuple_
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from web3 import Web3

from api.browse import (
    NO_PRICE_ASC,
    NO_PRICE_DESC,
    ZERO_PAD,
    Cursor,
    Related,
    Search,
    WorkKey,
    encode_cursor,
    like_pattern,
    pad_wei,
    rank_related,
    sort_key,
    split_in_words,
    terms_in_words,
)
from api.models import (
    Asset,
    AssetTag,
    CatalogLicense,
    CatalogSale,
    CatalogSyncRow,
    CatalogWork,
    CollectionPolicyRow,
    MarketOrder,
)
from chain.cid import cid_from_bytes
from chain.formatting import format_wei
from record.index.store import chain_checkpoints, chain_events

log = logging.getLogger(__name__)

ZERO_ADDRESS = "0x" + "00" * 20
BATCH = 2000
"""Index events read per round of a catalogue sync."""
MAX_EDITION_ROWS = 10_000
"""The API mints at most this many tokens of one work; a larger ``WorkMinted`` is cut here."""
_LOCKS: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)

CollectionInfo = tuple["str | None", "str | None", "int | None"]
"""A collection's ``name()``, and the royalty receiver and bps of one of its tokens (None: the chain
could not say)."""
InfoOf = Callable[[int, str, int], CollectionInfo]


# ---------------------------------------------------------------- following the index


def _args(row: Any) -> dict[str, Any]:
    return dict(json.loads(row.args))


def _rights_event(session: Session, chain_id: int, collection: str, work_id: str) -> Any:
    """The registration (or binding) naming this collection's work: its creator, and its CID."""
    return session.execute(
        select(chain_events.c.args, chain_events.c.event)
        .where(chain_events.c.chain_id == chain_id, chain_events.c.ref_address == collection,
               chain_events.c.token_id == work_id,
               chain_events.c.event.in_(("RightsRegistered", "RightsBound")))
        .order_by(chain_events.c.id.desc()).limit(1)).first()


def _cid_of(session: Session, content_hash: str, rights: dict[str, Any] | None) -> str | None:
    cid = session.execute(select(Asset.cid).where(Asset.content_hash == content_hash)
                          .order_by(Asset.created_at).limit(1)).scalar()
    if cid is None and rights and isinstance(rights.get("cid"), str) and len(rights["cid"]) > 2:
        try:
            cid = cid_from_bytes(bytes.fromhex(rights["cid"][2:]))
        except ValueError:
            cid = None
    return cid


def _minted(session: Session, row: Any, info_of: InfoOf,
            known: dict[str, CollectionInfo]) -> list[CatalogWork]:
    args = _args(row)
    collection = Web3.to_checksum_address(row.address)
    work_id = int(args["workId"])
    quantity = min(int(args.get("quantity", 1)), MAX_EDITION_ROWS)
    content_hash = str(args["contentHash"]).lower()
    rights_row = _rights_event(session, row.chain_id, collection, str(work_id))
    rights = json.loads(rights_row.args) if rights_row else None
    creator = Web3.to_checksum_address(rights["creator"]) if rights and rights.get("creator") else None
    if collection not in known:
        known[collection] = info_of(row.chain_id, collection, work_id)
    name, receiver, bps = known[collection]
    cid = _cid_of(session, content_hash, rights)
    return [CatalogWork(chain_id=row.chain_id, collection=collection, collection_name=name,
                        royalty_receiver=receiver, royalty_bps=bps,
                        token_id=str(work_id + i), work_id=str(work_id), edition_size=quantity,
                        content_hash=content_hash, cid=cid, creator=creator,
                        minted_at=int(row.block_time or 0), event_id=row.id,
                        block_number=int(row.block_number), tx_hash=row.tx_hash) for i in range(quantity)]


def _auction_lot(session: Session, chain_id: int, market: str, auction_id: int) -> dict[str, Any] | None:
    """``AuctionCreated`` of an auction id (its args start with ``{"auctionId": N,`` as stored)."""
    found = session.execute(
        select(chain_events.c.args).where(
            chain_events.c.chain_id == chain_id, chain_events.c.contract == "Marketplace",
            chain_events.c.event == "AuctionCreated", chain_events.c.address == market,
            chain_events.c.args.like(f'{{"auctionId": {auction_id},%'))
        .limit(1)).scalar()
    return json.loads(found) if found else None


def _sale(session: Session, row: Any) -> CatalogSale | None:
    args = _args(row)
    if row.event == "OrderFilled":
        return CatalogSale(
            event_id=row.id, chain_id=row.chain_id, collection=Web3.to_checksum_address(args["token"]),
            token_id=str(args["tokenId"]), buyer=Web3.to_checksum_address(args["buyer"]),
            seller=Web3.to_checksum_address(args["seller"]), unit_price=str(int(args["unitPrice"])),
            quantity=str(int(args["amount"])), currency=Web3.to_checksum_address(args["currency"]),
            kind="offer" if int(args.get("side", 0)) == 1 else "listing", block_time=row.block_time,
            tx_hash=row.tx_hash, block_number=int(row.block_number))
    winner = args.get("winner")
    if not winner or winner == ZERO_ADDRESS:
        return None
    lot = _auction_lot(session, row.chain_id, row.address, int(args["auctionId"]))
    if lot is None:
        return None
    quantity = max(int(lot.get("quantity", 1)), 1)
    return CatalogSale(
        event_id=row.id, chain_id=row.chain_id, collection=Web3.to_checksum_address(lot["token"]),
        token_id=str(lot["tokenId"]), buyer=Web3.to_checksum_address(winner),
        seller=Web3.to_checksum_address(lot["seller"]), unit_price=str(int(args["amount"]) // quantity),
        quantity=str(quantity), currency=ZERO_ADDRESS, kind="auction", block_time=row.block_time,
        tx_hash=row.tx_hash, block_number=int(row.block_number))


def _license(session: Session, row: Any) -> CatalogLicense | None:
    """Terms attached to a token, with their flags read from the terms' ``LicenseTermsPublished``
    (published before any attach; None when the index does not hold it)."""
    args = _args(row)
    terms_hash = str(args["termsHash"])
    published = _by_arg(session, row.chain_id, "Licensing", "LicenseTermsPublished", "termsHash", terms_hash)
    if published is None:
        return None
    terms = _args(published)["terms"]
    return CatalogLicense(event_id=row.id, chain_id=row.chain_id,
                          collection=Web3.to_checksum_address(args["collection"]),
                          token_id=str(int(args["tokenId"])), terms_hash=terms_hash,
                          commercial=bool(terms[0]), derivatives=bool(terms[1]), tx_hash=row.tx_hash,
                          block_number=int(row.block_number))


_WANTED = {("CreatorCollection", "WorkMinted"), ("Marketplace", "OrderFilled"),
           ("Marketplace", "AuctionSettled"), ("Licensing", "LicenseTermsAttached")}
"""The index's events the catalogue applies (every other event only moves the watermark)."""
_SEEN: dict[tuple[int, int], tuple[Any, ...]] = {}
"""Per database and chain: the probe this process read at its last catalogue sync."""


def sync_catalog(session: Session, chain_id: int, info_of: InfoOf) -> int:
    """Apply the index's events of ``chain_id`` past the catalogue's watermark, in the order they
    were indexed (a range of primary keys: what was read since is all that is read again); returns
    how many catalogue events were applied. Idempotent: a token or sale already there is kept. The
    watermark row is locked FOR UPDATE on PostgreSQL (two API processes apply an event once)."""
    if session.get(CatalogSyncRow, chain_id) is None:
        try:
            with session.begin_nested():
                session.add(CatalogSyncRow(chain_id=chain_id, last_event_id=0, updated_at=datetime.now(UTC)))
        except IntegrityError:
            pass  # another process made it
    mark = session.execute(select(CatalogSyncRow).where(CatalogSyncRow.chain_id == chain_id)
                           .with_for_update()).scalar_one()
    known: dict[str, CollectionInfo] = {}
    last, applied = mark.last_event_id, 0
    reorged = _reorged_from(session, chain_id)
    if reorged is not None:  # the index dropped blocks from here on: so does the catalogue, then re-reads
        for table in (CatalogWork, CatalogSale, CatalogLicense):
            session.execute(delete(table).where(table.chain_id == chain_id, table.block_number >= reorged))
        last = session.execute(select(func.max(chain_events.c.id)).where(
            chain_events.c.chain_id == chain_id, chain_events.c.block_number < reorged)).scalar() or 0
        log.warning("catalogue of chain %d: the index dropped blocks from %d (a reorg); re-reading them",
                    chain_id, reorged)
    while True:
        rows = session.execute(
            select(chain_events).where(chain_events.c.chain_id == chain_id, chain_events.c.id > last)
            .order_by(chain_events.c.id).limit(BATCH)).all()
        for row in rows:
            last = row.id
            if (row.contract, row.event) not in _WANTED:
                continue
            applied += 1
            try:
                with session.begin_nested():
                    if row.event == "WorkMinted":
                        session.add_all(_minted(session, row, info_of, known))
                    elif row.event == "LicenseTermsAttached":
                        terms = _license(session, row)
                        if terms is not None and session.get(CatalogLicense, row.id) is None:
                            session.add(terms)
                    else:
                        sale = _sale(session, row)
                        if sale is not None and session.get(CatalogSale, row.id) is None:
                            session.add(sale)
            except IntegrityError:  # already catalogued (another request got there first)
                log.debug("catalogue: event %d of chain %d already applied", row.id, chain_id)
            except (KeyError, ValueError, TypeError) as exc:  # an event we cannot read: skipped, said
                log.warning("catalogue: event %d of chain %d skipped: %s", row.id, chain_id, exc)
        if len(rows) < BATCH:
            break
    if last != mark.last_event_id or reorged is not None:
        mark.last_event_id, mark.updated_at = last, datetime.now(UTC)
        session.flush()
    return applied


def _reorged_from(session: Session, chain_id: int, batch: int = 50) -> int | None:
    """The first block whose catalogued events the index no longer holds (``IndexStore.drop_from``
    after a reorg drops a suffix of blocks), or None. Newest rows first, by (event id, transaction):
    usually one lookup of the newest row; rows older than one whose event stands are sound."""
    gone: list[int] = []
    for table in (CatalogWork, CatalogSale, CatalogLicense):
        offset = 0
        while True:
            rows = session.execute(
                select(table.event_id, table.tx_hash, table.block_number).where(table.chain_id == chain_id)
                .distinct().order_by(table.event_id.desc()).limit(batch).offset(offset)).all()
            if not rows:
                break
            held = {(r.id, r.tx_hash) for r in session.execute(
                select(chain_events.c.id, chain_events.c.tx_hash)
                .where(chain_events.c.id.in_([r.event_id for r in rows]))).all()}
            standing = [r for r in rows if (r.event_id, r.tx_hash) in held]
            gone += [int(r.block_number) for r in rows if (r.event_id, r.tx_hash) not in held
                     and (not standing or r.event_id > standing[0].event_id)]
            if standing:
                break
            offset += batch
    return min(gone) if gone else None


def _probe(conn: Any, chain_id: int) -> tuple[Any, ...]:
    """The newest event id (any chain: one primary-key lookup), the chain's indexer checkpoint and
    the catalogue's watermark, in one select (as ``market_sync.index_probe`` does for the book)."""
    newest = select(func.max(chain_events.c.id)).scalar_subquery()
    checkpoint = (select(chain_checkpoints.c.next_block)
                  .where(chain_checkpoints.c.chain_id == chain_id).scalar_subquery())
    mark = select(CatalogSyncRow.last_event_id).where(CatalogSyncRow.chain_id == chain_id).scalar_subquery()
    return tuple(conn.execute(select(newest, checkpoint, mark)).one())


def follow_catalog(database: Any, chain_id: int, info_of: InfoOf) -> int:
    """``sync_catalog`` in its own transaction, one at a time per chain in this process; nothing
    (not even a write) when the probe reads what it read at this process's last sync: a read
    request costs one select when nothing was indexed since.

    A database too busy to take the write (SQLite: the indexer holds it past the busy timeout, or
    committed between this transaction's first read and its first write, which SQLite refuses at
    once) is tried once more in a new transaction, then left: the read answers from the catalogue
    as it stands and the next read catches up. A read never fails because the indexer is writing."""
    key = (id(database), chain_id)
    with database.engine.connect() as conn:
        probe = _probe(conn, chain_id)
    if probe[0] is None or _SEEN.get(key) == probe:
        return 0
    with _LOCKS[chain_id]:
        for attempt in (1, 2):
            try:
                with database.session() as session:
                    applied = sync_catalog(session, chain_id, info_of)
                    mark = session.get(CatalogSyncRow, chain_id)
                    last = mark.last_event_id if mark is not None else None
                break
            except OperationalError as exc:
                if "locked" not in str(exc.orig).lower():  # not contention: a real failure, said
                    raise
                if attempt == 2:
                    log.warning("catalogue of chain %d not followed before this read (the database is "
                                "busy: %s); answering from the catalogue as it stands", chain_id, exc.orig)
                    return 0
        _SEEN[key] = (probe[0], probe[1], last)
        return applied


def refresh(database: Any, gateway: Any) -> None:
    """Before a read: the order book follows the index (listings filled, cancelled or stale are not
    served as open) and the catalogue follows it, on every chain served. A chain that cannot answer
    leaves the book as it was: the read still answers from the index."""
    from api.market_sync import follow_chain

    def read(chain_id: int, collection: str, fn: str, args: list[Any]) -> Any:
        try:
            return gateway.view(chain_id, collection, "CreatorCollection", fn, args)
        except Exception as exc:  # a chain down or a contract without the view: not shown
            log.debug("no %s() for %s on chain %d: %s", fn, collection, chain_id, exc)
            return None

    def info_of(chain_id: int, collection: str, token_id: int) -> CollectionInfo:
        name = read(chain_id, collection, "name", [])
        royalty = read(chain_id, collection, "royaltyInfo", [token_id, 10_000])
        receiver, bps = (Web3.to_checksum_address(royalty[0]), int(royalty[1])) if royalty else (None, None)
        return (str(name)[:128] if name is not None else None), receiver, bps

    for spec in gateway.specs():
        try:
            follow_chain(database, gateway, spec.chain_id)
        except Exception as exc:  # the book's chain reads failed: serve what the book holds
            log.warning("order book of chain %d not followed before a catalogue read: %s", spec.chain_id, exc)
        follow_catalog(database, spec.chain_id, info_of)


# ---------------------------------------------------------------- reads


@dataclass
class WorkRow:
    """One catalogue row with what a page shows (filled by ``search`` then ``enrich``)."""

    id: int
    chain_id: int
    collection: str
    collection_name: str | None
    royalty_receiver: str | None
    royalty_bps: int | None
    token_id: str
    work_id: str
    edition_size: int
    content_hash: str
    cid: str | None
    creator: str | None
    minted_at: int
    title: str | None
    description: str | None
    filename: str | None
    media_type: str | None
    price_wei: int | None = None
    listing: str | None = None
    """The cheapest open listing's order hash."""
    price_currency: str | None = None
    """That listing's currency (the zero address: ETH)."""
    tags: list[str] = field(default_factory=list)
    split: list[tuple[str, int]] = field(default_factory=list)
    royalty_text: str | None = None
    licenses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> WorkKey:
        return (self.chain_id, self.collection, self.token_id)


def _padded(column: Any) -> Any:
    """``column`` (decimal wei text) left-padded to 78 digits, in SQL both databases speak."""
    return func.substr(literal(ZERO_PAD, String) + column, func.length(column) + 1)


def _open(now: int, side: str) -> Any:
    return and_(MarketOrder.side == side, MarketOrder.status == "open", MarketOrder.expiry > now,
                MarketOrder.start <= now)


def _columns() -> tuple[Any, ...]:
    return (CatalogWork.id, CatalogWork.chain_id, CatalogWork.collection, CatalogWork.collection_name,
            CatalogWork.token_id, CatalogWork.work_id, CatalogWork.edition_size, CatalogWork.content_hash,
            CatalogWork.cid, CatalogWork.creator, CatalogWork.minted_at, CatalogWork.royalty_receiver,
            CatalogWork.royalty_bps, Asset.title, Asset.description,
            Asset.filename, Asset.media_type)


def _row(r: Any) -> WorkRow:
    return WorkRow(id=r.id, chain_id=int(r.chain_id), collection=r.collection,
                   collection_name=r.collection_name, royalty_receiver=r.royalty_receiver,
                   royalty_bps=r.royalty_bps, token_id=r.token_id, work_id=r.work_id,
                   edition_size=r.edition_size,
                   content_hash=r.content_hash, cid=r.cid, creator=r.creator, minted_at=int(r.minted_at or 0),
                   title=r.title, description=r.description, filename=r.filename, media_type=r.media_type)


def _in_currency(currency: str | None) -> list[Any]:
    return [] if currency is None else [MarketOrder.currency == currency]


def _offers_license(kind: str) -> Any:
    """EXISTS terms of this kind attached to the row's token (``api.browse.LICENSE_KINDS``)."""
    where = [CatalogLicense.chain_id == CatalogWork.chain_id,
             CatalogLicense.collection == CatalogWork.collection,
             CatalogLicense.token_id == CatalogWork.token_id]
    if kind == "commercial":
        where.append(CatalogLicense.commercial.is_(True))
    elif kind == "personal":
        where.append(CatalogLicense.commercial.is_(False))
    elif kind == "derivatives":
        where.append(CatalogLicense.derivatives.is_(True))
    return exists().where(*where)


def _in_jurisdiction(profile: str) -> Any:
    """The row's collection has this jurisdiction profile (``api.browse.JURISDICTIONS``); a
    collection without a policy row is ``open``."""
    same = [CollectionPolicyRow.chain_id == CatalogWork.chain_id,
            CollectionPolicyRow.collection == CatalogWork.collection]
    if profile == "open":
        return ~exists().where(*same, or_(CollectionPolicyRow.secondary_sales.is_(False),
                                          CollectionPolicyRow.gift_holding_s > 0,
                                          CollectionPolicyRow.identity_required.is_(True)))
    rule = {"no_resale": CollectionPolicyRow.secondary_sales.is_(False),
            "holding_period": CollectionPolicyRow.gift_holding_s > 0,
            "verified_only": CollectionPolicyRow.identity_required.is_(True)}[profile]
    return exists().where(*same, rule)


def search_statement(s: Search, now: int) -> Any:
    """The one SELECT a search runs (built, not run: unit tests read it, EXPLAIN it)."""
    stmt = select(*_columns()).select_from(CatalogWork).outerjoin(Asset, Asset.cid == CatalogWork.cid)
    price: Any = None
    if s.needs_price:
        best = (select(MarketOrder.chain_id, MarketOrder.token, MarketOrder.token_id,
                       func.min(_padded(MarketOrder.unit_price)).label("price_key"))
                .where(_open(now, "listing"), *_in_currency(s.currency))
                .group_by(MarketOrder.chain_id, MarketOrder.token, MarketOrder.token_id).subquery("best"))
        stmt = stmt.outerjoin(best, and_(best.c.chain_id == CatalogWork.chain_id,
                                         best.c.token == CatalogWork.collection,
                                         best.c.token_id == CatalogWork.token_id))
        price = best.c.price_key
        stmt = stmt.add_columns(price)
    for word in s.words:
        pattern = like_pattern(word)
        stmt = stmt.where(or_(*(func.lower(column).like(pattern, escape="\\") for column in (
            Asset.title, Asset.description, Asset.filename, CatalogWork.collection_name))))
    for tag in s.tags:
        stmt = stmt.where(exists().where(AssetTag.cid == CatalogWork.cid, AssetTag.tag == tag))
    if s.creator is not None:
        stmt = stmt.where(CatalogWork.creator == s.creator)
    if s.media_type is not None:
        stmt = stmt.where(Asset.media_type == s.media_type if "/" in s.media_type
                          else Asset.media_type.like(s.media_type + "/%"))
    if s.chain_id is not None:
        stmt = stmt.where(CatalogWork.chain_id == s.chain_id)
    if s.collection is not None:
        stmt = stmt.where(CatalogWork.collection == s.collection)
    if s.listed or s.currency is not None:
        stmt = stmt.where(price.is_not(None))
    if s.min_price is not None:
        stmt = stmt.where(price >= pad_wei(s.min_price))
    if s.max_price is not None:
        stmt = stmt.where(price <= pad_wei(s.max_price))
    if s.license is not None:
        stmt = stmt.where(_offers_license(s.license))
    if s.jurisdiction is not None:
        stmt = stmt.where(_in_jurisdiction(s.jurisdiction))
    c = s.cursor
    if s.sort == "newest":
        if c is not None:
            at = int(c.key or 0)
            stmt = stmt.where(or_(CatalogWork.minted_at < at,
                                  and_(CatalogWork.minted_at == at, CatalogWork.id < c.row_id)))
        stmt = stmt.order_by(CatalogWork.minted_at.desc(), CatalogWork.id.desc())
    elif s.sort == "price_asc":
        key = func.coalesce(price, NO_PRICE_ASC)
        if c is not None:
            stmt = stmt.where(or_(key > c.key, and_(key == c.key, CatalogWork.id > c.row_id)))
        stmt = stmt.order_by(key.asc(), CatalogWork.id.asc())
    else:
        key = func.coalesce(price, NO_PRICE_DESC)
        if c is not None:
            stmt = stmt.where(or_(key < c.key, and_(key == c.key, CatalogWork.id < c.row_id)))
        stmt = stmt.order_by(key.desc(), CatalogWork.id.desc())
    return stmt.limit(s.limit + 1)


def search(session: Session, s: Search, now: int) -> tuple[list[WorkRow], str | None]:
    """One page of works and the cursor of the next page (None: this was the last)."""
    result = session.execute(search_statement(s, now)).all()
    more = len(result) > s.limit
    result = result[: s.limit]
    rows = [_row(r) for r in result]
    enrich(session, rows, now, currency=s.currency)
    cursor = None
    if more and rows:
        last, raw = rows[-1], result[-1]
        price_key = getattr(raw, "price_key", None) if s.needs_price else None
        key = str(last.minted_at) if s.sort == "newest" else sort_key(s.sort, None, price_key)
        cursor = encode_cursor(Cursor(s.sort, key, last.id))
    return rows, cursor


def rows_for(session: Session, keys: Sequence[WorkKey], now: int) -> dict[WorkKey, WorkRow]:
    """The catalogue rows of these tokens, enriched (one query, then ``enrich``'s few)."""
    if not keys:
        return {}
    stmt = (select(*_columns()).select_from(CatalogWork).outerjoin(Asset, Asset.cid == CatalogWork.cid)
            .where(tuple_(CatalogWork.chain_id, CatalogWork.collection, CatalogWork.token_id)
                   .in_(list(keys))))
    rows = [_row(r) for r in session.execute(stmt).all()]
    enrich(session, rows, now)
    return {r.key: r for r in rows}


def _events(session: Session, chain_id: int, refs: Iterable[str], event: str,
            token_ids: Iterable[str] | None = None) -> list[Any]:
    where = [chain_events.c.chain_id == chain_id, chain_events.c.ref_address.in_(sorted(set(refs))),
             chain_events.c.event == event]
    if token_ids is not None:
        where.append(chain_events.c.token_id.in_(sorted(set(token_ids))))
    return list(session.execute(select(chain_events).where(*where).order_by(chain_events.c.id)).all())


def _by_arg(session: Session, chain_id: int, contract: str, event: str, name: str, value: str) -> Any:
    """The newest event whose JSON args hold ``"name": "value"`` (scoped by the event index)."""
    return session.execute(
        select(chain_events).where(
            chain_events.c.chain_id == chain_id, chain_events.c.contract == contract,
            chain_events.c.event == event, chain_events.c.args.like(f'%"{name}": "{value}"%'))
        .order_by(chain_events.c.id.desc()).limit(1)).first()


def enrich(session: Session, rows: list[WorkRow], now: int, currency: str | None = None) -> None:
    """Fill a page's rows: price (cheapest open listing; in ``currency`` only when given), tags,
    royalty and its split, license terms in words. A fixed number of queries per page and per
    chain, plus one per distinct splitter and distinct terms on the page."""
    if not rows:
        return
    keys = [r.key for r in rows]
    listings = session.execute(
        select(MarketOrder.chain_id, MarketOrder.token, MarketOrder.token_id, MarketOrder.unit_price,
               MarketOrder.order_hash, MarketOrder.currency)
        .where(tuple_(MarketOrder.chain_id, MarketOrder.token, MarketOrder.token_id).in_(keys),
               _open(now, "listing"), *_in_currency(currency))).all()
    cheapest: dict[WorkKey, tuple[int, str, str]] = {}
    for o in listings:
        k = (int(o.chain_id), o.token, o.token_id)
        if k not in cheapest or int(o.unit_price) < cheapest[k][0]:
            cheapest[k] = (int(o.unit_price), o.order_hash, o.currency)
    cids = sorted({r.cid for r in rows if r.cid})
    tags: defaultdict[str, list[str]] = defaultdict(list)
    if cids:
        for t in session.execute(select(AssetTag.cid, AssetTag.tag).where(AssetTag.cid.in_(cids))
                                 .order_by(AssetTag.tag)).all():
            tags[t.cid].append(t.tag)
    by_chain: defaultdict[int, list[WorkRow]] = defaultdict(list)
    for r in rows:
        by_chain[r.chain_id].append(r)
        r.tags = tags.get(r.cid or "", [])
        if r.key in cheapest:
            r.price_wei, r.listing, r.price_currency = cheapest[r.key]
    for chain_id, part in by_chain.items():
        collections = {r.collection for r in part}
        royalty: dict[str, tuple[str, int]] = {
            r.collection: (r.royalty_receiver, r.royalty_bps) for r in part
            if r.royalty_receiver is not None and r.royalty_bps is not None}
        for e in _events(session, chain_id, collections, "DefaultRoyaltyUpdated"):
            a = _args(e)
            royalty[e.ref_address] = (Web3.to_checksum_address(a["receiver"]), int(a["bps"]))
        splits: dict[str, list[tuple[str, int]]] = {}
        for receiver, _bps in set(royalty.values()):
            made = _by_arg(session, chain_id, "SplitterFactory", "SplitterCreated", "splitter", receiver)
            if made is not None:
                a = _args(made)
                splits[receiver] = [(Web3.to_checksum_address(x), int(b))
                                    for x, b in zip(a["recipients"], a["bps"], strict=False)]
        attached: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
        for e in _events(session, chain_id, collections, "LicenseTermsAttached", [r.token_id for r in part]):
            h = str(_args(e)["termsHash"])
            if h not in attached[(e.ref_address, e.token_id)]:
                attached[(e.ref_address, e.token_id)].append(h)
        terms: dict[str, dict[str, Any]] = {}
        for h in {h for hs in attached.values() for h in hs}:
            published = _by_arg(session, chain_id, "Licensing", "LicenseTermsPublished", "termsHash", h)
            if published is not None:
                t = _args(published)["terms"]
                fee = int(t[7])
                terms[h] = {"terms_hash": h, "fee_wei": str(fee),
                            "summary": terms_in_words(t, format_wei(fee))}
        for r in part:
            if r.collection in royalty:
                r.royalty_receiver, r.royalty_bps = royalty[r.collection]
            if r.royalty_receiver is not None and r.royalty_bps:
                r.split = splits.get(r.royalty_receiver, [])
                r.royalty_text = split_in_words(r.royalty_bps, r.split)
            r.licenses = [terms[h] for h in attached.get((r.collection, r.token_id), []) if h in terms]


@dataclass
class CollectionRow:
    """A collection in the catalogue: its works, floor price now, royalty (from a sample row)."""

    chain_id: int
    collection: str
    name: str | None
    creators: list[str]
    tokens: int
    works: int
    listed: int
    floor_wei: int | None
    last_minted_at: int
    sample: WorkRow | None


def collections(session: Session, now: int, *, chain_id: int | None = None, creator: str | None = None,
                limit: int = 50, offset: int = 0) -> list[CollectionRow]:
    """Collections with catalogued works, the most recently minted into first: one GROUP BY, then
    one query for their open listings and one ``enrich`` of a sample work each."""
    stmt = (select(CatalogWork.chain_id, CatalogWork.collection,
                   func.max(CatalogWork.collection_name).label("name"), func.count().label("tokens"),
                   func.count(func.distinct(CatalogWork.work_id)).label("works"),
                   func.max(CatalogWork.minted_at).label("last"), func.min(CatalogWork.id).label("sample"))
            .group_by(CatalogWork.chain_id, CatalogWork.collection))
    if chain_id is not None:
        stmt = stmt.where(CatalogWork.chain_id == chain_id)
    if creator is not None:
        stmt = stmt.where(CatalogWork.creator == creator)
    groups = session.execute(stmt.order_by(func.max(CatalogWork.minted_at).desc(), CatalogWork.collection)
                             .limit(limit).offset(offset)).all()
    if not groups:
        return []
    keys = [(int(g.chain_id), g.collection) for g in groups]
    listings = session.execute(
        select(MarketOrder.chain_id, MarketOrder.token, MarketOrder.token_id, MarketOrder.unit_price)
        .where(tuple_(MarketOrder.chain_id, MarketOrder.token).in_(keys), _open(now, "listing"))).all()
    floor: dict[tuple[int, str], int] = {}
    listed: defaultdict[tuple[int, str], set[str]] = defaultdict(set)
    for o in listings:
        k = (int(o.chain_id), o.token)
        floor[k] = min(floor.get(k, int(o.unit_price)), int(o.unit_price))
        listed[k].add(o.token_id)
    samples = {r.id: r for r in (_row(x) for x in session.execute(
        select(*_columns()).select_from(CatalogWork).outerjoin(Asset, Asset.cid == CatalogWork.cid)
        .where(CatalogWork.id.in_([g.sample for g in groups]))).all())}
    enrich(session, list(samples.values()), now)
    makers: defaultdict[tuple[int, str], set[str]] = defaultdict(set)
    for c in session.execute(select(CatalogWork.chain_id, CatalogWork.collection, CatalogWork.creator)
                             .where(tuple_(CatalogWork.chain_id, CatalogWork.collection).in_(keys))
                             .distinct()).all():
        if c.creator:
            makers[(int(c.chain_id), c.collection)].add(c.creator)
    return [CollectionRow(chain_id=int(g.chain_id), collection=g.collection, name=g.name,
                          creators=sorted(makers[(int(g.chain_id), g.collection)]), tokens=int(g.tokens),
                          works=int(g.works), listed=len(listed[(int(g.chain_id), g.collection)]),
                          floor_wei=floor.get((int(g.chain_id), g.collection)),
                          last_minted_at=int(g.last or 0),
                          sample=samples.get(g.sample)) for g in groups]


def related(session: Session, key: WorkKey, now: int,
            limit: int = 10) -> tuple[WorkRow | None, list[tuple[Related, WorkRow]]]:
    """Works related to ``key``: sharing its tags (one join on the tag index) or bought by its
    buyers (two queries on the sales' token and buyer indexes), ranked by ``rank_related``. A sale
    from a wallet to itself, and the work's own creator as a buyer, link nothing: a seller cannot
    tie her works to a popular one by buying both herself."""
    subject = rows_for(session, [key], now).get(key)
    if subject is None:
        return None, []
    shared: defaultdict[WorkKey, set[str]] = defaultdict(set)
    if subject.tags:
        for r in session.execute(
                select(CatalogWork.chain_id, CatalogWork.collection, CatalogWork.token_id, AssetTag.tag)
                .join(CatalogWork, CatalogWork.cid == AssetTag.cid)
                .where(AssetTag.tag.in_(subject.tags), AssetTag.cid != subject.cid).limit(5000)).all():
            shared[(int(r.chain_id), r.collection, r.token_id)].add(r.tag)
    buyers = sorted(set(session.execute(
        select(CatalogSale.buyer).where(CatalogSale.chain_id == key[0], CatalogSale.collection == key[1],
                                        CatalogSale.token_id == key[2],
                                        CatalogSale.buyer != CatalogSale.seller)).scalars()))
    if subject.creator in buyers:  # a creator buying back her own work says nothing about taste
        buyers.remove(subject.creator)
    co: defaultdict[WorkKey, set[str]] = defaultdict(set)
    if buyers:
        for r in session.execute(
                select(CatalogSale.chain_id, CatalogSale.collection, CatalogSale.token_id, CatalogSale.buyer)
                .where(CatalogSale.buyer.in_(buyers), CatalogSale.buyer != CatalogSale.seller)
                .limit(5000)).all():
            co[(int(r.chain_id), r.collection, r.token_id)].add(r.buyer)
    if subject.cid:  # the other tokens of this very work are not "related"
        same = {(int(r.chain_id), r.collection, r.token_id) for r in session.execute(
            select(CatalogWork.chain_id, CatalogWork.collection, CatalogWork.token_id)
            .where(CatalogWork.cid == subject.cid)).all()}
        for k in same:
            co.pop(k, None)
    ranked = rank_related(key, shared, co, limit)
    found = rows_for(session, [r.key for r in ranked], now)
    return subject, [(r, found[r.key]) for r in ranked if r.key in found]


# ---------------------------------------------------------------- one work's page


@dataclass
class WorkPage:
    """What a work's page shows beyond its chain reads (api/web/catalog.py adds those)."""

    row: WorkRow | None
    listings: list[MarketOrder]
    offers: list[MarketOrder]
    sales: list[CatalogSale]
    auction: dict[str, Any] | None
    provenance: dict[str, Any]


def _auction_of(session: Session, chain_id: int, collection: str, token_id: str,
                now: int) -> dict[str, Any] | None:
    created = _events(session, chain_id, [collection], "AuctionCreated", [token_id])
    if not created:
        return None
    last = created[-1]
    a = _args(last)
    auction_id = int(a["auctionId"])
    status = "open"
    high: tuple[str, int] | None = None
    end = int(a["end"])
    for event in ("BidPlaced", "AuctionSettled", "AuctionCancelled", "AuctionUnwound"):
        found = session.execute(select(chain_events.c.args).where(
            chain_events.c.chain_id == chain_id, chain_events.c.contract == "Marketplace",
            chain_events.c.event == event, chain_events.c.address == last.address,
            or_(chain_events.c.args.like(f'{{"auctionId": {auction_id},%'),
                chain_events.c.args.like(f'{{"auctionId": {auction_id}}}')))
            .order_by(chain_events.c.id.desc()).limit(1)).scalar()
        if found is None:
            continue
        b = json.loads(found)
        if event == "BidPlaced":
            high, end = (Web3.to_checksum_address(b["bidder"]), int(b["amount"])), int(b["end"])
        else:
            status = {"AuctionSettled": "settled", "AuctionCancelled": "cancelled",
                      "AuctionUnwound": "unwound"}[event]
    if status == "open" and int(a["start"]) <= now < end:
        status = "live"
    elif status == "open" and now >= end:
        status = "ended"
    return {"auction_id": auction_id, "status": status, "seller": a["seller"],
            "reserve_wei": int(a["reservePrice"]),
            "start": int(a["start"]), "end": end, "high_bidder": high[0] if high else None,
            "high_bid_wei": high[1] if high else None}


def work_page(session: Session, key: WorkKey, now: int) -> WorkPage:
    """A work's catalogue row, open listings and offers (cheapest / dearest first), sales (oldest
    first), its latest auction, and a provenance summary from the index."""
    chain_id, collection, token_id = key
    row = rows_for(session, [key], now).get(key)
    book = select(MarketOrder).where(MarketOrder.chain_id == chain_id, MarketOrder.token == collection,
                                     MarketOrder.token_id == token_id)
    listings = sorted(session.execute(book.where(_open(now, "listing"))).scalars(),
                      key=lambda o: int(o.unit_price))
    offers = sorted(session.execute(book.where(_open(now, "offer"))).scalars(),
                    key=lambda o: -int(o.unit_price))
    sales = list(session.execute(select(CatalogSale).where(
        CatalogSale.chain_id == chain_id, CatalogSale.collection == collection,
        CatalogSale.token_id == token_id).order_by(CatalogSale.event_id)).scalars())
    story = list(session.execute(
        select(chain_events.c.event, chain_events.c.args, chain_events.c.block_time)
        .where(chain_events.c.chain_id == chain_id, chain_events.c.ref_address == collection,
               chain_events.c.token_id == token_id)
        .order_by(chain_events.c.id)).all())
    holders: list[str] = []
    transfers = licenses = departures = 0
    for e in story:
        if e.event == "Transfer":
            to = json.loads(e.args).get("to")
            if json.loads(e.args).get("from") != ZERO_ADDRESS:
                transfers += 1
            if to and to != ZERO_ADDRESS and to not in holders:
                holders.append(to)
        elif e.event == "LicenseGranted":
            licenses += 1
        elif e.event in ("TokenLocked", "TokenBurned"):
            departures += 1
    times = [int(e.block_time) for e in story if e.block_time]
    provenance = {
        "events": len(story), "transfers": transfers, "holders": len(holders), "sales": len(sales),
        "licenses_granted": licenses, "bridge_departures": departures,
        "minted_at": row.minted_at if row and row.minted_at else (min(times) if times else None),
        "last_activity_at": max(times) if times else None,
        "story": f"/provenance/{chain_id}/{collection}/{token_id}",
        "bundle": f"/provenance/{chain_id}/{collection}/{token_id}/bundle",
    }
    return WorkPage(row=row, listings=listings, offers=offers, sales=sales,
                    auction=_auction_of(session, chain_id, collection, token_id, now), provenance=provenance)
