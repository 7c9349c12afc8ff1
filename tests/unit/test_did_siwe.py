"""did.siwe: EIP-4361 messages built, signed by an eth-account wallet, verified; every refusal
carries its own error type."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct

from did.errors import (
    SiweChainIdMismatchError,
    SiweDomainMismatchError,
    SiweExpiredError,
    SiweMessageError,
    SiweNonceMismatchError,
    SiweNotYetValidError,
    SiweSignatureError,
    SiweSignerMismatchError,
    SiweUriMismatchError,
)
from did.siwe import build_siwe_message, new_nonce, parse_siwe_message, verify_siwe

pytestmark = pytest.mark.unit

WALLET = Account.from_key("0x" + "33" * 32)
OTHER = Account.from_key("0x" + "55" * 32)
CONTRACT_WALLET = "0x" + "c0de" * 10
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
DOMAIN, URI, CHAIN = "app.chainright.example", "https://app.chainright.example/login", 31337
NONCE = "k3Jd9aPq01ZxYw7BvTn2Lm"


def message(**kw) -> str:
    fields = {"domain": DOMAIN, "uri": URI, "chain_id": CHAIN, "address": WALLET.address, "nonce": NONCE,
              "issued_at": NOW, "expiration_time": NOW + timedelta(minutes=10),
              "statement": "Sign in to Chainright."}
    fields.update(kw)
    return build_siwe_message(**fields)


def sign(text: str, account=WALLET) -> bytes:
    return bytes(account.sign_message(encode_defunct(text=text)).signature)


def verify(text: str, signature, **kw):
    args = {"expected_domain": DOMAIN, "expected_uri": URI, "expected_chain_id": CHAIN,
            "expected_nonce": NONCE, "now": NOW + timedelta(minutes=1)}
    args.update(kw)
    return verify_siwe(text, signature, **args)


def test_valid_sign_in_returns_the_checksummed_address():
    text = message(address=WALLET.address.lower())
    assert f"\n{WALLET.address}\n" in text and "Chain ID: 31337" in text and f"Nonce: {NONCE}" in text
    assert verify(text, sign(text)) == WALLET.address
    assert verify(text, "0x" + sign(text).hex()) == WALLET.address
    assert parse_siwe_message(text).statement == "Sign in to Chainright."


def test_wrong_nonce_is_refused():
    text = message()
    with pytest.raises(SiweNonceMismatchError, match="is not the nonce issued"):
        verify(text, sign(text), expected_nonce="AnotherNonce123")


def test_wrong_domain_is_refused():
    text = message(domain="evil.example")
    with pytest.raises(SiweDomainMismatchError, match=re.escape("'evil.example' is not the expected")):
        verify(text, sign(text))


def test_wrong_uri_is_refused():
    text = message(uri="https://evil.example/login")
    with pytest.raises(SiweUriMismatchError, match=re.escape("evil.example/login")):
        verify(text, sign(text))


def test_wrong_chain_id_is_refused():
    text = message(chain_id=1)
    with pytest.raises(SiweChainIdMismatchError, match="chain id 1 is not the expected 31337"):
        verify(text, sign(text))


def test_expired_message_is_refused():
    text = message()
    with pytest.raises(SiweExpiredError, match="expired at 2026-05-04T10:10:00Z"):
        verify(text, sign(text), now=NOW + timedelta(minutes=10))


def test_not_yet_valid_messages_are_refused():
    text = message(not_before=NOW + timedelta(minutes=30), expiration_time=NOW + timedelta(hours=1))
    with pytest.raises(SiweNotYetValidError, match="not valid before"):
        verify(text, sign(text))
    assert verify(text, sign(text), now=NOW + timedelta(minutes=30)) == WALLET.address
    future = message(issued_at=NOW + timedelta(hours=1), expiration_time=NOW + timedelta(hours=2))
    with pytest.raises(SiweNotYetValidError, match="issued in the future"):
        verify(future, sign(future))


def test_signature_by_another_address_is_refused():
    text = message()
    with pytest.raises(SiweSignerMismatchError, match=f"recovers to {OTHER.address}, not to .*{WALLET.address}"):
        verify(text, sign(text, OTHER))


@pytest.mark.parametrize(
    ("old", "new"),
    [("Sign in to Chainright.", "Send all tokens to Mallory."), ("Issued At: 2026-05-04T10:00:00Z",
                                                                   "Issued At: 2026-05-04T09:59:00Z")],
)
def test_tampered_message_is_refused(old, new):
    text = message()
    tampered = text.replace(old, new)
    assert tampered != text
    with pytest.raises(SiweSignerMismatchError, match="altered after signing"):
        verify(tampered, sign(text))


def test_tampered_address_line_is_refused():
    text = message()
    tampered = text.replace(WALLET.address, OTHER.address)
    with pytest.raises(SiweSignerMismatchError, match=f"not to the message's address {OTHER.address}"):
        verify(tampered, sign(text))


@pytest.mark.parametrize(
    ("text", "problem"),
    [("hello", "does not follow the EIP-4361 grammar"), (None, "does not follow the EIP-4361 grammar")],
)
def test_malformed_messages_are_refused(text, problem):
    if text is None:
        text = message() + "\n\nextra"
    with pytest.raises(SiweMessageError, match=problem):
        verify(text, b"\x00" * 65)


def test_malformed_signatures_are_refused():
    text = message()
    with pytest.raises(SiweSignatureError, match="not hex"):
        verify(text, "0xnothex")
    with pytest.raises(SiweSignatureError, match="not a 65-byte"):
        verify(text, b"\x01" * 64)


def test_building_refuses_bad_fields():
    with pytest.raises(SiweMessageError, match="alphanumeric"):
        message(nonce="short")
    with pytest.raises(SiweMessageError, match="not a 20-byte"):
        message(address="0x1234")
    with pytest.raises(SiweMessageError, match="after issued_at"):
        message(expiration_time=NOW)
    with pytest.raises(SiweMessageError, match="statement"):
        message(statement="two\nlines")


def test_contract_wallet_check_is_used_when_given():
    text = message(address=CONTRACT_WALLET)
    contract_signature = b"\x01" * 100  # EIP-1271 signatures need not be ECDSA at all
    calls = []

    def approve(address, message_hash, signature):
        calls.append((address, message_hash, signature))
        return True

    assert verify(text, contract_signature, contract_wallet_check=approve) == parse_siwe_message(text).address
    assert calls == [(parse_siwe_message(text).address, bytes(_hash_eip191_message(encode_defunct(text=text))),
                      contract_signature)]
    with pytest.raises(SiweSignatureError, match="EIP-1271 check refused it"):
        verify(text, contract_signature, contract_wallet_check=lambda *_: False)
    # the check decides; without it the same signature is refused
    with pytest.raises(SiweSignatureError, match="not a 65-byte"):
        verify(text, contract_signature)


def test_externally_owned_accounts_still_verify_when_the_contract_check_says_no_code():
    text = message()
    assert verify(text, sign(text), contract_wallet_check=lambda *_: False) == WALLET.address
    with pytest.raises(SiweSignerMismatchError, match="EIP-1271 check refused it"):
        verify(text, sign(text, OTHER), contract_wallet_check=lambda *_: False)


def test_nonces_are_fresh_alphanumeric_and_long_enough():
    nonces = {new_nonce() for _ in range(200)}
    assert len(nonces) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9]{22}", n) for n in nonces)  # 22 * log2(62) = 131 bits >= 96
