"""Where the API spends a sale: ``chainright bench profile`` counts, per route, CPU, SQL and JSON-RPC.

The API runs in its own process (``python -m bench.profile serve PORT``) wrapped in
``RequestProfile``, an ASGI middleware that records for every request its wall time, the
process's CPU time, the SQL statements and commits its engines ran and the JSON-RPC posts it made.
One buyer sells one listing at a time and then carts, so requests never overlap and the process's
CPU during a request is that request's. When ``py-spy`` is on the PATH it samples the API process
meanwhile, and the report adds the functions that hold the most samples (inclusive), all threads.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["RequestProfile", "hot_functions", "install_counters", "route_of", "run_profile"]

_HEX = re.compile(r"0x[0-9a-fA-F]{8,}")


def route_of(method: str, path: str) -> str:
    """A request's route as the report groups it: long hex values (hashes, addresses) as ``{hex}``."""
    return f"{method} {_HEX.sub('{hex}', path)}"


_totals = Counter[str]()
"""Process-wide counts (all threads): a sync route runs its dependencies and body in worker threads."""
_lock = threading.Lock()
_installed = False


def _bump(name: str) -> None:
    with _lock:
        _totals[name] += 1


def install_counters() -> None:
    """Count every SQL statement and commit of any engine, and every HTTP request the process sends
    through ``http.client`` (web3's provider through urllib3, the raw JSON-RPC client)."""
    global _installed
    if _installed:
        return
    _installed = True
    event.listen(Engine, "before_cursor_execute", lambda *a, **k: _bump("sql"))
    event.listen(Engine, "commit", lambda *a, **k: _bump("commits"))
    original = http.client.HTTPConnection.endheaders

    def endheaders(self: http.client.HTTPConnection, *args: Any, **kwargs: Any) -> Any:
        _bump("rpc")
        return original(self, *args, **kwargs)

    http.client.HTTPConnection.endheaders = endheaders  # type: ignore[method-assign]


PROFILE_PATH = "/_profile"
"""``GET`` it on a profiled server: the sums so far, as JSON, and the counters start again."""


class RequestProfile:
    """ASGI middleware: per route, the requests, wall ms, CPU ms, SQL statements, commits and
    outgoing HTTP (JSON-RPC) requests, summed; ``GET /_profile`` answers them and starts again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes: dict[str, dict[str, float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == PROFILE_PATH:
            body, self.routes = json.dumps(self.routes).encode(), {}
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        with _lock:
            before = dict(_totals)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            await self.app(scope, receive, send)
        finally:
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            with _lock:
                after = dict(_totals)
            row = self.routes.setdefault(route_of(scope["method"], scope["path"]), {
                "requests": 0, "wall_ms": 0.0, "cpu_ms": 0.0, "sql": 0, "commits": 0, "rpc": 0})
            row["requests"] += 1
            row["wall_ms"] += wall * 1000
            row["cpu_ms"] += cpu * 1000
            for name in ("sql", "commits", "rpc"):
                row[name] += after.get(name, 0) - before.get(name, 0)


def per_request(routes: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The sums of ``RequestProfile`` as means per request."""
    keys = ("wall_ms", "cpu_ms", "sql", "commits", "rpc")
    return {route: {"requests": int(row["requests"]), **{k: round(row[k] / row["requests"], 2) for k in keys}}
            for route, row in sorted(routes.items()) if row["requests"]}


OWN = re.compile(r"\((api|chain|record|did)/")
"""Frames of our packages, as py-spy names them (``create_order (api/routers/market.py)``)."""


