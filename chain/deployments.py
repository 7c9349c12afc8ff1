"""The deployment registry: per chain id, which contract lives where.

Persisted as JSON under the data directory; written atomically (temporary file, fsync, rename), so
a crash mid-write never leaves a truncated registry, and the version it replaces is kept as
``deployments.json.bak`` (itself replaced atomically). A registry that cannot be read is never
papered over: the error names the backup. Deploying onto a chain that already holds our contracts
while the registry knows nothing of it is guarded in ``chain.deploy.guard_against_fork``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chain.errors import DeploymentError


@dataclass(frozen=True)
class Deployment:
    """One deployed contract."""

    contract: str
    address: str
    tx_hash: str
    block: int
    code_hash: str
    """Fingerprint of the build that was deployed (see ContractArtifact.code_hash)."""
    args: list[Any] = field(default_factory=list)
    deployed_at: float = field(default_factory=time.time)
    artifact: str = ""
    """The compiled contract's name when it differs from the registry key."""


class DeploymentRegistry:
    """Reads and writes ``deployments.json``: ``{chain_id: {name: Deployment}}``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def backup_path(self) -> Path:
        """The previous version of the registry (kept on every write)."""
        return self.path.with_name(self.path.name + ".bak")

    def _read(self) -> dict[str, dict[str, dict[str, Any]]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise DeploymentError(
                f"deployment registry {self.path} is not valid JSON ({exc}); {self._advice()}"
            ) from exc
        if not isinstance(data, dict):
            raise DeploymentError(f"deployment registry {self.path} is not a JSON object; {self._advice()}")
        return data

    def _advice(self) -> str:
        backup = self.backup_path
        restore = (f"its previous version is kept at {backup}: restore it with 'cp {backup} {self.path}'"
                   if backup.exists() else "no previous version is kept")
        return (f"{restore}, or move it aside and run 'chainright deploy', which recovers the addresses "
                "of contracts already on the chains (and refuses to deploy a second set unless "
                "--force-new-deployment)")

    def for_chain(self, chain_id: int) -> dict[str, Deployment]:
        return {name: Deployment(**rec) for name, rec in self._read().get(str(chain_id), {}).items()}

    def get(self, chain_id: int, name: str) -> Deployment | None:
        return self.for_chain(chain_id).get(name)

    def address(self, chain_id: int, name: str) -> str:
        """The address of ``name`` on ``chain_id``; raises DeploymentError when not deployed."""
        dep = self.get(chain_id, name)
        if dep is None:
            raise DeploymentError(
                f"{name} is not deployed on chain {chain_id}; run 'chainright deploy'"
            )
        return dep.address

    def record(self, chain_id: int, deployment: Deployment) -> None:
        data = self._read()
        data.setdefault(str(chain_id), {})[deployment.contract] = asdict(deployment)
        self._write(data)

    def forget_chain(self, chain_id: int) -> None:
        data = self._read()
        if data.pop(str(chain_id), None) is not None:
            self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            previous = self.path.read_text()
            json.loads(previous)  # only a readable version is worth keeping
        except (FileNotFoundError, ValueError):
            previous = None
        if previous is not None:
            self._atomic(self.backup_path, previous)
        self._atomic(self.path, json.dumps(data, indent=2, sort_keys=True))

    def _atomic(self, path: Path, text: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".deployments.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a power cut
        finally:
            os.close(dir_fd)
