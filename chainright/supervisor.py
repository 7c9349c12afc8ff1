"""Run the platform's services as child processes, watch them, and stop them all cleanly.

Each service is a ``chainright`` subcommand in its own process group, with its output in
``<data_dir>/logs/<name>.log``; the chains are watched too (``add_chain``). A child that dies is
noticed within a poll (half a second), reported with its last log lines, and handled as
``chainright.supervise.decide`` says: restarted after a backoff, or, when it cannot come back, the
whole platform is stopped (a half-running platform is worse than a stopped one). Every change is
written to a status file that the API's ``/health`` reads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chainright.supervise import Child, ChildKind, RestartAfter, RestartPolicy, StopPlatform, decide


@dataclass
class Service:
    name: str
    argv: Sequence[str]
    ready: Callable[[], bool] | None = None
    """Returns True once the service answers (polled after start)."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log_file: Path | None = None
    kind: ChildKind = "api"


@dataclass
class Watched:
    """One supervised child as the watch loop sees it: how to tell it is alive, how to restart it."""

    name: str
    kind: ChildKind
    status: Callable[[], tuple[bool, int | None]]
    """(alive, exit code when known)."""
    restart: Callable[[], None]
    log_file: Path | None = None
    state: str = "running"
    """running | restarting | stopped"""
    restarts: int = 0
    last_exit: float | None = None
    last_exit_code: int | None = None
    restart_at: float | None = None


class ServiceFailedError(RuntimeError):
    """Raised when a service exits or does not become ready."""


def _tail(path: Path | None, chars: int = 1200) -> str:
    if path is None or not path.exists():
        return ""
    return path.read_text(errors="replace")[-chars:].strip()


class Supervisor:
    def __init__(self, log_dir: Path, env: dict[str, str] | None = None,
                 say: Callable[[str], None] = print, *, status_file: Path | None = None,
                 policy: RestartPolicy = RestartPolicy(), clock: Callable[[], float] = time.time) -> None:
        self.log_dir = log_dir
        self.env = env or dict(os.environ)
        self.say = say
        self.services: list[Service] = []
        self.watched: list[Watched] = []
        self.status_file = status_file
        self.policy = policy
        self.clock = clock
        self.exits: dict[str, list[float]] = {}

    def _spawn(self, service: Service) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        service.log_file = self.log_dir / f"{service.name}.log"
        with open(service.log_file, "ab") as out:
            service.process = subprocess.Popen(
                [sys.executable, "-m", "chainright", *service.argv], stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.env, start_new_session=True)

    def start(self, service: Service, timeout_s: float = 60.0) -> None:
        self._spawn(service)
        assert service.process is not None
        self.services.append(service)

        def status() -> tuple[bool, int | None]:
            assert service.process is not None
            code = service.process.poll()
            return code is None, code

        self.watched.append(Watched(service.name, service.kind, status, lambda: self._spawn(service),
                                    service.log_file))
        deadline = time.monotonic() + timeout_s
        while service.ready is not None and not service.ready():
            if service.process.poll() is not None:
                raise ServiceFailedError(f"{service.name} exited with code {service.process.returncode}:\n"
                                         f"{_tail(service.log_file)}")
            if time.monotonic() > deadline:
                raise ServiceFailedError(f"{service.name} did not become ready within {timeout_s:.0f}s; "
                                         f"see {service.log_file}")
            time.sleep(0.2)
        self.say(f"{service.name}: running (pid {service.process.pid}, log {service.log_file})")
        self.write_status()

    def add_chain(self, name: str, alive: Callable[[], bool], restart: Callable[[], None],
                  log_file: Path | None = None) -> None:
        """Watch a chain started elsewhere (NodeManager): ``restart`` brings it back from its saved state."""
        self.watched.append(Watched(name, "chain", lambda: (alive(), None), restart, log_file))
        self.write_status()

    def add_child(self, watched: Watched) -> None:
        self.watched.append(watched)
        self.write_status()

    def write_status(self) -> None:
        """``{name: {kind, state, restarts, last_exit, last_exit_code, restart_at}}`` for ``/health``."""
        if self.status_file is None:
            return
        data = {"updated_at": self.clock(), "pid": os.getpid(), "children": {
            w.name: {"kind": w.kind, "state": w.state, "restarts": w.restarts, "last_exit": w.last_exit,
                     "last_exit_code": w.last_exit_code, "restart_at": w.restart_at}
            for w in self.watched}}
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.status_file)

    def clear_status(self) -> None:
        if self.status_file is not None:
            self.status_file.unlink(missing_ok=True)

    def _died(self, w: Watched, code: int | None, now: float, what: str = "stopped unexpectedly") -> None:
        """Record an exit (or a failed restart) and act on the policy's decision."""
        self.exits.setdefault(w.name, []).append(now)
        w.last_exit, w.last_exit_code = now, code
        decision = decide(Child(w.name, w.kind, running=False, exit_code=code), self.exits[w.name], now,
                          self.policy)
        tail = _tail(w.log_file, 600)
        if isinstance(decision, StopPlatform):
            w.state, w.restart_at = "stopped", None
            self.write_status()
            raise ServiceFailedError(f"{decision.reason}; stopping the platform"
                                     + (f"\nlast lines of {w.log_file}:\n{tail}" if tail else ""))
        assert isinstance(decision, RestartAfter)
        w.state, w.restart_at = "restarting", now + decision.delay_s
        code_text = "" if code is None else f" (code {code})"
        self.say(f"{w.name}: {what}{code_text}; restarting in {decision.delay_s:.0f}s "
                 f"(attempt {decision.attempt})" + (f"\n{tail}" if tail else ""))
        self.write_status()

    def poll_once(self) -> None:
        """One pass of the watch: notice deaths, carry out due restarts. Raises ServiceFailedError
        when the policy says to stop the platform."""
        for w in self.watched:
            now = self.clock()
            if w.state == "restarting":
                if w.restart_at is not None and now >= w.restart_at:
                    try:
                        w.restart()
                    except Exception as exc:  # any failure to come back counts as an exit
                        self._died(w, None, self.clock(), what=f"restart failed ({exc})")
                        continue
                    w.state, w.restart_at, w.restarts = "running", None, w.restarts + 1
                    self.say(f"{w.name}: restarted (restart {w.restarts})")
                    self.write_status()
                continue
            alive, code = w.status()
            if not alive:
                self._died(w, code, now)

    def watch(self, stop: threading.Event, poll_s: float = 0.5) -> None:
        """Wait until ``stop`` is set, supervising the children meanwhile (see ``poll_once``)."""
        while not stop.wait(poll_s):
            self.poll_once()

    def stop_all(self, timeout_s: float = 15.0) -> None:
        """SIGTERM every service (newest first), then SIGKILL what is left after the timeout."""
        for service in reversed(self.services):
            if service.process is not None and service.process.poll() is None:
                try:
                    os.killpg(service.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout_s
        for service in reversed(self.services):
            if service.process is None:
                continue
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(service.process.pid, signal.SIGKILL)
                service.process.wait()
            self.say(f"{service.name}: stopped")
        self.services.clear()
        self.watched.clear()
        self.clear_status()
