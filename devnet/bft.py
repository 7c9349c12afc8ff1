"""A local BFT consortium network: N bftd validators (CometBFT + cosmos/evm) on loopback.

``.bin/bftd`` is built by ``tools/bft/build.sh``. :class:`BftNetwork` lays out one home directory
per validator (``bftd init``), writes one genesis for all of them (the validators' consensus keys,
the development accounts' balances), wires the peers and ports, and starts, stops and restarts the
validator processes by their own PIDs. Each validator serves Ethereum JSON-RPC on its own port.

A validator started here leaves a PID record in ``run/validator<i>.json`` (the consortium's
``NodeProcess``, written and checked by ``devnet.consortium.process``), so a later process
(``chainright consortium down --engine bft``) stops exactly the validators that were started, and
only while ``/proc/<pid>/cmdline`` is still that bftd with that ``--home``.

CometBFT commits a block once more than two thirds of the voting power have signed it, so a
committed block is final: 4 validators keep going with 1 stopped and halt (without forking) with 2
stopped, until enough of them return.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain.devaccounts import dev_account
from chain.errors import ChainUnavailableError, NodeBinaryMissingError, NodeError, NodeStartError
from chain.rpc import rpc_call
from chain.settings import PROJECT_ROOT
from devnet.anvil import alive, port_is_free, read_pid_record, reap, terminate
from devnet.consortium.process import NodeProcess, is_our_process, write_record

BASE_DENOM = "acrb"
"""The chain's coin in its smallest unit (18 decimals: one acrb is one wei)."""
BECH32_PREFIX = "cr"
DEV_ACCOUNT_COUNT = 10
DEV_BALANCE_WEI = 10_000 * 10**18


class BftNetworkError(NodeError):
    """Raised when the BFT network cannot be laid out, started or stopped."""


class BftSettings(BaseSettings):
    """Settings of the local BFT network (environment prefix ``CHAINRIGHT_BFT_``)."""

    model_config = SettingsConfigDict(env_prefix="CHAINRIGHT_BFT_", extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / ".chainright" / "bft")
    host: str = "127.0.0.1"
    chain_id: int = Field(default=1339, ge=1)
    """The EVM chain id (eth_chainId); distinct from Clique's 1337 and the anvils' 31337/31338."""
    validators: int = Field(default=4, ge=1, le=16)
    base_port: int = Field(default=8700, ge=1024, le=65000)
    """Validator i uses base_port + 10i .. + 10i + 5 (see :meth:`BftNetwork.ports`)."""
    block_time_s: float = Field(default=1.0, gt=0, le=30)
    """CometBFT's timeout_commit: the pause after a commit before the next height starts."""
    gas_limit: int = Field(default=30_000_000, ge=5_000_000)
    bftd_bin: Path | None = None
    """Path of bftd; default: the project's .bin/bftd (tools/bft/build.sh)."""
    start_timeout_s: float = Field(default=90.0, gt=0)

    @property
    def cosmos_chain_id(self) -> str:
        return f"chainright-bft-{self.chain_id}"

    @property
    def stall_age_s(self) -> float:
        """Head age (s) after which the network counts as stalled: four block times, at least the
        block time + 4 s (a stopped validator's turn as proposer costs the 1 s propose timeout,
        CometBFT may need a second round)."""
        return float(max(4 * self.block_time_s, self.block_time_s + 4))


@dataclass(frozen=True)
class BftPorts:
    """The loopback ports of one validator."""

    p2p: int
    comet_rpc: int
    json_rpc: int
    json_rpc_ws: int
    grpc: int
    metrics: int


def find_bftd(configured: Path | None = None) -> Path:
    """The bftd binary: ``configured`` or the project's ``.bin/bftd``; raises when it is not built."""
    path = configured or PROJECT_ROOT / ".bin" / "bftd"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise NodeBinaryMissingError(f"bftd not found at {path}; build it with tools/bft/build.sh")
    return path


def bech32_encode(hrp: str, data: bytes) -> str:
    """BIP-173 bech32 of ``data`` (8-bit bytes) under ``hrp``: how Cosmos spells an address."""
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    bits, acc, five = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            five.append((acc >> bits) & 31)
    if bits:
        five.append((acc << (5 - bits)) & 31)

    def polymod(values: list[int]) -> int:
        gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
        chk = 1
        for v in values:
            top = chk >> 25
            chk = (chk & 0x1FFFFFF) << 5 ^ v
            for i in range(5):
                chk ^= gen[i] if (top >> i) & 1 else 0
        return chk

    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    mod = polymod(expanded + five + [0] * 6) ^ 1
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(charset[d] for d in five + checksum)


