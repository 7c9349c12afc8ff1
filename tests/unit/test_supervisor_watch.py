"""The supervisor's watch loop carries out the policy (chainright.supervise) on fake children: no
processes, a hand-moved clock. The loop with real processes is in tests/integration/test_observability.py."""

from __future__ import annotations

import json

import pytest

from chainright.supervise import RestartPolicy
from chainright.supervisor import ServiceFailedError, Supervisor, Watched

pytestmark = pytest.mark.unit


class FakeChild:
    def __init__(self) -> None:
        self.alive = True
        self.starts = 0
        self.fail_restart = False

    def status(self) -> tuple[bool, int | None]:
        return self.alive, None if self.alive else 137

    def restart(self) -> None:
        if self.fail_restart:
            raise RuntimeError("port 8546 is already in use")
        self.starts += 1
        self.alive = True


@pytest.fixture
def rig(tmp_path):
    now = [1000.0]
    said: list[str] = []
    sup = Supervisor(tmp_path / "logs", env={}, say=said.append, status_file=tmp_path / "run" / "sup.json",
                     policy=RestartPolicy(base_backoff_s=1, max_backoff_s=4, max_restarts=2, window_s=60),
                     clock=lambda: now[0])
    child = FakeChild()
    sup.add_child(Watched("indexer", "indexer", child.status, child.restart))
    return sup, child, now, said, tmp_path / "run" / "sup.json"


def state(path) -> dict:
    return json.loads(path.read_text())["children"]["indexer"]


def test_a_dead_child_is_reported_restarted_after_the_backoff_and_shows_in_the_status_file(rig):
    sup, child, now, said, status = rig
    sup.poll_once()
    assert state(status)["state"] == "running" and said == []
    child.alive = False
    sup.poll_once()
    assert "indexer: stopped unexpectedly (code 137); restarting in 1s (attempt 1)" in said[-1]
    assert state(status)["state"] == "restarting" and child.starts == 0
    now[0] += 0.5
    sup.poll_once()
    assert child.starts == 0  # not before the backoff
    now[0] += 0.6
    sup.poll_once()
    assert child.starts == 1 and said[-1] == "indexer: restarted (restart 1)"
    assert state(status) | {"last_exit": None} == {"kind": "indexer", "state": "running", "restarts": 1,
                                                    "last_exit": None, "last_exit_code": 137,
                                                    "restart_at": None}


def test_a_child_that_cannot_come_back_stops_the_platform(rig):
    sup, child, now, said, status = rig
    child.alive = False
    sup.poll_once()  # exit 1: restart in 1 s
    child.fail_restart = True
    now[0] += 1
    sup.poll_once()  # the restart fails: exit 2, restart in 2 s
    assert "restart failed (port 8546 is already in use)" in said[-1] and "in 2s" in said[-1]
    now[0] += 2
    with pytest.raises(ServiceFailedError, match=r"indexer stopped 3 times within 60s: it keeps crashing; "
                                                 r"giving up; stopping the platform"):
        sup.poll_once()
    assert state(status)["state"] == "stopped"


def test_stop_all_removes_the_status_file(rig):
    sup, _, _, _, status = rig
    assert status.exists()
    sup.stop_all()
    assert not status.exists()
