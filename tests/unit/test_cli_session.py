"""The stored console session: owner-only file, bound to its API, refused once expired."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chainright.session import SessionFileError, StoredSession, load_session, save_session, session_path

pytestmark = pytest.mark.unit

API = "http://127.0.0.1:8000"


def _session(expires: datetime) -> StoredSession:
    return StoredSession(api=API, token="t0ken", did="did:pkh:eip155:31337:0xabc", address="0xabc",
                         expires_at=expires.isoformat(), method="siwe")


def test_session_file_is_owner_only_and_round_trips(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a permissive umask must not widen the file
    try:
        path = session_path(tmp_path, "alice")
        session = _session(datetime.now(UTC) + timedelta(hours=1))
        save_session(path, session)
        save_session(path, session)  # a second login replaces it
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert load_session(path, API + "/") == session
    assert not list(path.parent.glob("*.tmp"))


def test_session_refused_for_another_api_when_expired_or_missing(tmp_path: Path) -> None:
    path = session_path(tmp_path, "bob")
    with pytest.raises(SessionFileError, match="not logged in"):
        load_session(path, API)
    save_session(path, _session(datetime.now(UTC) + timedelta(hours=1)))
    with pytest.raises(SessionFileError, match="is for the API at"):
        load_session(path, "http://evil.example")
    save_session(path, _session(datetime.now(UTC) - timedelta(seconds=1)))
    with pytest.raises(SessionFileError, match="expired"):
        load_session(path, API)
    path.write_text("{not json")
    with pytest.raises(SessionFileError, match="not a session file"):
        load_session(path, API)