def node_id_of(node_key_file: Path) -> str:
    """CometBFT's node id: the first 20 bytes of SHA-256 of the node's ed25519 public key, in hex."""
    key = json.loads(node_key_file.read_text())["priv_key"]["value"]
    public = base64.b64decode(key)[32:]
    return hashlib.sha256(public).digest()[:20].hex()


def set_toml(text: str, section: str, key: str, value: object) -> str:
    """``text`` with ``key`` in ``[section]`` ("" for the top) set to ``value`` (a TOML literal).

    Line-based: it keeps the generated files' comments and layout, and fails loudly when the key is
    not where it is expected rather than adding a second one.
    """
    if isinstance(value, bool):
        literal = "true" if value else "false"
    else:
        literal = json.dumps(value) if isinstance(value, str) else str(value)
    lines = text.splitlines(keepends=True)
    current = ""
    for i, line in enumerate(lines):
        header = re.match(r"^\s*\[([^\[\]]+)\]\s*$", line)
        if header:
            current = header.group(1).strip()
            continue
        if current == section and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            lines[i] = f"{key} = {literal}\n"
            return "".join(lines)
    raise BftNetworkError(f"no key {key!r} in section [{section}] of a generated config file")


@dataclass(frozen=True)
class BftNodeStatus:
    """One validator as ``status`` sees it: its PID record and, when it answers, its head."""

    node: BftNode
    pid: int | None
    height: int | None = None
    head_hash: str | None = None
    head_age_s: float | None = None
    peers: int | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.pid is not None


@dataclass
class BftNode:
    """One validator: its index, home directory and ports."""

    index: int
    home: Path
    ports: BftPorts
    host: str

    @property
    def name(self) -> str:
        return f"validator{self.index}"

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.ports.json_rpc}"

    @property
    def comet_url(self) -> str:
        return f"http://{self.host}:{self.ports.comet_rpc}"


