"""The solc shim: answers like native solc for py-solc-x, ape-solidity and forge."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import solcx
from packaging.version import Version

from chain.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

SHIM = PROJECT_ROOT / ".solcx" / "solc-v0.8.28"

OZ_CONTRACT = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
contract Probe is ERC721 { constructor() ERC721("Probe", "P") {} }
"""


def _standard_input(sources: dict[str, str]) -> dict[str, object]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "evmVersion": "cancun",
            "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }


def test_version_is_what_py_solc_x_parses():
    out = subprocess.run([str(SHIM), "--version"], capture_output=True, text=True, check=True)
    assert "Version: 0.8.28+commit.7893614a" in out.stdout
    assert Version("0.8.28") in solcx.get_installed_solc_versions()
    assert solcx.wrapper.get_solc_version(SHIM) == Version("0.8.28")


def test_compiles_openzeppelin_import_through_py_solc_x(tmp_path: Path):
    output = solcx.compile_standard(
        _standard_input({"contracts/Probe.sol": OZ_CONTRACT}),
        solc_binary=SHIM, base_path=str(PROJECT_ROOT), allow_paths=[str(PROJECT_ROOT)],
    )
    probe = output["contracts"]["contracts/Probe.sol"]["Probe"]
    assert {"name": "balanceOf"}.items() <= next(i for i in probe["abi"] if i.get("name") == "balanceOf").items()
    assert len(probe["evm"]["bytecode"]["object"]) > 1000
    # The OpenZeppelin sources were resolved by the shim's import callback.
    assert "node_modules/@openzeppelin/contracts/token/ERC721/ERC721.sol" in output["sources"]


def test_compile_error_names_file_and_line():
    broken = "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract B {\n  uint x = ;\n}\n"
    with pytest.raises(solcx.exceptions.SolcError) as err:
        solcx.compile_standard(_standard_input({"contracts/B.sol": broken}), solc_binary=SHIM,
                               base_path=str(PROJECT_ROOT))
    assert "contracts/B.sol:4:" in str(err.value)


def test_missing_import_is_reported_not_silently_skipped():
    src = '// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\nimport "./Nope.sol";\ncontract C {}\n'
    out = subprocess.run(
        [str(SHIM), "--standard-json", "--base-path", str(PROJECT_ROOT)],
        input=json.dumps(_standard_input({"contracts/C.sol": src})), capture_output=True, text=True,
        check=True,
    )
    errors = json.loads(out.stdout)["errors"]
    assert any("Nope.sol" in e["message"] and e["severity"] == "error" for e in errors)


def test_imports_outside_allowed_roots_are_refused(tmp_path: Path):
    secret = tmp_path / "Secret.sol"
    secret.write_text("// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract S {}\n")
    src = f'// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\nimport "{secret}";\ncontract D {{}}\n'
    out = subprocess.run(
        [str(SHIM), "--standard-json", "--base-path", str(PROJECT_ROOT)],
        input=json.dumps(_standard_input({"contracts/D.sol": src})), capture_output=True, text=True,
        check=True, cwd=PROJECT_ROOT,
    )
    assert json.loads(out.stdout).get("errors"), "an import outside the roots must fail"


@pytest.mark.parametrize("argv", [["--bin"], ["--combined-json", "abi"], []])
def test_unsupported_invocations_fail_loudly(argv):
    out = subprocess.run([str(SHIM), *argv], capture_output=True, text=True, input="")
    assert out.returncode == 2
    assert "solc-shim:" in out.stderr


def test_bad_json_input_fails_loudly():
    out = subprocess.run([str(SHIM), "--standard-json"], capture_output=True, text=True,
                         input="{not json")
    assert out.returncode == 2
    assert "not valid JSON" in out.stderr


def test_solcx_binary_path_points_inside_the_project():
    assert Path(os.environ["SOLCX_BINARY_PATH"]).resolve() == (PROJECT_ROOT / ".solcx").resolve()
