"""``chainright upload`` and ``chainright mint``: send a work to the API (streamed from disk, with a
progress line for large files) and mint it from the wallet (optionally a split, license terms)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from chain.errors import ChainError
from chainright.console import (
    ApiOpt,
    ChainOpt,
    JsonOpt,
    WalletOpt,
    api_errors,
    chain_settings,
    dump_json,
    license_fee_wei,
    load_wallet,
    logged_in,
    say,
)

app = typer.Typer()  # root-level commands: registered without a group name in chainright/cli.py

PROGRESS_FROM_BYTES = 4 * 1024 * 1024
"""Files from this size on show a progress line while they upload (on standard error)."""


def upload_progress(name: str, size: int, *, quiet: bool = False) -> Callable[[int, int], None] | None:
    """A ``progress(sent, total)`` printing bytes and percent on standard error: one line rewritten
    in place on a terminal, a line per 10% otherwise; None (silent) below ``PROGRESS_FROM_BYTES``."""
    if quiet or size < PROGRESS_FROM_BYTES:
        return None
    tty = sys.stderr.isatty()
    shown = -1

    def progress(sent: int, total: int) -> None:
        nonlocal shown
        percent = sent * 100 // max(total, 1)
        step = percent if tty else percent // 10 * 10
        if step == shown:
            return
        shown = step
        line = (f"uploading {name}: {sent / 2**20:.1f} of {total / 2**20:.1f} MiB "
                f"({sent} of {total} bytes, {percent}%)")
        if tty:
            sys.stderr.write("\r" + line + ("\n" if sent >= total else ""))
            sys.stderr.flush()
        else:
            say(line)

    return progress


@app.command("upload")
def upload_cmd(
    file: Annotated[Path, typer.Argument(help="The work to upload.")],
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Upload a work without minting it: its CID and content hash (streamed; progress for large files)."""
    from datetime import datetime

    from chain.formatting import format_time

    if not file.is_file():
        raise typer.BadParameter(f"no file at {file}", param_hint="'FILE'")
    with logged_in(api, wallet_name) as me:
        asset = me.client.upload(file, upload_progress(file.name, file.stat().st_size, quiet=as_json))
    if as_json:
        dump_json(asset)
        return
    uploaded = format_time(datetime.fromisoformat(asset["created_at"].replace("Z", "+00:00")))
    for label, value in (("cid", asset["cid"]), ("content_hash", asset["content_hash"]),
                         ("size", f"{asset['size']} bytes"), ("media_type", asset["media_type"]),
                         ("store", asset["store"]), ("uploaded", uploaded)):
        typer.echo(f"{label}\t{value}")


