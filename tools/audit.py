"""Static analysis of contracts/ with slither, offline.

slither's own compile step calls solc with --combined-json, which our solcjs shim does not serve.
So this script compiles every contract once through the shim with standard JSON (the same
settings as ape-config.yaml), writes the result as a Hardhat-format build-info file under
.build/audit/, and hands that to slither (crytic-compile reads Hardhat build-info).

Findings in node_modules (OpenZeppelin) and in contracts/test/ (adversarial test doubles) are
not ours to fix and are left out. Every other finding is printed; the run fails on any high or
medium finding that is not triaged in audit-triage.json, so an accepted finding is a written
decision, never a silent pass. A triage entry names the detector, the contract, the function
(``where``: a text that must occur in the finding's description) and the reason.

Usage: python tools/audit.py [--all]   (--all also prints low/informational findings)
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".build" / "audit"
TRIAGE = ROOT / "audit-triage.json"
EXCLUDED = ("node_modules/", "contracts/test/", "contracts/.cache/")
FAILING = {"High", "Medium"}


def _ape_solidity_settings() -> dict[str, Any]:
    import yaml

    cfg = yaml.safe_load((ROOT / "ape-config.yaml").read_text())["solidity"]
    remaps = []
    for item in cfg.get("import_remapping", []):
        key, value = item.split("=", 1)
        remaps.append(f"{key.rstrip('/')}/={value.rstrip('/')}/")
    return {
        "evmVersion": cfg["evm_version"],
        "optimizer": {"enabled": bool(cfg.get("optimize", True)),
                      "runs": int(cfg.get("optimization_runs", 200))},
        "remappings": remaps,
        "viaIR": bool(cfg.get("via_ir") or False),
        "outputSelection": {"*": {
            "*": ["abi", "evm.bytecode", "evm.deployedBytecode", "evm.methodIdentifiers",
                  "userdoc", "devdoc", "storageLayout"],
            "": ["ast"],
        }},
    }, str(cfg["version"])


def build_info() -> Path:
    """Compile through the shim and write a Hardhat build-info file; returns its folder."""
    import solcx

    os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))
    settings, version = _ape_solidity_settings()
    sources = {
        str(p.relative_to(ROOT)): {"content": p.read_text()}
        for p in sorted((ROOT / "contracts").rglob("*.sol"))
        if ".cache" not in p.parts
    }
    standard_input: dict[str, Any] = {"language": "Solidity", "sources": sources, "settings": settings}
    output = solcx.compile_standard(
        standard_input, solc_binary=ROOT / ".solcx" / f"solc-v{version}", base_path=str(ROOT),
        allow_paths=[str(ROOT)],
    )
    for src in output.get("sources", {}):
        if src not in standard_input["sources"]:
            standard_input["sources"][src] = {"content": (ROOT / src).read_text()}
    digest = hashlib.sha256(json.dumps(standard_input, sort_keys=True).encode()).hexdigest()[:32]
    folder = BUILD / "artifacts" / "build-info"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    long_version = solcx.wrapper.get_solc_version(ROOT / ".solcx" / f"solc-v{version}", with_commit_hash=True)
    (folder / f"{digest}.json").write_text(json.dumps({
        "_format": "hh-sol-build-info-1", "id": digest, "solcVersion": version,
        "solcLongVersion": str(long_version), "input": standard_input, "output": output,
    }))
    return folder


def _files(result: dict[str, Any]) -> set[str]:
    return {
        (el.get("source_mapping") or {}).get("filename_relative", "")
        for el in result.get("elements", [])
    } - {""}


def _contract(result: dict[str, Any]) -> str:
    for el in result.get("elements", []):
        parent = (el.get("type_specific_fields") or {}).get("parent") or {}
        if el.get("type") == "contract":
            return str(el.get("name"))
        if parent.get("type") == "contract":
            return str(parent.get("name"))
    return "?"


def run(show_all: bool) -> int:
    from slither import Slither
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    build_info()
    slither = Slither(str(ROOT), compile_force_framework="hardhat", hardhat_ignore_compile=True,
                      hardhat_artifacts_directory=str(BUILD.relative_to(ROOT) / "artifacts"))
    ours = [c for c in slither.contracts
            if not c.source_mapping.filename.relative.startswith(EXCLUDED)]
    for name in dir(all_detectors):
        detector = getattr(all_detectors, name)
        if inspect.isclass(detector) and issubclass(detector, AbstractDetector):
            slither.register_detector(detector)
    triage = json.loads(TRIAGE.read_text()) if TRIAGE.exists() else []

    def is_triaged(check: str, contract: str, description: str) -> bool:
        return any(t["detector"] == check and t["contract"] == contract and t["where"] in description
                   for t in triage)

    failing, shown = 0, 0
    for group in slither.run_detectors():
        for result in group:
            files = _files(result)
            if files and all(f.startswith(EXCLUDED) for f in files):
                continue
            impact = result["impact"]
            contract = _contract(result)
            triaged = is_triaged(result["check"], contract, result["description"])
            blocked = impact in FAILING and not triaged
            if blocked or show_all or impact in FAILING:
                shown += 1
                mark = "FAIL" if blocked else ("triaged" if triaged else impact.lower())
                print(f"[{mark}] {impact}/{result['confidence']} {result['check']} "
                      f"({contract}): {result['description'].strip().splitlines()[0]}")
            failing += blocked
    print(f"audit: slither analysed {len(ours)} of our contracts ({len(slither.contracts)} with "
          f"dependencies); {failing} untriaged high/medium finding(s)")
    if not ours:
        print("audit: no contract of ours was analysed: the build-info is wrong", file=sys.stderr)
        return 1
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(run("--all" in sys.argv[1:]))
