"""A real API process (uvicorn, spawned here) under 20 concurrent 24 MiB request bodies, sent with a
Content-Length or chunked without one, to a JSON route (SIWE login) and to the upload route (limit
1 MiB) with and without a session: each is answered 413/401 before the client has sent its body,
and the process's peak resident memory (VmHWM) stays flat."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from api.db import Database
from api.settings import ApiSettings
from chain.ports import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
OVERSIZE = 24 * 1024 * 1024
CHUNK = 64 * 1024
CONCURRENT = 20
GROWTH_BOUND = 50 * 1024 * 1024


def _peak_rss(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) of ``pid`` in bytes: the peak resident set since start, and the current one."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":" in line)
    return (int(fields["VmHWM"].split()[0]) * 1024, int(fields["VmRSS"].split()[0]) * 1024)


def _request(port: int, path: str, chunked: bool, token: str | None) -> tuple[int, int]:
    """Stream a 24 MiB body until the server answers; returns (status, body bytes sent)."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    if path == "/assets":
        head.append("Content-Type: multipart/form-data; boundary=xyz")
    else:
        head.append("Content-Type: application/json")
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {OVERSIZE}")
    if token:
        head.append(f"Authorization: Bearer {token}")
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        piece = b"x" * CHUNK
        frame = f"{CHUNK:x}\r\n".encode() + piece + b"\r\n" if chunked else piece
        if path == "/assets":  # a well-formed file part, so the form parser reads on
            part = (b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
                    b"Content-Type: application/octet-stream\r\n\r\n").ljust(CHUNK, b"x")
            sock.sendall(f"{CHUNK:x}\r\n".encode() + part + b"\r\n" if chunked else part)
            sent += CHUNK
        while sent < OVERSIZE:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the server answered (or closed) before the body was sent
            try:
                sock.sendall(frame)
            except OSError:
                break
            sent += CHUNK
        if chunked and sent >= OVERSIZE:
            try:
                sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass
        answer = b""
        deadline = time.monotonic() + 60
        while b"\r\n" not in answer and time.monotonic() < deadline:
            try:
                data = sock.recv(4096)
            except OSError:
                break
            if not data:
                break
            answer += data
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, sent


@pytest.fixture
def api_process(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHAINRIGHT_API_ENVIRONMENT": "test",
           "CHAINRIGHT_API_DATA_DIR": str(tmp_path), "CHAINRIGHT_API_MAX_UPLOAD_BYTES": str(1024 * 1024)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    # /health/live: the process answers (/health is readiness, 503 with no chain here)
                    s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()  # before reading its stderr: a live process never closes the pipe
                _, err = proc.communicate(timeout=10)
                raise RuntimeError(f"the API did not start within 60 s: {err.decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield proc, port, tmp_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_twenty_concurrent_oversize_bodies_leave_the_process_memory_flat(api_process):
    from datetime import UTC, datetime

    from api import sessions
    from api.models import KycApplication, User
    from chain.devaccounts import dev_account

    proc, port, data_dir = api_process
    settings = ApiSettings(environment="test", data_dir=data_dir)
    db = Database(settings.effective_database_url)
    did = f"did:pkh:eip155:31337:{dev_account(1).address}"
    now = datetime.now(UTC)
    with db.session() as s:
        s.add(User(did=did, address=dev_account(1).address, roles="", created_at=now))
        # KYC'd: the upload route checks KYC before it reads a byte, so without it the answer is a 403;
        # with it the route streams the file part and cuts it at the cap (the 413 under test)
        s.add(KycApplication(id="limits-kyc", subject=did, address=dev_account(1).address, state="approved",
                             country="FR", level=2, pii=b"", submitted_at=now, sync_status="synced"))
        token, _ = sessions.issue(s, settings, did, "siwe")

    kinds = [("/auth/siwe/login", False, None), ("/auth/siwe/login", True, None),
             ("/assets", True, None), ("/assets", False, token), ("/assets", True, token)]
    for path, chunked, bearer in kinds:  # warm up every code path once
        _request(port, path, chunked, bearer)
    base_peak, base_rss = _peak_rss(proc.pid)

    results: list[tuple[str, bool, bool, int, int]] = []
    lock = threading.Lock()

    def attack(n: int) -> None:
        path, chunked, bearer = kinds[n % len(kinds)]
        status, sent = _request(port, path, chunked, bearer)
        with lock:
            results.append((path, chunked, bearer is not None, status, sent))

    threads = [threading.Thread(target=attack, args=(n,)) for n in range(CONCURRENT)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    elapsed = time.monotonic() - started
    peak, rss = _peak_rss(proc.pid)
    growth = peak - base_peak
    print(f"\nAPI process RSS: peak before {base_peak / 2**20:.1f} MiB (current {base_rss / 2**20:.1f} MiB); "
          f"after {CONCURRENT} concurrent 24 MiB bodies: peak {peak / 2**20:.1f} MiB (current "
          f"{rss / 2**20:.1f} MiB), growth {growth / 2**20:.1f} MiB, {elapsed:.1f} s; body bytes sent "
          f"before the answer: max {max(r[4] for r in results) / 2**20:.1f} MiB")
    assert len(results) == CONCURRENT
    for path, chunked, has_session, status, sent in results:
        expected = 413 if path == "/auth/siwe/login" or has_session else 401
        assert status == expected, (path, chunked, has_session, status)
        assert sent < OVERSIZE, f"{path} read the whole body before answering"
    assert growth < GROWTH_BOUND
