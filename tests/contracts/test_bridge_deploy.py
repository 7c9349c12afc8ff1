"""`chainright deploy` puts the lockbox on home, the wrapped collection and its bridge on remote, and links
the two ends as peers; a second deploy reuses everything and links nothing again."""

from __future__ import annotations

import subprocess

import pytest

from chain.connection import connect
from chain.deploy import BridgeOptions, dev_bridge_validators
from chain.deployments import DeploymentRegistry
from chain.settings import ChainSettings
from tests.conftest import settings_env

pytestmark = pytest.mark.contracts


def test_deploy_places_each_bridge_end_on_its_chain_and_links_the_peers(two_chains: ChainSettings, artifacts):
    env = settings_env(two_chains)
    out = subprocess.run(["chainright", "deploy", "--chain", "all"], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    registry = DeploymentRegistry(two_chains.deployments_file)
    home, remote = two_chains.spec("home"), two_chains.spec("remote")
    on_home, on_remote = registry.for_chain(home.chain_id), registry.for_chain(remote.chain_id)
    assert "HomeLockbox" in on_home and not {"WrappedCollection", "RemoteBridge"} & set(on_home)
    assert {"WrappedCollection", "RemoteBridge"} <= set(on_remote) and "HomeLockbox" not in on_remote

    h3, r3 = connect(home), connect(remote)
    lockbox = h3.eth.contract(address=on_home["HomeLockbox"].address, abi=artifacts.get("HomeLockbox").abi)
    bridge = r3.eth.contract(address=on_remote["RemoteBridge"].address, abi=artifacts.get("RemoteBridge").abi)
    wrapped = r3.eth.contract(address=on_remote["WrappedCollection"].address,
                              abi=artifacts.get("WrappedCollection").abi)
    assert lockbox.functions.peer().call() == [remote.chain_id, bridge.address]
    assert bridge.functions.peer().call() == [home.chain_id, lockbox.address]
    assert wrapped.functions.bridge().call() == bridge.address
    assert bridge.functions.wrapped().call() == wrapped.address
    assert lockbox.functions.rightsRegistry().call() == on_home["RightsRegistry"].address
    # Royalty splits travel: the lockbox knows home's splitter implementation, the bridge remote's factory.
    assert lockbox.functions.splitterImplementation().call() == on_home["RoyaltySplitter"].address
    assert bridge.functions.splitterFactory().call() == on_remote["SplitterFactory"].address
    for endpoint in (lockbox, bridge):
        assert endpoint.functions.validatorSet().call() == [list(dev_bridge_validators()), 2]
        assert endpoint.functions.rateLimits().call() == [1000, 1000, 50, 100] == list(BridgeOptions().rate_limits)

    again = subprocess.run(["chainright", "deploy", "--chain", "all"], capture_output=True, text=True, env=env,
                           timeout=600)
    assert again.returncode == 0, again.stderr
    assert "linked" not in again.stderr and "deployed at" not in again.stderr