class BftNetwork:
    """Lays out, starts and stops a local BFT network; processes are owned by PID."""

    def __init__(self, settings: BftSettings | None = None) -> None:
        self.settings = settings or BftSettings()
        self._procs: dict[int, subprocess.Popen[bytes]] = {}

    # ------------------------------------------------------------------ layout

    def ports(self, index: int) -> BftPorts:
        base = self.settings.base_port + 10 * index
        return BftPorts(p2p=base, comet_rpc=base + 1, json_rpc=base + 2, json_rpc_ws=base + 3,
                        grpc=base + 4, metrics=base + 5)

    def node(self, index: int) -> BftNode:
        home = self.settings.data_dir / f"validator{index}"
        return BftNode(index, home, self.ports(index), self.settings.host)

    @property
    def nodes(self) -> list[BftNode]:
        return [self.node(i) for i in range(self.settings.validators)]

    @property
    def log_dir(self) -> Path:
        return self.settings.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.settings.data_dir / "run"

    def pid_file(self, index: int) -> Path:
        """The PID record of validator ``index`` while it runs."""
        return self.run_dir / f"validator{index}.json"

    @property
    def binary_name(self) -> str:
        """The file name our validators run as (``bftd``, or the configured binary's name)."""
        return self.settings.bftd_bin.name if self.settings.bftd_bin is not None else "bftd"

    def exists(self) -> bool:
        """True when a network was laid out in the data directory."""
        return (self.node(0).home / "config" / "genesis.json").is_file()

    def create(self) -> None:
        """Write every validator's home: keys, config, and one shared genesis."""
        s = self.settings
        bftd = find_bftd(s.bftd_bin)
        if any(n.home.exists() for n in self.nodes):
            raise BftNetworkError(f"a network already exists in {s.data_dir}; remove it first")
        for n in self.nodes:
            out = subprocess.run([str(bftd), "init", n.name, "--home", str(n.home), "--chain-id",
                                  s.cosmos_chain_id, "--default-denom", BASE_DENOM],
                                 capture_output=True, text=True, timeout=60, check=False)
            if out.returncode != 0:
                raise BftNetworkError(f"bftd init failed for {n.name}: {out.stderr.strip()[-800:]}")
        genesis = self.genesis_document()
        text = json.dumps(genesis, indent=2)
        for n in self.nodes:
            (n.home / "config" / "genesis.json").write_text(text)
            self._configure(n)

    def genesis_document(self) -> dict[str, Any]:
        """Validator 0's default genesis with the validator set, the coin and the dev accounts."""
        s = self.settings
        genesis: dict[str, Any] = json.loads((self.node(0).home / "config" / "genesis.json").read_text())
        genesis["chain_id"] = s.cosmos_chain_id
        validators = []
        for n in self.nodes:
            key = json.loads((n.home / "config" / "priv_validator_key.json").read_text())
            validators.append({"address": key["address"], "pub_key": key["pub_key"], "power": "10",
                               "name": n.name})
        consensus = genesis.setdefault("consensus", {})
        consensus["validators"] = validators
        consensus.setdefault("params", {}).setdefault("block", {})["max_gas"] = str(s.gas_limit)

        app = genesis["app_state"]
        accounts = app["auth"]["accounts"]
        balances = app["bank"]["balances"]
        for i in range(DEV_ACCOUNT_COUNT):
            raw = bytes.fromhex(dev_account(i).address[2:])
            address = bech32_encode(BECH32_PREFIX, raw)
            accounts.append({"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": address,
                             "pub_key": None, "account_number": str(i), "sequence": "0"})
            coins = [{"denom": BASE_DENOM, "amount": str(DEV_BALANCE_WEI)}]
            balances.append({"address": address, "coins": coins})
        app["bank"]["supply"] = [{"denom": BASE_DENOM, "amount": str(DEV_BALANCE_WEI * DEV_ACCOUNT_COUNT)}]
        return genesis

    def _configure(self, n: BftNode) -> None:
        s = self.settings
        peers = ",".join(f"{node_id_of(p.home / 'config' / 'node_key.json')}@{s.host}:{p.ports.p2p}"
                         for p in self.nodes if p.index != n.index)
        cfg_path = n.home / "config" / "config.toml"
        cfg = cfg_path.read_text()
        for section, key, value in [
            ("", "moniker", n.name),
            ("rpc", "laddr", f"tcp://{s.host}:{n.ports.comet_rpc}"),
            ("rpc", "pprof_laddr", ""),
            ("p2p", "laddr", f"tcp://{s.host}:{n.ports.p2p}"),
            ("p2p", "persistent_peers", peers),
            ("p2p", "addr_book_strict", False),
            ("p2p", "allow_duplicate_ip", True),
            ("p2p", "pex", False),
            ("mempool", "type", "app"),  # cosmos/evm's mempool lives in the app
            ("consensus", "timeout_commit", f"{int(s.block_time_s * 1000)}ms"),
            # On loopback a proposal arrives in milliseconds: waiting 1 s (not CometBFT's 3 s)
            # for one from a stopped validator keeps its turns from stalling the chain long.
            ("consensus", "timeout_propose", "1s"),
            ("instrumentation", "prometheus", False),
        ]:
            cfg = set_toml(cfg, section, key, value)
        cfg_path.write_text(cfg)

        app_path = n.home / "config" / "app.toml"
        app = app_path.read_text()
        for section, key, value in [
            ("", "minimum-gas-prices", f"0{BASE_DENOM}"),
            ("", "pruning", "nothing"),
            ("api", "enable", False),
            ("grpc", "address", f"{s.host}:{n.ports.grpc}"),
            ("evm", "evm-chain-id", s.chain_id),
            ("evm", "geth-metrics-address", f"{s.host}:{n.ports.metrics}"),
            ("json-rpc", "enable", True),
            ("json-rpc", "address", f"{s.host}:{n.ports.json_rpc}"),
            ("json-rpc", "ws-address", f"{s.host}:{n.ports.json_rpc_ws}"),
            ("json-rpc", "metrics-address", f"{s.host}:{n.ports.metrics}"),
            ("json-rpc", "enable-indexer", True),
        ]:
            app = set_toml(app, section, key, value)
        app_path.write_text(app)
        tomllib.loads(app)  # both files must still parse
        tomllib.loads(cfg)

    # ------------------------------------------------------------------ processes

    def record(self, index: int) -> NodeProcess | None:
        """The PID record of validator ``index``, or None."""
        return read_pid_record(self.pid_file(index), NodeProcess, BftNetworkError)

    def pid_of(self, index: int) -> int | None:
        """The PID of validator ``index`` while it is the bftd we started; a stale record goes."""
        proc = self._procs.get(index)
        if proc is not None and proc.poll() is None:
            return proc.pid
        rec = self.record(index)
        if rec is None:
            return None
        if is_our_process(rec, self.binary_name, "--home"):
            return rec.pid
        self.pid_file(index).unlink(missing_ok=True)
        return None

    def start(self, index: int) -> int:
        """Start validator ``index`` (its home must exist) unless it runs; returns its PID."""
        running = self.pid_of(index)
        if running is not None:
            return running
        bftd = find_bftd(self.settings.bftd_bin)
        n = self.node(index)
        if not n.home.is_dir():
            raise BftNetworkError(f"{n.name} has no home at {n.home}; create the network first")
        for what, port in (("p2p", n.ports.p2p), ("CometBFT RPC", n.ports.comet_rpc),
                           ("JSON-RPC", n.ports.json_rpc), ("JSON-RPC websocket", n.ports.json_rpc_ws),
                           ("gRPC", n.ports.grpc)):
            if not port_is_free(n.host, port):
                raise BftNetworkError(f"port {port} on {n.host} ({what} of {n.name}) is in use; stop "
                                      "whatever listens there or choose CHAINRIGHT_BFT_BASE_PORT")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_dir / f"{n.name}.log"
        with log_file.open("ab") as log:
            proc = subprocess.Popen([str(bftd), "start", "--home", str(n.home), "--log_level", "info"],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        record = NodeProcess(name=n.name, index=index, pid=proc.pid, http_port=n.ports.json_rpc,
                             datadir=str(n.home), log_file=str(log_file), started_at=time.time())
        write_record(self.pid_file(index), record, proc)
        self._procs[index] = proc
        return proc.pid

    def up(self) -> None:
        """Start every validator not running and wait until each one answers JSON-RPC and blocks
        are committed; if that fails, the validators this call started are stopped again."""
        started = [n.index for n in self.nodes if self.pid_of(n.index) is None]
        try:
            for i in started:
                self.start(i)
            self._wait_up()
        except BaseException:
            for i in started:
                self.stop(i)
            raise

    def start_node(self, index: int, *, timeout: float | None = None) -> tuple[int, int]:
        """Start validator ``index`` again (unless it runs) and wait until it has caught up: its
        height at least the highest of the other running validators' when it was started. Returns
        (pid, height). A validator that does not come up or catch up in time is stopped again."""
        if not 0 <= index < self.settings.validators:
            raise BftNetworkError(f"no validator{index}: the network has validators 0 to "
                                  f"{self.settings.validators - 1}")
        if not self.exists():
            raise BftNetworkError(f"no BFT network in {self.settings.data_dir}; start one with "
                                  "'chainright consortium up --engine bft'")
        running = self.pid_of(index)
        if running is not None:
            return running, self.height(index)
        target = 0
        for other in self.running():
            try:
                target = max(target, self.height(other))
            except ChainUnavailableError:
                continue
        deadline = time.monotonic() + (timeout or self.settings.start_timeout_s)
        pid = self.start(index)
        try:
            self.wait_rpc(index, deadline - time.monotonic())
            self.wait_height(target, timeout=max(1.0, deadline - time.monotonic()), indices=[index])
        except BaseException:
            self.stop(index)
            raise
        return pid, self.height(index)

    def _wait_up(self) -> None:
        deadline = time.monotonic() + self.settings.start_timeout_s
        for n in self.nodes:
            self.wait_rpc(n.index, deadline - time.monotonic())
        self.wait_height(2, timeout=max(5.0, deadline - time.monotonic()))

    def wait_rpc(self, index: int, timeout: float) -> None:
        n = self.node(index)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self._procs.get(index)
            if proc is not None and proc.poll() is not None:  # exited: its record is stale too
                self.pid_file(index).unlink(missing_ok=True)
                raise NodeStartError(f"{n.name} exited with {proc.returncode}:\n{self.log_tail(index)}")
            try:
                if int(rpc_call(n.rpc_url, "eth_chainId", timeout=1.0), 16) == self.settings.chain_id:
                    return
            except ChainUnavailableError:
                pass
            time.sleep(0.3)
        raise NodeStartError(f"{n.name} did not answer JSON-RPC within {timeout:.0f}s:\n"
                             f"{self.log_tail(index)}")

    def height(self, index: int) -> int:
        return int(rpc_call(self.node(index).rpc_url, "eth_blockNumber", timeout=2.0), 16)

    def wait_height(self, height: int, *, timeout: float, indices: Sequence[int] | None = None) -> None:
        """Wait until every validator in ``indices`` (default: the running ones) reached ``height``."""
        deadline = time.monotonic() + timeout
        which = list(indices) if indices is not None else self.running()
        while time.monotonic() < deadline:
            try:
                if all(self.height(i) >= height for i in which):
                    return
            except ChainUnavailableError:
                pass
            time.sleep(0.3)
        raise BftNetworkError(f"validators {which} did not reach height {height} within {timeout:.0f}s")

    def running(self) -> list[int]:
        """The validators running now (started by this process or found by their PID records)."""
        return [n.index for n in self.nodes if self.pid_of(n.index) is not None]

    def stop(self, index: int, *, timeout: float = 20.0, kill: bool = False) -> bool:
        """Stop validator ``index`` if it is the bftd we started (SIGTERM, then SIGKILL after
        ``timeout``; ``kill``: SIGKILL at once); True when a process was stopped."""
        child = self._procs.pop(index, None)
        pid = child.pid if child is not None and child.poll() is None else None
        if pid is None:
            rec = self.record(index)
            pid = rec.pid if rec is not None and is_our_process(rec, self.binary_name, "--home") else None
        stopped = False
        if pid is not None and alive(pid):
            terminate(pid, child, what=f"bftd {self.node(index).name}", timeout=timeout, kill=kill)
            stopped = True
        elif child is not None:
            reap(child, timeout)
        self.pid_file(index).unlink(missing_ok=True)
        return stopped

    def down(self) -> list[str]:
        """Stop every validator we started; the names of those stopped."""
        return [n.name for n in self.nodes if self.stop(n.index)]

    def status(self) -> list[BftNodeStatus]:
        """Every validator: its PID while running, and its head and peers when it answers."""
        out = []
        for n in self.nodes:
            pid = self.pid_of(n.index)
            if pid is None:
                out.append(BftNodeStatus(node=n, pid=None))
                continue
            try:
                head = rpc_call(n.rpc_url, "eth_getBlockByNumber", ["latest", False], timeout=2.0)
                raw = rpc_call(n.rpc_url, "net_peerCount", timeout=2.0)  # cosmos/evm: a number, not hex
                peers = int(raw, 16) if isinstance(raw, str) else int(raw)
            except ChainUnavailableError as exc:
                out.append(BftNodeStatus(node=n, pid=pid, error=str(exc)[:200]))
                continue
            out.append(BftNodeStatus(node=n, pid=pid, height=int(head["number"], 16), head_hash=head["hash"],
                                     head_age_s=max(0.0, time.time() - int(head["timestamp"], 16)),
                                     peers=peers))
        return out

    def rpc_url(self) -> str:
        """The JSON-RPC URL of the first running validator (validator 0's when none runs)."""
        running = self.running()
        return self.node(running[0] if running else 0).rpc_url

    def env(self, chain_name: str = "home") -> dict[str, str]:
        """The CHAINRIGHT_CHAIN_* variables that point chain ``chain_name`` at this network.

        Confirmations 0: CometBFT commits a block only with more than two thirds of the votes, and a
        committed block is final (the platform also learns this from the node, ``chain.engines``).
        """
        if chain_name not in ("home", "remote"):
            raise BftNetworkError(f"unknown chain {chain_name!r}; choose home or remote")
        if not self.exists():
            raise BftNetworkError(f"no BFT network in {self.settings.data_dir}; start one with "
                                  "'chainright consortium up --engine bft'")
        prefix = f"CHAINRIGHT_CHAIN_{chain_name.upper()}"
        return {
            f"{prefix}_RPC_URL": self.rpc_url(),
            f"{prefix}_CHAIN_ID": str(self.settings.chain_id),
            f"{prefix}_POA": "false",
            f"{prefix}_CONFIRMATIONS": "0",
            f"{prefix}_MAX_BLOCK_AGE_S": f"{self.settings.stall_age_s:g}",
        }

    def destroy(self) -> None:
        """Stop every validator and delete the data directory (keys included)."""
        import shutil

        self.down()
        shutil.rmtree(self.settings.data_dir, ignore_errors=True)

    def log_tail(self, index: int, chars: int = 2000) -> str:
        path = self.log_dir / f"{self.node(index).name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m devnet.bft [--fresh]``: run a network in the foreground until Ctrl-C."""
    import argparse
    import shutil

    parser = argparse.ArgumentParser(prog="python -m devnet.bft", description=main.__doc__)
    parser.add_argument("--fresh", action="store_true", help="remove the data directory first")
    args = parser.parse_args(argv)
    net = BftNetwork()
    s = net.settings
    if args.fresh:
        shutil.rmtree(s.data_dir, ignore_errors=True)
    if not net.exists():
        net.create()
    try:
        net.up()
        print(f"BFT network up: chain id {s.chain_id}, {s.validators} validators, data in {s.data_dir}")
        for n in net.nodes:
            print(f"  {n.name}: JSON-RPC {n.rpc_url}  CometBFT {n.comet_url}")
        print("Ctrl-C stops every validator.")
        while net.running():
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        net.down()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
