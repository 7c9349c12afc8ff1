"""``chainright roles``: grant and revoke API roles without a restart (admin), audited by the API."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from chainright.console import (
    ApiOpt,
    JsonOpt,
    WalletOpt,
    dump_json,
    logged_in,
    say,
)

app = typer.Typer(no_args_is_help=True, help="Grant and revoke API roles without a restart (admin).")
RoleName = Literal["admin", "operator", "treasury", "risk", "kyc_officer"]


@app.command("grant")
def roles_grant(subject: Annotated[str, typer.Argument(help="A DID or a wallet address.")],
                role: Annotated[RoleName, typer.Argument(help="The role.")],
                api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Grant a role; in force at the holder's next request."""
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/admin/roles", {"subject": subject, "role": role})
    typer.echo(str(out["id"]))
    say(f"granted {out['role']} to {out['subject']} (by {out['granted_by']} at {out['granted_at']})")


@app.command("revoke")
def roles_revoke(subject: Annotated[str, typer.Argument(help="A DID or a wallet address.")],
                 role: Annotated[RoleName, typer.Argument(help="The role.")],
                 api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Revoke a role granted with 'roles grant'; gone at the holder's next request."""
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/admin/roles/revoke", {"subject": subject, "role": role})
    typer.echo(str(out["id"]))
    say(f"revoked {out['role']} from {out['subject']} (by {out['revoked_by']} at {out['revoked_at']})")


@app.command("list")
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
