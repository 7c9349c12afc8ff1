"""Merging chains' stories: oldest first, a transaction's events together, and a bridge delivery
never before the departure it delivers (the chains' clocks are not to be trusted to the second)."""

from __future__ import annotations

import json

import pytest

from record.provenance import entry_view, merge_chains, wrapped_token_id

pytestmark = pytest.mark.unit

HOME, REMOTE = 31337, 31338
TRANSFER_ID = (HOME << 192) | (0xB0B << 32) | 1


def _row(chain_id: int, block: int, log: int, event: str, time: int, tx: str, **args: object) -> dict:
    return {"chain_id": chain_id, "block_number": block, "log_index": log, "event": event, "block_time": time,
            "tx_hash": tx, "contract": "X", "address": "0x" + "11" * 20, "args": json.dumps(args)}


def _story(lock_time: int, mint_time: int) -> tuple[list[dict], list[dict]]:
    home = [_row(HOME, 5, 0, "Transfer", lock_time - 10, "0xa"),
            _row(HOME, 9, 0, "Transfer", lock_time, "0xb"),
            _row(HOME, 9, 1, "TokenLocked", lock_time, "0xb", transferId=str(TRANSFER_ID), destChainId=REMOTE)]
    remote = [_row(REMOTE, 3, 0, "Transfer", mint_time, "0xc"),
              _row(REMOTE, 3, 1, "TokenMinted", mint_time, "0xc", transferId=str(TRANSFER_ID)),
              _row(REMOTE, 4, 0, "Transfer", mint_time + 1, "0xd")]
    return home, remote


@pytest.mark.parametrize("mint_time", [100, 99, 90, 101])
def test_a_delivery_follows_its_departure_whatever_the_clocks_say(mint_time):
    home, remote = _story(100, mint_time)
    merged = merge_chains([remote, home])
    order = [(r["chain_id"], r["block_number"], r["log_index"]) for r in merged]
    assert order == [(HOME, 5, 0), (HOME, 9, 0), (HOME, 9, 1), (REMOTE, 3, 0), (REMOTE, 3, 1), (REMOTE, 4, 0)]


def test_events_without_bridge_hops_are_ordered_by_time_then_chain():
    a = [_row(HOME, 1, 0, "Transfer", 10, "0x1"), _row(HOME, 2, 0, "Transfer", 30, "0x2")]
    b = [_row(REMOTE, 1, 0, "Transfer", 20, "0x3"), _row(REMOTE, 2, 0, "Transfer", 30, "0x4")]
    assert [r["tx_hash"] for r in merge_chains([b, a])] == ["0x1", "0x3", "0x2", "0x4"]


def test_entry_view_shows_the_message_id_on_both_sides_of_a_hop():
    home, remote = _story(100, 101)
    departure, delivery = entry_view(home[2]), entry_view(remote[1])
    assert departure["bridge"] == {"transfer_id": str(TRANSFER_ID), "side": "departure",
                                   "source_chain_id": HOME, "dest_chain_id": REMOTE}
    assert delivery["bridge"] == {"transfer_id": str(TRANSFER_ID), "side": "delivery",
                                  "source_chain_id": HOME, "dest_chain_id": REMOTE}
    assert entry_view(home[0])["bridge"] is None


def test_wrapped_token_id_keeps_the_home_collection_and_token():
    collection = "0x" + "ab" * 20
    assert wrapped_token_id(collection, 7) >> 96 == int(collection, 16)
    assert wrapped_token_id(collection, 7) & (2**96 - 1) == 7
