"""``chainright works search|show|related``: browse the catalogue over the API (public reads)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chainright.console import (
    ApiOpt,
    JsonOpt,
    amount,
    anonymous,
    chain_id_of,
    dump_json,
    parse_eth_option,
    say,
)

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Browse the catalogue: search, a work's page, related works.")
ChainArg = Annotated[str, typer.Argument(help="home, remote or a chain id.")]
CollectionArg = Annotated[str, typer.Argument(help="The collection's address.")]
TokenArg = Annotated[int, typer.Argument(help="The token id.", min=0)]


def _card_line(w: dict[str, Any]) -> str:
    coin = w.get("price_currency")
    price = ("not for sale" if not w.get("price") else amount(w["price"]) if not coin or int(coin, 16) == 0
             else f"{w['price']['wei']} units of the token {coin}")
    title = w.get("title") or "(untitled)"
    tags = (" #" + " #".join(w["tags"])) if w.get("tags") else ""
    return (f"{title}  [{w.get('media_type') or '?'}]  {price}\n"
            f"    chain {w['chain_id']}  {w['collection']}  token {w['token_id']}"
            f"{' of ' + str(w['edition_size']) if w['edition_size'] > 1 else ''}  "
            f"by {w.get('creator') or '?'}  minted {w.get('minted_at') or '?'}{tags}")


def _details(w: dict[str, Any]) -> list[str]:
    lines = []
    if w.get("royalty"):
        lines.append(f"    royalty: {w['royalty']}")
    for lic in w.get("licenses", []):
        lines.append(f"    license {lic['terms_hash'][:10]}..: {lic['summary']}")
    return lines


@app.command("search")
def works_search(
    words: Annotated[list[str] | None, typer.Argument(
        help="Words in the title, description or file name.")] = None,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", help="A tag the work must carry (repeat).")] = None,
    creator: Annotated[str | None, typer.Option(help="The creator's address.")] = None,
    media_type: Annotated[str | None, typer.Option(help="image/png, or image for every image.")] = None,
    chain: Annotated[str | None, typer.Option(
        help="home, remote or a chain id (default: every chain).")] = None,
    collection: Annotated[str | None, typer.Option(help="One collection's address.")] = None,
    listed: Annotated[bool, typer.Option("--listed", help="Only works for sale now.")] = False,
    min_price: Annotated[str | None, typer.Option(
        help="Cheapest listing at least this (ETH, or 500wei; in --currency's units when given).")] = None,
    max_price: Annotated[str | None, typer.Option(
        help="Cheapest listing at most this (ETH, or 500wei; in --currency's units when given).")] = None,
    currency: Annotated[str | None, typer.Option(
        help="ETH or an ERC-20's address: only works listed in it; prices in its units.")] = None,
    license_kind: Annotated[str | None, typer.Option(
        "--license", help="Works offering license terms: any, commercial, personal or derivatives.")] = None,
    jurisdiction: Annotated[str | None, typer.Option(
        help="The collection's jurisdiction profile: open, no_resale, verified_only or "
             "holding_period.")] = None,
    sort: Annotated[str, typer.Option(help="newest, price_asc or price_desc.")] = "newest",
    limit: Annotated[int, typer.Option(help="Works per page.", min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option(help="The next page's cursor (printed at the end).")] = None,
    api: ApiOpt = "http://127.0.0.1:8000",
    as_json: JsonOpt = False,
) -> None:
    """Search the catalogue: title, media type, creator, tags, price (ETH with wei), royalty, licenses;
    filters by price, currency, license type, chain and jurisdiction profile."""
    if sort not in ("newest", "price_asc", "price_desc"):
        raise typer.BadParameter(f"{sort!r}: use newest, price_asc or price_desc", param_hint="'--sort'")
    from api.browse import JURISDICTIONS, LICENSE_KINDS

    for value, allowed, hint in ((license_kind, LICENSE_KINDS, "'--license'"),
                                 (jurisdiction, JURISDICTIONS, "'--jurisdiction'")):
        if value is not None and value not in allowed:
            raise typer.BadParameter(f"{value!r}: use {', '.join(allowed)}", param_hint=hint)
    params: dict[str, Any] = {"sort": sort, "limit": limit}
    if words:
        params["q"] = " ".join(words)
    if tag:
        params["tag"] = list(tag)
    for name, value in (("creator", creator), ("media_type", media_type), ("collection", collection),
                        ("cursor", cursor), ("currency", currency), ("license", license_kind),
                        ("jurisdiction", jurisdiction)):
        if value is not None:
            params[name] = value
    if chain is not None:
        params["chain_id"] = chain_id_of(chain)
    if listed:
        params["listed"] = "true"
    if min_price is not None:
        params["min_price_wei"] = str(parse_eth_option(min_price, "--min-price"))
    if max_price is not None:
        params["max_price_wei"] = str(parse_eth_option(max_price, "--max-price"))
    with anonymous(api) as client:
        out = client.get("/works", **params)
    if as_json:
        dump_json(out)
        return
    for w in out["works"]:
        typer.echo(_card_line(w))
        for line in _details(w):
            typer.echo(line)
    if not out["works"]:
        say("no work matches")
    if out.get("next_cursor"):
        say(f"more: --cursor {out['next_cursor']}")


@app.command("collections")
def works_collections(
    creator: Annotated[str | None, typer.Option(help="The creator's address.")] = None,
    chain: Annotated[str | None, typer.Option(
        help="home, remote or a chain id (default: every chain).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1, max=100)] = 50,
    api: ApiOpt = "http://127.0.0.1:8000",
    as_json: JsonOpt = False,
) -> None:
    """Collections: works, floor price now (ETH with wei), royalty split in words."""
    params: dict[str, Any] = {"limit": limit}
    if creator is not None:
        params["creator"] = creator
    if chain is not None:
        params["chain_id"] = chain_id_of(chain)
    with anonymous(api) as client:
        out = client.get("/works/collections", **params)
    if as_json:
        dump_json(out)
        return
    for c in out:
        floor = amount(c["floor"]) if c.get("floor") else "nothing for sale"
        typer.echo(f"{c.get('name') or '(unnamed)'}  chain {c['chain_id']}  {c['collection']}: "
                   f"{c['works']} works, {c['listed']} listed, floor {floor}, "
                   f"last mint {c.get('last_minted_at') or '?'}")
        if c.get("royalty"):
            typer.echo(f"    royalty: {c['royalty']}")
    if not out:
        say("no collection yet")


@app.command("show")
def works_show(chain: ChainArg, collection: CollectionArg, token_id: TokenArg,
               api: ApiOpt = "http://127.0.0.1:8000", as_json: JsonOpt = False) -> None:
    """A work's page: owner, rights record, royalty split, license terms, listings, offers, auction,
    price history and provenance summary."""
    chain_id = chain_id_of(chain)
    with anonymous(api) as client:
        out = client.get(f"/catalog/works/{chain_id}/{collection}/{token_id}")
    if as_json:
        dump_json(out)
        return
    m = out.get("market") or {}
    card = m.get("card")
    typer.echo((card and _card_line(card)) or f"{out.get('title') or '(untitled)'}  chain {chain_id}  "
               f"{out['collection']}  token {out['token_id']}")
    if card and card.get("description"):
        typer.echo(f"    {card['description']}")
    held = (f"owner {out['owner']}" if out.get("owner") else "editions (ERC-1155): copies held by many"
            if out.get("standard") == "erc1155" else "owner unknown")
    typer.echo(f"    {held}  CID {out['cid']}")
    rights = out.get("rights")
    if rights:
        from chain.formatting import format_time

        typer.echo(f"    rights: registered by {rights['creator']} at {format_time(rights['registered_at'])}"
                   f"{'' if rights['bound'] else ' (NOT bound to this CID)'}")
    for line in _details(card or {}):
        typer.echo(line)
    for o in m.get("listings", []):
        typer.echo(f"    listing {o['order_hash']}: {amount(o['unit_price'])} x{o['quantity']} "
                   f"by {o['signer']}, until {o['expires_at']}")
    for o in m.get("offers", []):
        typer.echo(f"    offer {o['order_hash']}: {amount(o['unit_price'])} x{o['quantity']} "
                   f"from {o['signer']}, until {o['expires_at']}")
    a = m.get("auction")
    if a:
        high = f", high bid {amount(a['high_bid'])} by {a['high_bidder']}" if a.get("high_bid") else ""
        typer.echo(f"    auction {a['auction_id']} ({a['status']}): reserve {amount(a['reserve'])}, ends "
                   f"{a['ends_at']}{high}")
    for s in m.get("price_history", []):
        typer.echo(f"    sold {s['at']} ({s['kind']}): {amount(s['unit_price'])} x{s['quantity']}, "
                   f"{s['seller']} -> {s['buyer']}")
    p = m.get("provenance")
    if p:
        typer.echo(f"    provenance: minted {p['minted_at']}, {p['transfers']} transfers, "
                   f"{p['holders']} holders, {p['sales']} sales, {p['licenses_granted']} licenses, "
                   f"last activity {p['last_activity_at']}; story: GET {p['story']}")


@app.command("related")
def works_related(chain: ChainArg, collection: CollectionArg, token_id: TokenArg,
                  limit: Annotated[int, typer.Option(help="At most this many.", min=1, max=50)] = 10,
                  api: ApiOpt = "http://127.0.0.1:8000", as_json: JsonOpt = False) -> None:
    """Works related to this one (shared tags, collectors who bought both), best first, with the reason."""
    chain_id = chain_id_of(chain)
    with anonymous(api) as client:
        out = client.get(f"/works/{chain_id}/{collection}/{token_id}/related", limit=limit)
    if as_json:
        dump_json(out)
        return
    for r in out["related"]:
        typer.echo(_card_line(r["work"]))
        typer.echo(f"    why: {r['reason']} (score {r['score']:g})")
    if not out["related"]:
        say("no related work yet (no shared tag, no shared buyer)")
