"""``chainright fees``: the platform fee the marketplace holds, and its withdrawal by the treasury."""

from __future__ import annotations

import typer

from chainright.console import (
    ApiOpt,
    ChainOpt,
    JsonOpt,
    WalletOpt,
    amount,
    chain_id_of,
    dump_json,
    logged_in,
    say,
)

app = typer.Typer(no_args_is_help=True, help="The marketplace platform fee (treasury).")


@app.command("show")
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


@app.command("withdraw")
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
