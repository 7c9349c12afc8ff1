"""``chainright demo``: the mission scripted through the API (the script itself is ``chainright/demo.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chain.errors import ChainError
from chainright.console import api_settings, chain_settings, say

app = typer.Typer()  # root-level commands: registered without a group name in chainright/cli.py


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
    settings = api_settings()
    mode = "self-start" if self_start else "attach" if attach else "auto"
    api_url = f"http://{settings.host}:{settings.port}"
    run_demo(chain_settings(), api_url, settings.effective_database_url, mode=mode, out=typer.echo, say=say,
             out_dir=out_dir, bridge_timeout_s=bridge_timeout)
