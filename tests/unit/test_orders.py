"""chain.orders: typed data, hashes, signatures and off-chain verification, without a chain."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.devaccounts import dev_account
from chain.errors import (
    ChainError,
    OrderCounterError,
    OrderDomainError,
    OrderError,
    OrderInvalidError,
    OrderNotActiveError,
    OrderSignatureError,
)
from chain.orders import (
    ETH,
    LISTING_TYPE,
    OFFER_TYPE,
    SECP256K1_HALF_N,
    SECP256K1_N,
    MarketDomain,
    Order,
    OrderSide,
    SignedOrder,
    TokenStandard,
    listing,
    offer,
    order_hash,
    recover_signer,
    sign_order,
    struct_hash,
    typed_data,
    verify_order,
)
from tests.support.order_vectors import VECTOR_DOMAIN, VECTOR_DOMAIN_SEPARATOR, VECTORS

pytestmark = pytest.mark.unit

SELLER, BUYER, OTHER = dev_account(1), dev_account(2), dev_account(9)
MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = MarketDomain(chain_id=31337, verifying_contract=MARKET)
TOKEN = "0x00000000000000000000000000000000000C0FFE"
COIN = "0x000000000000000000000000000000000000dEaD"
NOW = 1_750_000_000


def a_listing(**overrides) -> Order:
    fields = dict(seller=SELLER.address, token=TOKEN, token_id=1, unit_price=10**18, start=NOW - 60,
                  expiry=NOW + 3_600, counter=0, salt=99, holding_epoch=0)
    fields.update(overrides)
    return listing(**fields)


def verify(signed: SignedOrder, *, now: int = NOW, counter: int = 0, domain: MarketDomain = DOMAIN, **kw) -> bytes:
    return verify_order(signed, expected_domain=domain, now=now, current_counter=counter, **kw)


def eth_account_digest(order: Order, domain: MarketDomain) -> bytes:
    """The digest by eth-account's own EIP-712 implementation (independent of ours)."""
    return bytes(_hash_eip191_message(encode_typed_data(full_message=typed_data(order, domain))))


# ------------------------------------------------------------------ type strings and hashes


def test_type_strings_name_the_signer_role_and_every_field_in_order():
    fields = ("address token,uint256 tokenId,uint8 standard,uint256 quantity,uint256 unitPrice,address currency,"
              "uint64 start,uint64 expiry,uint256 salt,uint256 counter")
    assert LISTING_TYPE == f"Listing(address seller,{fields},uint256 holdingEpoch)"
    assert OFFER_TYPE == f"Offer(address buyer,{fields})"


def test_a_listing_binds_its_holding_epoch_and_an_offer_ignores_it():
    """A listing signed at one holding epoch is a different order at any other (it dies when the
    token moves); an offer is for whoever holds the token, so the field is not part of it."""
    base = a_listing()
    assert order_hash(base, DOMAIN) != order_hash(replace(base, holding_epoch=1), DOMAIN)
    assert typed_data(base, DOMAIN)["message"]["holdingEpoch"] == "0"
    bid = offer(buyer=BUYER.address, token=TOKEN, token_id=1, unit_price=5, currency=COIN, start=0,
                expiry=10, counter=0)
    assert order_hash(bid, DOMAIN) == order_hash(replace(bid, holding_epoch=7), DOMAIN)
    assert "holdingEpoch" not in typed_data(bid, DOMAIN)["message"]


@pytest.mark.parametrize(("order", "digest"), VECTORS, ids=["listing_721_eth", "offer_1155_erc20"])
def test_pinned_vectors(order, digest):
    assert VECTOR_DOMAIN.separator().hex() == VECTOR_DOMAIN_SEPARATOR
    assert order_hash(order, VECTOR_DOMAIN).hex() == digest


@pytest.mark.parametrize(("order", "digest"), VECTORS, ids=["listing_721_eth", "offer_1155_erc20"])
def test_hash_agrees_with_eth_accounts_eip712(order, digest):
    assert eth_account_digest(order, VECTOR_DOMAIN) == order_hash(order, VECTOR_DOMAIN)


def test_listing_and_offer_with_the_same_fields_hash_differently():
    as_listing = a_listing()
    as_offer = replace(as_listing, side=OrderSide.OFFER)
    assert struct_hash(as_listing) != struct_hash(as_offer)


@pytest.mark.parametrize("field", ["token_id", "quantity", "unit_price", "start", "expiry", "salt", "counter",
                                   "holding_epoch"])
def test_every_field_changes_the_hash(field):
    base = a_listing(standard=TokenStandard.ERC1155, quantity=5)
    changed = replace(base, **{field: getattr(base, field) + 1})
    assert order_hash(base, DOMAIN) != order_hash(changed, DOMAIN)


def test_domain_binds_chain_and_deployment():
    order = a_listing()
    other_chain = MarketDomain(chain_id=31338, verifying_contract=MARKET)
    other_market = MarketDomain(chain_id=31337, verifying_contract=COIN)
    digests = {order_hash(order, d) for d in (DOMAIN, other_chain, other_market)}
    assert len(digests) == 3


