"""The relayer's edges towards the chains: the two endpoints, reading departure events with custody
checks, and the destination's answers (processed, validator set). No decisions here (see core).

Only logs of the configured source endpoint are read (``get_logs`` filtered by its address and the
departure event), and each is checked against its own transaction: the receipt must be successful
and show the token entering the lockbox (``Transfer(sender, lockbox, tokenId)`` from the collection,
before the event) or the wrapped token being burned (``Transfer(sender, 0, wrappedId)`` from the
wrapped collection), and the state at that block must agree (the lockbox owns the token; the wrapped
token no longer exists). A node that no longer has that block's state (pruned, or anvil restarted
from its state file) answers from the current state instead: the lockbox still owns the token / the
wrapped token is still gone, and no ``Transfer`` of it since (``core.judge_custody``); what cannot
be decided either way is held and looked at again, never retried in a tight loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractCustomError,
    ContractLogicError,
    TransactionNotFound,
    Web3RPCError,
)
from web3.logs import DISCARD

from bridge.core import EventKey, Owner, Route, SourceEvent, Unknown, judge_custody, state_unavailable
from bridge.errors import BridgeConfigError
from bridge.message import BridgeMessage, Rights, wrapped_id
from chain.artifacts import Artifacts
from chain.connection import connect
from chain.deployments import DeploymentRegistry
from chain.engines import final_depth
from chain.settings import ChainSettings
from chain.tx import retry_read

TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")
OWNER_OF_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "ownerOf",
        "stateMutability": "view",
        "inputs": [{"name": "tokenId", "type": "uint256"}],
        "outputs": [{"name": "", "type": "address"}],
    }
]
ZERO = "0x" + "00" * 20


def _hex(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


def _topic_address(value: Any) -> str:
    return to_checksum_address("0x" + bytes(HexBytes(value))[-20:].hex())


@dataclass
class Endpoint:
    """One bridge contract on one chain."""

    name: str
    chain_id: int
    web3: Web3
    contract: Contract
    deploy_block: int
    confirmations: int

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def head(self) -> int:
        return int(retry_read(lambda: self.web3.eth.block_number, what="eth_blockNumber"))

    def processed(self, transfer_id: int) -> bool:
        return bool(
            retry_read(lambda: self.contract.functions.processed(transfer_id).call(), what="processed()")
        )

    def validator_set(self) -> tuple[list[str], int]:
        validators, threshold = retry_read(
            lambda: self.contract.functions.validatorSet().call(), what="validatorSet()"
        )
        return [str(v) for v in validators], int(threshold)


@dataclass
class Link:
    """One direction of the bridge with what it needs to read departures and check custody."""

    route: Route
    source: Endpoint
    dest: Endpoint
    event: str
    """``TokenLocked`` (home -> remote) or ``TokenBurned`` (remote -> home)."""
    wrapped: str
    """The WrappedCollection (remote chain)."""

    @property
    def topic(self) -> bytes:
        items = cast(list[dict[str, Any]], self.source.contract.abi)
        abi = next(i for i in items if i.get("type") == "event" and i["name"] == self.event)
        types = ",".join(_abi_type(i) for i in abi["inputs"])
        return keccak(text=f"{self.event}({types})")

    def fetch(self, start: int, end: int, skip: frozenset[EventKey] = frozenset()) -> list[SourceEvent]:
        """The departure events of blocks ``start``..``end`` with their custody verified (not for
        the events in ``skip``, handled already: they come back with ``custody`` False, unread)."""
        src = self.source
        params: Any = {"fromBlock": start, "toBlock": end, "address": src.address, "topics": [self.topic]}
        logs = retry_read(lambda: src.web3.eth.get_logs(params), what="eth_getLogs")
        receipts: dict[str, Any] = {}
        out: list[SourceEvent] = []
        for raw in logs:
            tx_hash = _hex(raw["transactionHash"])
            key = EventKey(src.chain_id, tx_hash, int(raw["logIndex"]))
            message = self._decode(raw)
            if key in skip:
                out.append(SourceEvent(key, int(raw["blockNumber"]), _hex(raw["blockHash"]),
                                       to_checksum_address(raw["address"]), message, False, "handled"))
                continue
            if tx_hash not in receipts:
                receipts[tx_hash] = retry_read(
                    lambda h=tx_hash: src.web3.eth.get_transaction_receipt(h),  # type: ignore[misc]
                    what="eth_getTransactionReceipt",
                )
            custody, note = self._custody(raw, message, receipts[tx_hash])
            out.append(
                SourceEvent(
                    key=key,
                    block_number=int(raw["blockNumber"]),
                    block_hash=_hex(raw["blockHash"]),
                    emitter=to_checksum_address(raw["address"]),
                    message=message,
                    custody=custody,
                    custody_note=note,
                )
            )
        return out

    def _decode(self, raw: Mapping[str, Any]) -> BridgeMessage | None:
        try:
            decoded = getattr(self.source.contract.events, self.event)().process_log(raw)
        except Exception:  # a log with our topic that does not decode: rejected by the plan
            return None
        args = decoded["args"]
        r = args["rights"]
        rights = Rights.from_fields(r)
        return BridgeMessage(
            source_chain_id=self.source.chain_id,
            dest_chain_id=int(args["destChainId"]),
            source_bridge=to_checksum_address(raw["address"]),
            dest_bridge=self.dest.address,
            transfer_id=int(args["transferId"]),
            collection=to_checksum_address(args["collection"]),
            token_id=int(args["tokenId"]),
            sender=to_checksum_address(args["sender"]),
            recipient=to_checksum_address(args["recipient"]),
            rights=rights,
        )

    def _custody(
        self, raw: Mapping[str, Any], m: BridgeMessage | None, receipt: Any
    ) -> tuple[bool | None, str]:
        if m is None:
            return False, "undecodable"
        if int(receipt["status"]) != 1:
            return False, "the transaction failed"
        index = int(raw["logIndex"])
        block = int(raw["blockNumber"])
        if self.event == "TokenLocked":
            token, to, token_id, what = m.collection, self.source.address, m.token_id, "into the lockbox"
        else:
            token, to, token_id, what = self.wrapped, ZERO, wrapped_id(m.collection, m.token_id), "burned"
        moved = any(
            to_checksum_address(lg["address"]) == to_checksum_address(token)
            and len(lg["topics"]) == 4
            and bytes(HexBytes(lg["topics"][0])) == TRANSFER_TOPIC
            and _topic_address(lg["topics"][1]) == m.sender
            and _topic_address(lg["topics"][2]) == to
            and int.from_bytes(bytes(HexBytes(lg["topics"][3])), "big") == token_id
            and int(lg["logIndex"]) < index
            for lg in receipt["logs"]
        )
        if not moved:
            return False, f"no transfer of token {token_id} {what} in the same transaction"
        at_block = self._owner_at(token, token_id, block)
        now: Owner = None
        since: int | Unknown | None = None
        if isinstance(at_block, Unknown):  # no state at that block: the current state must show the same
            now = self._owner_at(token, token_id, "latest")
            since = self._moved_since(token, token_id, block, index)
        return judge_custody(lock=self.event == "TokenLocked", holder=self.source.address, block=block,
                             owner_at_block=at_block, owner_now=now, moved_since=since)

    def _owner_at(self, token: str, token_id: int, block: int | str) -> Owner:
        """``ownerOf(token_id)`` at ``block``: the owner, None when the token does not exist there,
        Unknown when the node cannot answer (pruned state, or any other node error: the caller then
        falls back to what is still sound). A chain that does not answer raises ChainUnavailableError."""
        contract = self.source.web3.eth.contract(address=to_checksum_address(token), abi=OWNER_OF_ABI)
        try:
            owner = retry_read(
                lambda: contract.functions.ownerOf(token_id).call(block_identifier=block),  # type: ignore[arg-type]
                what="ownerOf()",
            )
        except (ContractLogicError, ContractCustomError, BadFunctionCallOutput):
            return None
        except (Web3RPCError, ValueError) as exc:
            text = str(exc)
            kind = "state not kept" if state_unavailable(text) else "node error"
            return Unknown(f"ownerOf at block {block}: {kind}: {text[:200]}")
        return to_checksum_address(owner)

    def _moved_since(self, token: str, token_id: int, block: int, index: int) -> int | Unknown | None:
        """The first block with a ``Transfer`` of ``token_id`` after log ``index`` of ``block`` (the
        departure), None when there is none up to the head."""
        params: Any = {
            "fromBlock": block,
            "toBlock": "latest",
            "address": to_checksum_address(token),
            "topics": [TRANSFER_TOPIC, None, None, token_id.to_bytes(32, "big")],
        }
        try:
            logs = retry_read(lambda: self.source.web3.eth.get_logs(params), what="eth_getLogs")
        except (Web3RPCError, ValueError) as exc:
            return Unknown(f"Transfer logs since block {block}: {str(exc)[:200]}")
        later = [int(lg["blockNumber"]) for lg in logs
                 if (int(lg["blockNumber"]), int(lg["logIndex"])) > (block, index)]
        return min(later, default=None)

    def source_canonical(self, tx_hash: str, block_hash: str) -> bool:
        """True while the departure's transaction is still in the block it was seen in."""
        try:
            receipt = retry_read(
                lambda: self.source.web3.eth.get_transaction_receipt(tx_hash),  # type: ignore[arg-type]
                what="eth_getTransactionReceipt",
            )
        except TransactionNotFound:
            return False
        return _hex(receipt["blockHash"]) == block_hash and int(receipt["status"]) == 1

    def deliver_call(self, message: BridgeMessage, signatures: Sequence[bytes]) -> Any:
        return self.dest.contract.functions.deliver(message.as_tuple(), list(signatures))


