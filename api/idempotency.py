"""``Idempotency-Key`` on every state-changing call (POST, PUT, PATCH, DELETE) of a logged-in caller.

The first request with a key runs and its answer (status, content type, body) is stored under
(key, principal); a repeat with the same key and the same request gets the stored answer without
running again. The same key with a different request is refused (422); a repeat while the first
is still running gets 409. 5xx answers are not stored, so a failed call can be retried.

- The principal is the user (DID) of the session the ``Authorization`` header names, checked here
  (signature, expiry, logout) before anything is stored or replayed. A request without a live
  session is run as if it carried no key: nothing is stored for it and nothing is replayed to it
  (anonymous callers would otherwise share one principal, and anyone repeating a captured key
  would get its answer).
- Answers that carry a credential are never stored, so never replayed, to anyone: every answer
  under ``/auth/`` (session tokens; the key is ignored there) and every answer marked
  ``Cache-Control: no-store`` by its route. A repeat of such a request runs again (a login's
  challenge is single-use, so a repeated login is refused, not answered with a second session).
- Answers of ``/kyc/*`` (personal data) are stored encrypted with the KYC personal-data cipher,
  bound to the key and principal, and replayed only to that principal.
- Multipart bodies are hashed part by part (names, filenames, content types, sha256 of each
  part's bytes), not byte for byte: a retry with a new boundary is the same request.
- Records expire after ``idempotency_ttl_s``; a record still "in progress" after
  ``idempotency_stale_s`` (its request crashed) is stale and the key may run again; the route then
  learns (``rerun_of_crashed``) that the crashed attempt may have done its work already.
- A body larger than ``max_body`` is refused (413) before it is buffered whole (``api.limits``
  bounds every body before this layer; this is the second fence).
- Routes that are idempotent by nature are run again instead (``NATURALLY_IDEMPOTENT``): a
  fill-tx only builds and simulates an unsigned transaction, so a repeat gets the same answer for
  the same book without a record; an upload (``POST /assets``) is content-addressed, and streams
  to disk instead of being buffered here (``api.uploads``). Routes idempotent by content
  (``IDEMPOTENT_BY_CONTENT``: a signed order names itself, a second copy is a 409) store nothing
  either: a keyed request is marked as a possible retry and the route answers it with the order this
  caller already stored under the same signature. For the others the claim of the key is one
  database transaction and the stored answer a second (the caller's session is read through
  ``api.callers``, kept a few seconds per token).
- The header is documented as a parameter of every state-changing operation of a logged-in
  caller (``document_header``); the ``/auth/`` operations do not take it.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.callers import CallerCache
from api.db import Database
from api.errors import UnauthorizedError
from api.kyc.pii import PiiCipher, PiiDecryptError
from api.models import IdempotencyRecord
from api.problems import PROBLEM_JSON
from api.requestid import current_request_id
from api.settings import ApiSettings

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY_LENGTH = 128
CREDENTIAL_PREFIXES = ("/auth/",)
"""Answers under these paths carry session tokens: the key is ignored, nothing is stored."""
SENSITIVE_PREFIXES = ("/kyc/",)
"""Answers under these paths hold personal data: stored encrypted only."""
NATURALLY_IDEMPOTENT = re.compile(r"^(/market/(orders/[^/]+/fill-tx|fill-tx/batch)|/assets)$")
"""Routes whose repeat is harmless, where the key stores nothing: a fill-tx changes nothing (it
builds an unsigned transaction); an upload is content-addressed (the same bytes are the same CID
and the same record), and keeping its request would mean buffering a body of up to 50 MiB."""
IDEMPOTENT_BY_CONTENT = re.compile(r"^/market/orders(/batch)?$")
"""Routes whose request names what it creates (a signed order is its own key: a second copy is a
409): the key stores nothing; it marks the request as a retry, and the route answers a retry with
the order this caller already stored under the same signature (``rerun_of_crashed``)."""
PURGE_EVERY_S = 60.0
RERUN_STATE = "idempotency_rerun_of_crashed"
HEADER_DOC = ("Makes this call safe to retry (with a session): the first answer is stored under (key, "
              "user) and a repeat by the same user with the same key and request gets it back "
              "(Idempotent-Replayed: true) without running again; the same key with a different "
              "request is a 422. Ignored without a live session.")


def _problem_bytes(status: int, title: str, detail: str, path: str = "") -> bytes:
    body: dict[str, Any] = {"type": "/problems/idempotency", "title": title, "status": status,
                            "detail": detail}
    if path:
        body["instance"] = path
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    return json.dumps(body).encode()


_BOUNDARY = re.compile(rb'boundary="?([^";]+)"?', re.IGNORECASE)


def body_digest(content_type: bytes, body: bytes) -> bytes:
    """What identifies a request body: its bytes, or for multipart its parsed parts (each part's
    headers and the sha256 of its bytes), so the random boundary a client picks does not count."""
    if not content_type.lower().startswith(b"multipart/"):
        return hashlib.sha256(body).digest()
    match = _BOUNDARY.search(content_type)
    if match is None:
        return hashlib.sha256(body).digest()
    delimiter = b"--" + match.group(1)
    digest = hashlib.sha256(b"multipart")
    for raw in body.split(delimiter)[1:]:
        if raw.startswith(b"--"):
            break  # the closing delimiter
        part = raw[2:] if raw.startswith(b"\r\n") else raw
        head, _, content = part.partition(b"\r\n\r\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers = sorted(line.strip().lower() for line in head.split(b"\r\n") if line.strip())
        digest.update(b"\n".join(headers) + b"\n" + hashlib.sha256(content).digest())
    return digest.digest()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, db: Database, settings: ApiSettings, cipher: PiiCipher | None = None,
                 *, ttl_s: int = 86_400, stale_s: int = 300, max_body: int | None = None,
                 callers: CallerCache | None = None) -> None:
        self.app = app
        self.callers = callers if callers is not None else CallerCache(0)
        self.db = db
        self.settings = settings
        self.cipher = cipher
        self.ttl = timedelta(seconds=ttl_s)
        self.stale = timedelta(seconds=stale_s)
        self.max_body = max_body
        self._purged_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        key = headers.get(b"idempotency-key", b"").decode("latin-1").strip()
        if not key or _carries_credentials(scope["path"]) or NATURALLY_IDEMPOTENT.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        if IDEMPOTENT_BY_CONTENT.match(scope["path"]):
            scope.setdefault("state", {})[RERUN_STATE] = True
            await self.app(scope, receive, send)
            return
        if len(key) > MAX_KEY_LENGTH:
            await self._answer(send, 400, PROBLEM_JSON, _problem_bytes(
                400, "Bad Idempotency-Key", f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters"))
            return
        authorization = headers.get(b"authorization")
        if authorization is None:  # no session: run as if no key had been sent
            await self.app(scope, receive, send)
            return

        too_large = _problem_bytes(
            413, "Request too large",
            f"the request body is larger than {self.max_body} bytes: send a smaller file", scope["path"])
        declared = headers.get(b"content-length", b"")
        if self.max_body is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._answer(send, 413, PROBLEM_JSON, too_large)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if self.max_body is not None and size > self.max_body:
                await self._answer(send, 413, PROBLEM_JSON, too_large)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed_body = False

        async def replay_receive() -> Message:
            nonlocal replayed_body
            if not replayed_body:
                replayed_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        request_hash = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"?"
            + scope.get("query_string", b"") + b"\n"
            + body_digest(headers.get(b"content-type", b""), body)
        ).hexdigest()

        principal, outcome = await to_thread.run_sync(
            self._claim, key, authorization.decode("latin-1"), scope, request_hash)
        if principal is None:  # no live session: run as if no key had been sent
            await self.app(scope, replay_receive, send)
            return
        if outcome is not None:
            status, content_type, stored = outcome
            await self._answer(send, status, content_type, stored, replayed=True)
            return

        status_code = 500
        content_type = "application/json"
        no_store = False
        out: list[bytes] = []

        async def capture_send(message: Message) -> None:
            nonlocal status_code, content_type, no_store
            if message["type"] == "http.response.start":
                status_code = message["status"]
                for name, value in message.get("headers") or []:
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
                    elif name.lower() == b"cache-control" and b"no-store" in value.lower():
                        no_store = True
            elif message["type"] == "http.response.body":
                out.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            await to_thread.run_sync(self._finish, key, principal, status_code, content_type,
                                     b"".join(out), no_store)

    def _principal(self, authorization: str | None) -> str | None:
        """Whose records a request reads and writes: the user of its live session (kept per token
        for a few seconds, ``api.callers``), else None."""
        try:
            info = self.callers.session(self.db, self.settings, authorization)
        except UnauthorizedError:
            return None
        return hashlib.sha256(b"user:" + info.subject.encode()).hexdigest()

    def _claim(self, key: str, authorization: str, scope: Scope,
               request_hash: str) -> tuple[str | None, tuple[int, str, bytes] | None]:
        """The caller's principal (None: no live session, nothing claimed), and in one
        transaction an in-progress record inserted, or the stored answer to replay."""
        now = datetime.now(UTC)
        self._purge(now)
        principal = self._principal(authorization)
        if principal is None:
            return None, None
        with self.db.session() as s:
            return principal, self._claim_in(s, key, principal, scope, request_hash, now)

    def _claim_in(self, s: Any, key: str, principal: str, scope: Scope, request_hash: str,
                  now: datetime) -> tuple[int, str, bytes] | None:
        """Insert an in-progress record, or return the stored answer to replay."""
        existing = s.get(IdempotencyRecord, (key, principal))
        if existing is not None and self._expired(existing, now):
            if existing.status_code is None:  # its request died half-way: it may have done its work
                scope.setdefault("state", {})[RERUN_STATE] = True
            s.delete(existing)  # expired, or in progress so long that its request died
            s.flush()
            existing = None
        if existing is None:
            s.add(IdempotencyRecord(key=key, principal=principal, method=scope["method"],
                                    path=scope["path"], request_hash=request_hash,
                                    created_at=now))
            try:
                s.flush()
            except IntegrityError:
                s.rollback()
                return 409, PROBLEM_JSON, _problem_bytes(
                    409, "Request in progress",
                    "a request with this Idempotency-Key is still running; retry later")
            return None
        if existing.request_hash != request_hash:
            return 422, PROBLEM_JSON, _problem_bytes(
                422, "Idempotency-Key reused",
                "this Idempotency-Key was used for a different request; use a new key")
        if existing.status_code is None:
            return 409, PROBLEM_JSON, _problem_bytes(
                409, "Request in progress",
                "a request with this Idempotency-Key is still running; retry later")
        stored = existing.response_body or b""
        if _sensitive(existing.path) and stored:
            if self.cipher is None:  # cannot happen: such answers are only stored with a cipher
                return 409, PROBLEM_JSON, _problem_bytes(
                    409, "Stored answer unreadable", "send the request with a new Idempotency-Key")
            try:
                stored = self.cipher.decrypt_bytes(stored, bound_to=_binding(key, principal))
            except PiiDecryptError:
                return 409, PROBLEM_JSON, _problem_bytes(
                    409, "Stored answer unreadable",
                    "the answer stored under this Idempotency-Key cannot be decrypted (the key "
                    "was rotated); send the request with a new key")
        return existing.status_code, existing.content_type or "application/json", stored

    def _expired(self, record: IdempotencyRecord, now: datetime) -> bool:
        created = record.created_at if record.created_at.tzinfo else record.created_at.replace(tzinfo=UTC)
        if record.status_code is None:
            return now - created > self.stale
        return now - created > self.ttl

    def _purge(self, now: datetime) -> None:
        """Delete expired records, at most once a minute (the table stays as small as a day's keys)."""
        if time.monotonic() - self._purged_at < PURGE_EVERY_S:
            return
        self._purged_at = time.monotonic()
        with self.db.session() as s:
            s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - self.ttl))

    def _finish(self, key: str, principal: str, status: int, content_type: str, body: bytes,
                no_store: bool = False) -> None:
        with self.db.session() as s:
            record = s.get(IdempotencyRecord, (key, principal))
            if record is None:
                return
            if status >= 500 or no_store:
                s.delete(record)  # not stored: a 5xx may be retried; a credential is never replayed
                return
            record.status_code = status
            record.content_type = content_type
            if not _sensitive(record.path):
                record.response_body = body
            elif self.cipher is None:
                s.delete(record)  # never kept in clear: without a cipher, not kept at all
            else:
                record.response_body = (self.cipher.encrypt_bytes(body, bound_to=_binding(key, principal))
                                        if body else None)

    @staticmethod
    async def _answer(send: Send, status: int, content_type: str, body: bytes,
                      replayed: bool = False) -> None:
        headers = [(b"content-type", content_type.encode()),
                   (b"content-length", str(len(body)).encode())]
        if replayed:
            headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def rerun_of_crashed(request: Any) -> bool:
    """True when this request may repeat one whose work is already done: under its Idempotency-Key,
    one whose process died before its answer was stored (say, its order committed), or any keyed
    request to a route idempotent by content (``IDEMPOTENT_BY_CONTENT``). The route should answer
    with that work instead of refusing it as a duplicate."""
    return bool(getattr(request.state, RERUN_STATE, False))


def _sensitive(path: str) -> bool:
    return path.startswith(SENSITIVE_PREFIXES)


def _carries_credentials(path: str) -> bool:
    return path.startswith(CREDENTIAL_PREFIXES)


def _binding(key: str, principal: str) -> str:
    return f"idempotency:{principal}:{key}"


def document_header(app: FastAPI) -> None:
    """Add the ``Idempotency-Key`` header parameter to every state-changing operation of the schema."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if method.upper() not in STATE_CHANGING or _carries_credentials(path):
                    continue
                params = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in params):
                    params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                                   "description": HEADER_DOC,
                                   "schema": {"type": "string", "minLength": 1,
                                              "maxLength": MAX_KEY_LENGTH}})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
