from __future__ import annotations

import pytest
from pydantic import ValidationError

from chain.errors import ChainSettingsError
from chain.settings import DEV_DEPLOYER_KEY, ChainSettings

pytestmark = pytest.mark.unit


def test_defaults_describe_two_managed_local_chains(tmp_path):
    s = ChainSettings(data_dir=tmp_path)
    home, remote = s.specs("all")
    assert (home.name, home.chain_id, home.rpc_url, home.managed) == (
        "home", 31337, "http://127.0.0.1:8545", True)
    assert (remote.name, remote.chain_id, remote.rpc_url) == ("remote", 31338, "http://127.0.0.1:8546")


def test_external_endpoint_is_not_managed(monkeypatch, tmp_path):
    monkeypatch.setenv("CHAINRIGHT_CHAIN_HOME_RPC_URL", "http://10.1.2.3:8545")
    monkeypatch.setenv("CHAINRIGHT_CHAIN_HOME_POA", "true")
    spec = ChainSettings(data_dir=tmp_path).spec("home")
    assert spec.managed is False and spec.port is None and spec.poa is True
    assert spec.rpc_url == "http://10.1.2.3:8545"


def test_development_key_is_refused_in_production(tmp_path):
    with pytest.raises(ValidationError, match="development key"):
        ChainSettings(environment="production", data_dir=tmp_path)
    ok = ChainSettings(environment="production", data_dir=tmp_path, deployer_key="0x" + "11" * 32)
    assert ok.deployer_key.get_secret_value() != DEV_DEPLOYER_KEY


def test_key_never_appears_in_repr(tmp_path):
    s = ChainSettings(data_dir=tmp_path)
    assert DEV_DEPLOYER_KEY not in repr(s) and DEV_DEPLOYER_KEY[2:] not in str(s.model_dump())


def test_same_chain_ids_or_ports_are_refused(tmp_path):
    with pytest.raises(ValidationError, match="different chain ids"):
        ChainSettings(data_dir=tmp_path, remote_chain_id=31337)
    with pytest.raises(ValidationError, match="different ports"):
        ChainSettings(data_dir=tmp_path, remote_port=8545)


def test_unknown_chain_name_lists_the_choices(tmp_path):
    with pytest.raises(ChainSettingsError, match="home, remote or all"):
        ChainSettings(data_dir=tmp_path).specs("moon")
