"""KYC's pure parts: the state machine, sanctions screening, encryption of personal data."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from api.kyc.pii import PiiCipher, PiiDecryptError, PiiKeyError
from api.kyc.sanctions import SanctionsList, SanctionsListError
from api.kyc.states import KycAction, KycState, KycTransitionError, next_state

pytestmark = pytest.mark.unit

SAMPLE = Path(__file__).resolve().parents[2] / "api" / "kyc" / "sanctions-sample.txt"


@pytest.mark.parametrize(("state", "action", "expected"), [
    (KycState.SUBMITTED, KycAction.APPROVE, KycState.APPROVED),
    (KycState.SUBMITTED, KycAction.REJECT, KycState.REJECTED),
    (KycState.APPROVED, KycAction.REVOKE, KycState.REVOKED),
    (KycState.APPROVED, KycAction.EXPIRE, KycState.EXPIRED),
])
def test_allowed_transitions(state, action, expected):
    assert next_state(state, action) == expected


@pytest.mark.parametrize(("state", "action"), [
    (KycState.SUBMITTED, KycAction.REVOKE),
    (KycState.APPROVED, KycAction.APPROVE),
    (KycState.REJECTED, KycAction.APPROVE),
    (KycState.REVOKED, KycAction.APPROVE),
    (KycState.EXPIRED, KycAction.REVOKE),
])
def test_refused_transitions_say_what_is_possible(state, action):
    with pytest.raises(KycTransitionError, match=f"cannot {action.value}"):
        next_state(state, action)


def test_sanctions_sample_matches_address_any_case_and_reordered_names():
    lst = SanctionsList.load(SAMPLE)
    hits = lst.screen(address="0x8626F6940e2eb28930efb4cef49b2d1f2c9c1199", legal_name="Alice Clean")
    assert [h.kind for h in hits] == ["address"]
    assert lst.screen(address=None, legal_name="SANCTIONED, ivan")[0].entry == "Ivan Sanctioned"
    assert lst.screen(address=None, legal_name="Ivân  Sanctioned")  # accents and spaces
    assert lst.screen(address="0x" + "12" * 20, legal_name="Ivan Sanctionedson") == []


@pytest.mark.parametrize("line", ["wallet,0x00", "address,0x123", "name,   ", "nonsense"])
def test_malformed_sanctions_lines_name_file_and_line(line):
    with pytest.raises(SanctionsListError, match=r"list\.txt:2"):
        SanctionsList.parse("# header\n" + line + "\n", source="list.txt")


def test_missing_sanctions_file_says_which_setting(tmp_path):
    with pytest.raises(SanctionsListError, match="CHAINRIGHT_API_SANCTIONS_FILE"):
        SanctionsList.load(tmp_path / "nope.txt")


def test_personal_data_round_trips_and_is_bound_to_its_application():
    cipher = PiiCipher(base64.b64encode(os.urandom(32)).decode())
    blob = cipher.encrypt({"legal_name": "Alice Example", "document_number": "X123"}, bound_to="app1")
    assert b"Alice" not in blob and b"X123" not in blob
    assert cipher.decrypt(blob, bound_to="app1")["legal_name"] == "Alice Example"
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(blob, bound_to="app2")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(tampered, bound_to="app1")
    other = PiiCipher(base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(PiiDecryptError, match="wrong key"):
        other.decrypt(blob, bound_to="app1")
    assert "key" in repr(cipher) and base64.b64encode(b"x").decode() not in repr(cipher)


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"short").decode()])
def test_bad_keys_are_refused_with_the_setting_name(bad):
    with pytest.raises(PiiKeyError, match="CHAINRIGHT_API_KYC_ENCRYPTION_KEY"):
        PiiCipher(bad)
