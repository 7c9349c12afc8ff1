"""`chainright bench bridge` refuses, before compiling or starting anything, options that could never
finish: confirmations with automine (one block per transaction, so nothing buries a lock)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.bridge import check_bench_options
from bridge.errors import BridgeError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("block_time", "confirmations"), [(None, 0), (1.0, 2), (0.5, 0)])
def test_finishable_combinations_pass(block_time, confirmations):
    check_bench_options(block_time=block_time, confirmations=confirmations)


@pytest.mark.parametrize(("block_time", "confirmations", "says"), [
    (None, 2, "--confirmations 2 needs --block-time"),
    (1.0, -1, "--confirmations must be 0 or more"),
])
def test_unfinishable_combinations_are_refused_naming_the_fix(block_time, confirmations, says):
    with pytest.raises(BridgeError, match=says):
        check_bench_options(block_time=block_time, confirmations=confirmations)


def test_the_command_fails_fast_with_the_message():
    result = subprocess.run([sys.executable, "-m", "chainright", "bench", "bridge", "--confirmations", "2"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "--confirmations 2 needs --block-time" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
