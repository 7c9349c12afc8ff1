"""A minimal JSON-RPC client for health checks, with no web3 import (fast to load)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from chain.errors import ChainUnavailableError


def rpc_call(url: str, method: str, params: list[Any] | None = None, *, timeout: float = 2.0) -> Any:
    """Call ``method`` on the JSON-RPC endpoint ``url`` and return its result.

    Raises ChainUnavailableError when nothing answers or the answer is an error.
    """
    if not url.startswith(("http://", "https://")):
        raise ChainUnavailableError(f"{url!r} is not an http(s) JSON-RPC URL")
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            payload = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ChainUnavailableError(f"no JSON-RPC answer from {url} ({exc})") from exc
    if "error" in payload:
        raise ChainUnavailableError(f"{url} answered {method} with an error: {payload['error']}")
    return payload.get("result")


def chain_id_of(url: str, *, timeout: float = 2.0) -> int:
    """The chain id the endpoint reports."""
    return int(rpc_call(url, "eth_chainId", timeout=timeout), 16)
