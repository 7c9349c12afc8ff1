"""The API session of ``chainright login``: one file per wallet in ``<data>/sessions``, readable by
its owner only (0600), holding the bearer token, the API it is for and when it expires.

Commands that act as the logged-in user (``chainright kyc ...``) read it, so they need neither the
wallet nor its passphrase; ``chainright logout`` ends the session on the API and deletes the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from chain.errors import ChainError


class SessionFileError(ChainError):
    """Raised when there is no usable stored session (not logged in, expired, or for another API)."""


@dataclass(frozen=True)
class StoredSession:
    api: str
    token: str
    did: str
    address: str | None
    expires_at: str
    method: str

    def expired(self, now: datetime | None = None) -> bool:
        moment = datetime.fromisoformat(self.expires_at.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment <= (now or datetime.now(UTC))


def session_path(data_dir: Path, wallet: str) -> Path:
    return data_dir / "sessions" / f"{wallet}.json"


def save_session(path: Path, session: StoredSession) -> None:
    """Write the session readable by its owner only; the token never touches a wider-permission file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(session), fh)
    os.replace(tmp, path)


def load_session(path: Path, api: str) -> StoredSession:
    try:
        data = json.loads(path.read_text())
        session = StoredSession(**data)
    except FileNotFoundError:
        raise SessionFileError("not logged in: run 'chainright login' first") from None
    except (ValueError, TypeError):
        raise SessionFileError(f"{path} is not a session file; run 'chainright login' again") from None
    if session.api.rstrip("/") != api.rstrip("/"):
        raise SessionFileError(f"the stored session is for the API at {session.api}, not {api}; run "
                               f"'chainright login --api {api}'")
    if session.expired():
        raise SessionFileError(f"the session expired at {session.expires_at}; run 'chainright login' again")
    return session
