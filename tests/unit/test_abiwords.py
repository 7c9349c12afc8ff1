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
])
def test_what_eth_abi_refuses_is_refused_the_same_way(types, values):
    with pytest.raises(Exception) as expected:
        encode(types, values)
    with pytest.raises(type(expected.value)):
        encode_words(types, values)


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
    with pytest.raises(Exception) as expected:
        decode(types, word)
    with pytest.raises(type(expected.value)):
        decode_words(types, word)


def test_short_or_long_data_goes_to_eth_abi():
    data = encode(["uint256"], [7])
    assert decode_words(["uint256"], data + bytes(32)) == decode(["uint256"], data + bytes(32))
    with pytest.raises(Exception) as expected:
        decode(["uint256", "uint256"], data)
    with pytest.raises(type(expected.value)):
        decode_words(["uint256", "uint256"], data)
