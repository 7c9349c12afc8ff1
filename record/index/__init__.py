"""The indexer: follows a chain from a checkpoint and decodes every platform event into tables.

- ``core``     pure planning: which block range next, where a reorg forked (table-tested)
- ``decoder``  ABI-driven log decoding for the contracts we watch
- ``store``    the tables (SQLAlchemy Core) and their reads/writes
- ``indexer``  the effects: RPC in, rows out, one transaction per batch
"""

from chain.blocks import BlockRange, plan_range
from record.index.core import rewind_point
from record.index.decoder import DecodedEvent, EventDecoder
from record.index.indexer import Indexer, IndexerStep
from record.index.store import INDEX_METADATA, IndexStore

__all__ = [
    "INDEX_METADATA",
    "BlockRange",
    "DecodedEvent",
    "EventDecoder",
    "IndexStore",
    "Indexer",
    "IndexerStep",
    "plan_range",
    "rewind_point",
]
