"""The marketplace's gas target, stated as a test (the snapshot test only guards regressions).

``fill_listing_eth_split_fee`` is measured by the bench case itself (chain/bench/cases_marketplace.py):
a whole ``fillListing`` transaction buying one ERC-721 for 1 ETH whose ERC-2981 receiver is a real
three-way ``RoyaltySplitter`` clone made by ``SplitterFactory``, with the 2.5% platform fee accrued
to the treasury.
"""

from __future__ import annotations

import pytest

from chain.bench.cases_marketplace import marketplace_orders
from chain.bench.gas import GasBench, fresh_chain
from chain.tx import ErrorDecoder

pytestmark = pytest.mark.contracts

FILL_LISTING_TARGET = 140_000


def test_fill_listing_with_a_three_way_split_and_the_fee_meets_the_target(artifacts):
    with fresh_chain() as web3:
        bench = GasBench(web3=web3, artifacts=artifacts,
                         decoder=ErrorDecoder(artifacts.get(n).abi for n in artifacts.names()))
        figures = marketplace_orders(bench)
    print(f"fill_listing_eth_split_fee: {figures['fill_listing_eth_split_fee']}")
    assert figures["fill_listing_eth_split_fee"] <= FILL_LISTING_TARGET
