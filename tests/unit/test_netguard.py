"""The network guard (tests/support/netguard.py) refuses everything beyond loopback and allows
loopback v4/v6 and unix sockets; py-solc-x compiles an OpenZeppelin import under it with no attempt
to download a compiler."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import solcx
import solcx.install
from packaging.version import Version

from chain.settings import PROJECT_ROOT
from tests.support import netguard

pytestmark = pytest.mark.unit


@pytest.fixture
def guard() -> Iterator[list[str]]:
    with netguard.expect_blocked() as attempts:
        yield attempts


def _listener(family: socket.AddressFamily, host: str) -> tuple[socket.socket, Any]:
    server = socket.socket(family, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(1)
    return server, server.getsockname()


@pytest.mark.parametrize(("family", "host", "connect_as"), [
    (socket.AF_INET, "127.0.0.1", "127.0.0.1"),
    (socket.AF_INET, "127.0.0.1", "localhost"),
    (socket.AF_INET6, "::1", "::1"),
])
def test_loopback_connections_pass(guard: list[str], family: socket.AddressFamily, host: str,
                                   connect_as: str) -> None:
    if family == socket.AF_INET6 and not socket.has_ipv6:
        pytest.fail("this machine has no IPv6 loopback; the guard's ::1 path cannot be checked")
    server, address = _listener(family, host)
    with server, socket.create_connection((connect_as, address[1]), timeout=5) as client:
        assert client.getpeername()[1] == address[1]
    assert guard == []


def test_unix_sockets_pass(guard: list[str], tmp_path: Path) -> None:
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
    assert guard == []


@pytest.mark.parametrize(("call", "target"), [
    (lambda: socket.create_connection(("192.0.2.1", 443), timeout=1), "192.0.2.1:443"),
    (lambda: socket.socket(socket.AF_INET6).connect(("2001:db8::1", 80, 0, 0)), "2001:db8::1:80"),
    (lambda: socket.socket(socket.AF_INET6).connect_ex(("::ffff:192.0.2.7", 80, 0, 0)), "::ffff:192.0.2.7:80"),
    (lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("192.0.2.9", 53)), "192.0.2.9:53"),
    (lambda: socket.create_connection(("binaries.example.invalid", 443), timeout=1),
     "binaries.example.invalid (name lookup)"),
])
def test_anything_beyond_loopback_is_refused_naming_the_address(guard: list[str], call: Any,
                                                                 target: str) -> None:
    with pytest.raises(netguard.NetworkGuardError, match=r"not (loopback|local)") as err:
        call()
    assert target.split(" ")[0] in str(err.value)
    assert guard == [target]


def test_the_plugin_fails_a_run_whose_code_swallowed_the_refusal(tmp_path: Path) -> None:
    (tmp_path / "test_sneaky.py").write_text(
        "import socket\n"
        "def test_swallows():\n"
        "    try:\n"
        "        socket.create_connection(('192.0.2.55', 80), timeout=1)\n"
        "    except OSError:\n"
        "        pass\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:ape_test", "-p", "no:cacheprovider",
         "-p", "tests.support.netguard", str(tmp_path / "test_sneaky.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 passed" in out.stdout and "network guard" in out.stdout and "192.0.2.55:80" in out.stdout


OZ_CONTRACT = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
contract Offline is ERC20 { constructor() ERC20("Offline", "OFF") {} }
"""


def test_py_solc_x_compiles_openzeppelin_offline_without_a_download(
        guard: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    downloads: list[str] = []

    def no_download(name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            downloads.append(name)
            raise AssertionError(f"solcx.{name} was called: a compiler download was attempted")
        return refuse

    for module in (solcx, solcx.install):
        for name in ("install_solc", "get_installable_solc_versions", "install_solc_pragma"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, no_download(name))
    # The compiler is found the way py-solc-x users find it: by version, in SOLCX_BINARY_PATH.
    assert Version("0.8.28") in solcx.get_installed_solc_versions()
    output = solcx.compile_standard(
        {"language": "Solidity", "sources": {"Offline.sol": {"content": OZ_CONTRACT}},
         "settings": {"evmVersion": "cancun",
                      "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
                      "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}}}},
        solc_version="0.8.28", base_path=str(PROJECT_ROOT), allow_paths=[str(PROJECT_ROOT)],
    )
    offline = output["contracts"]["Offline.sol"]["Offline"]
    assert any(item.get("name") == "totalSupply" for item in offline["abi"])
    assert len(offline["evm"]["bytecode"]["object"]) > 1000
    assert downloads == [] and guard == []
    assert netguard.installed()