def hot_functions(raw: str, top: int = 25) -> list[tuple[str, float]]:
    """From py-spy's raw (collapsed) stacks: the functions of our packages holding the largest share
    of the samples, inclusive (counted once per sample however deep they recurse), then ``self:``
    the leaf functions (any package) where the samples were taken."""
    own: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        samples = int(n)
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]  # py-spy leaves idle threads out
        total += samples
        leaves[frames[-1]] += samples
        for frame in set(frames):
            if OWN.search(frame):
                own[frame] += samples
    if not total:
        return []
    return ([(f, round(100 * c / total, 1)) for f, c in own.most_common(top)]
            + [("self: " + f, round(100 * c / total, 1)) for f, c in leaves.most_common(top)])


@contextmanager
def _py_spy(pid: int, out: Path) -> Iterator[Path | None]:
    exe = shutil.which("py-spy")
    if exe is None:
        yield None
        return
    proc = subprocess.Popen([exe, "record", "-p", str(pid), "--format", "raw", "-o", str(out), "-r", "250",
                             "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield out
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_profile(sales: int, cart: int, say: Callable[[str], None]) -> dict[str, Any]:
    """Sell ``sales`` listings one by one, then ``sales`` in carts of ``cart``, through the API by
    one buyer on a fresh local platform; the API's per-request profile of each run."""
    import httpx

    from bench.platform import LocalPlatform, _sales_desk, _sell, process_cpu_s

    report: dict[str, Any] = {"sales": sales, "cart": cart, "py_spy": shutil.which("py-spy") is not None}
    with LocalPlatform(say) as platform, \
            _sales_desk(platform, 2 * sales, 1, say, serve=_profiled_argv) as desk:
        work = platform.data_dir
        httpx.get(desk.base + PROFILE_PATH, timeout=30)  # the setup's requests are not counted
        for kind, batch, first in (("single", 1, 1), ("cart", cart, sales + 1)):
            with _py_spy(desk.api_pid, work / f"py-spy-{kind}.txt") as stacks:
                cpu0 = process_cpu_s(desk.api_pid)
                _sell(desk, list(range(first, first + sales)), batch, say)
                cpu = process_cpu_s(desk.api_pid) - cpu0
            report[f"{kind}_api_cpu_ms_per_sale"] = round(cpu * 1000 / sales, 2)
            counted = httpx.get(desk.base + PROFILE_PATH, timeout=30).json()
            report[f"{kind}_per_request"] = per_request(counted)
            if stacks is not None and stacks.exists():
                report[f"{kind}_hot_functions"] = hot_functions(stacks.read_text())
    return report


def _profiled_argv(port: int) -> list[str]:
    return ["-m", "bench.profile", "serve", str(port)]


def table(report: dict[str, Any]) -> str:
    """The per-request split as text, one line a route."""
    lines = []
    for kind in ("single", "cart"):
        lines.append(f"{kind}: API CPU per sale {report[f'{kind}_api_cpu_ms_per_sale']} ms "
                     "(whole process, setup requests excluded)")
        lines.append(f"  {'route':<44} {'n':>4} {'wall ms':>8} {'cpu ms':>7} {'sql':>5} {'commit':>6} "
                     f"{'rpc':>4}")
        for route, row in report[f"{kind}_per_request"].items():
            lines.append(f"  {route[:44]:<44} {row['requests']:>4} {row['wall_ms']:>8} {row['cpu_ms']:>7} "
                         f"{row['sql']:>5} {row['commits']:>6} {row['rpc']:>4}")
        for frame, share in report.get(f"{kind}_hot_functions", []):
            lines.append(f"  {share:>5}%  {frame[:110]}")
    return "\n".join(lines)


def serve_profiled(port: int) -> None:
    """``python -m bench.profile serve PORT``: the API from the environment's settings, wrapped in
    ``RequestProfile``, served by uvicorn until SIGTERM."""
    import uvicorn

    from api import create_app
    from api.settings import ApiSettings

    install_counters()
    uvicorn.run(RequestProfile(create_app(ApiSettings())), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] != ["serve"] or len(sys.argv) != 3:
        raise SystemExit("usage: python -m bench.profile serve PORT")
    serve_profiled(int(sys.argv[2]))
