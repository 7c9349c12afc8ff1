"""Compiled contracts: compile through ape (ape-solidity over our solc shim) and load the result.

Ape writes every contract type into ``.build/__local__.json``; the rest of the platform reads
artifacts from there without importing ape.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chain.errors import ArtifactMissingError, CompileError
from chain.settings import PROJECT_ROOT
from chain.toolchain import ensure_toolchain_env

BUILD_MANIFEST = PROJECT_ROOT / ".build" / "__local__.json"


def abi_type(item: dict[str, Any]) -> str:
    """The canonical type string of one ABI input or output, tuples spelled out: ``(address,uint256)[]``."""
    if item["type"].startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in item["components"]) + ")" + str(item["type"][5:])
    return str(item["type"])


@dataclass(frozen=True)
class ContractArtifact:
    """ABI and bytecode of one compiled contract."""

    name: str
    source_id: str
    abi: list[dict[str, Any]]
    bytecode: str
    runtime_bytecode: str

    @property
    def code_hash(self) -> str:
        """sha256 of the deployment bytecode: tells builds apart."""
        return hashlib.sha256(bytes.fromhex(self.bytecode.removeprefix("0x"))).hexdigest()


class Artifacts:
    """The contract artifacts of one build, by contract name."""

    def __init__(self, contracts: dict[str, ContractArtifact]) -> None:
        self._contracts = contracts

    @classmethod
    def load(cls, manifest: Path = BUILD_MANIFEST) -> Artifacts:
        """Read the build manifest ape wrote; raises ArtifactMissingError when there is none."""
        try:
            data = json.loads(manifest.read_text())
        except FileNotFoundError as exc:
            raise ArtifactMissingError(
                f"no compiled contracts at {manifest}; run 'chainright compile' (or 'make compile')"
            ) from exc
        contracts: dict[str, ContractArtifact] = {}
        for name, ct in (data.get("contractTypes") or {}).items():
            bytecode = (ct.get("deploymentBytecode") or {}).get("bytecode") or "0x"
            runtime = (ct.get("runtimeBytecode") or {}).get("bytecode") or "0x"
            contracts[name] = ContractArtifact(
                name=name, source_id=ct.get("sourceId", ""), abi=ct.get("abi", []),
                bytecode=bytecode, runtime_bytecode=runtime,
            )
        return cls(contracts)

    def __contains__(self, name: object) -> bool:
        return name in self._contracts

    def names(self) -> list[str]:
        return sorted(self._contracts)

    def get(self, name: str) -> ContractArtifact:
        try:
            return self._contracts[name]
        except KeyError:
            raise ArtifactMissingError(
                f"contract {name!r} is not in the build ({', '.join(self.names()) or 'empty'}); "
                "check its name, then run 'chainright compile'"
            ) from None


_TRAILER = re.compile(r"\n> command:.*", re.DOTALL)


def compile_project(project_root: Path = PROJECT_ROOT) -> Artifacts:
    """Compile every contract under ``contracts/`` through ape and return the artifacts.

    Raises CompileError with solc's own messages (each names file, line and column).
    """
    ensure_toolchain_env()
    from ape import Project  # heavy import, only when compiling
    from ape.exceptions import ApeException
    from ape.logging import logger as ape_logger

    ape_logger.set_level("WARNING")

    try:
        project = Project(project_root)
        project.load_contracts()
    except ApeException as exc:
        message = _TRAILER.sub("", str(exc)).strip()
        raise CompileError(f"contracts do not compile:\n{message}") from None
    return Artifacts.load(project_root / ".build" / "__local__.json")
