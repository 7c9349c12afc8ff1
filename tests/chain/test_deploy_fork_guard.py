"""A lost or corrupted deployment registry cannot silently fork the deployment.

Following the old advice for a corrupted `.chainright/deployments.json` ("move it aside and deploy
again") deployed every contract a second time at new addresses, while open orders, the KYC sync and
the bridge still pointed at the first set. Now the registry keeps its previous version, and a deploy
onto a chain that holds the deployer's contracts while the registry knows nothing of it recovers
their addresses from the creation transactions, or refuses (naming the chain, what it found and
`--force-new-deployment`) when it cannot; with that flag a second set is deployed on purpose.
Own anvils (home and remote), so the session chains' other deployments do not interfere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from chain.artifacts import Artifacts
from chain.connection import connect
from chain.deploy import BridgeOptions, deploy_all, deployer_contracts, guard_against_fork, link_all
from chain.deployments import DeploymentRegistry
from chain.errors import DeploymentError
from chain.reverts import ErrorDecoder
from chain.settings import DEV_DEPLOYER_KEY, ChainSettings
from chain.tx import TxSender
from devnet.anvil import NodeManager
from tests.conftest import chain_settings_for

pytestmark = pytest.mark.chain

CHAINS = ("home", "remote")


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainSettings]:
    settings = chain_settings_for(tmp_path_factory.mktemp("fork-guard"))
    manager = NodeManager(settings)
    manager.start(settings.specs("all"))
    try:
        yield settings
    finally:
        manager.stop(list(CHAINS))


def _sender(settings: ChainSettings, chain: str, artifacts: Artifacts) -> TxSender:
    decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    return TxSender(connect(settings.spec(chain)), Account.from_key(DEV_DEPLOYER_KEY), decoder=decoder)


def _deploy(settings: ChainSettings, artifacts: Artifacts, registry: DeploymentRegistry, *,
            force_new_deployment: bool = False) -> dict[str, dict[str, Any]]:
    """What `chainright deploy --chain all` does: guard, deploy (or reuse), link."""
    out: dict[str, dict[str, Any]] = {}
    senders = {c: _sender(settings, c, artifacts) for c in CHAINS}
    for chain, sender in senders.items():
        guard_against_fork(sender, artifacts, registry, chain_name=chain,
                           force_new_deployment=force_new_deployment)
        out[chain] = {r.deployment.contract: r for r in deploy_all(sender, artifacts, registry, chain_name=chain)}
    ids = {c: int(settings.spec(c).chain_id) for c in CHAINS}
    for chain, sender in senders.items():
        link_all(sender, artifacts, registry, chain_name=chain, chain_ids=ids)
    return out


def _addresses(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {c: {n: r.deployment.address for n, r in rs.items()} for c, rs in results.items()}


@pytest.fixture(scope="module")
def first(chains: ChainSettings, artifacts: Artifacts, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("registry") / "deployments.json"
    results = _deploy(chains, artifacts, DeploymentRegistry(path))
    assert all(not r.reused for rs in results.values() for r in rs.values())
    return {"path": path, "addresses": _addresses(results)}


def test_a_corrupt_registry_names_its_kept_previous_version(first: dict[str, Any]):
    path: Path = first["path"]
    registry = DeploymentRegistry(path)
    good = path.read_text()
    assert registry.backup_path.exists()
    path.write_text(good[: len(good) // 2])  # cut short
    try:
        with pytest.raises(DeploymentError, match="previous version is kept at") as err:
            registry.for_chain(31337)
        assert "force-new-deployment" in str(err.value)
    finally:
        path.write_text(good)


def test_a_registry_moved_aside_is_recovered_from_the_chains_and_nothing_is_deployed_again(
        chains: ChainSettings, artifacts: Artifacts, first: dict[str, Any], tmp_path: Path):
    registry = DeploymentRegistry(tmp_path / "moved-aside" / "deployments.json")
    results = _deploy(chains, artifacts, registry)
    assert all(r.reused for rs in results.values() for r in rs.values()), "a second set was deployed"
    assert _addresses(results) == first["addresses"]
    recovered = DeploymentRegistry(first["path"])
    for chain in CHAINS:
        cid = int(chains.spec(chain).chain_id)
        assert {n: (d.tx_hash, d.block) for n, d in registry.for_chain(cid).items()} == \
            {n: (d.tx_hash, d.block) for n, d in recovered.for_chain(cid).items()}


def test_the_deploy_command_recovers_instead_of_deploying_a_second_set(
        chains: ChainSettings, artifacts: Artifacts, first: dict[str, Any], tmp_path: Path):
    """`chainright deploy` / `make up` with the registry gone (development environment; the test
    environment's shared session chains skip the guard)."""
    from chain.deploy import deploy_to_chains

    settings = chains.model_copy(update={"environment": "development", "data_dir": tmp_path})
    results = deploy_to_chains(settings, settings.specs("all"))
    assert all(r.reused for rs in results.values() for r in rs)
    assert {c: {r.deployment.contract: r.deployment.address for r in rs} for c, rs in results.items()} \
        == first["addresses"]
    assert DeploymentRegistry(settings.deployments_file).for_chain(31337)


def test_contracts_the_build_cannot_account_for_are_refused_unless_forced(
        chains: ChainSettings, artifacts: Artifacts, first: dict[str, Any], tmp_path: Path):
    # The bridge settings changed since the chain's set was deployed (threshold 3, not 2): the two
    # bridge endpoints on the chains are not what this deploy would create, so they cannot be claimed.
    changed = BridgeOptions(threshold=3)
    registry = DeploymentRegistry(tmp_path / "lost" / "deployments.json")
    for chain in CHAINS:
        sender = _sender(chains, chain, artifacts)
        with pytest.raises(DeploymentError) as err:
            guard_against_fork(sender, artifacts, registry, chain_name=chain, bridge=changed)
        text = str(err.value)
        cid = chains.spec(chain).chain_id
        assert f"chain {cid} ({chain}) already holds" in text
        endpoint = "HomeLockbox" if chain == "home" else "RemoteBridge"
        assert first["addresses"][chain][endpoint] in text, text
        assert "--force-new-deployment" in text
        assert registry.for_chain(int(cid)) == {}, "nothing recorded on refusal"
    before = {c: set(deployer_contracts(_sender(chains, c, artifacts).web3, _sender(chains, c, artifacts).address))
              for c in CHAINS}
    results = _deploy(chains, artifacts, registry, force_new_deployment=True)  # on purpose
    assert all(not r.reused for rs in results.values() for r in rs.values())
    for chain in CHAINS:
        assert not set(_addresses(results)[chain].values()) & before[chain], "the new set is new"
