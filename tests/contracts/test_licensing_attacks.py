"""Attacks on Licensing: fee receivers that revert, burn gas or re-enter must not block sales or steal."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from tests.contracts.revert_checks import events, one_event, reverts_with
from tests.contracts.royalty_support import ETH, USAGE_ANY, balance, offer, terms

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

FEE = 10**15
WORK = 7
REENTRANCY_SELECTOR = keccak(text="ReentrancyGuardReentrantCall()")[:4]


@pytest.fixture(scope="module")
def licensing(ape_project, deployer):
    return ape_project.Licensing.deploy(sender=deployer)


@pytest.fixture(scope="module")
def work(ape_project, deployer, creator):
    collection = ape_project.TestWork721.deploy(sender=deployer)
    collection.mint(creator, WORK, sender=deployer)
    return collection


def sell_to(licensing, work, receiver, creator, collector, deployer):
    """Route the work's royalties to `receiver`, offer terms and sell one grant to collector."""
    work.setTokenRoyalty(WORK, receiver, 1_000, sender=deployer)
    h = offer(licensing, work, WORK, terms(fee=FEE), creator)
    return h, licensing.buyLicense(work, WORK, h, sender=collector, value=FEE)


def test_a_reverting_receiver_is_credited_and_the_sale_goes_through(ape_project, licensing, work, deployer, creator,
                                                                    collector, stranger):
    rejecting = ape_project.TestRejectingReceiver.deploy(sender=deployer)
    _, tx = sell_to(licensing, work, rejecting, creator, collector, deployer)
    credited = one_event(tx, "LicenseFeeCredited")
    assert (credited.grantId, credited.receiver, credited.amount) == (tx.return_value, rejecting.address, FEE)
    assert events(tx, "LicenseFeePaid") == []
    assert licensing.creditOf(rejecting) == FEE == balance(licensing)
    assert licensing.isLicensed(collector, work, WORK, USAGE_ANY)
    # The receiver cannot take ETH itself, so it withdraws its credit to another address.
    before = balance(stranger)
    out = rejecting.forward(licensing, licensing.withdrawCredit.encode_input(stranger.address), sender=deployer)
    withdrawn = [log for log in out.events if log.event_name == "LicenseCreditWithdrawn"]
    assert len(withdrawn) == 1
    assert (withdrawn[0].account, withdrawn[0].to, withdrawn[0].amount) == (rejecting.address, stranger.address, FEE)
    assert balance(stranger) == before + FEE
    assert licensing.creditOf(rejecting) == 0 == balance(licensing)


def test_a_gas_burning_receiver_cannot_block_sales(ape_project, licensing, work, deployer, creator, collector):
    burner = ape_project.TestRejectingReceiver.deploy(sender=deployer)
    burner.setBurnGas(True, sender=deployer)
    _, tx = sell_to(licensing, work, burner, creator, collector, deployer)
    assert one_event(tx, "LicenseFeeCredited").receiver == burner.address
    assert licensing.creditOf(burner) == FEE
    assert tx.gas_used < 400_000  # the push is capped at FEE_PUSH_GAS
    assert licensing.FEE_PUSH_GAS() == 50_000


def test_a_receiver_reentering_buy_license_is_refused_and_paid_once(ape_project, licensing, work, deployer, creator,
                                                                    collector):
    attacker = ape_project.TestReentrantReceiver.deploy(sender=deployer)
    work.setTokenRoyalty(WORK, attacker, 1_000, sender=deployer)
    h = offer(licensing, work, WORK, terms(fee=0, cid="bafy-free"), creator)  # a free grant to re-buy
    paid = offer(licensing, work, WORK, terms(fee=FEE), creator)
    attacker.arm(licensing, licensing.buyLicense.encode_input(work.address, WORK, h), False, False, sender=deployer)
    tx = licensing.buyLicense(work, WORK, paid, sender=collector, value=FEE)
    assert attacker.reentryOutcome() == 2  # refused
    assert one_event(tx, "LicenseFeePaid").receiver == attacker.address
    assert len(events(tx, "LicenseGranted")) == 1
    assert list(licensing.grantsOf(attacker, work, WORK)) == []
    assert balance(attacker) == FEE and balance(licensing) == 0


