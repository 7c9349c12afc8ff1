"""``chainright ops pause|unpause|status`` and ``chainright roles grant|revoke|list``.

Contract families paused and unpaused (operator role) and API roles granted at run time (admin
role), over the API."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from chainright.console import (
    ApiOpt,
    ChainOpt,
    JsonOpt,
    WalletOpt,
    anonymous,
    chain_id_of,
    dump_json,
    logged_in,
    say,
)

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Pause and unpause contract families (operator).")
FamilyArg = Annotated[Literal["marketplace", "escrow", "bridge"], typer.Argument(help="The contract family.")]
AnyChainOpt = Annotated[str, typer.Option("--chain", "-c", help="home, remote or all")]


def _change(action: str, family: str, chain: str, api: str, wallet_name: str) -> None:
    body = {"chain_id": None if chain == "all" else chain_id_of(chain)}
    with logged_in(api, wallet_name) as me:
        out = me.client.post(f"/ops/{family}/{action}", body)
    for c in out["contracts"]:
        done = f"tx {c['tx_hash']}" if c["changed"] else f"already {action}d"
        say(f"{c['contract']} on chain {c['chain_id']} ({c['address']}): {done}")
    typer.echo(f"{family} {'paused' if out['paused'] else 'unpaused'}")


@app.command("pause")
def ops_pause(family: FamilyArg, chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
              wallet_name: WalletOpt = "default") -> None:
    """Pause a family (the platform key sends it; the API logs who asked)."""
    _change("pause", family, chain, api, wallet_name)


@app.command("unpause")
def ops_unpause(family: FamilyArg, chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                wallet_name: WalletOpt = "default") -> None:
    """Unpause a family."""
    _change("unpause", family, chain, api, wallet_name)


def _collection(action: str, collection: str, chain: str, api: str, wallet_name: str) -> None:
    chain_id = chain_id_of(chain)
    with logged_in(api, wallet_name, chain) as me:
        out = me.client.post(f"/ops/collections/{chain_id}/{collection}/{action}-tx", {})
        me.send(out["transaction"], f"collection {action}d")


@app.command("pause-collection")
def ops_pause_collection(collection: Annotated[str, typer.Argument(help="Your collection's address.")],
                         chain: ChainOpt = "home",
                         api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Pause your own collection (minting, transfers, rentals); your wallet signs."""
    _collection("pause", collection, chain, api, wallet_name)


@app.command("unpause-collection")
def ops_unpause_collection(collection: Annotated[str, typer.Argument(help="Your collection's address.")],
                           chain: ChainOpt = "home",
                           api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Unpause your own collection; your wallet signs."""
    _collection("unpause", collection, chain, api, wallet_name)


@app.command("status")
def ops_status(api: ApiOpt = "http://127.0.0.1:8000", as_json: JsonOpt = False) -> None:
    """Every family on every chain, paused or not."""
    with anonymous(api) as client:
        out = client.get("/ops/paused")
    if as_json:
        dump_json(out)
        return
    for s in out:
        typer.echo(f"{s['family']:<12} {s['chain']:<7} {s['contract']:<16} {s['address']}  "
                   f"{'PAUSED' if s['paused'] else 'running'}")
