"""Every command the CLI offers, run as a user runs it (its own process) against one running platform
(the API served on the session's anvils, one SQLite database shared with the indexer): each command
at least once, with ``--json`` where it has it and once as text, asserting on what it printed.

The set of commands is read from the Typer app itself: a command is driven here (``DRIVEN_HERE``),
or driven command for command by another integration test (the trading, escrow and operator groups,
checked by finding its invocation in that test's source), or named in ``EXEMPT`` with the reason. A
new command in none of the three fails ``test_every_command_of_the_cli_is_accounted_for`` (no
chain needed); a command of ``DRIVEN_HERE`` that the journey did not run fails the journey.

One database backend only: the commands speak HTTP and SQL through the same layers as the routes,
whose behaviour on PostgreSQL the route tests cover; two runs of a journey of ~70 processes would
double minutes for nothing the CLI decides.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.main import get_command

from chain.devaccounts import dev_account
from chain.settings import ChainSettings
from chainright.cli import app as cli_app
from tests.conftest import free_port
from tests.support.api_flow import OFFICER
from tests.support.wallet_cli import wallet_env

pytestmark = pytest.mark.integration

ADMIN = dev_account(17)
INTEGRATION = Path(__file__).resolve().parent
MIB = 1024 * 1024

DRIVEN_HERE = frozenset({
    # what the journey below runs (it fails unless it ran exactly these)
    "wallet new", "wallet import", "wallet address", "wallet fund", "login", "logout",
    "kyc apply", "kyc status", "kyc queue", "kyc show", "kyc approve", "kyc reject", "kyc revoke",
    "upload", "mint", "list", "buy", "indexer run", "holdings", "provenance export", "verify",
    "audit report", "roles grant", "roles list", "roles revoke", "node status", "relayer status",
    "consortium status", "consortium env", "deploy", "compile",
})

EXEMPT: dict[str, str] = {
    # command: why it is not run here (one visible list)
    "up": "runs every process until Ctrl-C; driven by tests/integration/test_up.py",
    "node up": "starts anvils that run until stopped; tests/chain/test_nodes.py and test_stop_signals.py",
    "node down": "stops the nodes of the data directory, here the session's anvils; tests/chain/test_nodes.py",
    "api run": "serves until stopped; the journey's API is the same app served in-process",
    "relayer run": "runs until stopped; tests/integration/bridge_env.py starts it for the bridge tests",
    "bench gas": "a benchmark (minutes); its snapshot check is tests/contracts/test_gas_snapshot.py",
    "bench bridge": "a benchmark (minutes), never in a test",
    "bench consortium": "a benchmark (minutes) on a geth network, never in a test",
    "bench consortium-starts": "a benchmark (minutes), never in a test",
    "bench soak": "a soak (minutes); tests/integration/test_bench_soak.py runs a short one",
    "bench profile": "a benchmark (minutes) of a platform it starts; its pure parts: tests/unit/test_bench_profile.py",
    "bench scale": "a benchmark (minutes) of 1 and 2 API processes on PostgreSQL, never in a test",
    "consortium up": "starts a geth network that runs until stopped; tests/integration/test_consortium.py",
    "consortium down": "stops that network; tests/integration/test_consortium.py",
    "consortium start-node": "restarts a validator of that network; tests/integration/test_consortium.py",
    "consortium add-node": "adds a validator to that network; tests/integration/test_consortium.py",
    "consortium propose": "votes on that network's validators; tests/integration/test_consortium.py",
    "demo": "starts (or attaches to) a whole platform for minutes; tests/integration/test_demo.py",
}

TRADING = "test_trading_routes.py::test_the_trading_and_escrow_commands_drive_the_same_routes"
OPS = "test_ops_routes.py::test_every_command_against_a_running_platform"
OPS_BREAKER = "test_ops_routes.py::test_the_breaker_commands_show_change_only_what_is_given_and_lift_a_halt"
REACH_MARKET = "test_reach_routes.py::test_the_license_and_market_commands_drive_the_same_routes"
REACH_ADMIN = "test_reach_routes.py::test_the_escrow_split_and_admin_commands_drive_the_same_routes"
REACH_LAST = "test_reach_last.py::test_the_last_commands_drive_the_same_routes"
COLLECTION_ADMIN = "test_collection_admin.py::test_the_collection_set_command_drives_the_same_route"
ELSEWHERE_GROUPS: dict[str, tuple[str, ...]] = {
    # group: the integration tests that drive its every command against a running platform
    "trade": (TRADING, REACH_MARKET, REACH_LAST),
    "escrow": (TRADING, REACH_ADMIN),
    "ops": (OPS, OPS_BREAKER, REACH_ADMIN, REACH_LAST),
    "royalties": (OPS, REACH_ADMIN, REACH_LAST),
    "fees": (OPS,),
    "bridge": (OPS,),
    "collection": (COLLECTION_ADMIN,),
    "works": ("test_browse_flow.py::test_browse_search_work_page_related_and_the_console",),
}


def cli_commands() -> set[str]:
    """Every runnable command of the CLI, as words (``kyc approve``, ``trade auction bid``)."""
    found: set[str] = set()

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            found.add(" ".join(path))

    walk(get_command(cli_app), [])
    return found


def _invoked_in(command: str, source: str) -> bool:
    """The command's words as consecutive string arguments in a test's source (``"trade", "auction",
    "bid"``), as the run helpers of the integration tests take them."""
    pattern = r",\s*".join(f'"{re.escape(word)}"' for word in command.split())
    return re.search(pattern, source) is not None


def driven_elsewhere() -> dict[str, str]:
    sources = {p.name: p.read_text() for p in INTEGRATION.glob("test_*.py")}
    out = {}
    for command in cli_commands():
        group = command.split()[0]
        if group in ELSEWHERE_GROUPS and command not in EXEMPT:
            for test in ELSEWHERE_GROUPS[group]:
                if _invoked_in(command, sources[test.split("::")[0]]):
                    out[command] = test
                    break
    return out




def test_every_command_of_the_cli_is_accounted_for():
    commands = cli_commands()
    assert not set(EXEMPT) - commands, f"exempt but no longer a command: {set(EXEMPT) - commands}"
    grouped = {c for c in commands if c.split()[0] in ELSEWHERE_GROUPS and c not in EXEMPT}
    missing = grouped - set(driven_elsewhere())
    assert not missing, f"commands of {sorted(ELSEWHERE_GROUPS)} that no named test runs: {sorted(missing)}"
    assert not DRIVEN_HERE & (set(EXEMPT) | set(driven_elsewhere()))
    unaccounted = commands - DRIVEN_HERE - set(driven_elsewhere()) - set(EXEMPT)
    assert not unaccounted, f"commands no test drives and not exempt: {sorted(unaccounted)}"
    assert not DRIVEN_HERE - commands, f"no longer commands: {sorted(DRIVEN_HERE - commands)}"


# ------------------------------------------------------------------------------------- the platform


@pytest.fixture(scope="module")
def platform(two_chains: ChainSettings, artifacts: Any, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[dict[str, Any]]:
    """The API on the session's anvils (deployed), served by uvicorn; its SQLite database is the one
    the CLI's indexer, provenance and audit commands use."""
    from api import create_app
    from api.db import Database
    from api.settings import ApiSettings
    from chain.deploy import deploy_to_chains
    from did.settings import DidSettings
    from tests.support.api_flow import officer_grants

    data_dir = tmp_path_factory.mktemp("every-command")
    url = f"sqlite:///{data_dir / 'platform.db'}"
    database = Database(url)
    database.migrate()
    deploy_to_chains(two_chains, two_chains.specs("all"))
    port = free_port()
    grants = officer_grants() | {f"did:pkh:eip155:31337:{ADMIN.address}": ["admin"]}
    settings = ApiSettings(environment="test", data_dir=data_dir, siwe_domain=f"127.0.0.1:{port}",
                           siwe_uri=f"http://127.0.0.1:{port}", role_grants=grants, port=port)
    api = create_app(settings, db=database, chain_settings=two_chains,
                     did_settings=DidSettings(environment="test"))
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    env = wallet_env(two_chains) | {"CHAINRIGHT_API_DATABASE_URL": url,
                                    "CHAINRIGHT_API_DATA_DIR": str(data_dir),
                                    "CHAINRIGHT_CONSORTIUM_DATA_DIR": str(data_dir / "consortium")}
    env.pop("CHAINRIGHT_WALLET_KEY", None)
    try:
        yield {"api": f"http://127.0.0.1:{port}", "env": env, "dir": data_dir, "chains": two_chains}
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Cli:
    """Runs ``chainright`` as its own process and remembers which commands it ran."""

    def __init__(self, env: dict[str, str], api: str) -> None:
        self.env = env
        self.api = api
        self.commands = cli_commands()
        self.ran: set[str] = set()

    def _command_of(self, args: tuple[str, ...]) -> str:
        words = [a for a in args if not a.startswith("-")]
        for n in (3, 2, 1):
            if " ".join(words[:n]) in self.commands:
                return " ".join(words[:n])
        raise AssertionError(f"{args} names no command")

    def __call__(self, *args: str, rc: int = 0, extra: dict[str, str] | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(["chainright", *args], env=self.env | (extra or {}), capture_output=True,
                             text=True, timeout=timeout, check=False)
        # a plain string: pytest shortens a tuple's repr, and with it the lines that say what went wrong
        assert out.returncode == rc, (f"chainright {' '.join(args)} exited {out.returncode}, not {rc}\n"
                                      f"standard output (end):\n{out.stdout[-2000:]}\n"
                                      f"standard error (end):\n{out.stderr[-3000:]}")
        assert "Traceback" not in out.stderr and "unexpected" not in out.stderr, out.stderr
        self.ran.add(self._command_of(args))
        return out

    def json(self, *args: str, **kwargs: Any) -> Any:
        return json.loads(self(*args, "--json", **kwargs).stdout)


def _key(account: Any) -> dict[str, str]:
    return {"CHAINRIGHT_WALLET_KEY": "0x" + bytes(account.key).hex()}


def test_every_command_against_one_running_platform(platform: dict[str, Any], artifacts: Any,
                                                    tmp_path: Path) -> None:
    cli = Cli(platform["env"], platform["api"])
    api = ["--api", platform["api"]]
    tag = free_port()
    creator, collector, stranger = f"creator-{tag}", f"collector-{tag}", f"stranger-{tag}"
    officer, admin = f"officer-{tag}", f"admin-{tag}"

    # -- wallets: new, import, address (text and JSON), fund
    addresses = {}
    for who in (creator, collector, stranger):
        made = cli("wallet", "new", "--wallet", who)
        addresses[who] = made.stdout.strip()
        assert re.fullmatch(r"0x[0-9a-fA-F]{40}", addresses[who]), made.stdout
    assert cli("wallet", "import", "--wallet", officer, extra=_key(OFFICER)).stdout.strip() == OFFICER.address
    assert cli("wallet", "import", "--wallet", admin, extra=_key(ADMIN)).stdout.strip() == ADMIN.address
    shown = cli("wallet", "address", "--wallet", creator)
    assert shown.stdout.strip() == addresses[creator] and "keystore:" in shown.stderr
    as_json = cli.json("wallet", "address", "--wallet", creator)
    assert addresses[creator] in json.dumps(as_json)
    for who in (creator, collector):
        funded = cli("wallet", "fund", "--amount", "3", "--wallet", who)
        assert "3 ETH (3000000000000000000 wei)" in funded.stderr

    # -- identity: SIWE login, DID login for the officer
    logged = cli("login", "--wallet", creator, *api)
    assert logged.stdout.strip() == f"did:pkh:eip155:31337:{addresses[creator]}"
    did_login = cli("login", "--did", "--wallet", officer, *api)
    assert "DID presentation" in did_login.stderr and "kyc_officer" in did_login.stderr

    # -- KYC: apply (options and a file), status, the officer's queue, show, approve, reject, revoke
    applications = {}
    for index, who in enumerate((creator, collector, stranger)):
        cli("login", "--wallet", who, *api)
        me = tmp_path / f"{who}.json"
        me.write_text(json.dumps({"legal_name": f"Person {index} {tag}", "date_of_birth": "1988-03-04",
                                  "country": "FR", "document_type": "passport",
                                  "document_number": f"P{tag}{index}"}))
        if index == 0:
            scan = tmp_path / "scan.png"
            scan.write_bytes(b"\x89PNG a scan " + str(tag).encode())
            applications[who] = cli("kyc", "apply", "--from-file", str(me), "--document", str(scan),
                                    "--wallet", who, *api).stdout.strip()
        elif index == 1:
            applied = cli.json("kyc", "apply", "--legal-name", f"Person {index} {tag}", "--date-of-birth",
                               "1988-03-04", "--country", "DE", "--document-type", "id_card",
                               "--document-number", f"P{tag}{index}", "--wallet", who, *api)
            applications[who] = applied["id"]
        else:
            applications[who] = cli("kyc", "apply", "--from-file", str(me), "--wallet", who, *api).stdout.strip()
    assert cli.json("kyc", "status", "--wallet", creator, *api)["verified"] is False
    queue = cli.json("kyc", "queue", "--wallet", officer, *api)
    assert set(applications.values()) <= {row["id"] for row in queue}
    assert applications[creator] in cli("kyc", "queue", "--wallet", officer, *api).stdout
    shown_app = cli.json("kyc", "show", applications[creator], "--wallet", officer, *api)
    assert f"Person 0 {tag}" in json.dumps(shown_app)
    assert f"P{tag}0" in cli("kyc", "show", applications[creator], "--wallet", officer, *api).stdout
    approved = cli.json("kyc", "approve", applications[creator], "--level", "2", "--wallet", officer, *api)
    assert approved["state"] == "approved"
    assert "\tapproved\t" in cli("kyc", "approve", applications[collector], "--level", "2", "--wallet", officer,
                                 *api).stdout
    rejected = cli("kyc", "reject", applications[stranger], "--reason", "document unreadable", "--wallet", officer,
                   *api)
    assert "\trejected\t" in rejected.stdout
    cli("login", "--wallet", stranger, *api)
    again = cli("kyc", "apply", "--from-file", str(tmp_path / f"{stranger}.json"), "--wallet", stranger,
                *api).stdout.strip()
    rejected_json = cli.json("kyc", "reject", again, "--reason", "still unreadable", "--wallet", officer, *api)
    assert (rejected_json["id"], rejected_json["state"]) == (again, "rejected")
    text = cli("kyc", "status", "--wallet", creator, *api).stdout
    assert "verified\tyes" in text and "Z" in text.split("expires\t")[1].split("\n")[0]

    # -- upload (streamed, progress above 4 MiB; none with --json), mint with it, list, buy
    work = tmp_path / "film.bin"
    with work.open("wb") as out:
        for _ in range(5):
            out.write(os.urandom(MIB))
    uploaded = cli("upload", str(work), "--wallet", creator, *api)
    progress = [line for line in uploaded.stderr.splitlines() if line.startswith("uploading film.bin")]
    assert progress and progress[-1].endswith(f"({5 * MIB} of {5 * MIB} bytes, 100%)"), uploaded.stderr
    assert 2 <= len(progress) <= 11  # a line per 10% when standard error is not a terminal
    fields = dict(line.split("\t", 1) for line in uploaded.stdout.splitlines())
    assert fields["size"] == f"{5 * MIB} bytes" and fields["uploaded"].endswith("Z")
    from api.content import cid_for, content_hash

    data = work.read_bytes()
    assert (fields["cid"], fields["content_hash"]) == (cid_for(data), content_hash(data))
    small = tmp_path / "note.txt"
    small.write_bytes(b"a small note " + str(tag).encode())
    asset = cli.json("upload", str(small), "--wallet", creator, *api)
    assert asset["cid"] == cid_for(small.read_bytes()) and asset["size"] == small.stat().st_size
    quiet = cli("upload", str(work), "--json", "--wallet", creator, *api)
    assert "uploading" not in quiet.stderr and json.loads(quiet.stdout)["cid"] == fields["cid"]

    minted = cli("mint", str(work), "--new-collection", f"Films {tag}", "--symbol", "FILM", "--quantity", "2",
                 "--wallet", creator, *api)
    collection, cid = minted.stdout.strip().split("\t")
    assert cid == fields["cid"] and "minted in block" in minted.stderr
    assert f"({5 * MIB} of {5 * MIB} bytes, 100%)" in minted.stderr
    from web3 import Web3

    from chain.connection import connect

    web3: Web3 = connect(platform["chains"].spec("home"))
    nft = web3.eth.contract(address=Web3.to_checksum_address(collection),
                            abi=artifacts.get("CreatorCollection").abi)
    owned = [i for i in range(1, 4) if _owner(nft, i) == addresses[creator]]
    assert len(owned) == 2
    order_hash = cli("list", "--collection", collection, "--token-id", str(owned[0]), "--price", "0.25",
                     "--wallet", creator, *api).stdout.strip()
    assert re.fullmatch(r"0x[0-9a-f]{64}", order_hash)
    bought = cli("buy", order_hash, "--wallet", collector, *api)
    assert "0.25 ETH (250000000000000000 wei)" in bought.stderr
    assert _owner(nft, owned[0]) == addresses[collector]

    # -- the index, holdings, provenance and its offline check, the audit report
    # The window ends at a block the indexer is sure to reach: any transaction mined after this
    # read (by anything else on the worker's chain) would rightly make the audit say the index lags.
    head = web3.eth.block_number
    indexed = cli("indexer", "run", "--once", "--chain", "home")
    assert re.search(r"indexed \d+ new events; caught up", indexed.stderr), indexed.stderr
    held = cli.json("holdings", addresses[collector], *api)
    assert (collection, str(owned[0])) in {(h["collection"], h["token_id"]) for h in held}
    assert collection in cli("holdings", "--wallet", collector, *api).stdout
    bundle = tmp_path / "bundle.json"
    exported = cli("provenance", "export", "--collection", collection, "--token-id", str(owned[0]),
                   "--out", str(bundle))
    assert f"wrote {bundle}" in exported.stderr and json.loads(bundle.read_text())["events"]
    verified = cli("verify", str(bundle), "--content", str(work))
    assert "VERIFIED" in verified.stdout + verified.stderr, verified.stdout
    tampered = tmp_path / "other.bin"
    tampered.write_bytes(b"not the work")
    refused = cli("verify", str(bundle), "--content", str(tampered), rc=1)
    assert "content" in (refused.stdout + refused.stderr).lower()
    report_dir = tmp_path / "audit"
    audit = cli("audit", "report", "--collection", collection, "--from", "0", "--to", str(head),
                "--out", str(report_dir), "--format", "csv,html")
    assert "1 sales" in audit.stdout and "reconciliation: ok" in audit.stdout, audit.stdout
    assert (report_dir / "report.html").exists() and "250000000000000000" in (report_dir / "sales.csv").read_text()

    # -- roles: granted and revoked without a restart
    grant_id = cli("roles", "grant", addresses[stranger], "risk", "--wallet", admin, *api).stdout.strip()
    assert grant_id.isdigit()
    grants = cli.json("roles", "list", "--wallet", admin, *api)
    assert (addresses[stranger], "risk") in {(g["subject"], g["role"]) for g in grants}
    assert "risk" in cli("roles", "list", "--wallet", admin, *api).stdout
    cli("roles", "revoke", addresses[stranger], "risk", "--wallet", admin, *api)
    assert (addresses[stranger], "risk") not in {(g["subject"], g["role"])
                                                for g in cli.json("roles", "list", "--wallet", admin, *api)}
    denied = cli("roles", "grant", addresses[stranger], "risk", "--wallet", stranger, *api, rc=1)
    assert "403" in denied.stderr or "admin" in denied.stderr

    # -- KYC revoked (text and JSON), then the session ended
    revoked = cli("kyc", "revoke", applications[collector], "--reason", "document withdrawn", "--wallet", officer,
                  *api)
    assert "\trevoked\t" in revoked.stdout
    revoked_json = cli.json("kyc", "revoke", applications[creator], "--reason", "moved away", "--wallet", officer,
                            *api)
    assert (revoked_json["id"], revoked_json["state"]) == (applications[creator], "revoked")
    cli("login", "--wallet", collector, *api)
    assert cli.json("kyc", "status", "--wallet", collector, *api)["verified"] is False
    cli("logout", "--wallet", collector, *api)
    after = cli("kyc", "status", "--wallet", collector, *api, rc=1)
    assert "not logged in" in after.stderr

    # -- the local network, the relayer's store, the consortium's settings, deploy and compile
    nodes = cli.json("node", "status", "--chain", "all")
    assert {31337, 31338} <= {row["chain_id"] for row in nodes}
    assert "chain 31337" in cli("node", "status").stdout
    relayer = cli.json("relayer", "status")
    assert isinstance(relayer, dict) and relayer
    assert cli("relayer", "status").stdout.strip()
    # no consortium network runs here (starting geth is exempt above): each read says so, and how to start one
    for args in (("consortium", "status", "--json"), ("consortium", "status"), ("consortium", "env")):
        answer = cli(*args, rc=1)
        assert "no consortium network in" in answer.stderr and "chainright consortium up" in answer.stderr
    from chain.deployments import DeploymentRegistry

    market = DeploymentRegistry(platform["chains"].deployments_file).address(31337, "Marketplace")
    deployed = cli("deploy", "--chain", "home")  # everything there already: recorded addresses, nothing new
    assert f"home\tMarketplace\t{market}" in deployed.stdout, deployed.stdout
    compiled = cli("compile", timeout=600)
    assert re.search(r"compiled \d+ contracts: .*\bMarketplace\b", compiled.stderr), compiled.stderr

    assert cli.ran == DRIVEN_HERE, f"not run: {sorted(DRIVEN_HERE - cli.ran)}"


def _owner(nft: Any, token_id: int) -> str | None:
    try:
        return str(nft.functions.ownerOf(token_id).call())
    except Exception:
        return None
