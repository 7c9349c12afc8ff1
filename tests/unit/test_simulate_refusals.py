"""The one gas estimate (api/simulate.py) as the trading routers use it: a revert, a wallet that cannot
pay, any other refusal by the node and a value no transaction can carry each become one 422; callers
that do not ask for refusals to be explained keep the node's error. No chain: a fake node."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_abi_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3.exceptions import ContractCustomError, Web3RPCError

from api.errors import UnprocessableError
from api.simulate import MAX_UINT256, estimate_gas
from api.trading import simulate

pytestmark = pytest.mark.unit

BIDDER = to_checksum_address("0x" + "ab" * 20)
MARKET = to_checksum_address("0x" + "11" * 20)
ONE_ETH = 10**18


class _Node:
    """A gateway whose node answers every gas estimate with ``failure`` (or 21000 when None)."""

    def __init__(self, failure: Exception | None = None, balance: int = 0, artifacts=None) -> None:
        self.failure, self.balance, self.artifacts, self.sent = failure, balance, artifacts, []

    def web3(self, chain_id):
        gateway = self

        class Eth:
            def estimate_gas(self, tx):
                gateway.sent.append(tx)
                if gateway.failure is not None:
                    raise gateway.failure
                return 21_000

            def get_balance(self, who):
                return gateway.balance

        class Web3:
            eth = Eth()

        return Web3()


def _revert(artifacts, contract: str, name: str, types: list[str], values: list) -> ContractCustomError:
    item = next(i for i in artifacts.get(contract).abi if i["type"] == "error" and i["name"] == name)
    data = "0x" + (function_abi_to_4byte_selector(item) + abi_encode(types, values)).hex()
    return ContractCustomError(data, data=data)


def test_trading_simulation_sends_the_wallets_transaction_through_the_one_estimate():
    node = _Node()
    assert simulate(node, 31337, BIDDER, MARKET, "0x1234", ONE_ETH, "the bid") == 21_000
    assert node.sent == [{"from": BIDDER, "to": MARKET, "data": "0x1234", "value": ONE_ETH}]


def test_trading_simulation_turns_a_revert_into_a_422_naming_the_error(artifacts):
    node = _Node(_revert(artifacts, "Marketplace", "CollectionHalted", ["address"], [MARKET]), artifacts=artifacts)
    with pytest.raises(UnprocessableError) as refused:
        simulate(node, 31337, BIDDER, MARKET, "0x", 0, "the bid")
    assert refused.value.extra["error"] == "CollectionHalted"
    assert refused.value.detail.startswith("the bid would revert: ")


@pytest.mark.parametrize("explain", [True, False])
def test_a_value_above_uint256_is_a_422_before_the_node_is_asked(explain: bool):
    node = _Node()
    with pytest.raises(UnprocessableError, match="does not fit a transaction's value"):
        estimate_gas(node, 31337, BIDDER, MARKET, "0x", MAX_UINT256 + 1, explain_refusal=explain)
    with pytest.raises(UnprocessableError, match="does not fit a transaction's value"):
        simulate(node, 31337, BIDDER, MARKET, "0x", MAX_UINT256 + 1, "the bid")
    assert node.sent == []


def test_a_wallet_that_cannot_pay_is_told_its_balance():
    node = _Node(Web3RPCError("insufficient funds for gas * price + value"), balance=ONE_ETH // 2)
    for call in (
        lambda: estimate_gas(node, 31337, BIDDER, MARKET, "0x", ONE_ETH, what="the bid", explain_refusal=True),
        lambda: simulate(node, 31337, BIDDER, MARKET, "0x", ONE_ETH, "the bid"),
    ):
        with pytest.raises(UnprocessableError) as refused:
            call()
        assert refused.value.extra["error"] == "InsufficientFunds"
        assert refused.value.detail.startswith("the bid needs 1 ETH")
        assert BIDDER in refused.value.detail and "0.5 ETH" in refused.value.detail


def test_any_other_refusal_by_the_node_is_a_422_with_its_message():
    node = _Node(Web3RPCError("nonce too low"))
    with pytest.raises(UnprocessableError, match="the chain refused the bid: nonce too low"):
        simulate(node, 31337, BIDDER, MARKET, "0x", 0, "the bid")


def test_callers_that_do_not_ask_keep_the_nodes_refusal():
    node = _Node(Web3RPCError("insufficient funds for gas * price + value"))
    with pytest.raises(Web3RPCError):
        estimate_gas(node, 31337, BIDDER, MARKET, "0x", ONE_ETH)
