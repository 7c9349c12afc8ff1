"""Table tests of the supervision policy (chainright.supervise.decide): no processes, no clock."""

from __future__ import annotations

import pytest

from chainright.supervise import (
    Child,
    KeepRunning,
    RestartAfter,
    RestartPolicy,
    StopPlatform,
    decide,
)

pytestmark = pytest.mark.unit

T = 1_000.0
POLICY = RestartPolicy(base_backoff_s=1.0, max_backoff_s=8.0, max_restarts=3, window_s=60.0)


def dead(kind: str, name: str | None = None, code: int | None = 1) -> Child:
    return Child(name=name or kind, kind=kind, running=False, exit_code=code)  # type: ignore[arg-type]


@pytest.mark.parametrize(("child", "exits", "expected"), [
    # a running child is left alone, whatever its history
    (Child("api", "api", running=True), [T - 1, T - 2, T - 3, T - 4, T - 5], KeepRunning()),
    # first death of each restartable kind: restart after the base backoff
    (dead("chain", "home"), [T], RestartAfter(1.0, 1)),
    (dead("api"), [T], RestartAfter(1.0, 1)),
    (dead("indexer"), [T], RestartAfter(1.0, 1)),
    (dead("validator", "validator-1"), [T], RestartAfter(1.0, 1)),
    (dead("submitter"), [T], RestartAfter(1.0, 1)),
    # backoff doubles with each recent exit
    (dead("indexer"), [T - 10, T], RestartAfter(2.0, 2)),
    (dead("indexer"), [T - 20, T - 10, T], RestartAfter(4.0, 3)),
    # old exits (outside the window) are forgotten
    (dead("indexer"), [T - 500, T - 400, T - 300, T - 200, T], RestartAfter(1.0, 1)),
    # one more than max_restarts within the window: give up and stop everything
    (dead("indexer"), [T - 30, T - 20, T - 10, T], StopPlatform("x")),
    (dead("chain", "remote"), [T - 3, T - 2, T - 1, T], StopPlatform("x")),
    # the IPFS node is never restarted: the platform stops at once
    (dead("ipfs"), [T], StopPlatform("x")),
    # an exit at exactly the window's edge still counts
    (dead("api"), [T - 60, T - 59, T - 58, T], StopPlatform("x")),
    # a future timestamp (clock skew) is not counted
    (dead("api"), [T + 5], RestartAfter(1.0, 1)),
])
def test_decide(child, exits, expected):
    decision = decide(child, exits, T, POLICY)
    if isinstance(expected, StopPlatform):
        assert isinstance(decision, StopPlatform), decision
        assert child.name in decision.reason
    else:
        assert decision == expected


def test_backoff_is_capped():
    policy = RestartPolicy(base_backoff_s=1.0, max_backoff_s=8.0, max_restarts=100, window_s=1e9)
    delays = [decide(dead("api"), [T] * n, T, policy) for n in range(1, 8)]
    assert [d.delay_s for d in delays if isinstance(d, RestartAfter)] == [1, 2, 4, 8, 8, 8, 8]


def test_messages_say_why_the_platform_stops():
    chain = decide(dead("chain", "remote", code=-9), [T - 3, T - 2, T - 1, T], T, POLICY)
    assert isinstance(chain, StopPlatform)
    assert "remote" in chain.reason and "saved state" in chain.reason and "-9" in chain.reason
    ipfs = decide(dead("ipfs", code=None), [T], T, POLICY)
    assert isinstance(ipfs, StopPlatform) and "not restarted" in ipfs.reason
