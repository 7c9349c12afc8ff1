"""Gas for the transactions the API hands to wallets, by simulation: a transaction that would revert
becomes one 422 naming the contract's custom error in its sentence (``chain.reverts``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from web3.exceptions import ContractCustomError, ContractLogicError

from api.errors import UnprocessableError
from api.gateway import ChainGateway
from chain.reverts import ErrorDecoder, revert_data

RevertContext = Callable[[str, Sequence[Any]], dict[str, str]]
"""``(error name, error arguments) -> extra words for its sentence`` (e.g. until when a halt lasts)."""


def estimate_gas(gateway: ChainGateway, chain_id: int, sender: str, to: str, data: str, value: int = 0, *,
                 what: str = "the transaction", context: RevertContext | None = None) -> int:
    """Gas for the transaction as the user's wallet would send it. A revert raises a 422 whose detail
    is ``"<what> would revert: <the error's sentence>"`` and whose ``error`` is the error's name."""
    tx: dict[str, Any] = {"from": sender, "to": to, "data": data}
    if value:
        tx["value"] = value
    try:
        return int(gateway.web3(chain_id).eth.estimate_gas(tx))  # type: ignore[arg-type]
    except (ContractLogicError, ContractCustomError) as exc:
        decoder = ErrorDecoder(gateway.artifacts.get(n).abi for n in gateway.artifacts.names())
        revert = revert_data(exc)
        decoded = decoder.decode(revert)
        words = context(decoded[0], decoded[1]) if decoded and context is not None else {}
        raise UnprocessableError(f"{what} would revert: {decoder.explain(revert, **words)}",
                                 error=decoded[0] if decoded else None) from None
