"""Run the platform's services as child processes, watch them, and stop them all cleanly.

Each service is a ``chainright`` subcommand in its own process group, with its output in
``<data_dir>/logs/<name>.log``. A service that dies is reported with its last log lines and
everything else is stopped (a half-running platform is worse than a stopped one).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Service:
    name: str
    argv: Sequence[str]
    ready: Callable[[], bool] | None = None
    """Returns True once the service answers (polled after start)."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log_file: Path | None = None


class ServiceFailedError(RuntimeError):
    """Raised when a service exits or does not become ready."""


def _tail(path: Path | None, chars: int = 1200) -> str:
    if path is None or not path.exists():
        return ""
    return path.read_text(errors="replace")[-chars:].strip()


class Supervisor:
    def __init__(self, log_dir: Path, env: dict[str, str] | None = None,
                 say: Callable[[str], None] = print) -> None:
        self.log_dir = log_dir
        self.env = env or dict(os.environ)
        self.say = say
        self.services: list[Service] = []

    def start(self, service: Service, timeout_s: float = 60.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        service.log_file = self.log_dir / f"{service.name}.log"
        with open(service.log_file, "ab") as out:
            service.process = subprocess.Popen(
                [sys.executable, "-m", "chainright", *service.argv], stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.env, start_new_session=True)
        self.services.append(service)
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

    def watch(self, stop: threading.Event, poll_s: float = 0.5) -> None:
        """Wait until ``stop`` is set; raise when a service dies meanwhile."""
        while not stop.wait(poll_s):
            for service in self.services:
                assert service.process is not None
                code = service.process.poll()
                if code is not None:
                    raise ServiceFailedError(f"{service.name} stopped unexpectedly (code {code}):\n"
                                             f"{_tail(service.log_file)}")

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
