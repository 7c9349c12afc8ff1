"""``chainright collection set``: a creator's own collection's settings, over the API.

Royalty, URI prefix, metadata freeze, minters and owner: the API returns one simulated transaction
per setting given (the collection's owner only) and the wallet signs and sends each in turn."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chainright.console import ApiOpt, ChainOpt, WalletOpt, chain_id_of, logged_in, say

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Your own collection's settings (its owner only).")


@app.command("set")
def collection_set(
    collection: Annotated[str, typer.Option("--collection", help="The collection's address.")],
    royalty_bps: Annotated[int | None, typer.Option("--royalty-bps", help="Default royalty, 0..10000 "
                                                    "(with --royalty-receiver).")] = None,
    royalty_receiver: Annotated[str | None, typer.Option("--royalty-receiver")] = None,
    uri_prefix: Annotated[str | None, typer.Option("--uri-prefix", help="ERC-721: the tokens' URI prefix.")
                          ] = None,
    freeze_metadata: Annotated[bool, typer.Option("--freeze-metadata", help="ERC-721: freeze the metadata "
                                                  "for good (the prefix never changes again).")] = False,
    minter: Annotated[str | None, typer.Option("--minter", help="An account to allow or deny minting.")
                      ] = None,
    allow: Annotated[bool, typer.Option("--allow/--deny", help="With --minter.")] = True,
    transfer_owner: Annotated[str | None, typer.Option("--transfer-owner", help="The new owner: at once, "
                                                       "no acceptance step.")] = None,
    chain: ChainOpt = "home", api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default",
) -> None:
    """Change your collection's settings: one transaction per setting given, each sent from your wallet."""
    if (royalty_bps is None) != (royalty_receiver is None):
        raise typer.BadParameter("give --royalty-bps and --royalty-receiver together",
                                 param_hint="'--royalty-bps'")
    body: dict[str, Any] = {"freeze_metadata": freeze_metadata}
    if royalty_bps is not None:
        body |= {"royalty_bps": royalty_bps, "royalty_receiver": royalty_receiver}
    if uri_prefix is not None:
        body["uri_prefix"] = uri_prefix
    if minter is not None:
        body |= {"minter": minter, "minter_allowed": allow}
    if transfer_owner is not None:
        body["new_owner"] = transfer_owner
    chain_id = chain_id_of(chain)
    with logged_in(api, wallet_name, chain) as me:
        out = me.client.post(f"/collections/{chain_id}/{collection}/admin-tx", body)
        for item in out["transactions"]:
            me.send(item["transaction"], item["summary"])
    say(f"{len(out['transactions'])} setting(s) changed on {out['collection']}")
