"""A bridge delivery's signed transaction on an engine without ``eth_getRawTransactionByHash`` (our
BFT chain): the bundle rebuilds the block's transactions from their JSON fields, keeps them only
when each hashes to its transaction hash and all give the header's transactions root, and otherwise
marks the delivery's transaction "not available"; the verifier then reports the hop's message as
not checked (PARTLY CHECKED), never VERIFIED, never crashes, and accepts that mark only on a chain
whose engine the bundle marks in ``header_proofs``."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from chain.devaccounts import dev_account
from chain.errors import ChainUnavailableError
from record.proofs.mpt import verify_proof
from record.proofs.transactions import call_of, raw_transaction_of, transactions_root
from record.provenance import verify_bundle
from record.provenance.bundle import HEADERS_UNAVAILABLE, TX_UNAVAILABLE, delivery_transaction

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
SENDER = dev_account(5)
BRIDGE = to_checksum_address("0x" + "b1" * 20)
CHAIN_ID = 1341


def _hexed(value: Any) -> Any:
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, list):
        return [_hexed(v) for v in value]
    if isinstance(value, dict):
        return {k: _hexed(v) for k, v in value.items()}
    return value


def _signed(kind: str, nonce: int = 0) -> tuple[dict[str, Any], bytes]:
    """(the JSON fields a node answers for it, the signed bytes) of one transaction of ``kind``."""
    base = {"nonce": nonce, "gas": 90_000, "to": BRIDGE, "value": 7, "data": b"\x12\x34\x56\x78" + b"\x00" * 30}
    access = [{"address": BRIDGE, "storageKeys": ["0x" + "00" * 31 + "01"]}]
    tx: dict[str, Any]
    if kind == "legacy-155":
        tx = {**base, "gasPrice": 10**9, "chainId": CHAIN_ID}
    elif kind == "legacy":
        tx = {**base, "gasPrice": 10**9}
    elif kind == "2930":
        tx = {**base, "type": 1, "gasPrice": 10**9, "chainId": CHAIN_ID, "accessList": access}
    elif kind == "1559":
        tx = {**base, "type": 2, "maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9, "chainId": CHAIN_ID,
              "accessList": access}
    elif kind == "creation":
        tx = {**base, "type": 2, "maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9, "chainId": CHAIN_ID}
        del tx["to"]
    elif kind == "7702":
        auth = Account.sign_authorization({"chainId": CHAIN_ID, "address": BRIDGE, "nonce": nonce + 1},
                                          dev_account(6).key)
        tx = {**base, "type": 4, "maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9, "chainId": CHAIN_ID,
              "accessList": [], "authorizationList": [auth]}
    else:
        raise AssertionError(kind)
    signed = Account.sign_transaction(tx, SENDER.key)
    fields = {k: v for k, v in tx.items() if k not in ("data", "authorizationList")}
    fields["input"] = tx["data"]
    fields["type"] = tx.get("type", 0)
    if kind == "7702":
        a = tx["authorizationList"][0]
        fields["authorizationList"] = [{"chainId": a.chain_id, "address": a.address, "nonce": a.nonce,
                                        "yParity": a.y_parity, "r": a.r, "s": a.s}]
    fields.update(hash=bytes(signed.hash), v=signed.v, r=signed.r, s=signed.s, **{"from": SENDER.address})
    if fields["type"]:
        fields["yParity"] = signed.v
    if kind == "legacy-155":
        del fields["chainId"]  # geth leaves it out for legacy transactions too, or states it: either works
    return _hexed(fields), bytes(signed.raw_transaction)


KINDS = ["legacy", "legacy-155", "2930", "1559", "creation", "7702"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_transaction_is_rebuilt_byte_for_byte_from_its_fields(kind):
    fields, raw = _signed(kind)
    assert raw_transaction_of(fields) == raw


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("field", ["nonce", "value", "input", "r", "to", "accessList"])
def test_a_changed_or_missing_field_does_not_hash_to_the_transaction(kind, field):
    fields, _ = _signed(kind)
    forged = copy.deepcopy(fields)
    if field == "accessList" and kind.startswith("legacy"):
        field = "gasPrice"  # a legacy transaction has no access list
    if field == "input":
        forged["input"] = forged["input"][:-2] + "01"
    elif field == "to":
        forged["to"] = "0x" + "c2" * 20
    elif field == "accessList":
        forged.pop("accessList", None)
        if kind in ("2930", "1559"):
            pass  # dropping a non-empty access list changes the bytes
        else:
            forged["accessList"] = [{"address": BRIDGE, "storageKeys": []}]
    else:
        forged[field] = hex(int(forged[field], 16) + 1)
    with pytest.raises(ValueError, match="hashes to"):
        raw_transaction_of(forged)


def test_an_unknown_type_is_refused():
    fields, _ = _signed("1559")
    with pytest.raises(ValueError, match="unknown transaction type 0x05"):
        raw_transaction_of({**fields, "type": "0x5"})


# -- the bundle's delivery transaction ------------------------------------------------------------------


def _block(kinds: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]], list[bytes]]:
    txs = [_signed(k, nonce=i) for i, k in enumerate(kinds)]
    fields, raws = [f for f, _ in txs], [r for _, r in txs]
    header = {"number": "0x2a", "hash": "0x" + "ab" * 32, "transactionsRoot": "0x" + transactions_root(raws).hex(),
              "transactions": [f["hash"] for f in fields]}
    return header, fields, raws


def _node(header: dict[str, Any], fields: list[dict[str, Any]], *, raw: bool,
          reachable: bool = True) -> Callable[[str, list[Any]], Any]:
    by_hash = {f["hash"]: f for f in fields}

    def rpc(method: str, params: list[Any]) -> Any:
        if not reachable:
            raise ChainUnavailableError("no JSON-RPC answer from http://127.0.0.1:1 (connection refused)")
        if method == "eth_getRawTransactionByHash":
            if not raw:
                raise ChainUnavailableError("http://n answered eth_getRawTransactionByHash with an error: "
                                            "{'code': -32601, 'message': 'the method does not exist/is not available'}")
            return "0x" + raw_transaction_of(by_hash[params[0]]).hex()
        if method == "eth_getBlockByNumber" and params == [header["number"], True]:
            return {**header, "transactions": fields}
        raise AssertionError(f"unexpected call {method} {params}")

    return rpc


def _proves(header: dict[str, Any], index: int, carried: dict[str, Any]) -> bool:
    proven = verify_proof(bytes(HexBytes(header["transactionsRoot"])), rlp.encode(index),
                          [bytes(HexBytes(n)) for n in carried["proof"]])
    return proven == bytes(HexBytes(carried["raw"]))


@pytest.mark.parametrize("index", [0, 1, 2])
def test_without_raw_transactions_the_delivery_is_rebuilt_and_proven(index):
    header, fields, raws = _block(["1559", "legacy-155", "2930"])
    carried = delivery_transaction(_node(header, fields, raw=False), header, index)
    assert bytes(HexBytes(carried["raw"])) == raws[index]
    assert _proves(header, index, carried)
    assert "rebuilt" in carried["source"] and call_of(raws[index])[0] == BRIDGE.lower()


def test_a_node_that_serves_raw_transactions_is_used_as_before():
    header, fields, raws = _block(["1559", "legacy"])
    carried = delivery_transaction(_node(header, fields, raw=True), header, 1)
    assert bytes(HexBytes(carried["raw"])) == raws[1] and "source" not in carried and _proves(header, 1, carried)


def _forge_value(header: dict[str, Any], fields: list[dict[str, Any]]) -> None:
    fields[1]["value"] = hex(int(fields[1]["value"], 16) + 1)  # another tx in the block: its proof is needed too


def _forge_list(header: dict[str, Any], fields: list[dict[str, Any]]) -> None:
    fields.reverse()


def _forge_root(header: dict[str, Any], fields: list[dict[str, Any]]) -> None:
    header["transactionsRoot"] = "0x" + "00" * 32


def _forge_type(header: dict[str, Any], fields: list[dict[str, Any]]) -> None:
    fields[0]["type"] = "0x7e"


def _forge_missing(header: dict[str, Any], fields: list[dict[str, Any]]) -> None:
    del fields[0]["r"]


@pytest.mark.parametrize("forge", [_forge_value, _forge_list, _forge_root, _forge_type, _forge_missing],
                         ids=["a field changed", "another order", "another root", "an unknown type", "a missing field"])
def test_fields_that_do_not_rebuild_the_block_mark_the_delivery_not_available(forge):
    header, fields, _ = _block(["1559", "1559", "legacy-155"])
    forge(header, fields)
    carried = delivery_transaction(_node(header, fields, raw=False), header, 0)
    assert carried["available"] is False and carried["reason"].startswith(TX_UNAVAILABLE)
    assert "raw" not in carried and "proof" not in carried


def test_a_node_that_does_not_answer_is_an_error_not_a_not_available_mark():
    header, fields, _ = _block(["1559"])
    with pytest.raises(ChainUnavailableError):
        delivery_transaction(_node(header, fields, raw=False, reachable=False), header, 0)


# -- the verifier ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bridge() -> dict[str, Any]:
    return dict(json.loads((DATA / "provenance_bridge_bundle.json").read_text()))


def _without_delivery_tx(bundle: dict[str, Any], chain: str, *, marked: bool) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    for event in out["events"]:
        if "tx" in event and str(event["chain_id"]) == chain:
            event["tx"] = {"available": False, "reason": f"{TX_UNAVAILABLE}: the method does not exist"}
    if marked:
        out["header_proofs"] = {chain: {"available": False, "engine": "bft", "reason": HEADERS_UNAVAILABLE}}
    return out


@pytest.mark.parametrize("chain", ["31337", "31338"])
def test_a_delivery_without_its_transaction_on_a_marked_chain_is_partly_checked(bridge, chain):
    verdict = verify_bundle(_without_delivery_tx(bridge, chain, marked=True))
    assert verdict.ok, verdict.first_break
    assert not verdict.fully_checked
    assert any("delivery's signed message" in u for u in verdict.unavailable), verdict.unavailable
    assert any(c.what.endswith("bridge hop message") and c.detail.startswith("not available") for c in verdict.checks)
    assert any(c.what.endswith("bridge hop") and "to 0x" in c.detail for c in verdict.checks)


@pytest.mark.parametrize("chain", ["31337", "31338"])
def test_leaving_the_transaction_out_on_an_unmarked_chain_breaks_the_hop(bridge, chain):
    verdict = verify_bundle(_without_delivery_tx(bridge, chain, marked=False))
    assert not verdict.ok
    assert verdict.first_break is not None and verdict.first_break.what.endswith("bridge hop message")
    assert "only a chain whose engine the bundle marks" in verdict.first_break.detail


def test_a_marked_delivery_still_has_to_match_its_departure(bridge):
    forged = _without_delivery_tx(bridge, "31337", marked=True)
    departure = next(e for e in forged["events"] if e["event"] == "TokenBurned")
    departure["args"]["destChainId"] = 1  # the departure named another destination
    verdict = verify_bundle(forged)
    assert not verdict.ok  # (the receipt's log no longer decodes to these args, or the hop disagrees)


def test_chainright_verify_says_partly_checked_for_a_delivery_without_its_transaction(bridge, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_without_delivery_tx(bridge, "31337", marked=True)))
    out = subprocess.run([sys.executable, "-m", "chainright", "verify", str(path)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "PARTLY CHECKED" in out.stdout and "VERIFIED" not in out.stdout.replace("NOT VERIFIED", "")
    assert "delivery's signed message" in out.stdout
