"""The wallet client from the command line: import a key, then `chainright mint` uploads a work,
creates a 30/40/30 split and a collection, and mints, every transaction signed locally."""

from __future__ import annotations

import os
import subprocess

import pytest
from fastapi.testclient import TestClient

from chain.connection import connect
from chain.devaccounts import dev_account
from chain.settings import ChainSettings
from tests.conftest import free_port
from tests.support.api_flow import verified_login
from tests.support.wallet_cli import serve_api, wallet_env

pytestmark = pytest.mark.integration

CREATOR, BUYER = dev_account(5), dev_account(8)


@pytest.fixture
def served_api(two_chains: ChainSettings, artifacts, database, tmp_path):
    def creator_and_buyer_pass_kyc(app) -> None:
        verified_login(TestClient(app), CREATOR)
        verified_login(TestClient(app), BUYER)

    with serve_api(two_chains, database, tmp_path, before_serving=creator_and_buyer_pass_kyc) as url:
        yield url


def test_import_then_mint_with_a_split_from_the_command_line(served_api, two_chains, artifacts, tmp_path):
    env = wallet_env(two_chains, key=CREATOR.key)
    name = f"alice-{free_port()}"
    imported = subprocess.run(["chainright", "wallet", "import", "--wallet", name], env=env,
                              capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == CREATOR.address
    assert bytes(CREATOR.key).hex() not in (imported.stdout + imported.stderr)
    keystore = two_chains.data_dir / "wallets" / f"{name}.json"
    assert oct(os.stat(keystore).st_mode & 0o777) == "0o600"

    work = tmp_path / "song.mp3"
    work.write_bytes(b"an original song " + tmp_path.name.encode())
    rights, issuer, channel = dev_account(1).address, dev_account(2).address, dev_account(3).address
    env.pop("CHAINRIGHT_WALLET_KEY")
    minted = subprocess.run(
        ["chainright", "mint", str(work), "--new-collection", "Alice Songs", "--symbol", "SONG",
         "--split", f"{rights},{issuer},{channel}", "--wallet", name, "--api", served_api],
        env=env, capture_output=True, text=True, timeout=300)
    assert minted.returncode == 0, minted.stderr
    collection, cid = minted.stdout.strip().split("\t")
    web3 = connect(two_chains.spec("home"))
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    assert nft.functions.tokenURI(1).call() == f"ipfs://{cid}"
    receiver, amount = nft.functions.royaltyInfo(1, 10_000).call()
    assert amount == 500 and len(web3.eth.get_code(receiver)) > 0  # the splitter
    assert "royalty split" in minted.stderr and "minted in block" in minted.stderr

    listed = subprocess.run(["chainright", "list", "--collection", collection, "--token-id", "1", "--price", "0.5",
                             "--wallet", name, "--api", served_api], env=env, capture_output=True, text=True,
                            timeout=300)
    assert listed.returncode == 0, listed.stderr
    order_hash = listed.stdout.strip()
    buyer = f"buyer-{free_port()}"
    subprocess.run(["chainright", "wallet", "import", "--wallet", buyer], capture_output=True, timeout=120,
                   env=env | {"CHAINRIGHT_WALLET_KEY": "0x" + bytes(BUYER.key).hex()}, check=True)
    bought = subprocess.run(["chainright", "buy", order_hash, "--wallet", buyer, "--api", served_api], env=env,
                            capture_output=True, text=True, timeout=300)
    assert bought.returncode == 0, bought.stderr
    assert nft.functions.ownerOf(1).call() == BUYER.address
    assert "for 0.5 ETH (500000000000000000 wei)" in bought.stderr


def test_wrong_passphrase_is_a_clear_error(two_chains, tmp_path):
    env = wallet_env(two_chains, passphrase="one")
    name = f"bob-{free_port()}"
    subprocess.run(["chainright", "wallet", "new", "--wallet", name], env=env, capture_output=True, timeout=120)
    env["CHAINRIGHT_WALLET_PASSPHRASE"] = "two"
    work = tmp_path / "w.txt"
    work.write_text("w")
    out = subprocess.run(["chainright", "mint", str(work), "--collection", CREATOR.address, "--wallet", name],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "wrong passphrase" in out.stderr and "Traceback" not in out.stderr


def test_list_mistakes_are_refused_in_words_before_the_wallet_signs(served_api, two_chains, artifacts, tmp_path):
    """`chainright list` reads the chain before the API sees the order: a placeholder pasted from the
    README (COLLECTION), an address without a contract, a token never minted and a price that is no
    amount used to end in "unexpected ValueError / BadFunctionCallOutput / ContractCustomError" (or
    exit 1 for a usage mistake). Each is now refused naming the option or the reason, and the wallet
    has signed nothing (its nonce did not move)."""
    env = wallet_env(two_chains, key=CREATOR.key)
    name = f"lister-{free_port()}"
    assert subprocess.run(["chainright", "wallet", "import", "--wallet", name], env=env, capture_output=True,
                          timeout=120).returncode == 0
    env.pop("CHAINRIGHT_WALLET_KEY")
    work = tmp_path / "piece.png"
    work.write_bytes(b"\x89PNG a piece " + tmp_path.name.encode())
    minted = subprocess.run(["chainright", "mint", str(work), "--new-collection", f"Pieces {free_port()}",
                             "--wallet", name, "--api", served_api], env=env, capture_output=True, text=True,
                            timeout=300)
    assert minted.returncode == 0, minted.stderr
    collection = minted.stdout.strip().split("\t")[0]
    assert f"token 1 of {collection}" in minted.stderr  # the id 'list --token-id' takes, said in words
    web3 = connect(two_chains.spec("home"))
    nonce = web3.eth.get_transaction_count(CREATOR.address)

    def listing(coll: str, which: str = "1", price: str = "0.5") -> subprocess.CompletedProcess[str]:
        return subprocess.run(["chainright", "list", "--collection", coll, "--token-id", which, "--price", price,
                               "--wallet", name, "--api", served_api], env=env, capture_output=True, text=True,
                              timeout=300)

    cases = [
        (listing("COLLECTION"), 2, "'--collection'"),
        (listing("0x12345"), 2, "'--collection'"),
        (listing(collection, price="abc"), 2, "'--price'"),
        (listing(collection, price="-1"), 2, "'--price'"),
        (listing("0x" + "00" * 19 + "01"), 1, "no contract at 0x0000000000000000000000000000000000000001"),
        (listing(dev_account(9).address), 1, "no contract at"),
        (listing(collection, which="99"), 1, f"cannot list token 99 of {collection}: token 99 does not exist"),
    ]
    for out, code, words in cases:
        assert out.returncode == code and words in out.stderr, (out.args, out.stderr)
        assert "unexpected" not in out.stderr and "Traceback" not in out.stderr
    assert web3.eth.get_transaction_count(CREATOR.address) == nonce  # nothing signed, nothing sent
    assert listing(collection, price="500000000000000000wei").returncode == 0
