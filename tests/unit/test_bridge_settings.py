"""Relayer and bridge-deploy settings: anvil's public keys and validators are development-only; keys are
secrets that never show in reprs or errors; confirmations fall back to the chain settings."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from bridge.settings import BridgeSettings, dev_validator_keys
from chain.deploy import BridgeOptions, dev_bridge_validators
from chain.devaccounts import dev_account
from chain.errors import ChainSettingsError
from chain.settings import ChainSettings

pytestmark = pytest.mark.unit

REAL = ["0x" + "11" * 32, "0x" + "22" * 32]


def test_development_defaults_are_anvil_accounts_10_to_12_and_8():
    s = BridgeSettings(environment="development")
    assert [k.get_secret_value() for k in s.validator_keys] == [k.get_secret_value() for k in dev_validator_keys()]
    assert {dev_account(i).address for i in (10, 11, 12)} == set(dev_bridge_validators())
    assert s.submitter_key.get_secret_value() == "0x" + bytes(dev_account(8).key).hex()


def test_production_refuses_the_public_development_keys():
    with pytest.raises(ValidationError, match="VALIDATOR_KEYS holds anvil's public development keys"):
        BridgeSettings(environment="production", submitter_key=SecretStr("0x" + "33" * 32))
    with pytest.raises(ValidationError, match="SUBMITTER_KEY is anvil's public development key"):
        BridgeSettings(environment="production", validator_keys=[SecretStr(k) for k in REAL])
    ok = BridgeSettings(environment="production", validator_keys=[SecretStr(k) for k in REAL],
                        submitter_key=SecretStr("0x" + "33" * 32))
    assert len(ok.validator_keys) == 2


def test_keys_never_show_in_reprs_or_errors():
    s = BridgeSettings(validator_keys=[SecretStr(k) for k in REAL])
    assert "11" * 32 not in repr(s) and "11" * 32 not in str(s.model_dump())
    with pytest.raises(ValidationError) as info:
        BridgeSettings(validator_keys=[SecretStr(REAL[0]), SecretStr(REAL[0])])
    assert "11" * 32 not in str(info.value)


def test_keys_come_from_the_environment_as_a_json_list(monkeypatch):
    monkeypatch.setenv("CHAINRIGHT_BRIDGE_VALIDATOR_KEYS", f'["{REAL[0]}", "{REAL[1]}"]')
    monkeypatch.setenv("CHAINRIGHT_BRIDGE_HOME_CONFIRMATIONS", "3")
    s = BridgeSettings()
    assert [k.get_secret_value() for k in s.validator_keys] == REAL
    chain = ChainSettings(environment="test", remote_confirmations=2)
    assert (s.confirmations(chain, "home"), s.confirmations(chain, "remote")) == (3, 2)


def test_deploying_the_bridge_in_production_needs_real_validators(tmp_path):
    with pytest.raises(ChainSettingsError, match="BRIDGE_VALIDATORS is empty"):
        BridgeOptions.from_settings(ChainSettings(environment="production", data_dir=tmp_path,
                                                  deployer_key="0x" + "11" * 32))
    chosen = [dev_account(5).address, dev_account(4).address]
    opts = BridgeOptions.from_settings(ChainSettings(environment="production", data_dir=tmp_path,
                                                     deployer_key="0x" + "11" * 32, bridge_validators=chosen,
                                                     bridge_threshold=2))
    assert list(opts.validators) == sorted(chosen, key=lambda a: int(a, 16)) and opts.threshold == 2
    with pytest.raises(ValidationError, match="exceeds the number of bridge validators"):
        ChainSettings(environment="test", bridge_validators=chosen, bridge_threshold=3)
