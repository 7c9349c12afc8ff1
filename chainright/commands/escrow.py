"""``chainright escrow``: milestone escrow for commissioned work through the API: create and fund,
accept the terms, deliver, accept, dispute, arbitrate, and the time-outs; each party's wallet signs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chainright.console import (
    ApiOpt,
    ChainOpt,
    JsonOpt,
    WalletOpt,
    dump_json,
    logged_in,
    parse_eth_option,
    parse_when,
    say,
)

__all__ = ["app"]

app = typer.Typer(
    no_args_is_help=True,
    help="Milestone escrow: the buyer funds, the seller delivers, an arbitrator settles disputes.",
)
API = "http://127.0.0.1:8000"
EscrowArg = Annotated[int, typer.Argument(help="The escrow's id.")]
IndexArg = Annotated[int, typer.Argument(help="The milestone's index (from 0).")]


@app.command("create")
def create(
    seller: Annotated[str, typer.Option(help="Who delivers the work (address).")],
    arbitrator: Annotated[str, typer.Option(help="Who decides disputes (address).")],
    milestone: Annotated[
        list[str],
        typer.Option(help="AMOUNT@DEADLINE, e.g. 0.5@2026-12-31T18:00:00Z or 0.5@+7d; repeat per milestone."),
    ],
    review_days: Annotated[float, typer.Option(help="Days the buyer has to review each delivery.")] = 3.0,
    arbitration_days: Annotated[float, typer.Option(help="Days the arbitrator has after a dispute.")] = 7.0,
    default_seller_share: Annotated[
        int, typer.Option(help="The seller's share (bps) of a dispute the arbitrator leaves unanswered.")
    ] = 5000,
    currency: Annotated[
        str, typer.Option(help="ETH, WETH (wrapped ETH) or an ERC-20's address; amounts in its units.")
    ] = "ETH",
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Create an escrow and fund every milestone now (you are the buyer; an ERC-20 is approved
    first); prints its id."""
    milestones = []
    for item in milestone:
        price, sep, deadline = item.partition("@")
        if not sep:
            raise typer.BadParameter(f"{item!r}: give AMOUNT@DEADLINE", param_hint="'--milestone'")
        milestones.append(
            {"amount_wei": parse_eth_option(price, "--milestone"),
             "deadline": parse_when(deadline, "--milestone")}
        )
    body = {
        "seller": seller,
        "arbitrator": arbitrator,
        "milestones": milestones,
        "review_period_s": int(review_days * 86_400),
        "arbitration_period_s": int(arbitration_days * 86_400),
        "default_seller_bps": default_seller_share,
        "currency": currency,
    }
    with logged_in(api, wallet_name, chain) as s:
        out = s.client.escrow_create_tx(body)
        if out.get("approval"):
            s.send(out["approval"], f"approved the escrow to take {out['total']['wei']} of {out['currency']}")
            out = s.client.escrow_create_tx(body)
        s.send(out["transaction"], f"escrow {out['escrow_id']} funded with {out['total']['text']}")
    say(
        f"escrow {out['escrow_id']}: the seller accepts its terms with 'chainright escrow accept-terms "
        f"{out['escrow_id']}'"
    )


def _print(e: dict[str, Any]) -> None:
    typer.echo(
        f"escrow {e['escrow_id']}: buyer {e['buyer']}, seller {e['seller']}, arbitrator {e['arbitrator']}; "
        f"holds {e['open_amount']['text']}; terms {'accepted' if e['seller_accepted'] else 'NOT accepted'}"
    )
    for m in e["milestones"]:
        extra = f", review until {m['review_ends']}" if m["review_ends"] else ""
        extra += f", arbitration until {m['arbitration_ends']}" if m["arbitration_ends"] else ""
        typer.echo(f"  #{m['index']}\t{m['amount']['text']}\t{m['state']}\tdue {m['deadline']}{extra}")
    for step in e["next_steps"]:
        typer.echo(f"  next: {step}")


