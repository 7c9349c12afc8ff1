"""Identity, KYC and local funding from the command line, against a served API and real anvils:
a newcomer creates a wallet, funds it, logs in, applies; an officer logs in with a DID presentation
and reviews; logout ends the session on the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from chain.connection import connect
from chain.settings import ChainSettings
from tests.conftest import free_port
from tests.support.api_flow import OFFICER
from tests.support.wallet_cli import PASSPHRASE, run_cli, serve_api, wallet_env

pytestmark = pytest.mark.integration

PASS = {"CHAINRIGHT_WALLET_PASSPHRASE": PASSPHRASE}


@pytest.fixture
def served_api(two_chains: ChainSettings, artifacts: Any, database: Any, tmp_path: Path) -> Any:
    with serve_api(two_chains, database, tmp_path) as url:
        yield url


def test_newcomer_funds_logs_in_applies_and_an_officer_reviews(served_api: str, two_chains: ChainSettings,
                                                               tmp_path: Path) -> None:
    env = wallet_env(two_chains)
    me, officer = f"newcomer-{free_port()}", f"officer-{free_port()}"
    api = ["--api", served_api]

    created = run_cli(env, "wallet", "new", "--wallet", me)
    assert created.returncode == 0, created.stderr
    address = created.stdout.strip()

    funded = run_cli(env, "wallet", "fund", "--amount", "2.5", "--wallet", me)
    assert funded.returncode == 0, funded.stderr
    assert connect(two_chains.spec("home")).eth.get_balance(address) == 25 * 10**17
    assert "2.5 ETH (2500000000000000000 wei)" in funded.stderr

    logged = run_cli(env, "login", "--wallet", me, *api)
    assert logged.returncode == 0, logged.stderr
    assert logged.stdout.strip() == f"did:pkh:eip155:31337:{address}"
    session_file = two_chains.data_dir / "sessions" / f"{me}.json"
    assert oct(os.stat(session_file).st_mode & 0o777) == "0o600"
    token = json.loads(session_file.read_text())["token"]
    assert token not in logged.stdout + logged.stderr

    status = run_cli(env, "kyc", "status", "--json", "--wallet", me, *api)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["verified"] is False

    incomplete = run_cli(env, "kyc", "apply", "--legal-name", "Ada Newcomer", "--wallet", me, *api)
    assert incomplete.returncode == 2, incomplete.stderr
    assert "--date-of-birth" in incomplete.stderr and "--document-number" in incomplete.stderr

    data = tmp_path / "me.json"
    data.write_text(json.dumps({"legal_name": "Ada Newcomer", "date_of_birth": "1990-04-01", "country": "FR",
                                "document_type": "passport", "document_number": "X1234567"}))
    scan = tmp_path / "passport.png"
    scan.write_bytes(b"\x89PNG a scan")
    applied = run_cli(env, "kyc", "apply", "--from-file", str(data), "--document", str(scan),
                   "--wallet", me, *api)
    assert applied.returncode == 0, applied.stderr
    app_id = applied.stdout.strip()

    officer_env = wallet_env(two_chains, key=OFFICER.key)
    assert run_cli(officer_env, "wallet", "import", "--wallet", officer).returncode == 0
    denied = run_cli(env, "kyc", "queue", "--wallet", me, *api)
    assert denied.returncode == 1 and "403" in denied.stderr, denied.stderr
    did_login = run_cli(env, "login", "--did", "--wallet", officer, *api)
    assert did_login.returncode == 0, did_login.stderr
    assert "DID presentation" in did_login.stderr and "kyc_officer" in did_login.stderr

    queue = run_cli(env, "kyc", "queue", "--json", "--wallet", officer, *api)
    assert queue.returncode == 0, queue.stderr
    assert app_id in [row["id"] for row in json.loads(queue.stdout)]
    shown = run_cli(env, "kyc", "show", app_id, "--wallet", officer, *api)
    assert shown.returncode == 0 and "Ada Newcomer" in shown.stdout and "X1234567" in shown.stdout
    approved = run_cli(env, "kyc", "approve", app_id, "--level", "2", "--wallet", officer, *api)
    assert approved.returncode == 0, approved.stderr
    assert "\tapproved\t" in approved.stdout

    status = json.loads(run_cli(env, "kyc", "status", "--json", "--wallet", me, *api).stdout)
    assert status["verified"] is True and status["level"] == 2 and all(status["on_chain"].values())
    text = run_cli(env, "kyc", "status", "--wallet", me, *api).stdout
    assert "verified\tyes" in text and "Z" in text.split("expires\t")[1].split("\n")[0]  # ISO 8601 UTC

    revoked = run_cli(env, "kyc", "revoke", app_id, "--reason", "document withdrawn", "--wallet", officer, *api)
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(run_cli(env, "kyc", "status", "--json", "--wallet", me, *api).stdout)["verified"] is False

    out = run_cli(env, "logout", "--wallet", me, *api)
    assert out.returncode == 0, out.stderr
    assert not session_file.exists()
    stale = httpx.get(f"{served_api}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert stale.status_code == 401  # the API ended the session, not just this machine
    after = run_cli(env, "kyc", "status", "--wallet", me, *api)
    assert after.returncode == 1 and "not logged in" in after.stderr and "unexpected" not in after.stderr


def test_a_session_is_only_used_with_the_api_it_was_opened_for(served_api: str,
                                                              two_chains: ChainSettings) -> None:
    env = wallet_env(two_chains, key=OFFICER.key)
    name = f"officer-{free_port()}"
    assert run_cli(env, "wallet", "import", "--wallet", name).returncode == 0
    assert run_cli(env, "login", "--wallet", name, "--api", served_api).returncode == 0
    other = run_cli(env, "kyc", "status", "--wallet", name, "--api", "http://127.0.0.1:9")
    assert other.returncode == 1 and f"is for the API at {served_api}" in other.stderr


@pytest.fixture
def foreign_chain(tmp_path: Path) -> Any:
    """An anvil that says it is chain 4242: neither 31337/31338 nor (by default) the consortium."""
    from devnet.anvil import find_anvil

    port = free_port()
    proc = subprocess.Popen([str(find_anvil()), "--port", str(port), "--chain-id", "4242", "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_wallet_fund_is_refused_off_development_chains(foreign_chain: str, tmp_path: Path) -> None:
    from web3 import Web3

    env = {**os.environ, **PASS, "CHAINRIGHT_CHAIN_DATA_DIR": str(tmp_path),
           "CHAINRIGHT_CHAIN_HOME_RPC_URL": foreign_chain, "CHAINRIGHT_CHAIN_HOME_CHAIN_ID": "4242",
           "CHAINRIGHT_CHAIN_ENVIRONMENT": "development", "CHAINRIGHT_CONSORTIUM_CHAIN_ID": "1337"}
    created = run_cli(env, "wallet", "new", "--wallet", "w")
    assert created.returncode == 0, created.stderr
    address = created.stdout.strip()
    web3 = Web3(Web3.HTTPProvider(foreign_chain))

    refused = run_cli(env, "wallet", "fund", "--wallet", "w")
    assert refused.returncode == 1 and "refused" in refused.stderr and "4242" in refused.stderr
    assert web3.eth.get_balance(address) == 0

    as_test = env | {"CHAINRIGHT_CONSORTIUM_CHAIN_ID": "4242", "CHAINRIGHT_CHAIN_ENVIRONMENT": "test"}
    refused = run_cli(as_test, "wallet", "fund", "--wallet", "w")
    assert refused.returncode == 1 and "CHAINRIGHT_CHAIN_ENVIRONMENT=development" in refused.stderr
    assert web3.eth.get_balance(address) == 0

    consortium = env | {"CHAINRIGHT_CONSORTIUM_CHAIN_ID": "4242"}  # this chain is the dev consortium
    funded = run_cli(consortium, "wallet", "fund", "--amount", "1", "--wallet", "w")
    assert funded.returncode == 0, funded.stderr
    assert web3.eth.get_balance(address) == 10**18


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_onboarding_block() -> str:
    """The shell blocks of the README's "From nothing to a sale", in order, as a reader pastes them."""
    section = README.read_text().split("### From nothing to a sale", 1)[1].split("\n## ", 1)[0]
    return "\n".join(part.split("\n```", 1)[0] for part in section.split("```sh\n")[1:])


