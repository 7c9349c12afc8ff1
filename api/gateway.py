"""The API's one way to the chains: lazily connected web3 per configured chain, the deployment
registry and the build's ABIs. Routers take it through a dependency, never through globals."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

from eth_utils.abi import collapse_if_tuple
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import ContractLogicError

from api.errors import ChainStalledApiError, NotFoundError, ServiceUnavailableError
from chain.abiwords import decode_words, encode_words
from chain.addresses import checksummed
from chain.artifacts import Artifacts
from chain.connection import connect
from chain.deployments import DeploymentRegistry
from chain.errors import ChainError, DeploymentError
from chain.health import StallWatch
from chain.settings import ChainSettings, ChainSpec
from record.index.rpc import JsonRpc, RpcError

EIP1271_MAGIC = bytes.fromhex("1626ba7e")
_EIP1271_ABI = [{
    "type": "function", "name": "isValidSignature", "stateMutability": "view",
    "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
    "outputs": [{"name": "magicValue", "type": "bytes4"}],
}]


class ChainGateway:
    def __init__(self, settings: ChainSettings) -> None:
        self.settings = settings
        self._web3: dict[int, Web3] = {}
        self._contracts: dict[tuple[int, str, str], Any] = {}
        self._immutable: dict[tuple[Any, ...], Any] = {}
        self._watches: dict[int, StallWatch] = {}
        self._lock = threading.Lock()
        self._functions: dict[tuple[str, str], tuple[bytes, list[str], list[str]]] = {}
        self._addresses: dict[tuple[int | None, int, str], str] = {}
        """Deployment addresses by (file modification time, chain, name): a redeploy is seen."""
        self._local = threading.local()
        """Per thread: one kept-alive raw JSON-RPC connection per chain (``rpc``)."""

    def specs(self) -> list[ChainSpec]:
        return self.settings.specs("all")

    def spec_for(self, chain_id: int) -> ChainSpec:
        for spec in self.specs():
            if spec.chain_id == chain_id:
                return spec
        known = ", ".join(str(s.chain_id) for s in self.specs())
        raise NotFoundError(f"chain {chain_id} is not served here (known chains: {known})")

    def web3(self, chain_id: int) -> Web3:
        with self._lock:
            if chain_id not in self._web3:
                spec = self.spec_for(chain_id)
                try:
                    web3 = connect(spec)
                except ChainError as exc:
                    raise ServiceUnavailableError(str(exc)) from None
                # The chain id was checked on connect, and what the API sends itself (the breaker's
                # halt, identity registry writes) is signed by TxSender with the chain id set, so
                # web3's validation layer would only add an eth_chainId round trip to every call.
                web3.middleware_onion.remove("validation")
                self._web3[chain_id] = web3
            return self._web3[chain_id]

    def require_progress(self, chain_id: int) -> None:
        """Refuse (503, ``/problems/chain-stalled``) a write on a chain that makes no blocks.

        Routes that build or send transactions call this first; reads never do, so they keep
        answering from the last block. Checked at most once a second per chain; a chain without
        ``CHAINRIGHT_CHAIN_<NAME>_MAX_BLOCK_AGE_S`` (anvil's automine) is not watched.
        """
        spec = self.spec_for(chain_id)
        if spec.max_block_age_s is None:
            return
        with self._lock:
            watch = self._watches.get(chain_id)
        if watch is None:
            watch = StallWatch(self.web3(chain_id), spec.max_block_age_s, tag="api", min_interval_s=1.0)
            with self._lock:
                watch = self._watches.setdefault(chain_id, watch)
        try:
            stall = watch.check()
        except ChainError as exc:
            raise ServiceUnavailableError(str(exc)) from None
        if stall is None:
            return
        raise ChainStalledApiError(
            f"chain {chain_id} ('{spec.name}') has made no block since block {stall.block_number} at "
            f"{stall.since_utc} ({stall.age_s:.0f}s ago): it cannot take transactions now, so none is "
            "built. Reads still answer from its last block. Try again once it makes blocks; its "
            "operators must bring enough validators back (a Clique network needs more than half of its "
            "signers online). Writes are accepted again by themselves when it resumes.",
            chain_id=chain_id, chain=spec.name, last_block=stall.block_number,
            last_block_hash=stall.block_hash, stalled_since=stall.since_utc,
            retry="when the chain makes blocks again",
        )

    @cached_property
    def artifacts(self) -> Artifacts:
        try:
            return Artifacts.load()
        except ChainError as exc:
            raise ServiceUnavailableError(str(exc)) from None

    @property
    def registry(self) -> DeploymentRegistry:
        return DeploymentRegistry(self.settings.deployments_file)

    def address(self, chain_id: int, name: str) -> str:
        try:
            stamp = self.settings.deployments_file.stat().st_mtime_ns
        except OSError:
            stamp = None
        key = (stamp, chain_id, name)
        cached = self._addresses.get(key)
        if cached is None:
            try:
                cached = self.registry.address(chain_id, name)
            except DeploymentError as exc:
                raise ServiceUnavailableError(str(exc)) from None
            with self._lock:
                if len(self._addresses) > 1024:
                    self._addresses.clear()
                self._addresses[key] = cached
        return cached

    def contract(self, chain_id: int, name: str, address: str | None = None, *,
                 artifact: str | None = None) -> Any:
        """A contract object (cached: building one parses its ABI, which is slow in web3)."""
        target = checksummed(address or self.address(chain_id, name))
        key = (chain_id, artifact or name, target)
        cached = self._contracts.get(key)
        if cached is None:
            abi = self.artifacts.get(artifact or name).abi
            cached = self.web3(chain_id).eth.contract(address=target, abi=abi)
            with self._lock:
                if len(self._contracts) > 4096:
                    self._contracts.clear()
                self._contracts[key] = cached
        return cached

    def calldata(self, artifact: str, function: str, args: Sequence[Any]) -> str:
        """ABI-encoded call of ``function`` (not overloaded) of ``artifact``: what
        ``contract.encode_abi`` returns, without web3 re-validating the whole ABI (one keccak per
        function) on every call, which is most of a hot route's time."""
        selector, inputs, _ = self._function(artifact, function)
        return "0x" + (selector + encode_words(inputs, args)).hex()

    def rpc(self, chain_id: int) -> JsonRpc | None:
        """This thread's raw JSON-RPC connection to the chain, kept alive between requests (no web3
        call stack: a read costs a tenth of the CPU); None when the chain is not reached over
        http(s) (then web3 is used)."""
        conns: dict[int, JsonRpc | None] | None = getattr(self._local, "rpc", None)
        if conns is None:
            conns = self._local.rpc = {}
        if chain_id not in conns:
            url = self.spec_for(chain_id).rpc_url
            conns[chain_id] = JsonRpc(url, timeout=30.0) if url.startswith(("http://", "https://")) else None
        return conns[chain_id]

    def view(self, chain_id: int, address: str, artifact: str, function: str, args: Sequence[Any]) -> Any:
        """``eth_call`` of a view at the latest block; its decoded outputs (one value unwrapped)."""
        value = self.views(chain_id, [(address, artifact, function, args)])[0]
        if isinstance(value, RpcError) and isinstance(value.data, str) and value.data.startswith("0x"):
            # a revert, raised as web3 raises one (callers catch ContractLogicError for "no such X")
            raise ContractLogicError(value.message, data=value.data)
        if isinstance(value, Exception):
            raise value
        return value

    def views(self, chain_id: int, calls: Sequence[tuple[str, str, str, Sequence[Any]]]) -> list[Any]:
        """``eth_call`` of each ``(address, artifact, function, args)`` at the latest block, in one
        JSON-RPC batch (one round trip); per call its decoded outputs (one value unwrapped) or the
        exception it failed with (a revert: ``RpcError`` carrying the revert data)."""
        requests: list[tuple[str, list[Any]]] = []
        for address, artifact, function, args in calls:
            requests.append(("eth_call", [{"to": checksummed(address),
                                           "data": self.calldata(artifact, function, args)}, "latest"]))
        rpc = self.rpc(chain_id)
        if rpc is None:
            answers: list[Any] = []
            for _, (call, _block) in requests:
                try:
                    answers.append("0x" + bytes(self.web3(chain_id).eth.call(call)).hex())
                except Exception as exc:  # per call, as the batch answers it
                    answers.append(exc)
        else:
            try:
                answers = rpc.calls(requests)
            except ChainError as exc:
                raise ServiceUnavailableError(str(exc)) from None
        out: list[Any] = []
        for (_, artifact, function, _), answer in zip(calls, answers, strict=True):
            if isinstance(answer, Exception):
                out.append(answer)
                continue
            try:
                values = decode_words(self._function(artifact, function)[2], bytes.fromhex(answer[2:]))
            except Exception as exc:  # e.g. no contract at the address: empty return data
                out.append(exc)
                continue
            out.append(values[0] if len(values) == 1 else values)
        return out

    def _function(self, artifact: str, function: str) -> tuple[bytes, list[str], list[str]]:
        key = (artifact, function)
        entry = self._functions.get(key)
        if entry is None:
            matches = [item for item in self.artifacts.get(artifact).abi
                       if item.get("type") == "function" and item.get("name") == function]
            if len(matches) != 1:
                raise ValueError(f"{artifact}.{function}: {len(matches)} functions of that name")
            inputs = [collapse_if_tuple(dict(i)) for i in matches[0]["inputs"]]
            outputs = [collapse_if_tuple(dict(o)) for o in matches[0]["outputs"]]
            entry = (keccak(text=f"{function}({','.join(inputs)})")[:4], inputs, outputs)
            self._functions[key] = entry
        return entry

    def immutable_call(self, key: tuple[Any, ...], fn: Callable[[], Any]) -> Any:
        """Memoise a view whose answer never changes (e.g. which work a token belongs to)."""
        if key not in self._immutable:
            with self._lock:
                if len(self._immutable) > 65536:
                    self._immutable.clear()
            self._immutable[key] = fn()
        return self._immutable[key]

    def contract_wallet_check(self, chain_id: int) -> Any:
        """An EIP-1271 check for SIWE on ``chain_id``: True when the address is a contract that
        accepts the signature; False when it has no code (then ecrecover decides)."""

        def check(address: str, message_hash: bytes, signature: bytes) -> bool:
            web3 = self.web3(chain_id)
            checksum = checksummed(address)
            try:
                if len(web3.eth.get_code(checksum)) == 0:
                    return False
                wallet = web3.eth.contract(address=checksum, abi=_EIP1271_ABI)
                magic = wallet.functions.isValidSignature(message_hash, signature).call()
            except Exception:  # a reverting or non-conforming wallet refuses the signature
                return False
            return bytes(magic) == EIP1271_MAGIC

        return check
