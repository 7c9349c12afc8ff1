"""Request ids: taken from ``X-Request-ID`` (if sane) or made, echoed back, and put on log lines.

The middleware is also the last line of defence: an exception no handler took is logged with
the request id and answered with a 500 problem document that carries the id and no internals.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
log = logging.getLogger(__name__)
_SANE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
"""The API's log line: every line written while a request runs names its id."""

_installed = False


def install_request_id_logging(configure_root: bool = False) -> None:
    """Give every log record a ``request_id`` (the running request's, ``-`` outside one), whatever
    logger or handler it goes through: the record factory is wrapped once per process (a filter on
    one logger would miss its children). With ``configure_root`` (``api run``), the root handlers
    also get ``LOG_FORMAT`` and the filter, so the id is printed."""
    global _installed
    if not _installed:
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            record.request_id = _request_id.get() or "-"
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
    if configure_root:
        root = logging.getLogger()
        if not root.handlers:
            root.addHandler(logging.StreamHandler())
        for handler in root.handlers:
            if not getattr(handler.formatter, "structured", False):  # JSON lines carry the id already
                handler.setFormatter(logging.Formatter(LOG_FORMAT))
            if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                handler.addFilter(RequestIdFilter())


class RequestIdMiddleware:
    """Pure ASGI middleware (works with streaming bodies)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SANE.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(rid)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s %s (request %s)", scope.get("method"),
                          scope.get("path"), rid)
            if started:
                raise
            body = json.dumps({
                "type": "about:blank", "title": "Internal error", "status": 500,
                "detail": "the server failed to handle this request; it was logged with the request id",
                "instance": scope.get("path", ""), "request_id": rid,
            }).encode()
            await send_with_id({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode())]})
            await send_with_id({"type": "http.response.body", "body": body})
        finally:
            _request_id.reset(token)
