"""Table tests of the audit report's pure core: window parsing, sections and totals, splitting by
basis points, reconciliation (a mismatch of each kind detected), and the rendered CSV/HTML."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from typing import Any

import pytest

from chain.errors import AuditError
from record.audit.render import amount_text, render_csv, render_html
from record.audit.report import (
    ETH,
    EventRow,
    ReceiptFacts,
    Split,
    Window,
    build_report,
    reconcile,
    relevant,
    split_amount,
    splits_from,
    splitters_of,
)
from record.audit.window import (
    Point,
    check_order,
    first_block_at_or_after,
    last_block_at_or_before,
    parse_point,
)

pytestmark = pytest.mark.unit

COLL = "0x" + "c0" * 20
OTHER = "0x" + "0e" * 20
SPLIT = "0x" + "5b" * 20
COIN = "0x" + "e2" * 20
A, B, C = "0x" + "a1" * 20, "0x" + "b2" * 20, "0x" + "c3" * 20
SELLER, BUYER = "0x" + "11" * 20, "0x" + "22" * 20
DAY = 86_400
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def ev(block: int, log: int, contract: str, event: str, address: str = "0x" + "99" * 20,
       time: int | None = None, **args: Any) -> EventRow:
    return EventRow(31337, block, f"0x{block:064x}", log, address, contract, event, args,
                    block_time=T0 + block * 60 if time is None else time, block_hash=f"0x{block + 1:064x}")


def fill(block: int, token_id: int, price: int, *, currency: str = ETH, royalty: int | None = None,
         fee: int | None = None, collection: str = COLL, qty: int = 1, time: int | None = None) -> EventRow:
    total = price * qty
    return ev(block, 1, "Marketplace", "OrderFilled", time=time, orderHash="0x" + "ab" * 32, seller=SELLER,
              buyer=BUYER, side=0, token=collection, tokenId=token_id, amount=qty, unitPrice=price,
              currency=currency, royaltyReceiver=SPLIT, royalty=total // 10 if royalty is None else royalty,
              fee=total * 250 // 10_000 if fee is None else fee)


SPLITS = {SPLIT.lower(): Split(SPLIT.lower(), ((A.lower(), 5000), (B.lower(), 3000), (C.lower(), 2000)))}


# -- window -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "end", "expected"), [
    ("120", False, Point(block=120)),
    ("2026-01-01", False, Point(time=T0)),
    ("2026-01-01", True, Point(time=T0 + DAY - 1)),                  # a date at the end is the whole day
    ("2026-01-01T01:00:00Z", False, Point(time=T0 + 3600)),
    ("2026-01-01T01:00", True, Point(time=T0 + 3600)),               # UTC unless an offset is given
    ("2026-01-01T02:00:00+01:00", False, Point(time=T0 + 3600)),
])
def test_window_points_parse_blocks_and_dates(text: str, end: bool, expected: Point) -> None:
    assert parse_point(text, "--from", end=end) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "2026-02-30", "01/02/2026", "-5", "0x10"])
def test_window_points_refuse_bad_input_with_one_clear_line(text: str) -> None:
    with pytest.raises(AuditError) as info:
        parse_point(text, "--from", end=False)
    assert "--from" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("start", "stop", "ok"), [
    (Point(block=5), Point(block=9), True),
    (Point(block=9), Point(block=9), True),
    (Point(block=10), Point(block=9), False),
    (Point(time=T0 + DAY), Point(time=T0), False),
    (Point(block=10), Point(time=T0), True),   # mixed kinds are checked once resolved to blocks
])
def test_a_window_whose_start_is_after_its_end_is_refused(start: Point, stop: Point, ok: bool) -> None:
    if ok:
        check_order(start, stop)
    else:
        with pytest.raises(AuditError, match="is after"):
            check_order(start, stop)


@pytest.mark.parametrize(("t", "first", "last"), [
    (T0 - 1, 0, -1), (T0, 0, 0), (T0 + 30, 1, 0), (T0 + 60, 1, 2), (T0 + 120, 3, 3), (T0 + 999, 4, 3),
])
def test_times_become_blocks_by_bisection(t: int, first: int, last: int) -> None:
    stamps = [T0, T0 + 60, T0 + 60, T0 + 120]  # two blocks may share a timestamp
    assert first_block_at_or_after(t, 0, 3, stamps.__getitem__) == first
    assert last_block_at_or_before(t, 0, 3, stamps.__getitem__) == last


# -- sections -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "expected"), [
    (1000, [500, 300, 200]),
    (1001, [501, 300, 200]),   # the first recipient takes the rounding remainder
    (7, [4, 2, 1]),
    (0, [0, 0, 0]),
])
def test_split_amount_follows_the_splitter_contract(amount: int, expected: list[int]) -> None:
    parts = split_amount(amount, SPLITS[SPLIT.lower()])
    assert parts == expected and sum(parts) == amount


def _rows() -> list[EventRow]:
    return [
        fill(10, 1, 10**18),
        fill(11, 2, 2 * 10**18),
        fill(12, 3, 500 * 10**6, currency=COIN),
        fill(13, 4, 10**18, collection=OTHER),                    # another collection: not in the report
        ev(14, 0, "Licensing", "LicenseGranted", grantId=1, licensee=BUYER, collection=COLL, tokenId=2,
           termsHash="0x" + "7e" * 32, start=0, expiry=0, fee=10**15),
        ev(14, 1, "Licensing", "LicenseFeePaid", grantId=1, receiver=SPLIT, amount=10**15),
        ev(15, 0, "Licensing", "LicenseGranted", grantId=2, licensee=SELLER, collection=COLL, tokenId=2,
           termsHash="0x" + "7e" * 32, start=0, expiry=0, fee=3 * 10**15),
        ev(15, 1, "Licensing", "LicenseFeeCredited", grantId=2, receiver=SPLIT, amount=3 * 10**15),
        ev(16, 0, "Licensing", "LicenseGranted", grantId=3, licensee=SELLER, collection=OTHER, tokenId=2,
           termsHash="0x" + "7e" * 32, start=0, expiry=0, fee=10**15),
        ev(16, 1, "Licensing", "LicenseFeePaid", grantId=3, receiver=OTHER, amount=10**15),
        ev(17, 0, "RoyaltySplitter", "Withdrawn", address=SPLIT, recipient=A, token=ETH, amount=12345, to=A),
        ev(17, 1, "RoyaltySplitter", "Withdrawn", address=OTHER, recipient=A, token=ETH, amount=999, to=A),
        ev(18, 0, "HomeLockbox", "TokenLocked", transferId=7, collection=COLL, tokenId=1, sender=BUYER,
           recipient=BUYER, destChainId=31338, rights=[]),
        ev(19, 0, "HomeLockbox", "TokenUnlocked", transferId=8, collection=COLL, tokenId=1, recipient=BUYER,
           provenanceHash="0x" + "00" * 32),
        fill(25, 5, 10**18),                                       # after the window
    ]


WINDOW = Window(10, 20, T0 + 600, T0 + 1200)


def test_relevant_keeps_the_collections_events_and_its_splitters_withdrawals() -> None:
    kept = relevant(_rows(), COLL, [SPLIT], WINDOW)
    assert [(r.block_number, r.event) for r in kept] == [
        (10, "OrderFilled"), (11, "OrderFilled"), (12, "OrderFilled"), (14, "LicenseGranted"),
        (14, "LicenseFeePaid"), (15, "LicenseGranted"), (15, "LicenseFeeCredited"), (17, "Withdrawn"),
        (18, "TokenLocked"), (19, "TokenUnlocked")]


def test_splitters_of_a_collection_come_from_its_sales_and_its_license_fees() -> None:
    created = ev(1, 0, "SplitterFactory", "SplitterCreated", splitter=SPLIT, creator=A, salt="0x00",
                 recipients=[A, B, C], bps=[5000, 3000, 2000])
    splits = splits_from([created])
    assert splits == SPLITS
    assert splitters_of(_rows(), COLL, splits) == [SPLIT.lower()]
    assert splitters_of(_rows(), "0x" + "44" * 20, splits) == []


def test_report_sections_and_totals() -> None:
    report = build_report(COLL, 31337, WINDOW, relevant(_rows(), COLL, [SPLIT], WINDOW), SPLITS)
    assert [s.token_id for s in report.sales] == ["1", "2", "3"]
    eth, coin = sorted(report.totals, key=lambda t: t.currency != ETH)
    assert (eth.sales, eth.volume, eth.royalties, eth.fees) == (2, 3 * 10**18, 3 * 10**17, 75 * 10**15)
    assert eth.seller_proceeds == 3 * 10**18 - 3 * 10**17 - 75 * 10**15
    assert (coin.currency, coin.volume, coin.royalties) == (COIN.lower(), 500 * 10**6, 50 * 10**6)
    assert report.license_income == 4 * 10**15
    assert [(t.token_id, t.count, t.total) for t in report.license_totals] == [("2", 2, 4 * 10**15)]
    assert [(lic.grant_id, lic.settled) for lic in report.licenses] == [("1", "paid"), ("2", "credited")]
    eth_lines = {r.recipient: r for r in report.royalties if r.currency == ETH}
    assert {k: (v.royalties, v.license_fees, v.withdrawn) for k, v in eth_lines.items()} == {
        A.lower(): (15 * 10**16, 2 * 10**15, 12345),
        B.lower(): (9 * 10**16, 12 * 10**14, 0),
        C.lower(): (6 * 10**16, 8 * 10**14, 0),
    }
    assert sum(r.royalties for r in report.royalties if r.currency == COIN.lower()) == 50 * 10**6
    assert [m.kind for m in report.bridge] == ["lock", "unlock"] and report.bridge[0].transfer_id == "7"


def test_a_royalty_paid_to_a_plain_account_is_one_line_with_nothing_to_withdraw() -> None:
    report = build_report(COLL, 31337, WINDOW, [fill(10, 1, 10**18)], {})
    assert [(r.recipient, r.share_bps, r.royalties, r.withdrawn) for r in report.royalties] == [
        (SPLIT.lower(), 10_000, 10**17, None)]


def test_short_windows_bucket_by_block_range_and_long_ones_by_day() -> None:
    report = build_report(COLL, 31337, WINDOW, [fill(10, 1, 10**18), fill(20, 2, 10**18)], SPLITS)
    assert report.bucket_unit == "blocks" and len(report.buckets) == 11
    assert report.buckets[0].volume[ETH] == 10**18 and report.buckets[-1].label == "20"
    long = Window(10, 20, T0, T0 + 3 * DAY)
    rows = [fill(10, 1, 10**18, time=T0 + 5), fill(11, 2, 10**18, time=T0 + 2 * DAY + 5)]
    daily = build_report(COLL, 31337, long, rows, SPLITS)
    assert daily.bucket_unit == "day"
    assert [(b.label, b.volume.get(ETH, 0)) for b in daily.buckets] == [
        ("2026-01-01", 10**18), ("2026-01-02", 0), ("2026-01-03", 10**18), ("2026-01-04", 0)]


# -- reconciliation -----------------------------------------------------------------------------

def _changed(row: EventRow, **args: Any) -> EventRow:
    return EventRow(row.chain_id, row.block_number, row.tx_hash, row.log_index, row.address, row.contract,
                    row.event, {**row.args, **args}, row.block_time, row.block_hash)


CHAIN = relevant(_rows(), COLL, [SPLIT], WINDOW)


@pytest.mark.parametrize(("index", "indexed_to", "expected"), [
    (CHAIN, 20, []),
    (CHAIN, 30, []),
    (CHAIN[1:], 20, ["missing_from_index"]),                                  # a row deleted from the index
    ([_changed(CHAIN[0], royalty=1), *CHAIN[1:]], 20, ["differs"]),           # an amount changed
    ([_changed(CHAIN[0], royalty=str(10**17)), *CHAIN[1:]], 20, []),          # big ints stored as text match
    ([*CHAIN, fill(20, 9, 1)], 20, ["not_on_chain"]),                         # an event the chain never had
    (CHAIN, 15, ["index_lags"]),                                              # lag: reported once, not per row
    ([], None, ["index_lags"]),
])
def test_reconcile_finds_every_kind_of_mismatch(index: list[EventRow], indexed_to: int | None,
                                                expected: list[str]) -> None:
    assert [m.kind for m in reconcile(index, CHAIN, WINDOW, indexed_to=indexed_to)] == expected


def test_reconcile_names_the_field_and_both_values() -> None:
    (m,) = reconcile([_changed(CHAIN[0], royalty=1), *CHAIN[1:]], CHAIN, WINDOW, indexed_to=20)
    assert m.where == f"{CHAIN[0].tx_hash}#1" and f"royalty: index 1, chain {10**17}" in m.detail


def test_reconcile_checks_block_hashes_and_logs_against_receipts() -> None:
    row = CHAIN[0]
    good = {row.tx_hash: ReceiptFacts(1, row.block_hash, frozenset({0, 1}))}
    assert reconcile([row], [row], Window(10, 10), indexed_to=10, receipts=good) == []
    forked = {row.tx_hash: ReceiptFacts(1, "0x" + "ff" * 32, frozenset({1}))}
    assert [m.kind for m in reconcile([row], [row], Window(10, 10), indexed_to=10, receipts=forked)] == [
        "block_hash"]
    no_log = {row.tx_hash: ReceiptFacts(1, row.block_hash, frozenset({0}))}
    assert [m.kind for m in reconcile([row], [row], Window(10, 10), indexed_to=10, receipts=no_log)] == [
        "receipt"]


# -- rendering ----------------------------------------------------------------------------------

class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.external += [v or "" for k, v in attrs if k in ("src", "href")]


@pytest.mark.parametrize(("value", "decimals", "text"), [
    (1_500_000_000_000_000_000, 18, "1.5"), (1, 18, "0.000000000000000001"), (10**18, 18, "1"),
    (0, 18, "0"), (123, 0, "123"), (500_000_000, 6, "500"),
])
def test_amounts_show_exactly_in_whole_units(value: int, decimals: int, text: str) -> None:
    assert amount_text(value, decimals) == text


def test_csv_and_html_render_the_same_figures() -> None:
    report = build_report(COLL, 31337, WINDOW, CHAIN, SPLITS)
    report.mismatches = reconcile(CHAIN[1:], CHAIN, WINDOW, indexed_to=20)
    files = render_csv(report)
    assert set(files) == {"summary.csv", "sales.csv", "royalties.csv", "licenses.csv", "license_totals.csv",
                          "bridge.csv", "mismatches.csv"}
    summary = dict(csv.reader(io.StringIO(files["summary.csv"])))
    assert summary["volume_ETH"] == str(3 * 10**18) and summary["reconciliation"] == "FAILED"
    sales = list(csv.DictReader(io.StringIO(files["sales.csv"])))
    assert sum(int(s["royalty"]) for s in sales if s["currency"] == "ETH") == 3 * 10**17
    assert len(list(csv.DictReader(io.StringIO(files["mismatches.csv"])))) == 1

    page = render_html(report)
    parser = _Tags()
    parser.feed(page)
    assert "svg" in parser.tags and "rect" in parser.tags and "style" in parser.tags
    assert parser.external == [] and "<script" not in page
    assert "Reconciliation FAILED" in page and "missing_from_index" in page
    assert "0.3 ETH" in page  # the ETH royalties total, in whole units


def test_auction_settlements_of_the_collection_are_sales() -> None:
    from record.audit.report import auctions_from

    created = [
        ev(2, 0, "Marketplace", "AuctionCreated", auctionId=1, seller=SELLER, token=COLL, tokenId=9, quantity=1,
           reservePrice=1, start=0, end=0),
        ev(3, 0, "Marketplace", "AuctionCreated", auctionId=2, seller=SELLER, token=OTHER, tokenId=9, quantity=1,
           reservePrice=1, start=0, end=0),
        ev(4, 0, "Marketplace", "AuctionCreated", auctionId=3, seller=SELLER, token=COLL, tokenId=8, quantity=1,
           reservePrice=1, start=0, end=0),
    ]
    lots = auctions_from(created, COLL)
    assert sorted(lots) == ["1", "3"] and lots["1"].token_id == "9"
    settled = [
        ev(12, 0, "Marketplace", "AuctionSettled", auctionId=1, winner=BUYER, amount=10**18,
           royaltyReceiver=SPLIT, royalty=10**17, fee=25 * 10**15),
        ev(13, 0, "Marketplace", "AuctionSettled", auctionId=2, winner=BUYER, amount=10**18,
           royaltyReceiver=OTHER, royalty=10**17, fee=25 * 10**15),      # another collection's auction
        ev(14, 0, "Marketplace", "AuctionSettled", auctionId=3, winner=ETH, amount=0,
           royaltyReceiver=ETH, royalty=0, fee=0),                       # no bid: the lot went back
    ]
    rows = relevant(settled, COLL, [], WINDOW, lots)
    assert [r.arg("auctionId") for r in rows] == [1, 3]
    assert splitters_of(settled, COLL, SPLITS, lots) == [SPLIT.lower()]
    report = build_report(COLL, 31337, WINDOW, rows, SPLITS, auctions=lots)
    (sale,) = report.sales
    assert (sale.side, sale.token_id, sale.seller, sale.buyer, sale.price, sale.royalty, sale.fee) == (
        "auction", "9", SELLER, BUYER, 10**18, 10**17, 25 * 10**15)
    assert relevant(settled, COLL, [], WINDOW) == []  # without the lots, nothing ties a settlement to COLL


def test_csv_cells_a_spreadsheet_would_run_are_quoted():
    import csv
    import io

    from record.audit.render import _csv

    text = _csv(("symbol", "amount"), [("=HYPERLINK(\"http://x\")", 5), ("@SUM(A1)", -3), ("USDC", 7)])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "5"] and rows[2] == ["'@SUM(A1)", "-3"]
    assert rows[3] == ["USDC", "7"]
