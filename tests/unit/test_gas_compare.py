from __future__ import annotations

import pytest

from bench.gas import compare

pytestmark = pytest.mark.unit


def test_growth_within_two_percent_passes():
    assert compare({"mint": 100_000}, {"mint": 102_000}).ok


def test_growth_beyond_two_percent_fails_and_names_the_operation():
    diff = compare({"mint": 100_000, "burn": 50_000}, {"mint": 102_001, "burn": 40_000})
    assert not diff.ok
    assert diff.regressions == {"mint": (100_000, 102_001)}
    assert diff.improvements == {"burn": (50_000, 40_000)}
    assert "mint: 100000 -> 102001" in diff.describe()


def test_new_or_dropped_operations_fail_until_the_snapshot_is_updated():
    diff = compare({"old": 1}, {"new": 1})
    assert not diff.ok
    assert diff.missing_from_snapshot == ["new"] and diff.missing_from_run == ["old"]
