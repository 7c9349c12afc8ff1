"""``chainright ops pause|unpause|status|settings|set-fee|set-treasury|set-escrow-fee|set-escrow-treasury``,
``chainright ops set-rate-limits`` and ``chainright ops breaker|set-breaker|lift``.

Contract families paused and unpaused (operator role), deploy-time settings changed (admin role:
the marketplace's and the milestone escrow's platform fee and treasury, bridge rate limits), and a
collection's circuit breaker and jurisdiction profile read, changed and its halt lifted (risk role),
over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import typer

from chainright.console import (
    ApiOpt,
    ChainOpt,
    JsonOpt,
    WalletOpt,
    anonymous,
    chain_id_of,
    dump_json,
    logged_in,
    say,
)

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True,
                  help="Operations: pause switches, platform settings, circuit breakers.")
FamilyArg = Annotated[Literal["marketplace", "escrow", "bridge"], typer.Argument(help="The contract family.")]
AnyChainOpt = Annotated[str, typer.Option("--chain", "-c", help="home, remote or all")]


def _change(action: str, family: str, chain: str, api: str, wallet_name: str) -> None:
    body = {"chain_id": None if chain == "all" else chain_id_of(chain)}
    with logged_in(api, wallet_name) as me:
        out = me.client.post(f"/ops/{family}/{action}", body)
    for c in out["contracts"]:
        done = f"tx {c['tx_hash']}" if c["changed"] else f"already {action}d"
        say(f"{c['contract']} on chain {c['chain_id']} ({c['address']}): {done}")
    typer.echo(f"{family} {'paused' if out['paused'] else 'unpaused'}")


@app.command("pause")
def ops_pause(family: FamilyArg, chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
              wallet_name: WalletOpt = "default") -> None:
    """Pause a family (the platform key sends it; the API logs who asked)."""
    _change("pause", family, chain, api, wallet_name)


@app.command("unpause")
def ops_unpause(family: FamilyArg, chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                wallet_name: WalletOpt = "default") -> None:
    """Unpause a family."""
    _change("unpause", family, chain, api, wallet_name)


def _collection(action: str, collection: str, chain: str, api: str, wallet_name: str) -> None:
    chain_id = chain_id_of(chain)
    with logged_in(api, wallet_name, chain) as me:
        out = me.client.post(f"/ops/collections/{chain_id}/{collection}/{action}-tx", {})
        me.send(out["transaction"], f"collection {action}d")


@app.command("pause-collection")
def ops_pause_collection(collection: Annotated[str, typer.Argument(help="Your collection's address.")],
                         chain: ChainOpt = "home",
                         api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Pause your own collection (minting, transfers, rentals); your wallet signs."""
    _collection("pause", collection, chain, api, wallet_name)


