"""``chainright ops pause|unpause|status|settings|set-fee|set-treasury|set-escrow-fee|set-escrow-treasury``
and ``chainright ops set-rate-limits``.

Contract families paused and unpaused (operator role) and deploy-time settings changed (admin role:
the marketplace's and the milestone escrow's platform fee and treasury, bridge rate limits), over the API."""

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


# ------------------------------------------------------------------ deploy-time settings (admin role)


def _changes(out: list[dict[str, object]], what: str) -> None:
    for c in out:
        done = f"tx {c['tx_hash']}" if c["changed"] else "already so, nothing sent"
        say(f"{c['contract']} on chain {c['chain_id']} ({c['address']}): {done}")
    typer.echo(what)


@app.command("settings")
def ops_settings(api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default",
                 as_json: JsonOpt = False) -> None:
    """The platform fee and treasury (marketplace, escrow), bridge rate limits, every chain (admin role)."""
    with logged_in(api, wallet_name) as me:
        out = me.client.get("/ops/admin/settings")
    if as_json:
        dump_json(out)
        return
    for family in ("marketplace", "escrow"):
        for m in out.get(family, []):
            typer.echo(f"{family:<11} {m['chain']:<7} fee {m['platform_fee_bps'] / 100:g}% (at most "
                       f"{m['max_fee_bps'] / 100:g}%), treasury {m['treasury']}")
    for b in out["bridge"]:
        typer.echo(f"bridge      {b['chain']:<7} per hour: outbound {b['outbound']}, inbound {b['inbound']}, "
                   f"per sender {b['sender']}, per collection {b['collection']}")


@app.command("set-fee")
def ops_set_fee(bps: Annotated[int, typer.Argument(help="The platform fee in basis points (250 = 2.5%).")],
                chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                wallet_name: WalletOpt = "default") -> None:
    """Set the marketplace's platform fee (admin role; the platform key sends it)."""
    body = {"chain_id": None if chain == "all" else chain_id_of(chain), "fee_bps": bps}
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/ops/marketplace/fee", body)
    _changes(out, f"platform fee {bps / 100:g}%")


@app.command("set-treasury")
def ops_set_treasury(treasury: Annotated[str, typer.Argument(help="Who receives the platform fee.")],
                     chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                     wallet_name: WalletOpt = "default") -> None:
    """Set the marketplace's treasury (admin role; the platform key sends it)."""
    body = {"chain_id": None if chain == "all" else chain_id_of(chain), "treasury": treasury}
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/ops/marketplace/treasury", body)
    _changes(out, f"treasury {treasury}")


@app.command("set-escrow-fee")
def ops_set_escrow_fee(bps: Annotated[int, typer.Argument(help="The fee in basis points (250 = 2.5%).")],
                       chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                       wallet_name: WalletOpt = "default") -> None:
    """Set the milestone escrow's platform fee for escrows created from now on (admin role; the platform
    key sends it)."""
    body = {"chain_id": None if chain == "all" else chain_id_of(chain), "fee_bps": bps}
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/ops/escrow/fee", body)
    _changes(out, f"escrow platform fee {bps / 100:g}%")


@app.command("set-escrow-treasury")
def ops_set_escrow_treasury(treasury: Annotated[str, typer.Argument(help="Who receives the escrow's fee.")],
                            chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                            wallet_name: WalletOpt = "default") -> None:
    """Set the milestone escrow's treasury (admin role; the platform key sends it)."""
    body = {"chain_id": None if chain == "all" else chain_id_of(chain), "treasury": treasury}
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/ops/escrow/treasury", body)
    _changes(out, f"escrow treasury {treasury}")


LimitOpt = Annotated[int | None, typer.Option(min=0, help="Transfers per hour (0 closes it).")]


@app.command("set-rate-limits")
def ops_set_rate_limits(outbound: LimitOpt = None, inbound: LimitOpt = None, sender: LimitOpt = None,
                        collection: LimitOpt = None, chain: AnyChainOpt = "all",
                        api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Change the bridge's rate limits, only those given (admin role; the platform key sends it)."""
    limits = {"outbound": outbound, "inbound": inbound, "sender": sender, "collection": collection}
    given = {k: v for k, v in limits.items() if v is not None}
    if not given:
        raise typer.BadParameter("give at least one of --outbound, --inbound, --sender, --collection",
                                 param_hint="'--outbound'")
    body = {"chain_id": None if chain == "all" else chain_id_of(chain), **given}
    with logged_in(api, wallet_name) as me:
        out = me.client.patch("/ops/bridge/rate-limits", body)
    _changes(out, "rate limits " + ", ".join(f"{k} {v}/h" for k, v in given.items()))
