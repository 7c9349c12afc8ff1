"""A real, throwaway PostgreSQL server for tests: initdb in a temporary folder, started on a free
loopback port, stopped by pg_ctl at the end. Uses Debian's postgresql binaries (installed by
.ci/run with apt). Runs as the `postgres` system user when we are root (initdb refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chain.ports import free_port


class PostgresUnavailableError(RuntimeError):
    """Raised when no PostgreSQL server binaries are installed."""


def find_pg_bin() -> Path:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailableError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install them with "
        "'apt-get install -y postgresql' (.ci/run does), or run only the SQLite backend with "
        "CHAINRIGHT_TEST_DATABASES=sqlite"
    )


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh database on a private PostgreSQL server."""
    pg_bin = find_pg_bin()
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="chainright-pg-"))
    data, sock = base / "data", base / "sock"
    data.mkdir()
    sock.mkdir()
    if as_root:
        shutil.chown(base, "postgres")
        shutil.chown(data, "postgres")
        shutil.chown(sock, "postgres")
        base.chmod(0o755)

    def run(*argv: str) -> None:
        cmd = list(argv)
        if as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    port = free_port()
    run(str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    run(str(pg_bin / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        run(str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
            "chainright")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/chainright"
    finally:
        run(str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
