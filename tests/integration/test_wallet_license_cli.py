"""The wallet CLI's success paths: `wallet new` then `wallet address` name the same checksummed
address and keep the key encrypted; `chainright mint FILE --license TEMPLATE` publishes the
template's terms and attaches them to every token it minted, each transaction signed locally."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from chain.connection import connect
from chain.deployments import DeploymentRegistry
from tests.conftest import free_port
from tests.integration.test_wallet_cli import CREATOR, served_api  # noqa: F401 (the served API fixture)
from tests.support.wallet_cli import wallet_env

pytestmark = pytest.mark.integration


def test_wallet_new_and_address_agree(two_chains):
    env = wallet_env(two_chains, passphrase="a long passphrase")
    name = f"carol-{free_port()}"
    made = subprocess.run(["chainright", "wallet", "new", "--wallet", name], env=env, capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    address = made.stdout.strip()
    assert re.fullmatch(r"0x[0-9a-fA-F]{40}", address) and address != address.lower()  # checksummed
    shown = subprocess.run(["chainright", "wallet", "address", "--wallet", name], env=env, capture_output=True,
                           text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == address
    keystore = two_chains.data_dir / "wallets" / f"{name}.json"
    assert f"keystore: {keystore}" in shown.stderr
    assert oct(os.stat(keystore).st_mode & 0o777) == "0o600"
    stored = json.loads(keystore.read_text())
    assert "crypto" in stored and "private" not in keystore.read_text().lower()


def test_mint_with_a_license_publishes_and_attaches_the_terms(served_api, two_chains, artifacts, tmp_path):  # noqa: F811
    env = wallet_env(two_chains, key=CREATOR.key)
    name = f"dora-{free_port()}"
    subprocess.run(["chainright", "wallet", "import", "--wallet", name], env=env, capture_output=True,
                   timeout=120, check=True)
    env.pop("CHAINRIGHT_WALLET_KEY")
    work = tmp_path / "print.png"
    work.write_bytes(b"a licensed print " + tmp_path.name.encode())
    minted = subprocess.run(
        ["chainright", "mint", str(work), "--new-collection", "Dora Prints", "--symbol", "DORA", "--quantity", "2",
         "--license", "commercial", "--license-fee", "1000wei", "--wallet", name, "--api", served_api],
        env=env, capture_output=True, text=True, timeout=300)
    assert minted.returncode == 0, minted.stderr
    collection, _ = minted.stdout.strip().split("\t")
    # The terms are content-addressed: a run on the other database backend (same session chain) may have
    # published the very same terms already, and then the command says so and only attaches them.
    published = re.search(r"license terms (0x[0-9a-f]{64}) \(commercial\) (?:already )?published", minted.stderr)
    assert published, minted.stderr
    terms_hash = bytes.fromhex(published.group(1)[2:])
    assert minted.stderr.count("license attached") == 2

    web3 = connect(two_chains.spec("home"))
    address = DeploymentRegistry(two_chains.deployments_file).address(31337, "Licensing")
    licensing = web3.eth.contract(address=address, abi=artifacts.get("Licensing").abi)
    assert licensing.functions.isPublished(terms_hash).call()
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    ids = [i for i in (1, 2, 3) if _exists(nft, i)]
    assert len(ids) == 2
    for token_id in ids:
        assert [bytes(h) for h in licensing.functions.attachedTerms(collection, token_id).call()] == [terms_hash]
    terms = licensing.functions.termsOf(terms_hash).call()
    assert terms[0] is True and terms[7] == 1000 and terms[9].startswith("baf")  # commercial, fee, legal text CID


def _exists(nft, token_id: int) -> bool:
    try:
        nft.functions.ownerOf(token_id).call()
    except Exception:
        return False
    return True
