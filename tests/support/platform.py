"""Drive `chainright up` as a user does: start it, wait for "ready", stop it with Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def start_up(env: dict[str, str], timeout: float = 300) -> tuple[subprocess.Popen[str], list[str]]:
    """Start `chainright up` with ``env`` and return it once it prints "ready." (with its output so far)."""
    proc = subprocess.Popen([sys.executable, "-m", "chainright", "up"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("ready."):
            return proc, lines
    proc.kill()
    raise AssertionError("chainright up never became ready:\n" + "\n".join(lines))


def stop_up(proc: subprocess.Popen[str], lines: list[str], timeout: float = 90) -> None:
    """Ctrl-C `chainright up`; it must stop every child and exit 0. Its last output joins ``lines``."""
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=timeout)
    lines.extend(out.splitlines())
    assert proc.returncode == 0, "\n".join(lines)
