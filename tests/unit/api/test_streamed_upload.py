"""POST /assets streams: the body is written to a staging file as it arrives (never held whole, also
with an Idempotency-Key), the CID and content hash are computed on the way and equal those of the
whole file, a file over the cap is a 413 naming the cap in words with nothing left on disk, and a
client that goes away mid-upload leaves nothing behind either. The app is driven as an ASGI server
drives it, so the test sees how far the body was read when each piece is pulled."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from api import create_app, sessions
from api.content import CHUNK_SIZE, ContentDigest, cid_for, content_hash
from api.models import KycApplication, User
from chain.devaccounts import dev_account

pytestmark = pytest.mark.unit

CREATOR = dev_account(1)
LIMIT = 3 * 1024 * 1024
PIECE = 64 * 1024
BOUNDARY = b"s6boundary"


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 174 * CHUNK_SIZE,
                                  174 * CHUNK_SIZE + 1, 2 * 174 * CHUNK_SIZE + 12345])
def test_the_incremental_digest_equals_the_whole_file_digest_whatever_the_pieces(size):
    data = random.Random(size).randbytes(size)  # noqa: S311 (reproducible test bytes)
    pieces = random.Random(size + 1)  # noqa: S311 (reproducible test bytes)
    digest = ContentDigest()
    at = 0
    while at < size:
        step = pieces.choice([1, 7, PIECE, CHUNK_SIZE - 3, CHUNK_SIZE, 3 * CHUNK_SIZE + 5])
        digest.update(data[at:at + step])
        at += step
    assert (digest.cid(), digest.content_hash, digest.size) == (cid_for(data), content_hash(data), size)


@pytest.fixture
def app(api_settings, database):
    settings = api_settings.model_copy(update={"max_upload_bytes": LIMIT})
    return create_app(settings, db=database)


@pytest.fixture
def creator_token(api_settings, database) -> str:
    """A creator whose KYC is approved and synced (what ``KycVerifiedUser`` asks)."""
    did = f"did:pkh:eip155:31337:{CREATOR.address}"
    now = datetime.now(UTC)
    with database.session() as s:
        if s.get(User, did) is None:
            s.add(User(did=did, address=CREATOR.address, roles="", created_at=now))
            s.add(KycApplication(id=f"upload-{os.getpid()}", subject=did, address=CREATOR.address,
                                 state="approved", country="FR", level=2, pii=b"", submitted_at=now,
                                 sync_status="synced"))
        token, _ = sessions.issue(s, api_settings, did, "siwe")
    return token


def _form(data: bytes, filename: str = "work.bin") -> bytes:
    return (b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename.encode()
            + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--" + BOUNDARY + b"--\r\n")


def _content_dir(api_settings) -> Path:
    return api_settings.data_dir / "content"


def _on_disk(api_settings) -> dict[str, int]:
    root = _content_dir(api_settings)
    return {p.name: p.stat().st_size for p in root.iterdir()} if root.exists() else {}


def _drive(app, body: bytes, token: str, *, chunked: bool = False, disconnect_at: int | None = None,
           seen: list[int] | None = None, idempotency_key: str | None = "k-1",
           on_pull: Any = None) -> tuple[int, dict[str, Any]]:
    """Send ``body`` in 64 KiB messages as an ASGI server would; ``on_pull(n)`` runs before the
    n-th message is handed over. Returns (status, answer)."""
    status = 0
    answer: list[bytes] = []
    sent = 0
    count = 0

    async def receive():
        nonlocal sent, count
        if disconnect_at is not None and sent >= disconnect_at:
            return {"type": "http.disconnect"}
        if sent >= len(body):
            return {"type": "http.disconnect"}
        count += 1
        if on_pull is not None:
            on_pull(count)
        piece = body[sent:sent + PIECE]
        sent += len(piece)
        return {"type": "http.request", "body": piece, "more_body": sent < len(body)}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            answer.append(message.get("body", b""))

    headers = [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode()),
               (b"content-type", b"multipart/form-data; boundary=" + BOUNDARY)]
    headers.append((b"transfer-encoding", b"chunked") if chunked
                   else (b"content-length", str(len(body)).encode()))
    if idempotency_key:
        headers.append((b"idempotency-key", idempotency_key.encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/assets", "raw_path": b"/assets", "root_path": "",
             "query_string": b"", "headers": headers, "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80), "state": {}}

    async def main():
        await app(scope, receive, send)

    anyio.run(main)
    raw = b"".join(answer)
    return status, (json.loads(raw) if raw else {})


def test_the_body_is_written_to_disk_as_it_arrives_even_with_an_idempotency_key(app, api_settings,
                                                                                 creator_token):
    data = random.Random(7).randbytes(LIMIT - 1000)  # noqa: S311 (reproducible test bytes)
    staged: list[int] = []

    def look(n: int) -> None:  # before the n-th piece: what the server wrote from pieces 1 .. n-1
        staged.append(sum(_on_disk(api_settings).values()))

    status, answer = _drive(app, _form(data), creator_token, on_pull=look)
    assert status == 201, answer
    assert (answer["cid"], answer["content_hash"], answer["size"]) == (cid_for(data), content_hash(data), len(data))
    # Half-way through the body, more than a third of the file is on disk already: the server did not
    # hold the body until its end (the idempotency layer used to buffer it whole, the route read it whole).
    assert staged[len(staged) // 2] > len(data) // 3, staged[:: max(1, len(staged) // 10)]
    assert _on_disk(api_settings) == {answer["cid"]: len(data)}  # the staging file became the content


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_file_over_the_cap_is_a_413_in_words_with_nothing_left_behind(app, api_settings, creator_token,
                                                                          chunked):
    status, answer = _drive(app, _form(b"x" * (LIMIT + 1)), creator_token, chunked=chunked)
    assert status == 413, answer
    assert answer["type"] == "/problems/too-large" and answer["limit"] == LIMIT
    assert "3 MiB (3145728 bytes)" in answer["detail"] and "nothing was stored" in answer["detail"]
    assert _on_disk(api_settings) == {}


def test_a_file_of_exactly_the_cap_is_taken(app, api_settings, creator_token):
    status, answer = _drive(app, _form(b"y" * LIMIT), creator_token, chunked=True)
    assert status == 201 and answer["size"] == LIMIT, answer
    assert list(_on_disk(api_settings).values()) == [LIMIT]


def test_a_client_that_goes_away_mid_upload_leaves_nothing_behind(app, api_settings, creator_token):
    body = _form(b"z" * (2 * 1024 * 1024))
    _drive(app, body, creator_token, disconnect_at=len(body) // 2)
    assert _on_disk(api_settings) == {}


def test_a_malformed_or_empty_form_is_refused_with_nothing_left_behind(app, api_settings, creator_token):
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {creator_token}"}
    empty = client.post("/assets", files={"file": ("e.txt", b"", "text/plain")}, headers=headers)
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    no_file = client.post("/assets", data={"title": "t"}, files={"other": ("a", b"a")}, headers=headers)
    assert no_file.status_code == 422 and "'file' part" in no_file.json()["detail"]
    broken = client.post("/assets", content=b"--s6boundary\r\nnot a header line",
                         headers={**headers, "Content-Type": "multipart/form-data; boundary=s6boundary"})
    assert broken.status_code in (400, 422), broken.text
    json_body = client.post("/assets", json={"file": "x"}, headers=headers)
    assert json_body.status_code == 422 and "multipart/form-data" in json_body.json()["detail"]
    assert _on_disk(api_settings) == {}


def test_the_same_bytes_again_are_the_same_record(app, api_settings, creator_token):
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {creator_token}", "Idempotency-Key": "same"}
    work = random.Random(3).randbytes(CHUNK_SIZE * 2 + 9)  # noqa: S311 (reproducible test bytes)
    first = client.post("/assets", files={"file": ("a.png", work, "image/png")}, headers=headers)
    again = client.post("/assets", files={"file": ("a.png", work, "image/png")}, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json() and first.json()["media_type"] == "image/png"
    assert first.json()["filename"] == "a.png" and first.json()["cid"] == cid_for(work)
    assert client.get(f"/assets/{first.json()['cid']}/content", headers=headers).content == work
    assert len(_on_disk(api_settings)) == 1


def test_a_caller_without_kyc_is_refused_before_the_body_is_read(app, api_settings, database):
    did = f"did:pkh:eip155:31337:{dev_account(9).address}"
    with database.session() as s:
        s.add(User(did=did, address=dev_account(9).address, roles="", created_at=datetime.now(UTC)))
        token, _ = sessions.issue(s, api_settings, did, "siwe")
    pulled: list[int] = []
    status, answer = _drive(app, _form(b"w" * (2 * 1024 * 1024)), token, on_pull=pulled.append)
    assert status == 403 and "KYC" in answer["detail"]
    assert len(pulled) <= 1 and _on_disk(api_settings) == {}
