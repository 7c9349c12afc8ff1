"""chainright.logs: the role tag of each entry point and the JSON line's fields."""

from __future__ import annotations

import json
import logging

import pytest

from chainright.logs import JsonFormatter, configure_logging, role_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("argv", "role"), [
    (["api", "run"], "api"),
    (["indexer", "run", "--chain", "home"], "indexer"),
    (["relayer", "run", "--role", "validator", "--validator-index", "2"], "relayer[validator-2]"),
    (["relayer", "run", "--role", "validator", "-i", "1"], "relayer[validator-1]"),
    (["relayer", "run", "--role", "validator"], "relayer[validator-0]"),
    (["relayer", "run", "--role", "submitter"], "relayer[submitter]"),
    (["relayer", "run"], "relayer"),
    (["up"], "up"),
    ([], None),
])
def test_role_of(argv, role):
    assert role_of(argv) == role


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("bridge.relayer", logging.WARNING, __file__, 1, msg, args, None)
    rec.__dict__.update(extra)
    return rec


def test_a_json_line_has_the_fields_and_the_request_id_only_inside_a_request():
    line = JsonFormatter("indexer").format(record("lag %d blocks", 5, request_id="-"))
    entry = json.loads(line)
    assert entry.keys() == {"time", "level", "logger", "message", "role"}
    assert entry["message"] == "lag 5 blocks" and entry["level"] == "WARNING" and entry["time"].endswith("Z")
    inside = json.loads(JsonFormatter("api").format(record("x", request_id="req-12345678")))
    assert inside["request_id"] == "req-12345678" and inside["role"] == "api"


def test_an_exception_stays_inside_one_line():
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        import sys

        rec = logging.LogRecord("api", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(rec)
    assert "\n" not in line and "ValueError" in json.loads(line)["exc_info"]


def test_configure_logging_json_replaces_the_root_handler():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(["indexer", "run"], {"CHAINRIGHT_LOG_FORMAT": "json", "CHAINRIGHT_LOG_LEVEL": "info"})
        assert len(root.handlers) == 1 and isinstance(root.handlers[0].formatter, JsonFormatter)
        assert root.level == logging.INFO
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
