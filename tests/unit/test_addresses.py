"""chain.addresses.checksummed: EIP-55 as eth_utils computes it, for any case, and an error otherwise."""

from __future__ import annotations

import secrets

import pytest
from eth_utils.address import to_checksum_address

from chain.addresses import checksummed

pytestmark = pytest.mark.unit


def test_checksummed_is_eip55_whatever_the_case_given():
    for _ in range(200):
        raw = "0x" + secrets.token_hex(20)
        expected = to_checksum_address(raw)
        assert checksummed(raw) == expected
        assert checksummed(raw.upper().replace("0X", "0x")) == expected
        assert checksummed(expected) == expected


@pytest.mark.parametrize("bad", ["", "0x", "0x1234", "0x" + "zz" * 20, "0x" + "11" * 21])
def test_checksummed_refuses_what_is_not_an_address(bad):
    with pytest.raises(ValueError):
        checksummed(bad)
