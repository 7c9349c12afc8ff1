"""``chainright mint --license TEMPLATE``: after the mint, publish the template's license terms
and attach them to every token just minted, through the API's unsigned transactions (the
wallet signs each one locally)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chain.artifacts import Artifacts


def minted_token_ids(web3: Any, collection: str, receipt: Any) -> list[int]:
    """The ids of the tokens a mint receipt created (WorkMinted: the first id and the quantity;
    an edition emits one ConsecutiveTransfer, not a Transfer per token)."""
    from web3.logs import DISCARD

    nft = web3.eth.contract(address=collection, abi=Artifacts.load().get("CreatorCollection").abi)
    ids: list[int] = []
    for event in nft.events.WorkMinted().process_receipt(receipt, errors=DISCARD):
        if event["address"] == collection:
            first = int(event["args"]["workId"])
            ids.extend(range(first, first + int(event["args"]["quantity"])))
    return ids


def minted_editions(web3: Any, collection: str, receipt: Any) -> list[tuple[int, int]]:
    """``(token id, copies)`` an ERC-1155 editions mint receipt made (its TransferSingle events from
    ``collection``); empty when ``collection`` minted none (e.g. it is an ERC-721 collection)."""
    from web3.logs import DISCARD

    editions = web3.eth.contract(address=collection, abi=Artifacts.load().get("Editions1155").abi)
    return [(int(event["args"]["id"]), int(event["args"]["value"]))
            for event in editions.events.TransferSingle().process_receipt(receipt, errors=DISCARD)
            if event["address"] == collection]


def publish_license(client: Any, wallet: Any, web3: Any, collection: str, token_ids: list[int],
                    template: str, fee_wei: int, say: Callable[[str], None]) -> str:
    """Publish (if new) and attach the terms; returns the terms hash."""
    out = client.license_tx(collection, token_ids, template, fee_wei)
    if out["publish"] is not None:
        receipt = wallet.send(web3, out["publish"])
        say(f"license terms {out['terms_hash']} ({template}) published "
            f"(tx 0x{bytes(receipt['transactionHash']).hex()}); legal text {out['legal_text_cid']}")
    else:
        say(f"license terms {out['terms_hash']} ({template}) already published; attaching them")
    for index, tx in enumerate(out["attach"], start=1):
        receipt = wallet.send(web3, tx)
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        say(f"license attached ({index}/{len(out['attach'])}, tx {tx_hash})")
    return str(out["terms_hash"])
