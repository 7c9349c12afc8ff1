"""Server render time of the work page beside the JSON provenance route of a token with 100 indexed
events, in one run (no chain: the one chain read of the provenance route is stubbed), p50 and p95 over
N requests each. Usage: PYTHONPATH=. .venv/bin/python tools/measure-webapp.py [N]"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert

from api import create_app
from api.routers import provenance
from api.settings import ApiSettings
from record.index.store import chain_checkpoints, chain_events

COLLECTION = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TOKEN_ID = str(7)
HOLDERS = [f"0x{n:040x}" for n in range(1, 12)]


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(ApiSettings(environment="test", data_dir=Path(tmp)))
        app.state.gateway.immutable_call = lambda key, fn: 7  # the token's work id, without a chain
        client = TestClient(app)
        with app.state.db.engine.begin() as conn:
            conn.execute(insert(chain_checkpoints).values(chain_id=31337, next_block=200,
                                                          updated_at=datetime.now(UTC)))
            for i in range(100):  # a token sold 100 times
                conn.execute(insert(chain_events).values(
                    chain_id=31337, block_number=i + 1, block_hash="0x" + f"{i:064x}",
                    block_time=1_700_000_000 + i, tx_hash="0x" + f"{i + 1:064x}", log_index=0,
                    address=COLLECTION, contract="CreatorCollection", event="Transfer",
                    ref_address=COLLECTION, token_id=TOKEN_ID,
                    args=json.dumps({"from": HOLDERS[i % 11], "to": HOLDERS[(i + 1) % 11], "tokenId": 7})))
        routes = {"work page (HTML)": f"/work/31337/{COLLECTION}/7",
                  "provenance JSON (cached)": f"/provenance/31337/{COLLECTION}/7",
                  "provenance JSON (uncached)": f"/provenance/31337/{COLLECTION}/7"}
        assert len(client.get(routes["provenance JSON (cached)"]).json()["entries"]) == 100
        for name, path in routes.items():
            times = []
            for _ in range(n):
                if "uncached" in name:
                    provenance._CACHE.clear()
                start = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            print(f"{name:28} p50 {statistics.median(times):6.2f} ms  p95 {p95:6.2f} ms  ({n} requests, "
                  f"{len(r.content)} bytes)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
