"""Wire indexers for the configured chains: watched contracts from the deployment registry,
factory children by rule, and a loop that follows both chains until told to stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from chain.artifacts import Artifacts
from chain.connection import connect
from chain.deployments import DeploymentRegistry
from chain.engines import final_depth
from chain.errors import ChainError
from chain.settings import ChainSettings
from record.index.decoder import EventDecoder
from record.index.indexer import ChildRule, Indexer
from record.index.store import IndexStore

log = logging.getLogger(__name__)

CHILD_RULES: list[ChildRule] = [
    ChildRule("CollectionFactory", "CollectionCreated", "collection", "CreatorCollection"),
    ChildRule("CollectionFactory", "Editions1155Created", "editions", "Editions1155"),
    ChildRule("SplitterFactory", "SplitterCreated", "splitter", "RoyaltySplitter"),
]
"""Factories' announcements of new contracts, per contract family."""


def build_indexers(settings: ChainSettings, engine: Engine, artifacts: Artifacts, *,
                   which: str = "all", batch: int = 500,
                   progress: Callable[[str], None] | None = None) -> list[Indexer]:
    registry = DeploymentRegistry(settings.deployments_file)
    decoder = EventDecoder({name: artifacts.get(name).abi for name in artifacts.names()})
    store = IndexStore(engine)
    indexers = []
    for spec in settings.specs(which):
        web3 = connect(spec)
        depth = final_depth(web3, spec.confirmations, who=f"indexer[{spec.chain_id}]")
        indexer = Indexer(web3, spec.chain_id, store, decoder, confirmations=depth,
                          batch=batch, rules=CHILD_RULES, progress=progress)
        if spec.max_block_age_s is not None:
            indexer.watch_progress(spec.max_block_age_s)
        indexer.watch((d.address, d.artifact or d.contract, d.block)
                      for d in registry.for_chain(spec.chain_id).values()
                      if (d.artifact or d.contract) in artifacts)
        indexers.append(indexer)
    return indexers


def follow(indexers: Sequence[Indexer], stop: threading.Event, *, poll_s: float = 0.5,
           on_error: Callable[[Indexer, ChainError], None] | None = None,
           after_step: Callable[[int], None] | None = None) -> None:
    """Step every indexer until ``stop`` is set; a chain that goes away is reported and retried.
    ``after_step(chain_id)`` runs after each step that indexed something (readers that follow the
    index, e.g. the API's order book and fill circuit breaker).

    One indexer per chain and database: every indexer's lease is taken first, and a chain another
    indexer holds refuses the start (``IndexerAlreadyRunningError``); the leases are given back
    when ``stop`` ends the loop."""
    claimed: list[Indexer] = []
    try:
        for indexer in indexers:
            indexer.claim()
            claimed.append(indexer)
        _follow(indexers, stop, poll_s, on_error, after_step)
    finally:
        for indexer in claimed:
            try:
                indexer.release()
            except Exception:  # the database went away: the lease expires by itself
                log.warning("%s could not release its lease; it expires by itself", indexer.tag)


def _follow(indexers: Sequence[Indexer], stop: threading.Event, poll_s: float,
            on_error: Callable[[Indexer, ChainError], None] | None,
            after_step: Callable[[int], None] | None) -> None:
    while not stop.is_set():
        busy = False
        for indexer in indexers:
            try:
                worked = not indexer.step().idle
                busy |= worked
                if worked and after_step is not None:
                    after_step(indexer.chain_id)
            except ChainError as exc:
                if on_error is not None:
                    on_error(indexer, exc)
        if not busy:
            stop.wait(poll_s)
