"""How amounts and times read wherever a person sees them (the console command, revert sentences,
problem documents): ETH with the exact wei beside it, and ISO 8601 UTC dates.

    >>> format_wei(1_500_000_000_000_000_000)
    '1.5 ETH (1500000000000000000 wei)'
    >>> format_time(0)
    '1970-01-01T00:00:00Z'
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

WEI_PER_ETH = 10**18


def format_wei(wei: int) -> str:
    """``1.5 ETH (1500000000000000000 wei)``: ETH for reading, the exact wei for copying."""
    eth = Decimal(int(wei)) / WEI_PER_ETH
    text = format(eth.normalize(), "f") if eth else "0"
    return f"{text} ETH ({int(wei)} wei)"


def format_time(when: int | float | datetime) -> str:
    """ISO 8601 in UTC, to the second: ``2026-12-07T10:00:00Z`` (a unix time or a datetime)."""
    if isinstance(when, datetime):
        moment = when if when.tzinfo else when.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(int(when), tz=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
