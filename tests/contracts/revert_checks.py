"""Strict revert assertions for contract tests.

``ape.reverts(Contract.Error)`` also passes on a revert that carries no custom error at all, and
its keyword inputs skip names the error does not have; ``reverts_with`` checks the error's name
and every one of its inputs. Ape does not decode custom errors of view calls, so
``call_reverts_with`` makes the call through web3 and decodes the revert data itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ape
import pytest
from ape.exceptions import ContractLogicError
from web3.exceptions import ContractCustomError

from chain.reverts import ErrorDecoder


def _norm(value: Any) -> Any:
    if hasattr(value, "address"):
        value = str(value.address)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    return value


def _name(error: Any) -> str:
    return error if isinstance(error, str) else str(error.__name__)


@contextmanager
def reverts_with(error: Any, **inputs: Any) -> Iterator[None]:
    """Expect the transaction in the block to revert with custom error ``error`` and exactly ``inputs``.

    Covers transactions (decoded by ape) and deployments (web3 raises on gas estimation; decoded
    here with every compiled contract's errors).
    """
    name = _name(error)
    try:
        yield
    except ContractCustomError as exc:
        got, actual = _decode(exc.data, _all_errors())
    except ContractLogicError as exc:
        message = str(exc.message) if hasattr(exc, "message") else str(exc)
        if type(exc) is ContractLogicError and re.fullmatch(r"0x[0-9a-fA-F]{8,}", message):
            got, actual = _decode(message, _all_errors())  # undecoded revert data (deployments)
        else:
            got = type(exc).__name__
            actual = {k: _norm(v) for k, v in dict(getattr(exc, "inputs", {})).items()}
    else:
        pytest.fail(f"expected a revert with {name}, but nothing reverted")
    assert got == name, f"expected {name}, got {got}"
    expected = {k: _norm(v) for k, v in inputs.items()}
    assert actual == expected, f"{name} inputs: expected {expected}, got {actual}"


def _all_errors() -> list[dict[str, Any]]:
    from chain.artifacts import Artifacts

    artifacts = Artifacts.load()
    return [item for n in artifacts.names() for item in artifacts.get(n).abi if item.get("type") == "error"]


def _decode(data: Any, errors: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data or b"")
    decoded = ErrorDecoder([errors]).decode(raw)
    assert decoded is not None, f"undecodable revert data 0x{raw.hex()}"
    name, values = decoded
    item = next(i for i in errors if i["name"] == name
                and len(i.get("inputs", [])) == len(values))
    return name, {i["name"]: _norm(v) for i, v in zip(item["inputs"], values, strict=True)}


def _abi(contract: Any) -> list[dict[str, Any]]:
    return [item.model_dump(by_alias=True, mode="json") for item in contract.contract_type.abi]


def call_reverts_with(contract: Any, method: str, *args: Any, error: Any, **inputs: Any) -> None:
    """Expect the view ``contract.method(*args)`` to revert with ``error`` and exactly ``inputs``."""
    abi = _abi(contract)
    web3 = ape.chain.provider.web3
    bound = web3.eth.contract(address=contract.address, abi=abi)
    call_args = [str(a.address) if hasattr(a, "address") else a for a in args]
    with pytest.raises(ContractCustomError) as info:
        getattr(bound.functions, method)(*call_args).call()
    name, actual = _decode(info.value.data, [i for i in abi if i.get("type") == "error"])
    assert name == _name(error), f"expected {_name(error)}, got {name}{actual}"
    expected = {k: _norm(v) for k, v in inputs.items()}
    assert actual == expected, f"{name} inputs: expected {expected}, got {actual}"


def events(tx: Any, name: str) -> list[Any]:
    """The logs of ``tx`` named ``name``."""
    return [log for log in tx.events if log.event_name == name]


def one_event(tx: Any, name: str) -> Any:
    """The single log of ``tx`` named ``name`` (fails when there are none or several)."""
    found = events(tx, name)
    assert len(found) == 1, f"expected one {name} event, got {len(found)}: {tx.events}"
    return found[0]