def test_a_receiver_that_reverts_when_its_reentry_fails_is_credited(ape_project, licensing, work, deployer, creator,
                                                                    collector):
    attacker = ape_project.TestReentrantReceiver.deploy(sender=deployer)
    work.setTokenRoyalty(WORK, attacker, 1_000, sender=deployer)
    paid = offer(licensing, work, WORK, terms(fee=FEE), creator)
    attacker.arm(licensing, licensing.withdrawCredit.encode_input(attacker.address), True, False, sender=deployer)
    tx = licensing.buyLicense(work, WORK, paid, sender=collector, value=FEE)
    assert one_event(tx, "LicenseFeeCredited").receiver == attacker.address
    assert licensing.creditOf(attacker) == FEE


def test_reentering_withdraw_credit_pays_the_credit_once(ape_project, licensing, work, deployer, creator, collector):
    attacker = ape_project.TestReentrantReceiver.deploy(sender=deployer)
    work.setTokenRoyalty(WORK, attacker, 1_000, sender=deployer)
    paid = offer(licensing, work, WORK, terms(fee=FEE), creator)
    # First make the push fail so the attacker holds a credit...
    attacker.arm(licensing, licensing.withdrawCredit.encode_input(attacker.address), True, False, sender=deployer)
    licensing.buyLicense(work, WORK, paid, sender=collector, value=FEE)
    licensing.buyLicense(work, WORK, paid, sender=collector, value=FEE)
    assert licensing.creditOf(attacker) == 2 * FEE
    # ...then withdraw it while trying to withdraw again from inside the payment.
    attacker.arm(licensing, licensing.withdrawCredit.encode_input(attacker.address), False, True, sender=deployer)
    attacker.forward(licensing, licensing.withdrawCredit.encode_input(attacker.address), sender=deployer)
    assert attacker.reentryOutcome() == 2
    assert bytes(attacker.lastRevertData())[:4] == REENTRANCY_SELECTOR
    assert balance(attacker) == 2 * FEE and balance(licensing) == 0
    assert licensing.creditOf(attacker) == 0


def test_withdraw_credit_errors(ape_project, licensing, work, deployer, creator, collector, stranger):
    with reverts_with(licensing.LicenseNoCredit, account=stranger):
        licensing.withdrawCredit(stranger, sender=stranger)
    rejecting = ape_project.TestRejectingReceiver.deploy(sender=deployer)
    sell_to(licensing, work, rejecting, creator, collector, deployer)
    call = licensing.withdrawCredit.encode_input(ETH)
    with reverts_with("TestForwardFailed", reason=_error_data(licensing, "LicenseRecipientInvalid", ETH)):
        rejecting.forward(licensing, call, sender=deployer)
    to_self = licensing.withdrawCredit.encode_input(rejecting.address)
    failed = _error_data(licensing, "LicenseCreditTransferFailed", rejecting.address, FEE)
    with reverts_with("TestForwardFailed", reason=failed):
        rejecting.forward(licensing, to_self, sender=deployer)
    assert licensing.creditOf(rejecting) == FEE


def test_withdraw_credit_to_zero_reverts_for_a_direct_caller(licensing, stranger):
    with reverts_with(licensing.LicenseRecipientInvalid, to=ETH):
        licensing.withdrawCredit(ETH, sender=stranger)


def _error_data(contract, name, *args):
    """ABI-encoded custom error `name(args)` of `contract`."""
    from eth_abi import encode

    item = next(i for i in contract.contract_type.abi if i.type == "error" and i.name == name)
    types = [i.type for i in item.inputs]
    selector = keccak(text=f"{name}({','.join(types)})")[:4]
    return selector + encode(types, list(args))
