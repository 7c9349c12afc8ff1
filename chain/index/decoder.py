"""Decode raw logs of the contracts we watch, with their ABIs from the build."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

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
        return json.dumps(self.args, sort_keys=True, default=str)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value


class EventDecoder:
    """Knows, per contract name, its events by topic0."""

    def __init__(self, abis: Mapping[str, list[dict[str, Any]]]) -> None:
        self._events: dict[str, dict[bytes, dict[str, Any]]] = {}
        for name, abi in abis.items():
            table: dict[bytes, dict[str, Any]] = {}
            for item in abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    table[bytes(event_abi_to_log_topic(item))] = item  # type: ignore[arg-type]
            self._events[name] = table

    def contracts(self) -> Iterable[str]:
        return self._events.keys()

    def decode(self, contract: str, log: Mapping[str, Any], chain_id: int) -> DecodedEvent | None:
        """Decode ``log`` as an event of ``contract``; None when it is not one of its events."""
        topics = [HexBytes(t) for t in log["topics"]]
        if not topics:
            return None
        item = self._events.get(contract, {}).get(bytes(topics[0]))
        if item is None:
            return None
        indexed = [i for i in item["inputs"] if i.get("indexed")]
        plain = [i for i in item["inputs"] if not i.get("indexed")]
        if len(indexed) != len(topics) - 1:
            return None  # same signature, other layout (e.g. ERC-20 vs ERC-721 Transfer)
        args: dict[str, Any] = {}
        for inp, topic in zip(indexed, topics[1:], strict=True):
            typ = abi_type(inp)
            if typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("("):
                args[inp["name"]] = "0x" + bytes(topic).hex()  # hashed in the topic
            else:
                args[inp["name"]] = _jsonable(abi_decode([typ], bytes(topic))[0])
        if plain:
            values = abi_decode([abi_type(i) for i in plain], bytes(HexBytes(log["data"])))
            for inp, value in zip(plain, values, strict=True):
                args[inp["name"]] = _jsonable(value)
        return DecodedEvent(
            chain_id=chain_id,
            block_number=int(log["blockNumber"]),
            block_hash="0x" + bytes(HexBytes(log["blockHash"])).hex(),
            tx_hash="0x" + bytes(HexBytes(log["transactionHash"])).hex(),
            log_index=int(log["logIndex"]),
            address=to_checksum_address(log["address"]),
            contract=contract,
            event=item["name"],
            args=args,
        )
