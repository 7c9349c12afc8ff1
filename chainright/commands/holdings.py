"""``chainright holdings``: what a wallet holds on every chain the platform serves (from the index)."""

from __future__ import annotations

from typing import Annotated

import typer

from chainright.console import ApiOpt, JsonOpt, WalletOpt, anonymous, dump_json, logged_in, say

__all__ = ["app"]

app = typer.Typer()


@app.command("holdings")
def holdings_cmd(
    address: Annotated[str | None, typer.Argument(help="The wallet (default: your wallet's).")] = None,
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """The tokens a wallet holds on home and remote (index, confirmed with ownerOf)."""
    from chain.formatting import format_time

    if address is None:
        with logged_in(api, wallet_name, login=False) as me:
            address = me.address
    with anonymous(api) as client:
        out = client.get(f"/wallets/{address}/holdings")
    for h in out:
        h["acquired_at_iso"] = format_time(h["acquired_at"]) if h.get("acquired_at") is not None else None
    if as_json:
        dump_json(out)
        return
    for h in out:
        mark = "" if h["confirmed"] else "  (chain did not answer: as indexed)"
        typer.echo(f"chain {h['chain_id']}  {h['collection']}  token {h['token_id']}  since "
                   f"{h['acquired_at_iso'] or 'block ' + str(h['acquired_block'])}{mark}")
    if not out:
        say(f"{address} holds no indexed tokens")
