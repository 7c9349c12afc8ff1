"""The ``Consortium`` facade: creates, starts, inspects, changes and stops the local consortium network.

Each validator node is its own geth process with its own data directory, validator key, node key
and ports, peered with the others through static nodes (discovery off). The genesis names the
validator set in Clique's extraData and funds anvil's ten development accounts, so the platform's
test accounts work unchanged.

The client is go-ethereum v1.13.15 with our Clique Shanghai/Cancun patch (tools/geth/), built by
``make setup-consortium`` into ``.bin/geth``; see devnet/README.md for why.

This class composes the package's modules and holds the only state they need: the settings, the
progress sink, and the child processes this Python process started (for reaping them). The parts:
``settings`` (settings, layout, network.json), ``genesis`` (genesis, keys, peers), ``process``
(geth and watchdog processes, PID records, ports) and ``clique`` (heads, the sealing start, votes,
fork healing).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chain.errors import ChainUnavailableError, NodeStartError
from chain.progress import Progress, quiet
from chain.rpc import rpc_call
from devnet.consortium import clique, genesis, process
from devnet.consortium.clique import ForkRecovery, NodeStatus, confirmations_for, stall_age_for
from devnet.consortium.forks import Diagnosis, HeadView, diagnose
from devnet.consortium.process import NodeProcess, find_geth
from devnet.consortium.settings import (
    ConsortiumError,
    ConsortiumNode,
    ConsortiumSettings,
    NetworkInfo,
    load_network,
    planned_node,
    save_network,
)

log = logging.getLogger(__name__)


class Consortium:
    """Creates, starts, inspects, changes and stops the local consortium network."""

    def __init__(self, settings: ConsortiumSettings | None = None, progress: Progress = quiet) -> None:
        self.settings = settings or ConsortiumSettings()
        self.progress = progress
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- layout and records -------------------------------------------------------------------

    def node_dir(self, index: int) -> Path:
        return self.settings.node_dir(index)

    def _pid_file(self, index: int) -> Path:
        return self.settings.pid_file(index)

    def network(self) -> NetworkInfo | None:
        """The network recorded in network.json, or None when none was created here."""
        return load_network(self.settings)

    def require_network(self) -> NetworkInfo:
        net = self.network()
        if net is None:
            raise ConsortiumError(f"no consortium network in {self.settings.data_dir}; start one "
                                  "with 'chainright consortium up'")
        return net

    def record(self, index: int) -> NodeProcess | None:
        """The PID record of node ``index``, or None."""
        return process.read_record(self.settings, index)

    def running(self, index: int) -> NodeProcess | None:
        """The PID record of node ``index`` when that geth still runs; stale records are removed."""
        rec = self.record(index)
        if rec is None:
            return None
        if process.is_our_geth(rec):
            return rec
        child = self._children.pop(index, None)
        if child is not None:
            child.poll()
        self._pid_file(index).unlink(missing_ok=True)
        return None

    def _is_running(self, index: int) -> bool:
        return self.running(index) is not None

    def running_nodes(self) -> list[ConsortiumNode]:
        net = self.network()
        return [n for n in net.nodes if self.running(n.index)] if net else []

    def rpc_url(self) -> str:
        """The HTTP RPC URL of the first running node."""
        nodes = self.running_nodes()
        if not nodes:
            raise ConsortiumError("no consortium node is running; start them with 'chainright consortium up'")
        return nodes[0].rpc_url

    # -- creation -----------------------------------------------------------------------------

    def create(self, validators: int) -> NetworkInfo:
        """Create a network of ``validators`` validator nodes: keys, genesis, initialised data dirs.

        Starts nothing. The genesis names the validators, so all keys are made first.
        """
        s = self.settings
        if s.network_file.exists():
            raise ConsortiumError(f"a network already exists in {s.data_dir}")
        if validators < 1:
            raise ConsortiumError("a network needs at least one validator")
        geth = find_geth(s.geth_bin)
        process.check_ports(s.host, [planned_node(s, i) for i in range(validators)])
        s.data_dir.mkdir(parents=True, exist_ok=True)
        for i in range(validators):
            if s.node_dir(i).exists():
                raise ConsortiumError(f"{s.node_dir(i)} exists but {s.network_file} does not; "
                                      f"remove {s.data_dir} or choose another CHAINRIGHT_CONSORTIUM_DATA_DIR")
        self.progress(f"creating a {validators}-validator network (chain id {s.chain_id}, "
                      f"{s.block_period_s}s blocks) in {s.data_dir}")
        addresses = [genesis.make_keys(s.node_dir(i)) for i in range(validators)]
        document = genesis.genesis_document(s.chain_id, s.block_period_s, addresses, s.gas_limit)
        s.genesis_file.write_text(json.dumps(document, indent=2))
        nodes = [genesis.init_node(s, geth, i, a) for i, a in enumerate(addresses)]
        net = NetworkInfo(chain_id=s.chain_id, block_period_s=s.block_period_s,
                          genesis_validators=addresses, nodes=nodes, created_at=time.time())
        genesis.write_peer_configs(s, net)
        save_network(s, net)
        return net

    def add_node(self) -> ConsortiumNode:
        """Create one more node (new keys, same genesis) and start it, not yet a signer.

        It syncs from the others and tries to seal, which Clique refuses until a majority of the
        current signers voted it in (``propose(address, add=True)``).
        """
        s = self.settings
        net = self.require_network()
        geth = find_geth(s.geth_bin)
        index = max(n.index for n in net.nodes) + 1
        process.check_ports(s.host, [planned_node(s, index)])
        address = genesis.make_keys(s.node_dir(index))
        node = genesis.init_node(s, geth, index, address)
        net = NetworkInfo(chain_id=net.chain_id, block_period_s=net.block_period_s,
                          genesis_validators=net.genesis_validators, nodes=[*net.nodes, node],
                          created_at=net.created_at)
        genesis.write_peer_configs(s, net)
        save_network(s, net)
        self.progress(f"{node.name}: created ({node.address}), starting")
        self.start_node(index)
        for other in net.nodes:
            if other.index != index and self.running(other.index):
                try:
                    rpc_call(other.rpc_url, "admin_addPeer", [node.enode], timeout=5)
                except ChainUnavailableError as exc:
                    log.warning("could not tell %s about %s: %s", other.name, node.name, exc)
        return node

    # -- start and stop -----------------------------------------------------------------------

    def up(self, validators: int | None = None, *, wait: bool = True) -> list[NodeProcess]:
        """Create the network if there is none, start every node not running, wait until sealing.

        Every port is checked before anything starts, so a taken port starts nothing; if a node
        fails to come up, the nodes this call started are stopped again.
        """
        s = self.settings
        net = self.network()
        if net is None:
            net = self.create(validators if validators is not None else s.validators)
        else:
            if net.chain_id != s.chain_id:
                raise ConsortiumError(
                    f"the network in {s.data_dir} is chain {net.chain_id}, but the settings say "
                    f"{s.chain_id}; fix CHAINRIGHT_CONSORTIUM_CHAIN_ID or use another data dir"
                )
            if validators is not None and validators != len(net.genesis_validators):
                self.progress(f"reusing the existing network in {s.data_dir} ({len(net.nodes)} nodes); "
                              "remove that directory for a new one")
        geth = find_geth(s.geth_bin)
        to_start = [n for n in net.nodes if self.running(n.index) is None]
        process.check_ports(s.host, to_start)
        started: list[int] = []
        started_at = time.monotonic()
        try:
            for node in to_start:
                self._spawn(geth, node)
                started.append(node.index)
            for node in to_start:
                self._wait_ready(node)
            self._start_sealing(to_start)
            if wait:
                self.wait_until_sealing()
            for node in to_start:
                if self.running(node.index) is None:
                    raise NodeStartError(f"geth {node.name} exited after starting; last log lines:\n"
                                         f"{process.log_tail(s, node)}")
        except BaseException:
            for index in started:
                self.stop_node(index)
            raise
        self.start_watchdog()
        self.progress(f"network up in {time.monotonic() - started_at:.1f}s")
        return [r for n in net.nodes if (r := self.running(n.index)) is not None]

    def _start_sealing(self, nodes: Sequence[ConsortiumNode]) -> None:
        """Start sealing on ``nodes`` one validator at a time (``clique.start_sealing``)."""
        if not nodes:
            return
        net = self.require_network()
        running = [n for n in net.nodes if self.running(n.index) is not None]
        clique.start_sealing(net, nodes, running, self.settings.peer_timeout_s, self.progress,
                             heal=lambda: self.heal(force=True))

    def start_node(self, index: int) -> NodeProcess:
        """Start node ``index`` (again) and wait until it answers RPC; it then syncs by itself."""
        net = self.require_network()
        node = net.node(index)
        existing = self.running(index)
        if existing is not None:
            return existing
        process.check_ports(self.settings.host, [node])
        self._spawn(find_geth(self.settings.geth_bin), node)
        try:
            self._wait_ready(node)
            self._start_sealing([node])
        except BaseException:
            self.stop_node(index)
            raise
        record = self.record(index)
        assert record is not None
        return record

    def _spawn(self, geth: Path, node: ConsortiumNode) -> None:
        self._children[node.index] = process.spawn(self.settings, geth, node, self.progress)

    def _wait_ready(self, node: ConsortiumNode) -> None:
        process.wait_ready(self.settings, node, self._children.get(node.index), self.progress)

    def stop_node(self, index: int, *, kill: bool = False, timeout: float = 20.0) -> bool:
        """Stop node ``index`` if it is the geth we started; True when a process was stopped.

        SIGTERM (geth flushes its database), SIGKILL after ``timeout``; ``kill`` sends SIGKILL
        at once (a crash, for fault tests).
        """
        child = self._children.pop(index, None)
        return process.stop_node(self.settings, index, child, self.progress, kill=kill, timeout=timeout)

    def down(self, indices: Sequence[int] | None = None) -> list[str]:
        """Stop the named nodes (default: all) that we started; returns the names stopped."""
        net = self.network()
        if net is None:
            return []
        wanted = [n for n in net.nodes if indices is None or n.index in indices]
        if indices is None:
            self.stop_watchdog()
        return [n.name for n in wanted if self.stop_node(n.index)]

    def destroy(self) -> None:
        """Stop every node and delete the network's data directory (keys included)."""
        self.down()
        if self.settings.data_dir.exists():
            shutil.rmtree(self.settings.data_dir)

    # -- chain queries ------------------------------------------------------------------------

    def head(self, url: str | None = None) -> int:
        return clique.head(url or self.rpc_url())

    def signers(self, url: str | None = None) -> list[str]:
        """The current Clique signer set (checksummed), as node ``url`` sees it."""
        return clique.signers(url or self.rpc_url())

    def signer_of(self, number: int, url: str | None = None) -> str:
        """The address that sealed block ``number`` (recovered by geth from the header seal)."""
        return clique.signer_of(number, url or self.rpc_url())

    def recent_signers(self, count: int, url: str | None = None) -> list[str]:
        """Signers of the last ``count`` blocks, oldest first."""
        return clique.recent_signers(count, url or self.rpc_url())

    def wait_until_sealing(self, min_signers: int | None = None, *, timeout: float | None = None) -> set[str]:
        """Wait until blocks sealed by ``min_signers`` distinct validators arrive (default: 2, or 1
        for a one-validator network); returns the signers seen."""
        net = self.require_network()
        url = self.rpc_url()
        wanted = min_signers if min_signers is not None else min(2, len(clique.signers(url)))
        limit = timeout if timeout is not None else self.settings.start_timeout_s
        return clique.wait_until_sealing(net, url, wanted, limit, self.progress, self.settings.log_dir)

    def status(self) -> list[NodeStatus]:
        """Every node: running or not, head block, peer count, signer of its head, signer or not."""
        net = self.require_network()
        out: list[NodeStatus] = []
        for node in net.nodes:
            rec = self.running(node.index)
            if rec is None:
                out.append(NodeStatus(node=node, pid=None, block=None, peers=None, head_signer=None,
                                      is_signer=None))
            else:
                out.append(clique.node_status(node, rec.pid))
        return out

    # -- forks: observe, heal, watch ----------------------------------------------------------

    def observe(self) -> list[HeadView]:
        """Every running node's head, total difficulty and peers, as one observation."""
        net = self.require_network()
        return clique.observe([n for n in net.nodes if self.running(n.index) is not None])

    def diagnose(self) -> Diagnosis:
        """What the nodes' heads say right now (see devnet/consortium/forks.py)."""
        return diagnose(self.observe(), time.time(), stall_age_for(self.require_network().block_period_s))

    def heal(self, *, force: bool = False) -> ForkRecovery | None:
        """Resolve a fork deadlock, keeping every transaction; None when there is none to resolve
        (``clique.heal``). ``force`` acts on differing heads even while blocks still arrive (used
        at start, before any validator seals)."""
        views = self.observe()
        return clique.heal(self.require_network(), views, self.settings.run_dir, self.progress, force=force)

    def watchdog_status(self) -> dict[str, Any] | None:
        """What the watchdog last wrote (pid, state, recoveries), or None when none ran here."""
        return process.watchdog_status(self.settings)

    def start_watchdog(self) -> int | None:
        """Start the fork watchdog (``python -m devnet.consortium.watch``) unless one runs; its pid."""
        if not self.settings.watchdog:
            return None
        current = self.watchdog_status()
        if current is not None and current["running"]:
            return int(current["pid"])
        self._watchdog = process.spawn_watchdog(self.settings, self.progress)
        return self._watchdog.pid

    def stop_watchdog(self) -> None:
        process.stop_watchdog(self.settings, self._watchdog)
        self._watchdog = None

    # -- membership ---------------------------------------------------------------------------

    def propose(self, address: str, *, add: bool, wait: bool = True,
                timeout: float | None = None) -> list[str]:
        """Vote ``address`` in (``add``) or out on every running signer node; returns the voters.

        A change needs the votes of more than half of the current signers (Clique counts one vote
        per signer, cast in the blocks it seals). With ``wait``, waits until the signer set shows
        the change, then discards the spent proposal on every voter.
        """
        net = self.require_network()
        return clique.propose(net, self.rpc_url(), address, add=add, is_running=self._is_running,
                              wait=wait, timeout=timeout, progress=self.progress)

    # -- the platform's view ------------------------------------------------------------------

    def confirmations(self) -> int:
        """Confirmation depth for the current signer count (see ``confirmations_for``)."""
        try:
            count = len(self.signers())
        except (ChainUnavailableError, ConsortiumError):
            count = len(self.require_network().genesis_validators)
        return confirmations_for(count)

    def env(self, chain_name: str = "home") -> dict[str, str]:
        """The CHAINRIGHT_CHAIN_* variables that point chain ``chain_name`` at this network."""
        if chain_name not in ("home", "remote"):
            raise ConsortiumError(f"unknown chain {chain_name!r}; choose home or remote")
        net = self.require_network()
        running = self.running_nodes()
        node = running[0] if running else net.nodes[0]
        prefix = f"CHAINRIGHT_CHAIN_{chain_name.upper()}"
        return {
            f"{prefix}_RPC_URL": node.rpc_url,
            f"{prefix}_CHAIN_ID": str(net.chain_id),
            f"{prefix}_POA": "true",
            f"{prefix}_CONFIRMATIONS": str(self.confirmations() if running else
                                           confirmations_for(len(net.genesis_validators))),
            f"{prefix}_MAX_BLOCK_AGE_S": f"{stall_age_for(net.block_period_s):g}",
        }
