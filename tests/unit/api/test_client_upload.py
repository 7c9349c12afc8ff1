"""The CLI's client sends an upload streamed from disk: the file is read in pieces of at most 64 KiB
as the request goes out (never whole), the request carries its length, and the progress callback
sees every byte, ending at 100%."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from api.client import ChainrightClient, ClientError

pytestmark = pytest.mark.unit

PIECE = 64 * 1024


def test_the_file_is_read_in_pieces_as_it_is_sent_with_progress(tmp_path: Path, monkeypatch):
    work = tmp_path / "film.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    work.write_bytes(data)
    reads: list[int] = []
    real_open = Path.open

    def watched_open(self, *args, **kwargs):  # every read of the work's file is recorded
        handle = real_open(self, *args, **kwargs)
        if self == work:
            read = handle.read

            def counted(size=-1):
                chunk = read(size)
                reads.append(len(chunk))
                return chunk

            handle.read = counted
        return handle

    monkeypatch.setattr(Path, "open", watched_open)
    received: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        received["length"] = int(request.headers["content-length"])
        received["body"] = request.read()
        return httpx.Response(201, json={"cid": "b", "size": len(data)})

    progress: list[tuple[int, int]] = []
    client = ChainrightClient("http://api.test", None, 31337, transport=httpx.MockTransport(handler))
    assert client.upload(work, lambda sent, total: progress.append((sent, total)))["size"] == len(data)
    assert reads and max(reads) <= PIECE and sum(reads) == len(data)
    assert len(progress) >= len(data) // PIECE and progress[-1] == (len(data), len(data))
    assert [s for s, _ in progress] == sorted(s for s, _ in progress)
    body = received["body"]
    assert isinstance(body, bytes) and data in body and received["length"] == len(body)


def test_a_missing_file_is_a_clear_error(tmp_path: Path):
    client = ChainrightClient("http://api.test", None, 31337,
                              transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    with pytest.raises(ClientError, match="no file at"):
        client.upload(tmp_path / "nope.bin")
