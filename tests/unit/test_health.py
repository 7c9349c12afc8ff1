"""Table tests of stall detection (chain.health's pure core) and of the watch around it."""

from __future__ import annotations

from typing import Any

import pytest

from chain.health import (
    ChainProgress,
    ChainStalledError,
    Head,
    HealthChange,
    Stall,
    StallWatch,
    assess,
    track,
)

pytestmark = pytest.mark.unit

T0 = 1_800_000_000


def head(number: int, timestamp: int, chain_id: int = 1337) -> Head:
    return Head(chain_id=chain_id, number=number, hash=f"0x{number:064x}", timestamp=timestamp)


def stall(number: int, since: int, now: float, chain_id: int = 1337, limit: float = 4.0) -> Stall:
    return Stall(chain_id=chain_id, block_number=number, block_hash=f"0x{number:064x}", since=float(since),
                 age_s=now - since, max_block_age_s=limit)


@pytest.mark.parametrize(("block_ts", "now", "limit", "stalled"), [
    (T0, T0, 4.0, False),            # a block this very second
    (T0, T0 + 4, 4.0, False),        # exactly the allowed age is still progress
    (T0, T0 + 4.01, 4.0, True),      # just over it
    (T0, T0 + 60, 4.0, True),
    (T0 + 3, T0, 4.0, False),        # a block stamped ahead of our clock: age 0, not negative
    (T0, T0 + 59, 60.0, False),      # a slower network gets a longer limit
])
def test_assess(block_ts, now, limit, stalled):
    result = assess(head(7, block_ts), now, limit)
    assert isinstance(result, Stall) is stalled
    if stalled:
        assert result == Stall(1337, 7, f"0x{7:064x}", float(block_ts), now - block_ts, limit)
    else:
        assert isinstance(result, ChainProgress) and result.block_number == 7 and result.age_s >= 0


def test_assess_refuses_a_non_positive_limit():
    with pytest.raises(ValueError):
        assess(head(1, T0), T0, 0)


@pytest.mark.parametrize(("previous", "current", "now", "kept", "change"), [
    # healthy and still healthy: nothing to say
    (None, ChainProgress(1337, 9, "0x", 0.5), T0, None, None),
    # a stall begins: reported once, naming the last block
    (None, stall(9, T0, T0 + 5), T0 + 5, stall(9, T0, T0 + 5), HealthChange("stalled", stall(9, T0, T0 + 5))),
    # the stall lasts: not reported again, its start kept, its age grows
    (stall(9, T0, T0 + 5), stall(9, T0, T0 + 9), T0 + 9, stall(9, T0, T0 + 9), None),
    # a lone signer adds one more (already too old) block: still the same stall, since unchanged
    (stall(9, T0, T0 + 5), stall(10, T0 + 1, T0 + 9), T0 + 9, stall(10, T0, T0 + 9), None),
    # blocks again: the recovery is reported with the block and the time down
    (stall(9, T0, T0 + 5), ChainProgress(1337, 10, "0x", 0.2), T0 + 30, None,
     HealthChange("resumed", stall(9, T0, T0 + 5), resumed_at=10, down_s=30.0)),
])
def test_track(previous, current, now, kept, change):
    assert track(previous, current, now) == (kept, change)


def test_descriptions_name_the_chain_the_last_block_and_since_when():
    s = stall(41, T0, T0 + 12)
    line = HealthChange("stalled", s).describe()
    assert "chain 1337 stalled" in line and "block 41" in line and "2027-01-15T08:00:00Z" in line
    assert "12.0s ago" in line
    back = HealthChange("resumed", s, resumed_at=42, down_s=31.5).describe()
    assert back == "chain 1337 resumed: block 42 after block 41; 31.5s without a new block"
    error = ChainStalledError.of(s)
    assert "last block 41" in str(error) and "s old" in str(error) and error.since == T0


class FakeEth:
    """A node whose head the test moves (the watch's reads are the only effect)."""

    def __init__(self) -> None:
        self.chain_id = 1337
        self.block: dict[str, Any] = {"number": 1, "hash": b"\x01" * 32, "timestamp": T0}

    def get_block(self, _which: str) -> dict[str, Any]:
        return self.block


class FakeWeb3:
    def __init__(self) -> None:
        self.eth = FakeEth()


def test_the_watch_reports_a_stall_once_and_the_recovery_once():
    web3, now, changes = FakeWeb3(), [float(T0)], []
    watch = StallWatch(web3, 4.0, tag="indexer[1337]", report=changes.append,  # type: ignore[arg-type]
                       clock=lambda: now[0])
    assert watch.check() is None
    now[0] = T0 + 5
    first = watch.check()
    assert first is not None and first.block_number == 1
    now[0] = T0 + 8
    assert watch.check() is not None
    assert [c.kind for c in changes] == ["stalled"]
    web3.eth.block = {"number": 2, "hash": b"\x02" * 32, "timestamp": T0 + 20}
    now[0] = T0 + 20.5
    assert watch.check() is None
    assert [c.kind for c in changes] == ["stalled", "resumed"] and changes[1].resumed_at == 2


def test_the_watch_reads_at_most_once_per_interval():
    web3, now = FakeWeb3(), [float(T0)]
    watch = StallWatch(web3, 4.0, tag="api", min_interval_s=1.0, clock=lambda: now[0])  # type: ignore[arg-type]
    assert watch.check() is None
    now[0] = T0 + 0.5
    web3.eth.block = {"number": 2, "hash": b"\x02" * 32, "timestamp": T0 - 100}
    assert watch.check() is None  # cached: within the interval
    now[0] = T0 + 1.5
    assert watch.check() is not None
