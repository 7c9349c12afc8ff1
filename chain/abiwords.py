"""ABI encoding and decoding without eth-abi's per-call machinery (its encoders validate every value
through layers of objects: tens of microseconds per value, where a 32-byte word costs one).

``encode_words`` encodes static elementary values (``address``, ``bool``, ``uintN``, ``intN``,
``bytesN``), ``bytes``, ``string``, tuples and dynamic arrays of these (head and tail, as the ABI
lays them out); ``decode_words`` decodes static elementary values. Anything else (fixed-size
arrays, fixed-point numbers) and any value these paths do not take exactly as given goes to
eth-abi, so the results and the errors are eth-abi's."""

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


Node = tuple[Any, ...]
"""A parsed type: ("e", kind) static elementary, ("d", text) bytes or string, ("t", nodes) a tuple,
("a", node) a dynamic array."""


def _split(inner: str) -> list[str] | None:
    """The comma-separated components of a tuple's inside, nested parentheses kept whole."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(inner):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif char == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    if depth != 0:
        return None
    parts.append(inner[start:])
    return parts if all(parts) else None


@lru_cache(maxsize=1024)
def _node(abi_type: str) -> Node | None:
    """``abi_type`` parsed, or None when this module leaves it to eth-abi."""
    if abi_type.endswith("[]"):
        element = _node(abi_type[:-2])
        return ("a", element) if element is not None else None
    if abi_type.endswith("]"):
        return None  # fixed-size arrays: eth-abi's
    if abi_type.startswith("(") and abi_type.endswith(")"):
        parts = _split(abi_type[1:-1])
        if not parts:
            return None
        nodes = [_node(part) for part in parts]
        return ("t", tuple(nodes)) if all(n is not None for n in nodes) else None
    if abi_type in ("bytes", "string"):
        return ("d", abi_type)
    kind = _kind(abi_type)
    return ("e", kind) if kind is not None else None


def _dynamic(node: Node) -> bool:
    return node[0] in ("d", "a") or (node[0] == "t" and any(_dynamic(n) for n in node[1]))


def _padded(data: bytes) -> bytes:
    return len(data).to_bytes(_WORD, "big") + data + bytes(-len(data) % _WORD)


def _encode(node: Node, value: Any) -> bytes | None:
    """The encoding of ``value`` as ``node``, or None when it is not taken exactly as given."""
    tag = node[0]
    if tag == "e":
        return _word(node[1], value)
    if tag == "d":
        if node[1] == "bytes":
            return _padded(value) if type(value) is bytes else None
        return _padded(value.encode()) if type(value) is str else None
    if tag == "a":
        if type(value) not in (list, tuple):
            return None
        body = _encode_tuple((node[1],) * len(value), value)
        return None if body is None else len(value).to_bytes(_WORD, "big") + body
    return _encode_tuple(node[1], value)


def _encode_tuple(nodes: Sequence[Node], values: Any) -> bytes | None:
    """Heads, then the dynamic members' tails (each head of a dynamic member: its tail's offset)."""
    if type(values) not in (list, tuple) or len(values) != len(nodes):
        return None
    parts: list[bytes | None] = [_encode(node, value) for node, value in zip(nodes, values, strict=True)]
    if any(part is None for part in parts):
        return None
    dynamic = [_dynamic(node) for node in nodes]
    head_size = sum(_WORD if d else len(p or b"") for d, p in zip(dynamic, parts, strict=True))
    heads: list[bytes] = []
    tails: list[bytes] = []
    offset = head_size
    for is_dynamic, part in zip(dynamic, parts, strict=True):
        assert part is not None
        if is_dynamic:
            heads.append(offset.to_bytes(_WORD, "big"))
            tails.append(part)
            offset += len(part)
        else:
            heads.append(part)
    return b"".join(heads) + b"".join(tails)


def encode_words(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """``eth_abi.encode(types, values)``, laid out here when every type is one this module takes."""
    nodes = [_node(t) for t in types]
    if all(n is not None for n in nodes):
        encoded = _encode_tuple(nodes, values)  # type: ignore[arg-type]
        if encoded is not None:
            return encoded
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
