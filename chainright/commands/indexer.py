"""``chainright indexer run``: follow the chains' platform events into the database."""

from __future__ import annotations

from typing import Annotated

import typer

from chain.errors import ChainError
from chainright.console import ChainOpt, api_settings, chain_settings, say, wait_for_stop_signal

app = typer.Typer(no_args_is_help=True, help="Follow the chains into the database.")


@app.command("run")
def indexer_run(
    chain: ChainOpt = "all",
    once: Annotated[bool, typer.Option("--once", help="Index what is final, then exit.")] = False,
) -> None:
    """Index every platform event of the chosen chains (from their checkpoints), showing progress."""
    from api.db import Database
    from api.errors import ApiError
    from chain.artifacts import Artifacts
    from record.index.service import build_indexers, follow

    settings = chain_settings()
    db = Database(api_settings().effective_database_url)
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
    with wait_for_stop_signal() as stop:
        follow(indexers, stop, on_error=lambda ix, exc: say(f"{ix.tag}: {exc} (retrying)"), after_step=market)
