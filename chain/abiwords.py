"""ABI encoding and decoding of static elementary values (``address``, ``bool``, ``uintN``, ``intN``,
``bytesN``), one 32-byte word each, without eth-abi's per-call machinery (its encoders and decoders
cost tens of microseconds per value; a word costs one). Anything else (tuples, arrays, ``bytes``,
``string``) and any value these fast paths do not accept exactly as given goes to eth-abi, so the
results and the errors are eth-abi's."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode

__all__ = ["decode_words", "encode_words"]

_WORD = 32


@lru_cache(maxsize=1024)
def _kind(abi_type: str) -> tuple[str, int] | None:
    """(``u``/``i``/``a``/``b``/``f``, bits or bytes) for a static elementary type, else None."""
    if abi_type == "address":
        return ("a", 20)
    if abi_type == "bool":
        return ("b", 1)
    for prefix, kind, limit in (("uint", "u", 256), ("int", "i", 256), ("bytes", "f", 32)):
        if abi_type.startswith(prefix):
            size = abi_type[len(prefix):]
            if not size.isdigit():
                return None
            n = int(size)
            if kind == "f":
                return ("f", n) if 1 <= n <= limit else None
            return (kind, n) if n % 8 == 0 and 8 <= n <= limit else None
    return None


def _word(kind: tuple[str, int], value: Any) -> bytes | None:
    tag, n = kind
    if tag == "u":
        if type(value) is int and 0 <= value < 1 << n:
            return value.to_bytes(_WORD, "big")
    elif tag == "i":
        if type(value) is int and -(1 << (n - 1)) <= value < 1 << (n - 1):
            return (value % (1 << 256)).to_bytes(_WORD, "big")
    elif tag == "a":
        if type(value) is str and len(value) == 42 and value[:2] == "0x":  # any case, as eth-abi
            try:
                return bytes(12) + bytes.fromhex(value[2:])
            except ValueError:
                return None
    elif tag == "b":
        if type(value) is bool:
            return int(value).to_bytes(_WORD, "big")
    elif type(value) is bytes and len(value) == n:  # bytesN given exactly
        return value + bytes(_WORD - n)
    return None


def encode_words(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """``eth_abi.encode(types, values)``, one word per value when every type is static elementary."""
    if len(types) == len(values):
        words = []
        for abi_type, value in zip(types, values, strict=True):
            kind = _kind(abi_type)
            word = _word(kind, value) if kind is not None else None
            if word is None:
                break
            words.append(word)
        else:
            return b"".join(words)
    return abi_encode(list(types), list(values))


def decode_words(types: Sequence[str], data: bytes) -> tuple[Any, ...]:
    """``eth_abi.decode(types, data)``, read word by word when every type is static elementary and
    the data is exactly that many well-formed words."""
    kinds = [_kind(t) for t in types]
    if len(data) == _WORD * len(types) and all(k is not None for k in kinds):
        out: list[Any] = []
        for i, kind in enumerate(kinds):
            assert kind is not None
            word = data[i * _WORD:(i + 1) * _WORD]
            tag, n = kind
            if tag == "u":
                value = int.from_bytes(word, "big")
                if value >> n:
                    break
                out.append(value)
            elif tag == "i":
                value = int.from_bytes(word, "big", signed=True)
                if not -(1 << (n - 1)) <= value < 1 << (n - 1):
                    break
                out.append(value)
            elif tag == "a":
                if any(word[:12]):
                    break
                out.append("0x" + word[12:].hex())  # lower case, as eth-abi answers
            elif tag == "b":
                if word[:-1] != bytes(_WORD - 1) or word[-1] > 1:
                    break
                out.append(bool(word[-1]))
            else:
                if any(word[n:]):
                    break
                out.append(word[:n])
        else:
            return tuple(out)
    return tuple(abi_decode(list(types), data))
