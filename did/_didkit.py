"""didkit glue: its exception class, typed, and a guard against a crash at interpreter exit.

didkit's async functions finish their work on tokio threads (pyo3-asyncio). When the interpreter
finalizes right after the last call returned, those threads can still be releasing Python
objects, and the process aborts ("PyGILState_Release: thread state ... must be current when
releasing", rc 134, sometimes 139). Observed here in about 6 of 10 runs of a plain script; a
10 ms pause before finalization removed it in every run tried. So once any didkit coroutine has
been awaited, an atexit hook waits ``EXIT_SETTLE_S`` (atexit runs before finalization).
"""

from __future__ import annotations

import atexit
import time
from collections.abc import Awaitable
from typing import TypeVar, cast

import didkit

DIDKitException = cast(type[Exception], didkit.DIDKitException)
EXIT_SETTLE_S = 0.05
T = TypeVar("T")

_used = False


def _settle() -> None:
    if _used:
        time.sleep(EXIT_SETTLE_S)


atexit.register(_settle)


async def awaited(call: Awaitable[T]) -> T:
    """Await a didkit coroutine and remember that the exit guard is needed."""
    global _used
    _used = True
    return await call
