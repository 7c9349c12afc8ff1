"""IdentityRegistry: operators write KYC records; isVerified needs a level, no revocation, no expiry."""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak

from tests.contracts.revert_checks import events, one_event, reverts_with

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

OPERATOR_ROLE = keccak(text="OPERATOR_ROLE")
ADMIN_ROLE = b"\x00" * 32
ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def registry(ape_project, deployer, operator):
    contract = ape_project.IdentityRegistry.deploy(deployer, sender=deployer)
    contract.grantRole(OPERATOR_ROLE, operator, sender=deployer)
    return contract


def later(seconds: int = 365 * 86_400) -> int:
    return int(ape.chain.blocks.head.timestamp) + seconds


def test_operator_role_constant_is_the_hash_of_its_name(registry):
    assert bytes(registry.OPERATOR_ROLE()) == OPERATOR_ROLE


def test_an_operator_registers_an_identity(registry, operator, collector):
    expires = later()
    tx = registry.registerIdentity(collector, 2, b"FR", expires, sender=operator)
    registered = one_event(tx, "IdentityRegistered")
    assert (registered.account, registered.level, bytes(registered.country), registered.expiresAt, registered.by) == (
        collector.address, 2, b"FR", expires, operator.address)
    identity = registry.identityOf(collector)
    assert (identity.level, bytes(identity.country), identity.expiresAt, identity.revoked) == (2, b"FR", expires, False)
    assert registry.isVerified(collector)


def test_unknown_accounts_are_not_verified_and_have_an_empty_record(registry, stranger):
    assert not registry.isVerified(stranger)
    identity = registry.identityOf(stranger)
    assert (identity.level, bytes(identity.country), identity.expiresAt, identity.revoked) == (0, b"\x00\x00", 0, False)


def test_an_operator_updates_an_identity(registry, operator, collector):
    registry.registerIdentity(collector, 1, b"FR", later(), sender=operator)
    expires = later(2 * 365 * 86_400)
    tx = registry.updateIdentity(collector, 3, b"DE", expires, sender=operator)
    updated = one_event(tx, "IdentityUpdated")
    assert (updated.account, updated.level, bytes(updated.country), updated.expiresAt, updated.by) == (
        collector.address, 3, b"DE", expires, operator.address)
    assert registry.identityOf(collector).level == 3


def test_revocation_unverifies_and_an_update_lifts_it(registry, operator, collector):
    registry.registerIdentity(collector, 1, b"FR", later(), sender=operator)
    tx = registry.revokeIdentity(collector, sender=operator)
    revoked = one_event(tx, "IdentityRevoked")
    assert (revoked.account, revoked.by) == (collector.address, operator.address)
    assert not registry.isVerified(collector)
    assert registry.identityOf(collector).revoked and registry.identityOf(collector).level == 1
    with reverts_with(registry.IdentityAlreadyRevoked, account=collector):
        registry.revokeIdentity(collector, sender=operator)
    registry.updateIdentity(collector, 1, b"FR", later(), sender=operator)
    assert registry.isVerified(collector)


def test_verification_expires(registry, operator, collector):
    expires = later(100)
    registry.registerIdentity(collector, 1, b"FR", expires, sender=operator)
    ape.chain.mine(timestamp=expires - 1)
    assert registry.isVerified(collector)
    ape.chain.mine(timestamp=expires)
    assert not registry.isVerified(collector)


def test_batch_registers_new_accounts_and_updates_known_ones(registry, operator, collector, creator, stranger):
    registry.registerIdentity(collector, 1, b"FR", later(), sender=operator)
    expires = later()
    tx = registry.batchSetIdentities([collector, creator, stranger], [2, 1, 3], [b"IT", b"ES", b"US"],
                                     [expires, expires, expires], sender=operator)
    assert [log.account for log in events(tx, "IdentityUpdated")] == [collector.address]
    assert [log.account for log in events(tx, "IdentityRegistered")] == [creator.address, stranger.address]
    assert all(registry.isVerified(a) for a in (collector, creator, stranger))
    assert bytes(registry.identityOf(stranger).country) == b"US"


def test_a_bad_entry_rejects_the_whole_batch(registry, operator, collector, creator):
    expires = later()
    with reverts_with(registry.IdentityLevelZero, account=creator):
        registry.batchSetIdentities([collector, creator], [1, 0], [b"FR", b"FR"], [expires, expires],
                                    sender=operator)
    assert not registry.isVerified(collector)


def test_batch_arrays_must_have_the_same_length(registry, operator, collector):
    with reverts_with(registry.IdentityBatchLengthMismatch, accounts=1, levels=2, countries=1, expiries=1):
        registry.batchSetIdentities([collector], [1, 2], [b"FR"], [later()], sender=operator)


