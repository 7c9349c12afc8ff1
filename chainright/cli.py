"""The ``chainright`` console command: the composition root. Nothing imports this module.

Every failure a user can cause or meet prints one ``error:`` line that says what was wrong and
what to do, and exits non-zero; stack traces are for ``CHAINRIGHT_DEBUG=1`` only.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from bridge.errors import BridgeError
from chain.errors import ChainError
from chain.settings import ChainSettings, ChainSpec
from chainright.audit_cmd import audit_app
from chainright.commands.bridge import bridge_app
from chainright.commands.holdings import holdings_cmd
from chainright.commands.ops import ops_app, roles_app
from chainright.commands.royalties import fees_app, royalties_app

if TYPE_CHECKING:  # the API package is heavy to import: only the commands that need it load it
    from api.settings import ApiSettings

# -h is --help everywhere (sub-commands inherit the root context's help option names).
HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(add_completion=False, no_args_is_help=True, context_settings=HELP_OPTIONS,
                  help="Chainright: issue, license, trade and audit digital goods on EVM chains.")
node_app = typer.Typer(no_args_is_help=True, help="Start, stop and inspect the local chains.")
app.add_typer(node_app, name="node")
api_app = typer.Typer(no_args_is_help=True, help="Run the HTTP API.")
app.add_typer(api_app, name="api")
wallet_app = typer.Typer(no_args_is_help=True, help="A local wallet that signs for you (keys stay here).")
app.add_typer(wallet_app, name="wallet")
provenance_app = typer.Typer(no_args_is_help=True, help="Provenance bundles for auditors.")
app.add_typer(provenance_app, name="provenance")
indexer_app = typer.Typer(no_args_is_help=True, help="Follow the chains into the database.")
app.add_typer(indexer_app, name="indexer")
bench_app = typer.Typer(help="Measure the platform (gas, throughput, latency).")
app.add_typer(bench_app, name="bench")
consortium_app = typer.Typer(no_args_is_help=True,
                             help="Run a local consortium network: geth Clique validator nodes.")
app.add_typer(consortium_app, name="consortium")
relayer_app = typer.Typer(no_args_is_help=True, help="Run and inspect the bridge relayer.")
app.add_typer(relayer_app, name="relayer")
app.add_typer(audit_app, name="audit")
app.add_typer(royalties_app, name="royalties")  # creators' income (issue #18)
app.add_typer(fees_app, name="fees")  # the platform fee, for the treasury (issue #18)
app.add_typer(bridge_app, name="bridge")  # send a token across and follow it (issue #18)
app.add_typer(ops_app, name="ops")  # pause and unpause contract families (issue #18)
app.add_typer(roles_app, name="roles")  # API roles without a restart (issue #18)
app.command("holdings")(holdings_cmd)  # a wallet's tokens on both chains (issue #18)

ChainOpt = Annotated[str, typer.Option("--chain", "-c", help="home, remote or all")]
F = TypeVar("F", bound=Callable[..., Any])


def say(message: str) -> None:
    from chainright.logs import json_logs

    if json_logs():  # CHAINRIGHT_LOG_FORMAT=json: console messages are log lines too
        console = logging.getLogger("chainright.console")
        console.setLevel(logging.INFO)
        console.info(message)
        return
    typer.echo(message, err=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"chainright {version('chainright')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("chainright (not installed)")
        raise typer.Exit(0)


@app.callback()
def root(
    _show_version: Annotated[bool, typer.Option(
        "--version", "-V", is_eager=True, callback=_version, help="Print the version and exit.")] = False,
) -> None:
    """Chainright: issue, license, trade and audit digital goods on EVM chains."""


def dump_json(value: Any) -> None:
    """The one way read commands print ``--json``: one JSON document on stdout."""
    import json

    typer.echo(json.dumps(value, indent=2, default=str))


def _settings() -> ChainSettings:
    try:
        return ChainSettings()
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                            for e in exc.errors())
        raise ChainError(f"invalid chain settings (CHAINRIGHT_CHAIN_*): {details}") from None


@contextmanager
def _wait_for_stop_signal() -> Iterator[threading.Event]:
    """Turn SIGINT / SIGTERM into an event the caller waits on."""
    stop = threading.Event()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, _frame: object) -> None:
        stop.set()

    for s in previous:
        signal.signal(s, handler)
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# --------------------------------------------------------------------------------------------
# node


@node_app.command("up")
def node_up(
    chain: ChainOpt = "all",
    detach: Annotated[bool, typer.Option("--detach", "-d",
                                         help="Leave the nodes running and return.")] = False,
) -> None:
    """Start the local anvil chains (home 31337, remote 31338) and wait until they answer."""
    from chainright.lifecycle import Foreground
    from devnet.anvil import NodeManager

    settings = _settings()
    manager = NodeManager(settings, progress=say)
    specs = settings.specs(chain)

    def start() -> list[Any]:
        records = manager.start(specs)
        for spec in specs:
            if not spec.managed:
                say(f"{spec.name}: external endpoint {spec.rpc_url} (not started by chainright)")
        for rec in records:
            typer.echo(f"{rec.name}\tchain {rec.chain_id}\t{rec.rpc_url}\tpid {rec.pid}")
        return records

    if detach:
        start()
        say("nodes left running; stop them with 'chainright node down'")
        return
    # Foreground: SIGINT, SIGTERM and SIGHUP stop the nodes, from the first line on (see lifecycle.py).
    with Foreground(say) as life:
        records: list[Any] = []
        try:
            records = start()
            life.running()
            say("nodes running; press Ctrl-C to stop them")
            life.stop.wait()
        finally:
            with life.stopping():
                manager.stop([r.name for r in records])


@node_app.command("down")
def node_down(chain: ChainOpt = "all") -> None:
    """Stop the local chains that chainright started (and only those)."""
    from devnet.anvil import NodeManager

    settings = _settings()
    names = [s.name for s in settings.specs(chain)]
    stopped = NodeManager(settings, progress=say).stop(names)
    say(f"stopped: {', '.join(stopped)}" if stopped else "no chainright node was running")


@node_app.command("status")
def node_status(
    chain: ChainOpt = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")
                       ] = False,
) -> None:
    """Show which chains run, where, and whether they answer."""
    from chain.connection import check_endpoint
    from devnet.anvil import NodeManager

    settings = _settings()
    manager = NodeManager(settings)
    rows: list[dict[str, Any]] = []
    for spec in settings.specs(chain):
        rec = manager.running(spec.name) if spec.managed else None
        error = None
        try:
            check_endpoint(spec, timeout=1.0)
        except ChainError as exc:
            error = str(exc)
        rows.append({"name": spec.name, "chain_id": spec.chain_id, "rpc_url": spec.rpc_url,
                     "managed": spec.managed, "pid": rec.pid if rec else None, "answering": error is None,
                     "error": error})
    if as_json:
        dump_json(rows)
        return
    for row in rows:
        owner = f"pid {row['pid']}" if row["pid"] else ("external" if not row["managed"] else "not started")
        health = "answering" if row["answering"] else f"down ({row['error']})"
        typer.echo(f"{row['name']}\tchain {row['chain_id']}\t{row['rpc_url']}\t{owner}\t{health}")


# --------------------------------------------------------------------------------------------
# compile and deploy


@app.command("compile")
def compile_cmd() -> None:
    """Compile every contract through ape (solc 0.8.28 via the project's solcjs shim)."""
    from chain.artifacts import compile_project

    say("compiling contracts/ ...")
    artifacts = compile_project()
    say(f"compiled {len(artifacts.names())} contracts: {', '.join(artifacts.names())}")


def _deploy(specs: list[ChainSpec], settings: ChainSettings, *, force: bool,
            force_new_deployment: bool | None = None) -> dict[str, Any]:
    from chain.deploy import deploy_to_chains

    results = deploy_to_chains(settings, specs, force=force, force_new_deployment=force_new_deployment,
                               progress=say)
    return {name: {r.deployment.contract: r.deployment.address for r in rs}
            for name, rs in results.items()}


@app.command("deploy")
def deploy_cmd(
    chain: ChainOpt = "all",
    force: Annotated[bool, typer.Option(help="Deploy again even where a deployment matches.")] = False,
    force_new_deployment: Annotated[bool, typer.Option(
        help="Deploy a second set onto a chain that already holds the deployer's contracts the "
             "registry does not know (otherwise they are recovered, or the deploy is refused).")] = False,
) -> None:
    """Compile, then deploy every contract family onto the chosen chains through ape."""
    settings = _settings()
    out = _deploy(settings.specs(chain), settings, force=force,
                  force_new_deployment=True if force_new_deployment else None)
    for name, contracts in out.items():
        for contract, address in contracts.items():
            typer.echo(f"{name}\t{contract}\t{address}")
    say(f"deployment registry: {settings.deployments_file}")


# --------------------------------------------------------------------------------------------
# api


def _api_settings() -> ApiSettings:
    from api.settings import ApiSettings

    try:
        return ApiSettings()
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                            for e in exc.errors())
        raise ChainError(f"invalid API settings (CHAINRIGHT_API_*): {details}") from None


