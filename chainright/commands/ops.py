"""``chainright ops pause|unpause|status`` and ``chainright roles grant|revoke|list``.

Contract families paused and unpaused (operator role) and API roles granted at run time (admin
role), over the API."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from chainright.commands.ops_io import (
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

__all__ = ["ops_app", "roles_app"]

ops_app = typer.Typer(no_args_is_help=True, help="Pause and unpause contract families (operator).")
roles_app = typer.Typer(no_args_is_help=True, help="Grant and revoke API roles without a restart (admin).")
FamilyArg = Annotated[Literal["marketplace", "escrow", "bridge"], typer.Argument(help="The contract family.")]
AnyChainOpt = Annotated[str, typer.Option("--chain", "-c", help="home, remote or all")]
RoleName = Literal["admin", "operator", "treasury", "risk", "kyc_officer"]


def _change(action: str, family: str, chain: str, api: str, wallet_name: str) -> None:
    body = {"chain_id": None if chain == "all" else chain_id_of(chain)}
    with logged_in(api, wallet_name) as me:
        out = me.client.post(f"/ops/{family}/{action}", body)
    for c in out["contracts"]:
        done = f"tx {c['tx_hash']}" if c["changed"] else f"already {action}d"
        say(f"{c['contract']} on chain {c['chain_id']} ({c['address']}): {done}")
    typer.echo(f"{family} {'paused' if out['paused'] else 'unpaused'}")


@ops_app.command("pause")
def ops_pause(family: FamilyArg, chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
              wallet_name: WalletOpt = "default") -> None:
    """Pause a family (the platform key sends it; the API logs who asked)."""
    _change("pause", family, chain, api, wallet_name)


@ops_app.command("unpause")
def ops_unpause(family: FamilyArg, chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                wallet_name: WalletOpt = "default") -> None:
    """Unpause a family."""
    _change("unpause", family, chain, api, wallet_name)


def _collection(action: str, collection: str, chain: str, api: str, wallet_name: str) -> None:
    chain_id = chain_id_of(chain)
    with logged_in(api, wallet_name, chain) as me:
        out = me.client.post(f"/ops/collections/{chain_id}/{collection}/{action}-tx", {})
        me.send(out["transaction"], f"collection {action}d")


@ops_app.command("pause-collection")
def ops_pause_collection(collection: Annotated[str, typer.Argument(help="Your collection's address.")],
                         chain: ChainOpt = "home",
                         api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Pause your own collection (minting, transfers, rentals); your wallet signs."""
    _collection("pause", collection, chain, api, wallet_name)


@ops_app.command("unpause-collection")
def ops_unpause_collection(collection: Annotated[str, typer.Argument(help="Your collection's address.")],
                           chain: ChainOpt = "home",
                           api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Unpause your own collection; your wallet signs."""
    _collection("unpause", collection, chain, api, wallet_name)


@ops_app.command("status")
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


@roles_app.command("grant")
def roles_grant(subject: Annotated[str, typer.Argument(help="A DID or a wallet address.")],
                role: Annotated[RoleName, typer.Argument(help="The role.")],
                api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Grant a role; in force at the holder's next request."""
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/admin/roles", {"subject": subject, "role": role})
    typer.echo(str(out["id"]))
    say(f"granted {out['role']} to {out['subject']} (by {out['granted_by']} at {out['granted_at']})")


@roles_app.command("revoke")
def roles_revoke(subject: Annotated[str, typer.Argument(help="A DID or a wallet address.")],
                 role: Annotated[RoleName, typer.Argument(help="The role.")],
                 api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Revoke a role granted with 'roles grant'; gone at the holder's next request."""
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/admin/roles/revoke", {"subject": subject, "role": role})
    typer.echo(str(out["id"]))
    say(f"revoked {out['role']} from {out['subject']} (by {out['revoked_by']} at {out['revoked_at']})")


@roles_app.command("list")
def roles_list(history: Annotated[bool, typer.Option(help="Include revoked grants.")] = False,
               api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default",
               as_json: JsonOpt = False) -> None:
    """The grants made here (who granted what to whom, when)."""
    with logged_in(api, wallet_name) as me:
        out = me.client.get("/admin/roles", history=str(history).lower()) if history \
            else me.client.get("/admin/roles")
    if as_json:
        dump_json(out)
        return
    for g in out:
        ended = f", revoked by {g['revoked_by']} at {g['revoked_at']}" if g.get("revoked_at") else ""
        typer.echo(f"{g['role']:<12} {g['subject']}  granted by {g['granted_by']} at "
                   f"{g['granted_at']}{ended}")
    if not out:
        say("no grants made here (roles from CHAINRIGHT_API_ROLE_GRANTS are not listed)")
