"""The API's one way to the chains: lazily connected web3 per configured chain, the deployment
registry and the build's ABIs. Routers take it through a dependency, never through globals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any

from web3 import Web3

from api.errors import ChainStalledApiError, NotFoundError, ServiceUnavailableError
from chain.artifacts import Artifacts
from chain.connection import connect
from chain.deployments import DeploymentRegistry
from chain.errors import ChainError, DeploymentError
from chain.health import StallWatch
from chain.settings import ChainSettings, ChainSpec

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
                    self._web3[chain_id] = connect(spec)
                except ChainError as exc:
                    raise ServiceUnavailableError(str(exc)) from None
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
            return self.registry.address(chain_id, name)
        except DeploymentError as exc:
            raise ServiceUnavailableError(str(exc)) from None

    def contract(self, chain_id: int, name: str, address: str | None = None, *,
                 artifact: str | None = None) -> Any:
        """A contract object (cached: building one parses its ABI, which is slow in web3)."""
        target = Web3.to_checksum_address(address or self.address(chain_id, name))
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
            checksum = Web3.to_checksum_address(address)
            try:
                if len(web3.eth.get_code(checksum)) == 0:
                    return False
                wallet = web3.eth.contract(address=checksum, abi=_EIP1271_ABI)
                magic = wallet.functions.isValidSignature(message_hash, signature).call()
            except Exception:  # a reverting or non-conforming wallet refuses the signature
                return False
            return bytes(magic) == EIP1271_MAGIC

        return check
