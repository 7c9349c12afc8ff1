"""The report's window (pure): ``--from``/``--to`` as block numbers or dates, and turning a time into
a block by bisection over any ``timestamp_of(block)`` function."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chain.errors import AuditError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?")


@dataclass(frozen=True)
class Point:
    """One end of the window: a block number, or a time (seconds since the epoch, UTC)."""

    block: int | None = None
    time: int | None = None


def parse_point(text: str, flag: str, *, end: bool) -> Point:
    """``text`` as a block number (``1234``) or a UTC date/time (``2026-11-22``,
    ``2026-11-22T13:05[:09][Z|+01:00]``). A bare date at the window's end (``end=True``) means the
    whole day, up to its last second."""
    value = text.strip()
    if value.isdigit():
        return Point(block=int(value))
    if _DATE.fullmatch(value):
        try:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise AuditError(f"{flag} {text!r} is not a valid date (YYYY-MM-DD)") from None
        if end:
            return Point(time=int((day + timedelta(days=1)).timestamp()) - 1)
        return Point(time=int(day.timestamp()))
    if _DATETIME.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise AuditError(f"{flag} {text!r} is not a valid date and time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return Point(time=int(moment.timestamp()))
    raise AuditError(
        f"{flag} {text!r} is neither a block number nor a date; use e.g. 1200, 2026-11-22 "
        "or 2026-11-22T13:05:00Z (UTC unless an offset is given)"
    )


def check_order(start: Point, stop: Point) -> None:
    """Refuse a window whose start is after its end when both ends are of the same kind."""
    if start.block is not None and stop.block is not None and start.block > stop.block:
        raise AuditError(f"--from block {start.block} is after --to block {stop.block}; swap them")
    if start.time is not None and stop.time is not None and start.time > stop.time:
        raise AuditError(f"--from {iso(start.time)} is after --to {iso(stop.time)}; swap them")


def first_block_at_or_after(t: int, lo: int, hi: int, timestamp_of: Callable[[int], int]) -> int:
    """The first block in [lo, hi] whose timestamp is >= ``t``; ``hi + 1`` when none is.
    Block timestamps never decrease, so bisection needs about log2(hi - lo) lookups."""
    while lo <= hi:
        mid = (lo + hi) // 2
        if timestamp_of(mid) >= t:
            hi = mid - 1
        else:
            lo = mid + 1
    return lo


def last_block_at_or_before(t: int, lo: int, hi: int, timestamp_of: Callable[[int], int]) -> int:
    """The last block in [lo, hi] whose timestamp is <= ``t``; ``lo - 1`` when none is."""
    return first_block_at_or_after(t + 1, lo, hi, timestamp_of) - 1


def iso(t: int | None) -> str:
    """A timestamp as ``YYYY-MM-DDTHH:MM:SSZ`` ('' for None)."""
    if t is None:
        return ""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
