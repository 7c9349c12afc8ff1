"""Gas per operation must not grow more than 2% over the committed snapshot.

To accept a change in gas, run `make gas-snapshot` and commit gas-snapshot.json with the change.
"""

from __future__ import annotations

import pytest

from bench.gas import compare, read_snapshot, run_gas_bench

pytestmark = pytest.mark.contracts


def test_gas_matches_the_committed_snapshot(artifacts):
    snapshot = read_snapshot()
    assert snapshot, "gas-snapshot.json is missing: run `make gas-snapshot` and commit it"
    diff = compare(snapshot, run_gas_bench(artifacts))
    assert diff.ok, "gas changed beyond the snapshot (run `make gas-snapshot` if intended):\n" + diff.describe()
