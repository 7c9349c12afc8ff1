"""The compiled log decoder against a plain reference (eth-abi on every log, the decoder as it was
before it was compiled): random events, encoded by eth-abi, must decode to the same event whether
the log comes as the node's raw JSON (hex strings) or formatted by web3 (ints and bytes)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.artifacts import abi_type
from record.index.decoder import DecodedEvent, EventDecoder, jsonable

pytestmark = pytest.mark.unit


def reference_decode(abi: list[dict[str, Any]], contract: str, log: Any, chain_id: int) -> DecodedEvent | None:
    """The decoder as it was: every log through eth-abi, every address through to_checksum_address."""
    events = {bytes(event_abi_to_log_topic(i)): i for i in abi if i.get("type") == "event"}
    topics = [HexBytes(t) for t in log["topics"]]
    item = events.get(bytes(topics[0])) if topics else None
    if item is None:
        return None
    indexed = [i for i in item["inputs"] if i.get("indexed")]
    plain = [i for i in item["inputs"] if not i.get("indexed")]
    if len(indexed) != len(topics) - 1:
        return None
    args: dict[str, Any] = {}
    for inp, topic in zip(indexed, topics[1:], strict=True):
        typ = abi_type(inp)
        if typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("("):
            args[inp["name"]] = "0x" + bytes(topic).hex()
        else:
            args[inp["name"]] = jsonable(abi_decode([typ], bytes(topic))[0])
    if plain:
        values = abi_decode([abi_type(i) for i in plain], bytes(HexBytes(log["data"])))
        for inp, value in zip(plain, values, strict=True):
            args[inp["name"]] = jsonable(value)
    return DecodedEvent(chain_id, int(log["blockNumber"]), "0x" + bytes(HexBytes(log["blockHash"])).hex(),
                        "0x" + bytes(HexBytes(log["transactionHash"])).hex(), int(log["logIndex"]),
                        to_checksum_address(log["address"]), contract, item["name"], args)


TYPES: dict[str, st.SearchStrategy[Any]] = {
    "address": st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b)),
    "uint256": st.integers(0, 2**256 - 1) | st.integers(0, 2**60),
    "uint64": st.integers(0, 2**64 - 1),
    "uint8": st.integers(0, 255),
    "int256": st.integers(-(2**255), 2**255 - 1) | st.integers(-(2**60), 2**60),
    "int32": st.integers(-(2**31), 2**31 - 1),
    "bool": st.booleans(),
    "bytes32": st.binary(min_size=32, max_size=32),
    "bytes4": st.binary(min_size=4, max_size=4),
    "string": st.text(max_size=40) | st.just("0x" + "ab" * 20),
    "bytes": st.binary(max_size=70),
    "uint256[]": st.lists(st.integers(0, 2**256 - 1), max_size=4),
    "address[]": st.lists(st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b)), max_size=3),
}
STATIC = ["address", "uint256", "uint64", "uint8", "int256", "int32", "bool", "bytes32", "bytes4"]


@st.composite
def events(draw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """An event ABI with up to 3 indexed and 4 plain arguments, and one log of it."""
    n_indexed = draw(st.integers(0, 3))
    inputs = []
    for i in range(n_indexed):
        typ = draw(st.sampled_from([*STATIC, "string", "uint256[]"]))
        inputs.append({"name": f"i{i}", "type": typ, "indexed": True})
    for i in range(draw(st.integers(0, 4))):
        inputs.append({"name": f"p{i}", "type": draw(st.sampled_from(list(TYPES))), "indexed": False})
    item = {"type": "event", "name": "Happened", "anonymous": False, "inputs": inputs}
    topics = [bytes(event_abi_to_log_topic(item))]
    for inp in inputs[:n_indexed]:
        value = draw(TYPES[inp["type"]])
        topics.append(bytes(32) if inp["type"] in ("string", "uint256[]") else abi_encode([inp["type"]], [value]))
    plain = inputs[n_indexed:]
    data = abi_encode([p["type"] for p in plain], [draw(TYPES[p["type"]]) for p in plain])
    raw = {"address": "0x" + draw(st.binary(min_size=20, max_size=20)).hex(),
           "topics": ["0x" + t.hex() for t in topics], "data": "0x" + data.hex(),
           "blockNumber": hex(draw(st.integers(0, 2**40))), "logIndex": hex(draw(st.integers(0, 500))),
           "blockHash": "0x" + draw(st.binary(min_size=32, max_size=32)).hex(),
           "transactionHash": "0x" + draw(st.binary(min_size=32, max_size=32)).hex()}
    return item, raw


def web3_formatted(raw: dict[str, Any]) -> dict[str, Any]:
    return {"address": to_checksum_address(raw["address"]), "topics": [HexBytes(t) for t in raw["topics"]],
            "data": HexBytes(raw["data"]), "blockNumber": int(raw["blockNumber"], 16),
            "logIndex": int(raw["logIndex"], 16), "blockHash": HexBytes(raw["blockHash"]),
            "transactionHash": HexBytes(raw["transactionHash"])}


@settings(max_examples=400, deadline=None)
@given(events())
def test_compiled_decoder_matches_the_reference_on_raw_and_formatted_logs(case):
    item, raw = case
    decoder = EventDecoder({"C": [item]})
    expected = reference_decode([item], "C", web3_formatted(raw), 7)
    assert expected is not None
    assert decoder.decode("C", raw, 7) == expected
    assert decoder.decode("C", web3_formatted(raw), 7) == expected
    assert decoder.decode("C", raw, 7).args_json() == expected.args_json()  # type: ignore[union-attr]


TRANSFER = {"type": "event", "name": "Transfer", "anonymous": False, "inputs": [
    {"name": "from", "type": "address", "indexed": True}, {"name": "to", "type": "address", "indexed": True},
    {"name": "tokenId", "type": "uint256", "indexed": True}]}


def _transfer_log(topics: list[str], data: str = "0x") -> dict[str, Any]:
    return {"address": "0x" + "11" * 20, "topics": topics, "data": data, "blockNumber": "0x5",
            "logIndex": "0x0", "blockHash": "0x" + "22" * 32, "transactionHash": "0x" + "33" * 32}


def test_other_layout_of_the_same_signature_is_not_decoded():
    topic0 = "0x" + bytes(event_abi_to_log_topic(TRANSFER)).hex()  # type: ignore[arg-type]
    word = "0x" + "00" * 31 + "01"
    erc20 = _transfer_log([topic0, word, word], "0x" + "00" * 31 + "05")  # ERC-20: value not indexed
    assert EventDecoder({"C": [TRANSFER]}).decode("C", erc20, 1) is None
    assert EventDecoder({"C": [TRANSFER]}).decode("C", _transfer_log([topic0, word, word, word]), 1) is not None


@pytest.mark.parametrize("bad_word", ["0x" + "ff" * 32, "0x" + "01" + "00" * 31])
def test_a_badly_padded_address_is_refused_as_eth_abi_refuses_it(bad_word):
    topic0 = "0x" + bytes(event_abi_to_log_topic(TRANSFER)).hex()  # type: ignore[arg-type]
    good = "0x" + "00" * 31 + "01"
    log = _transfer_log([topic0, bad_word, good, good])
    with pytest.raises(Exception) as reference:
        reference_decode([TRANSFER], "C", web3_formatted(log), 1)
    with pytest.raises(type(reference.value)):
        EventDecoder({"C": [TRANSFER]}).decode("C", log, 1)
