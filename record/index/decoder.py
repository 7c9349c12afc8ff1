"""Decode raw logs of the contracts we watch, with their ABIs from the build.

Each event is compiled once, when the decoder is built, into a plan: per argument a converter
from its 32-byte word (hex) to the stored value. Static arguments (addresses, unsigned integers,
``int256``, ``bool``, ``bytes32``) are read straight from the hex words; anything else (and any
word whose padding is not what the ABI requires) goes through eth-abi with a decoder built once
per event. Addresses are checksummed through a cache. Logs are accepted in the node's raw JSON
(hex strings) or as web3 formats them (ints and bytes); both give the same ``DecodedEvent``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi.abi import default_codec
from eth_abi.decoding import TupleDecoder
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address

from chain.artifacts import abi_type


@dataclass(frozen=True)
class DecodedEvent:
    chain_id: int
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    address: str
    contract: str
    event: str
    args: dict[str, Any]

    @property
    def token_id(self) -> str | None:
        for name in ("tokenId", "id", "workId", "wrappedTokenId"):
            if name in self.args:
                return str(self.args[name])
        return None

    @property
    def ref_address(self) -> str:
        """The token contract an event is about: its ``collection``/``token`` argument, else the
        emitting contract."""
        for name in ("collection", "token", "nft"):
            value = self.args.get(name)
            if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
                return str(value)
        return self.address

    def args_json(self) -> str:
        return _ARGS_JSON.encode(self.args)


_ARGS_JSON = json.JSONEncoder(sort_keys=True, default=str)
"""``json.dumps(args, sort_keys=True, default=str)`` without building an encoder per call."""


@lru_cache(maxsize=1 << 16)
def checksum(address: str) -> str:
    """The EIP-55 spelling of ``address`` (cached: a chain's logs name the same few addresses)."""
    return str(to_checksum_address(address))


_MAX_EXACT = 2**53
"""Integers above this are stored as strings (JSON readers lose precision beyond it)."""


def jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_EXACT:
        return str(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return checksum(value)
    return value


class _FallbackError(Exception):
    """A word that the fast path does not read as the ABI requires: let eth-abi decide."""


_ZERO_PAD = "0" * 24
_TWO_255 = 2**255
_TWO_256 = 2**256

Word = Callable[[str], Any]
"""Reads one 64-hex-digit word into the stored value, or raises ``_FallbackError``."""


def _address_word(word: str) -> str:
    if not word.startswith(_ZERO_PAD):
        raise _FallbackError
    return checksum("0x" + word[24:])


def _uint_word(bits: int) -> Word:
    limit = 1 << bits

    def read(word: str) -> Any:
        value = int(word, 16)
        if value >= limit:
            raise _FallbackError
        return value if value <= _MAX_EXACT else str(value)
    return read


def _int256_word(word: str) -> Any:
    value = int(word, 16)
    if value >= _TWO_255:
        value -= _TWO_256
    return value if abs(value) <= _MAX_EXACT else str(value)


def _bool_word(word: str) -> bool:
    value = int(word, 16)
    if value > 1:
        raise _FallbackError
    return value == 1


def _bytes32_word(word: str) -> str:
    return "0x" + word.lower()


def _word_reader(typ: str) -> Word | None:
    """The fast reader of a static type, or None (eth-abi decodes it)."""
    if typ == "address":
        return _address_word
    if typ == "bool":
        return _bool_word
    if typ == "bytes32":
        return _bytes32_word
    if typ == "int256":
        return _int256_word
    if typ.startswith("uint") and typ[4:].isdigit():
        return _uint_word(int(typ[4:]))
    return None


def _hashed_in_topic(typ: str) -> bool:
    return typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("(")


class _EventPlan:
    """How to decode one event: compiled once per (contract, topic0)."""

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.name = str(item["name"])
        inputs = item["inputs"]
        indexed = [i for i in inputs if i.get("indexed")]
        plain = [i for i in inputs if not i.get("indexed")]
        self.topic_count = len(indexed) + 1
        self.indexed: list[tuple[str, str, Word | None]] = []
        for inp in indexed:
            typ = abi_type(inp)
            self.indexed.append((inp["name"], typ, None if _hashed_in_topic(typ) else _word_reader(typ)))
        self.plain_names = [str(i["name"]) for i in plain]
        self.plain_types = [abi_type(i) for i in plain]
        readers = [_word_reader(t) for t in self.plain_types]
        self.plain_fast: list[Word] | None = (
            [r for r in readers if r is not None] if all(r is not None for r in readers) else None)
        registry = default_codec._registry
        self.plain_decoder = TupleDecoder(  # type: ignore[no-untyped-call]
            decoders=[registry.get_decoder(t, strict=True) for t in self.plain_types]) if plain else None
        self.topic_decoders = {typ: registry.get_decoder(typ, strict=True)
                               for _name, typ, _r in self.indexed if not _hashed_in_topic(typ)}

    def args(self, topics: Sequence[str], data: str) -> dict[str, Any]:
        """``topics``: the log's topics (0x hex, topic0 first); ``data``: 0x hex."""
        args: dict[str, Any] = {}
        for i, (name, typ, read) in enumerate(self.indexed, 1):
            topic = topics[i][2:]
            if read is None and _hashed_in_topic(typ):
                args[name] = "0x" + topic.lower()  # the value is hashed in the topic
                continue
            try:
                if read is None:
                    raise _FallbackError
                args[name] = read(topic)
            except _FallbackError:
                args[name] = jsonable(self._slow(self.topic_decoders[typ], bytes.fromhex(topic)))
        if self.plain_names:
            body = data[2:]
            fast = self.plain_fast
            if fast is not None and len(body) == 64 * len(fast):
                try:
                    for i, (name, read) in enumerate(zip(self.plain_names, fast, strict=True)):
                        args[name] = read(body[64 * i:64 * i + 64])
                    return args
                except _FallbackError:
                    pass
            assert self.plain_decoder is not None
            values = self._slow(self.plain_decoder, bytes.fromhex(body))
            for name, value in zip(self.plain_names, values, strict=True):
                args[name] = jsonable(value)
        return args

    @staticmethod
    def _slow(decoder: Any, data: bytes) -> Any:
        return decoder(default_codec.stream_class(data))  # type: ignore[no-untyped-call]


def _hex(value: Any) -> str:
    """A hex string (0x) from the node's JSON (str) or web3's formatting (bytes)."""
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def _as_raw(log: Mapping[str, Any]) -> dict[str, Any]:
    """A web3-formatted log (ints, bytes) in the node's JSON form (hex strings)."""
    return {"topics": [_hex(t) for t in log["topics"]], "data": _hex(log["data"]),
            "address": str(log["address"]), "blockHash": _hex(log["blockHash"]),
            "transactionHash": _hex(log["transactionHash"]),
            "blockNumber": hex(int(log["blockNumber"])), "logIndex": hex(int(log["logIndex"]))}


class EventDecoder:
    """Knows, per contract name, its events by topic0, each compiled once into a plan."""

    def __init__(self, abis: Mapping[str, list[dict[str, Any]]]) -> None:
        self._plans: dict[str, dict[str, _EventPlan]] = {}
        for name, abi in abis.items():
            table: dict[str, _EventPlan] = {}
            for item in abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    topic = "0x" + bytes(event_abi_to_log_topic(item)).hex()  # type: ignore[arg-type]
                    table[topic] = _EventPlan(item)
            self._plans[name] = table

    def contracts(self) -> Iterable[str]:
        return self._plans.keys()

    def decode(self, contract: str, log: Mapping[str, Any], chain_id: int) -> DecodedEvent | None:
        """Decode ``log`` as an event of ``contract``; None when it is not one of its events."""
        topics = log["topics"]
        if not topics:
            return None
        if not isinstance(topics[0], str):
            return self.decode(contract, _as_raw(log), chain_id)
        plans = self._plans.get(contract)
        plan = plans.get(topics[0].lower()) if plans is not None else None
        if plan is None:
            return None
        if plan.topic_count != len(topics):
            return None  # same signature, other layout (e.g. ERC-20 vs ERC-721 Transfer)
        return DecodedEvent(chain_id, int(log["blockNumber"], 16), log["blockHash"].lower(),
                            log["transactionHash"].lower(), int(log["logIndex"], 16),
                            checksum(log["address"].lower()), contract, plan.name,
                            plan.args(topics, log["data"]))
