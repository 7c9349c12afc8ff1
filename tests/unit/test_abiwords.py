"""chain.abiwords: the word-by-word fast paths give eth-abi's bytes and values, and leave to eth-abi
(its results, its errors) everything they do not take exactly."""

from __future__ import annotations

import random

import pytest
from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address

from chain.abiwords import decode_words, encode_words

pytestmark = pytest.mark.unit

rng = random.Random(20261208)  # noqa: S311 (test values, reproducible)


def _value(abi_type: str):
    if abi_type == "address":
        raw = "0x" + rng.randbytes(20).hex()
        return rng.choice([raw, raw.upper().replace("0X", "0x"), to_checksum_address(raw)])
    if abi_type == "bool":
        return rng.choice([True, False])
    if abi_type.startswith("uint"):
        bits = int(abi_type[4:])
        return rng.choice([0, 1, (1 << bits) - 1, rng.getrandbits(bits)])
    if abi_type.startswith("int"):
        bits = int(abi_type[3:])
        return rng.choice([0, -1, -(1 << (bits - 1)), (1 << (bits - 1)) - 1,
                           rng.getrandbits(bits) - (1 << (bits - 1))])
    size = int(abi_type[5:])
    return rng.randbytes(size)


TYPES = ["address", "bool", "uint8", "uint64", "uint248", "uint256", "int8", "int128", "int256",
         "bytes1", "bytes4", "bytes32"]


def test_static_values_encode_and_decode_as_eth_abi_does():
    for _ in range(500):
        types = [rng.choice(TYPES) for _ in range(rng.randint(1, 8))]
        values = [_value(t) for t in types]
        data = encode(types, values)
        assert encode_words(types, values) == data
        assert decode_words(types, data) == decode(types, data)


@pytest.mark.parametrize(("types", "values"), [
    (["uint8"], [256]), (["uint256"], [-1]), (["int8"], [128]), (["uint256"], [True]),
    (["address"], ["0x" + "ab" * 19]), (["address"], ["0x" + "zz" * 20]), (["bool"], [1]),
    (["bytes4"], [b"\x00" * 5]), (["uint256", "uint256"], [1]),
    (["bytes"], ["not bytes"]), (["string"], [b"not text"]), (["uint256[]"], [5]),
    (["(uint256,bool)"], [(1,)]), (["(uint256,bool)"], [(1, 2)]), (["uint8[]"], [[1, 300]]),
])
def test_what_eth_abi_refuses_is_refused_the_same_way(types, values):
    _refused_alike(encode, encode_words, types, values)


def _refused_alike(theirs, ours, *args):
    """``ours(*args)`` raises what eth-abi's ``theirs(*args)`` raises."""
    with pytest.raises(Exception) as expected:
        theirs(*args)
    with pytest.raises(type(expected.value)):
        ours(*args)


def test_dynamic_and_composite_types_go_to_eth_abi():
    types = ["(address,uint256)", "bytes", "uint256[]", "string"]
    values = [("0x" + "11" * 20, 5), b"\x01\x02", [1, 2, 3], "hi"]
    data = encode(types, values)
    assert encode_words(types, values) == data
    assert decode_words(types, data) == decode(types, data)


@pytest.mark.parametrize(("types", "word"), [
    (["uint8"], (256).to_bytes(32, "big")),
    (["address"], b"\x01" + bytes(31)),
    (["bool"], (2).to_bytes(32, "big")),
    (["bytes4"], b"\x01" * 32),
])
def test_malformed_words_are_refused_as_eth_abi_refuses_them(types, word):
    _refused_alike(decode, decode_words, types, word)


def test_short_or_long_data_goes_to_eth_abi():
    data = encode(["uint256"], [7])
    assert decode_words(["uint256"], data + bytes(32)) == decode(["uint256"], data + bytes(32))
    assert _outcome(decode_words, ["uint256", "uint256"], data) == _outcome(decode, ["uint256", "uint256"], data)


def _outcome(fn, *args):
    """What ``fn(*args)`` gives: its value, or the type of what it raised (eth-abi's strictness about
    short data depends on how it was configured in the process)."""
    try:
        return fn(*args)
    except Exception as exc:
        return type(exc)


def _dynamic_type(depth: int = 0) -> str:
    pick = rng.random()
    if depth < 2 and pick < 0.2:
        return "(" + ",".join(_dynamic_type(depth + 1) for _ in range(rng.randint(1, 4))) + ")"
    if depth < 2 and pick < 0.35:
        return _dynamic_type(depth + 1) + "[]"
    if pick < 0.5:
        return rng.choice(["bytes", "string"])
    return rng.choice(TYPES)


def _dynamic_value(abi_type: str):
    if abi_type.endswith("[]"):
        return [_dynamic_value(abi_type[:-2]) for _ in range(rng.randint(0, 3))]
    if abi_type.startswith("("):
        depth, start, parts = 0, 1, []
        for i, char in enumerate(abi_type[1:-1], start=1):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if char == "," and depth == 0:
                parts.append(abi_type[start:i])
                start = i + 1
        parts.append(abi_type[start:-1])
        return tuple(_dynamic_value(p) for p in parts)
    if abi_type == "bytes":
        return rng.randbytes(rng.choice([0, 1, 31, 32, 33, 70]))
    if abi_type == "string":
        return rng.choice(["", "a", "é" * 17, "x" * 64])
    return _value(abi_type)


def test_dynamic_values_tuples_and_arrays_encode_as_eth_abi_does():
    for _ in range(400):
        types = [_dynamic_type() for _ in range(rng.randint(1, 4))]
        values = [_dynamic_value(t) for t in types]
        assert encode_words(types, values) == encode(types, values), types


def test_a_cart_of_listings_encodes_as_eth_abi_does(monkeypatch):
    order = "(uint8,address,address,uint256,uint8,uint256,uint256,address,uint64,uint64,uint256,uint256,uint256)"
    types = [f"{order}[]", "bytes[]", "uint256[]"]
    orders = [(0, "0x" + "11" * 20, "0x" + "22" * 20, i, 0, 1, 10**15, "0x" + "00" * 20, 1, 2**40, i * 7, 0, 3)
              for i in range(10)]
    values = [orders, [rng.randbytes(65) for _ in range(10)], [1] * 10]
    expected = encode(types, values)
    import chain.abiwords

    monkeypatch.setattr(chain.abiwords, "abi_encode", None)  # laid out here, not handed to eth-abi
    assert encode_words(types, values) == expected
