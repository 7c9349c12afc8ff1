"""The soak's pure parts: the sale rate per minute and the names it gives the platform's processes."""

from __future__ import annotations

import pytest

from bench.soak import process_name, sales_per_minute

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("offsets", "elapsed", "expected"), [
    ([1, 2, 3], 18.0, [10.0]),                 # shorter than a minute: one scaled figure
    ([1, 61, 62, 130], 135.0, [1.0, 2.0]),     # a last 15 s is too short to be a rate: left out
    ([1, 61, 62, 130], 150.0, [1.0, 2.0, 2.0]),  # a last half minute counts, scaled
    ([], 0.0, []),
    ([59.9, 60.0], 120.0, [1.0, 1.0]),
])
def test_sales_per_minute_counts_whole_minutes_and_scales_only_a_long_tail(offsets, elapsed, expected):
    assert sales_per_minute(offsets, elapsed) == expected


@pytest.mark.parametrize(("argv", "expected"), [
    (["/x/.bin/anvil", "--host", "127.0.0.1", "--port", "8545"], "anvil-home"),
    (["/x/.bin/anvil", "--port", "9999"], "anvil-9999"),
    (["python", "-m", "chainright", "api", "run"], "api"),
    (["python", "-m", "chainright", "indexer", "run"], "indexer"),
    (["python", "-m", "chainright", "relayer", "run", "--role", "validator", "--validator-index", "2"],
     "validator-2"),
    (["python", "-m", "chainright", "relayer", "run", "--role", "submitter"], "submitter"),
    (["node", "/x/node_modules/ipfs/src/cli.js", "daemon"], "ipfs"),
    ([], "?"),
])
def test_platform_processes_are_named_by_their_role(argv, expected):
    assert process_name(argv, {"8545": "home"}) == expected


class _Book:
    """The API's order listing, 500 rows at most per query, over ``orders`` (hash -> (token, status))."""

    def __init__(self, orders: dict[str, tuple[int, str]]) -> None:
        self.orders = orders

    def get(self, path: str, *, status: str, limit: int, token_id: int | None = None, **_: object) -> list:
        rows = [{"order_hash": h} for h, (t, st) in self.orders.items()
                if st == status and (token_id is None or t == token_id)]
        return rows[:limit]


def test_order_states_are_counted_past_the_listing_cap_of_500():
    from types import SimpleNamespace

    from bench.soak import CREATOR, Soak

    orders = {f"0x{n:064x}": (n, "filled") for n in range(700)}
    orders |= {f"0x{n:064x}": (n - 700, "cancelled") for n in range(700, 740)}
    soak = Soak("http://api", None, print)
    soak.home_spec = SimpleNamespace(chain_id=31337)  # type: ignore[attr-defined]
    soak.collection = "0xC0"  # type: ignore[attr-defined]
    soak.clients = {CREATOR: _Book(orders)}  # type: ignore[attr-defined]
    soak.accepted = list(orders)
    soak.listed = [t for t, _ in orders.values()]
    assert soak.order_states() == {"orders_accepted": 740, "orders_filled": 700, "orders_cancelled": 40,
                                   "orders_stale": 0}


def test_the_speed_adjusted_rate_is_flat_when_only_the_machine_slowed():
    from bench.soak import speed_adjusted

    # the machine three times slower in the third minute, and a third of the sales: the platform held
    assert speed_adjusted([120.0, 90.0, 40.0], [0.03, 0.04, 0.09]) == [120.0, 120.0, 120.0]
    # the same machine speed and fewer sales: the platform itself slowed
    assert speed_adjusted([120.0, 60.0], [0.03, 0.03]) == [120.0, 60.0]
    assert speed_adjusted([10.0, 10.0], [None, 0.03]) == [None, None]


def test_per_minute_median_takes_each_whole_minute_alone():
    from bench.soak import per_minute_median

    samples = [(1.0, 5.0), (20.0, 1.0), (30.0, 3.0), (61.0, 7.0), (150.0, 9.0)]
    assert per_minute_median(samples, 3) == [3.0, 7.0, 9.0]
    assert per_minute_median([], 2) == [None, None]


def test_the_calibration_workload_takes_measurable_time():
    from bench.soak import calibration_seconds

    assert calibration_seconds() > 0.001


def test_cpu_per_sale_divides_each_minutes_cpu_by_its_sales():
    from bench.soak import cpu_ms_per_sale

    marks = [(0, {"api": 1.0, "anvil": 2.0}), (10, {"api": 1.5, "anvil": 2.1}), (10, {"api": 1.6, "anvil": None}),
             (30, {"api": 3.6, "anvil": None})]
    assert cpu_ms_per_sale(marks) == {"api": [50.0, None, 100.0], "anvil": [10.0, None, None]}


def test_cpu_seconds_reads_this_process():
    import os

    from bench.cpu import cpu_seconds

    sum(i * i for i in range(200_000))
    used = cpu_seconds(os.getpid())
    assert used is not None and used > 0
    assert cpu_seconds(2**22 + 12345) is None


class _Story:
    """The API's answers to the soak's story reads, in turn: None for a 404 (not indexed yet), else
    the story's entries; the last answer repeats."""

    def __init__(self, *answers: list[dict] | None) -> None:
        self.answers, self.reads = list(answers), 0

    def get(self, path: str) -> dict:
        from api.client import ClientError

        answer = self.answers[min(self.reads, len(self.answers) - 1)]
        self.reads += 1
        if answer is None:
            raise ClientError(f"GET {path} answered 404: no indexed event", status_code=404)
        return {"entries": answer}


def _reader(story: _Story, monkeypatch: pytest.MonkeyPatch, wait_s: float = 30.0):
    import types

    from bench import soak

    monkeypatch.setattr(soak, "PROVENANCE_WAIT_S", wait_s)
    monkeypatch.setattr(soak.time, "sleep", lambda s: None)
    reader = soak.Soak("http://api", None, print)
    reader.home_spec = types.SimpleNamespace(chain_id=31337)
    reader.collection = "0x" + "ab" * 20
    reader.sold, reader.for_sale = [4], []
    reader.buyer_of = {4: "0x" + "Cd" * 20}
    reader.clients = {soak.BUYERS[0]: story}
    return reader


SALE = {"event": "Transfer", "args": {"from": "0x" + "11" * 20, "to": "0x" + "cd" * 20, "tokenId": 4}}
MINT = {"event": "ConsecutiveTransfer", "args": {"fromTokenId": 4, "toTokenId": 6}}


def test_a_story_read_waits_for_the_index_to_show_the_sale(monkeypatch):
    story = _Story(None, None, [MINT], [MINT, SALE])  # not indexed, then the mint only, then the sale
    reader = _reader(story, monkeypatch)
    reader._op("provenance", reader.provenance)
    assert reader.done == {"provenance": 1} and reader.failed == {}, reader.errors
    assert story.reads == 4


def test_a_story_that_never_shows_the_sale_is_a_failure_naming_the_token_and_buyer(monkeypatch):
    reader = _reader(_Story([MINT]), monkeypatch, wait_s=0.0)
    reader._op("provenance", reader.provenance)
    assert reader.failed == {"provenance": 1}
    assert "token 4" in reader.errors[0] and ("0x" + "Cd" * 20) in reader.errors[0]


def test_a_token_never_indexed_is_a_failure_with_the_api_s_404(monkeypatch):
    reader = _reader(_Story(None), monkeypatch, wait_s=0.0)
    reader._op("provenance", reader.provenance)
    assert reader.failed == {"provenance": 1} and "404" in reader.errors[0]
