"""``chain.ports.free_port``: never the same port twice in a process (the kernel may hand the same
ephemeral port to two binds in a row: a home and a remote anvil on one port, one of them failing to
start, was a flake of the unit tier), and every port it names is free to listen on."""

from __future__ import annotations

import socket

import pytest

from chain import ports
from chain.ports import free_port

pytestmark = pytest.mark.unit


def test_a_process_is_never_given_the_same_port_twice() -> None:
    given = [free_port() for _ in range(300)]
    assert len(set(given)) == len(given)


def test_a_port_the_kernel_offers_again_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    offered = iter([40001, 40001, 40001, 40002])

    class Kernel:
        """The kernel's answers to bind(port 0), in turn: the same port three times, then another."""

        def __init__(self) -> None:
            self.port = 0

        def __enter__(self) -> Kernel:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def bind(self, address: tuple[str, int]) -> None:
            self.port = next(offered)

        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(ports, "_given", set())
    monkeypatch.setattr(ports.socket, "socket", Kernel)
    assert free_port() == 40001
    assert free_port() == 40002  # the two repeats of 40001 were refused


def test_every_port_given_can_be_listened_on() -> None:
    for _ in range(20):
        with socket.socket() as server:
            server.bind(("127.0.0.1", free_port()))
            server.listen()
