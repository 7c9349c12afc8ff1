"""The indexer's reads over raw JSON-RPC on one kept-alive HTTP connection (no web3 formatters:
logs and headers come back as the node's JSON, hex strings and all, and the decoder reads them
as such).

Every call here is a read, safe to repeat: a dropped connection is reopened and the call sent
again (a few times, then ``ChainUnavailableError``). A log query the node refuses as too large
(too many results, response too big, range too wide) or that times out raises
``LogRangeRefusedError``: the indexer then asks for a smaller range.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from chain.errors import ChainError, ChainUnavailableError

_TOO_LARGE_HINTS = ("too many", "more than", "limit exceeded", "exceeds", "exceeded", "too large",
                    "range is too", "block range", "response size", "query timeout", "timed out")
_TOO_LARGE_CODES = (-32005,)  # "limit exceeded" (EIP-1474)


class RpcError(ChainError):
    """Raised when the node answers a JSON-RPC call with an error (``code``, ``message``)."""

    def __init__(self, method: str, code: int | None, message: str, data: Any = None) -> None:
        super().__init__(f"{method} failed: {message} (code {code})")
        self.code = code
        self.message = message
        self.data = data
        """The error's ``data`` (an ``eth_call`` revert: the revert data as hex)."""


class RpcTimeoutError(ChainUnavailableError):
    """Raised when the node does not answer a call within the timeout."""


class LogRangeRefusedError(ChainError):
    """Raised when the node refuses an ``eth_getLogs`` range as too large, or the query times out."""


def refuses_as_too_large(error: RpcError) -> bool:
    text = error.message.lower()
    return error.code in _TOO_LARGE_CODES or any(hint in text for hint in _TOO_LARGE_HINTS)


class JsonRpc:
    """JSON-RPC over one persistent HTTP(S) connection to ``url``."""

    def __init__(self, url: str, *, timeout: float = 30.0, attempts: int = 4, delay: float = 0.2) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChainUnavailableError(f"{url!r} is not an http(s) JSON-RPC URL")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        if parts.username:  # http://user:secret@host/ as web3's provider takes it
            token = base64.b64encode(f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode())
            self._headers["Authorization"] = "Basic " + token.decode()
        self.timeout = timeout
        self.attempts = attempts
        self.delay = delay
        self._conn: http.client.HTTPConnection | None = None
        self._id = 0

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _post(self, body: bytes, what: str) -> Any:
        for attempt in range(1, self.attempts + 1):
            conn = self._connection()
            try:
                conn.request("POST", self._path, body=body, headers=self._headers)
                response = conn.getresponse()
                payload = response.read()
                if response.status != 200:
                    raise RpcError(what, response.status, payload[:200].decode(errors="replace"))
                return json.loads(payload)
            except TimeoutError as exc:
                self.close()
                raise RpcTimeoutError(f"{what} timed out after {self.timeout:g}s") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == self.attempts:
                    raise ChainUnavailableError(
                        f"{what} failed after {self.attempts} attempts: {exc}; is the chain running at "
                        f"{self.url}?") from exc
                time.sleep(self.delay * attempt)
        raise AssertionError("unreachable")

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """The result of one call; ``RpcError`` when the node answers with an error."""
        self._id += 1
        answer = self._post(json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method,
                                        "params": list(params)}).encode(), method)
        if "error" in answer:
            error = answer["error"] or {}
            raise RpcError(method, error.get("code"), str(error.get("message", error)))
        return answer.get("result")

    def batch(self, method: str, params: Sequence[Sequence[Any]], *, size: int = 500) -> list[Any]:
        """The results of ``method`` called with each of ``params``, in order, sent as JSON-RPC
        batches of ``size`` calls (one round trip each)."""
        results: list[Any] = []
        for start in range(0, len(params), size):
            chunk = params[start:start + size]
            first = self._id + 1
            self._id += len(chunk)
            body = json.dumps([{"jsonrpc": "2.0", "id": first + i, "method": method, "params": list(p)}
                               for i, p in enumerate(chunk)]).encode()
            answers = self._post(body, f"{method} (batch of {len(chunk)})")
            if isinstance(answers, dict):  # a node without batch support answers with one error
                error = answers.get("error") or {}
                raise RpcError(method, error.get("code"), str(error.get("message", answers)))
            by_id = {a.get("id"): a for a in answers}
            for i in range(len(chunk)):
                answer = by_id.get(first + i) or {"error": {"message": "no answer in the batch"}}
                if "error" in answer:
                    error = answer["error"] or {}
                    raise RpcError(method, error.get("code"), str(error.get("message", error)))
                results.append(answer.get("result"))
        return results

    def calls(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """One JSON-RPC batch of ``(method, params)`` calls (one round trip); per call, in order,
        its result or the ``RpcError`` the node answered it with (returned, not raised: one
        reverting read does not hide the others)."""
        if not calls:
            return []
        first = self._id + 1
        self._id += len(calls)
        body = json.dumps([{"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)}
                           for i, (m, p) in enumerate(calls)]).encode()
        answers = self._post(body, f"a batch of {len(calls)} calls")
        if isinstance(answers, dict):  # a node without batch support answers with one error
            error = answers.get("error") or {}
            raise RpcError("batch", error.get("code"), str(error.get("message", answers)))
        by_id = {a.get("id"): a for a in answers}
        out: list[Any] = []
        for i, (method, _) in enumerate(calls):
            answer = by_id.get(first + i) or {"error": {"message": "no answer in the batch"}}
            if "error" in answer:
                error = answer["error"] or {}
                out.append(RpcError(method, error.get("code"), str(error.get("message", error)),
                                    error.get("data")))
            else:
                out.append(answer.get("result"))
        return out

    # -- the indexer's reads ---------------------------------------------------------------

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def logs(self, start: int, end: int) -> list[dict[str, Any]]:
        """Every log of blocks ``start``..``end`` (inclusive), as the node's JSON."""
        try:
            return list(self.call("eth_getLogs", [{"fromBlock": hex(start), "toBlock": hex(end)}]))
        except RpcTimeoutError as exc:
            raise LogRangeRefusedError(f"eth_getLogs {start}-{end}: {exc}") from exc
        except RpcError as exc:
            if refuses_as_too_large(exc):
                raise LogRangeRefusedError(f"eth_getLogs {start}-{end}: {exc.message}") from exc
            raise

    def headers(self, numbers: Sequence[int]) -> dict[int, dict[str, Any] | None]:
        """The headers (no transactions) of ``numbers``; None for a block that does not exist."""
        found = self.batch("eth_getBlockByNumber", [(hex(n), False) for n in numbers])
        return dict(zip(numbers, found, strict=True))
