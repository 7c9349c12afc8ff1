"""The consortium's fork watchdog: ``python -m devnet.consortium.watch SETTINGS_JSON``.

Started by ``Consortium.up`` beside the geth nodes (PID and state in ``run/watchdog.json``, log in
``logs/watchdog.log``) and stopped by ``Consortium.down``. Every ``watch_interval_s`` it observes
every running node's head (``Consortium.observe``), lets ``devnet.consortium.forks.diagnose`` decide, and on a
fork deadlock heals it (``Consortium.heal``): the losing nodes are rewound to the common ancestor,
take the winning blocks and seal again; the transactions of their dropped blocks are sent again.
A partition is reported and waited out. It writes what it saw to ``run/watchdog.json`` after every
look, so ``chainright consortium status`` can show the state and the recoveries.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path
from types import FrameType

from chain.errors import ChainError
from devnet.consortium import Consortium, ConsortiumSettings

log = logging.getLogger("devnet.consortium.watch")
_KEEP = 20
"""Recoveries kept in the state file."""


def _write_state(path: Path, state: dict[str, object]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)


def watch(consortium: Consortium) -> None:
    """Look, decide, heal, record; until SIGTERM/SIGINT, or until no node of ours runs for 30 s."""
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    state_file = consortium.settings.run_dir / "watchdog.json"
    previous = consortium.watchdog_status() or {}
    recoveries: list[dict[str, object]] = list(previous.get("recoveries", []))
    state: dict[str, object] = {"pid": os.getpid(), "started_at": time.time(), "recoveries": recoveries}
    last_kind = ""
    idle_since: float | None = None
    interval = consortium.settings.watch_interval_s
    while not stopping:
        try:
            if not consortium.running_nodes():
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 30:
                    log.info("no node of the network runs any more; the watchdog stops")
                    break
                time.sleep(interval)
                continue
            idle_since = None
            verdict = consortium.diagnose()
            if verdict.kind != last_kind:
                log.log(logging.WARNING if verdict.kind in ("deadlock", "partitioned", "stalled")
                        else logging.INFO, "%s: %s", verdict.kind, verdict.detail)
                last_kind = verdict.kind
            if verdict.kind == "deadlock":
                report = consortium.heal()
                if report is not None:
                    log.warning("healed: rewound %s; %d transaction(s) of the dropped blocks sent "
                                "again (%d new)", report.rewound, report.transactions, report.resent)
                    recoveries.append(asdict(report))
                    del recoveries[:-_KEEP]
            state.update(state=verdict.kind, detail=verdict.detail, checked_at=time.time())
            _write_state(state_file, state)
        except ChainError as exc:
            log.warning("could not observe the network: %s", exc)
        time.sleep(interval)
    state.update(state="stopped", checked_at=time.time())
    _write_state(state_file, state)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s watchdog %(levelname)s %(message)s")
    if len(argv) != 1:
        print("usage: python -m devnet.consortium.watch SETTINGS_JSON", file=sys.stderr)
        return 2
    settings = ConsortiumSettings.model_validate_json(Path(argv[0]).read_text())
    watch(Consortium(settings, progress=log.info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
