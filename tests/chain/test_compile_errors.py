"""A contract that does not compile surfaces as a readable message with file and line."""

from __future__ import annotations

import shutil

import pytest

from chain.artifacts import compile_project
from chain.errors import CompileError
from chain.settings import PROJECT_ROOT

pytestmark = pytest.mark.chain


@pytest.fixture
def broken_project(tmp_path):
    root = tmp_path / "proj"
    (root / "contracts").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "ape-config.yaml", root / "ape-config.yaml")
    (root / "contracts" / "Broken.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\n\ncontract Broken {\n"
        "    function f() external pure returns (uint256) {\n        return undefinedThing;\n    }\n}\n"
    )
    return root


def test_compile_error_names_file_and_line(broken_project):
    with pytest.raises(CompileError) as err:
        compile_project(broken_project)
    message = str(err.value)
    assert "contracts/Broken.sol:6:" in message
    assert "undefinedThing" in message and "Traceback" not in message
