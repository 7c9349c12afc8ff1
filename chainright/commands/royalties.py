"""``chainright royalties show|distribute|withdraw|create-split`` and ``chainright fees show|withdraw``.

A royalty splitter's balances and payouts, and the marketplace platform fee for the treasury, over
the API."""

from __future__ import annotations

from typing import Annotated

import typer

from chainright.console import (
    ApiOpt,
    ChainOpt,
    JsonOpt,
    WalletOpt,
    amount,
    anonymous,
    chain_id_of,
    dump_json,
    logged_in,
    say,
)

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="A royalty splitter: balances, distribute, withdraw.")
SplitterArg = Annotated[str, typer.Argument(help="The royalty splitter's address.")]
TokenOpt = Annotated[str, typer.Option("--token", help="0x00..00 for ETH (default), else an ERC-20.")]
ETH = "0x" + "00" * 20


@app.command("show")
def royalties_show(splitter: SplitterArg, token: TokenOpt = ETH, chain: ChainOpt = "home",
                   api: ApiOpt = "http://127.0.0.1:8000", as_json: JsonOpt = False) -> None:
    """Each recipient's share and what it can withdraw now."""
    chain_id = chain_id_of(chain)
    with anonymous(api) as client:
        out = client.get(f"/royalties/{chain_id}/{splitter}", token=token)
    if as_json:
        dump_json(out)
        return
    typer.echo(f"splitter {out['splitter']} on chain {out['chain_id']}: "
               f"{amount(out['undistributed'])} not distributed yet")
    for r in out["recipients"]:
        typer.echo(f"  {r['account']}  {r['bps'] / 100:g}%  withdrawable {amount(r['withdrawable'])}")


@app.command("distribute")
def royalties_distribute(splitter: SplitterArg, token: TokenOpt = ETH, chain: ChainOpt = "home",
                         api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Credit every recipient its share of what the splitter received (anyone may)."""
    chain_id = chain_id_of(chain)
    with logged_in(api, wallet_name, chain) as me:
        tx = me.client.post(f"/royalties/{chain_id}/{splitter}/distribute-tx", {"token": token})
        me.send(tx, "distributed")


@app.command("withdraw")
def royalties_withdraw(
    splitter: SplitterArg, token: TokenOpt = ETH,
    to: Annotated[str | None, typer.Option("--to", help="Where your share goes; default: your wallet.")
                  ] = None,
    for_recipient: Annotated[str | None, typer.Option(
        "--for", help="Pay this recipient its share, to its own address (anyone may).")] = None,
    chain: ChainOpt = "home", api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default",
) -> None:
    """Withdraw your share (you must be a recipient of the split), to your wallet or --to an address;
    or, with --for, pay another recipient its share to its own address."""
    if to is not None and for_recipient is not None:
        raise typer.BadParameter("--for pays the recipient's own address: it takes no --to",
                                 param_hint="'--to'")
    chain_id = chain_id_of(chain)
    with logged_in(api, wallet_name, chain) as me:
        payee = for_recipient or me.address
        before = me.client.get(f"/royalties/{chain_id}/{splitter}", token=token)
        row = next((r for r in before["recipients"] if r["account"].lower() == payee.lower()), None)
        if for_recipient is not None:
            tx = me.client.post(f"/royalties/{chain_id}/{splitter}/withdraw-for-tx",
                                {"token": token, "recipient": for_recipient})
        else:
            tx = me.client.post(f"/royalties/{chain_id}/{splitter}/withdraw-tx", {"token": token, "to": to})
        me.send(tx, "withdrawn")
    if row is not None:
        say(f"paid {amount(row['withdrawable'])} of {row['account']}'s share to {to or row['account']}")


@app.command("create-split")
def royalties_create_split(
    recipient: Annotated[list[str], typer.Option(
        "--recipient", help="ADDRESS:BPS, repeat per recipient; the shares add up to 10000 (100%).")],
    salt: Annotated[str | None, typer.Option(help="32 bytes hex: another splitter, same split.")] = None,
    chain: ChainOpt = "home", api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default",
) -> None:
    """Create a royalty splitter with any recipients and shares; prints its address (use it as a
    collection's royalty receiver)."""
    shares = []
    for item in recipient:
        account, sep, bps = item.rpartition(":")
        if not sep or not bps.isdigit():
            raise typer.BadParameter(f"{item!r}: give ADDRESS:BPS, e.g. 0xabc...:2500",
                                     param_hint="'--recipient'")
        shares.append({"account": account, "bps": int(bps)})
    chain_id = chain_id_of(chain)
    with logged_in(api, wallet_name, chain) as me:
        out = me.client.post("/splits/custom-tx", {"chain_id": chain_id, "recipients": shares, "salt": salt})
        if out["already_exists"]:
            say(f"this split already exists at {out['splitter']}; nothing sent")
        else:
            me.send(out["transaction"], "split created")
    typer.echo(out["splitter"])
