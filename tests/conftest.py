"""Shared fixtures. Tiers are markers: unit (no chain), contracts (one chain), integration.

Chains are real anvils started by our own NodeManager on free loopback ports, with their data
under a temporary directory, and stopped by PID at the end. Ape connects to them through the
same network path the platform uses (chain.connection.ape_connection).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.db import Base, Database
from chain.ports import free_port  # re-exported: the tests import it from here
from chain.settings import ChainSettings
from chain.toolchain import ensure_toolchain_env
from tests.support.postgres import postgres_server

ensure_toolchain_env()

# No test reaches the network beyond loopback: the guard refuses it and fails the run.
pytest_plugins = ["tests.support.netguard"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under pytest-xdist, compile once in the controller: the workers then only read ape's build cache."""
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    from chain.artifacts import compile_project

    compile_project()


TIERS = {"unit": "unit", "chain": "chain", "contracts": "contracts", "integration": "integration"}
"""Tier folder under tests/ -> the marker every test in it carries (``make test-unit`` selects by marker)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test carries exactly one tier marker, the one of the folder it lives in: a test without
    one would be skipped by the tier commands, and one in the wrong folder hides what it needs."""
    wrong: list[str] = []
    root = Path(str(config.rootpath)) / "tests"
    for item in items:
        folder = Path(str(item.path)).relative_to(root).parts[0] if Path(str(item.path)).is_relative_to(root) else None
        tiers = sorted({m.name for m in item.iter_markers() if m.name in TIERS.values()})
        expected = TIERS.get(folder or "")
        if expected is not None and tiers != [expected]:
            wrong.append(f"{item.nodeid}: marked {tiers or 'with no tier'}, its folder tests/{folder}/ wants [{expected!r}]")
    if wrong:
        raise pytest.UsageError("tests whose tier marker does not match their folder (add `pytestmark = "
                                "pytest.mark.<tier>` or move the file):\n  " + "\n  ".join(wrong[:20]))


@pytest.fixture(scope="module", autouse=True)
def _chain_clock_in_step() -> Iterator[None]:
    """After each module, the chain ape is connected to gets its clock back in step with the wall clock.

    anvil's ``evm_revert`` also rewinds its clock to the snapshot's, so a module that isolates its tests
    with snapshots leaves the session's shared chain behind the wall clock by as long as it ran, and an
    order a later module signs as starting "a minute ago" has not started there (``OrderNotStarted``).
    Inside a module nothing changes (its own snapshots and time travel keep working); a chain already
    ahead of the wall clock is left alone, so block times never go backwards. One empty block is mined at
    the new time, so that the next module's reading of the head's time is the chain's time."""
    yield
    import sys
    import time

    if "ape" not in sys.modules:
        return
    import ape
    from ape.exceptions import ProviderError

    provider = ape.networks.active_provider
    if provider is None or not provider.is_connected:
        return
    try:
        now = int(time.time())
        if ape.chain.blocks.head.timestamp < now:
            provider.make_request("evm_setTime", [now])
            provider.make_request("evm_mine", [])
    except (ProviderError, OSError):
        pass  # the chain this module used is gone: nothing to keep in step


# -- databases: one behaviour suite, several backends ------------------------------------------
# CHAINRIGHT_TEST_DATABASES (comma-separated, default "sqlite,postgresql") picks them.

BACKENDS = [b.strip() for b in os.environ.get("CHAINRIGHT_TEST_DATABASES", "sqlite,postgresql").split(",")
            if b.strip()]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'chainright.db'}"
    elif request.param == "postgresql":
        with postgres_server() as url:
            yield url
    else:
        raise ValueError(f"unknown test database backend {request.param!r}")


@pytest.fixture(scope="session")
def migrated(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def database(migrated: Database) -> Iterator[Database]:
    """The migrated database, emptied after each test."""
    yield migrated
    from record.index.store import INDEX_METADATA

    with migrated.engine.begin() as conn:
        for table in [*reversed(Base.metadata.sorted_tables), *reversed(INDEX_METADATA.sorted_tables)]:
            conn.execute(table.delete())


os.environ.setdefault("CHAINRIGHT_CHAIN_ENVIRONMENT", "test")


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
    from devnet.anvil import NodeManager

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


# The three roles of the platform's preset royalty split (rights holder 30% / issuer 40% / channel 30%),
# each its own account: the creator holds the rights; issuer and channel are accounts no other role uses.
@pytest.fixture(scope="session")
def rights_holder(creator):  # type: ignore[no-untyped-def]
    return creator


@pytest.fixture(scope="session")
def issuer(accounts):  # type: ignore[no-untyped-def]
    return accounts[7]


@pytest.fixture(scope="session")
def channel(accounts):  # type: ignore[no-untyped-def]
    return accounts[8]


@pytest.fixture(scope="session")
def stranger(accounts):  # type: ignore[no-untyped-def]
    return accounts[9]