@app.command("mint")
def mint_cmd(
    file: Annotated[Path, typer.Argument(help="The work to upload and mint.")],
    collection: Annotated[str | None, typer.Option(help="An existing collection of yours.")] = None,
    new_collection: Annotated[str | None, typer.Option(help="Create a collection with this name.")] = None,
    symbol: Annotated[str, typer.Option(help="Symbol of a new collection.")] = "WORK",
    split: Annotated[str | None, typer.Option(
        help="Royalty receiver: a 30/40/30 split RIGHTS_HOLDER,ISSUER,CHANNEL.")] = None,
    royalty_bps: Annotated[int, typer.Option(help="Royalty on every sale, basis points.")] = 500,
    quantity: Annotated[int, typer.Option(help="> 1 mints an edition.")] = 1,
    editions: Annotated[int | None, typer.Option(
        help="Mint N copies as ERC-1155 editions (one token id); --new-collection then creates an "
             "editions collection, --collection must be one.", min=1)] = None,
    license_template: Annotated[str | None, typer.Option(
        "--license", help="Publish and attach license terms: personal, commercial or remix.")] = None,
    license_fee: Annotated[str, typer.Option(
        help="What a licensee pays: ETH (0.01) or wei (1000wei); 0 for free.")] = "0",
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", help="A tag for the catalogue (repeat, or comma-separated; at most 10).")] = None,
    title: Annotated[str | None, typer.Option(help="The work's title (default: the file's name).")] = None,
    description: Annotated[str | None, typer.Option(help="What the work is, for search.")] = None,
    chain: ChainOpt = "home",
    api: ApiOpt = "http://127.0.0.1:8000",
    wallet_name: WalletOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Upload a work and mint it from your wallet (the API returns transactions; the wallet signs)."""
    from api.client import ChainrightClient
    from chain.connection import connect

    if not file.is_file():  # a usage mistake, said before the wallet is unlocked or anything signed
        raise typer.BadParameter(f"no file at {file}", param_hint="'FILE'")
    fee_wei = license_fee_wei(license_fee)
    if (collection is None) == (new_collection is None):
        raise ChainError("give exactly one of --collection ADDRESS or --new-collection NAME")
    if editions is not None and quantity != 1:
        raise ChainError("give --editions N (ERC-1155 copies) or --quantity N (ERC-721 tokens), not both")
    settings = chain_settings()
    spec = settings.spec(chain)  # type: ignore[arg-type]
    wallet = load_wallet(wallet_name)
    web3 = connect(spec)
    client = ChainrightClient(api, wallet, spec.chain_id)
    try:
        with api_errors():
            client.login()
            say(f"logged in as {wallet.address}")
            asset = client.upload(file, upload_progress(file.name, file.stat().st_size)
                                  if file.is_file() else None,
                                  title=title, description=description, tags=list(tag or []))
            say(f"uploaded {file.name}: CID {asset['cid']}, content hash {asset['content_hash']}"
                + (f", tags {', '.join(asset['tags'])}" if asset.get("tags") else ""))
            receiver = None
            if split:
                parts = [p.strip() for p in split.split(",")]
                if len(parts) != 3:
                    raise ChainError("--split takes three addresses: RIGHTS_HOLDER,ISSUER,CHANNEL")
                out = client.split_tx(*parts)
                if not out["already_exists"]:
                    receipt = wallet.send(web3, out["transaction"])
                    tx = "0x" + bytes(receipt["transactionHash"]).hex()
                    say(f"royalty split created at {out['splitter']} (tx {tx})")
                else:
                    say(f"royalty split {out['splitter']} already exists; using it")
                receiver = out["splitter"]
            if new_collection is not None:
                out = client.collection_tx(new_collection, symbol, receiver, royalty_bps,
                                           "erc721" if editions is None else "erc1155")
                receipt = wallet.send(web3, out["transaction"])
                collection = out["predicted_address"]
                say(f"{'editions collection' if editions else 'collection'} {new_collection} created at "
                    f"{collection} (tx 0x{bytes(receipt['transactionHash']).hex()})")
            assert collection is not None
            receipt = wallet.send(web3, client.mint_tx(
                asset["cid"], collection, editions or quantity, standard="erc1155" if editions else "erc721"))
            from chainright.mint_license import minted_editions, minted_token_ids, publish_license

            if editions is not None:
                minted = minted_editions(web3, collection, receipt)
                token_ids = [token_id for token_id, _ in minted]
            else:
                token_ids = minted_token_ids(web3, collection, receipt)
            # The ids 'chainright list --token-id' needs, said in words (stdout keeps its columns).
            say(f"minted in block {receipt['blockNumber']} (tx 0x{bytes(receipt['transactionHash']).hex()}, "
                f"gas {receipt['gasUsed']}): token{'s' if len(token_ids) > 1 else ''} "
                f"{', '.join(map(str, token_ids))} of {collection}")
            if license_template is not None:
                publish_license(client, wallet, web3, collection, token_ids, license_template, fee_wei,
                                say)
            if editions is not None:
                if as_json:
                    dump_json({"collection": collection, "standard": "erc1155", "cid": asset["cid"],
                               "token_id": minted[0][0], "quantity": minted[0][1]})
                else:
                    typer.echo(f"{collection}\ttoken {minted[0][0]}\tquantity {minted[0][1]}\t{asset['cid']}")
            elif as_json:
                dump_json({"collection": collection, "standard": "erc721", "cid": asset["cid"],
                           "token_ids": token_ids})
            else:
                typer.echo(f"{collection}\t{asset['cid']}")
    finally:
        client.close()