@app.command("show")
def show(
    escrow_id: EscrowArg,
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """An escrow's parties, terms, milestones and what each party can do next."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        e = s.client.escrow(escrow_id)
    dump_json(e) if as_json else _print(e)


@app.command("list")
def list_(
    as_json: JsonOpt = False, chain: ChainOpt = "home", api: ApiOpt = API, wallet_name: WalletOpt = "default"
) -> None:
    """The escrows your wallet is a party of, newest first."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        escrows = s.client.escrows(s.address)
    if as_json:
        dump_json(escrows)
        return
    for e in escrows:
        _print(e)
    if not escrows:
        say("you are a party of no escrow")


def _step(
    escrow_id: int,
    action: str,
    index: int | None,
    done: str,
    chain: str,
    api: str,
    wallet_name: str,
    body: dict[str, Any] | None = None,
) -> None:
    with logged_in(api, wallet_name, chain) as s:
        s.send(s.client.escrow_tx(escrow_id, action, index, body), done)


@app.command("accept-terms")
def accept_terms(
    escrow_id: EscrowArg, chain: ChainOpt = "home", api: ApiOpt = API, wallet_name: WalletOpt = "default"
) -> None:
    """Seller: accept the escrow's terms (deliveries count from then)."""
    _step(
        escrow_id, "accept-terms", None, f"accepted the terms of escrow {escrow_id}", chain, api, wallet_name
    )


@app.command("deliver")
def deliver(
    escrow_id: EscrowArg,
    index: IndexArg,
    cid: Annotated[str, typer.Option(help="The delivered work's CID (upload it first).")],
    content_hash: Annotated[
        str | None, typer.Option(help="Default: the hash of your upload of --cid.")
    ] = None,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Seller: deliver a milestone (the work's CID and content hash go on chain)."""
    _step(
        escrow_id,
        "deliver",
        index,
        f"delivered milestone {index}",
        chain,
        api,
        wallet_name,
        {"cid": cid, "content_hash": content_hash},
    )


@app.command("accept")
def accept(
    escrow_id: EscrowArg,
    index: IndexArg,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Buyer: accept a delivered milestone; it is paid to the seller."""
    _step(escrow_id, "accept", index, f"accepted milestone {index}", chain, api, wallet_name)


@app.command("dispute")
def dispute(
    escrow_id: EscrowArg,
    index: IndexArg,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Buyer: dispute a delivered milestone within its review period."""
    _step(escrow_id, "dispute", index, f"disputed milestone {index}", chain, api, wallet_name)


@app.command("arbitrate")
def arbitrate(
    escrow_id: EscrowArg,
    index: IndexArg,
    seller_share: Annotated[
        int, typer.Option(help="The seller's share in bps (6000 = 60%); the rest is refunded.")
    ],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Arbitrator: split a disputed milestone between seller and buyer."""
    _step(
        escrow_id,
        "arbitrate",
        index,
        f"decided milestone {index}: {seller_share / 100:g}% to the seller",
        chain,
        api,
        wallet_name,
        {"seller_bps": seller_share},
    )


@app.command("settle-lapsed")
def settle_lapsed(
    escrow_id: EscrowArg,
    index: IndexArg,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Anyone: settle a dispute the arbitrator left unanswered, with the default split."""
    _step(
        escrow_id,
        "settle-lapsed",
        index,
        f"settled the lapsed dispute over milestone {index}",
        chain,
        api,
        wallet_name,
    )


@app.command("reclaim")
def reclaim(
    escrow_id: EscrowArg,
    index: IndexArg,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Buyer: take back a milestone not delivered by its deadline (or before the seller accepted)."""
    _step(escrow_id, "reclaim", index, f"reclaimed milestone {index}", chain, api, wallet_name)


@app.command("claim")
def claim(
    escrow_id: EscrowArg,
    index: IndexArg,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Seller: claim a delivered milestone the buyer neither accepted nor disputed in time."""
    _step(escrow_id, "claim", index, f"claimed milestone {index}", chain, api, wallet_name)


CurrencyOpt = Annotated[str, typer.Option(help="ETH, WETH (wrapped ETH) or an ERC-20's address.")]


@app.command("credit")
def credit(
    currency: CurrencyOpt = "ETH",
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """What the escrow holds for your wallet because paying you failed (withdraw it with 'withdraw')."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        out = s.client.get(f"/escrows/credit/{s.spec.chain_id}/{s.address}", currency=currency)
    if as_json:
        dump_json(out)
        return
    typer.echo(f"{out['currency']}\t{out['credit']['text']}")


@app.command("withdraw")
def withdraw(
    currency: CurrencyOpt = "ETH",
    to: Annotated[str | None, typer.Option("--to", help="Where it goes; default: your wallet.")] = None,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Withdraw what the escrow credited to your wallet (payouts that failed)."""
    with logged_in(api, wallet_name, chain) as s:
        owed = s.client.get(f"/escrows/credit/{s.spec.chain_id}/{s.address}", currency=currency)["credit"]
        body = {"chain_id": s.spec.chain_id, "currency": currency, "to": to}
        tx = s.client.post("/escrows/withdraw-tx", body)
        s.send(tx, f"withdrew {owed['text']}")