@api_app.command("run")
def api_run(
    port: Annotated[int | None, typer.Option(help="Port (default CHAINRIGHT_API_PORT, 8000).")] = None,
) -> None:
    """Serve the API on 127.0.0.1 (docs at /docs) until Ctrl-C."""
    import uvicorn

    from api import create_app
    from api.errors import ApiError
    from devnet.anvil import port_is_free

    settings = _api_settings()
    if port is not None:
        settings = settings.model_copy(update={"port": port})
    if not port_is_free(settings.host, settings.port):
        raise ChainError(f"port {settings.port} on {settings.host} is already in use; stop what "
                         "listens there or choose another with --port / CHAINRIGHT_API_PORT")
    try:
        application = create_app(settings)
    except ApiError as exc:
        raise ChainError(str(exc)) from None
    from api.requestid import install_request_id_logging

    install_request_id_logging(configure_root=True)
    say(f"API on http://{settings.host}:{settings.port} (docs at /docs), database "
        f"{settings.effective_database_url.split('@')[-1]}")
    from uvicorn.config import LOGGING_CONFIG

    from chainright.logs import json_logs

    # JSON logs: uvicorn keeps no handlers of its own, so its lines go through ours (log_config=None).
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning",
                log_config=None if json_logs() else LOGGING_CONFIG)


# --------------------------------------------------------------------------------------------
# wallet and user actions through the API

WalletOpt = Annotated[str, typer.Option("--wallet", help="Wallet name (keystore in <data>/wallets).")]
ApiOpt = Annotated[str, typer.Option("--api", help="The API's base URL.")]


def _wallet_path(name: str) -> Path:
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ChainError(f"wallet name {name!r}: use letters, digits, - and _")
    return _settings().data_dir / "wallets" / f"{name}.json"


def _passphrase(confirm: bool = False) -> str:
    value = os.environ.get("CHAINRIGHT_WALLET_PASSPHRASE")
    if value:
        return value
    if not sys.stdin.isatty():
        raise ChainError("no passphrase: set CHAINRIGHT_WALLET_PASSPHRASE or run in a terminal")
    return str(typer.prompt("wallet passphrase", hide_input=True, confirmation_prompt=confirm))


def _load_wallet(name: str):  # type: ignore[no-untyped-def]
    from chain.wallet import Wallet

    return Wallet.load(_wallet_path(name), _passphrase())


@wallet_app.command("new")
def wallet_new(name: WalletOpt = "default") -> None:
    """Create a wallet (a new key in an encrypted keystore); prints its address."""
    from chain.wallet import Wallet

    wallet = Wallet.create()
    wallet.save(_wallet_path(name), _passphrase(confirm=True))
    typer.echo(wallet.address)


@wallet_app.command("import")
def wallet_import(
    name: WalletOpt = "default",
    key_env: Annotated[str, typer.Option(
        help="Environment variable holding the key (never taken on the command line).")
    ] = "CHAINRIGHT_WALLET_KEY",
) -> None:
    """Import an existing private key from an environment variable into an encrypted keystore."""
    from chain.wallet import Wallet

    key = os.environ.get(key_env)
    if not key:
        raise ChainError(f"set {key_env} to the private key to import")
    wallet = Wallet.from_key(key)
    wallet.save(_wallet_path(name), _passphrase(confirm=True))
    typer.echo(wallet.address)


@wallet_app.command("address")
def wallet_address(
    name: WalletOpt = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")
                       ] = False,
) -> None:
    """Print the wallet's address (and where its keystore is)."""
    import json

    path = _wallet_path(name)
    try:
        address = json.loads(path.read_text())["address"]
    except FileNotFoundError:
        raise ChainError(f"no wallet at {path}; create one with 'chainright wallet new'") from None
    from web3 import Web3

    checksummed = Web3.to_checksum_address("0x" + address.removeprefix("0x"))  # as `wallet new` printed it
    if as_json:
        dump_json({"wallet": name, "address": checksummed, "keystore": str(path)})
        return
    typer.echo(checksummed)
    say(f"keystore: {path}")


@wallet_app.command("fund")
def wallet_fund(
    amount: Annotated[str, typer.Option(help="ETH to send, e.g. 10 or 0.5.")] = "10",
    chain: ChainOpt = "home",
    wallet_name: WalletOpt = "default",
) -> None:
    """Development chains only: send ETH from an anvil development account to the wallet."""
    import json
    from decimal import Decimal, InvalidOperation

    from web3 import Web3

    from chain.connection import connect
    from chain.faucet import fund, funding_refusal
    from chain.formatting import format_wei

    try:
        wei = int(Decimal(amount) * 10**18)
    except InvalidOperation:
        raise typer.BadParameter(f"{amount!r} is not a number of ETH", param_hint="'--amount'") from None
    if wei <= 0:
        raise typer.BadParameter("must be positive", param_hint="'--amount'")
    settings = _settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    path = _wallet_path(wallet_name)
    try:
        address = Web3.to_checksum_address("0x" + json.loads(path.read_text())["address"].removeprefix("0x"))
    except FileNotFoundError:
        raise ChainError(f"no wallet at {path}; create one with 'chainright wallet new'") from None
    web3 = connect(spec)
    chain_id = int(web3.eth.chain_id)  # what the node says, not what the settings claim
    consortium_id: int | None = None
    try:
        from devnet.consortium import ConsortiumSettings

        consortium_id = ConsortiumSettings().chain_id
    except ValidationError:
        pass
    refusal = funding_refusal(settings.environment, chain_id, consortium_id)
    if refusal:
        raise ChainError(f"'wallet fund' refused: {refusal}. Fund {address} from an account of your own")
    receipt = fund(web3, address, wei)
    typer.echo("0x" + bytes(receipt["transactionHash"]).hex())
    say(f"sent {format_wei(wei)} to {address} on {spec.name} (chain {chain_id}); balance now "
        f"{format_wei(int(web3.eth.get_balance(address)))}")


# --------------------------------------------------------------------------------------------
# identity (login) and KYC through the API

kyc_app = typer.Typer(no_args_is_help=True, help="Know your customer: apply and check; officers review.")
app.add_typer(kyc_app, name="kyc")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]


@contextmanager
def _api_errors() -> Iterator[None]:
    from api.errors import ApiError

    try:
        yield
    except ApiError as exc:
        raise ChainError(str(exc)) from None


def _session_client(api: str, wallet_name: str) -> Any:
    """A client acting with the session 'chainright login' stored (no wallet or passphrase needed)."""
    from api.client import ChainrightClient
    from chainright.session import load_session, session_path

    session = load_session(session_path(_settings().data_dir, wallet_name), api)
    client = ChainrightClient(api, None, 0)
    client.token = session.token
    return client


@app.command("login")
def login_cmd(
    did: Annotated[bool, typer.Option(
        "--did", help="Log in with a DID presentation (did:pkh of the wallet, EIP-712 proof) instead of "
        "Sign-In with Ethereum.")] = False,
    chain: ChainOpt = "home",
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
) -> None:
    """Log in to the API with the wallet (SIWE, or --did) and keep the session for the kyc commands."""
    from datetime import datetime

    from api.client import ChainrightClient
    from chain.formatting import format_time
    from chainright.session import StoredSession, save_session, session_path

    spec = _settings().spec(chain)  # type: ignore[arg-type]
    wallet = _load_wallet(wallet_name)
    client = ChainrightClient(api, wallet, spec.chain_id)
    try:
        with _api_errors():
            session = client.did_login() if did else client.login()
            me = client.me()
    finally:
        client.close()
    path = session_path(_settings().data_dir, wallet_name)
    save_session(path, StoredSession(api=api, token=session["token"], did=session["did"],
                                     address=session.get("address"), expires_at=session["expires_at"],
                                     method="did" if did else "siwe"))
    typer.echo(session["did"])
    roles = ", ".join(me.get("roles", [])) or "no roles"
    say(f"logged in to {api} ({'DID presentation' if did else 'Sign-In with Ethereum'}; {roles}); "
        f"session until {format_time(datetime.fromisoformat(session['expires_at']))}, kept in {path} (0600)")


