"""Habits of ape and cast users: -h, --version, usage errors that exit 2 and name what was wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from typer.testing import CliRunner

from chainright.cli import app
from chainright.console import ApiOpt

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("CHAINRIGHT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "chainright", *args], capture_output=True, text=True,
                          env=full_env, timeout=60, check=False)


def _command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group) or hasattr(command, "commands"):
        for name, sub in getattr(command, "commands", {}).items():
            yield from _command_paths(sub, (*path, name))


def _all_paths() -> list[tuple[str, ...]]:
    return list(_command_paths(typer.main.get_command(app)))  # type: ignore[arg-type]


def test_every_command_and_group_takes_dash_h_as_help() -> None:
    paths = _all_paths()
    assert len(paths) > 30, "the command walk found too few commands"
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "-h"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output and "--help" in result.output, path


def test_version_prints_the_package_version() -> None:
    from importlib.metadata import version

    for flag in ("--version", "-V"):
        out = _run(flag)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"chainright {version('chainright')}"


@pytest.mark.parametrize(("args", "names"), [
    (["mnt"], "No such command 'mnt'"),
    (["provenance", "export", "--token-id", "abc", "--collection", "0x0", "--out", "x"], "'--token-id'"),
    (["mint"], "Missing argument 'file'"),
    (["list", "--collection", "0x0", "--price", "1"], "Missing option '--token-id'"),
    (["wallet", "address", "--bogus"], "No such option: --bogus"),
    (["node", "status", "--chain"], "'--chain' requires an argument"),
    (["bench", "consortium", "--count", "0"], "'--count'"),
])
def test_usage_mistakes_exit_2_naming_the_command_or_option(args: list[str], names: str) -> None:
    out = _run(*args)
    assert out.returncode == 2, (args, out.returncode, out.stderr)
    assert names in out.stderr, out.stderr
    assert "Error:" in out.stderr and "python -m" not in out.stderr
    assert "unexpected" not in out.stderr and "Traceback" not in out.stderr


READ_COMMANDS = {"status", "address", "queue", "show"}


def test_every_status_like_read_command_takes_json() -> None:
    root = typer.main.get_command(app)  # type: ignore[arg-type]
    checked = []
    for path in _all_paths():
        if not path or path[-1] not in READ_COMMANDS:
            continue
        command: Any = root
        for part in path:
            command = command.commands[part]
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert "--json" in options, f"'chainright {' '.join(path)}' has no --json"
        checked.append(path)
    assert len(checked) >= 6, checked  # node/consortium/relayer/kyc status, wallet address, kyc queue/show


def test_status_json_is_one_json_document_on_stdout(tmp_path: Path) -> None:
    import json

    env = {"CHAINRIGHT_CHAIN_DATA_DIR": str(tmp_path), "CHAINRIGHT_CHAIN_HOME_PORT": "9",
           "CHAINRIGHT_CHAIN_REMOTE_PORT": "10"}
    nodes = _run("node", "status", "--json", env=env)
    assert nodes.returncode == 0, nodes.stderr
    rows = json.loads(nodes.stdout)
    assert [r["name"] for r in rows] == ["home", "remote"] and not any(r["answering"] for r in rows)
    relayer = _run("relayer", "status", "--json", env=env)
    assert relayer.returncode == 0, relayer.stderr
    assert set(json.loads(relayer.stdout)) >= {"chains", "routes", "open", "delivered", "checkpoints"}


@pytest.mark.parametrize(("given", "env", "expected"), [
    ([], {}, "http://127.0.0.1:8000"),
    ([], {"CHAINRIGHT_API_PORT": "8100"}, "http://127.0.0.1:8100"),  # `make up` moved to another port
    ([], {"CHAINRIGHT_API_PORT": "8100", "CHAINRIGHT_API_URL": "http://10.0.0.7:9000/"}, "http://10.0.0.7:9000"),
    (["--api", "http://127.0.0.1:7000"], {"CHAINRIGHT_API_URL": "http://10.0.0.7:9000"}, "http://127.0.0.1:7000"),
])
def test_the_api_url_follows_the_platform_without_api_on_every_command(
        given: list[str], env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With `make up` on other ports (CHAINRIGHT_API_PORT), every command used to call :8000 unless
    given --api: --api wins, then CHAINRIGHT_API_URL, then the port `up` serves on."""
    for name in ("CHAINRIGHT_API_PORT", "CHAINRIGHT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    probe = typer.Typer()
    seen: list[str] = []

    @probe.command()
    def where(api: ApiOpt = "http://127.0.0.1:8000") -> None:
        seen.append(api)

    @probe.command()
    def other() -> None:
        """A second command, so ``where`` is a subcommand as in the real tree."""

    assert CliRunner().invoke(probe, ["where", *given]).exit_code == 0
    assert seen == [expected]


@pytest.mark.parametrize("args", [
    ("mint", "song.mp3", "--new-collection", "My Songs"),
    ("mint", "song.mp3", "--collection", "0x" + "11" * 20, "--editions", "3"),
    ("upload", "song.mp3"),
])
def test_a_work_that_is_not_there_is_a_usage_error_before_the_wallet_is_opened(
        args: tuple[str, ...], tmp_path: Path) -> None:
    """The README's `mint song.mp3` pasted where no song.mp3 is: `mint` used to log in with the wallet
    first ("logged in as ...", then "error: no file at song.mp3", exit 1)."""
    env = {"CHAINRIGHT_CHAIN_DATA_DIR": str(tmp_path), "CHAINRIGHT_WALLET_PASSPHRASE": "x",
           "CHAINRIGHT_API_URL": "http://127.0.0.1:9"}
    out = _run(*(a if a != "song.mp3" else str(tmp_path / "song.mp3") for a in args), env=env)
    assert out.returncode == 2, out.stderr
    assert "no file at" in out.stderr and "'FILE'" in out.stderr and "logged in" not in out.stderr
    assert "wallet" not in out.stderr  # not "no wallet at ...": the file is checked first


@pytest.mark.parametrize(("typed", "wei"), [("0", 0), ("0.01", 10**16), ("1000wei", 1000), ("2ETH", 2 * 10**18)])
def test_a_license_fee_reads_as_eth_like_every_other_amount(typed: str, wei: int) -> None:
    from chainright.console import license_fee_wei

    assert license_fee_wei(typed) == wei


def test_a_license_fee_that_is_not_an_amount_is_a_usage_error_before_the_wallet_is_opened(tmp_path: Path) -> None:
    work = tmp_path / "w.png"
    work.write_bytes(b"a work")
    env = {"CHAINRIGHT_CHAIN_DATA_DIR": str(tmp_path), "CHAINRIGHT_WALLET_PASSPHRASE": "x",
           "CHAINRIGHT_API_URL": "http://127.0.0.1:9"}
    for bad in ("abc", "-1", "1.5wei"):
        out = _run("mint", str(work), "--new-collection", "X", "--license", "commercial", "--license-fee", bad,
                   env=env)
        assert out.returncode == 2, out.stderr
        assert "--license-fee" in out.stderr and "wallet" not in out.stderr


TOKEN_OPTS = ("--collection", "0x" + "11" * 20, "--token-id", "1")


@pytest.mark.parametrize("args", [("trade", "auction", "list"), ("trade", "offer", "list", *TOKEN_OPTS[:2]),
                                  ("trade", "credits"), ("trade", "license", "credit"),
                                  ("trade", "license", "terms", *TOKEN_OPTS), ("trade", "rental", *TOKEN_OPTS)])
def test_a_read_does_not_unlock_the_wallet(args: tuple[str, ...], tmp_path: Path) -> None:
    """Public reads and reads of one's own address need no passphrase: the address is read from the
    keystore in the clear. Here no passphrase is set and the API is not there: the command must get
    as far as the API (and say it is not there), not stop at the wallet."""
    from chain.wallet import Wallet

    wallet = Wallet.create()
    wallet.save(tmp_path / "wallets" / "reader.json", "a passphrase")
    assert Wallet.address_at(tmp_path / "wallets" / "reader.json") == wallet.address
    env = {"CHAINRIGHT_CHAIN_DATA_DIR": str(tmp_path), "CHAINRIGHT_API_URL": "http://127.0.0.1:9",
           "CHAINRIGHT_WALLET_PASSPHRASE": ""}
    out = _run(*args, "--wallet", "reader", env=env)
    assert out.returncode == 1, out.stderr
    assert "passphrase" not in out.stderr and "127.0.0.1:9" in out.stderr, out.stderr
