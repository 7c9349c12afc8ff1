"""``chainright node up|down|status``: the local anvil chains (home 31337, remote 31338)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chain.errors import ChainError
from chainright.console import ChainOpt, chain_settings, dump_json, say

app = typer.Typer(no_args_is_help=True, help="Start, stop and inspect the local chains.")


@app.command("up")
def node_up(
    chain: ChainOpt = "all",
    detach: Annotated[bool, typer.Option("--detach", "-d",
                                         help="Leave the nodes running and return.")] = False,
) -> None:
    """Start the local anvil chains (home 31337, remote 31338) and wait until they answer."""
    from chainright.lifecycle import Foreground
    from devnet.anvil import NodeManager

    settings = chain_settings()
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


@app.command("down")
def node_down(chain: ChainOpt = "all") -> None:
    """Stop the local chains that chainright started (and only those)."""
    from devnet.anvil import NodeManager

    settings = chain_settings()
    names = [s.name for s in settings.specs(chain)]
    stopped = NodeManager(settings, progress=say).stop(names)
    say(f"stopped: {', '.join(stopped)}" if stopped else "no chainright node was running")


@app.command("status")
def node_status(
    chain: ChainOpt = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")
                       ] = False,
) -> None:
    """Show which chains run, where, and whether they answer."""
    from chain.connection import check_endpoint
    from devnet.anvil import NodeManager

    settings = chain_settings()
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
