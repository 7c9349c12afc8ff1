"""One parser for ETH amounts typed at the console (`wallet fund --amount`, `list --price`): the same
numbers are accepted, the same mistakes refused with one line (never an 'unexpected' error)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainright.console import EthAmountError, parse_eth

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
NOT_NUMBERS = ["abc", "", "1,5", "0x10", "nan", "NaN", "-inf", "Infinity", "sNaN", "1e999999999"]
NOT_POSITIVE = ["0", "-1", "-0.5", "0.0000000000000000001", "-0"]


@pytest.mark.parametrize(("text", "wei"), [
    ("10", 10 * 10**18),
    ("0.5", 5 * 10**17),
    ("2.5", 25 * 10**17),
    (" 1 ", 10**18),
    ("1e-3", 10**15),
    ("0.000000000000000001", 1),
    ("1.0000000000000000009", 10**18),  # below one wei is dropped, as before
])
def test_parse_eth_reads_amounts_of_eth_as_wei(text: str, wei: int) -> None:
    assert parse_eth(text) == wei


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_parse_eth_refuses_what_is_not_a_finite_number(text: str) -> None:
    with pytest.raises(EthAmountError, match="is not a number of ETH"):
        parse_eth(text)


@pytest.mark.parametrize("text", NOT_POSITIVE)
def test_parse_eth_refuses_amounts_that_are_not_positive(text: str) -> None:
    with pytest.raises(EthAmountError, match="must be positive"):
        parse_eth(text)


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHAINRIGHT_CHAIN_DATA_DIR": str(tmp_path),
           "CHAINRIGHT_CHAIN_HOME_PORT": "9", "CHAINRIGHT_CHAIN_REMOTE_PORT": "10"}
    env.pop("CHAINRIGHT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "chainright", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


@pytest.mark.parametrize("amount", ["abc", "nan", "1e999999999", "-2"])
def test_both_commands_refuse_a_bad_amount_before_touching_a_chain(amount: str, tmp_path: Path) -> None:
    fund = _run("wallet", "fund", f"--amount={amount}", tmp_path=tmp_path)
    assert fund.returncode == 2, fund.stderr  # a usage mistake naming the option
    assert "'--amount'" in fund.stderr and "Traceback" not in fund.stderr
    listing = _run("list", "--collection", "0x0", "--token-id", "1", f"--price={amount}", tmp_path=tmp_path)
    assert listing.returncode == 2, listing.stderr  # a usage mistake too, like wallet fund's
    assert "'--price'" in listing.stderr and "Traceback" not in listing.stderr and "unexpected" not in listing.stderr
    why = "must be positive" if amount == "-2" else "is not a number of ETH"
    assert why in fund.stderr and why in listing.stderr
