"""Gas for the transactions the API hands to wallets, by simulation; a revert becomes one 422.

The 422 names the contract's custom error and says it in its sentence (``chain.reverts``).
Fills are simulated with one ``eth_call`` at a gas limit from the committed gas snapshot with
headroom (``fill_gas_budget``): a node runs an ``eth_estimateGas`` as a binary search of many such
calls. Only when that call fails without revert data (out of gas, or a bare revert) does the fill
fall back to ``eth_estimateGas``, whose answer or revert is then the answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from api.errors import UnprocessableError
from api.gateway import ChainGateway
from api.settings import PROJECT_ROOT
from chain.errors import ChainError
from chain.formatting import format_wei
from chain.reverts import ErrorDecoder, revert_data
from record.index.rpc import RpcError

MAX_UINT256 = 2**256 - 1

RevertContext = Callable[[str, Sequence[Any]], dict[str, str]]
"""``(error name, error arguments) -> extra words for its sentence`` (e.g. until when a halt lasts)."""

GAS_SNAPSHOT = PROJECT_ROOT / "gas-snapshot.json"
HEADROOM = 1.5
"""A fill's simulated gas limit is its snapshot figure times this, plus ``HEADROOM_GAS``: room for
cold storage a first sale writes, royalty receivers that do work, and the 63/64 rule on calls."""
HEADROOM_GAS = 50_000


@cache
def _snapshot() -> dict[str, int]:
    try:
        return {str(k): int(v) for k, v in json.loads(GAS_SNAPSHOT.read_text()).items()}
    except (OSError, ValueError):
        return {}


def fill_gas_budget(items: int, *, offer: bool = False) -> int | None:
    """The gas limit a fill of ``items`` listings (or one offer) is simulated and sent at, from the
    gas snapshot (None when the snapshot is not there: then the node estimates)."""
    snap = _snapshot()
    try:
        if offer:
            base = snap["fill_offer"]
        else:
            single = max(snap["fill_listing_creator_collection"], snap["fill_listing_eth_split_fee"])
            base = single + (items - 1) * snap["fill_listings_marginal"]
    except KeyError:
        return None
    return int(base * HEADROOM) + HEADROOM_GAS


def _refuse(gateway: ChainGateway, revert: bytes, what: str,
            context: RevertContext | None) -> UnprocessableError:
    decoder = ErrorDecoder(gateway.artifacts.get(n).abi for n in gateway.artifacts.names())
    decoded = decoder.decode(revert)
    words = context(decoded[0], decoded[1]) if decoded and context is not None else {}
    return UnprocessableError(f"{what} would revert: {decoder.explain(revert, **words)}",
                              error=decoded[0] if decoded else None)


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
        raise _refuse(gateway, revert_data(exc), what, context) from None
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


def simulate_at(gateway: ChainGateway, chain_id: int, sender: str, to: str, data: str, value: int,
                gas: int | None, *, what: str = "the transaction",
                context: RevertContext | None = None) -> int:
    """Gas for a transaction whose cost the snapshot knows (``gas``: the limit to simulate it at):
    one ``eth_call`` at that limit on the kept-alive connection; a revert with data is the same 422
    as ``estimate_gas``'s; success answers ``gas``. Without a limit, a raw connection, or revert
    data (out of gas, a bare revert), ``estimate_gas`` decides."""
    rpc = gateway.rpc(chain_id) if gas is not None else None
    if rpc is not None and gas is not None:
        call = {"from": sender, "to": to, "data": data, "gas": hex(gas), "value": hex(value)}
        try:
            answer = rpc.calls([("eth_call", [call, "latest"])])[0]
        except ChainError:
            answer = None  # the estimate below reports an unreachable chain as it always has
        if answer is not None and not isinstance(answer, Exception):
            return gas
        if isinstance(answer, RpcError) and isinstance(answer.data, str) and len(answer.data) > 2:
            raise _refuse(gateway, bytes.fromhex(answer.data.removeprefix("0x")), what, context)
    return estimate_gas(gateway, chain_id, sender, to, data, value, what=what, context=context)
