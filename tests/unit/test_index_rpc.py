"""The indexer's JSON-RPC client against a scripted local server: one kept-alive connection for
every call, batches answered out of order put back in order, a refused log range told apart from
any other error, a dropped connection reopened, credentials in the URL sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from chain.errors import ChainUnavailableError
from record.index.rpc import JsonRpc, LogRangeRefusedError, RpcError

pytestmark = pytest.mark.unit


class Node(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: ClassVar[dict[str, Any]] = {}
    seen: ClassVar[list[tuple[int, str | None, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Node.seen.append((self.client_address[1], self.headers.get("Authorization"), body))
        if isinstance(body, list):
            answer: Any = [self._answer(c) for c in reversed(body)]  # out of order, as nodes may
        else:
            answer = self._answer(body)
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if Node.script.get("close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, call: dict[str, Any]) -> dict[str, Any]:
        result = Node.script.get(call["method"])
        if isinstance(result, dict) and "error" in result:
            return {"jsonrpc": "2.0", "id": call["id"], "error": result["error"]}
        if call["method"] == "eth_getBlockByNumber":
            result = {"number": call["params"][0], "hash": "0x" + "11" * 32, "timestamp": "0x5"}
        return {"jsonrpc": "2.0", "id": call["id"], "result": result}

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def node() -> Iterator[str]:
    Node.script, Node.seen = {"eth_blockNumber": "0x2a", "eth_getLogs": []}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_calls_share_one_kept_alive_connection(node):
    rpc = JsonRpc(node)
    assert [rpc.block_number() for _ in range(5)] == [42] * 5
    assert len({port for port, _, _ in Node.seen}) == 1


def test_batches_come_back_in_the_order_asked(node):
    rpc = JsonRpc(node)
    headers = rpc.headers([7, 3, 9, 1])
    assert [int(h["number"], 16) for h in headers.values()] == [7, 3, 9, 1] == list(headers)
    assert len(Node.seen) == 1  # one round trip


@pytest.mark.parametrize(("error", "refused"), [
    ({"code": -32005, "message": "query returned more than 10000 results"}, True),
    ({"code": -32000, "message": "Log response size exceeded. You can make eth_getLogs requests with up to a "
                                 "2K block range"}, True),
    ({"code": -32602, "message": "block range is too wide"}, True),
    ({"code": -32000, "message": "query timeout exceeded"}, True),
    ({"code": -32601, "message": "the method eth_getLogs does not exist"}, False),
    ({"code": -32000, "message": "header not found"}, False),
])
def test_a_refused_range_is_told_apart_from_other_errors(node, error, refused):
    Node.script["eth_getLogs"] = {"error": error}
    rpc = JsonRpc(node)
    with pytest.raises(LogRangeRefusedError if refused else RpcError):
        rpc.logs(0, 100)


def test_a_dropped_connection_is_reopened(node):
    Node.script["close"] = True
    rpc = JsonRpc(node)
    assert [rpc.block_number() for _ in range(3)] == [42] * 3


def test_nothing_listening_is_chain_unavailable():
    rpc = JsonRpc("http://127.0.0.1:9", attempts=2, delay=0.01)
    with pytest.raises(ChainUnavailableError, match="failed after 2 attempts"):
        rpc.block_number()


def test_credentials_in_the_url_are_sent(node):
    JsonRpc(node.replace("http://", "http://indexer:s%40cret@")).block_number()
    assert Node.seen[-1][1] == "Basic aW5kZXhlcjpzQGNyZXQ="  # indexer:s@cret