@pytest.mark.parametrize(
    ("account", "level", "country", "expires_in", "error", "inputs"),
    [
        (ZERO, 1, b"FR", 100, "IdentityZeroAddress", {}),
        ("collector", 0, b"FR", 100, "IdentityLevelZero", {"account": "collector"}),
        ("collector", 1, b"fr", 100, "IdentityCountryInvalid", {"account": "collector", "country": b"fr"}),
        ("collector", 1, b"F1", 100, "IdentityCountryInvalid", {"account": "collector", "country": b"F1"}),
        ("collector", 1, b"\x00\x00", 100, "IdentityCountryInvalid",
         {"account": "collector", "country": b"\x00\x00"}),
        ("collector", 1, b"FR", 0, "IdentityExpiryInPast", {"account": "collector", "expiresAt": "now+1"}),
    ],
)
def test_invalid_identities_are_refused(registry, operator, collector, account, level, country, expires_in, error,
                                        inputs):
    who = collector.address if account == "collector" else account
    next_block = int(ape.chain.blocks.head.timestamp) + 1
    ape.chain.pending_timestamp = next_block
    expires = next_block + expires_in - (1 if expires_in == 0 else 0)  # 0: one second before the block
    resolved = {k: (collector.address if v == "collector" else expires if v == "now+1" else v)
                for k, v in inputs.items()}
    with reverts_with(getattr(registry, error), **resolved):
        registry.registerIdentity(who, level, country, expires, sender=operator)


def test_register_and_update_check_for_an_existing_record(registry, operator, collector, stranger):
    registry.registerIdentity(collector, 1, b"FR", later(), sender=operator)
    with reverts_with(registry.IdentityAlreadyRegistered, account=collector):
        registry.registerIdentity(collector, 1, b"FR", later(), sender=operator)
    with reverts_with(registry.IdentityNotRegistered, account=stranger):
        registry.updateIdentity(stranger, 1, b"FR", later(), sender=operator)
    with reverts_with(registry.IdentityNotRegistered, account=stranger):
        registry.revokeIdentity(stranger, sender=operator)


def test_only_operators_write(registry, operator, collector, stranger, deployer):
    expires = later()
    registry.registerIdentity(collector, 1, b"FR", expires, sender=operator)
    for sender in (stranger, deployer):  # the admin is not an operator unless granted
        with reverts_with(registry.AccessControlUnauthorizedAccount, account=sender, neededRole=OPERATOR_ROLE):
            registry.registerIdentity(stranger, 1, b"FR", expires, sender=sender)
        with reverts_with(registry.AccessControlUnauthorizedAccount, account=sender, neededRole=OPERATOR_ROLE):
            registry.updateIdentity(collector, 1, b"FR", expires, sender=sender)
        with reverts_with(registry.AccessControlUnauthorizedAccount, account=sender, neededRole=OPERATOR_ROLE):
            registry.revokeIdentity(collector, sender=sender)
        with reverts_with(registry.AccessControlUnauthorizedAccount, account=sender, neededRole=OPERATOR_ROLE):
            registry.batchSetIdentities([stranger], [1], [b"FR"], [expires], sender=sender)


def test_only_the_admin_grants_and_revokes_operators(registry, deployer, operator, stranger, collector):
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=stranger, neededRole=ADMIN_ROLE):
        registry.grantRole(OPERATOR_ROLE, stranger, sender=stranger)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=operator, neededRole=ADMIN_ROLE):
        registry.revokeRole(OPERATOR_ROLE, operator, sender=operator)
    registry.revokeRole(OPERATOR_ROLE, operator, sender=deployer)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=operator, neededRole=OPERATOR_ROLE):
        registry.registerIdentity(collector, 1, b"FR", later(), sender=operator)
    registry.grantRole(OPERATOR_ROLE, stranger, sender=deployer)
    registry.registerIdentity(collector, 1, b"FR", later(), sender=stranger)
    assert registry.isVerified(collector)


def test_the_admin_cannot_be_the_zero_address(ape_project, deployer):
    with reverts_with("IdentityZeroAddress"):
        ape_project.IdentityRegistry.deploy(ZERO, sender=deployer)


def test_role_changes_emit_access_control_events_and_operators_may_renounce(registry, deployer, operator, stranger):
    tx = registry.grantRole(OPERATOR_ROLE, stranger, sender=deployer)
    granted = one_event(tx, "RoleGranted")
    assert (bytes(granted.role), granted.account, granted.sender) == (OPERATOR_ROLE, stranger.address,
                                                                      deployer.address)
    with reverts_with(registry.AccessControlBadConfirmation):
        registry.renounceRole(OPERATOR_ROLE, operator, sender=stranger)  # only for oneself
    tx = registry.renounceRole(OPERATOR_ROLE, stranger, sender=stranger)
    revoked = one_event(tx, "RoleRevoked")
    assert (bytes(revoked.role), revoked.account, revoked.sender) == (OPERATOR_ROLE, stranger.address,
                                                                      stranger.address)
    assert not registry.hasRole(OPERATOR_ROLE, stranger)
    assert events(tx, "RoleAdminChanged") == []
