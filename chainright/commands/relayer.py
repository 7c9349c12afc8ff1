"""``chainright relayer run|status``: the bridge relayer's processes and what they have delivered."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Any

import typer

from bridge.errors import BridgeError
from chainright.console import bridge_settings, chain_settings, dump_json, say, wait_for_stop_signal

app = typer.Typer(no_args_is_help=True, help="Run and inspect the bridge relayer.")


def _relayer_logging() -> None:
    if "CHAINRIGHT_LOG_LEVEL" not in os.environ:
        logging.getLogger("bridge").setLevel(logging.INFO)


@app.command("run")
def relayer_run(
    role: Annotated[str, typer.Option("--role", help="validator, submitter or all")] = "all",
    validator_index: Annotated[int, typer.Option(
        "--validator-index", "-i", help="Which key of CHAINRIGHT_BRIDGE_VALIDATOR_KEYS (from 0).")] = 0,
) -> None:
    """Relay tokens between home and remote until Ctrl-C (all: every validator and the submitter,
    each in its own process)."""
    import subprocess

    from bridge.service import Relayer

    settings, bridge = chain_settings(), bridge_settings()
    _relayer_logging()
    if role in ("validator", "submitter"):
        relayer = Relayer(role, settings, bridge, validator_index=validator_index)  # type: ignore[arg-type]
        say(f"relayer[{relayer.name}] starting; database {bridge.effective_database_url(settings)}")
        with wait_for_stop_signal() as stop:
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
    with wait_for_stop_signal() as stop:
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


@app.command("status")
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
    typer.echo(status_report(chain_settings(), bridge_settings(), limit=limit))


def _relayer_status_document(limit: int) -> dict[str, Any]:
    """What 'relayer status' shows, as data: times as ISO 8601, ids in full."""
    from dataclasses import asdict

    from bridge.service import chain_lines
    from bridge.store import BridgeStore
    from chain.formatting import format_time

    settings, bridge = chain_settings(), bridge_settings()
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
