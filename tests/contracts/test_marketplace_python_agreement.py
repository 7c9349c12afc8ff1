"""chain.orders and the Marketplace contract agree: type hashes, domain, order hashes, and which
signatures are accepted (the contract's answer is read by eth_call, nothing is mined)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain.devaccounts import dev_account
from chain.errors import OrderError
from chain.orders import (
    LISTING_TYPE,
    OFFER_TYPE,
    SECP256K1_N,
    MarketDomain,
    Order,
    OrderSide,
    SignedOrder,
    TokenStandard,
    order_hash,
    sign_order,
    typed_data,
    verify_order,
)
from tests.support.marketplace import DAY, ETHER, decode_error, now
from tests.support.order_vectors import (
    VECTOR_DEPLOYER_KEY,
    VECTOR_DOMAIN,
    VECTOR_DOMAIN_SEPARATOR,
    VECTOR_MARKET,
    VECTORS,
)

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("market_isolated")]


def test_type_hashes_match_the_python_type_strings(world):
    assert world.market.LISTING_TYPEHASH() == keccak(text=LISTING_TYPE)
    assert world.market.OFFER_TYPEHASH() == keccak(text=OFFER_TYPE)


def test_domain_matches_erc5267_and_the_python_separator(world):
    domain = world.market.eip712Domain()
    assert (domain.name, domain.version, domain.chainId, domain.verifyingContract) == (
        "Chainright Marketplace", "1", world.domain.chain_id, world.market.address)
    assert world.market.domainSeparator() == world.domain.separator()


def test_contract_confirms_the_pinned_vectors(ape_project, accounts, artifacts):
    """The vector marketplace is the first contract of a fixed key, so the pinned digests hold."""
    import ape

    from chain.tx import TxSender

    local = Account.from_key(VECTOR_DEPLOYER_KEY)
    accounts[0].transfer(local.address, ETHER)
    art = artifacts.get("Marketplace")
    address, _ = TxSender(ape.chain.provider.web3, local).deploy(art.abi, art.bytecode, local.address,
                                                                 local.address, 250)
    assert address == VECTOR_MARKET
    market = ape_project.Marketplace.at(VECTOR_MARKET)
    assert market.domainSeparator().hex().removeprefix("0x") == VECTOR_DOMAIN_SEPARATOR
    for order, digest in VECTORS:
        assert market.hashOrder(order.as_tuple()).hex().removeprefix("0x") == digest
        assert order_hash(order, VECTOR_DOMAIN).hex() == digest


orders = st.builds(
    lambda side, standard, token_id, quantity, price, salt, counter, epoch: Order(
        side, dev_account(1).address, "0x00000000000000000000000000000000000C0FFE", token_id, standard,
        1 if standard is TokenStandard.ERC721 else quantity, price,
        "0x000000000000000000000000000000000000dEaD", 1_700_000_000, 1_900_000_000, salt, counter, epoch),
    st.sampled_from(list(OrderSide)), st.sampled_from(list(TokenStandard)), st.integers(0, 2**256 - 1),
    st.integers(1, 2**248 - 1), st.integers(1, 2**256 - 1), st.integers(0, 2**256 - 1),
    st.integers(0, 2**256 - 1), st.integers(0, 2**256 - 1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=orders)
def test_python_order_hash_equals_hash_order_for_any_order(world, order):
    assert world.market.hashOrder(order.as_tuple()) == order_hash(order, world.domain)


# ------------------------------------------------------------------ signature verdicts agree


def _contract_accepts(world, signed: SignedOrder) -> tuple[bool, str | None]:
    """The contract's verdict on filling one unit now, by eth_call; (accepted, error name)."""
    from ape.exceptions import ContractLogicError

    order = signed.order
    try:
        world.market.fillListing.call(order.as_tuple(), signed.signature, 1, sender=world.buyer, value=order.unit_price)
    except ContractLogicError as err:
        name = type(err).__name__
        if name == "ContractLogicError":
            decoded = decode_error(err)
            name = decoded[0] if decoded else repr(err)
        return False, name
    return True, None


def _python_accepts(world, signed: SignedOrder) -> tuple[bool, str | None]:
    try:
        verify_order(signed, expected_domain=world.domain, now=now() + 1,
                     current_counter=int(world.market.counterOf(signed.order.signer)))
    except OrderError as err:
        return False, type(err).__name__
    return True, None


def _cases(world):
    t = now()
    base = world.order(token_id=1, start=t - 60, expiry=t + DAY)
    good = sign_order(base, world.domain, dev_account(1))
    s = int.from_bytes(good.signature[32:64], "big")
    twin = good.signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - good.signature[64]])
    other = MarketDomain(chain_id=31338, verifying_contract=world.market.address)
    forged = SignedOrder(
        base, bytes(dev_account(9).sign_typed_data(full_message=typed_data(base, world.domain)).signature), world.domain)
    return {
        "valid": (good, "accept"),
        "malleable_twin": (replace(good, signature=twin), "OrderSignatureInvalid"),
        "v_zero_one": (replace(good, signature=good.signature[:64] + bytes([good.signature[64] - 27])),
                       "OrderSignatureInvalid"),
        "short": (replace(good, signature=good.signature[:64]), "OrderSignatureInvalid"),
        "wrong_signer": (forged, "OrderSignatureInvalid"),
        "other_chain": (sign_order(base, other, dev_account(1)), "OrderSignatureInvalid"),
        "stale_counter": (sign_order(replace(base, counter=5), world.domain, dev_account(1)), "OrderCounterStale"),
        "expired": (sign_order(replace(base, start=t - 120, expiry=t - 1), world.domain, dev_account(1)),
                    "OrderExpired"),
        "not_started": (sign_order(replace(base, start=t + DAY, expiry=t + 2 * DAY), world.domain, dev_account(1)),
                        "OrderNotStarted"),
    }


CASES = ["valid", "malleable_twin", "v_zero_one", "short", "wrong_signer", "other_chain", "stale_counter",
         "expired", "not_started"]


@pytest.mark.parametrize("case", CASES)
def test_python_verification_agrees_with_the_contract(world, case):
    world.mint(world.seller, 1)
    signed, expected = _cases(world)[case]
    contract_ok, contract_error = _contract_accepts(world, signed)
    python_ok, python_error = _python_accepts(world, signed)
    assert contract_ok == python_ok == (expected == "accept"), (contract_error, python_error)
    if expected != "accept":
        assert contract_error == expected


def test_python_erc1271_callback_agrees_with_the_contract_for_a_wallet(world, ape_project):
    wallet = ape_project.MktTestActor.deploy(world.seller, sender=world.seller)
    world.nft.mint(wallet, 5, sender=world.admin)
    wallet.execute(world.nft, 0, world.nft.setApprovalForAll.encode_input(world.market, True), sender=world.seller)

    def ask_wallet(signer: str, digest: bytes, signature: bytes) -> bool:
        return bytes(wallet.isValidSignature(digest, signature)) == bytes.fromhex("1626ba7e")

    order = world.order(signer=wallet, token_id=5)
    for by, accepted in ((world.seller, True), (world.stranger, False)):
        signed = world.sign(order, by=by)
        assert _contract_accepts(world, signed)[0] is accepted
        python_ok = True
        try:
            verify_order(signed, expected_domain=world.domain, now=now() + 1, current_counter=0, erc1271=ask_wallet)
        except OrderError:
            python_ok = False
        assert python_ok is accepted
