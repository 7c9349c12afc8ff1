"""The indexer SIGKILLed mid-backfill, at every point of a step: after the events are written (not
committed), after the checkpoint moved (not committed), after a step committed. Restarted at once
over the same database, it takes over the dead indexer's lease (no minute-long wait for it to
expire, no exit that a supervisor would count as a crash loop), resumes from its checkpoint and
ends with every event of the history exactly once: no gap, no duplicate."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.rpc import rpc_call
from chain.settings import ChainSettings
from chain.tx import TxSender
from record.index.store import chain_checkpoints, chain_events
from tests.conftest import free_port
from tests.integration.kill_env import KillAt, service_env, start

pytestmark = pytest.mark.integration

EVENTS_PER_STRETCH = 40
EMPTY_BLOCKS = 600
"""Between the two stretches of events: more than one range (500 blocks) of backfill."""


@pytest.fixture(scope="module")
def history(two_chains: ChainSettings, artifacts) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Identity writes on home, an empty stretch longer than one indexer range, more writes."""
    deploy_to_chains(two_chains, two_chains.specs("all"))
    home = connect(two_chains.spec("home"))
    address = DeploymentRegistry(two_chains.deployments_file).address(31337, "IdentityRegistry")
    registry = home.eth.contract(address=address, abi=artifacts.get("IdentityRegistry").abi)
    sender = TxSender(home, dev_account(0))
    expiry = int(time.time()) + 86_400

    def stretch(first: int) -> None:
        for n in range(first, first + EVENTS_PER_STRETCH):
            who = dev_account(100 + n).address
            sender.transact(sender.call_tx(registry.functions.batchSetIdentities([who], [1], [b"FR"], [expiry])))

    stretch(0)
    rpc_call(two_chains.spec("home").rpc_url, "anvil_mine", [hex(EMPTY_BLOCKS)], timeout=120)  # hundreds of blocks: slow on a loaded machine
    stretch(EVENTS_PER_STRETCH)
    head = home.eth.block_number
    logs = home.eth.get_logs({"fromBlock": 0, "toBlock": head, "address": address})
    return {"chains": two_chains, "registry": address, "head": head,
            "expected": {(lg["transactionHash"].to_0x_hex().lower(), int(lg["logIndex"])) for lg in logs}}


KILL_POINTS = {
    "events written, not committed": KillAt("record.index.store:IndexStore.add_events", "after", 1),
    "checkpoint moved, not committed": KillAt("record.index.store:IndexStore.set_next_block", "after", 1),
    "a step committed": KillAt("record.index.indexer:Indexer.step", "after", 1),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_an_indexer_killed_mid_backfill_resumes_without_gaps_or_duplicates(history, point, tmp_path: Path):
    chains: ChainSettings = history["chains"]  # type: ignore[assignment]
    env = service_env(chains, tmp_path, free_port())
    armed = start(["indexer", "run", "--chain", "home"], env, tmp_path, "armed", KILL_POINTS[point])
    assert armed.killed_at_point(timeout=120), armed.log.read_text()[-2000:]
    engine = create_engine(f"sqlite:///{tmp_path / 'chainright.db'}")

    def indexed() -> tuple[int | None, int, int]:
        with engine.connect() as conn:
            next_block = conn.execute(select(chain_checkpoints.c.next_block)
                                      .where(chain_checkpoints.c.chain_id == 31337)).scalar()
            rows = conn.execute(select(func.count()).select_from(chain_events)
                                .where(chain_events.c.chain_id == 31337)).scalar() or 0
            ours = conn.execute(select(func.count()).select_from(chain_events).where(
                chain_events.c.chain_id == 31337, chain_events.c.address == history["registry"])).scalar() or 0
        return next_block, int(rows), int(ours)

    before = indexed()
    restarted = start(["indexer", "run", "--chain", "home"], env, tmp_path, "restarted")
    try:
        deadline = time.monotonic() + 45  # well inside the dead indexer's 60 s lease: no waiting it out
        while time.monotonic() < deadline:
            assert restarted.proc.poll() is None, ("the restarted indexer exited", before,
                                                   restarted.log.read_text()[-2000:])
            next_block, _, _ = indexed()
            if next_block is not None and next_block > history["head"]:  # type: ignore[operator]
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"not caught up after the restart: {indexed()} (before: {before})\n"
                                 + restarted.log.read_text()[-2000:])
        with engine.connect() as conn:
            got = [(r.tx_hash.lower(), int(r.log_index)) for r in conn.execute(
                select(chain_events.c.tx_hash, chain_events.c.log_index).where(
                    chain_events.c.chain_id == 31337, chain_events.c.address == history["registry"]))]
        assert len(got) == len(set(got)), "duplicated events"
        assert set(got) == history["expected"], (len(got), len(history["expected"]))  # no gap
    finally:
        restarted.stop()
        engine.dispose()
