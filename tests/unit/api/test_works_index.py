"""The catalogue against a real database (SQLite and PostgreSQL), fed index rows by hand: the sync
catalogues mints (editions token by token, the rights record's creator) and sales once; a search
filters, sorts and pages without repeating or skipping a row; a user's LIKE wildcards match only
themselves; related works are ranked by tags and buyers; the queries use the indexes (EXPLAIN, SQLite)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import count

import pytest
from sqlalchemy import event, text
from web3 import Web3

from api.browse import make_search
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
from api.works_index import (
    collections,
    follow_catalog,
    related,
    search,
    search_statement,
    sync_catalog,
    work_page,
)
from record.index.store import chain_events

pytestmark = pytest.mark.unit

CHAIN = 31337
COLL, OTHER, MARKET, LICENSING, SPLITS, SPLITTER, CREATOR, ALICE, BOB, CAROL = (
    Web3.to_checksum_address("0x" + b * 20) for b in ("c0", "c1", "4d", "1c", "5f", "5a", "cc", "a1", "b0", "ca"))
ETH = 10**18
NOW = 1_800_000_000
_log = count(1)


def _event(conn, *, address, contract, event, args, ref=None, token_id=None, block_time=NOW - 100):
    n = next(_log)
    conn.execute(chain_events.insert().values(
        chain_id=CHAIN, block_number=n, block_hash="0x" + "00" * 32, block_time=block_time,
        tx_hash="0x" + f"{n:064x}", log_index=0, address=address, contract=contract, event=event,
        ref_address=ref or address, token_id=token_id, args=json.dumps(args, sort_keys=True)))


def _work(db, conn, cid, title, *, tags=(), media="image/png", work_id=1, quantity=1, coll=COLL,
          at=NOW - 100, description=None):
    content_hash = "0x" + cid[-2:] * 32
    db.add(Asset(cid=cid, content_hash=content_hash, size=1, media_type=media, filename=f"{cid}.bin",
                 uploader=f"did:pkh:eip155:{CHAIN}:{CREATOR}", store="local", created_at=datetime.now(UTC),
                 title=title, description=description))
    for tag in tags:
        db.add(AssetTag(cid=cid, tag=tag))
    _event(conn, address="0x" + "EE" * 20, contract="RightsRegistry", event="RightsRegistered", ref=coll,
           token_id=str(work_id), args={"contentHash": content_hash, "creator": CREATOR, "collection": coll,
                                        "tokenId": work_id, "cid": "0x01"}, block_time=at)
    _event(conn, address=coll, contract="CreatorCollection", event="WorkMinted", token_id=str(work_id),
           args={"workId": work_id, "contentHash": content_hash, "quantity": quantity}, block_time=at)


def _listing(db, order_hash, token_id, price, *, coll=COLL, status="open", expiry=NOW + 3600, side="listing"):
    db.add(MarketOrder(order_hash=order_hash, chain_id=CHAIN, side=side, signer=CREATOR, token=coll,
                       token_id=str(token_id), standard=0, quantity="1", unit_price=str(price),
                       currency="0x" + "00" * 20, start=0, expiry=expiry, salt="1", counter="0",
                       signature="0x", status=status, created_at=datetime.now(UTC)))


def _fill(conn, token_id, buyer, price, coll=COLL, seller=CREATOR):
    _event(conn, address=MARKET, contract="Marketplace", event="OrderFilled", ref=coll, token_id=str(token_id),
           args={"orderHash": "0x" + "00" * 32, "seller": seller, "buyer": buyer, "side": 0, "token": coll,
                 "tokenId": token_id, "amount": 1, "unitPrice": str(price), "currency": "0x" + "00" * 20,
                 "royaltyReceiver": SPLITTER, "royalty": 0, "fee": 0})


@pytest.fixture
def catalogue(database):
    """Five works: a 3-token edition (tagged sea, night), two single works, one in another
    collection, one untitled; listings at several prices, one expired and one filled; sales."""
    with database.session() as db, database.engine.begin() as conn:
        _work(db, conn, "bafysea", "Blue Sea at Night", tags=("sea", "night"), work_id=1, quantity=3, at=NOW - 500)
        _work(db, conn, "bafyfox", "Red Fox", tags=("animal",), media="image/jpeg", work_id=4, at=NOW - 400,
              description="a fox in 100% red_paint")
        _work(db, conn, "bafytide", "Tide", tags=("sea",), media="audio/mpeg", work_id=5, at=NOW - 300)
        _work(db, conn, "bafyelse", "Elsewhere", tags=("sea", "night"), coll=OTHER, work_id=1, at=NOW - 200)
        _work(db, conn, "bafyvoid", None, work_id=6, at=NOW - 100)
        _listing(db, "0x01", 1, 2 * ETH)
        _listing(db, "0x02", 1, ETH)          # the cheapest of token 1
        _listing(db, "0x03", 4, 30 * ETH)     # above 2**63 wei: sorted exactly all the same
        _listing(db, "0x04", 5, ETH // 2)
        _listing(db, "0x05", 6, ETH // 10, expiry=NOW - 1)   # expired: not for sale
        _listing(db, "0x06", 2, ETH // 100, status="filled")  # filled: not for sale
        _listing(db, "0x07", 1, 5 * ETH, coll=OTHER)
        _listing(db, "0x08", 4, 3 * ETH, side="offer")
        _event(conn, address=COLL, contract="CreatorCollection", event="DefaultRoyaltyUpdated",
               args={"receiver": SPLITTER, "bps": 500})
        _event(conn, address=SPLITS, contract="SplitterFactory", event="SplitterCreated",
               args={"splitter": SPLITTER, "creator": CREATOR, "salt": "0x00", "recipients": [ALICE, BOB, CAROL],
                     "bps": [3000, 4000, 3000]})
        terms_hash = "0x" + "7e" * 32
        _event(conn, address=LICENSING, contract="Licensing", event="LicenseTermsPublished",
               args={"termsHash": terms_hash, "publisher": CREATOR,
                     "terms": [True, False, True, True, False, 0, 0, "1000", [], "bafylegal"]})
        _event(conn, address=LICENSING, contract="Licensing", event="LicenseTermsAttached", ref=COLL, token_id="4",
               args={"collection": COLL, "tokenId": 4, "termsHash": terms_hash, "licensor": CREATOR})
        _fill(conn, 4, ALICE, ETH)
        _fill(conn, 5, ALICE, ETH)
        _fill(conn, 5, BOB, 2 * ETH)
        _fill(conn, 1, BOB, ETH, coll=OTHER)
    with database.session() as db:
        sync_catalog(db, CHAIN, lambda chain_id, address, token_id: {
            COLL: ("Seascapes", SPLITTER, 100), OTHER: (None, SPLITTER, 250)}[address])
    return database


def _search(database, **kwargs):
    with database.session() as db:
        rows, cursor = search(db, make_search(**kwargs), NOW)
        return rows, cursor


def _ids(rows):
    return [("C0" if r.collection == COLL else "C1", r.token_id) for r in rows]


def test_mints_are_catalogued_token_by_token_once_with_creator_name_and_cid(catalogue):
    with catalogue.session() as db:
        works = db.query(CatalogWork).order_by(CatalogWork.id).all()
        assert [(w.collection, w.token_id, w.work_id, w.edition_size) for w in works][:3] == [
            (COLL, "1", "1", 3), (COLL, "2", "1", 3), (COLL, "3", "1", 3)]
        assert len(works) == 7 and {w.creator for w in works} == {CREATOR}
        assert works[0].cid == "bafysea" and works[0].collection_name == "Seascapes"
        assert db.query(CatalogSale).count() == 4
        assert sync_catalog(db, CHAIN, lambda *_: (None, None, None)) == 0  # nothing new: nothing read twice
    assert follow_catalog(catalogue, CHAIN, lambda *_: (None, None, None)) == 0
    with catalogue.session() as db:
        assert db.query(CatalogWork).count() == 7 and db.query(CatalogSale).count() == 4


def test_a_read_with_nothing_newly_indexed_does_not_sync_and_a_new_mint_is_applied(catalogue, monkeypatch):
    import api.works_index as works_index

    calls: list[int] = []
    real = works_index.sync_catalog
    monkeypatch.setattr(works_index, "sync_catalog", lambda db, chain_id, info: calls.append(chain_id) or real(
        db, chain_id, info))
    info = lambda *_: (None, None, None)  # noqa: E731
    follow_catalog(catalogue, CHAIN, info)
    follow_catalog(catalogue, CHAIN, info)
    assert len(calls) <= 1  # the first may sync (this process has not seen this database yet), never twice
    with catalogue.session() as db, catalogue.engine.begin() as conn:
        _work(db, conn, "bafynew", "New Work", work_id=7, at=NOW)
    assert follow_catalog(catalogue, CHAIN, info) == 1 and len(calls) <= 2
    assert [r.title for r in _search(catalogue, q="new work")[0]] == ["New Work"]


def test_a_reorg_the_index_drops_drops_the_catalogued_mints_and_sales_and_the_new_history_is_read(catalogue):
    from record.index.store import IndexStore

    info = lambda *_: (None, None, None)  # noqa: E731
    with catalogue.session() as db:
        tide_block = db.query(CatalogWork).filter_by(cid="bafytide").one().block_number
    with catalogue.engine.begin() as conn:  # the blocks from Tide's mint on are replaced
        IndexStore(catalogue.engine).drop_from(conn, CHAIN, tide_block)
    with catalogue.session() as db, catalogue.engine.begin() as conn:
        _work(db, conn, "bafyfork", "On the Fork", tags=("sea",), work_id=5, at=NOW)
        _fill(conn, 4, CAROL, 7 * ETH)
    follow_catalog(catalogue, CHAIN, info)
    with catalogue.session() as db:
        titles = {r.title for r in _search(catalogue, limit=100)[0]}
        assert "Tide" not in titles and "Elsewhere" not in titles and "On the Fork" in titles
        assert "Red Fox" in titles and "Blue Sea at Night" in titles  # before the reorg: kept
        assert {(s.token_id, s.buyer) for s in db.query(CatalogSale).all()} == {("4", CAROL)}
        assert sync_catalog(db, CHAIN, info) == 0


def test_cards_carry_price_tags_royalty_split_and_license_terms_in_words(catalogue):
    rows, _ = _search(catalogue, q="fox")
    [fox] = rows
    assert fox.title == "Red Fox" and fox.media_type == "image/jpeg" and fox.tags == ["animal"]
    assert fox.price_wei == 30 * ETH and fox.listing == "0x03"
    assert fox.royalty_bps == 500 and fox.split == [(ALICE, 3000), (BOB, 4000), (CAROL, 3000)]
    assert fox.royalty_text.startswith("5% royalty on every sale, split 30% to")
    assert fox.licenses[0]["summary"].startswith("commercial use; no derivatives")
    # the index's royalty update wins over the chain's answer when catalogued; without one, that answer
    [elsewhere] = _search(catalogue, collection=OTHER)[0]
    assert elsewhere.royalty_bps == 250 and elsewhere.split == [(ALICE, 3000), (BOB, 4000), (CAROL, 3000)]
    [sea1] = [r for r in _search(catalogue, tags=["sea", "night"])[0] if r.key == (CHAIN, COLL, "1")]
    assert sea1.price_wei == ETH and sea1.listing == "0x02"  # the cheapest open listing


def test_words_tags_creator_media_collection_and_listed_filters(catalogue):
    assert _ids(_search(catalogue, q="SEA night")[0]) == [("C0", "3"), ("C0", "2"), ("C0", "1")]
    assert _ids(_search(catalogue, q="seascapes tide")[0]) == [("C0", "5")]  # collection name counts
    assert {r.token_id for r in _search(catalogue, tags=["sea"])[0]} == {"1", "2", "3", "5"} | {"1"}
    assert len(_search(catalogue, tags=["sea", "night"])[0]) == 4
    assert _search(catalogue, tags=["nothing"])[0] == []
    assert len(_search(catalogue, creator=CREATOR)[0]) == 7 and _search(catalogue, creator=ALICE)[0] == []
    assert {r.token_id for r in _search(catalogue, media_type="image")[0]} == {"1", "2", "3", "4", "6"}
    assert _ids(_search(catalogue, media_type="audio/mpeg")[0]) == [("C0", "5")]
    assert len(_search(catalogue, collection=OTHER)[0]) == 1
    listed = _search(catalogue, listed=True, sort="price_asc")[0]
    assert _ids(listed) == [("C0", "5"), ("C0", "1"), ("C1", "1"), ("C0", "4")]  # expired/filled: no
    assert _ids(_search(catalogue, min_price=ETH, max_price=5 * ETH, sort="price_asc")[0]) == [
        ("C0", "1"), ("C1", "1")]
    assert _search(catalogue, chain_id=1)[0] == []


def test_wildcards_in_a_search_match_only_themselves(catalogue):
    assert _search(catalogue, q="%")[0] != [] and _ids(_search(catalogue, q="%")[0]) == [("C0", "4")]
    assert _ids(_search(catalogue, q="_")[0]) == [("C0", "4")]  # 'red_paint' only; '_' is no wildcard
    assert _search(catalogue, q="r%x")[0] == [] and _search(catalogue, q="\\")[0] == []


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc"])
def test_pages_never_repeat_or_skip_a_work_and_unlisted_works_come_last(catalogue, sort):
    whole, more = _search(catalogue, sort=sort, limit=100)
    assert more is None and len(whole) == 7
    seen, cursor = [], None
    while True:
        page, cursor = _search(catalogue, sort=sort, limit=2, cursor=cursor)
        seen += page
        if cursor is None:
            break
        with catalogue.session() as db:  # a work minted between pages neither repeats nor shifts a page
            db.add(CatalogWork(chain_id=CHAIN, collection=OTHER, token_id=str(100 + len(seen)), work_id="100",
                               edition_size=1, content_hash="0x", cid=None, creator=None, minted_at=NOW,
                               event_id=0, block_number=0, tx_hash="0x"))
    keys = [r.key for r in whole]
    assert [r.key for r in seen if r.key in keys] == keys and len({r.key for r in seen}) == len(seen)
    prices = [r.price_wei for r in whole]
    listed = [p for p in prices if p is not None]
    if sort == "newest":
        assert [r.minted_at for r in whole] == sorted((r.minted_at for r in whole), reverse=True)
    else:
        assert listed == sorted(listed, reverse=sort == "price_desc")
        assert prices[: len(listed)] == listed  # every unlisted work after every listed one


def test_related_works_by_shared_tags_and_buyers_with_reasons(catalogue):
    with catalogue.session() as db:
        subject, ranked = related(db, (CHAIN, COLL, "5"), NOW)
    assert subject is not None and subject.title == "Tide"
    by_key = {r.key: (r, row) for r, row in ranked}
    # Alice bought tide and fox; Bob bought tide and Elsewhere, which also shares 'sea'
    assert ranked[0][0].key == (CHAIN, OTHER, "1")
    assert ranked[0][0].reason == "1 shared tag (sea); bought by 1 collector who bought this one too"
    assert by_key[(CHAIN, COLL, "4")][0].reason == "bought by 1 collector who bought this one too"
    assert (CHAIN, COLL, "1") in by_key and (CHAIN, COLL, "5") not in by_key
    with catalogue.engine.begin() as conn:  # wash trades: the creator buying back, a wallet selling to itself
        _fill(conn, 5, CREATOR, ETH, seller=BOB)
        _fill(conn, 6, CREATOR, ETH, seller=ALICE)
        _event(conn, address=MARKET, contract="Marketplace", event="OrderFilled", ref=COLL, token_id="6",
               args={"orderHash": "0x" + "00" * 32, "seller": CAROL, "buyer": CAROL, "side": 0, "token": COLL,
                     "tokenId": 6, "amount": 1, "unitPrice": "1", "currency": "0x" + "00" * 20,
                     "royaltyReceiver": SPLITTER, "royalty": 0, "fee": 0})
        _fill(conn, 5, CAROL, ETH)
    follow_catalog(catalogue, CHAIN, lambda *_: (None, None, None))
    with catalogue.session() as db:
        _, again = related(db, (CHAIN, COLL, "5"), NOW)
        assert (CHAIN, COLL, "6") not in {r.key for r, _ in again}  # no tag, and no honest shared buyer
        _, edition = related(db, (CHAIN, COLL, "1"), NOW)
        assert all(r.key[1] != COLL or r.key[2] not in ("2", "3") for r, _ in edition)  # its own edition: no
        assert related(db, (CHAIN, COLL, "999"), NOW) == (None, [])


def test_collections_with_works_floor_price_and_royalty(catalogue):
    with catalogue.session() as db:
        rows = collections(db, NOW)
        assert [(c.collection, c.tokens, c.works, c.listed, c.floor_wei) for c in rows] == [
            (COLL, 6, 4, 3, ETH // 2), (OTHER, 1, 1, 1, 5 * ETH)]  # expired and filled listings: no
        seas = rows[0]
        assert seas.name == "Seascapes" and seas.creators == [CREATOR]
        assert seas.sample is not None and seas.sample.royalty_text.startswith("5% royalty")
        assert collections(db, NOW, creator=ALICE) == [] and len(collections(db, NOW, limit=1, offset=1)) == 1


def test_a_work_page_holds_listings_offers_sales_and_a_provenance_summary(catalogue):
    with catalogue.session() as db:
        page = work_page(db, (CHAIN, COLL, "4"), NOW)
    assert [o.order_hash for o in page.listings] == ["0x03"] and [o.order_hash for o in page.offers] == ["0x08"]
    assert [(s.buyer, s.unit_price) for s in page.sales] == [(ALICE, str(ETH))]
    assert page.provenance["sales"] == 1 and page.provenance["story"] == f"/provenance/{CHAIN}/{COLL}/4"
    assert page.auction is None and page.row is not None and page.row.title == "Red Fox"


def test_search_and_related_queries_use_the_indexes(catalogue):
    if catalogue.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with catalogue.engine.connect() as conn:
        def plan(sql: str, **params: object) -> str:
            return " | ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql), params))

        assert "USING" in plan("SELECT 1 FROM asset_tags WHERE tag = :t", t="sea")
        assert "USING INDEX ix_catalog_sales_buyer" in plan("SELECT * FROM catalog_sales WHERE buyer = :b", b=ALICE)
        assert "ix_market_orders_token_book" in plan(
            "SELECT * FROM market_orders WHERE chain_id = 1 AND token = :t AND token_id = '1' AND status = 'open'",
            t=COLL)
        stmt = search_statement(make_search(tags=["sea"]), NOW).compile(
            catalogue.engine, compile_kwargs={"literal_binds": True})
        assert "ix_catalog_works_newest" in plan(str(stmt)) or "USING" in plan(str(stmt))


# ---------------------------------------------------------------- Explore: currency, license, jurisdiction

WETH = Web3.to_checksum_address("0x" + "e7" * 20)


def _terms(conn, token_id, terms_hash, commercial, derivatives, *, publish=True, contract="Licensing"):
    if publish:
        _event(conn, address=LICENSING, contract="Licensing", event="LicenseTermsPublished",
               args={"termsHash": terms_hash, "publisher": CREATOR,
                     "terms": [commercial, derivatives, True, False, False, 0, 0, "0", [], "bafylegal"]})
    _event(conn, address=LICENSING, contract=contract, event="LicenseTermsAttached", ref=COLL,
           token_id=str(token_id), args={"collection": COLL, "tokenId": token_id, "termsHash": terms_hash,
                                         "licensor": CREATOR})


@pytest.fixture
def explore(catalogue):
    """The catalogue, plus: WETH listings of token 2 (2 WETH) and token 5 (3 WETH; it also has an ETH
    listing at 0.5); personal terms on token 5, remix terms (commercial, derivatives) on token 6,
    commercial terms on token 4 (the catalogue's); an attach under another contract's name (not the
    platform's Licensing) on token 3 is not counted."""
    with catalogue.session() as db, catalogue.engine.begin() as conn:
        for order_hash, token_id, price in (("0x21", 2, 2 * ETH), ("0x22", 5, 3 * ETH)):
            _listing(db, order_hash, token_id, price)
        _terms(conn, 5, "0x" + "9e" * 32, False, False)
        _terms(conn, 6, "0x" + "6e" * 32, True, True)
        _terms(conn, 3, "0x" + "6e" * 32, True, True, publish=False, contract="CreatorCollection")
    with catalogue.session() as db:
        for order_hash in ("0x21", "0x22"):
            db.get(MarketOrder, order_hash).currency = WETH
    follow_catalog(catalogue, CHAIN, lambda *_: (None, None, None))
    return catalogue


def _tokens(rows):
    return {("C0" if r.collection == COLL else "C1", r.token_id) for r in rows}


def test_currency_keeps_works_listed_in_it_and_reads_prices_in_its_units(explore):
    def found(**kw):
        return _tokens(_search(explore, limit=100, **kw)[0])

    assert found(currency="ETH") == {("C0", "1"), ("C0", "4"), ("C0", "5"), ("C1", "1")}
    assert found(currency=WETH) == {("C0", "2"), ("C0", "5")}
    assert found(currency=WETH.lower(), max_price=2 * ETH) == {("C0", "2")}
    assert found(currency="eth", min_price=ETH) == {("C0", "1"), ("C0", "4"), ("C1", "1")}
    assert found(currency="0x" + "99" * 20) == set()
    # no currency: today's meaning, the cheapest open listing in any currency, its unit price as signed
    assert found(min_price=ETH) == {("C0", "1"), ("C0", "2"), ("C0", "4"), ("C1", "1")}
    rows = _search(explore, currency=WETH, sort="price_desc")[0]
    assert [(r.token_id, r.price_wei, r.price_currency) for r in rows] == [("5", 3 * ETH, WETH), ("2", 2 * ETH, WETH)]
    [tide] = _search(explore, currency="ETH", q="tide")[0]
    assert (tide.price_wei, tide.price_currency, tide.listing) == (ETH // 2, "0x" + "00" * 20, "0x04")


def test_license_kinds_read_the_terms_attached_on_chain(explore):
    def found(kind):
        return _tokens(_search(explore, license=kind, limit=100)[0])

    assert found("any") == {("C0", "4"), ("C0", "5"), ("C0", "6")}  # not token 3's forged attach
    assert found("commercial") == {("C0", "4"), ("C0", "6")}
    assert found("personal") == {("C0", "5")}
    assert found("derivatives") == {("C0", "6")}
    with explore.session() as db:
        assert db.query(CatalogLicense).count() == 3
        works, sales = db.query(CatalogWork).count(), db.query(CatalogSale).count()
        db.query(CatalogSyncRow).delete()  # as migration 0013 leaves it: the index is read again
    with explore.session() as db:
        sync_catalog(db, CHAIN, lambda *_: (None, None, None))
    with explore.session() as db:  # nothing twice
        assert (db.query(CatalogLicense).count(), db.query(CatalogWork).count(),
                db.query(CatalogSale).count()) == (3, works, sales)


def test_a_reorg_drops_the_terms_attached_in_the_dropped_blocks(explore):
    from record.index.store import IndexStore

    with explore.session() as db:
        block = db.query(CatalogLicense).filter_by(token_id="6").one().block_number
    with explore.engine.begin() as conn:
        IndexStore(explore.engine).drop_from(conn, CHAIN, block)
    follow_catalog(explore, CHAIN, lambda *_: (None, None, None))
    assert _tokens(_search(explore, license="any", limit=100)[0]) == {("C0", "4"), ("C0", "5")}


def test_jurisdiction_profiles_read_the_collection_policy(explore):
    def found(profile):
        return _tokens(_search(explore, jurisdiction=profile, limit=100)[0])

    every = _tokens(_search(explore, limit=100)[0])
    assert found("open") == every and found("no_resale") == found("verified_only") == set()
    coll_tokens = every - {("C1", "1")}
    with explore.session() as db:  # a policy row with only breaker settings is still open
        db.add(CollectionPolicyRow(chain_id=CHAIN, collection=COLL, breaker="{}"))
        db.add(CollectionPolicyRow(chain_id=CHAIN, collection=OTHER, breaker="{}", secondary_sales=False))
    assert found("open") == coll_tokens and found("no_resale") == {("C1", "1")}
    for change, profile in (({"secondary_sales": True, "identity_required": True}, "verified_only"),
                            ({"identity_required": False, "gift_holding_s": 3600}, "holding_period")):
        with explore.session() as db:
            row = db.get(CollectionPolicyRow, (CHAIN, OTHER))
            for name, value in change.items():
                setattr(row, name, value)
        assert found(profile) == {("C1", "1")} and found("open") == coll_tokens
        assert found("no_resale") == set()


def test_filters_combine_and_stay_one_statement(explore):
    with explore.session() as db:
        db.add(CollectionPolicyRow(chain_id=CHAIN, collection=OTHER, breaker="{}", secondary_sales=False))
    both = {"currency": "ETH", "license": "commercial", "jurisdiction": "open"}
    assert _tokens(_search(explore, **both)[0]) == {("C0", "4")}  # token 6: commercial terms, no listing
    assert _tokens(_search(explore, **both, max_price=ETH)[0]) == set()
    assert _tokens(_search(explore, currency=WETH, license="personal", min_price=3 * ETH)[0]) == {("C0", "5")}
    assert _tokens(_search(explore, currency="ETH", jurisdiction="no_resale")[0]) == {("C1", "1")}
    sql = str(search_statement(make_search(currency="ETH", license="any", jurisdiction="verified_only",
                                           min_price=1, sort="price_asc"), NOW))
    assert sql.count("SELECT") >= 3 and "catalog_licenses" in sql and "collection_policies" in sql
    statements: list[str] = []

    def count_select(_conn, _cursor, statement, *_rest):  # type: ignore[no-untyped-def]
        if "FROM catalog_works" in statement:
            statements.append(statement)

    event.listen(explore.engine, "before_cursor_execute", count_select)
    try:
        _search(explore, **both)
    finally:
        event.remove(explore.engine, "before_cursor_execute", count_select)
    assert len(statements) == 1  # the search itself is one statement (enrich reads other tables)


def test_migration_0013_copies_identity_required_and_makes_the_catalogue_read_the_index_again(tmp_path):
    from alembic import command
    from alembic.config import Config

    from api.db import MIGRATIONS_DIR, Database

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection_url"] = db.url

    def to(revision: str) -> None:
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    to("0012")
    with db.engine.begin() as conn:
        for collection, breaker in ((COLL, '{"identity_required":true,"band_bps":2000}'), (OTHER, "{}")):
            conn.execute(text("INSERT INTO collection_policies (chain_id, collection, breaker, secondary_sales, "
                              "gift_holding_s) VALUES (:c, :a, :b, 1, 0)"), {"c": CHAIN, "a": collection, "b": breaker})
        conn.execute(text("INSERT INTO catalog_sync (chain_id, last_event_id, updated_at) VALUES (:c, 99, :t)"),
                     {"c": CHAIN, "t": datetime.now(UTC)})
    to("head")
    with db.session() as s:
        assert {r.collection: r.identity_required for r in s.query(CollectionPolicyRow)} == {COLL: True, OTHER: False}
        assert s.get(CatalogSyncRow, CHAIN) is None  # the next read re-reads the index (idempotently)
    db.dispose()


NEWCOLL = Web3.to_checksum_address("0x" + "c2" * 20)


def _meanwhile_the_indexer_commits(database, calls):
    """``info_of`` (the collection's chain reads, slow on a busy machine) during which another
    connection commits, as the indexer does: on the first call only."""
    def info(*_):
        calls.append(1)
        if len(calls) == 1:
            with database.engine.begin() as conn:
                conn.execute(chain_events.insert().values(
                    chain_id=CHAIN + 1, block_number=1, block_hash="0x" + "00" * 32, block_time=NOW,
                    tx_hash="0x" + "ab" * 32, log_index=0, address=COLL, contract="Other", event="Other",
                    ref_address=COLL, token_id=None, args="{}"))
        return ("Late", None, None)
    return info


def test_a_catalogue_read_racing_the_indexer_answers_and_the_work_is_catalogued(catalogue):
    """SQLite refuses at once a transaction that read, then writes after another connection
    committed ("database is locked", no busy wait): a `chainright works search` right after a mint
    answered 500 on a fresh `make up`. The catalogue sync now starts again in a new transaction."""
    if not catalogue.url.startswith("sqlite"):
        pytest.skip("SQLite's snapshot rule; PostgreSQL waits for the row lock")
    with catalogue.session() as db, catalogue.engine.begin() as conn:
        _work(db, conn, "bafylate", "Late Work", coll=NEWCOLL, work_id=1, at=NOW)
    calls: list[int] = []
    assert follow_catalog(catalogue, CHAIN, _meanwhile_the_indexer_commits(catalogue, calls)) == 1
    assert len(calls) == 2  # the first attempt met the commit; the second caught up
    assert [r.title for r in _search(catalogue, q="late work")[0]] == ["Late Work"]


def test_a_catalogue_read_while_a_writer_holds_the_database_answers_and_catches_up_later(catalogue):
    """A writer holding SQLite past the busy timeout: the read answers from the catalogue as it
    stands (no 500, nothing marked as seen) and the next read applies what was indexed."""
    if not catalogue.url.startswith("sqlite"):
        pytest.skip("SQLite's single writer")
    import sqlite3

    with catalogue.session() as db, catalogue.engine.begin() as conn:
        _work(db, conn, "bafyheld", "Held Work", coll=NEWCOLL, work_id=1, at=NOW)
    info = lambda *_: (None, None, None)  # noqa: E731
    holder = sqlite3.connect(catalogue.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert follow_catalog(catalogue, CHAIN, info) == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert follow_catalog(catalogue, CHAIN, info) == 1
    assert [r.title for r in _search(catalogue, q="held work")[0]] == ["Held Work"]
