"""Order admission's rules and the breaker's answer are pure: tables of cases.

api/admission.py and api/risk.py, no chain, no database. And the one gas estimate (api/simulate.py)
turns every revert, from any route, into the same 422 naming the contract's error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_abi_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3.exceptions import ContractCustomError

from api.admission import epoch_refusal, gift_free_at, jurisdiction_refusal, signer_refusal
from api.breaker import Decision
from api.errors import UnprocessableError
from api.risk import refusal
from api.simulate import estimate_gas
from chain.orders import ETH, Order, OrderSide, TokenStandard

pytestmark = pytest.mark.unit

CREATOR = to_checksum_address("0x" + "c0" * 20)
HOLDER = to_checksum_address("0x" + "ab" * 20)
TOKEN = to_checksum_address("0x" + "11" * 20)


def _order(side: OrderSide, signer: str, epoch: int = 0) -> Order:
    return Order(side, signer, TOKEN, 7, TokenStandard.ERC721, 1, 100, ETH if side is OrderSide.LISTING
                 else "0x" + "ee" * 20, 0, 2**40, 0, 0, epoch)


@pytest.mark.parametrize(("caller", "signer", "refused"), [
    (HOLDER, HOLDER, False),
    (HOLDER.lower(), HOLDER, False),  # the login's address in any case
    (CREATOR, HOLDER, True),  # someone else's signed order
    (None, HOLDER, True),  # a login without a wallet
])
def test_only_the_signers_own_wallet_submits_its_orders(caller, signer, refused):
    assert (signer_refusal(caller, signer) is not None) is refused


@pytest.mark.parametrize(("signed", "current", "refused"), [(0, 0, False), (3, 3, False), (2, 3, True),
                                                           (4, 3, True)])
def test_a_listing_carries_its_tokens_current_holding_epoch(signed, current, refused):
    why = epoch_refusal(_order(OrderSide.LISTING, HOLDER, signed), current)
    assert (why is not None) is refused
    if refused:
        assert f"holding_epoch {current}" in why


@pytest.mark.parametrize(("side", "signer", "creator_holds", "refused"), [
    (OrderSide.LISTING, CREATOR, True, False),  # the creator's primary sale
    (OrderSide.LISTING, HOLDER, False, True),  # a holder's resale
    (OrderSide.OFFER, HOLDER, True, False),  # an offer on a token the creator still holds
    (OrderSide.OFFER, HOLDER, False, True),  # an offer a holder would accept: a resale
])
def test_no_resale_policy_lets_only_the_creator_sell(side, signer, creator_holds, refused):
    why = jurisdiction_refusal(_order(side, signer), CREATOR, creator_holds, gift_holding_s=60)
    assert (why is not None) is refused
    if refused:
        assert "forbids secondary sales" in why and "after 60 s of holding" in why


NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(("held_s", "holding_s", "wait_s"), [
    (0, 0, None),  # no holding period
    (0, 60, 60), (59, 60, 1),  # too early: free from receipt + holding period
    (60, 60, None), (3600, 60, None),  # held long enough
])
def test_a_gift_waits_for_the_collections_holding_period(held_s, holding_s, wait_s):
    free_at = gift_free_at(NOW - timedelta(seconds=held_s), holding_s, NOW)
    assert free_at == (None if wait_s is None else NOW + timedelta(seconds=wait_s))


@pytest.mark.parametrize(("decision", "answer"), [
    (Decision("accept", "within the band"), None),
    (Decision("reject", "outside", 100, 80, 120), "order refused by the circuit breaker: outside"),
    (Decision("reject", "trading is halted", halt_until=NOW), "order refused by the circuit breaker"),
    (Decision("halt", "5 orders outside", 100, 80, 120, NOW + timedelta(minutes=15), counts=True),
     "circuit breaker tripped: 5 orders outside"),
])
def test_the_breakers_answer_names_the_refusal_and_its_band(decision, answer):
    error = refusal(decision, halt_tx="0xabc" if decision.action == "halt" else None)
    if answer is None:
        assert error is None
        return
    assert isinstance(error, UnprocessableError) and error.detail.startswith(answer)
    band = error.extra["band"]
    assert band == ({} if decision.low is None else {"low": "80", "high": "120", "reference": "100"})
    if decision.action == "halt":
        assert error.extra["halt_tx"] == "0xabc"
        assert error.extra["halted_until"] == (NOW + timedelta(minutes=15)).isoformat()


class _Reverting:
    """A gateway whose node refuses every gas estimate with ``data`` (custom-error revert data)."""

    def __init__(self, artifacts, data: bytes) -> None:
        self.artifacts, self.data, self.sent = artifacts, data, []

    def web3(self, chain_id):
        gateway = self

        class Eth:
            def estimate_gas(self, tx):
                gateway.sent.append(tx)
                raise ContractCustomError("0x" + gateway.data.hex(), data="0x" + gateway.data.hex())

        class Web3:
            eth = Eth()

        return Web3()


def _error_data(artifacts, contract: str, name: str, types: list[str], values: list) -> bytes:
    item = next(i for i in artifacts.get(contract).abi if i["type"] == "error" and i["name"] == name)
    return function_abi_to_4byte_selector(item) + abi_encode(types, values)


def test_a_revert_in_simulation_is_one_422_naming_the_error(artifacts):
    data = _error_data(artifacts, "Marketplace", "CollectionHalted", ["address"], [TOKEN])
    gateway = _Reverting(artifacts, data)
    with pytest.raises(UnprocessableError) as plain:
        estimate_gas(gateway, 31337, HOLDER, TOKEN, "0x", 0)
    assert plain.value.extra["error"] == "CollectionHalted"
    assert plain.value.detail.startswith("the transaction would revert: ")
    assert gateway.sent[-1] == {"from": HOLDER, "to": TOKEN, "data": "0x"}
    seen = []
    with pytest.raises(UnprocessableError) as fill:
        estimate_gas(gateway, 31337, HOLDER, TOKEN, "0x", 5, what="the fill",
                     context=lambda name, args: seen.append((name, args)) or {"until": "until tomorrow"})
    assert fill.value.detail.startswith("the fill would revert: ") and "until tomorrow" in fill.value.detail
    assert seen and seen[0][0] == "CollectionHalted" and gateway.sent[-1]["value"] == 5


class _CountingGateway:
    """A chain of listings whose reads are counted per round trip (``views`` is one JSON-RPC batch)."""

    def __init__(self, owners: dict[int, str], epochs: dict[int, int], fail: set[int] = frozenset()) -> None:
        self.owners, self.epochs, self.fail, self.round_trips = owners, epochs, fail, []

    def contract(self, chain_id, name):
        from types import SimpleNamespace

        return SimpleNamespace(address="0x" + "22" * 20)

    def views(self, chain_id, calls):
        self.round_trips.append([c[2] for c in calls])
        out = []
        for _, _, function, args in calls:
            token_id = args[-1]
            if token_id in self.fail:
                out.append(RuntimeError("execution reverted"))
            elif function == "counterOf":
                out.append(0)
            elif function == "ownerOf":
                out.append(self.owners[token_id])
            else:
                out.append(self.epochs[token_id])
        return out

    def view(self, chain_id, address, artifact, function, args):
        value = self.views(chain_id, [(address, artifact, function, args)])[0]
        if isinstance(value, Exception):
            raise value
        return value


def _listing_of(token_id: int, signer: str = HOLDER, epoch: int = 0) -> Order:
    return Order(OrderSide.LISTING, signer, TOKEN, token_id, TokenStandard.ERC721, 1, 100, ETH, 0, 2**40, 0, 0,
                 epoch)


def test_a_carts_holder_epoch_and_counter_reads_are_one_round_trip():
    from api.admission import OrderReads, epoch_check, holder_check

    cart = [_listing_of(t) for t in range(1, 11)]
    gateway = _CountingGateway({t: HOLDER for t in range(1, 11)}, dict.fromkeys(range(1, 11), 0))
    reads = OrderReads(gateway)  # type: ignore[arg-type]
    reads.prefetch(31337, cart)
    for order in cart:
        assert reads.counter(31337, order.signer) == 0
        holder_check(reads, order, 31337)
        epoch_check(reads, order, 31337)
    assert len(gateway.round_trips) == 1
    assert sorted(gateway.round_trips[0]) == sorted(["counterOf"] + ["ownerOf", "holdingEpoch"] * 10)


def test_batched_reads_refuse_exactly_as_one_by_one_reads():
    """A read that fails, a token held by someone else and a stale epoch in the same batch: each
    order gets its own refusal, and the others are admitted."""
    from api.admission import OrderReads, epoch_check, holder_check

    cart = [_listing_of(1), _listing_of(2), _listing_of(3), _listing_of(4, epoch=0)]
    gateway = _CountingGateway({1: HOLDER, 2: CREATOR, 4: HOLDER}, {1: 0, 2: 0, 4: 3}, fail={3})
    reads = OrderReads(gateway)  # type: ignore[arg-type]
    reads.prefetch(31337, cart)
    holder_check(reads, cart[0], 31337)
    epoch_check(reads, cart[0], 31337)
    with pytest.raises(UnprocessableError, match="does not hold"):
        holder_check(reads, cart[1], 31337)
    with pytest.raises(UnprocessableError, match="could not read who holds"):
        holder_check(reads, cart[2], 31337)
    with pytest.raises(UnprocessableError, match="does not report holding epochs"):
        epoch_check(reads, cart[2], 31337)
    holder_check(reads, cart[3], 31337)
    with pytest.raises(UnprocessableError, match="holding epoch 0"):
        epoch_check(reads, cart[3], 31337)
    assert len(gateway.round_trips) == 1


class _Simulating:
    """A gateway whose raw connection answers the one ``eth_call`` with ``answer`` and whose
    ``eth_estimateGas`` (the fallback) answers 123456 and is counted."""

    def __init__(self, artifacts, answer) -> None:
        self.artifacts, self.answer, self.calls, self.estimates = artifacts, answer, [], []
        gateway = self

        class Rpc:
            def calls(self, calls):
                gateway.calls.append(calls)
                return [gateway.answer]

        self._rpc = Rpc()

    def rpc(self, chain_id):
        return self._rpc

    def web3(self, chain_id):
        gateway = self

        class Eth:
            def estimate_gas(self, tx):
                gateway.estimates.append(tx)
                return 123456

        class Web3:
            eth = Eth()

        return Web3()


def test_a_fill_is_simulated_once_at_the_snapshot_budget_and_never_estimated(artifacts):
    from api.simulate import fill_gas_budget, simulate_at

    budget = fill_gas_budget(1)
    assert budget is not None and budget > 146388 and fill_gas_budget(10) > budget
    gateway = _Simulating(artifacts, "0x")
    assert simulate_at(gateway, 31337, HOLDER, TOKEN, "0x", 5, budget, what="the fill") == budget
    assert gateway.estimates == [] and len(gateway.calls) == 1
    method, (call, block) = gateway.calls[0][0]
    assert method == "eth_call" and call["gas"] == hex(budget) and call["value"] == "0x5" and block == "latest"


@pytest.mark.parametrize("error", [
    ("Marketplace", "CollectionHalted", ["address"], [TOKEN]),
    ("Marketplace", "OrderSelfFill", ["bytes32", "address"], [b"\x01" * 32, HOLDER]),
])
def test_a_failing_fill_is_refused_with_the_revert_sentence_before_the_wallet_signs(artifacts, error):
    from api.simulate import fill_gas_budget, simulate_at
    from record.index.rpc import RpcError

    data = _error_data(artifacts, *error)
    gateway = _Simulating(artifacts, RpcError("eth_call", 3, "execution reverted", "0x" + data.hex()))
    seen = []
    with pytest.raises(UnprocessableError) as refused:
        simulate_at(gateway, 31337, HOLDER, TOKEN, "0x", 0, fill_gas_budget(1), what="the fill",
                    context=lambda name, args: seen.append(name) or {"until": "until tomorrow"})
    assert refused.value.extra["error"] == error[1] and seen == [error[1]]
    assert refused.value.detail.startswith("the fill would revert: ")
    assert gateway.estimates == []


@pytest.mark.parametrize("answer", ["out of gas", "execution reverted"])
def test_a_fill_that_fails_without_revert_data_is_estimated_by_the_node(artifacts, answer):
    """Out of gas at the budget (a heavier fill than the snapshot's) or a bare revert: the node's
    estimate decides, so a valid heavy fill is never refused for the budget's sake."""
    from api.simulate import simulate_at
    from record.index.rpc import RpcError

    gateway = _Simulating(artifacts, RpcError("eth_call", -32000, answer, None))
    assert simulate_at(gateway, 31337, HOLDER, TOKEN, "0x", 0, 200_000) == 123456
    assert len(gateway.estimates) == 1
