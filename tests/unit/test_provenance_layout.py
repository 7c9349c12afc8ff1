"""The storage slots the provenance bundle proves are the compiler's: solc's storage layout of
CreatorCollection, WrappedCollection and RightsRegistry names them where record.provenance.state
says they are."""

from __future__ import annotations

import json
import subprocess

import pytest

from chain.settings import PROJECT_ROOT
from record.provenance.state import OWNER_LAYOUT, REGISTRY_COLLECTIONS_SLOT, REGISTRY_RECORDS_SLOT

pytestmark = pytest.mark.unit

SOURCES = {
    "contracts/issuance/CreatorCollection.sol": "CreatorCollection",
    "contracts/bridge/WrappedCollection.sol": "WrappedCollection",
    "contracts/issuance/RightsRegistry.sol": "RightsRegistry",
}


@pytest.fixture(scope="module")
def layouts() -> dict[str, dict[str, int]]:
    request = {
        "language": "Solidity", "sources": {s: {"urls": [s]} for s in SOURCES},
        "settings": {"remappings": ["@openzeppelin/contracts=node_modules/@openzeppelin/contracts"],
                     "outputSelection": {"*": {"*": ["storageLayout"]}}},
    }
    out = subprocess.run([str(PROJECT_ROOT / ".solcx" / "solc-v0.8.28"), "--standard-json", "--base-path",
                          str(PROJECT_ROOT)], input=json.dumps(request), capture_output=True, text=True,
                         check=True, cwd=PROJECT_ROOT, timeout=120)
    result = json.loads(out.stdout)
    assert not [e for e in result.get("errors", []) if e["severity"] == "error"], result["errors"]
    return {name: {item["label"]: int(item["slot"]) for item in
                   result["contracts"][source][name]["storageLayout"]["storage"]}
            for source, name in SOURCES.items()}


def test_owner_slots_are_the_compilers(layouts):
    assert layouts["CreatorCollection"]["_packedOwnerships"] == OWNER_LAYOUT["CreatorCollection"][0]
    assert layouts["WrappedCollection"]["_tokens"] == OWNER_LAYOUT["WrappedCollection"][0]


def test_registry_slots_are_the_compilers(layouts):
    assert layouts["RightsRegistry"]["_records"] == REGISTRY_RECORDS_SLOT
    assert layouts["RightsRegistry"]["_collections"] == REGISTRY_COLLECTIONS_SLOT
