"""The consortium network: geth validators sealing with Clique on loopback, and its fork watchdog.

- ``settings``  ``ConsortiumSettings`` (``CHAINRIGHT_CONSORTIUM_*``), constants, the error, network.json
- ``genesis``   the genesis document (Clique extraData), validator keys and keystores, static peers
- ``process``   finding geth; starting, identifying and stopping validators and the watchdog; free ports
- ``clique``    heads and signers, the one-at-a-time sealing start, votes, fork healing
- ``network``   the ``Consortium`` facade composing them
- ``forks``     pure diagnosis of a set of validator heads (in step, behind, forked, deadlocked)
- ``watch``     the watchdog process (``python -m devnet.consortium.watch``) that heals a deadlock
"""

from devnet.consortium.clique import confirmations_for
from devnet.consortium.network import Consortium
from devnet.consortium.process import NodeProcess, find_free_base_port
from devnet.consortium.settings import GETH_VERSION, ConsortiumError, ConsortiumSettings

__all__ = [
    "GETH_VERSION",
    "Consortium",
    "ConsortiumError",
    "ConsortiumSettings",
    "NodeProcess",
    "confirmations_for",
    "find_free_base_port",
]
