"""Stop signals for the foreground commands that own processes (``chainright up``, ``node up``).

Their children run in new sessions, so the terminal's signals reach only us: we must stop them
ourselves, whatever ends us. :class:`Foreground` installs one handler for SIGINT, SIGTERM and SIGHUP
(the terminal closed) *before* anything starts, and follows three phases:

- starting: a signal aborts the start-up at once (:class:`StopRequested`, a ``KeyboardInterrupt``,
  so no ``except Exception`` swallows it); the caller's ``finally`` then cleans up;
- running: a signal only sets :attr:`Foreground.stop`, which the caller waits on;
- stopping: further signals (a second Ctrl-C, an impatient ``kill``) are ignored, so cleanup is
  never interrupted half-way.

The previous handlers come back when the ``with`` block ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequested(KeyboardInterrupt):
    """Raised when a stop signal arrives while a foreground command is still starting."""


class Foreground:
    """Stop-signal handling of one foreground command; use as a context manager."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.stop = threading.Event()
        self.received: str | None = None
        self._phase = "starting"
        self._previous: dict[signal.Signals, object] = {}

    def __enter__(self) -> Foreground:
        for s in STOP_SIGNALS:
            self._previous[s] = signal.getsignal(s)
        self.rearm()
        return self

    def rearm(self) -> None:
        """(Re)install our handler: a library may replace one while we start (importing ape sets
        SIGINT to ``sys.exit(130)``)."""
        for s in STOP_SIGNALS:
            if signal.getsignal(s) != self._handle:
                signal.signal(s, self._handle)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for s, handler in self._previous.items():
            # After a stop signal the command is on its way out: a late repeat (a second Ctrl-C, a
            # closing terminal) must not kill it by the default action and turn a clean stop into a
            # signal exit, so stop signals stay ignored from here on.
            signal.signal(s, signal.SIG_IGN if self.received is not None else handler)  # type: ignore[arg-type]
        self._previous.clear()
        if isinstance(exc, StopRequested):
            self.say(f"interrupted by {self.received} while starting; what had started is stopped")

    @property
    def phase(self) -> str:
        return self._phase

    def running(self) -> None:
        """Start-up is done: from now on a signal only sets :attr:`stop`."""
        if self._phase == "starting":
            self._phase = "running"
        self.rearm()

    @contextmanager
    def stopping(self) -> Iterator[None]:
        """Cleanup: signals received inside are reported and ignored."""
        self._phase = "stopping"
        self.rearm()
        yield

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._phase == "stopping":
            self.say(f"{name}: already stopping, please wait until every process has stopped")
            return
        first = not self.stop.is_set()
        self.stop.set()
        if first:
            self.received = name
        if self._phase == "starting" and first:
            raise StopRequested(f"{name} while starting")
