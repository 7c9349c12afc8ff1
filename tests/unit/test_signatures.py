"""One ECDSA recovery for the whole platform (chain/signatures.py).

The marketplace's orders and the bridge's attestations refuse exactly the same signatures, the ones
OpenZeppelin's ECDSA refuses."""

from __future__ import annotations

import pytest
from eth_account import Account

from bridge.errors import BridgeMessageError
from bridge.message import recover_signer as bridge_recover
from chain.devaccounts import dev_account
from chain.errors import OrderSignatureError, SignatureError
from chain.orders import recover_signer as order_recover
from chain.signatures import SECP256K1_HALF_N, SECP256K1_N, low_s, recover_signer

pytestmark = pytest.mark.unit

DIGEST = bytes(range(32))
SIGNER = dev_account(3)


def _good() -> bytes:
    signed = Account.unsafe_sign_hash(DIGEST, SIGNER.key)
    return low_s(int(signed.r), int(signed.s), int(signed.v))


def _r_s_v(sig: bytes) -> tuple[int, int, int]:
    return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]


def _twin(sig: bytes) -> bytes:
    r, s, v = _r_s_v(sig)
    return r.to_bytes(32, "big") + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])


BAD = {
    "high-s twin": (_twin, "malleable"),
    "short": (lambda sig: sig[:64], "65 bytes"),
    "long": (lambda sig: sig + b"\x00", "65 bytes"),
    "v 0/1": (lambda sig: sig[:64] + bytes([sig[64] - 27]), "v must be 27 or 28"),
    "r zero": (lambda sig: b"\x00" * 32 + sig[32:], "out of range"),
    "r at n": (lambda sig: SECP256K1_N.to_bytes(32, "big") + sig[32:], "out of range"),
    "s zero": (lambda sig: sig[:32] + b"\x00" * 32 + sig[64:], "out of range"),
    "all zero": (lambda sig: b"\x00" * 65, "out of range|v must be"),
}


def test_a_low_s_signature_recovers_to_its_signer_everywhere():
    sig = _good()
    assert _r_s_v(sig)[1] <= SECP256K1_HALF_N
    assert recover_signer(DIGEST, sig) == order_recover(DIGEST, sig) == bridge_recover(DIGEST, sig) \
        == SIGNER.address


def test_low_s_turns_the_high_twin_back_into_the_same_signature():
    sig = _good()
    assert low_s(*_r_s_v(_twin(sig))) == sig
    assert low_s(*_r_s_v(sig)) == sig


@pytest.mark.parametrize("case", sorted(BAD))
def test_orders_and_bridge_refuse_the_same_malformed_signatures(case):
    mangle, match = BAD[case]
    bad = mangle(_good())
    with pytest.raises(SignatureError, match=match):
        recover_signer(DIGEST, bad)
    with pytest.raises(OrderSignatureError, match=match):
        order_recover(DIGEST, bad)
    with pytest.raises(BridgeMessageError, match=match):
        bridge_recover(DIGEST, bad)


def test_a_digest_that_is_not_32_bytes_is_refused():
    with pytest.raises(SignatureError, match="32 bytes"):
        recover_signer(DIGEST[:31], _good())
