"""Every request body is bounded before it is read, and a route that needs a session checks the
session before it reads a byte of the body (an ASGI middleware, outside everything that buffers).

- Each route has a cap: a route taking an upload (``File``/``Form`` parameters, or ``UploadDep``) accepts
  ``max_upload_bytes`` plus ``MULTIPART_OVERHEAD`` for the form's framing; every other route
  (JSON bodies) accepts ``max_json_bytes``. A path no route serves gets the JSON cap.
- A declared ``Content-Length`` over the cap is answered 413 at once, nothing read. A body sent
  without one (chunked) is counted as it streams; at the first byte over the cap the request is
  aborted: whatever the route was doing with it is dropped and the answer is the 413. The 413 says
  ``Connection: close`` (the rest of the body is never read).
- A route whose dependencies include ``CurrentUser`` is answered 401 before its body is read when
  the ``Authorization`` header does not name a live session (the route still checks it again).

The problem documents (413, 401) are built in ``api.problems``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.callers import CallerCache
from api.db import Database
from api.errors import UnauthorizedError
from api.problems import error_problem, too_large
from api.settings import ApiSettings

MULTIPART_OVERHEAD = 64 * 1024
"""Room for a multipart form's boundaries, part headers and small fields beside the file."""


@dataclass(frozen=True)
class RoutePolicy:
    cap: int
    """The most bytes of body the route reads."""
    needs_session: bool
    """The route depends on ``CurrentUser``: a missing or dead session is a 401 before the body."""


class _BodyTooLargeError(Exception):
    """Raised inside the app's ``receive`` at the first byte over the cap (never leaves this module)."""


def _dependency_calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependency_calls(sub)


def _takes_upload(dependant: Dependant) -> bool:
    from api.deps import upload_body

    if any(isinstance(f.field_info, params.Form) for f in dependant.body_params):  # File is a Form
        return True
    if dependant.call is upload_body:  # a streamed upload (api.uploads)
        return True
    return any(_takes_upload(sub) for sub in dependant.dependencies)


def route_policy(dependant: Dependant | None, settings: ApiSettings) -> RoutePolicy:
    """The cap and session rule of a route, read from its parameters and dependencies."""
    from api.deps import current_user

    if dependant is None:
        return RoutePolicy(settings.max_json_bytes, False)
    cap = (settings.max_upload_bytes + MULTIPART_OVERHEAD if _takes_upload(dependant)
           else settings.max_json_bytes)
    return RoutePolicy(cap, any(call is current_user for call in _dependency_calls(dependant)))


def _first_segment(path: str | None) -> str | None:
    """A route path's first segment when it is a plain word, else None (a parameter, the root, a
    route without a path): such a route may serve any first segment."""
    first = (path or "").lstrip("/").split("/", 1)[0]
    return first if first and "{" not in first else None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, api: FastAPI, db: Database, settings: ApiSettings,
                 callers: CallerCache | None = None) -> None:
        self.app = app
        self.api = api
        self.db = db
        self.settings = settings
        self.callers = callers if callers is not None else CallerCache(0)
        self._policies: dict[int, RoutePolicy] = {}
        self._routes_seen: tuple[int, int] | None = None
        self._buckets: dict[str, list[Any]] = {}
        self._anywhere: list[Any] = []

    def _candidates(self, scope: Scope) -> list[Any]:
        """The routes that could serve ``scope``, in the app's order: those whose path starts with the
        request's first segment, and those whose first segment is a parameter (a route whose first
        segment is another word cannot match). Rebuilt when a route is added after the app was built."""
        routes = self.api.routes
        seen = (id(routes), len(routes))
        if seen != self._routes_seen:
            ordered = list(iter_route_contexts(routes))
            firsts = [_first_segment(context.path) for context in ordered]
            words = {first for first in firsts if first is not None}
            self._buckets = {word: [c for c, f in zip(ordered, firsts, strict=True) if f in (word, None)]
                             for word in words}
            self._anywhere = [c for c, f in zip(ordered, firsts, strict=True) if f is None]
            self._routes_seen = seen
        path = scope["path"]
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root):]
        return self._buckets.get(path.lstrip("/").split("/", 1)[0], self._anywhere)

    def policy(self, scope: Scope) -> RoutePolicy:
        """The policy of the route that will serve ``scope`` (routes are read again when one is added
        after the app was built; policies are cached per route)."""
        for context in self._candidates(scope):
            match, _ = context.matches(scope)
            if match is Match.FULL:
                key = id(context.original_route)
                if key not in self._policies:
                    self._policies[key] = route_policy(getattr(context, "dependant", None), self.settings)
                return self._policies[key]
        return RoutePolicy(self.settings.max_json_bytes, False)

    def _check_session(self, authorization: str | None) -> None:
        self.callers.session(self.db, self.settings, authorization)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy(scope)
        path = scope["path"]
        headers = dict(scope.get("headers") or [])
        if policy.needs_session:
            raw = headers.get(b"authorization")
            header = raw.decode("latin-1") if raw else None
            try:
                if self.callers.peek("session", header or "") is None:  # a kept session needs no thread
                    await to_thread.run_sync(self._check_session, header)
            except UnauthorizedError as exc:
                await error_problem(exc, path)(scope, receive, send)
                return
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > policy.cap:
            await too_large(policy.cap, path)(scope, receive, send)
            return

        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _BodyTooLargeError
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > policy.cap:
                    exceeded = True
                    raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the route's own answer to an aborted body (a 400) is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await too_large(policy.cap, path)(scope, receive, send)
