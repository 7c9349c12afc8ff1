"""A deploy cut short between a contract and its wiring heals on the next run.

The wiring transaction is made to fail (as an RPC failure or Ctrl-C would); the contract is already
recorded, so the next deploy reuses it, finds the wiring missing on chain and sends it. A third run
sends nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.abi import function_signature_to_4byte_selector
from web3.types import TxParams, TxReceipt

from chain.connection import connect
from chain.deploy import DEFAULT_ADMIN_ROLE, deploy_all
from chain.deployments import DeploymentRegistry
from chain.errors import ChainUnavailableError
from chain.reverts import ErrorDecoder
from chain.settings import DEV_DEPLOYER_KEY, ChainSettings
from chain.tx import TxSender

pytestmark = pytest.mark.chain


class FlakySender(TxSender):
    """Fails every transaction whose calldata starts with ``fail_selector``; counts the others."""

    def __init__(self, *args: Any, fail_selector: bytes | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fail_selector = fail_selector
        self.sent: list[TxParams] = []

    def transact(self, tx: TxParams) -> TxReceipt:
        data = bytes.fromhex(str(tx.get("data", "0x"))[2:])
        if self.fail_selector is not None and data[:4] == self.fail_selector:
            raise ChainUnavailableError("forced failure of a wiring transaction (test)")
        self.sent.append(tx)
        return super().transact(tx)


def _sender(settings: ChainSettings, chain: str, artifacts: Any, fail: str | None = None) -> FlakySender:
    web3 = connect(settings.spec(chain))
    decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    selector = function_signature_to_4byte_selector(fail) if fail else None
    return FlakySender(web3, Account.from_key(DEV_DEPLOYER_KEY), decoder=decoder, fail_selector=selector)


def _wired(sender: TxSender, artifacts: Any, addresses: dict[str, str], wiring: str) -> bool:
    def at(name: str) -> Any:
        return sender.web3.eth.contract(address=addresses[name],  # type: ignore[call-overload]
                                        abi=artifacts.get(name).abi)

    if wiring == "setFactory(address,bool)":
        return bool(at("RightsRegistry").functions.isFactory(addresses["CollectionFactory"]).call())
    if wiring == "grantRole(bytes32,address)":
        identity = at("IdentityRegistry")
        role = identity.functions.OPERATOR_ROLE().call()
        return bool(identity.functions.hasRole(role, sender.address).call())
    if wiring == "setIdentityRegistry(address)":
        current = at("Marketplace").functions.identityRegistry().call()
        return str(current).lower() == addresses["IdentityRegistry"].lower()
    if wiring == "setBridge(address)":
        current = at("WrappedCollection").functions.bridge().call()
        return str(current).lower() == addresses["RemoteBridge"].lower()
    raise AssertionError(wiring)


@pytest.mark.parametrize(("chain", "wiring"), [
    ("home", "setFactory(address,bool)"),
    ("home", "grantRole(bytes32,address)"),
    ("home", "setIdentityRegistry(address)"),
    ("remote", "setBridge(address)"),
])
def test_a_failed_wiring_step_is_redone_by_the_next_deploy(
        two_chains: ChainSettings, artifacts: Any, tmp_path: Path, chain: str, wiring: str) -> None:
    registry = DeploymentRegistry(tmp_path / "deployments.json")
    flaky = _sender(two_chains, chain, artifacts, fail=wiring)
    with pytest.raises(ChainUnavailableError, match="forced failure"):
        deploy_all(flaky, artifacts, registry, chain_name=chain)
    recorded = {name: d.address for name, d in registry.for_chain(flaky.chain_id).items()}
    assert not _wired(flaky, artifacts, recorded, wiring), "the forced failure did not stop the wiring"

    healer = _sender(two_chains, chain, artifacts)
    results = deploy_all(healer, artifacts, registry, chain_name=chain)
    addresses = {r.deployment.contract: r.deployment.address for r in results}
    reused = {r.deployment.contract for r in results if r.reused}
    assert set(recorded) <= reused, "contracts recorded before the failure must be reused, not redeployed"
    assert all(addresses[name] == address for name, address in recorded.items())
    assert _wired(healer, artifacts, addresses, wiring)
    selector = "0x" + function_signature_to_4byte_selector(wiring).hex()
    assert [str(tx.get("data", ""))[:10] for tx in healer.sent].count(selector) == 1

    again = _sender(two_chains, chain, artifacts)
    assert all(r.reused for r in deploy_all(again, artifacts, registry, chain_name=chain))
    assert again.sent == [], "a complete deploy must send nothing on the next run"


def test_the_marketplace_is_wired_to_the_identity_registry_but_requires_nothing(
        two_chains: ChainSettings, artifacts: Any, tmp_path: Path) -> None:
    sender = _sender(two_chains, "home", artifacts)
    results = deploy_all(sender, artifacts, DeploymentRegistry(tmp_path / "d.json"), chain_name="home")
    addresses = {r.deployment.contract: r.deployment.address for r in results}
    market = sender.web3.eth.contract(address=addresses["Marketplace"],  # type: ignore[call-overload]
                                      abi=artifacts.get("Marketplace").abi)
    assert market.functions.identityRegistry().call() == addresses["IdentityRegistry"]
    assert market.functions.hasRole(DEFAULT_ADMIN_ROLE, sender.address).call()
