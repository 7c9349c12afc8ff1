"""Run one of our coroutines to completion from blocking code (console, tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from did.errors import DidError

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``; refuses inside a running event loop (await the async function there)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise DidError("a *_sync identity function was called inside a running event loop; await the async one")
