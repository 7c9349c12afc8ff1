"""Validated wire types shared by the routers (validated at the edge: a bad value is a 422)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator
from web3 import Web3

from chain.addresses import checksummed


@lru_cache(maxsize=1 << 16)
def checksum_address(value: str) -> str:
    """The address checksummed (kept: a caller sends the same few addresses again and again)."""
    if not Web3.is_address(value):
        raise ValueError("not a 0x-prefixed 20-byte address")
    if value != value.lower() and value != value.upper().replace("0X", "0x") \
            and checksummed(value) != value:
        raise ValueError("mixed-case address with a wrong checksum")
    return checksummed(value)


Address = Annotated[str, AfterValidator(checksum_address)]
"""An EVM address, returned checksummed; mixed case must carry a valid checksum."""


def cid_string(value: str) -> str:
    from api.content import cid_from_str

    cid_from_str(value)  # raises ValueError with the reason
    return value


Cid = Annotated[str, AfterValidator(cid_string)]
"""A base32 CIDv1 (raw or dag-pb, sha2-256), as the platform stores them."""


MAX_CHAIN_ID = 2**53 - 1
"""Chain ids are positive and fit JSON numbers (EIP-2294 bounds them lower still)."""
