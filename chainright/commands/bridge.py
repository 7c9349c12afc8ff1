"""``chainright bridge send|status|list``: send a token to the other chain and follow it.

Lock on home, burn on remote (the wallet signs the API's transactions), then follow the transfer
until it lands."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import typer

from chain.errors import ChainError
from chainright.console import (
    ApiOpt,
    JsonOpt,
    WalletOpt,
    anonymous,
    chain_id_of,
    dump_json,
    logged_in,
    say,
)

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Send a token to the other chain and follow it.")
FINAL = ("delivered", "failed")


def transfer_id_of(receipt: Any, bridge: str) -> int:
    """The transfer id of a departure: the first indexed topic of the bridge's event in the receipt."""
    for entry in receipt["logs"]:
        if str(entry["address"]).lower() == bridge.lower() and len(entry["topics"]) >= 2:
            return int.from_bytes(bytes(entry["topics"][1]), "big")
    raise ChainError("the bridge emitted no departure in this transaction")


@app.command("send")
def bridge_send(
    collection: Annotated[str, typer.Option(help="The token's home collection.")],
    token_id: Annotated[int, typer.Option("--token-id", help="The token id in its home collection.",
                                          min=0)],
    to: Annotated[Literal["remote", "home"], typer.Option("--to", help="Where the token goes.")] = "remote",
    recipient: Annotated[str | None, typer.Option(help="Who receives it there (default: you).")] = None,
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
) -> None:
    """Lock (home -> remote) or burn (remote -> home) a token; prints the transfer id."""
    source = "home" if to == "remote" else "remote"
    body: dict[str, Any] = {"chain_id": chain_id_of(source), "collection": collection, "token_id": token_id}
    if recipient:
        body["recipient"] = recipient
    with logged_in(api, wallet_name, source) as me:
        out = me.client.post("/bridge/send-tx", body)
        if out["approval_needed"]:
            say("approving the lockbox for this token")
            from chain.connection import connect

            spec = next(s for s in _specs() if s.chain_id == body["chain_id"])
            me.wallet.send(connect(spec), out["transactions"][0])
            out = me.client.post("/bridge/send-tx", body)
        from chain.connection import connect

        spec = next(s for s in _specs() if s.chain_id == body["chain_id"])
        receipt = me.wallet.send(connect(spec), out["transactions"][-1])
    transfer = transfer_id_of(receipt, out["bridge"])
    typer.echo(str(transfer))
    say(f"{'locked' if out['direction'] == 'lock' else 'burned'} on chain {out['source_chain_id']} in block "
        f"{receipt['blockNumber']} (tx 0x{bytes(receipt['transactionHash']).hex()}); transfer {transfer} to "
        f"chain {out['dest_chain_id']}: follow it with 'chainright bridge status {transfer}'")


def _specs() -> list[Any]:
    from chainright.console import chain_settings

    return list(chain_settings().specs("all"))


def _line(t: dict[str, Any]) -> str:
    return f"{t['status']}: {t['reason']}"


@app.command("status")
def bridge_status(
    transfer_id: Annotated[str, typer.Argument(help="The transfer id (decimal or 0x hex).")],
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until it lands (or fails).")] = True,
    timeout: Annotated[float, typer.Option(help="Give up waiting after this many seconds.", min=1)] = 600.0,
    api: ApiOpt = "http://127.0.0.1:8000",
    as_json: JsonOpt = False,
) -> None:
    """Where a transfer is (pending, attested, delivered, failed, stuck); waits with progress lines."""
    deadline = time.monotonic() + timeout
    last = ""
    with anonymous(api) as client:
        while True:
            t = client.get(f"/bridge/transfers/{transfer_id}")
            if _line(t) != last and not as_json:
                last = _line(t)
                say(last)
            if not wait or t["status"] in FINAL or time.monotonic() > deadline:
                break
            time.sleep(1.0)
    if as_json:
        dump_json(t)
    else:
        typer.echo(t["status"])
    if t["status"] == "failed":
        raise ChainError(f"transfer {transfer_id} failed: {t['reason']}")
    if wait and t["status"] != "delivered":
        raise ChainError(f"transfer {transfer_id} is still {t['status']} after {timeout:g}s: {t['reason']}")


@app.command("list")
def bridge_list(
    address: Annotated[str | None, typer.Argument(help="The wallet (default: your wallet's).")] = None,
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """A wallet's bridge transfers, newest first."""
    if address is None:
        with logged_in(api, wallet_name, login=False) as me:
            address = me.address
    with anonymous(api) as client:
        out = client.get("/bridge/transfers", wallet=address)
    if as_json:
        dump_json(out)
        return
    for t in out:
        typer.echo(f"{t['transfer_id']}  {t['source_chain_id']}->{t['dest_chain_id']}  token {t['token_id']} "
                   f"of {t['collection']}  {t['status']} ({t['observed_at']})")
    if not out:
        say(f"no bridge transfers of {address}")
