"""devnet/bft.py's pure parts: bech32 addresses, config edits, node ids, ports, genesis."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from devnet.bft import (
    BftNetwork,
    BftNetworkError,
    BftSettings,
    bech32_encode,
    node_id_of,
    set_toml,
)

pytestmark = pytest.mark.unit


def _from_five_bit(values: list[int]) -> bytes:
    number = 0
    for v in values:
        number = number << 5 | v
    return number.to_bytes(len(values) * 5 // 8, "big")


def test_bech32_matches_bip173_vectors() -> None:
    assert bech32_encode("a", b"") == "a12uel5l"
    # "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw": the data part is the 5-bit values 0..31.
    assert bech32_encode("abcdef", _from_five_bit(list(range(32)))) == "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"


def test_bech32_differs_for_another_prefix_or_address() -> None:
    raw = bytes.fromhex("f39fd6e51aad88f6f4ce6ab8827279cfffb92266")
    assert bech32_encode("cr", raw).startswith("cr1")
    assert bech32_encode("cr", raw) != bech32_encode("cr", raw[:-1] + b"\x67")


TOML = """# top comment
moniker = "node"

[rpc]
# the address
laddr = "tcp://127.0.0.1:26657"

[p2p]
laddr = "tcp://0.0.0.0:26656"
pex = true
"""


def test_set_toml_edits_the_key_in_its_own_section_only() -> None:
    text = set_toml(TOML, "p2p", "laddr", "tcp://127.0.0.1:9000")
    assert 'laddr = "tcp://127.0.0.1:26657"' in text  # [rpc] untouched
    assert 'laddr = "tcp://127.0.0.1:9000"' in text
    assert "0.0.0.0" not in text  # noqa: S104 (checks that no wildcard address is left)
    assert "# the address" in text and "# top comment" in text
    assert "pex = false" in set_toml(TOML, "p2p", "pex", False)
    assert 'moniker = "v1"' in set_toml(TOML, "", "moniker", "v1")


def test_set_toml_refuses_a_key_that_is_not_there() -> None:
    with pytest.raises(BftNetworkError):
        set_toml(TOML, "rpc", "pex", True)  # pex lives in [p2p], not [rpc]
    with pytest.raises(BftNetworkError):
        set_toml(TOML, "consensus", "timeout_commit", "1s")


def test_node_id_is_the_sha256_prefix_of_the_public_key(tmp_path: Path) -> None:
    seed, public = bytes(range(32)), bytes(range(32, 64))
    key = tmp_path / "node_key.json"
    key.write_text(json.dumps({"priv_key": {"type": "tendermint/PrivKeyEd25519",
                                            "value": base64.b64encode(seed + public).decode()}}))
    assert node_id_of(key) == hashlib.sha256(public).digest()[:20].hex()


def test_validators_never_share_a_port() -> None:
    net = BftNetwork(BftSettings(validators=16, base_port=30000))
    ports = [p for n in net.nodes for p in vars(n.ports).values()]
    assert len(ports) == len(set(ports))


def test_genesis_names_every_validator_and_funds_the_dev_accounts(tmp_path: Path) -> None:
    net = BftNetwork(BftSettings(data_dir=tmp_path, validators=4, chain_id=4242, gas_limit=20_000_000))
    for n in net.nodes:
        (n.home / "config").mkdir(parents=True)
        (n.home / "config" / "priv_validator_key.json").write_text(json.dumps(
            {"address": f"{n.index:040X}", "pub_key": {"type": "tendermint/PubKeyEd25519", "value": f"k{n.index}"}}))
    (net.node(0).home / "config" / "genesis.json").write_text(json.dumps(
        {"chain_id": "x", "app_state": {"auth": {"accounts": []}, "bank": {"balances": [], "supply": []}},
         "consensus": {"params": {"block": {"max_gas": "-1"}}}}))
    genesis = net.genesis_document()
    assert genesis["chain_id"] == "chainright-bft-4242"
    assert [v["name"] for v in genesis["consensus"]["validators"]] == [f"validator{i}" for i in range(4)]
    assert {v["power"] for v in genesis["consensus"]["validators"]} == {"10"}
    assert genesis["consensus"]["params"]["block"]["max_gas"] == "20000000"
    balances = genesis["app_state"]["bank"]["balances"]
    assert len(balances) == 10
    total = sum(int(b["coins"][0]["amount"]) for b in balances)
    assert genesis["app_state"]["bank"]["supply"] == [{"denom": "acrb", "amount": str(total)}]
