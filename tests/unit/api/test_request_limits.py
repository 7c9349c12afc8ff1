"""Every request body is bounded before it is read, on every state-changing route of the app: a body
over the route's cap is a 413 problem after at most one chunk past the cap (sent with a
Content-Length: after none), and a route that needs a session answers 401 before reading a byte.
The app is driven as an ASGI server drives it, with a receive that counts what was pulled."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import anyio
import pytest
from fastapi.routing import iter_route_contexts

from api import create_app, sessions
from api.models import User
from chain.devaccounts import dev_account

pytestmark = pytest.mark.unit

USER = dev_account(1)
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
_DUMMY = {"chain_id": "31337", "collection": "0x" + "11" * 20, "token_id": "1", "cid": "bafkqaaa",
          "order_hash": "0x" + "ab" * 32, "app_id": "0123456789abcdef"}
UPLOAD_LIMIT = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # api.limits: room for the form's framing beside the file
JSON_LIMIT = 16 * 1024
CHUNK = 64 * 1024
OVERSIZE = 24 * 1024 * 1024
UPLOADS = {("POST", "/assets"), ("POST", "/kyc/applications/{app_id}/document")}


def _app(api_settings, database):
    settings = api_settings.model_copy(update={"max_upload_bytes": UPLOAD_LIMIT,
                                               "max_json_bytes": JSON_LIMIT})
    return create_app(settings, db=database)


def _token(api_settings, database) -> str:
    did = f"did:pkh:eip155:31337:{USER.address}"
    with database.session() as s:
        if s.get(User, did) is None:
            s.add(User(did=did, address=USER.address, roles="", created_at=datetime.now(UTC)))
        token, _ = sessions.issue(s, api_settings, did, "siwe")
    return token


def _operations(app) -> list[tuple[str, str]]:
    return sorted((m, r.path) for r in iter_route_contexts(app.routes) for m in (r.methods or ())
                  if m in STATE_CHANGING)


def _drive(app, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, int, bytes]:
    """Send an endless 24 MiB body in 64 KiB chunks; returns (status, bytes pulled, answer body)."""
    pulled = 0
    status = 0
    answer: list[bytes] = []

    async def receive():
        nonlocal pulled
        if pulled >= OVERSIZE:
            return {"type": "http.disconnect"}
        pulled += CHUNK
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": pulled < OVERSIZE}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            answer.append(message.get("body", b""))

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": headers, "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80), "state": {}}

    async def main():
        await app(scope, receive, send)

    anyio.run(main)
    return status, pulled, b"".join(answer)


def _cases(app) -> list[tuple[str, str, str]]:
    return [(m, p, re.sub(r"\{(\w+)\}", lambda g: _DUMMY.get(g.group(1), "x"), p)) for m, p in _operations(app)]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=xyz"])
def test_every_route_stops_reading_an_oversize_body_at_its_cap(api_settings, database, framing,
                                                                content_type):
    app = _app(api_settings, database)
    bearer = [(b"authorization", f"Bearer {_token(api_settings, database)}".encode())]
    cases = _cases(app)
    assert len(cases) >= 20
    over = []
    for method, path, url in cases:
        headers = [(b"content-type", content_type.encode()), (b"host", b"testserver"), *bearer]
        if framing == "content-length":
            headers.append((b"content-length", str(OVERSIZE).encode()))
        else:
            headers.append((b"transfer-encoding", b"chunked"))
        status, pulled, body = _drive(app, method, url, headers)
        cap = UPLOAD_LIMIT + MULTIPART_OVERHEAD if (method, path) in UPLOADS else JSON_LIMIT
        allowed = 0 if framing == "content-length" else cap + CHUNK
        # a route may refuse for its own reason before it reads that far (403, a 400 for a broken
        # form): what it may never do is read past its cap, or answer a 413 that is no problem document
        too_large = status == 413 and b"/problems/too-large" in body
        if pulled > allowed or status >= 500 or (status == 413) != too_large:
            over.append(f"{method} {path}: {status}, read {pulled} bytes (cap {cap})")
        if framing == "content-length" and not too_large:
            over.append(f"{method} {path}: {status} for a declared oversize body")
        if path == "/auth/siwe/login" and not too_large:
            over.append(f"{method} {path}: {status}, read {pulled} bytes (cap {cap})")
    assert over == []


def test_a_route_that_needs_a_session_answers_401_before_reading_the_body(api_settings, database):
    app = _app(api_settings, database)
    needing = []
    for method, path, url in _cases(app):
        for auth in ([], [(b"authorization", b"Bearer crs1.forged.token")]):
            headers = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked"), *auth]
            status, pulled, body = _drive(app, method, url, headers)
            if status == 401:
                needing.append(path)
                assert pulled == 0, f"{method} {path} read {pulled} bytes before its 401"
                assert b"/problems/unauthorized" in body
            else:
                assert path.startswith("/auth/") and path != "/auth/logout", f"{method} {path}: {status}"
    assert "/assets" in needing and "/kyc/applications" in needing and "/auth/logout" in needing


@pytest.mark.parametrize("path", ["/late/upload", "/market/late-upload", "/{anything}/late-upload"])
def test_a_route_added_after_the_app_was_built_gets_its_own_cap(api_settings, database, path):
    """The middleware looks routes up by their first path segment; a route added later (under a new
    word, an existing one, or a parameter that serves any word) is found, with its upload cap."""
    from fastapi import File, UploadFile

    app = _app(api_settings, database)
    over_json = [(b"content-type", b"multipart/form-data; boundary=xyz"),
                 (b"content-length", str(JSON_LIMIT + CHUNK).encode())]
    url = path.replace("{anything}", "market")
    assert _drive(app, "POST", url, over_json)[0] == 413  # no such route yet: the JSON cap

    @app.post(path)
    def late_upload(file: UploadFile = File(...)) -> dict[str, str]:
        return {"name": file.filename or ""}

    status, _, body = _drive(app, "POST", url, over_json)
    assert status != 413, body  # the upload cap now applies, not the JSON cap
