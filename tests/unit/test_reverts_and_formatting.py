"""Every custom error of our contracts reads as a sentence; amounts and times read one way everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_abi_to_4byte_selector

from chain.artifacts import abi_type
from chain.errors import TransactionRevertedError
from chain.formatting import format_time, format_wei
from chain.reverts import SENTENCES, ErrorDecoder, explain, explain_exception

pytestmark = pytest.mark.unit

SAMPLE = {"address": "0x" + "ab" * 20, "bool": True, "string": "ipfs://x", "bytes": b"\x01\x55",
          "bytes32": b"\x11" * 32, "bytes2": b"DE"}


def _our_errors(artifacts: Any) -> list[dict[str, Any]]:
    """Every custom error in the ABI of a contract of contracts/ (test doubles excluded)."""
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for name in artifacts.names():
        art = artifacts.get(name)
        if "/test/" in art.source_id or art.source_id.startswith("contracts/test"):
            continue
        for item in art.abi:
            if item["type"] == "error":
                out[(item["name"], *[abi_type(i) for i in item["inputs"]])] = item
    return list(out.values())


def _sample(t: str) -> Any:
    if t in SAMPLE:
        return SAMPLE[t]
    if t.startswith("uint"):
        return 1_700_000_000 if int(t[4:] or 256) >= 32 else 1
    raise AssertionError(f"no sample value for {t}")


def test_every_custom_error_of_our_contracts_has_a_sentence(artifacts: Any) -> None:
    errors = _our_errors(artifacts)
    assert len(errors) > 150, "the ABI scan found too few errors: the scan is broken"
    missing = sorted({e["name"] for e in errors} - set(SENTENCES))
    assert not missing, f"custom errors without a sentence in chain/reverts.py: {missing}"


def test_every_sentence_formats_with_its_errors_real_arguments(artifacts: Any) -> None:
    """Decoded from real revert data: a template naming an argument the error lacks, or a wrong
    format for its type, would fall back to Name(args)."""
    abis = [artifacts.get(n).abi for n in artifacts.names()]
    decoder = ErrorDecoder(abis)
    for item in _our_errors(artifacts):
        types = [abi_type(i) for i in item["inputs"]]
        data = function_abi_to_4byte_selector(item) + abi_encode(types, [_sample(t) for t in types])
        sentence = decoder.explain(data)
        assert "refused with" not in sentence, (item["name"], sentence)
        assert "{" not in sentence and "}" not in sentence, sentence
        assert ";" in sentence or len(sentence.split()) > 4, f"{item['name']}: say what to do: {sentence}"


def test_well_known_reverts_read_as_advice(artifacts: Any) -> None:
    decoder = ErrorDecoder([artifacts.get(n).abi for n in artifacts.names()])

    def data(name: str, *args: Any) -> bytes:
        item = next(e for e in _our_errors(artifacts) if e["name"] == name)
        types = [abi_type(i) for i in item["inputs"]]
        return function_abi_to_4byte_selector(item) + abi_encode(types, list(args))

    creator = "0x" + "cd" * 20
    registered = decoder.explain(data("RightsAlreadyRegistered", b"\x22" * 32, "0x" + "ab" * 20, 7, creator,
                                      1_765_000_000, b"\x01"))
    assert "already registered by 0xCdCD" in registered and format_time(1_765_000_000) in registered
    halted = data("CollectionHalted", creator)
    assert "circuit breaker" in decoder.explain(halted) and "for a cooldown" in decoder.explain(halted)
    until = f"until {format_time(1_765_000_000)}"
    assert f"fast) {until}; try again later" in decoder.explain(halted, until=until)  # the API knows when
    assert "paused by an operator" in decoder.explain(data("EnforcedPause"))
    price = decoder.explain(data("PaymentValueMismatch", 1_500_000_000_000_000_000, 0))
    assert "1.5 ETH (1500000000000000000 wei)" in price


def test_explain_exception_uses_the_revert_data_and_names_the_transaction(artifacts: Any) -> None:
    abis = [artifacts.get(n).abi for n in artifacts.names()]
    item = next(e for e in _our_errors(artifacts) if e["name"] == "EnforcedPause")
    exc = TransactionRevertedError("reverted: EnforcedPause()", tx_hash="0xabc",
                                   revert_data=function_abi_to_4byte_selector(item))
    text = explain_exception(exc, abis)
    assert text.startswith("this contract is paused by an operator") and "0xabc" in text
    plain = TransactionRevertedError("reverted: no revert reason")
    assert explain_exception(plain, abis) == "reverted: no revert reason"


def test_unknown_errors_and_builtin_reasons_still_say_something() -> None:
    assert explain("SomethingNew", (1,), [{"name": "x", "type": "uint256"}]) == \
        "the contract refused with SomethingNew(1)"
    assert explain("Error", ("nope",)) == "the contract refused: nope"
    assert "panic 0x11" in explain("Panic", (0x11,))


@pytest.mark.parametrize(("wei", "text"), [
    (1_500_000_000_000_000_000, "1.5 ETH (1500000000000000000 wei)"),
    (0, "0 ETH (0 wei)"),
    (1, "0.000000000000000001 ETH (1 wei)"),
    (10**19, "10 ETH (10000000000000000000 wei)"),
])
def test_format_wei_prints_eth_with_exact_wei(wei: int, text: str) -> None:
    assert format_wei(wei) == text


def test_format_time_is_iso_8601_utc() -> None:
    assert format_time(1_765_000_000) == "2025-12-06T05:46:40Z"
    assert format_time(datetime(2026, 12, 7, 10, 0, 0, 123, tzinfo=UTC)) == "2026-12-07T10:00:00Z"
    assert format_time(datetime(2026, 12, 7, 10, 0)) == "2026-12-07T10:00:00Z"
