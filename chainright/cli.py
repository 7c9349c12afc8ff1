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
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from bridge.errors import BridgeError
from chain.errors import ChainError
from chain.settings import ChainSettings, ChainSpec

if TYPE_CHECKING:  # the API package is heavy to import: only the commands that need it load it
    from api.settings import ApiSettings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Chainright: issue, license, trade and audit digital goods on EVM chains.")
node_app = typer.Typer(no_args_is_help=True, help="Start, stop and inspect the local chains.")
app.add_typer(node_app, name="node")
api_app = typer.Typer(no_args_is_help=True, help="Run the HTTP API.")
app.add_typer(api_app, name="api")
indexer_app = typer.Typer(no_args_is_help=True, help="Follow the chains into the database.")
app.add_typer(indexer_app, name="indexer")
bench_app = typer.Typer(no_args_is_help=True, help="Measure the platform (gas, throughput, latency).")
app.add_typer(bench_app, name="bench")
relayer_app = typer.Typer(no_args_is_help=True, help="Run and inspect the bridge relayer.")
app.add_typer(relayer_app, name="relayer")

ChainOpt = Annotated[str, typer.Option("--chain", "-c", help="home, remote or all")]
F = TypeVar("F", bound=Callable[..., Any])


def say(message: str) -> None:
    typer.echo(message, err=True)


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
    from chain.nodes import NodeManager

    settings = _settings()
    manager = NodeManager(settings, progress=say)
    specs = settings.specs(chain)
    records = manager.start(specs)
    for spec in specs:
        if not spec.managed:
            say(f"{spec.name}: external endpoint {spec.rpc_url} (not started by chainright)")
    for rec in records:
        typer.echo(f"{rec.name}\tchain {rec.chain_id}\t{rec.rpc_url}\tpid {rec.pid}")
    if detach:
        say("nodes left running; stop them with 'chainright node down'")
        return
    say("nodes running; press Ctrl-C to stop them")
    with _wait_for_stop_signal() as stop:
        stop.wait()
    manager.stop([r.name for r in records])


@node_app.command("down")
def node_down(chain: ChainOpt = "all") -> None:
    """Stop the local chains that chainright started (and only those)."""
    from chain.nodes import NodeManager

    settings = _settings()
    names = [s.name for s in settings.specs(chain)]
    stopped = NodeManager(settings, progress=say).stop(names)
    say(f"stopped: {', '.join(stopped)}" if stopped else "no chainright node was running")


@node_app.command("status")
def node_status(chain: ChainOpt = "all") -> None:
    """Show which chains run, where, and whether they answer."""
    from chain.connection import check_endpoint
    from chain.nodes import NodeManager

    settings = _settings()
    manager = NodeManager(settings)
    for spec in settings.specs(chain):
        rec = manager.running(spec.name) if spec.managed else None
        try:
            check_endpoint(spec, timeout=1.0)
            health = "answering"
        except ChainError as exc:
            health = f"down ({exc})"
        owner = f"pid {rec.pid}" if rec else ("external" if not spec.managed else "not started")
        typer.echo(f"{spec.name}\tchain {spec.chain_id}\t{spec.rpc_url}\t{owner}\t{health}")


# --------------------------------------------------------------------------------------------
# compile and deploy


@app.command("compile")
def compile_cmd() -> None:
    """Compile every contract through ape (solc 0.8.28 via the project's solcjs shim)."""
    from chain.artifacts import compile_project

    say("compiling contracts/ ...")
    artifacts = compile_project()
    say(f"compiled {len(artifacts.names())} contracts: {', '.join(artifacts.names())}")


def _deploy(specs: list[ChainSpec], settings: ChainSettings, *, force: bool) -> dict[str, Any]:
    from chain.deploy import deploy_to_chains

    results = deploy_to_chains(settings, specs, force=force, progress=say)
    return {name: {r.deployment.contract: r.deployment.address for r in rs}
            for name, rs in results.items()}


