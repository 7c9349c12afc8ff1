"""How much memory does the API hold for one large upload? (``python -m bench.upload_memory``)

Starts the API (uvicorn, its own process, SQLite in a temporary data directory) from a source tree
(``--source``: this checkout by default; another checkout's path measures the code there), gives a
creator an approved KYC and a session, warms the upload path with a small file, then sends one file
of ``--mib`` MiB as ``chainright upload`` sends it (multipart, streamed from disk, with an
``Idempotency-Key``) and reads the process's peak resident set (``VmHWM`` in ``/proc/<pid>/status``)
before and after. Memory, not time: the figure does not depend on the machine's load. Never a
timed test; ``tests/integration/test_upload_memory.py`` asserts a bound with the same helpers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from chain.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024


def memory(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) of ``pid`` in bytes: the peak resident set since it started, and the current one."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":" in line)
    return int(fields["VmHWM"].split()[0]) * 1024, int(fields["VmRSS"].split()[0]) * 1024


@dataclass
class ApiProcess:
    proc: subprocess.Popen[bytes]
    url: str
    data_dir: Path


@contextmanager
def api_process(data_dir: Path, *, source: Path = ROOT,
                max_upload_bytes: int = 50 * MIB) -> Iterator[ApiProcess]:
    """The API served by uvicorn from ``source`` on a free loopback port, stopped (by its pid) at the end."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(source), "CHAINRIGHT_API_ENVIRONMENT": "test",
           "CHAINRIGHT_API_DATA_DIR": str(data_dir), "CHAINRIGHT_API_MAX_UPLOAD_BYTES": str(max_upload_bytes)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=source, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health/live", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate(timeout=10)
                raise RuntimeError(f"the API did not start: {err.decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield ApiProcess(proc, url, data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def verified_creator_token(data_dir: Path) -> str:
    """A session for a creator whose KYC is approved and synced, written straight into the API's
    database (the upload route asks for a verified caller; KYC itself is not what is measured)."""
    from api import sessions
    from api.db import Database
    from api.models import KycApplication, User
    from api.settings import ApiSettings
    from chain.devaccounts import dev_account

    settings = ApiSettings(environment="test", data_dir=data_dir)
    creator = dev_account(1)
    did = f"did:pkh:eip155:31337:{creator.address}"
    now = datetime.now(UTC)
    db = Database(settings.effective_database_url)
    with db.session() as s:
        if s.get(User, did) is None:
            s.add(User(did=did, address=creator.address, roles="", created_at=now))
            s.add(KycApplication(id=uuid.uuid4().hex, subject=did, address=creator.address, state="approved",
                                 country="FR", level=2, pii=b"", submitted_at=now, sync_status="synced"))
        token, _ = sessions.issue(s, settings, did, "siwe")
    return token


def upload(url: str, token: str, path: Path) -> dict[str, Any]:
    """POST /assets as the CLI does: the file streamed from disk, an Idempotency-Key sent."""
    from api.client import ProgressReader

    with path.open("rb") as source:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        reader: Any = ProgressReader(source, None)  # a file object to httpx (read, seek, fileno)
        response = httpx.post(f"{url}/assets", files={"file": (path.name, reader)},
                              headers=headers, timeout=300)
    if response.status_code != 201:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:500]}")
    return dict(response.json())


def write_file(path: Path, size: int) -> Path:
    """``size`` bytes that do not compress or repeat at chunk scale (written in 1 MiB pieces)."""
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(MIB, left))
            out.write(piece)
            left -= len(piece)
    return path


def measure(api: ApiProcess, size: int, work_dir: Path) -> dict[str, Any]:
    """Warm the upload path with a small file, then upload ``size`` bytes; the API's peak RSS before
    and after the large upload."""
    token = verified_creator_token(api.data_dir)
    upload(api.url, token, write_file(work_dir / "warm.bin", 300 * 1024))
    big = write_file(work_dir / "big.bin", size)
    peak_before, _ = memory(api.proc.pid)
    started = time.monotonic()
    answer = upload(api.url, token, big)
    seconds = time.monotonic() - started
    peak_after, rss_after = memory(api.proc.pid)
    return {"file_bytes": size, "size_stored": answer["size"], "peak_rss_before_bytes": peak_before,
            "peak_rss_after_bytes": peak_after, "peak_rss_growth_bytes": peak_after - peak_before,
            "rss_after_bytes": rss_after, "upload_seconds": round(seconds, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.upload_memory",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mib", type=int, default=45, help="size of the uploaded file (default 45 MiB)")
    parser.add_argument("--source", type=Path, default=ROOT, help="the source tree the API runs from")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="upload-memory-") as tmp:
        data_dir, work_dir = Path(tmp) / "data", Path(tmp) / "work"
        data_dir.mkdir()
        work_dir.mkdir()
        with api_process(data_dir, source=args.source.resolve()) as api:
            figures = measure(api, args.mib * MIB, work_dir)
    figures["source"] = str(args.source.resolve())
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"source: {figures['source']}")
    print(f"upload of {args.mib} MiB ({figures['file_bytes']} bytes) in {figures['upload_seconds']} s")
    print(f"API peak RSS before: {figures['peak_rss_before_bytes'] / MIB:.1f} MiB, "
          f"after: {figures['peak_rss_after_bytes'] / MIB:.1f} MiB, "
          f"growth: {figures['peak_rss_growth_bytes'] / MIB:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
