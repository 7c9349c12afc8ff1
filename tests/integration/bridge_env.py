"""Shared setup of the bridge integration tests: two anvils of our own (NodeManager on free ports), the
contract families deployed and linked as `chainright deploy` does, and relayer processes started,
SIGKILLed and restarted as real `python -m chainright relayer run` subprocesses.

Accounts: deployer 0, creator 1, collector 2 (home and remote), submitter 8 (relayer default),
validators 10, 11, 12 (relayer defaults; they only sign).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from web3 import Web3
from web3.logs import DISCARD

from bridge.message import BridgeMessage, Rights, sign_digest, sorted_signatures, wrapped_id
from chain.artifacts import Artifacts
from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.deploy import BridgeOptions, deploy_all, link_all
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.reverts import ErrorDecoder
from chain.rpc import rpc_call
from chain.settings import PROJECT_ROOT, ChainSettings
from chain.tx import TxSender
from devnet.anvil import NodeManager
from tests.conftest import chain_settings_for, settings_env

ZERO = "0x" + "00" * 20
DEPLOYER, CREATOR, COLLECTOR = 0, 1, 2
ROLES = ("validator-0", "validator-1", "validator-2", "submitter")


def _argv(name: str) -> list[str]:
    base = [sys.executable, "-m", "chainright", "relayer", "run"]
    if name == "submitter":
        return [*base, "--role", "submitter"]
    if name == "all":
        return [*base, "--role", "all"]
    return [*base, "--role", "validator", "--validator-index", name.rsplit("-", 1)[1]]


@dataclass
class BridgeEnv:
    chain: ChainSettings
    artifacts: Artifacts
    home: Web3
    remote: Web3
    addresses: dict[str, dict[str, str]]
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: int = 0
    manager: NodeManager | None = None

    def restart_chain(self, name: str) -> None:
        """Stop chain ``name``'s anvil (SIGTERM: it saves its state file) and start it again from that
        file, as `make up` does after Ctrl-C: blocks and receipts come back, historical state does not."""
        assert self.manager is not None and self.chain.persist_state, "make_env(persist_state=True)"
        assert self.manager.stop_one(name), f"{name} was not running"
        self.manager.start([self.chain.spec(name)])  # type: ignore[arg-type]

    # -- contracts ----------------------------------------------------------------------------

    def at(self, web3: Web3, name: str, address: str | None = None) -> Any:
        chain = "home" if web3 is self.home else "remote"
        return web3.eth.contract(address=address or self.addresses[chain][name],  # type: ignore[call-overload]
                                 abi=self.artifacts.get(name).abi)

    @property
    def lockbox(self) -> Any:
        return self.at(self.home, "HomeLockbox")

    @property
    def remote_bridge(self) -> Any:
        return self.at(self.remote, "RemoteBridge")

    @property
    def wrapped(self) -> Any:
        return self.at(self.remote, "WrappedCollection")

    def sender(self, web3: Web3, index: int) -> TxSender:
        decoder = ErrorDecoder(self.artifacts.get(n).abi for n in self.artifacts.names())
        return TxSender(web3, dev_account(index), decoder=decoder)

    def send(self, web3: Web3, index: int, fn: Any) -> Any:
        s = self.sender(web3, index)
        return s.transact(s.call_tx(fn))

    def collection(self, label: str, *, bps: int = 500, receiver: int | str = 4) -> Any:
        """A home collection by the creator; ``receiver``: royalty receiver (dev account index or address)."""
        factory = self.at(self.home, "CollectionFactory")
        salt = hashlib.sha256(f"bridge-it:{label}".encode()).digest()
        royalty_to = receiver if isinstance(receiver, str) else dev_account(receiver).address
        settings = (f"Bridge {label}", "BRG", dev_account(CREATOR).address, royalty_to, bps, ZERO, False)
        self.send(self.home, CREATOR, factory.functions.createCollection(settings, salt))
        address = factory.functions.predictCollectionAddress(dev_account(CREATOR).address, salt).call()
        return self.at(self.home, "CreatorCollection", address)

    def mint_edition(self, collection: Any, quantity: int, label: str) -> tuple[int, bytes]:
        """``quantity`` tokens of one work to the collector in one transaction: (first id, content hash)."""
        content = f"bridge-it-work:{label}".encode()
        content_hash = hashlib.sha256(content).digest()
        first = collection.functions.totalSupply().call() + 1
        fn = collection.functions.mintEdition(dev_account(COLLECTOR).address, quantity, content_hash,
                                              cid_to_bytes(raw_cid(content)))
        self.send(self.home, CREATOR, fn)
        self.send(self.home, COLLECTOR, collection.functions.setApprovalForAll(self.lockbox.address, True))
        return first, content_hash

    def lock_many(self, collection: Any, token_ids: list[int], content_hash: bytes) -> list[Any]:
        """Lock tokens for the collector on remote: signed and sent together, receipts checked."""
        s = self.sender(self.home, COLLECTOR)
        remote_id = self.chain.spec("remote").chain_id
        txs = [s.call_tx(self.lockbox.functions.lock(collection.address, t, s.address, remote_id, content_hash))
               for t in token_ids]
        return [self.home.eth.get_transaction_receipt(h) for h in s.transact_many(txs)]

    def locked_messages(self, receipts: list[Any]) -> list[BridgeMessage]:
        out = []
        for receipt in receipts:
            for ev in self.lockbox.events.TokenLocked().process_receipt(receipt, errors=DISCARD):
                a, r = ev["args"], ev["args"]["rights"]
                out.append(BridgeMessage(
                    self.chain.spec("home").chain_id, a["destChainId"], self.lockbox.address,
                    self.remote_bridge.address, a["transferId"], a["collection"], a["tokenId"], a["sender"],
                    a["recipient"], Rights.from_fields(r)))
        return out

    def minted(self, to_block: int | str = "latest") -> dict[int, int]:
        """Transfer id -> number of TokenMinted events for it on the remote chain."""
        logs = self.remote_bridge.events.TokenMinted().get_logs(from_block=0, to_block=to_block)
        counts: dict[int, int] = {}
        for lg in logs:
            counts[lg["args"]["transferId"]] = counts.get(lg["args"]["transferId"], 0) + 1
        return counts

    def unlocked(self, to_block: int | str = "latest") -> dict[int, int]:
        logs = self.lockbox.events.TokenUnlocked().get_logs(from_block=0, to_block=to_block)
        counts: dict[int, int] = {}
        for lg in logs:
            counts[lg["args"]["transferId"]] = counts.get(lg["args"]["transferId"], 0) + 1
        return counts

    def home_provenance(self, previous: bytes, collection: str, token_id: int, sender: str, receipt: Any,
                        content_hash: bytes) -> bytes:
        """A home lock's provenance step, recomputed from the home chain (see IHomeLockbox)."""
        record = self.at(self.home, "RightsRegistry").functions.recordOf(content_hash).call()
        parent = bytes(self.home.eth.get_block(receipt["blockNumber"] - 1)["hash"])
        state = keccak(abi_encode(["bytes32", "bytes32", "address", "uint256", "uint64"],
                                  [parent, content_hash, record[2], record[1], record[3]]))
        return keccak(abi_encode(
            ["bytes32", "uint256", "address", "uint256", "address", "uint256", "bytes32"],
            [previous, self.chain.spec("home").chain_id, collection, token_id, sender, receipt["blockNumber"],
             state]))

    @staticmethod
    def signatures(message: BridgeMessage, signers: tuple[int, ...]) -> list[bytes]:
        """Signatures of ``message`` by dev accounts ``signers``, ordered by signer as deliver wants."""
        digest = message.digest()
        return sorted_signatures(digest, [sign_digest(digest, dev_account(i).key.hex()) for i in signers])

    def deliver_call(self, web3: Web3, message: BridgeMessage, signers: tuple[int, ...]) -> tuple[str, tuple[Any, ...]]:
        """eth_call of ``deliver(message, signatures by signers)`` at the endpoint ``message`` names as
        its destination on ``web3``, from the submitter; the custom error it reverts with (name, args),
        or ("ok", ()) when it would succeed."""
        signatures = self.signatures(message, signers)
        name = "HomeLockbox" if web3 is self.home else "RemoteBridge"
        endpoint = self.at(web3, name)
        try:
            endpoint.functions.deliver(message.as_tuple(), signatures).call({"from": dev_account(8).address})
        except Exception as exc:  # web3 raises ContractCustomError / ContractLogicError with the data
            data = getattr(exc, "data", None)
            raw = bytes.fromhex(data[2:]) if isinstance(data, str) and data.startswith("0x") else b""
            decoded = ErrorDecoder(self.artifacts.get(n).abi for n in self.artifacts.names()).decode(raw)
            assert decoded is not None, f"undecodable revert: {exc!r}"
            name, args = decoded
            return name, tuple(Web3.to_checksum_address(a) if isinstance(a, str) and len(a) == 42 else a
                               for a in args)
        return "ok", ()

    def wrapped_id(self, collection: Any, token_id: int) -> int:
        return wrapped_id(collection.address, token_id)

    # -- relayer processes ----------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        env = settings_env(self.chain)
        env["PATH"] = os.pathsep.join([str(PROJECT_ROOT / ".venv" / "bin"), str(PROJECT_ROOT / ".bin"),
                                       env.get("PATH", "")])
        env.setdefault("CHAINRIGHT_BRIDGE_POLL_INTERVAL_S", "0.1")
        env["CHAINRIGHT_BRIDGE_ENVIRONMENT"] = "test"
        env.update(self.extra_env)
        return env

    def log_file(self, name: str) -> Path:
        return self.chain.data_dir / f"relayer-{name}.log"

    def start(self, name: str) -> None:
        assert name not in self.procs or self.procs[name].poll() is not None, f"{name} already runs"
        with open(self.log_file(name), "ab") as out:
            self.procs[name] = subprocess.Popen(_argv(name), env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT)
        self.starts += 1

    def start_all(self) -> None:
        for name in ROLES:
            self.start(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(sig)
        proc.wait(timeout=30)

    def alive(self, name: str) -> bool:
        return name in self.procs and self.procs[name].poll() is None

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self) -> str:
        parts = []
        for name in sorted({*ROLES, "all", *self.procs}):
            path = self.log_file(name)
            if path.exists():
                parts.append(f"--- {name} ---\n" + path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    def status(self) -> str:
        out = subprocess.run([sys.executable, "-m", "chainright", "relayer", "status"], env=self.env,
                             capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.logs()}")

    def wait_scanned(self, chain: str, block: int, timeout: float = 60) -> None:
        """Wait until every validator's checkpoint on ``chain`` is past ``block``."""
        from bridge.store import BridgeStore

        store = BridgeStore.open(f"sqlite:///{self.chain.data_dir / 'bridge.db'}")
        chain_id = self.chain.spec(chain).chain_id  # type: ignore[arg-type]

        def scanned() -> bool:
            marks = [store.checkpoint(f"validator-{i}", chain_id) for i in range(3)]
            return all(m is not None and m > block for m in marks)

        try:
            self.wait_for(scanned, timeout, f"the validators to scan {chain} block {block}")
        finally:
            store.engine.dispose()

    def mine(self, web3: Web3, blocks: int = 1) -> None:
        url = str(web3.provider.endpoint_uri)  # type: ignore[attr-defined]
        for _ in range(blocks):
            rpc_call(url, "evm_mine")


def make_env(tmp: Path, artifacts: Artifacts, *, persist_state: bool = False,
             **bridge_env: str) -> Iterator[BridgeEnv]:
    """Start both anvils, deploy and link every family, yield the environment, stop everything.
    ``persist_state``: the anvils keep state files (``BridgeEnv.restart_chain``)."""
    chain = chain_settings_for(tmp, persist_state=persist_state)
    manager = NodeManager(chain)
    manager.start(chain.specs("all"))
    env: BridgeEnv | None = None
    try:
        registry = DeploymentRegistry(chain.deployments_file)
        decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
        senders = {}
        # The collector moves up to 100 tokens of one collection at once (test_bridge_crash): its and its
        # collections' budgets are the whole ceiling here (the budgets have contract tests of their own).
        options = BridgeOptions(per_sender=BridgeOptions.limit, per_collection=BridgeOptions.limit)
        for spec in chain.specs("all"):
            senders[spec.name] = TxSender(connect(spec), dev_account(DEPLOYER), decoder=decoder)
            deploy_all(senders[spec.name], artifacts, registry, chain_name=spec.name, bridge=options)
        chain_ids: dict[str, int] = {s.name: int(s.chain_id) for s in chain.specs("all")}
        for spec in chain.specs("all"):
            link_all(senders[spec.name], artifacts, registry, chain_name=spec.name, chain_ids=chain_ids)
        addresses = {name: {n: d.address for n, d in registry.for_chain(cid).items()}
                     for name, cid in chain_ids.items()}
        env = BridgeEnv(chain, artifacts, senders["home"].web3, senders["remote"].web3, addresses,
                        extra_env=dict(bridge_env), manager=manager)
        yield env
    finally:
        if env is not None:
            env.stop_all()
        manager.stop(["home", "remote"])
