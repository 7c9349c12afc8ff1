"""``Idempotency-Key`` on every state-changing call (POST, PUT, PATCH, DELETE).

The first request with a key runs and its answer (status, content type, body) is stored under
(key, caller); a repeat with the same key and the same request gets the stored answer without
running again. The same key with a different request is refused (422); a repeat while the first
is still running gets 409. 5xx answers are not stored, so a failed call can be retried.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from anyio import to_thread
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db import Database
from api.models import IdempotencyRecord
from api.problems import PROBLEM_JSON

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY_LENGTH = 128


def _problem_bytes(status: int, title: str, detail: str) -> bytes:
    return json.dumps({"type": "/problems/idempotency", "title": title, "status": status,
                       "detail": detail}).encode()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, db: Database) -> None:
        self.app = app
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        key = headers.get(b"idempotency-key", b"").decode("latin-1").strip()
        if not key:
            await self.app(scope, receive, send)
            return
        if len(key) > MAX_KEY_LENGTH:
            await self._answer(send, 400, PROBLEM_JSON, _problem_bytes(
                400, "Bad Idempotency-Key", f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters"))
            return

        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        principal = hashlib.sha256(headers.get(b"authorization", b"anonymous")).hexdigest()
        request_hash = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"?"
            + scope.get("query_string", b"") + b"\n" + body
        ).hexdigest()

        outcome = await to_thread.run_sync(self._claim, key, principal, scope, request_hash)
        if outcome is not None:
            status, content_type, stored = outcome
            await self._answer(send, status, content_type, stored, replayed=True)
            return

        replayed_body = False

        async def replay_receive() -> Message:
            nonlocal replayed_body
            if not replayed_body:
                replayed_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status_code = 500
        content_type = "application/json"
        out: list[bytes] = []

        async def capture_send(message: Message) -> None:
            nonlocal status_code, content_type
            if message["type"] == "http.response.start":
                status_code = message["status"]
                for name, value in message.get("headers") or []:
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                out.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            await to_thread.run_sync(self._finish, key, principal, status_code, content_type,
                                     b"".join(out))

    def _claim(self, key: str, principal: str, scope: Scope,
               request_hash: str) -> tuple[int, str, bytes] | None:
        """Insert an in-progress record, or return the stored answer to replay."""
        with self.db.session() as s:
            existing = s.get(IdempotencyRecord, (key, principal))
            if existing is None:
                s.add(IdempotencyRecord(key=key, principal=principal, method=scope["method"],
                                        path=scope["path"], request_hash=request_hash,
                                        created_at=datetime.now(UTC)))
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
            return existing.status_code, existing.content_type or "application/json", \
                existing.response_body or b""

    def _finish(self, key: str, principal: str, status: int, content_type: str, body: bytes) -> None:
        with self.db.session() as s:
            record = s.get(IdempotencyRecord, (key, principal))
            if record is None:
                return
            if status >= 500:
                s.delete(record)  # not stored: the caller may retry with the same key
                return
            record.status_code = status
            record.content_type = content_type
            record.response_body = body

    @staticmethod
    async def _answer(send: Send, status: int, content_type: str, body: bytes,
                      replayed: bool = False) -> None:
        headers = [(b"content-type", content_type.encode()),
                   (b"content-length", str(len(body)).encode())]
        if replayed and status < 400:
            headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
