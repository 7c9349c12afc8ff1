"""forge builds an OpenZeppelin-importing contract through our solc shim, with no download.

forge runs with no network at all where the machine allows a private network namespace
(``unshare -rn``), and in any case with a dead proxy and an empty HOME, so neither a compiler
download nor a cached native solc (``~/.svm``) could make it pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from chain.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

FORGE = PROJECT_ROOT / ".bin" / "forge"
SHIM = PROJECT_ROOT / ".solcx" / "solc-v0.8.28"
OZ = PROJECT_ROOT / "node_modules" / "@openzeppelin" / "contracts"

PROBE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
contract ForgeProbe is ERC721 { constructor() ERC721("ForgeProbe", "FP") {} }
"""

DEAD_PROXY = "http://127.0.0.1:9"


def _no_network_prefix() -> list[str]:
    """``unshare -rn`` when this machine lets us drop the network entirely, else nothing."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn"]
    return []


def test_project_foundry_toml_points_forge_at_the_shim_offline() -> None:
    import tomllib

    profile = tomllib.loads((PROJECT_ROOT / "foundry.toml").read_text())["profile"]["default"]
    assert (PROJECT_ROOT / profile["solc"]).resolve() == SHIM.resolve()
    assert profile["offline"] is True and profile["evm_version"] == "cancun"
    assert profile["src"] == "contracts" and "node_modules" in profile["libs"]
    assert "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/" in profile["remappings"]


def test_forge_build_compiles_an_openzeppelin_import_offline_through_the_shim(tmp_path: Path) -> None:
    assert FORGE.exists(), "forge is missing: run `make setup`"
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "ForgeProbe.sol").write_text(PROBE)
    (project / "foundry.toml").write_text(
        "[profile.default]\n"
        'src = "src"\n'
        f'libs = ["{PROJECT_ROOT / "node_modules"}"]\n'
        f'solc = "{SHIM}"\n'
        "offline = true\n"
        "auto_detect_solc = false\n"
        'evm_version = "cancun"\n'
        f'remappings = ["@openzeppelin/contracts/={OZ}/"]\n'
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "HTTP_PROXY": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY,
           "http_proxy": DEAD_PROXY, "https_proxy": DEAD_PROXY, "NO_PROXY": "", "no_proxy": ""}
    out = subprocess.run([*_no_network_prefix(), str(FORGE), "build"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Compiler run successful" in out.stdout
    artifact = json.loads((project / "out" / "ForgeProbe.sol" / "ForgeProbe.json").read_text())
    assert any(item.get("name") == "balanceOf" for item in artifact["abi"])
    assert len(artifact["bytecode"]["object"]) > 1000
    # No compiler was fetched or installed anywhere forge would keep one (~/.svm, ~/.foundry).
    assert not (home / ".svm").exists()
    assert not [p for p in home.rglob("*") if "solc" in p.name.lower()]
