"""The creator's KYC status at a registration, from identity event rows (pure, table-tested)."""

from __future__ import annotations

import json

import pytest
from eth_utils.address import to_checksum_address

from did.methods import did_pkh
from record.provenance.kyc import country_code, identity_evidence, kyc_status

pytestmark = pytest.mark.unit

ALICE, BOB = "0x" + "aA" * 20, "0x" + "bB" * 20
REGISTRY, OTHER_REGISTRY = "0x" + "11" * 20, "0x" + "22" * 20
AT = (50, 3)
NOW = 1_000


def _row(event: str, block: int, log: int = 0, account: str = ALICE, level: int = 2, country: str = "DE",
         expires: int = 2_000, address: str = REGISTRY) -> dict:
    args: dict = {"account": account, "by": "0x" + "99" * 20}
    if event != "IdentityRevoked":
        args |= {"level": level, "country": "0x" + country.encode().hex(), "expiresAt": expires}
    return {"event": event, "block_number": block, "log_index": log, "tx_hash": f"0x{block:04x}{log:02x}",
            "address": address, "chain_id": 31337, "args": json.dumps(args)}


REG, UPD, REV = "IdentityRegistered", "IdentityUpdated", "IdentityRevoked"


@pytest.mark.parametrize(("rows", "expected"), [
    ([], ("none", None, None, None)),
    ([_row(REG, 10)], ("verified", 2, "DE", 10)),
    ([_row(REG, 10, expires=NOW)], ("expired", 2, "DE", 10)),          # expiry == block time: not verified
    ([_row(REG, 10, expires=NOW + 1)], ("verified", 2, "DE", 10)),
    ([_row(REG, 10), _row(REV, 20)], ("revoked", 2, "DE", 10)),
    ([_row(REG, 10), _row(REV, 20), _row(UPD, 30, level=3, country="FR")], ("verified", 3, "FR", 30)),
    ([_row(REG, 10), _row(UPD, 30, level=3)], ("verified", 3, "DE", 30)),
    ([_row(REG, 10), _row(REV, 60)], ("verified", 2, "DE", 10)),       # revoked after the registration
    ([_row(REG, 50, log=4)], ("none", None, None, None)),               # same block, after the registration
    ([_row(REG, 50, log=2)], ("verified", 2, "DE", 50)),                # same block, before it
    ([_row(REG, 60)], ("none", None, None, None)),                      # KYC after registering
    ([_row(REG, 10, account=BOB)], ("none", None, None, None)),         # someone else's record
    ([_row(REG, 10), _row(REV, 20, account=BOB)], ("verified", 2, "DE", 10)),
    ([_row(REG, 10), _row(REV, 20, address=OTHER_REGISTRY)], ("verified", 2, "DE", 10)),
    ([_row(REV, 20), _row(REG, 10)], ("revoked", 2, "DE", 10)),         # rows in any order
])
def test_kyc_status_at_the_registration(rows, expected):
    mixed = len({r["address"] for r in rows}) > 1
    got = kyc_status(rows, ALICE.lower(), AT, NOW, REGISTRY if mixed else None)
    assert (got["status"], got["level"], got["country"], got["block"]) == expected
    if expected[0] == "revoked":
        assert got["revoked_at"] == 20
    if expected[0] != "none":
        assert got["registry"] == REGISTRY and got["expires_at"] is not None


def test_the_evidence_is_the_last_record_and_its_revocation():
    rows = [_row(REG, 10), _row(UPD, 15), _row(REV, 20), _row(REV, 25, address=OTHER_REGISTRY), _row(UPD, 70)]
    evidence = identity_evidence(rows, ALICE, AT, REGISTRY)
    assert [(r["event"], r["block_number"]) for r in evidence] == [(UPD, 15), (REV, 20)]
    assert identity_evidence([_row(REV, 20)], ALICE, AT) == []


def test_only_one_registrys_events_count():
    """A record from another contract (anyone can emit IdentityRegistered) is not evidence."""
    rows = [_row(REG, 10, level=1), _row(UPD, 30, level=3, address=OTHER_REGISTRY)]
    with pytest.raises(ValueError, match="more than one contract"):
        kyc_status(rows, ALICE, AT, NOW)
    assert kyc_status(rows, ALICE, AT, NOW, REGISTRY)["level"] == 1
    assert kyc_status(rows, ALICE, AT, NOW, OTHER_REGISTRY.upper().replace("0X", "0x"))["level"] == 3
    assert kyc_status(rows[1:], ALICE, AT, NOW, REGISTRY)["status"] == "none"


def test_country_and_did():
    assert country_code("0x4445") == "DE"
    assert country_code("0x0000") is None and country_code(None) is None and country_code("0x44") is None
    # one did:pkh for the platform (did.methods): the story states the DID a wallet logs in with
    assert did_pkh(ALICE.lower(), 31337) == f"did:pkh:eip155:31337:{to_checksum_address(ALICE)}"


def test_story_views_state_the_creator_on_the_registration_entries_only():
    from record.provenance import story_views

    registered = {"event": "RightsRegistered", "block_number": 50, "log_index": 3, "tx_hash": "0xr",
                  "address": "0x" + "33" * 20, "contract": "RightsRegistry", "chain_id": 31337, "block_time": NOW,
                  "args": json.dumps({"creator": ALICE, "contentHash": "0x" + "ab" * 32})}
    minted = registered | {"event": "WorkMinted", "log_index": 4, "contract": "CreatorCollection",
                           "args": json.dumps({"workId": 1, "contentHash": "0x" + "ab" * 32})}
    rental = minted | {"event": "UpdateUser", "block_number": 60, "args": json.dumps({"tokenId": 1})}
    views = story_views([_row(REG, 10) | {"contract": "IdentityRegistry", "block_time": 1}, registered, minted, rental])
    creator = views[1]["creator"]
    assert creator["did"] == did_pkh(ALICE, 31337) and creator["kyc"]["status"] == "verified"
    assert views[2]["creator"] == creator
    assert views[0]["creator"] is None and views[3]["creator"] is None
    assert story_views([registered])[0]["creator"]["kyc"]["status"] == "none"
