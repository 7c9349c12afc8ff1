"""The operator key signs for two parts of the platform: the KYC registry writer (identities on
every chain) and the circuit breaker (``setHalted`` on the marketplace). Fired at the same moment,
repeatedly, every one of their transactions lands (one send lock and nonce counter per key and node
in the process: chain/tx.py)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from web3 import Web3

from api.gateway import ChainGateway
from api.kyc.registry import OnChainIdentityWriter
from api.market_sync import set_halted_on_chain
from chain.deploy import deploy_to_chains
from chain.devaccounts import dev_account
from chain.settings import ChainSettings

pytestmark = pytest.mark.integration

COLLECTION = Web3.to_checksum_address("0x" + "5e" * 20)


@pytest.fixture(scope="module")
def deployed(two_chains: ChainSettings, artifacts) -> ChainSettings:
    deploy_to_chains(two_chains, two_chains.specs("all"))
    return two_chains


def test_a_halt_racing_identity_writes_both_land(deployed):
    writer = OnChainIdentityWriter.from_settings(deployed)
    gateway = ChainGateway(deployed)
    writer.set_identity(dev_account(13).address, 1, "FR", 2**40)  # the writer's sender is warm
    outcomes: dict[str, Any] = {}
    start = threading.Barrier(2)

    def identities() -> None:
        start.wait()
        try:
            for n in range(4):
                outcomes[f"identity-{n}"] = writer.set_identity(dev_account(13 + n).address, 2, "FR", 2**40)
        except Exception as exc:
            outcomes["identity"] = exc

    def halts() -> None:
        start.wait()
        try:
            for n in range(4):
                outcomes[f"halt-{n}"] = set_halted_on_chain(gateway, 31337, COLLECTION, n % 2 == 0)
        except Exception as exc:
            outcomes["halt"] = exc

    threads = [threading.Thread(target=identities), threading.Thread(target=halts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    failures = {k: repr(v) for k, v in outcomes.items() if isinstance(v, Exception)}
    assert failures == {} and len(outcomes) == 8
    assert all(writer.is_verified(dev_account(13 + n).address) == {31337: True, 31338: True} for n in range(4))
    market = gateway.contract(31337, "Marketplace")
    assert market.functions.collectionPolicy(COLLECTION).call()[0] is False  # the last of the four lifted it
    writer.revoke(dev_account(13).address)
    for n in range(1, 4):
        writer.revoke(dev_account(13 + n).address)
