"""Finality by engine (chain.engines): the client version names the engine, and only our BFT
validator's answer drops the confirmations to 0; anything else keeps what is configured."""

from __future__ import annotations

from typing import Any

import pytest

from chain.engines import ANVIL, BFT, CLIQUE, OTHER, engine_of, engine_via, final_depth

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("version", "engine"), [
    ("Version bftd/cosmos-evm-v0.7.3 ()\nCompiled at  using Go go1.26.8 (amd64)", BFT),
    ("Version bftd/", BFT),
    ("Geth/v1.13.15-stable-c5ba367e/linux-amd64/go1.26.8", CLIQUE),
    ("anvil/v1.2.3", ANVIL),
    ("", OTHER),
    # look-alikes are not taken for BFT: confirmations stay as configured (the safe side)
    ("bftd/cosmos-evm-v0.7.3", OTHER),
    ("Version Bftd/1", OTHER),
    ("Geth/v1.13.15 Version bftd/", CLIQUE),
    ("evmd Version bftd/", OTHER),
])
def test_client_version_names_the_engine(version: str, engine: Any) -> None:
    assert engine_of(version) is engine


@pytest.mark.parametrize(("engine", "configured", "depth"), [
    (BFT, 3, 0), (BFT, 0, 0), (CLIQUE, 3, 3), (ANVIL, 0, 0), (OTHER, 5, 5),
])
def test_only_instant_finality_drops_the_confirmations(engine: Any, configured: int, depth: int) -> None:
    assert engine.confirmations(configured) == depth


def test_bft_headers_and_state_proofs_are_not_ethereum_ones() -> None:
    assert BFT.instant_finality and not BFT.ethereum_headers and not BFT.ethereum_state_proofs
    assert all(e.ethereum_headers and e.ethereum_state_proofs and not e.instant_finality
               for e in (CLIQUE, ANVIL, OTHER))


class FakeProvider:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def make_request(self, method: str, params: list[Any]) -> dict[str, Any]:
        assert method == "web3_clientVersion"
        if isinstance(self.answer, Exception):
            raise self.answer
        return {"result": self.answer}


class FakeWeb3:
    def __init__(self, answer: Any) -> None:
        self.provider = FakeProvider(answer)


@pytest.mark.parametrize(("answer", "depth"), [
    ("Version bftd/cosmos-evm-v0.7.3", 0),
    ("Geth/v1.13.15-stable", 4),
    (OSError("connection refused"), 4),  # no answer: keep the configured depth
])
def test_final_depth_asks_the_node(answer: Any, depth: int) -> None:
    assert final_depth(FakeWeb3(answer), 4) == depth


def test_a_node_without_web3_client_version_is_another_engine() -> None:
    def call(method: str, params: list[Any]) -> Any:
        raise ValueError("method not found")

    assert engine_via(call) is OTHER