@app.command("unpause-collection")
def ops_unpause_collection(collection: Annotated[str, typer.Argument(help="Your collection's address.")],
                           chain: ChainOpt = "home",
                           api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Unpause your own collection; your wallet signs."""
    _collection("unpause", collection, chain, api, wallet_name)


@app.command("status")
def ops_status(api: ApiOpt = "http://127.0.0.1:8000", as_json: JsonOpt = False) -> None:
    """Every family on every chain, paused or not."""
    with anonymous(api) as client:
        out = client.get("/ops/paused")
    if as_json:
        dump_json(out)
        return
    for s in out:
        typer.echo(f"{s['family']:<12} {s['chain']:<7} {s['contract']:<16} {s['address']}  "
                   f"{'PAUSED' if s['paused'] else 'running'}")


# ------------------------------------------------------------------ deploy-time settings (admin role)


def _changes(out: list[dict[str, object]], what: str) -> None:
    for c in out:
        done = f"tx {c['tx_hash']}" if c["changed"] else "already so, nothing sent"
        say(f"{c['contract']} on chain {c['chain_id']} ({c['address']}): {done}")
    typer.echo(what)


@app.command("settings")
def ops_settings(api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default",
                 as_json: JsonOpt = False) -> None:
    """The platform fee and treasury (marketplace, escrow), bridge rate limits, every chain (admin role)."""
    with logged_in(api, wallet_name) as me:
        out = me.client.get("/ops/admin/settings")
    if as_json:
        dump_json(out)
        return
    for family in ("marketplace", "escrow"):
        for m in out.get(family, []):
            typer.echo(f"{family:<11} {m['chain']:<7} fee {m['platform_fee_bps'] / 100:g}% (at most "
                       f"{m['max_fee_bps'] / 100:g}%), treasury {m['treasury']}")
    for b in out["bridge"]:
        typer.echo(f"bridge      {b['chain']:<7} per hour: outbound {b['outbound']}, inbound {b['inbound']}, "
                   f"per sender {b['sender']}, per collection {b['collection']}")


@app.command("set-fee")
def ops_set_fee(bps: Annotated[int, typer.Argument(help="The platform fee in basis points (250 = 2.5%).")],
                chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                wallet_name: WalletOpt = "default") -> None:
    """Set the marketplace's platform fee (admin role; the platform key sends it)."""
    body = {"chain_id": None if chain == "all" else chain_id_of(chain), "fee_bps": bps}
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/ops/marketplace/fee", body)
    _changes(out, f"platform fee {bps / 100:g}%")


@app.command("set-treasury")
def ops_set_treasury(treasury: Annotated[str, typer.Argument(help="Who receives the platform fee.")],
                     chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                     wallet_name: WalletOpt = "default") -> None:
    """Set the marketplace's treasury (admin role; the platform key sends it)."""
    body = {"chain_id": None if chain == "all" else chain_id_of(chain), "treasury": treasury}
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/ops/marketplace/treasury", body)
    _changes(out, f"treasury {treasury}")


@app.command("set-escrow-fee")
def ops_set_escrow_fee(bps: Annotated[int, typer.Argument(help="The fee in basis points (250 = 2.5%).")],
                       chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                       wallet_name: WalletOpt = "default") -> None:
    """Set the milestone escrow's platform fee for escrows created from now on (admin role; the platform
    key sends it)."""
    body = {"chain_id": None if chain == "all" else chain_id_of(chain), "fee_bps": bps}
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/ops/escrow/fee", body)
    _changes(out, f"escrow platform fee {bps / 100:g}%")


@app.command("set-escrow-treasury")
def ops_set_escrow_treasury(treasury: Annotated[str, typer.Argument(help="Who receives the escrow's fee.")],
                            chain: AnyChainOpt = "all", api: ApiOpt = "http://127.0.0.1:8000",
                            wallet_name: WalletOpt = "default") -> None:
    """Set the milestone escrow's treasury (admin role; the platform key sends it)."""
    body = {"chain_id": None if chain == "all" else chain_id_of(chain), "treasury": treasury}
    with logged_in(api, wallet_name) as me:
        out = me.client.post("/ops/escrow/treasury", body)
    _changes(out, f"escrow treasury {treasury}")


LimitOpt = Annotated[int | None, typer.Option(min=0, help="Transfers per hour (0 closes it).")]


@app.command("set-rate-limits")
def ops_set_rate_limits(outbound: LimitOpt = None, inbound: LimitOpt = None, sender: LimitOpt = None,
                        collection: LimitOpt = None, chain: AnyChainOpt = "all",
                        api: ApiOpt = "http://127.0.0.1:8000", wallet_name: WalletOpt = "default") -> None:
    """Change the bridge's rate limits, only those given (admin role; the platform key sends it)."""
    limits = {"outbound": outbound, "inbound": inbound, "sender": sender, "collection": collection}
    given = {k: v for k, v in limits.items() if v is not None}
    if not given:
        raise typer.BadParameter("give at least one of --outbound, --inbound, --sender, --collection",
                                 param_hint="'--outbound'")
    body = {"chain_id": None if chain == "all" else chain_id_of(chain), **given}
    with logged_in(api, wallet_name) as me:
        out = me.client.patch("/ops/bridge/rate-limits", body)
    _changes(out, "rate limits " + ", ".join(f"{k} {v}/h" for k, v in given.items()))


# ------------------------------------------------------------------ the circuit breaker (risk role)

CollectionArg = Annotated[str, typer.Argument(help="The collection's address.")]


def _breaker_path(collection: str, chain: str) -> str:
    from chainright.console import parse_address

    return f"/market/breaker/{chain_id_of(chain)}/{parse_address(collection, 'COLLECTION')}"


def _print_breaker(out: dict[str, Any], decisions: int) -> None:
    from chain.formatting import format_time, format_wei

    p = out["policy"]
    reference = (f"the operator's reference {format_wei(int(p['operator_reference']))}"
                 if p.get("operator_reference") else f"the median of the last {p['reference_fills']} fills")
    on_chain = " (the marketplace enforces it on chain too)" if (
        p.get("operator_reference") and p["enforce_band_on_chain"]) else ""
    typer.echo(f"band: +/-{p['band_bps'] / 100:g}% around {reference}{on_chain}")
    typer.echo(f"halt: after {p['max_rejections']} refusals in {p['rejection_window_s']} s from at least "
               f"{p['min_distinct_accounts']} accounts (at most {p['max_refusals_per_account']} each), or a "
               f"{p['move_bps'] / 100:g}% move in {p['move_window_s']} s; cooldown {p['cooldown_s']} s")
    rules = [r for r, on in (("no resale (only the creator sells)", not p["secondary_sales"]),
                             (f"gifts after {p['gift_holding_s']} s of holding", p["gift_holding_s"] > 0),
                             ("identity-verified wallets only", p["identity_required"])) if on]
    typer.echo(f"jurisdiction: {'; '.join(rules) if rules else 'open (no rule)'}")
    halted = out.get("halted_until")
    typer.echo(f"halted until {format_time(datetime.fromisoformat(halted))}" if halted else "not halted")
    for d in out.get("decisions", [])[:decisions]:
        price = format_wei(int(d["price"])) if str(d.get("price", "")).isdigit() else d.get("price")
        typer.echo(f"  {format_time(datetime.fromisoformat(d['at']))}  {d['action']:<7} {price}  "
                   f"{d.get('account') or ''}  {d['reason']}")


@app.command("breaker")
def ops_breaker(collection: CollectionArg, chain: ChainOpt = "home", decisions: Annotated[int, typer.Option(
                    min=0, max=50, help="How many of the latest decisions to print.")] = 10,
                api: ApiOpt = "http://127.0.0.1:8000", as_json: JsonOpt = False) -> None:
    """A collection's circuit breaker: band, halt rules, jurisdiction profile, halt, latest decisions."""
    with anonymous(api) as client:
        out = client.get(_breaker_path(collection, chain))
    if as_json:
        dump_json(out)
        return
    _print_breaker(out, decisions)


def _seconds(value: int | None, option: str) -> int | None:
    if value is not None and value <= 0:
        raise typer.BadParameter("must be a positive number of seconds", param_hint=f"'{option}'")
    return value


@app.command("set-breaker")
def ops_set_breaker(
    collection: CollectionArg,
    band_pct: Annotated[float | None, typer.Option(
        help="The accepted band around the reference, in percent (20 = +/-20%).")] = None,
    reference: Annotated[str | None, typer.Option(
        help="An operator's reference price per unit (0.5 = 0.5 ETH, or 1000wei) instead of the fills' "
             "median; --clear-reference goes back to the median.")] = None,
    clear_reference: Annotated[bool, typer.Option(
        "--clear-reference", help="Drop the operator's reference.")] = False,
    reference_fills: Annotated[int | None, typer.Option(
        min=1, max=1000, help="How many recent fills the median reads.")] = None,
    move_pct: Annotated[float | None, typer.Option(help="A fill price move that halts, in percent.")] = None,
    move_window: Annotated[int | None, typer.Option(help="Seconds the move is measured over.")] = None,
    max_rejections: Annotated[int | None, typer.Option(min=1, help="Refusals that halt.")] = None,
    rejection_window: Annotated[int | None, typer.Option(
        help="Seconds the refusals are counted over.")] = None,
    cooldown: Annotated[int | None, typer.Option(help="Seconds a halt lasts.")] = None,
    min_accounts: Annotated[int | None, typer.Option(
        min=1, help="Distinct accounts a halt needs.")] = None,
    max_refusals_per_account: Annotated[int | None, typer.Option(
        min=1, help="One account's refusals that count toward a halt.")] = None,
    secondary_sales: Annotated[bool | None, typer.Option(
        "--secondary-sales/--no-secondary-sales", help="Whether holders may resell (jurisdiction).")] = None,
    gift_holding: Annotated[int | None, typer.Option(
        min=0, help="Seconds a holder must hold before giving the token away (jurisdiction).")] = None,
    identity_required: Annotated[bool | None, typer.Option(
        "--identity-required/--no-identity-required",
        help="Only identity-verified wallets may buy or sell (enforced on chain).")] = None,
    enforce_band_on_chain: Annotated[bool | None, typer.Option(
        "--enforce-band-on-chain/--no-enforce-band-on-chain",
        help="With a reference, the marketplace refuses fills outside the band on chain too.")] = None,
    chain: ChainOpt = "home",
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Change a collection's circuit breaker and jurisdiction profile (risk role): only the options
    given change; what the chain enforces (the band with a reference, the jurisdiction rules, the
    identity requirement) is sent by the platform key."""
    from chainright.console import parse_eth_option

    if reference is not None and clear_reference:
        raise typer.BadParameter("give a reference or clear it, not both", param_hint="'--clear-reference'")
    changes: dict[str, Any] = {}
    for key, pct, option in (("band_bps", band_pct, "--band-pct"), ("move_bps", move_pct, "--move-pct")):
        if pct is not None:
            if not pct > 0:  # the API checks the upper bounds and names them
                raise typer.BadParameter("a positive percentage", param_hint=f"'{option}'")
            changes[key] = round(pct * 100)
    if reference is not None:
        changes["operator_reference"] = parse_eth_option(reference, "--reference")
    if clear_reference:
        changes["operator_reference"] = None
    for key, seconds, option in (("move_window_s", move_window, "--move-window"),
                                 ("rejection_window_s", rejection_window, "--rejection-window"),
                                 ("cooldown_s", cooldown, "--cooldown")):
        if _seconds(seconds, option) is not None:
            changes[key] = seconds
    for key, value in (("reference_fills", reference_fills), ("max_rejections", max_rejections),
                       ("min_distinct_accounts", min_accounts),
                       ("max_refusals_per_account", max_refusals_per_account),
                       ("secondary_sales", secondary_sales), ("gift_holding_s", gift_holding),
                       ("identity_required", identity_required),
                       ("enforce_band_on_chain", enforce_band_on_chain)):
        if value is not None:
            changes[key] = value
    if not changes:
        raise typer.BadParameter("give at least one setting to change (see --help)")
    path = _breaker_path(collection, chain)
    with logged_in(api, wallet_name) as me:
        out = me.client.patch(path, changes)
    say(f"changed: {', '.join(sorted(changes))}")
    dump_json(out) if as_json else _print_breaker(out, 0)


@app.command("lift")
def ops_lift(collection: CollectionArg, chain: ChainOpt = "home", api: ApiOpt = "http://127.0.0.1:8000",
             wallet_name: WalletOpt = "default", as_json: JsonOpt = False) -> None:
    """Lift a collection's halt now, in the API and on chain (risk role; audited)."""
    path = _breaker_path(collection, chain)
    with logged_in(api, wallet_name) as me:
        out = me.client.post(f"{path}/lift", {})
    dump_json(out) if as_json else _print_breaker(out, 1)
