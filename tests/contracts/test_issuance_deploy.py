"""The deploy plan's issuance steps leave a working family: the registry allows the factory, whose
collections can mint with rights records."""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account

from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.deploy import deploy_all
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.reverts import ErrorDecoder
from chain.settings import DEV_DEPLOYER_KEY, ChainSettings
from chain.tx import TxSender

pytestmark = pytest.mark.contracts

ZERO = "0x" + "00" * 20


def test_the_plan_deploys_a_wired_issuance_family(two_chains: ChainSettings, artifacts, tmp_path):
    web3 = connect(two_chains.spec("home"))
    decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    sender = TxSender(web3, Account.from_key(DEV_DEPLOYER_KEY), decoder=decoder)
    results = deploy_all(sender, artifacts, DeploymentRegistry(tmp_path / "deployments.json"),
                         chain_name="home", force=True)
    addresses = {r.deployment.contract: r.deployment.address for r in results}
    assert {"RightsRegistry", "CreatorCollection", "Editions1155", "CollectionFactory"} <= set(addresses)

    def at(name: str, address: str):  # type: ignore[no-untyped-def]
        return web3.eth.contract(address=address, abi=artifacts.get(name).abi)

    registry = at("RightsRegistry", addresses["RightsRegistry"])
    factory = at("CollectionFactory", addresses["CollectionFactory"])
    assert registry.functions.isFactory(factory.address).call()
    assert registry.functions.owner().call() == sender.address
    assert factory.functions.rightsRegistry().call() == registry.address
    assert factory.functions.collectionImplementation().call() == addresses["CreatorCollection"]
    assert factory.functions.editionsImplementation().call() == addresses["Editions1155"]

    creator = TxSender(web3, dev_account(1), decoder=decoder)
    salt = hashlib.sha256(b"deploy-plan").digest()
    settings = ("Plan", "PLN", creator.address, creator.address, 250, ZERO, False)
    creator.transact(creator.call_tx(factory.functions.createCollection(settings, salt)))
    collection = at("CreatorCollection", factory.functions.predictCollectionAddress(creator.address, salt).call())
    content, cid = hashlib.sha256(b"deploy-plan-work").digest(), raw_cid(b"deploy-plan-work")
    creator.transact(creator.call_tx(collection.functions.mintWork(creator.address, content, cid_to_bytes(cid))))
    assert collection.functions.tokenURI(1).call() == f"ipfs://{cid}"
    assert tuple(registry.functions.recordOf(content).call()[:3]) == (collection.address, 1, creator.address)
