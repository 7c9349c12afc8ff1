"""Whole-transaction gas per operation, measured on a fresh anvil from receipts.

Each contract family registers its cases with ``@gas_case`` in a module of this package
(``bench/cases_<family>.py``); a case deploys what it needs through ``GasBench`` and
returns ``{operation: gas}``. Gas is deterministic for a given build, so the figures are compared
against the committed snapshot (``gas-snapshot.json``) by a test that fails on any growth beyond
the tolerance.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from chain.artifacts import Artifacts
from chain.connection import connect
from chain.devaccounts import dev_account
from chain.progress import Progress, quiet
from chain.reverts import ErrorDecoder
from chain.settings import PROJECT_ROOT, ChainSettings
from chain.tx import TxSender
from devnet.anvil import NodeManager

SNAPSHOT_FILE = PROJECT_ROOT / "gas-snapshot.json"
TOLERANCE = 0.02
"""An operation may grow by at most 2% over the snapshot."""

GasCase = Callable[["GasBench"], dict[str, int]]
_CASES: list[tuple[str, GasCase]] = []


def gas_case(fn: GasCase) -> GasCase:
    """Register a gas case (a function of GasBench returning ``{operation: gas}``)."""
    _CASES.append((f"{fn.__module__}.{fn.__name__}", fn))
    return fn


def _load_cases() -> list[tuple[str, GasCase]]:
    import bench as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name.startswith("cases_"):
            importlib.import_module(f"bench.{mod.name}")
    return list(_CASES)


@dataclass
class GasBench:
    """A fresh chain, funded dev accounts and helpers to deploy and transact."""

    web3: Web3
    artifacts: Artifacts
    decoder: ErrorDecoder
    senders: dict[int, TxSender] = field(default_factory=dict)

    def account(self, index: int) -> LocalAccount:
        return dev_account(index)

    def sender(self, index: int = 0) -> TxSender:
        if index not in self.senders:
            self.senders[index] = TxSender(self.web3, dev_account(index), decoder=self.decoder)
        return self.senders[index]

    def deploy(self, name: str, *args: Any, by: int = 0) -> tuple[Contract, TxReceipt]:
        art = self.artifacts.get(name)
        address, receipt = self.sender(by).deploy(art.abi, art.bytecode, *args)
        return self.at(name, address), receipt

    def at(self, name: str, address: str) -> Contract:
        return self.web3.eth.contract(address=address, abi=self.artifacts.get(name).abi)  # type: ignore[call-overload, no-any-return]

    def send(self, fn: Any, *, by: int = 0, value: int = 0) -> TxReceipt:
        """Send a bound contract function call from dev account ``by``; returns the receipt."""
        sender = self.sender(by)
        return sender.transact(sender.call_tx(fn, value=value))

    def gas(self, fn: Any, *, by: int = 0, value: int = 0) -> int:
        return int(self.send(fn, by=by, value=value)["gasUsed"])


@contextmanager
def fresh_chain(progress: Progress = quiet) -> Iterator[Web3]:
    """A throwaway anvil on a free port, stopped afterwards."""
    from chain.ports import free_port

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="chainright-gas-") as tmp:
        settings = ChainSettings(environment="test", data_dir=Path(tmp), home_port=port,
                                 remote_port=port + 1 if port < 65535 else port - 1,
                                 persist_state=False)
        manager = NodeManager(settings, progress=progress)
        manager.start(settings.specs("home"))
        try:
            yield connect(settings.spec("home"))
        finally:
            manager.stop(["home"])


def run_gas_bench(artifacts: Artifacts, progress: Progress = quiet) -> dict[str, int]:
    """Run every registered case on a fresh anvil; returns ``{operation: gas}`` sorted by key."""
    cases = _load_cases()
    decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    results: dict[str, int] = {}
    with fresh_chain(progress) as web3:
        bench = GasBench(web3=web3, artifacts=artifacts, decoder=decoder)
        for index, (name, case) in enumerate(cases, start=1):
            progress(f"gas [{index}/{len(cases)}] {name}")
            for op, gas in case(bench).items():
                if op in results:
                    raise ValueError(f"gas operation {op!r} reported twice (second by {name})")
                results[op] = int(gas)
    return dict(sorted(results.items()))


def read_snapshot(path: Path = SNAPSHOT_FILE) -> dict[str, int]:
    try:
        return {k: int(v) for k, v in json.loads(path.read_text()).items()}
    except FileNotFoundError:
        return {}


def write_snapshot(figures: dict[str, int], path: Path = SNAPSHOT_FILE) -> None:
    path.write_text(json.dumps(dict(sorted(figures.items())), indent=2) + "\n")


@dataclass(frozen=True)
class SnapshotDiff:
    regressions: dict[str, tuple[int, int]]
    """operation -> (snapshot, now) where now > snapshot * (1 + tolerance)"""
    missing_from_snapshot: list[str]
    missing_from_run: list[str]
    improvements: dict[str, tuple[int, int]]

    @property
    def ok(self) -> bool:
        return not (self.regressions or self.missing_from_snapshot or self.missing_from_run)

    def describe(self) -> str:
        lines = [f"{op}: {old} -> {new} (+{(new - old) / old:.1%})"
                 for op, (old, new) in self.regressions.items()]
        lines += [f"{op}: measured but not in the snapshot" for op in self.missing_from_snapshot]
        lines += [f"{op}: in the snapshot but no longer measured" for op in self.missing_from_run]
        return "\n".join(lines)


def compare(snapshot: dict[str, int], now: dict[str, int], tolerance: float = TOLERANCE) -> SnapshotDiff:
    """Compare a run against the snapshot (pure)."""
    regressions = {op: (snapshot[op], gas) for op, gas in now.items()
                   if op in snapshot and gas > snapshot[op] * (1 + tolerance)}
    improvements = {op: (snapshot[op], gas) for op, gas in now.items()
                    if op in snapshot and gas < snapshot[op]}
    return SnapshotDiff(
        regressions=regressions,
        missing_from_snapshot=sorted(set(now) - set(snapshot)),
        missing_from_run=sorted(set(snapshot) - set(now)),
        improvements=improvements,
    )