def test_readme_onboarding_block_is_read_from_the_readme() -> None:
    block = readme_onboarding_block()
    assert block.count("chainright ") >= 12 and "```" not in block
    for step in ("wallet fund", "kyc approve", "mint", "list", "works search", "buy", "trade license buy",
                 "royalties withdraw"):
        assert f"chainright {step} " in block, step


def test_readme_onboarding_path_from_nothing_to_a_sale(served_api: str, two_chains: ChainSettings,
                                                       artifacts: Any, tmp_path: Path) -> None:
    """The README's path, its very blocks run by bash as a reader pastes them (so the README cannot
    drift from what works): two newcomers and an officer, only the CLI, in a folder of their own.
    The block reaches this API through CHAINRIGHT_API_URL, as a platform on other ports would."""
    import re
    import shutil

    block = readme_onboarding_block()
    data, work = tmp_path / "data", tmp_path / "work"
    data.mkdir()
    work.mkdir()
    shutil.copy(two_chains.deployments_file, data / "deployments.json")  # what `make up` leaves there
    env = wallet_env(two_chains) | {"CHAINRIGHT_CHAIN_DATA_DIR": str(data), "CHAINRIGHT_API_URL": served_api}
    del env["CHAINRIGHT_WALLET_PASSPHRASE"]  # the block sets its own
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # as after activate
    trailer = '\nprintf "COLLECTION=%s\\nOUR_SONGS=%s\\n" "$COLLECTION" "$OUR_SONGS"\n'
    out = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block + trailer], cwd=work, env=env,
                         capture_output=True, text=True, timeout=900, check=False)
    assert out.returncode == 0, out.stderr[-4000:]
    found = dict(line.split("=", 1) for line in out.stdout.splitlines() if re.match(r"^[A-Z_]+=0x", line))
    collection = found["COLLECTION"]
    assert "token 1 of " + collection in out.stderr  # mint says the id the list command takes
    assert "0.5 ETH (500000000000000000 wei)" in out.stderr
    assert re.search(r"listing 0x[0-9a-f]{64}: 0.5 ETH", out.stdout)  # the work's page: the order hash
    assert "licensed for 0 ETH (0 wei)" in out.stderr
    assert "paid 0.015 ETH (15000000000000000 wei)" in out.stderr  # 30% of the 5% royalty on 1 ETH
    env["CHAINRIGHT_WALLET_PASSPHRASE"] = re.search(r"CHAINRIGHT_WALLET_PASSPHRASE='([^']*)'", block)[1]  # type: ignore[index]
    addresses = {who: run_cli(env, "wallet", "address", "--wallet", who).stdout.strip()
                 for who in ("creator", "collector")}
    web3 = connect(two_chains.spec("home"))
    nft = web3.eth.contract(address=web3.to_checksum_address(collection),
                            abi=artifacts.get("CreatorCollection").abi)
    assert nft.functions.ownerOf(1).call() == addresses["collector"]
    ours = web3.eth.contract(address=web3.to_checksum_address(found["OUR_SONGS"]),
                             abi=artifacts.get("CreatorCollection").abi)
    assert ours.functions.ownerOf(1).call() == addresses["collector"]

    # The same work again: the rights registry's revert reaches the user as a sentence, not a selector.
    again = subprocess.run(["chainright", "mint", "song.mp3", "--collection", collection, "--wallet", "creator"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert again.returncode == 1, again.stderr
    line = again.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ") and f"already registered by {addresses['creator']} at 20" in line, line
    assert "Z, as token 1 of" in line and "RightsAlreadyRegistered(" not in line