@settings(max_examples=40, deadline=None)
@given(side=st.sampled_from(list(OrderSide)), standard=st.sampled_from(list(TokenStandard)),
       token_id=st.integers(0, 2**256 - 1), quantity=st.integers(1, 2**248 - 1), price=st.integers(1, 2**256 - 1),
       start=st.integers(0, 2**64 - 2), salt=st.integers(0, 2**256 - 1), counter=st.integers(0, 2**256 - 1),
       chain_id=st.integers(1, 2**64), epoch=st.integers(0, 2**256 - 1))
def test_hash_agrees_with_eth_account_for_any_order(side, standard, token_id, quantity, price, start, salt, counter,
                                                     chain_id, epoch):
    order = Order(side, SELLER.address, TOKEN, token_id, standard, 1 if standard is TokenStandard.ERC721 else quantity,
                  price, COIN, start, start + 1, salt, counter, epoch)
    domain = MarketDomain(chain_id=chain_id, verifying_contract=MARKET)
    assert order_hash(order, domain) == eth_account_digest(order, domain)


# ------------------------------------------------------------------ typed data for wallets


def test_typed_data_is_what_a_wallet_takes():
    order = a_listing(token_id=2**200)
    data = typed_data(order, DOMAIN)
    assert json.loads(json.dumps(data)) == data  # JSON-safe
    assert data["primaryType"] == "Listing"
    assert [f["name"] for f in data["types"]["EIP712Domain"]] == ["name", "version", "chainId", "verifyingContract"]
    assert data["domain"] == {"name": "Chainright Marketplace", "version": "1", "chainId": 31337,
                              "verifyingContract": MARKET}
    assert data["message"]["seller"] == SELLER.address
    assert data["message"]["tokenId"] == str(2**200)  # big integers as decimal strings


def test_offer_typed_data_names_the_buyer():
    order = offer(buyer=BUYER.address, token=TOKEN, token_id=1, unit_price=5, currency=COIN, start=0, expiry=10,
                  counter=0)
    data = typed_data(order, DOMAIN)
    assert data["primaryType"] == "Offer"
    assert data["types"]["Offer"][0] == {"name": "buyer", "type": "address"}
    assert data["message"]["buyer"] == BUYER.address


# ------------------------------------------------------------------ signing and verification


def test_signed_order_verifies_and_returns_its_hash():
    signed = sign_order(a_listing(), DOMAIN, SELLER)
    assert len(signed.signature) == 65 and signed.signature[64] in (27, 28)
    assert int.from_bytes(signed.signature[32:64], "big") <= SECP256K1_HALF_N
    assert verify(signed) == order_hash(signed.order, DOMAIN) == signed.order_hash
    assert recover_signer(signed.order_hash, signed.signature) == SELLER.address


def test_signing_for_someone_else_is_refused():
    with pytest.raises(OrderSignatureError, match="must sign it"):
        sign_order(a_listing(), DOMAIN, OTHER)


def test_signature_by_the_wrong_party_fails_verification():
    order = a_listing()
    forged = SignedOrder(order, bytes(OTHER.sign_typed_data(full_message=typed_data(order, DOMAIN)).signature),
                         DOMAIN)
    with pytest.raises(OrderSignatureError, match=f"by {OTHER.address}, not by the order's seller"):
        verify(forged)


def test_tampered_order_fails_verification():
    signed = sign_order(a_listing(), DOMAIN, SELLER)
    with pytest.raises(OrderSignatureError):
        verify(replace(signed, order=replace(signed.order, unit_price=1)))


def test_malleable_twin_is_refused():
    signed = sign_order(a_listing(), DOMAIN, SELLER)
    s = int.from_bytes(signed.signature[32:64], "big")
    twin = signed.signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signed.signature[64]])
    with pytest.raises(OrderSignatureError, match="malleable"):
        verify(replace(signed, signature=twin))


@pytest.mark.parametrize(("mangle", "match"), [
    (lambda sig: sig[:64], "65 bytes"),
    (lambda sig: sig + b"\x00", "65 bytes"),
    (lambda sig: sig[:64] + bytes([sig[64] - 27]), "v must be 27 or 28"),
    (lambda sig: b"\x00" * 32 + sig[32:], "out of range"),
    (lambda sig: sig[:32] + b"\x00" * 32 + sig[64:], "out of range"),
])
def test_malformed_signatures_are_refused(mangle, match):
    signed = sign_order(a_listing(), DOMAIN, SELLER)
    with pytest.raises(OrderSignatureError, match=match):
        verify(replace(signed, signature=mangle(signed.signature)))


def test_order_signed_for_another_chain_or_deployment_is_refused_before_recovery():
    order = a_listing()
    for domain, match in ((MarketDomain(chain_id=31338, verifying_contract=MARKET), "chain 31338, not 31337"),
                          (MarketDomain(chain_id=31337, verifying_contract=COIN), "cannot be filled on this deployment"),
                          (MarketDomain(chain_id=31337, verifying_contract=MARKET, version="2"), "v2")):
        with pytest.raises(OrderDomainError, match=match):
            verify(sign_order(order, domain, SELLER))


