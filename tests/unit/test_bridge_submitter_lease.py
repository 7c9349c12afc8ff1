"""One submitter per destination chain and database: a second submitter (another process, or another
in this one) delivers nothing while the first holds the chain's lease, says who holds it, and takes
over when the first gives it back, when the first's process is gone, or when its lease expires."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from bridge.errors import SubmitterAlreadyRunningError
from bridge.relayer import SubmitterWorker
from bridge.service import Relayer, process_gone
from bridge.settings import BridgeSettings
from bridge.store import BridgeStore
from chain.settings import ChainSettings

pytestmark = pytest.mark.unit

HOME, REMOTE = 31337, 31338


def _submitter(tmp_path: Path) -> tuple[Relayer, list[int]]:
    """A submitter process's relayer whose worker delivers to both chains and counts its steps (no chain)."""
    relayer = Relayer("submitter", ChainSettings(environment="test", data_dir=tmp_path),
                      BridgeSettings(environment="test"))
    steps: list[int] = []
    worker = SubmitterWorker.__new__(SubmitterWorker)
    worker.links = [SimpleNamespace(dest=SimpleNamespace(chain_id=c)) for c in (REMOTE, HOME)]  # type: ignore[misc]
    worker.step = lambda: steps.append(1) or 0  # type: ignore[method-assign]
    relayer.worker = worker
    return relayer, steps


def _reaped() -> int:
    """The pid of a process that ran and was reaped."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_second_submitter_delivers_nothing_and_says_who_delivers(tmp_path):
    first, first_steps = _submitter(tmp_path)
    second, second_steps = _submitter(tmp_path)
    first.step()
    with pytest.raises(SubmitterAlreadyRunningError, match=f"another submitter delivers to chain {HOME}") as refused:
        second.step()
    assert first.holder in str(refused.value) and "standby" in str(refused.value)
    assert (len(first_steps), len(second_steps)) == (1, 0)
    first.step()  # the holder renews and goes on
    assert len(first_steps) == 2


def test_the_standby_takes_over_when_the_first_stops_cleanly(tmp_path):
    first, _ = _submitter(tmp_path)
    second, second_steps = _submitter(tmp_path)
    first.step()
    first.release_leases()
    second.step()
    assert len(second_steps) == 1
    with pytest.raises(SubmitterAlreadyRunningError):
        first.step()  # and the first, started again, is now the standby


def test_a_lease_whose_process_is_gone_is_taken_over_at_once(tmp_path):
    store = BridgeStore.open(f"sqlite:///{tmp_path / 'bridge.db'}")
    dead = f"{socket.gethostname()}:{_reaped()}:deadbeef"
    assert process_gone(dead)
    store.take_lease(f"submitter:{HOME}", dead, now=1e12, ttl_s=60)  # far from expiring
    second, second_steps = _submitter(tmp_path)
    second.step()
    assert len(second_steps) == 1


def test_a_lease_on_another_host_blocks_until_it_expires(tmp_path):
    store = BridgeStore.open(f"sqlite:///{tmp_path / 'bridge.db'}")
    other = "another-host:1:cafe0000"
    assert not process_gone(other)
    held = store.take_lease("submitter:1", other, now=100.0, ttl_s=60)
    assert held.holder == other
    assert store.take_lease("submitter:1", "here:2:x", now=159.0, ttl_s=60).holder == other
    taken = store.take_lease("submitter:1", "here:2:x", now=161.0, ttl_s=60)
    assert (taken.holder, taken.acquired_at, taken.expires_at) == ("here:2:x", 161.0, 221.0)
    renewed = store.take_lease("submitter:1", "here:2:x", now=200.0, ttl_s=60)
    assert (renewed.acquired_at, renewed.expires_at) == (161.0, 260.0)


def test_leases_of_different_chains_are_independent(tmp_path):
    store = BridgeStore.open(f"sqlite:///{tmp_path / 'bridge.db'}")
    assert store.take_lease("submitter:1", "a:1:x", now=0.0, ttl_s=60).holder == "a:1:x"
    assert store.take_lease("submitter:2", "b:1:x", now=0.0, ttl_s=60).holder == "b:1:x"
