"""The caller behind a bearer token (session, user, roles, KYC) kept for a few seconds per token.

Resolving a caller reads four tables (the session, the user, the role grants, the KYC
application): about a third of an order's database work. ``CallerCache`` keeps the answer per
token for ``ttl_s`` seconds (``CHAINRIGHT_API_CALLER_CACHE_TTL_S``, 0 turns it off), and never past
the session's or the KYC approval's own expiry. Every write this process makes to those tables
(login, logout, a KYC decision or revocation, a role granted or revoked, through any ORM session)
empties every cache of the process when it commits; a write made by another process (another API
worker, a console command) is seen here within ``ttl_s`` at most.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from api import sessions
from api.db import Database
from api.models import KycApplication, RoleGrant, User, UserSession
from api.sessions import SessionInfo
from api.settings import ApiSettings

__all__ = ["CALLER_TABLES", "CallerCache"]

CALLER_TABLES = (User, UserSession, KycApplication, RoleGrant)
"""The rows a caller is read from: a committed change to any of them empties the caches."""
MAX_ENTRIES = 20_000
"""Past this many tokens the cache is emptied (it refills from the database)."""

T = TypeVar("T")


@dataclass(frozen=True)
class _Entry:
    value: Any
    until: float
    """Monotonic time after which the value is read again."""


class CallerCache:
    """Per token: the resolved caller, and the KYC-verified caller, each until its deadline."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[tuple[str, bytes], _Entry] = {}
        self._lock = threading.Lock()
        self._generation = 0
        _CACHES.add(self)

    def get(self, kind: str, token: str, load: Callable[[], tuple[T, float | None]]) -> T:
        """The cached ``kind`` ('caller', 'verified') for ``token``, else ``load()`` -> (value, the
        unix time it stops being valid or None), kept for ``ttl_s`` or until then. A ``load`` that
        raises caches nothing (a refusal is always decided afresh)."""
        if self.ttl_s <= 0:
            return load()[0]
        key = (kind, hashlib.sha256(token.encode()).digest())
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and now < entry.until:
            return entry.value  # type: ignore[no-any-return]
        generation = self._generation
        value, expires_at = load()
        until = now + self.ttl_s
        if expires_at is not None:
            until = min(until, now + (expires_at - time.time()))
        with self._lock:
            if generation == self._generation:  # no write to the callers' tables meanwhile
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = _Entry(value, until)
        return value

    def peek(self, kind: str, token: str) -> Any:
        """The cached ``kind`` for ``token`` if it is still valid, else None (no database read: an
        ASGI middleware asks this on the event loop before it hops to a thread)."""
        if self.ttl_s <= 0:
            return None
        entry = self._entries.get((kind, hashlib.sha256(token.encode()).digest()))
        return entry.value if entry is not None and self.clock() < entry.until else None

    def session(self, db: Database, settings: ApiSettings, authorization: str | None) -> SessionInfo:
        """The live session an ``Authorization`` header names (``sessions.from_authorization`` in
        its own transaction, kept like a caller); raises UnauthorizedError."""
        def load() -> tuple[SessionInfo, float | None]:
            with db.session() as s:
                info = sessions.from_authorization(s, settings, authorization)
            return info, info.expires_at.timestamp()

        return self.get("session", authorization or "", load)

    def clear(self) -> None:
        """Forget every caller (a session, user, KYC or role row changed)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()


_CACHES: weakref.WeakSet[CallerCache] = weakref.WeakSet()


def _touches_callers(session: Session) -> bool:
    return any(isinstance(obj, CALLER_TABLES)
               for group in (session.new, session.dirty, session.deleted) for obj in group)


@event.listens_for(Session, "after_flush")
def _note_caller_writes(session: Session, _context: Any) -> None:
    if _touches_callers(session):
        session.info["callers_changed"] = True
        for cache in list(_CACHES):
            cache.clear()  # at once too: a request of this process must not read the old caller


@event.listens_for(Session, "after_commit")
def _clear_on_commit(session: Session) -> None:
    if session.info.pop("callers_changed", False):
        for cache in list(_CACHES):
            cache.clear()  # again at commit: a caller read between the flush and the commit is dropped


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop("callers_changed", None)
