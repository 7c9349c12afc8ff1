"""``chainright royalties show|distribute|withdraw`` and ``chainright fees show|withdraw``.

A royalty splitter's balances and payouts, and the marketplace platform fee for the treasury, over
the API."""

from __future__ import annotations

from typing import Annotated

import typer

from chainright.commands.ops_io import (
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

__all__ = ["fees_app", "royalties_app"]

royalties_app = typer.Typer(no_args_is_help=True, help="A royalty splitter: balances, distribute, withdraw.")
fees_app = typer.Typer(no_args_is_help=True, help="The marketplace platform fee (treasury).")
SplitterArg = Annotated[str, typer.Argument(help="The royalty splitter's address.")]
TokenOpt = Annotated[str, typer.Option("--token", help="0x00..00 for ETH (default), else an ERC-20.")]
ETH = "0x" + "00" * 20


@royalties_app.command("show")
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


@royalties_app.command("distribute")
def royalties_distribute(splitter: SplitterArg, token: TokenOpt = ETH, chain: ChainOpt = "home",
                         api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Credit every recipient its share of what the splitter received (anyone may)."""
    chain_id = chain_id_of(chain)
    with logged_in(api, wallet_name, chain) as me:
        tx = me.client.post(f"/royalties/{chain_id}/{splitter}/distribute-tx", {"token": token})
        me.send(tx, "distributed")


@royalties_app.command("withdraw")
def royalties_withdraw(splitter: SplitterArg, token: TokenOpt = ETH, chain: ChainOpt = "home",
                       api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Withdraw your share (you must be a recipient of the split)."""
    chain_id = chain_id_of(chain)
    with logged_in(api, wallet_name, chain) as me:
        before = me.client.get(f"/royalties/{chain_id}/{splitter}", token=token)
        mine = next((r for r in before["recipients"] if r["account"] == me.address), None)
        tx = me.client.post(f"/royalties/{chain_id}/{splitter}/withdraw-tx", {"token": token})
        me.send(tx, "withdrawn")
    if mine is not None:
        say(f"paid {amount(mine['withdrawable'])} to {me.address}")


@fees_app.command("show")
def fees_show(api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default",
              as_json: JsonOpt = False) -> None:
    """The platform fee on each chain: treasury, rate, what it can withdraw (treasury or operator)."""
    with logged_in(api, wallet_name) as me:
        out = me.client.get("/fees")
    if as_json:
        dump_json(out)
        return
    for f in out:
        typer.echo(f"chain {f['chain_id']}: fee {f['platform_fee_bps'] / 100:g}%, treasury {f['treasury']}, "
                   f"withdrawable {amount(f['accrued'])}")


@fees_app.command("withdraw")
def fees_withdraw(chain: ChainOpt = "home", api: ApiOpt = "http://127.0.0.1:8000",
                  wallet_name: WalletOpt = "default") -> None:
    """Pay the accrued platform fee to the treasury (treasury role; the treasury's wallet signs)."""
    chain_id = chain_id_of(chain)
    with logged_in(api, wallet_name, chain) as me:
        state = next((f for f in me.client.get("/fees") if f["chain_id"] == chain_id), None)
        tx = me.client.post("/fees/withdraw-tx", {"chain_id": chain_id})
        me.send(tx, "fee withdrawn")
    if state is not None:
        say(f"paid {amount(state['accrued'])} to the treasury {state['treasury']}")
