"""Chain snapshots that leave the chain's clock in step with the wall clock.

anvil's ``evm_revert`` also rewinds its clock to the snapshot's: every later block is then stamped as
if no time had passed since the snapshot. A module that isolates its tests with snapshots leaves the
session's chain behind the wall clock by as long as the module ran, and a later test on the same chain
that signs an order starting "a minute ago" finds it not started yet (``OrderNotStarted``). So after a
revert the clock is set to the wall clock again, unless the chain is already ahead of it (a test moved
it forward on purpose; block times never go backwards).
"""

from __future__ import annotations

import time
from typing import Any


def restore(snapshot: Any) -> None:
    """``ape.chain.restore(snapshot)``, then the chain's clock caught up with the wall clock."""
    import ape

    ape.chain.restore(snapshot)
    now = int(time.time())
    if ape.chain.blocks.head.timestamp < now:
        ape.chain.provider.make_request("evm_setTime", [now])
