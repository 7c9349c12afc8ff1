"""Fixtures shared by the contract tiers' marketplace modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.marketplace import MarketWorld, isolated


@pytest.fixture(scope="module")
def w(ape_project, accounts) -> MarketWorld:  # type: ignore[no-untyped-def]
    """The marketplace world (contracts, tokens, roles), deployed once per module."""
    return MarketWorld.deploy(ape_project, accounts)


@pytest.fixture
def market_isolated(w: MarketWorld) -> Iterator[None]:
    """Each test starts from the module's freshly deployed world (chain snapshot, reverted after)."""
    with isolated():
        yield
