"""The consortium network: geth validators sealing with Clique on loopback, and its fork watchdog.

- ``network``  the ``Consortium`` manager: settings, genesis, validator processes, sealing, voting, healing
- ``forks``    pure diagnosis of a set of validator heads (in step, behind, forked, deadlocked)
- ``watch``    the watchdog process (``python -m devnet.consortium.watch``) that heals a deadlock
"""

from devnet.consortium.network import (
    GETH_VERSION,
    Consortium,
    ConsortiumError,
    ConsortiumSettings,
    NodeProcess,
    confirmations_for,
    find_free_base_port,
)

__all__ = [
    "GETH_VERSION",
    "Consortium",
    "ConsortiumError",
    "ConsortiumSettings",
    "NodeProcess",
    "confirmations_for",
    "find_free_base_port",
]
