"""Shared fixtures. Tiers are markers: unit (no chain), contracts (one chain), integration.

Chains are real anvils started by our own NodeManager on free loopback ports, with their data
under a temporary directory, and stopped by PID at the end. Ape connects to them through the
same network path the platform uses (chain.connection.ape_connection).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain.settings import ChainSettings
from chain.toolchain import ensure_toolchain_env

ensure_toolchain_env()
os.environ.setdefault("CHAINRIGHT_CHAIN_ENVIRONMENT", "test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chain_settings_for(data_dir: Path, **overrides: object) -> ChainSettings:
    """Settings for two managed anvils on free ports under ``data_dir``."""
    values: dict[str, object] = {
        "environment": "test", "data_dir": data_dir, "home_port": free_port(),
        "remote_port": free_port(), "persist_state": False,
    }
    values.update(overrides)
    return ChainSettings(**values)  # type: ignore[arg-type]


def settings_env(settings: ChainSettings) -> dict[str, str]:
    """Environment variables that make a subprocess see ``settings``."""
    env = dict(os.environ)
    env.update({
        "CHAINRIGHT_CHAIN_ENVIRONMENT": settings.environment,
        "CHAINRIGHT_CHAIN_DATA_DIR": str(settings.data_dir),
        "CHAINRIGHT_CHAIN_HOME_PORT": str(settings.home_port),
        "CHAINRIGHT_CHAIN_REMOTE_PORT": str(settings.remote_port),
        "CHAINRIGHT_CHAIN_PERSIST_STATE": str(settings.persist_state).lower(),
    })
    return env


@pytest.fixture(scope="session")
def artifacts():  # type: ignore[no-untyped-def]
    """Every contract compiled once per session, through ape."""
    from chain.artifacts import compile_project

    return compile_project()


@pytest.fixture(scope="session")
def two_chains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainSettings]:
    """Home (31337) and remote (31338) anvils, started for the session, stopped at its end."""
    from chain.nodes import NodeManager

    settings = chain_settings_for(tmp_path_factory.mktemp("chains"))
    manager = NodeManager(settings)
    manager.start(settings.specs("all"))
    try:
        yield settings
    finally:
        manager.stop(["home", "remote"])


@pytest.fixture(scope="session")
def home_ape(two_chains: ChainSettings, artifacts):  # type: ignore[no-untyped-def]
    """Ape connected to the session's home anvil; yields ape's provider."""
    from chain.connection import ape_connection

    with ape_connection(two_chains.spec("home")) as provider:
        yield provider


@pytest.fixture(scope="session")
def ape_project(artifacts):  # type: ignore[no-untyped-def]
    """The ape project (contract containers: ``ape_project.CreatorCollection.deploy(...)``)."""
    from ape import Project

    from chain.settings import PROJECT_ROOT

    return Project(PROJECT_ROOT)


# Role-named accounts: anvil's development accounts, as ape test accounts.
@pytest.fixture(scope="session")
def accounts(home_ape):  # type: ignore[no-untyped-def]
    import ape

    return ape.accounts.test_accounts


@pytest.fixture(scope="session")
def deployer(accounts):  # type: ignore[no-untyped-def]
    return accounts[0]


@pytest.fixture(scope="session")
def creator(accounts):  # type: ignore[no-untyped-def]
    return accounts[1]


@pytest.fixture(scope="session")
def collector(accounts):  # type: ignore[no-untyped-def]
    return accounts[2]


@pytest.fixture(scope="session")
def operator(accounts):  # type: ignore[no-untyped-def]
    return accounts[3]


@pytest.fixture(scope="session")
def stranger(accounts):  # type: ignore[no-untyped-def]
    return accounts[9]
