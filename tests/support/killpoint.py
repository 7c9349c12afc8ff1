"""Run a ``chainright`` command that SIGKILLs itself at one exact point: a crash where a test wants it.

    python -m tests.support.killpoint MODULE:QUALNAME before|after N MARKER -- <chainright arguments>

The function or method ``QUALNAME`` of ``MODULE`` is wrapped so that on its ``N``-th call the
process writes ``MARKER`` (a file, so the test knows the crash came from here) and kills itself
with SIGKILL, before or after the call runs: no ``finally``, no ``atexit``, no flushing, exactly
as a power cut or the kernel's OOM killer would end it.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
from pathlib import Path
from typing import Any


def arm(target: str, when: str, nth: int, marker: Path) -> None:
    module_name, qualname = target.split(":")
    owner: Any = importlib.import_module(module_name)
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    calls = 0

    def die() -> None:
        marker.write_text(f"{target} {when} call {nth}\n")
        os.kill(os.getpid(), signal.SIGKILL)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth and when == "before":
            die()
        result = original(*args, **kwargs)
        if calls == nth and when == "after":
            die()
        return result

    setattr(owner, name, wrapper)


def main() -> None:
    target, when, nth, marker, sep, *rest = sys.argv[1:]
    if sep != "--" or when not in ("before", "after"):
        raise SystemExit(__doc__)
    arm(target, when, int(nth), Path(marker))
    from chainright.cli import main as chainright

    sys.argv = ["chainright", *rest]
    chainright()


if __name__ == "__main__":
    main()