@app.command("logout")
def logout_cmd(api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """End the stored session on the API and delete it here."""
    from api.client import ClientError
    from chainright.session import SessionFileError, session_path

    path = session_path(_settings().data_dir, wallet_name)
    try:
        client = _session_client(api, wallet_name)
    except SessionFileError as exc:
        path.unlink(missing_ok=True)
        say(f"nothing to end on the API ({exc}); no session is stored now")
        return
    try:
        client.logout()
    except ClientError as exc:
        if getattr(exc, "extra", {}).get("status_code") != 401:
            raise ChainError(f"{exc}; the session is still stored ({path})") from None
    finally:
        client.close()
    path.unlink(missing_ok=True)
    say("logged out; the session token no longer works")


def _print_application(app_: dict[str, Any]) -> None:
    from datetime import datetime

    from chain.formatting import format_time

    def when(value: str | None) -> str:
        return format_time(datetime.fromisoformat(value)) if value else "-"

    typer.echo(f"{app_['id']}\t{app_['state']}\t{app_['country']}\tlevel {app_['level'] or '-'}\t"
               f"submitted {when(app_['submitted_at'])}\texpires {when(app_['expires_at'])}\t"
               f"{app_['subject']}")
    details = []
    if app_.get("reason"):
        details.append(f"reason: {app_['reason']}")
    if app_.get("sanctions_match"):
        details.append("sanctions list match")
    if app_.get("sync_status") not in (None, "synced", "none"):
        details.append(f"chain sync {app_['sync_status']}: {app_.get('sync_detail') or ''}".rstrip(": "))
    personal = app_.get("personal_data")
    if personal:
        details.append(f"{personal['legal_name']}, born {personal['date_of_birth']}, "
                       f"{personal['document_type']} {personal['document_number']}")
    for line in details:
        typer.echo(f"  {line}")


APPLICATION_FIELDS = ("legal_name", "date_of_birth", "country", "document_type", "document_number")


@kyc_app.command("apply")
def kyc_apply(
    legal_name: Annotated[str | None, typer.Option(help="Your full legal name.")] = None,
    date_of_birth: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2, e.g. FR.")] = None,
    document_type: Annotated[str | None, typer.Option(help="passport, id_card or driving_licence.")] = None,
    document_number: Annotated[str | None, typer.Option(help="The identity document's number.")] = None,
    from_file: Annotated[Path | None, typer.Option(
        "--from-file", help="A JSON file with these fields (keeps them out of the shell history); "
        "options given as well win.")] = None,
    document: Annotated[Path | None, typer.Option(help="A scan or photo of the document to attach.")
                        ] = None,
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Apply for KYC as the logged-in user; prints the application id."""
    import json

    fields: dict[str, Any] = {}
    if from_file is not None:
        try:
            loaded = json.loads(from_file.read_text())
        except FileNotFoundError:
            raise typer.BadParameter(f"no file at {from_file}", param_hint="'--from-file'") from None
        except ValueError as exc:
            raise typer.BadParameter(f"{from_file} is not JSON ({exc})", param_hint="'--from-file'") from None
        if not isinstance(loaded, dict):
            raise typer.BadParameter("the file must hold one JSON object", param_hint="'--from-file'")
        fields.update({k: v for k, v in loaded.items() if k in APPLICATION_FIELDS})
    given = {"legal_name": legal_name, "date_of_birth": date_of_birth, "country": country,
             "document_type": document_type, "document_number": document_number}
    fields.update({k: v for k, v in given.items() if v is not None})
    missing = [f"--{k.replace('_', '-')}" for k in APPLICATION_FIELDS if not fields.get(k)]
    if missing:
        raise typer.BadParameter(f"missing {', '.join(missing)} (or put them in --from-file)",
                                 param_hint="the application")
    client = _session_client(api, wallet_name)
    try:
        with _api_errors():
            out = client.kyc_apply(fields)
            if document is not None:
                out = client.kyc_document(out["id"], document)
    finally:
        client.close()
    if as_json:
        dump_json(out)
        return
    typer.echo(out["id"])
    say(f"KYC application {out['id']} is {out['state']}; follow it with 'chainright kyc status'")


@kyc_app.command("status")
def kyc_status(
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Your KYC status: the latest application, whether you count as verified, and on each chain."""
    from datetime import datetime

    from chain.formatting import format_time

    client = _session_client(api, wallet_name)
    try:
        with _api_errors():
            out = client.kyc_status()
    finally:
        client.close()
    if as_json:
        dump_json(out)
        return
    expires = format_time(datetime.fromisoformat(out["expires_at"])) if out.get("expires_at") else "-"
    chains = ", ".join(f"chain {cid}: {'yes' if ok else 'no'}" for cid, ok in out.get("on_chain", {}).items())
    typer.echo(f"state\t{out['state'] or 'no application'}")
    typer.echo(f"verified\t{'yes' if out['verified'] else 'no'}")
    typer.echo(f"level\t{out['level'] or '-'}")
    typer.echo(f"expires\t{expires}")
    typer.echo(f"on chain\t{chains or '-'}")
    if out.get("sync_status") not in (None, "synced", "none"):
        typer.echo(f"chain sync\t{out['sync_status']} {out.get('sync_detail') or ''}".rstrip())


@kyc_app.command("queue")
def kyc_queue(
    state: Annotated[str | None, typer.Option(help="Only this state (e.g. submitted); default all.")
                     ] = "submitted",
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 50,
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """KYC officers: the applications waiting for review (no personal data; see 'kyc show')."""
    client = _session_client(api, wallet_name)
    try:
        with _api_errors():
            rows = client.kyc_queue(state if state and state != "all" else None, limit)
    finally:
        client.close()
    if as_json:
        dump_json(rows)
        return
    for row in rows:
        _print_application(row)
    say(f"{len(rows)} application(s)" + (f" in state {state}" if state and state != "all" else ""))


@kyc_app.command("show")
def kyc_show(
    app_id: Annotated[str, typer.Argument(help="The application id.")],
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """One application with its personal data (KYC officers, or its applicant)."""
    client = _session_client(api, wallet_name)
    try:
        with _api_errors():
            out = client.kyc_application(app_id)
    finally:
        client.close()
    if as_json:
        dump_json(out)
        return
    _print_application(out)


def _officer_decision(app_id: str, api: str, wallet_name: str, as_json: bool, decide: Any) -> None:
    client = _session_client(api, wallet_name)
    try:
        with _api_errors():
            out = decide(client)
    finally:
        client.close()
    if as_json:
        dump_json(out)
        return
    _print_application(out)


@kyc_app.command("approve")
def kyc_approve(
    app_id: Annotated[str, typer.Argument(help="The application id.")],
    level: Annotated[int, typer.Option(min=1, max=3, help="KYC level 1-3.")] = 1,
    expires: Annotated[str | None, typer.Option(
        help="When the approval ends (ISO 8601 date or time); default one year.")] = None,
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """KYC officers: approve; the credential is issued and every chain's identity registry written."""
    from datetime import UTC, datetime

    expires_at = None
    if expires is not None:
        try:
            moment = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        except ValueError:
            raise typer.BadParameter(f"{expires!r} is not an ISO 8601 date or time",
                                     param_hint="'--expires'") from None
        expires_at = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    _officer_decision(app_id, api, wallet_name, as_json, lambda c: c.kyc_approve(app_id, level, expires_at))


@kyc_app.command("reject")
def kyc_reject(
    app_id: Annotated[str, typer.Argument(help="The application id.")],
    reason: Annotated[str, typer.Option(help="Why (the applicant sees it).")],
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """KYC officers: reject an application with a reason."""
    _officer_decision(app_id, api, wallet_name, as_json, lambda c: c.kyc_reject(app_id, reason))


@kyc_app.command("revoke")
def kyc_revoke(
    app_id: Annotated[str, typer.Argument(help="The application id.")],
    reason: Annotated[str, typer.Option(help="Why (the holder sees it).")],
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """KYC officers: revoke an approval; the API and every chain stop counting the holder as verified."""
    _officer_decision(app_id, api, wallet_name, as_json, lambda c: c.kyc_revoke(app_id, reason))


@app.command("mint")
def mint_cmd(
    file: Annotated[Path, typer.Argument(help="The work to upload and mint.")],
    collection: Annotated[str | None, typer.Option(help="An existing collection of yours.")] = None,
    new_collection: Annotated[str | None, typer.Option(help="Create a collection with this name.")] = None,
    symbol: Annotated[str, typer.Option(help="Symbol of a new collection.")] = "WORK",
    split: Annotated[str | None, typer.Option(
        help="Royalty receiver: a 30/40/30 split RIGHTS_HOLDER,ISSUER,CHANNEL.")] = None,
    royalty_bps: Annotated[int, typer.Option(help="Royalty on every sale, basis points.")] = 500,
    quantity: Annotated[int, typer.Option(help="> 1 mints an edition.")] = 1,
    license_template: Annotated[str | None, typer.Option(
        "--license", help="Publish and attach license terms: personal, commercial or remix.")] = None,
    license_fee: Annotated[int, typer.Option(help="What a licensee pays, in wei.")] = 0,
    chain: ChainOpt = "home",
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
) -> None:
    """Upload a work and mint it from your wallet (the API returns transactions; the wallet signs)."""
    from api.client import ChainrightClient
    from api.errors import ApiError
    from chain.connection import connect

    if (collection is None) == (new_collection is None):
        raise ChainError("give exactly one of --collection ADDRESS or --new-collection NAME")
    settings = _settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    wallet = _load_wallet(wallet_name)
    web3 = connect(spec)
    client = ChainrightClient(api, wallet, spec.chain_id)
    try:
        client.login()
        say(f"logged in as {wallet.address}")
        asset = client.upload(file)
        say(f"uploaded {file.name}: CID {asset['cid']}, content hash {asset['content_hash']}")
        receiver = None
        if split:
            parts = [p.strip() for p in split.split(",")]
            if len(parts) != 3:
                raise ChainError("--split takes three addresses: RIGHTS_HOLDER,ISSUER,CHANNEL")
            out = client.split_tx(*parts)
            if not out["already_exists"]:
                receipt = wallet.send(web3, out["transaction"])
                tx = "0x" + bytes(receipt["transactionHash"]).hex()
                say(f"royalty split created at {out['splitter']} (tx {tx})")
            else:
                say(f"royalty split {out['splitter']} already exists; using it")
            receiver = out["splitter"]
        if new_collection is not None:
            out = client.collection_tx(new_collection, symbol, receiver, royalty_bps)
            receipt = wallet.send(web3, out["transaction"])
            collection = out["predicted_address"]
            say(f"collection {new_collection} created at {collection} "
                f"(tx 0x{bytes(receipt['transactionHash']).hex()})")
        assert collection is not None
        receipt = wallet.send(web3, client.mint_tx(asset["cid"], collection, quantity))
        say(f"minted in block {receipt['blockNumber']} (tx 0x{bytes(receipt['transactionHash']).hex()}, "
            f"gas {receipt['gasUsed']})")
        if license_template is not None:
            from chainright.mint_license import minted_token_ids, publish_license

            publish_license(client, wallet, web3, collection, minted_token_ids(web3, collection, receipt),
                            license_template, license_fee, say)
        typer.echo(f"{collection}\t{asset['cid']}")
    except ApiError as exc:
        raise ChainError(str(exc)) from None
    finally:
        client.close()


@app.command("list")
def list_cmd(
    collection: Annotated[str, typer.Option(help="The token's collection.")],
    token_id: Annotated[int, typer.Option("--token-id", help="The token to sell.")],
    price: Annotated[str, typer.Option(help="Price in ETH, e.g. 0.5.")],
    hours: Annotated[float, typer.Option(help="How long the listing stays valid.")] = 24.0,
    chain: ChainOpt = "home",
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
) -> None:
    """List a token for sale: the wallet approves the marketplace if needed and signs the order."""
    import time
    from decimal import Decimal, InvalidOperation

    from api.client import ChainrightClient
    from api.errors import ApiError
    from chain.artifacts import Artifacts
    from chain.connection import connect
    from chain.deployments import DeploymentRegistry
    from chain.orders import MarketDomain, listing, sign_order

    try:
        wei = int(Decimal(price) * 10**18)
    except InvalidOperation:
        raise ChainError(f"--price {price!r} is not a number of ETH") from None
    if wei <= 0:
        raise ChainError("--price must be positive")
    settings = _settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    wallet = _load_wallet(wallet_name)
    web3 = connect(spec)
    market = DeploymentRegistry(settings.deployments_file).address(spec.chain_id, "Marketplace")
    artifacts = Artifacts.load()
    nft = web3.eth.contract(address=web3.to_checksum_address(collection),
                            abi=artifacts.get("CreatorCollection").abi)
    if not nft.functions.isApprovedForAll(wallet.address, market).call():
        data = nft.encode_abi("setApprovalForAll", args=[market, True])
        wallet.send(web3, {"to": nft.address, "data": data, "chain_id": spec.chain_id})
        say("approved the marketplace for this collection")
    marketplace = web3.eth.contract(address=market, abi=artifacts.get("Marketplace").abi)  # type: ignore[call-overload]
    counter = marketplace.functions.counterOf(wallet.address).call()
    now = int(time.time())
    # The listing binds the token's holding epoch: it dies if the token ever leaves this wallet.
    epoch = nft.functions.holdingEpoch(wallet.address, token_id).call()
    order = listing(seller=wallet.address, token=nft.address, token_id=token_id, unit_price=wei,
                    start=now - 60, expiry=now + int(hours * 3600), counter=counter, holding_epoch=epoch)
    signed = sign_order(order, MarketDomain(spec.chain_id, market), wallet.account)
    client = ChainrightClient(api, wallet, spec.chain_id)
    try:
        client.login()
        out = client.submit_order({
            "chain_id": spec.chain_id, "side": "listing", "signer": order.signer, "token": order.token,
            "token_id": token_id, "unit_price": wei, "start": order.start, "expiry": order.expiry,
            "salt": order.salt, "counter": counter, "holding_epoch": epoch,
            "signature": "0x" + signed.signature.hex()})
    except ApiError as exc:
        raise ChainError(str(exc)) from None
    finally:
        client.close()
    typer.echo(out["order_hash"])
    from chain.formatting import format_time, format_wei

    say(f"listed token {token_id} for {format_wei(wei)} until {format_time(order.expiry)}")


@app.command("buy")
def buy_cmd(
    order_hash: Annotated[str, typer.Argument(help="The listing's order hash.")],
    chain: ChainOpt = "home",
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
) -> None:
    """Buy a listed token: the API builds the fill transaction, your wallet signs and pays."""
    from api.client import ChainrightClient
    from api.errors import ApiError
    from chain.connection import connect

    settings = _settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    wallet = _load_wallet(wallet_name)
    client = ChainrightClient(api, wallet, spec.chain_id)
    try:
        client.login()
        tx = client.fill_tx(order_hash)
    except ApiError as exc:
        raise ChainError(str(exc)) from None
    finally:
        client.close()
    receipt = wallet.send(connect(spec), tx)
    typer.echo("0x" + bytes(receipt["transactionHash"]).hex())
    from chain.formatting import format_wei

    say(f"bought in block {receipt['blockNumber']} for {format_wei(int(tx['value'], 16))} "
        f"(gas {receipt['gasUsed']})")


# --------------------------------------------------------------------------------------------
# provenance


@provenance_app.command("export")
def provenance_export(
    collection: Annotated[str, typer.Option(help="The token's collection address.")],
    token_id: Annotated[int, typer.Option("--token-id", help="The token id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the bundle (JSON).")],
    chain: Annotated[str, typer.Option(help="The token's chain: home or remote.")] = "home",
) -> None:
    """Export a token's provenance bundle from the index and the chain's RPC."""
    import json

    from web3 import Web3

    from api.db import Database
    from chain.artifacts import Artifacts
    from record.index.store import IndexStore
    from record.provenance import build_bundle, final_blocks, rpcs_for, token_story

    settings = _settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    if not Web3.is_address(collection):
        raise ChainError(f"{collection!r} is not an address")
    address = Web3.to_checksum_address(collection)
    db = Database(_api_settings().effective_database_url)
    with IndexStore(db.engine).engine.connect() as conn:
        rows = token_story(conn, spec.chain_id, address, token_id,
                           [s.chain_id for s in settings.specs("all")], work_id=token_id)
        proven_at = final_blocks(conn, [s.chain_id for s in settings.specs("all")])
    if not rows:
        raise ChainError(f"no indexed event about token {token_id} of {address} on chain {spec.chain_id}; "
                         "run 'chainright indexer run --once' first")
    artifacts = Artifacts.load()
    rpcs = rpcs_for({s.chain_id: s.rpc_url for s in settings.specs("all")})
    bundle = build_bundle({"chain_id": spec.chain_id, "collection": address, "token_id": token_id}, rows,
                          rpcs, {n: artifacts.get(n).abi for n in artifacts.names()}, progress=say,
                          state_blocks=proven_at)
    out.write_text(json.dumps(bundle, indent=1))
    say(f"wrote {out}: {len(bundle['events'])} events, "
        f"{sum(len(h) for h in bundle['headers'].values())} headers")


@app.command("verify")
def verify_cmd(
    bundle_file: Annotated[Path, typer.Argument(help="A bundle from 'provenance export' or the API.")],
    content: Annotated[Path | None, typer.Option(help="The work's file: its hash must match.")] = None,
    validators: Annotated[str | None, typer.Option(
        help="CHAIN_ID=0xA,0xB,...: check Clique seals of that chain against this validator set.")] = None,
    identity_registry: Annotated[str | None, typer.Option(
        help="The IdentityRegistry address whose events count as KYC evidence.")] = None,
    rights_registry: Annotated[str | None, typer.Option(
        help="The RightsRegistry address whose registrations count.")] = None,
    trusted_head: Annotated[list[str] | None, typer.Option(
        help="[CHAIN_ID:]BLOCK:HASH from a source you trust (repeatable; no chain id: the chain the token "
             "ends on): the bundle's headers must link to it and the owner is then proven at it.")] = None,
    max_age: Annotated[int | None, typer.Option(
        help="Fail when the owner proof (or the trusted head) is older than this many seconds.")] = None,
) -> None:
    """Verify a provenance bundle with no network at all; exit 1 on any broken link."""
    from chainright.verify_cmd import run_verify

    code = run_verify(bundle_file, content, validators, identity_registry, rights_registry,
                      trusted_head or [], max_age)
    if code:
        raise typer.Exit(code)


# --------------------------------------------------------------------------------------------
# indexer


@indexer_app.command("run")
def indexer_run(
    chain: ChainOpt = "all",
    once: Annotated[bool, typer.Option("--once", help="Index what is final, then exit.")] = False,
) -> None:
    """Index every platform event of the chosen chains (from their checkpoints), showing progress."""
    from api.db import Database
    from api.errors import ApiError
    from chain.artifacts import Artifacts
    from record.index.service import build_indexers, follow

    settings = _settings()
    api_settings = _api_settings()
    db = Database(api_settings.effective_database_url)
    try:
        db.migrate()
    except ApiError as exc:
        raise ChainError(str(exc)) from None
    indexers = build_indexers(settings, db.engine, Artifacts.load(), which=chain, progress=say)
    from api.gateway import ChainGateway
    from api.market_sync import indexer_follower

    market = indexer_follower(db, ChainGateway(settings))  # order book + fill breaker follow the index
    if once:
        total = sum(ix.run_until_caught_up() for ix in indexers)
        for ix in indexers:
            market(ix.chain_id)
        say(f"indexed {total} new events; caught up")
        return
    say("indexing; press Ctrl-C to stop")
    with _wait_for_stop_signal() as stop:
        follow(indexers, stop, on_error=lambda ix, exc: say(f"{ix.tag}: {exc} (retrying)"), after_step=market)


# --------------------------------------------------------------------------------------------
# bench


@bench_app.callback(invoke_without_command=True)
def bench_all(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    quick: Annotated[bool, typer.Option("--quick", help="Small counts (a smoke run; figures are rough).")
                     ] = False,
    transfers: Annotated[int | None, typer.Option(help="Transactions per throughput run (1000).")] = None,
    seconds: Annotated[float | None, typer.Option(help="Seconds per API read run (5).")] = None,
    sales: Annotated[int | None, typer.Option(help="End-to-end sales through the API (200).")] = None,
    buyers: Annotated[int, typer.Option(help="Buyers buying concurrently (1-4).", min=1, max=4)] = 4,
    cart: Annotated[int, typer.Option(help="Listings per batched sale (2-50).", min=2, max=50)] = 10,
    bridge_count: Annotated[int | None, typer.Option(help="Sequential bridge transfers (latency, 30).")
                            ] = None,
    bridge_batch: Annotated[int | None, typer.Option(help="Bridge transfers sent together (50).")] = None,
    index_events: Annotated[int | None, typer.Option(
        help="Transfers in each indexer history, sparse and dense (20000).")] = None,
) -> None:
    """Measure everything in one run on fresh local chains and print one report: gas, raw transfers/s,
    end-to-end sales/s (API + chain) and their ratio, indexer events/s, API reads/s beside bare FastAPI,
    bridge relay latency (p50, p95) and throughput. Progress goes to stderr."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from bench.platform import run_report

    def pick(value: Any, full: Any, small: Any) -> Any:
        return value if value is not None else small if quick else full

    report = run_report(transfers=pick(transfers, 1000, 50), seconds=pick(seconds, 5.0, 1.0),
                        sales=pick(sales, 200, 8), buyers=buyers, bridge_count=pick(bridge_count, 30, 3),
                        bridge_batch=pick(bridge_batch, 50, 5), say=say, cart=cart,
                        index_events=pick(index_events, 20_000, 50))
    if as_json:
        typer.echo(json.dumps(report))
        return
    for key, value in report.items():
        if key != "gas":
            say(f"{key:<28} {value}")
    typer.echo(json.dumps(report, indent=2))


@bench_app.command("gas")
def bench_gas(
    write_snapshot: Annotated[bool, typer.Option(
        "--write-snapshot", help="Save the figures as the committed snapshot (gas-snapshot.json).")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Exit 1 when an operation grew more than 2% over the snapshot.")] = False,
) -> None:
    """Whole-transaction gas per operation on a fresh anvil, as one JSON object on stdout."""
    import json

    from bench.gas import compare, read_snapshot, run_gas_bench
    from bench.gas import write_snapshot as save
    from chain.artifacts import compile_project

    artifacts = compile_project()
    figures = run_gas_bench(artifacts, progress=say)
    typer.echo(json.dumps(figures, indent=2))
    if write_snapshot:
        save(figures)
        say("snapshot written: gas-snapshot.json")
    if check:
        diff = compare(read_snapshot(), figures)
        if not diff.ok:
            say("gas snapshot check failed:\n" + diff.describe())
            raise typer.Exit(1)
        say("gas snapshot check passed")


@bench_app.command("bridge")
def bench_bridge(
    count: Annotated[int, typer.Option(help="Transfers for the latency figures (one at a time).")] = 30,
    batch: Annotated[int, typer.Option(help="Transfers sent together for the throughput figure.")] = 50,
    block_time: Annotated[float | None, typer.Option(
        "--block-time", help="Seconds per block (default: one block per transaction).")] = None,
    confirmations: Annotated[int, typer.Option(help="Blocks validators wait on each chain.")] = 0,
) -> None:
    """Relay latency (p50, p95) and throughput with the real relayer processes on two fresh anvils:
    JSON on stdout, a short table on stderr."""
    import json

    from bench.bridge import check_bench_options, run_bridge_bench
    from chain.artifacts import compile_project

    if count < 1 or batch < 1:
        raise BridgeError("--count and --batch must be at least 1")
    check_bench_options(block_time=block_time, confirmations=confirmations)

    def argv(role: str) -> list[str]:
        base = [sys.executable, "-m", "chainright", "relayer", "run", "--role"]
        return [*base, "submitter"] if role == "submitter" else \
            [*base, "validator", "--validator-index", role.rsplit("-", 1)[1]]

    result = run_bridge_bench(compile_project(), argv, count=count, batch=batch, block_time=block_time,
                              confirmations=confirmations, progress=say)
    typer.echo(json.dumps(result.as_dict(), indent=2))
    say(result.table())


# --------------------------------------------------------------------------------------------
# relayer


def _bridge_settings() -> Any:
    from bridge.settings import BridgeSettings

    try:
        return BridgeSettings()
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                            for e in exc.errors())
        raise BridgeError(f"invalid bridge settings (CHAINRIGHT_BRIDGE_*): {details}") from None


def _relayer_logging() -> None:
    if "CHAINRIGHT_LOG_LEVEL" not in os.environ:
        logging.getLogger("bridge").setLevel(logging.INFO)


@relayer_app.command("run")
def relayer_run(
    role: Annotated[str, typer.Option("--role", help="validator, submitter or all")] = "all",
    validator_index: Annotated[int, typer.Option(
        "--validator-index", "-i", help="Which key of CHAINRIGHT_BRIDGE_VALIDATOR_KEYS (from 0).")] = 0,
) -> None:
    """Relay tokens between home and remote until Ctrl-C (all: every validator and the submitter,
    each in its own process)."""
    import subprocess

    from bridge.service import Relayer

    settings, bridge = _settings(), _bridge_settings()
    _relayer_logging()
    if role in ("validator", "submitter"):
        relayer = Relayer(role, settings, bridge, validator_index=validator_index)  # type: ignore[arg-type]
        say(f"relayer[{relayer.name}] starting; database {bridge.effective_database_url(settings)}")
        with _wait_for_stop_signal() as stop:
            relayer.run(stop)
        say(f"relayer[{relayer.name}] stopped")
        return
    if role != "all":
        raise BridgeError(f"unknown role {role!r}; choose validator, submitter or all")
    argv = [sys.executable, "-m", "chainright", "relayer", "run"]
    commands = [[*argv, "--role", "validator", "--validator-index", str(i)]
                for i in range(len(bridge.validator_keys))] + [[*argv, "--role", "submitter"]]
    children = [subprocess.Popen(cmd) for cmd in commands]
    say(f"relayer: {len(children) - 1} validator(s) and the submitter running as pids "
        f"{', '.join(str(c.pid) for c in children)}; press Ctrl-C to stop them")
    with _wait_for_stop_signal() as stop:
        while not stop.wait(0.5):
            for child, cmd in zip(children, commands, strict=True):
                if child.poll() is not None:
                    say(f"relayer: {' '.join(cmd[4:])} exited with {child.returncode}; stopping the others")
                    stop.set()
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    say("relayer stopped")


@relayer_app.command("status")
def relayer_status(
    limit: Annotated[int, typer.Option(help="Rows per section.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")
                       ] = False,
) -> None:
    """Show pending, delivered and failed transfers (with reasons), rejected events and checkpoints."""
    from bridge.service import status_report

    if as_json:
        dump_json(_relayer_status_document(limit))
        return
    typer.echo(status_report(_settings(), _bridge_settings(), limit=limit))


def _relayer_status_document(limit: int) -> dict[str, Any]:
    """What 'relayer status' shows, as data: times as ISO 8601, ids in full."""
    from dataclasses import asdict

    from bridge.service import chain_lines
    from bridge.store import BridgeStore
    from chain.formatting import format_time

    settings, bridge = _settings(), _bridge_settings()
    store = BridgeStore.open(bridge.effective_database_url(settings))

    def transfer(row: Any) -> dict[str, Any]:
        out = asdict(row)
        out["route"] = row.route
        out["observed_at"] = format_time(row.observed_at)
        out["delivered_at"] = format_time(row.delivered_at) if row.delivered_at else None
        return out

    return {
        "chains": chain_lines(settings),
        "routes": [{"source_chain_id": src, "dest_chain_id": dst, "status": status, "count": n}
                   for (src, dst, status), n in sorted(store.counts().items())],
        "delivery_transactions": store.delivery_counts(),
        "open": [transfer(r) for r in store.transfers(["pending", "failed"], limit=limit)],
        "delivered": [transfer(r) for r in store.transfers(["delivered"], limit=100_000)][-limit:],
        "rejected": [{**r, "created_at": format_time(r["created_at"])}
                     for r in store.rejections(limit=limit)],
        "checkpoints": [{**c, "updated_at": format_time(c["updated_at"])} for c in store.checkpoints()],
    }


# --------------------------------------------------------------------------------------------
# consortium


def _consortium(*, quiet: bool = False) -> Any:
    from devnet.consortium import Consortium, ConsortiumSettings

    try:
        settings = ConsortiumSettings()
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                            for e in exc.errors())
        raise ChainError(f"invalid consortium settings (CHAINRIGHT_CONSORTIUM_*): {details}") from None
    return Consortium(settings, progress=(lambda _: None) if quiet else say)


def _print_status(consortium: Any) -> None:
    net = consortium.require_network()
    signers: list[str] = []
    for st in consortium.status():
        node = st.node
        if not st.running:
            typer.echo(f"{node.name}\t{node.address}\t{node.rpc_url}\tstopped")
            continue
        if st.error:
            typer.echo(f"{node.name}\t{node.address}\t{node.rpc_url}\tpid {st.pid}\t"
                       f"not answering ({st.error})")
            continue
        if not signers:
            signers = consortium.signers(node.rpc_url)
        sealer = net.by_address(st.head_signer) if st.head_signer else None
        head_by = f"{sealer.name if sealer else st.head_signer}" if st.head_signer else "-"
        typer.echo(f"{node.name}\t{node.address}\t{node.rpc_url}\tpid {st.pid}\tblock {st.block} "
                   f"{(st.head_hash or '')[:10]} ({st.head_age_s:.0f}s old)\tpeers {st.peers}\t"
                   f"{'signer' if st.is_signer else 'not a signer'}\thead sealed by {head_by}")
    if signers:
        names = [(n.name if (n := net.by_address(a)) else a) for a in signers]
        typer.echo(f"signers ({len(signers)}): {', '.join(names)}; chain {net.chain_id}, "
                   f"{net.block_period_s}s blocks")
        verdict = consortium.diagnose()
        typer.echo(f"heads: {verdict.kind} ({verdict.detail})")
    watch = consortium.watchdog_status()
    if watch is None:
        typer.echo("fork watchdog: never started here")
    else:
        state = f"running (pid {watch['pid']}), last look: {watch.get('state', '?')}" if watch["running"] \
            else "not running (start the network with 'chainright consortium up')"
        typer.echo(f"fork watchdog: {state}; {len(watch.get('recoveries', []))} recovery(ies)")
        for rec in watch.get("recoveries", [])[-3:]:
            when = datetime.fromtimestamp(rec["at"], UTC).isoformat(timespec="seconds")
            rewound = ", ".join(f"{n} to block {b}" for n, b in rec["rewound"].items()) or "none"
            typer.echo(f"  {when}: rewound {rewound}; {rec['transactions']} transaction(s) of the "
                       f"dropped blocks sent again ({rec['resent']} new)")


@consortium_app.command("up")
def consortium_up(
    validators: Annotated[int | None, typer.Option(
        "--validators", "-n", min=1, max=32,
        help="Validators of a new network (default CHAINRIGHT_CONSORTIUM_VALIDATORS, 4).")] = None,
    detach: Annotated[bool, typer.Option("--detach", "-d",
                                         help="Leave the nodes running and return.")] = False,
) -> None:
    """Create (first time) and start the consortium network; wait until several validators seal."""
    consortium = _consortium()
    consortium.up(validators)
    _print_status(consortium)
    say("point the platform's home chain at it with: eval \"$(chainright consortium env)\"")
    if detach:
        say("nodes left running; stop them with 'chainright consortium down'")
        return
    say("consortium running; press Ctrl-C to stop it")
    with _wait_for_stop_signal() as stop:
        stop.wait()
    consortium.down()


@consortium_app.command("down")
def consortium_down(
    node: Annotated[list[int] | None, typer.Option(
        "--node", help="Stop only this node (repeatable).")] = None,
) -> None:
    """Stop the consortium nodes that chainright started (and only those)."""
    stopped = _consortium().down(node or None)
    say(f"stopped: {', '.join(stopped)}" if stopped else "no consortium node was running")


@consortium_app.command("start-node")
def consortium_start_node(index: Annotated[int, typer.Argument(help="Node index (node<i>).")]) -> None:
    """Start one stopped node again; it catches up with the others by itself."""
    rec = _consortium().start_node(index)
    typer.echo(f"{rec.name}\tpid {rec.pid}")


@consortium_app.command("status")
def consortium_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")
                       ] = False,
) -> None:
    """Nodes, their heads, peers and signer status, and the current signer set."""
    consortium = _consortium(quiet=True)
    if not as_json:
        _print_status(consortium)
        return
    net = consortium.require_network()
    nodes: list[dict[str, Any]] = []
    signers: list[str] = []
    for st in consortium.status():
        if st.running and not st.error and not signers:
            signers = consortium.signers(st.node.rpc_url)
        nodes.append({"name": st.node.name, "address": st.node.address, "rpc_url": st.node.rpc_url,
                      "pid": st.pid, "running": st.running, "block": st.block, "head_age_s": st.head_age_s,
                      "peers": st.peers, "is_signer": st.is_signer, "head_signer": st.head_signer,
                      "error": st.error})
    dump_json({"chain_id": net.chain_id, "block_period_s": net.block_period_s, "signers": signers,
               "nodes": nodes})


@consortium_app.command("env")
def consortium_env(
    chain: Annotated[str, typer.Option("--chain", "-c", help="Which platform chain to point: home or remote.")
                     ] = "home",
) -> None:
    """Print the CHAINRIGHT_CHAIN_* exports that make the platform use the consortium."""
    import shlex

    for key, value in _consortium(quiet=True).env(chain).items():
        typer.echo(f"export {key}={shlex.quote(value)}")


@consortium_app.command("add-node")
def consortium_add_node() -> None:
    """Create and start one more node (new keys); vote it in with 'consortium propose --add'."""
    node = _consortium().add_node()
    typer.echo(f"{node.name}\t{node.address}\t{node.rpc_url}")
    say(f"{node.name} syncs but cannot seal yet; make it a validator with "
        f"'chainright consortium propose --add {node.address}'")


@consortium_app.command("propose")
def consortium_propose(
    add: Annotated[str | None, typer.Option("--add", help="Vote this address in as a signer.")] = None,
    remove: Annotated[str | None, typer.Option("--remove", help="Vote this signer out.")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until the signer set changed.")] = True,
) -> None:
    """Vote a validator in or out on every running signer node (a majority must vote)."""
    if (add is None) == (remove is None):
        raise ChainError("give exactly one of --add ADDRESS or --remove ADDRESS")
    address = add if add is not None else remove
    assert address is not None
    from eth_utils.address import is_address

    if not is_address(address):
        raise ChainError(f"{address!r} is not an address")
    voters = _consortium().propose(address, add=add is not None, wait=wait)
    typer.echo(f"voted on: {', '.join(voters)}")


@bench_app.command("consortium")
def bench_consortium(
    count: Annotated[int, typer.Option(help="Transfers to send.", min=1)] = 2000,
    sales: Annotated[int, typer.Option(help="Signed marketplace fills to send (0: skip).", min=0)] = 1500,
    validators: Annotated[int, typer.Option(help="Validators of the temporary network.", min=1, max=32)] = 4,
    period: Annotated[int, typer.Option(help="Block period (s) of the temporary network.", min=1)] = 1,
    running: Annotated[bool, typer.Option(
        "--running", help="Measure the running consortium (CHAINRIGHT_CONSORTIUM_*) instead.")] = False,
) -> None:
    """Simple-transfer rate and sale rate (signed marketplace fills) of a consortium network, as JSON
    on stdout (tx_per_s, chain_tx_per_s, sales_per_s, chain_sales_per_s, validators, block_period_s)."""
    import json

    from bench.consortium import bench_consortium as measure
    from bench.consortium import summary

    result = measure(count=count, sales=sales, validators=validators, period=period, running=running, say=say)
    typer.echo(json.dumps(result, indent=2))
    say(summary(result))


@bench_app.command("consortium-starts")
def bench_consortium_starts(
    runs: Annotated[int, typer.Option(help="New networks to start, one after the other.", min=1)] = 30,
    validators: Annotated[int, typer.Option(help="Validators of each network.", min=1, max=32)] = 4,
    period: Annotated[int, typer.Option(help="Block period (s).", min=1)] = 1,
) -> None:
    """Start a new consortium network RUNS times (watchdog off) and print, as JSON, how many started,
    how many stalled, how many failed otherwise, and the time to the first two distinct sealers; exit 1
    when any start stalled or failed."""
    import json

    from bench.consortium import bench_starts

    result = bench_starts(runs=runs, validators=validators, period=period, say=say)
    typer.echo(json.dumps(result, indent=2))
    if result["stalled"] or result["failed_to_start"]:
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------------
# demo


@app.command("demo")
def demo_cmd(
    self_start: Annotated[bool, typer.Option(
        "--self-start", help="Start a platform of its own (temporary data directory), stop it after.")
    ] = False,
    attach: Annotated[bool, typer.Option(
        "--attach", help="Only use the running platform; fail when none answers.")] = False,
    out_dir: Annotated[Path | None, typer.Option(help="Where to keep the work and the provenance bundle.")
                       ] = None,
    bridge_timeout: Annotated[float, typer.Option(help="Seconds to wait for each bridge relay.")] = 180.0,
) -> None:
    """Walk through the mission (DID login, KYC, IPFS upload, mint with a 30/40/30 split, sale, license,
    royalty withdrawals, bridge round trip, offline provenance audit, circuit breaker) against the
    running platform, or one it starts when none runs; exit 1 naming the step that failed."""
    from chainright.demo import run_demo

    if self_start and attach:
        raise ChainError("--self-start and --attach exclude each other")
    api_settings = _api_settings()
    mode = "self-start" if self_start else "attach" if attach else "auto"
    api_url = f"http://{api_settings.host}:{api_settings.port}"
    run_demo(_settings(), api_url, api_settings.effective_database_url, mode=mode, out=typer.echo, say=say,
             out_dir=out_dir, bridge_timeout_s=bridge_timeout)


# --------------------------------------------------------------------------------------------
# up


def _state_summary(database_url: str) -> str:
    """What the saved state holds so far (a second `up` shows the first run's works and sales)."""
    from sqlalchemy import func, select

    from api.db import Database
    from api.models import Asset
    from record.index.store import chain_events

    db = Database(database_url)
    try:
        with db.engine.connect() as conn:
            assets = conn.execute(select(func.count()).select_from(Asset.__table__)).scalar_one()
            kinds = ("RightsRegistered", "OrderFilled", "LicenseGranted", "TokenLocked")
            counts = {str(event): int(n) for event, n in conn.execute(
                select(chain_events.c.event, func.count()).where(chain_events.c.event.in_(kinds))
                .group_by(chain_events.c.event))}
    finally:
        db.dispose()
    return (f"{assets} uploaded works, {counts.get('RightsRegistered', 0)} registered, "
            f"{counts.get('OrderFilled', 0)} sales, {counts.get('LicenseGranted', 0)} licenses, "
            f"{counts.get('TokenLocked', 0)} bridge departures (indexed so far)")


@app.command("up")
def up_cmd(
    ipfs: Annotated[bool, typer.Option(
        "--ipfs/--no-ipfs", help="Start the local IPFS node (js-ipfs) for uploads when it is installed "
        "and CHAINRIGHT_API_IPFS_API is unset.")] = True,
) -> None:
    """Run the platform locally: both chains, every contract, the IPFS node, the indexer, the API
    and the bridge relayer (validators and submitter).

    Ctrl-C stops every child cleanly; the next run resumes from the saved state (chain state,
    database, deployments, checkpoints) in the data directory.
    """
    import urllib.request

    from api.db import Database
    from api.errors import ApiError
    from chainright.supervisor import Service, ServiceFailedError, Supervisor
    from devnet.anvil import NodeManager, port_is_free

    settings = _settings()
    api_settings = _api_settings()
    specs = settings.specs("all")
    if not port_is_free(api_settings.host, api_settings.port):
        raise ChainError(f"port {api_settings.port} on {api_settings.host} is already in use, so the API "
                         "cannot start; stop what listens there or set CHAINRIGHT_API_PORT. Nothing was "
                         "started.")
    from chainright.lifecycle import Foreground

    manager = NodeManager(settings, progress=say)
    # The supervisor watches every child (chains included) and writes what it sees for /health.
    supervisor = Supervisor(settings.log_dir, say=say, status_file=settings.run_dir / "supervisor.json")
    records: list[Any] = []
    ipfs_node: Any = None
    # SIGINT, SIGTERM and SIGHUP stop whatever was started so far, from step 1 on (see lifecycle.py).
    with Foreground(say) as life:
        try:
            say(f"[1/6] starting chains (data directory {settings.data_dir})")
            records = manager.start(specs)
            if api_settings.environment == "development" and not api_settings.role_grants:
                # Development only: a KYC officer among the dev accounts, so that `chainright demo` (and a
                # newcomer) can approve applications on a plain `make up`. Any explicit grant replaces it.
                import json

                from chainright.demo import OFFICER_INDEX, officer_grants

                grants = officer_grants(settings.spec("home").chain_id)
                supervisor.env["CHAINRIGHT_API_ROLE_GRANTS"] = json.dumps(grants)
                say(f"      development: anvil account #{OFFICER_INDEX} holds the kyc_officer and risk roles "
                    "(set CHAINRIGHT_API_ROLE_GRANTS to choose your own)")
            say("[2/6] compiling and deploying contracts (reusing deployments that match this build)")
            deployed = _deploy(specs, settings, force=False)
            life.rearm()  # importing ape (in _deploy) replaced the SIGINT handler
            say("[3/6] migrating the database")
            try:
                Database(api_settings.effective_database_url).migrate()
            except ApiError as exc:
                raise ChainError(str(exc)) from None
            ipfs_node = _start_ipfs(settings.data_dir, supervisor.env) \
                if ipfs and not api_settings.ipfs_api else None
            say("[4/6] starting the indexer")
            supervisor.start(Service("indexer", ["indexer", "run"], kind="indexer"))
            say("[5/6] starting the API")
            api_url = f"http://{api_settings.host}:{api_settings.port}"

            def api_ready() -> bool:
                try:
                    with urllib.request.urlopen(f"{api_url}/health", timeout=1) as r:  # noqa: S310 (loopback)
                        return bool(r.status == 200)
                except OSError:
                    return False

            supervisor.start(Service("api", ["api", "run"], ready=api_ready, kind="api"))
            bridge = _bridge_settings()
            say(f"[6/6] starting the bridge relayer ({len(bridge.validator_keys)} validators and the "
                "submitter)")
            for index in range(len(bridge.validator_keys)):
                supervisor.start(Service(f"validator-{index}", ["relayer", "run", "--role", "validator",
                                                                "--validator-index", str(index)],
                                         kind="validator"))
            supervisor.start(Service("submitter", ["relayer", "run", "--role", "submitter"],
                                     kind="submitter"))
            _supervise_chains_and_ipfs(supervisor, manager, specs, records, ipfs_node)
            typer.echo("")
            typer.echo("Chainright is running")
            typer.echo(f"  API              {api_url}  (docs {api_url}/docs)")
            typer.echo(f"  web app          {api_settings.siwe_uri.rstrip('/')}/  (sign in there)")
            typer.echo(f"  data directory   {settings.data_dir}  (logs in {settings.log_dir})")
            typer.echo(f"  database         {api_settings.effective_database_url.split('@')[-1]}")
            ipfs_api = supervisor.env.get("CHAINRIGHT_API_IPFS_API")
            store = f"IPFS node {ipfs_api}  pid {ipfs_node.process.pid}" if ipfs_node else \
                f"IPFS node {ipfs_api}" if ipfs_api else "local folder (no IPFS node)"
            typer.echo(f"  content store    {store}")
            typer.echo(f"  state            {_state_summary(api_settings.effective_database_url)}")
            for spec in specs:
                rec = next((r for r in records if r.name == spec.name), None)
                pid = f"pid {rec.pid}" if rec else "external"
                typer.echo(f"  {spec.name:<7} chain {spec.chain_id:<6} {spec.rpc_url:<24} {pid}")
                for contract, address in deployed.get(spec.name, {}).items():
                    typer.echo(f"           {contract:<26} {address}")
            life.running()
            typer.echo("ready. Press Ctrl-C to stop.")
            try:
                supervisor.watch(life.stop)
            except ServiceFailedError as exc:
                raise ChainError(str(exc)) from None
            say(f"stopping ({life.received}) ..." if life.received else "stopping ...")
        finally:
            with life.stopping():  # a second Ctrl-C (or SIGTERM) here is ignored: no half-done cleanup
                supervisor.stop_all()
                if ipfs_node is not None:
                    ipfs_node.stop()
                    say("ipfs: stopped")
                manager.stop([r.name for r in records])
                say("stopped")


def _supervise_chains_and_ipfs(supervisor: Any, manager: Any, specs: list[ChainSpec], records: list[Any],
                               ipfs_node: Any) -> None:
    """Put the chains `up` started (restarted from their saved state) and the IPFS node (never
    restarted: the API was given its address) under the supervisor's watch."""
    from chainright.supervisor import Watched

    for rec in records:
        spec = next(s for s in specs if s.name == rec.name)

        def restart(spec: ChainSpec = spec) -> None:
            manager.stop_one(spec.name, timeout=2.0)  # reap the dead process, drop its PID file
            manager.start([spec])

        supervisor.add_chain(rec.name, lambda name=rec.name: manager.running(name) is not None, restart,
                             Path(rec.log_file))
    if ipfs_node is not None:
        supervisor.add_child(Watched("ipfs", "ipfs", lambda: (ipfs_node.process.poll() is None,
                                                              ipfs_node.process.poll()), lambda: None))


def _start_ipfs(data_dir: Path, env: dict[str, str]) -> Any:
    """Start the js-ipfs node for uploads (repository in ``<data>/ipfs``, loopback ports) and point
    the API's environment at it; None (uploads stay in the local folder) when it is not installed."""
    import socket

    from chain.errors import NodeStartError
    from devnet.ipfs import JSIPFS, start_ipfs_node

    if not JSIPFS.exists():
        say("ipfs: js-ipfs is not installed ('make setup-ipfs'); uploads stay in the local content folder")
        return None

    def free() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    say("starting the IPFS node (js-ipfs, offline)")
    try:
        node = start_ipfs_node(data_dir / "ipfs" / "repo", free(), free(), free(), timeout_s=120)
    except NodeStartError as exc:
        raise ChainError(str(exc)) from None
    env["CHAINRIGHT_API_IPFS_API"] = node.multiaddr
    say(f"ipfs: running (pid {node.process.pid}, API {node.multiaddr})")
    return node


# --------------------------------------------------------------------------------------------


def main() -> None:
    """Entry point: run the command, turning our errors into one readable line."""
    from chainright.logs import configure_logging

    configure_logging(sys.argv[1:])  # CHAINRIGHT_LOG_FORMAT=json: JSON lines tagged with the role
    debug = os.environ.get("CHAINRIGHT_DEBUG") == "1"
    try:
        rc = app(prog_name="chainright", standalone_mode=False)  # the code of typer.Exit / --help
        sys.exit(rc if isinstance(rc, int) else 0)
    except (ChainError, BridgeError) as exc:
        if debug:
            raise
        from chain.reverts import explain_exception

        say(f"error: {explain_exception(exc)}")  # a revert reads as a sentence with what to do
        sys.exit(1)
    except typer.TyperException as exc:
        # Usage mistakes (an unknown command or option, a bad value, a missing argument): click's
        # usage message naming the command or option, exit 2, as every Unix tool does.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            say(f"error: {exc}")
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(130)
    except typer.Abort:
        say("aborted")
        sys.exit(1)
    except Exception as exc:
        if debug:
            raise
        say(f"error: unexpected {type(exc).__name__}: {exc} (set CHAINRIGHT_DEBUG=1 for details)")
        sys.exit(1)


if __name__ == "__main__":
    main()