def test_stale_counter_is_refused():
    signed = sign_order(a_listing(counter=0), DOMAIN, SELLER)
    with pytest.raises(OrderCounterError, match="revoked"):
        verify(signed, counter=1)


def test_time_window_is_start_inclusive_and_expiry_exclusive():
    order = a_listing(start=NOW, expiry=NOW + 10)
    signed = sign_order(order, DOMAIN, SELLER)
    assert verify(signed, now=NOW)
    assert verify(signed, now=NOW + 9)
    with pytest.raises(OrderNotActiveError, match="starts at"):
        verify(signed, now=NOW - 1)
    with pytest.raises(OrderNotActiveError, match="expired"):
        verify(signed, now=NOW + 10)


def test_contract_signers_are_asked_through_the_erc1271_callback():
    order = a_listing()
    signed = SignedOrder(order, b"\x01" * 7, DOMAIN)  # a contract wallet's own signature format
    asked: list[tuple[str, bytes, bytes]] = []

    def wallet_says(answer: bool):
        def check(signer: str, digest: bytes, signature: bytes) -> bool:
            asked.append((signer, digest, signature))
            return answer
        return check

    assert verify(signed, erc1271=wallet_says(True)) == order_hash(order, DOMAIN)
    assert asked == [(SELLER.address, order_hash(order, DOMAIN), b"\x01" * 7)]
    with pytest.raises(OrderSignatureError, match="EIP-1271"):
        verify(signed, erc1271=wallet_says(False))


@settings(max_examples=20, deadline=None)
@given(key=st.integers(1, SECP256K1_N - 1), price=st.integers(1, 2**128), salt=st.integers(0, 2**256 - 1))
def test_any_key_signs_an_order_that_verifies(key, price, salt):
    account = Account.from_key(key.to_bytes(32, "big"))
    signed = sign_order(a_listing(seller=account.address, unit_price=price, salt=salt), DOMAIN, account)
    assert verify(signed) == signed.order_hash


# ------------------------------------------------------------------ field checks


@pytest.mark.parametrize(("make", "match"), [
    (lambda: a_listing(unit_price=0), "unit price is zero"),
    (lambda: a_listing(quantity=2), "ERC-721 orders are for exactly 1"),
    (lambda: a_listing(quantity=0, standard=TokenStandard.ERC1155), "at least 1"),
    (lambda: a_listing(quantity=2**248, standard=TokenStandard.ERC1155), "invalid"),
    (lambda: a_listing(start=10, expiry=10), "could never fill"),
    (lambda: offer(buyer=BUYER.address, token=TOKEN, token_id=1, unit_price=1, currency=ETH, start=0, expiry=9,
                   counter=0), "offers are paid in an ERC-20"),
    (lambda: a_listing(token="0x1234"), "not an address"),
    (lambda: a_listing(token_id=-1), "token_id must be an integer"),
    (lambda: a_listing(start=2**64, expiry=2**64 + 1), "start must be an integer"),
    (lambda: a_listing(counter=True), "counter must be an integer"),
])
def test_invalid_orders_are_refused_with_a_clear_message(make, match):
    with pytest.raises(OrderInvalidError, match=match):
        make()


def test_order_errors_are_chain_errors():
    assert issubclass(OrderInvalidError, OrderError) and issubclass(OrderError, ChainError)
    for cls in (OrderSignatureError, OrderDomainError, OrderCounterError, OrderNotActiveError):
        assert issubclass(cls, OrderError)


def test_domain_refuses_a_non_address_or_chain_zero():
    with pytest.raises(OrderDomainError):
        MarketDomain(chain_id=1, verifying_contract="market")
    with pytest.raises(OrderDomainError):
        MarketDomain(chain_id=0, verifying_contract=MARKET)


def test_addresses_are_checksummed_and_tuple_follows_the_struct():
    order = a_listing(token=TOKEN.upper().replace("0X", "0x"))
    checksummed = to_checksum_address(TOKEN)
    assert order.token == checksummed
    assert order.as_tuple() == (0, SELLER.address, checksummed, 1, 0, 1, 10**18, ETH, NOW - 60, NOW + 3_600, 99, 0,
                              0)
    assert order.total_price(3) == 3 * 10**18


@pytest.mark.parametrize(("field", "attribute"), [("seller", "signer"), ("token", "token"), ("currency", "currency")])
def test_an_address_with_a_wrong_checksum_or_of_the_wrong_type_is_refused_every_time(field, attribute):
    """Address checks are memoised per process: a refused value stays refused on every later order,
    and a right one is never mistaken for it."""
    good = to_checksum_address(TOKEN)
    body = good[2:]
    flipped = next(i for i, c in enumerate(body) if c.isalpha())
    wrong = "0x" + body[:flipped] + body[flipped].swapcase() + body[flipped + 1:]
    for bad in (wrong, wrong, "0x" + "zz" * 20, bytes.fromhex(good[2:]), None):
        with pytest.raises(OrderInvalidError):
            a_listing(**{field: bad})
    assert getattr(a_listing(**{field: good.lower()}), attribute) == good
    assert getattr(a_listing(**{field: "0x" + good[2:].upper()}), attribute) == good
