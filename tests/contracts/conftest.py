"""Fixtures shared by the contract tiers' marketplace modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.marketplace import MarketWorld, chain_snapshot


@pytest.fixture
def isolated(home_ape: object) -> Iterator[None]:
    """The test runs on a snapshot of the home chain, reverted afterwards, so no test sees another's
    state. Modules opt in with ``pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]``
    (module-scoped deployments are made before the snapshot, so they survive)."""
    with chain_snapshot():
        yield


@pytest.fixture(scope="module")
def world(ape_project, accounts) -> MarketWorld:  # type: ignore[no-untyped-def]
    """The marketplace world (contracts, tokens, roles), deployed once per module."""
    return MarketWorld.deploy(ape_project, accounts)


@pytest.fixture
def market_isolated(world: MarketWorld) -> Iterator[None]:
    """Each test starts from the module's freshly deployed world (chain snapshot, reverted after)."""
    with chain_snapshot():
        yield
