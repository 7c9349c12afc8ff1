"""Log setup for every ``chainright`` entry point (the only place handlers are configured).

``CHAINRIGHT_LOG_FORMAT=json`` writes one JSON object per line: ``time`` (UTC, ISO 8601), ``level``,
``logger``, ``message``, ``request_id`` (inside an API request), ``role`` (which worker wrote it:
``api``, ``indexer``, ``relayer[validator-0]``, ``relayer[submitter]``, ``up`` ...) and ``exc_info``
when an exception is logged. Any other value (or none) keeps the plain text lines.
``CHAINRIGHT_LOG_LEVEL`` sets the level (default WARNING).

What is logged is decided where it is logged: no module logs keys, KYC documents or personal data;
this formatter adds nothing but the fields above.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    structured = True
    """Marks a formatter that other setup code (api.requestid) must not replace."""

    def __init__(self, role: str | None = None) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        if self.role:
            entry["role"] = self.role
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def role_of(argv: Sequence[str]) -> str | None:
    """The role tag of a command line: ``relayer run --role validator -i 1`` -> ``relayer[validator-1]``."""
    words = [a for a in argv if not a.startswith("-")]
    if not words:
        return None
    if words[0] == "relayer" and "--role" in argv:
        role = argv[argv.index("--role") + 1] if argv.index("--role") + 1 < len(argv) else "all"
        if role == "validator":
            index = "0"
            for flag in ("--validator-index", "-i"):
                if flag in argv and argv.index(flag) + 1 < len(argv):
                    index = argv[argv.index(flag) + 1]
            return f"relayer[validator-{index}]"
        return f"relayer[{role}]"
    return words[0]


def json_logs(env: Mapping[str, str] = os.environ) -> bool:
    return env.get("CHAINRIGHT_LOG_FORMAT", "").strip().lower() == "json"


def configure_logging(argv: Sequence[str], env: Mapping[str, str] = os.environ) -> None:
    """Configure the root logger once, at the entry point."""
    level = env.get("CHAINRIGHT_LOG_LEVEL", "WARNING").upper()
    if json_logs(env):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter(role_of(argv)))
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        handler = logging.StreamHandler()
        formatter = logging.Formatter(TEXT_FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")
        formatter.converter = time.gmtime  # UTC, ISO 8601, like every time the console prints
        handler.setFormatter(formatter)
        logging.basicConfig(level=level, handlers=[handler])