@app.command("deploy")
def deploy_cmd(
    chain: ChainOpt = "all",
    force: Annotated[bool, typer.Option(help="Deploy again even where a deployment matches.")] = False,
) -> None:
    """Compile, then deploy every contract family onto the chosen chains through ape."""
    settings = _settings()
    out = _deploy(settings.specs(chain), settings, force=force)
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
    from chain.nodes import port_is_free

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
    say(f"API on http://{settings.host}:{settings.port} (docs at /docs), database "
        f"{settings.effective_database_url.split('@')[-1]}")
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning")


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
    from chain.index.service import build_indexers, follow

    settings = _settings()
    api_settings = _api_settings()
    db = Database(api_settings.effective_database_url)
    try:
        db.migrate()
    except ApiError as exc:
        raise ChainError(str(exc)) from None
    indexers = build_indexers(settings, db.engine, Artifacts.load(), which=chain, progress=say)
    if once:
        total = sum(ix.run_until_caught_up() for ix in indexers)
        say(f"indexed {total} new events; caught up")
        return
    say("indexing; press Ctrl-C to stop")
    with _wait_for_stop_signal() as stop:
        follow(indexers, stop, on_error=lambda ix, exc: say(f"{ix.tag}: {exc} (retrying)"))


# --------------------------------------------------------------------------------------------
# bench


@bench_app.command("gas")
def bench_gas(
    write_snapshot: Annotated[bool, typer.Option(
        "--write-snapshot", help="Save the figures as the committed snapshot (gas-snapshot.json).")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Exit 1 when an operation grew more than 2% over the snapshot.")] = False,
) -> None:
    """Whole-transaction gas per operation on a fresh anvil, as one JSON object on stdout."""
    import json

    from chain.artifacts import compile_project
    from chain.bench.gas import compare, read_snapshot, run_gas_bench
    from chain.bench.gas import write_snapshot as save

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

    from bridge.bench import run_bridge_bench
    from chain.artifacts import compile_project

    if count < 1 or batch < 1:
        raise BridgeError("--count and --batch must be at least 1")

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
) -> None:
    """Show pending, delivered and failed transfers (with reasons), rejected events and checkpoints."""
    from bridge.service import status_report

    typer.echo(status_report(_settings(), _bridge_settings(), limit=limit))


# --------------------------------------------------------------------------------------------
# up


@app.command("up")
def up_cmd() -> None:
    """Run the platform locally: both chains, every contract deployed; Ctrl-C stops it all."""
    from chain.nodes import NodeManager

    settings = _settings()
    specs = settings.specs("all")
    manager = NodeManager(settings, progress=say)
    say(f"[1/3] starting chains (data directory {settings.data_dir})")
    records = manager.start(specs)
    try:
        say("[2/3] compiling and deploying contracts")
        deployed = _deploy(specs, settings, force=False)
        say("[3/3] ready")
        typer.echo("")
        typer.echo("Chainright is running")
        typer.echo(f"  data directory   {settings.data_dir}")
        for spec in specs:
            rec = next((r for r in records if r.name == spec.name), None)
            pid = f"pid {rec.pid}" if rec else "external"
            typer.echo(f"  {spec.name:<7} chain {spec.chain_id:<6} {spec.rpc_url:<24} {pid}")
            for contract, address in deployed.get(spec.name, {}).items():
                typer.echo(f"           {contract:<26} {address}")
        typer.echo("Press Ctrl-C to stop.")
        with _wait_for_stop_signal() as stop:
            stop.wait()
        say("stopping ...")
    finally:
        manager.stop([r.name for r in records])
        say("stopped")


# --------------------------------------------------------------------------------------------


def main() -> None:
    """Entry point: run the command, turning our errors into one readable line."""
    logging.basicConfig(
        level=os.environ.get("CHAINRIGHT_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    debug = os.environ.get("CHAINRIGHT_DEBUG") == "1"
    try:
        rc = app(standalone_mode=False)  # returns the code of typer.Exit / --help
        sys.exit(rc if isinstance(rc, int) else 0)
    except (ChainError, BridgeError) as exc:
        if debug:
            raise
        say(f"error: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(130)
    except typer.Abort:
        say("aborted")
        sys.exit(1)
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            raise
        say(f"error: unexpected {type(exc).__name__}: {exc} (set CHAINRIGHT_DEBUG=1 for details)")
        sys.exit(1)


if __name__ == "__main__":
    main()
