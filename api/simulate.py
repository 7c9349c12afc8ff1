"""Gas for the transactions the API hands to wallets, by simulation; a revert becomes one 422.

The 422 names the contract's custom error and says it in its sentence (``chain.reverts``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from api.errors import UnprocessableError
from api.gateway import ChainGateway
from chain.formatting import format_wei
from chain.reverts import ErrorDecoder, revert_data

MAX_UINT256 = 2**256 - 1

RevertContext = Callable[[str, Sequence[Any]], dict[str, str]]
"""``(error name, error arguments) -> extra words for its sentence`` (e.g. until when a halt lasts)."""


def estimate_gas(gateway: ChainGateway, chain_id: int, sender: str, to: str, data: str, value: int = 0, *,
                 what: str = "the transaction", context: RevertContext | None = None,
                 explain_refusal: bool = False) -> int:
    """Gas for the transaction as the user's wallet would send it. A revert raises a 422 whose detail
    is ``"<what> would revert: <the error's sentence>"`` and whose ``error`` is the error's name; a
    value no transaction can carry (above 2^256 - 1 wei) is a 422 before the node is asked.

    With ``explain_refusal``, a node that refuses the transaction before running it is a 422 too: a
    wallet short of the value plus gas is told its balance (``error`` ``InsufficientFunds``), any
    other refusal carries the node's message. Without it the node's error propagates."""
    if value > MAX_UINT256:
        raise UnprocessableError(f"{value} wei does not fit a transaction's value: lower the amount")
    tx: dict[str, Any] = {"from": sender, "to": to, "data": data}
    if value:
        tx["value"] = value
    web3 = gateway.web3(chain_id)
    try:
        return int(web3.eth.estimate_gas(tx))  # type: ignore[arg-type]
    except (ContractLogicError, ContractCustomError) as exc:
        decoder = ErrorDecoder(gateway.artifacts.get(n).abi for n in gateway.artifacts.names())
        revert = revert_data(exc)
        decoded = decoder.decode(revert)
        words = context(decoded[0], decoded[1]) if decoded and context is not None else {}
        raise UnprocessableError(f"{what} would revert: {decoder.explain(revert, **words)}",
                                 error=decoded[0] if decoded else None) from None
    except Web3RPCError as exc:
        if not explain_refusal:
            raise
        message = str(getattr(exc, "message", None) or exc)
        if "insufficient funds" in message.lower():
            balance = int(web3.eth.get_balance(sender))  # type: ignore[arg-type]
            raise UnprocessableError(
                f"{what} needs {format_wei(value)} plus gas but your wallet {sender} holds "
                f"{format_wei(balance)}: fund it first", error="InsufficientFunds") from None
        raise UnprocessableError(f"the chain refused {what}: {message}") from None