def _abi_type(item: Mapping[str, Any]) -> str:
    if str(item["type"]).startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + str(item["type"])[5:]
    return str(item["type"])


def build_links(chain: ChainSettings, artifacts: Artifacts, confirmations: Mapping[str, int]) -> list[Link]:
    """Both directions, from the deployment registry; raises BridgeConfigError when the bridge is not
    deployed or its ends are not linked, and ChainError when a chain does not answer."""
    registry = DeploymentRegistry(chain.deployments_file)
    home, remote = chain.spec("home"), chain.spec("remote")
    wanted = {
        (home.chain_id, "HomeLockbox"),
        (remote.chain_id, "RemoteBridge"),
        (remote.chain_id, "WrappedCollection"),
    }
    found = {(cid, name): registry.get(cid, name) for cid, name in wanted}
    missing = [f"{name} on chain {cid}" for (cid, name), dep in found.items() if dep is None]
    if missing:
        raise BridgeConfigError(
            f"the bridge is not deployed ({', '.join(sorted(missing))} missing from "
            f"{chain.deployments_file}); run 'chainright deploy --chain all'"
        )
    lockbox_dep = found[(home.chain_id, "HomeLockbox")]
    bridge_dep = found[(remote.chain_id, "RemoteBridge")]
    wrapped_dep = found[(remote.chain_id, "WrappedCollection")]
    assert lockbox_dep is not None and bridge_dep is not None and wrapped_dep is not None
    w_home, w_remote = connect(home), connect(remote)
    for w in (w_home, w_remote):
        # The chain id was checked on connect and every transaction is signed with it; web3's validation
        # layer would ask the node for it again on every call (one extra round trip per RPC).
        w.middleware_onion.remove("validation")
        w.middleware_onion.remove("ens_name_to_address")
    lockbox = w_home.eth.contract(
        address=to_checksum_address(lockbox_dep.address), abi=artifacts.get("HomeLockbox").abi
    )
    remote_bridge = w_remote.eth.contract(
        address=to_checksum_address(bridge_dep.address), abi=artifacts.get("RemoteBridge").abi
    )
    # Finality by engine (chain.engines): on a BFT chain a committed block is final, depth 0.
    home_depth = final_depth(w_home, confirmations["home"], who=f"relayer[{home.chain_id}]")
    remote_depth = final_depth(w_remote, confirmations["remote"], who=f"relayer[{remote.chain_id}]")
    home_ep = Endpoint("home", int(home.chain_id), w_home, lockbox, lockbox_dep.block, home_depth)
    remote_ep = Endpoint(
        "remote", int(remote.chain_id), w_remote, remote_bridge, bridge_dep.block, remote_depth
    )
    for ep, other in ((home_ep, remote_ep), (remote_ep, home_ep)):
        if len(retry_read(lambda e=ep: e.web3.eth.get_code(e.contract.address), what="eth_getCode")) == 0:  # type: ignore[misc]
            raise BridgeConfigError(
                f"no code at the {ep.name} endpoint {ep.address} (chain {ep.chain_id}); "
                "the chain was reset: run 'chainright deploy --chain all'"
            )
        peer = retry_read(lambda e=ep: e.contract.functions.peer().call(), what="peer()")  # type: ignore[misc]
        if int(peer[0]) != other.chain_id or str(peer[1]).lower() != other.address.lower():
            raise BridgeConfigError(
                f"the {ep.name} endpoint {ep.address} names peer {peer[1]} on chain {peer[0]}, "
                f"not {other.address} on {other.chain_id}; run 'chainright deploy --chain all'"
            )
    wrapped = to_checksum_address(wrapped_dep.address)
    return [
        Link(
            Route(home_ep.chain_id, home_ep.address, remote_ep.chain_id, remote_ep.address),
            home_ep,
            remote_ep,
            "TokenLocked",
            wrapped,
        ),
        Link(
            Route(remote_ep.chain_id, remote_ep.address, home_ep.chain_id, home_ep.address),
            remote_ep,
            home_ep,
            "TokenBurned",
            wrapped,
        ),
    ]


def decode_events(contract: Contract, receipt: Any, name: str) -> list[Any]:
    """Events ``name`` of ``contract`` in ``receipt`` (other contracts' logs ignored)."""
    return list(getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD))
