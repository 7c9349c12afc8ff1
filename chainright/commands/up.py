"""``chainright up``: the whole platform locally (chains, contracts, IPFS, indexer, API, relayer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from chain.errors import ChainError
from chain.settings import ChainSpec
from chainright.console import api_settings, bridge_settings, chain_settings, deploy_contracts, say

app = typer.Typer()  # root-level commands: registered without a group name in chainright/cli.py


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

    settings = chain_settings()
    api_conf = api_settings()
    specs = settings.specs("all")
    if not port_is_free(api_conf.host, api_conf.port):
        raise ChainError(f"port {api_conf.port} on {api_conf.host} is already in use, so the API "
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
            if api_conf.environment == "development" and not api_conf.role_grants:
                # Development only: a KYC officer among the dev accounts, so that `chainright demo` (and a
                # newcomer) can approve applications on a plain `make up`. Any explicit grant replaces it.
                import json

                from chainright.roles import OFFICER_INDEX, OFFICER_ROLES, TREASURY_INDEX, officer_grants

                grants = officer_grants(settings.spec("home").chain_id)
                supervisor.env["CHAINRIGHT_API_ROLE_GRANTS"] = json.dumps(grants)
                roles = ", ".join(OFFICER_ROLES)
                say(f"      development: anvil account #{OFFICER_INDEX} holds the {roles} roles and "
                    f"#{TREASURY_INDEX} the treasury role (CHAINRIGHT_API_ROLE_GRANTS chooses your own)")
            say("[2/6] compiling and deploying contracts (reusing deployments that match this build)")
            deployed = deploy_contracts(specs, settings, force=False)
            life.rearm()  # importing ape (in deploy_contracts) replaced the SIGINT handler
            say("[3/6] migrating the database")
            try:
                Database(api_conf.effective_database_url).migrate()
            except ApiError as exc:
                raise ChainError(str(exc)) from None
            ipfs_node = _start_ipfs(settings.data_dir, supervisor.env) \
                if ipfs and not api_conf.ipfs_api else None
            say("[4/6] starting the indexer")
            supervisor.start(Service("indexer", ["indexer", "run"], kind="indexer"))
            say("[5/6] starting the API")
            api_url = f"http://{api_conf.host}:{api_conf.port}"

            def api_ready() -> bool:
                try:
                    with urllib.request.urlopen(f"{api_url}/health", timeout=1) as r:  # noqa: S310 (loopback)
                        return bool(r.status == 200)
                except OSError:
                    return False

            supervisor.start(Service("api", ["api", "run"], ready=api_ready, kind="api"))
            bridge = bridge_settings()
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
            typer.echo(f"  web app          {api_conf.siwe_uri.rstrip('/')}/  (sign in there)")
            typer.echo(f"  data directory   {settings.data_dir}  (logs in {settings.log_dir})")
            typer.echo(f"  database         {api_conf.effective_database_url.split('@')[-1]}")
            ipfs_api = supervisor.env.get("CHAINRIGHT_API_IPFS_API")
            store = f"IPFS node {ipfs_api}  pid {ipfs_node.process.pid}" if ipfs_node else \
                f"IPFS node {ipfs_api}" if ipfs_api else "local folder (no IPFS node)"
            typer.echo(f"  content store    {store}")
            typer.echo(f"  state            {_state_summary(api_conf.effective_database_url)}")
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
    from chain.errors import NodeStartError
    from chain.ports import free_port
    from devnet.ipfs import JSIPFS, start_ipfs_node

    if not JSIPFS.exists():
        say("ipfs: js-ipfs is not installed ('make setup-ipfs'); uploads stay in the local content folder")
        return None

    say("starting the IPFS node (js-ipfs, offline)")
    try:
        node = start_ipfs_node(data_dir / "ipfs" / "repo", free_port(), free_port(), free_port(),
                               timeout_s=120)
    except NodeStartError as exc:
        raise ChainError(str(exc)) from None
    env["CHAINRIGHT_API_IPFS_API"] = node.multiaddr
    say(f"ipfs: running (pid {node.process.pid}, API {node.multiaddr})")
    return node
