"""``chainright trade``: English auctions, offers in wrapped ETH, licenses, rentals and gifts through
the API; the wallet signs every transaction the API builds (and simulated) here."""

from __future__ import annotations

from pathlib import Path
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
    no_args_is_help=True, help="Trade: English auctions, offers in wrapped ETH, licenses, rentals and gifts."
)
auction_app = typer.Typer(no_args_is_help=True, help="English auctions in ETH.")
offer_app = typer.Typer(no_args_is_help=True, help="Offers in wrapped ETH (WETH) on a token.")
weth_app = typer.Typer(no_args_is_help=True, help="Wrapped ETH, the offers' currency.")
license_app = typer.Typer(
    no_args_is_help=True, help="Buy licenses to works; list, transfer or revoke grants; withdraw fees."
)
app.add_typer(auction_app, name="auction")
app.add_typer(offer_app, name="offer")
app.add_typer(weth_app, name="weth")
app.add_typer(license_app, name="license")

API = "http://127.0.0.1:8000"
CollectionOpt = Annotated[str, typer.Option("--collection", help="The token's collection (address).")]
TokenOpt = Annotated[int, typer.Option("--token-id", help="The token's id.")]


# ---------------------------------------------------------------------------------------------- auctions


@auction_app.command("create")
def auction_create(
    collection: CollectionOpt,
    token_id: TokenOpt,
    reserve: Annotated[str, typer.Option(help="The lowest first bid, in ETH (e.g. 0.1).")],
    ends: Annotated[str, typer.Option(help="When it ends: ISO 8601 or +30m, +2h, +3d.")],
    min_increment_bps: Annotated[
        int, typer.Option(help="Each bid beats the last by this share (bps).")
    ] = 500,
    extension: Annotated[int, typer.Option(help="A bid in the last N seconds extends the end by N.")] = 300,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Put your token up for auction: approves the marketplace if needed, escrows the lot, prints the id."""
    body = {
        "token": collection,
        "token_id": token_id,
        "reserve_wei": parse_eth_option(reserve, "--reserve"),
        "end": parse_when(ends, "--ends"),
        "min_increment_bps": min_increment_bps,
        "extension_s": extension,
    }
    with logged_in(api, wallet_name, chain) as s:
        out = s.client.auction_create_tx(body)
        if out["approval"]:
            s.send(out["approval"], "approved the marketplace for this collection")
            out = s.client.auction_create_tx(body)
        s.send(out["transaction"], f"auction {out['auction_id']} created")
        shown = s.client.auction(out["auction_id"])
    say(
        f"auction {shown['auction_id']}: token {token_id}, reserve {shown['reserve']['text']}, "
        f"ends {shown['end']}"
    )


def _print_auction(a: dict[str, Any]) -> None:
    bid = f"high bid {a['high_bid']['text']} by {a['high_bidder']}" if a["high_bidder"] else "no bid yet"
    minimum = (
        f"; minimum bid {a['minimum_bid']['text']}" if a.get("minimum_bid") and a["status"] == "open" else ""
    )
    typer.echo(
        f"{a['auction_id']}\t{a['status']}{' (live)' if a['live'] else ''}\t{a['token']} #{a['token_id']}\t"
        f"ends {a['end']}\t{bid}{minimum}"
    )


@auction_app.command("list")
def auction_list(
    status: Annotated[str, typer.Option(help="live, open, settled, cancelled or all.")] = "live",
    collection: Annotated[str | None, typer.Option(help="Only this collection.")] = None,
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """The auctions taking bids now (or by --status), newest first."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        auctions = s.client.auctions(status, collection)
    if as_json:
        dump_json(auctions)
        return
    for a in auctions:
        _print_auction(a)
    if not auctions:
        say(f"no {status} auctions")


@auction_app.command("show")
def auction_show(
    auction_id: Annotated[int, typer.Argument(help="The auction's id.")],
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """One auction: lot, window, reserve, high bid and the minimum bid now."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        a = s.client.auction(auction_id)
    dump_json(a) if as_json else _print_auction(a)


@auction_app.command("bid")
def auction_bid(
    auction_id: Annotated[int, typer.Argument(help="The auction's id.")],
    amount: Annotated[str, typer.Option(help="Your bid in ETH (e.g. 0.25).")],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Bid on an auction (refused below its minimum bid, with the minimum)."""
    wei = parse_eth_option(amount, "--amount")
    with logged_in(api, wallet_name, chain) as s:
        s.send(s.client.auction_tx(auction_id, "bid", {"amount_wei": wei}), f"bid on auction {auction_id}")
        a = s.client.auction(auction_id)
    say(f"you are the high bidder with {a['high_bid']['text']}; it ends {a['end']}")


def _auction_action(action: str, auction_id: int, done: str, chain: str, api: str, wallet_name: str) -> None:
    with logged_in(api, wallet_name, chain) as s:
        s.send(s.client.auction_tx(auction_id, action), done)


@auction_app.command("settle")
def auction_settle(
    auction_id: Annotated[int, typer.Argument(help="The auction's id.")],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Settle an ended auction (anyone): the lot to the winner, the price to the seller."""
    _auction_action("settle", auction_id, f"auction {auction_id} settled", chain, api, wallet_name)


@auction_app.command("cancel")
def auction_cancel(
    auction_id: Annotated[int, typer.Argument(help="The auction's id.")],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Cancel your auction while it has no bid; the lot comes back."""
    _auction_action("cancel", auction_id, f"auction {auction_id} cancelled", chain, api, wallet_name)


@auction_app.command("withdraw")
def auction_withdraw(
    to: Annotated[str | None, typer.Option("--to", help="Where it goes; default: your wallet.")] = None,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Withdraw every ETH credit the marketplace holds for you: outbid refunds, and sale payouts or
    royalties it could not push to you (the same credit; ERC-20 credits: 'trade withdraw-erc20')."""
    with logged_in(api, wallet_name, chain) as s:
        owed = s.client.get(f"/auctions/{s.spec.chain_id}/credit/{s.address}")
        tx = s.client.post("/auctions/withdraw-tx", {"chain_id": s.spec.chain_id, "to": to})
        s.send(tx, f"withdrew {owed['text']}")


# ---------------------------------------------------------------------------------------------- offers


def _signed_offer(s: Any, prepared: dict[str, Any]) -> str:
    from chain.orders import MarketDomain, Order, OrderSide, TokenStandard, sign_order

    f = prepared["offer"]
    order = Order(
        OrderSide.OFFER,
        f["signer"],
        f["token"],
        int(f["token_id"]),
        TokenStandard.ERC721 if f["standard"] == "erc721" else TokenStandard.ERC1155,
        int(f["quantity"]),
        int(f["unit_price"]),
        f["currency"],
        f["start"],
        f["expiry"],
        int(f["salt"]),
        int(f["counter"]),
    )
    domain = prepared["typed_data"]["domain"]
    signed = sign_order(
        order, MarketDomain(int(domain["chainId"]), domain["verifyingContract"]), s.wallet.account
    )
    return "0x" + signed.signature.hex()


@offer_app.command("make")
def offer_make(
    collection: CollectionOpt,
    token_id: TokenOpt,
    price: Annotated[str, typer.Option(help="What you offer, in ETH (paid in wrapped ETH).")],
    hours: Annotated[float, typer.Option(help="How long the offer stays valid.")] = 72.0,
    wrap: Annotated[bool, typer.Option("--wrap/--no-wrap", help="Wrap the ETH still missing.")] = True,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Offer to buy a token: wraps the ETH still missing (--no-wrap: refuse), approves the marketplace,
    signs the offer (EIP-712) and posts it; prints its hash."""
    body = {
        "token": collection,
        "token_id": token_id,
        "unit_price_wei": parse_eth_option(price, "--price"),
        "hours": hours,
    }
    with logged_in(api, wallet_name, chain) as s:
        prepared = s.client.offer_prepare(body)
        if prepared["deposit"]:
            if not wrap:
                raise typer.BadParameter(
                    "your wrapped ETH does not cover the offer; allow --wrap", param_hint="'--no-wrap'"
                )
            s.send(prepared["deposit"], f"wrapped {int(prepared['deposit']['value'], 16)} wei of ETH")
        if prepared["approve"]:
            s.send(prepared["approve"], "approved the marketplace to take the offer's price")
        made = s.client.make_offer(prepared["offer"], _signed_offer(s, prepared))
    typer.echo(made["order_hash"])
    say(f"offered {made['total']['text']} for token {token_id} until {made['expiry']}")


@offer_app.command("list")
def offer_list(
    collection: CollectionOpt,
    token_id: Annotated[int | None, typer.Option("--token-id", help="Only this token.")] = None,
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Open offers on a collection's tokens, newest first."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        offers = s.client.offers(token=collection, token_id=token_id)
    if as_json:
        dump_json(offers)
        return
    for o in offers:
        typer.echo(
            f"{o['order_hash']}\ttoken {o['token_id']}\t{o['total']['text']}\tby {o['buyer']}\t"
            f"until {o['expiry']}\t{'funded' if o['funded'] else 'NOT funded now'}"
        )
    if not offers:
        say("no open offers")


@offer_app.command("accept")
def offer_accept(
    order_hash: Annotated[str, typer.Argument(help="The offer's hash.")],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Accept an offer on a token you hold: approves the marketplace if needed, then sells."""
    with logged_in(api, wallet_name, chain) as s:
        out = s.client.offer_accept_tx(order_hash)
        if out["approval"]:
            s.send(out["approval"], "approved the marketplace for this collection")
            out = s.client.offer_accept_tx(order_hash)
        s.send(out["transaction"], f"sold for {out['proceeds']['text']} (before royalty and fee)")


@offer_app.command("cancel")
def offer_cancel(
    order_hash: Annotated[str, typer.Argument(help="The offer's hash.")],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Cancel your offer: off the book at once, and on chain while it could still be filled."""
    with logged_in(api, wallet_name, chain) as s:
        out = s.client.offer_cancel(order_hash)
        if out["needs_transaction"]:
            s.send(out["tx"], "cancelled on chain")
    say(out["detail"])


@weth_app.command("balance")
def weth_balance(
    as_json: JsonOpt = False, chain: ChainOpt = "home", api: ApiOpt = API, wallet_name: WalletOpt = "default"
) -> None:
    """Your wrapped ETH and how much of it the marketplace may take."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        out = s.client.weth(s.address)
    if as_json:
        dump_json(out)
        return
    typer.echo(f"{out['balance']['text']}\t(marketplace may take {out['allowance_to_marketplace']['text']})")


@weth_app.command("wrap")
def weth_wrap(
    amount: Annotated[str, typer.Argument(help="ETH to wrap, e.g. 0.5.")],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Wrap ETH into wrapped ETH."""
    wei = parse_eth_option(amount, "AMOUNT")
    with logged_in(api, wallet_name, chain) as s:
        s.send(s.client.weth_tx("deposit", wei), f"wrapped {wei} wei")


@weth_app.command("unwrap")
def weth_unwrap(
    amount: Annotated[str, typer.Argument(help="Wrapped ETH to unwrap, e.g. 0.5.")],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Unwrap wrapped ETH back into ETH."""
    wei = parse_eth_option(amount, "AMOUNT")
    with logged_in(api, wallet_name, chain) as s:
        s.send(s.client.weth_tx("withdraw", wei), f"unwrapped {wei} wei")


# ------------------------------------------------------------------------------- orders, marketplace credits


@app.command("cancel-all")
def cancel_all(
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Cancel every order (listing or offer) you signed: off the book at once, unfillable on chain."""
    with logged_in(api, wallet_name, chain) as s:
        out = s.client.post("/market/cancel-all-tx", {"chain_id": s.spec.chain_id})
        s.send(out["transaction"], f"counter {out['counter']} -> {out['new_counter']}")
    say(f"{len(out['withdrawn'])} orders withdrawn from the book; every order signed before is void")


@app.command("credits")
def credits(
    currency: Annotated[str | None, typer.Option(help="An ERC-20; default: wrapped ETH.")] = None,
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """What the marketplace holds for your wallet: ETH and ERC-20 payouts that could not be sent."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        params = {"currency": currency} if currency else {}
        out = s.client.get(f"/market/credits/{s.spec.chain_id}/{s.address}", **params)
    if as_json:
        dump_json(out)
        return
    typer.echo(f"ETH\t{out['eth']['text']}")
    typer.echo(f"{out['currency']}\t{out['erc20']['text']}")


@app.command("withdraw-erc20")
def withdraw_erc20(
    currency: Annotated[str | None, typer.Option(help="An ERC-20; default: wrapped ETH.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Where it goes; default: your wallet.")] = None,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Withdraw the ERC-20 the marketplace credited to your wallet (payouts the token refused)."""
    with logged_in(api, wallet_name, chain) as s:
        tx = s.client.post("/market/withdraw-erc20-tx", {"chain_id": s.spec.chain_id, "currency": currency,
                                                         "to": to})
        s.send(tx, "withdrawn")


# ---------------------------------------------------------------------------------------------- licenses


@license_app.command("terms")
def license_terms(
    collection: CollectionOpt,
    token_id: TokenOpt,
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """The license terms a work offers, in words, with the fee."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        terms = s.client.licenses_offered(collection, token_id)
    if as_json:
        dump_json(terms)
        return
    for t in terms:
        typer.echo(f"{t['terms_hash']}\t{t['summary']}")
    if not terms:
        say("this work offers no license terms")


@license_app.command("buy")
def license_buy(
    collection: CollectionOpt,
    token_id: TokenOpt,
    terms: Annotated[str, typer.Option("--terms", help="The terms' hash (see 'trade license terms').")],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Buy a license to a work under terms it offers, paying the exact fee."""
    with logged_in(api, wallet_name, chain) as s:
        out = s.client.license_buy_tx(collection, token_id, terms)
        s.send(out["transaction"], f"licensed for {out['terms']['fee']['text']}: {out['terms']['summary']}")


@license_app.command("list")
def license_list(
    all_: Annotated[bool, typer.Option("--all", help="Also revoked and expired licenses.")] = False,
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """The licenses your wallet holds."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        grants = s.client.licenses(s.address, include_inactive=all_)
    if as_json:
        dump_json(grants)
        return
    for g in grants:
        typer.echo(
            f"{g['grant_id']}\t{g['collection']} #{g['token_id']}\tterms {g['terms_hash']}\t"
            f"until {g['expiry'] or 'forever'}\t{'active' if g['active'] else 'inactive'}"
        )
    if not grants:
        say("no licenses")


GrantArg = Annotated[int, typer.Argument(help="The grant's id (see 'trade license list').")]


@license_app.command("show")
def license_show(
    grant_id: GrantArg,
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """One grant: holder, work, terms, expiry and whether it is active."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        g = s.client.get(f"/licenses/grants/{s.spec.chain_id}/{grant_id}")
    if as_json:
        dump_json(g)
        return
    state = "revoked" if g["revoked"] else "active" if g["active"] else "expired"
    typer.echo(
        f"{g['grant_id']}\t{g['licensee']}\t{g['collection']} #{g['token_id']}\tterms {g['terms_hash']}\t"
        f"until {g['expiry'] or 'forever'}\t{state}"
    )


@license_app.command("revoke")
def license_revoke(
    grant_id: GrantArg,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Revoke a grant of a work you own (only grants bought under revocable terms)."""
    with logged_in(api, wallet_name, chain) as s:
        out = s.client.post(f"/licenses/grants/{s.spec.chain_id}/{grant_id}/revoke-tx", {})
        s.send(out["transaction"], f"revoked grant {grant_id} of {out['grant']['licensee']}")


@license_app.command("transfer")
def license_transfer(
    grant_id: GrantArg,
    to: Annotated[str, typer.Option("--to", help="Who receives the grant.")],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Transfer your grant to another wallet (only grants bought under transferable terms)."""
    with logged_in(api, wallet_name, chain) as s:
        out = s.client.post(f"/licenses/grants/{s.spec.chain_id}/{grant_id}/transfer-tx", {"to": to})
        s.send(out["transaction"], f"transferred grant {grant_id} to {to}")


@license_app.command("credit")
def license_credit(
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """License fees credited to your wallet because paying them out failed."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        out = s.client.get(f"/licenses/credit/{s.spec.chain_id}/{s.address}")
    if as_json:
        dump_json(out)
        return
    typer.echo(out["credit"]["text"])


@license_app.command("withdraw-credit")
def license_withdraw_credit(
    to: Annotated[str | None, typer.Option("--to", help="Where it goes; default: your wallet.")] = None,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Withdraw the license fees credited to your wallet."""
    with logged_in(api, wallet_name, chain) as s:
        owed = s.client.get(f"/licenses/credit/{s.spec.chain_id}/{s.address}")["credit"]["text"]
        tx = s.client.post("/licenses/withdraw-credit-tx", {"chain_id": s.spec.chain_id, "to": to})
        s.send(tx, f"withdrew {owed}")


def _fee_wei(text: str) -> int:
    """A license fee: 0 (a free license) or a positive amount, as every ETH amount typed."""
    if text.strip().lower().removesuffix("wei").strip() in ("0", "0.0"):
        return 0
    return parse_eth_option(text, "--fee")


@license_app.command("publish")
def license_publish(
    fee: Annotated[str, typer.Option("--fee", help="A licensee pays: ETH (0.01), wei (10000wei) or 0.")],
    legal_text: Annotated[Path | None, typer.Option(
        "--legal-text", exists=True, dir_okay=False, help="A file: the legal text (stored by CID).")] = None,
    legal_cid: Annotated[str | None, typer.Option("--legal-cid", help="The CID of a stored legal text.")
                         ] = None,
    days: Annotated[int, typer.Option("--days", min=0, help="How long a grant lasts; 0: perpetual.")] = 0,
    commercial: Annotated[bool, typer.Option("--commercial/--non-commercial")] = False,
    derivatives: Annotated[bool, typer.Option("--derivatives/--no-derivatives")] = False,
    share_bps: Annotated[int, typer.Option("--share-bps", min=0, max=10_000,
                                           help="Share of derivative revenue to you (100 = 1%).")] = 0,
    attribution: Annotated[bool, typer.Option("--attribution/--no-attribution")] = True,
    transferable: Annotated[bool, typer.Option("--transferable/--personal")] = False,
    revocable: Annotated[bool, typer.Option("--revocable/--irrevocable")] = False,
    territory: Annotated[list[str] | None, typer.Option(
        "--territory", help="ISO 3166 alpha-2 code, repeat per territory; none: worldwide.")] = None,
    collection: Annotated[str | None, typer.Option("--collection", help="Attach to works of it.")] = None,
    token: Annotated[list[int] | None, typer.Option("--token", help="A token id to attach to; repeat.")
                     ] = None,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Publish license terms of your own (fee, duration, uses, territories, legal text) and attach them
    to works you own; prints the terms hash."""
    body: dict[str, Any] = {
        "fee_wei": _fee_wei(fee), "duration_s": days * 86_400, "commercial_use": commercial,
        "derivatives_allowed": derivatives, "derivative_revenue_share_bps": share_bps,
        "attribution_required": attribution, "transferable": transferable, "revocable": revocable,
        "territories": territory or [], "collection": collection, "token_ids": token or [],
        "legal_text": legal_text.read_text() if legal_text else None, "legal_text_cid": legal_cid}
    with logged_in(api, wallet_name, chain) as s:
        out = s.client.post("/licenses/terms-tx", {"chain_id": s.spec.chain_id, **body})
        if out["publish"]:
            s.send(out["publish"], "terms published")
        else:
            say("these terms are already published; nothing sent")
        for tx in out["attach"]:
            s.send(tx, "terms attached")
    say(out["terms"]["summary"])
    typer.echo(out["terms_hash"])


# ---------------------------------------------------------------------------------------- rentals, gifts


@app.command("rent")
def rent(
    collection: CollectionOpt,
    token_id: TokenOpt,
    to: Annotated[str | None, typer.Option("--to", help="Who may use the token.")] = None,
    until: Annotated[str | None, typer.Option(help="Until when: ISO 8601 or +2h, +30d.")] = None,
    end: Annotated[bool, typer.Option("--end", help="End the current rental instead.")] = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Rent your token out (ERC-4907: the user may use it, you keep it) until a date, or --end it."""
    if end == (to is not None):
        raise typer.BadParameter("give --to and --until, or --end", param_hint="'--to'")
    if to is not None and until is None:
        raise typer.BadParameter("a rental needs an end", param_hint="'--until'")
    when = parse_when(until, "--until") if until else None
    with logged_in(api, wallet_name, chain) as s:
        s.send(
            s.client.rent_tx(collection, token_id, to, when),
            "rental ended" if end else f"rented to {to} until {when}",
        )


@app.command("rental")
def rental(
    collection: CollectionOpt,
    token_id: TokenOpt,
    as_json: JsonOpt = False,
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Who may use a token now, and until when."""
    with logged_in(api, wallet_name, chain, login=False) as s:
        out = s.client.rental(collection, token_id)
    if as_json:
        dump_json(out)
        return
    typer.echo(
        f"{out['user']}\tuntil {out['expires']}" if out["active"] else f"not rented (owner {out['owner']})"
    )


@app.command("gift")
def gift(
    collection: CollectionOpt,
    token_id: TokenOpt,
    to: Annotated[str, typer.Option("--to", help="Who receives the token.")],
    chain: ChainOpt = "home",
    api: ApiOpt = API,
    wallet_name: WalletOpt = "default",
) -> None:
    """Give your token away (a transfer without a sale, where the collection's policy allows it)."""
    with logged_in(api, wallet_name, chain) as s:
        s.send(s.client.gift_tx(collection, token_id, to), f"gave token {token_id} to {to}")
