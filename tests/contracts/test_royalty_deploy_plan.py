"""The deploy plan's royalty, licensing and compliance steps: deployed, wired, and usable."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak

from chain.connection import connect
from chain.deploy import default_plan, deploy_all
from chain.deployments import DeploymentRegistry
from chain.reverts import ErrorDecoder
from chain.settings import DEV_DEPLOYER_KEY, ChainSettings
from chain.tx import TxSender

pytestmark = pytest.mark.contracts


def test_plan_deploys_the_families_wired_to_each_other(two_chains: ChainSettings, artifacts, tmp_path):
    web3 = connect(two_chains.spec("home"))
    sender = TxSender(web3, Account.from_key(DEV_DEPLOYER_KEY),
                      decoder=ErrorDecoder(artifacts.get(n).abi for n in artifacts.names()))
    names = [step.name for step in default_plan()]
    assert names.index("RoyaltySplitter") < names.index("SplitterFactory")
    results = deploy_all(sender, artifacts, DeploymentRegistry(tmp_path / "deployments.json"),
                         chain_name="home", force=True)
    address = {r.deployment.contract: r.deployment.address for r in results}
    assert {"RoyaltySplitter", "SplitterFactory", "Licensing", "IdentityRegistry"} <= set(address)

    def at(name: str):  # type: ignore[no-untyped-def]
        return web3.eth.contract(address=address[name], abi=artifacts.get(name).abi)

    assert at("SplitterFactory").functions.implementation().call() == address["RoyaltySplitter"]
    registry = at("IdentityRegistry")
    operator_role = keccak(text="OPERATOR_ROLE")
    assert registry.functions.hasRole(b"\x00" * 32, sender.address).call()
    assert registry.functions.hasRole(operator_role, sender.address).call()
    assert at("Licensing").functions.nextGrantId().call() == 1
