"""A pytest plugin that refuses every socket connection beyond loopback during the tests.

Enable it for a run with ``-p tests.support.netguard`` or ``pytest_plugins = ["tests.support.netguard"]``
in the root conftest. While it is installed, ``socket.connect``, ``connect_ex`` and ``sendto`` to an
address that is not loopback raise :class:`NetworkGuardError`, naming the address, and so does
``socket.getaddrinfo`` for a host name other than ``localhost`` or this machine's own name (resolving
it could itself be a DNS query): no packet leaves. Allowed: 127.0.0.0/8, ::1, IPv4-mapped loopback, ``localhost``,
unix sockets and any other non-IP family (netlink, socketpair).

The error is an ``OSError``, so code behaves as on a machine with no network; because such code may
swallow it, every refused attempt is also recorded, and the session fails at its end naming them.
It guards this Python process only: subprocesses (anvil, geth, npm) are not covered.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class NetworkGuardError(ConnectionRefusedError):
    """Raised when code under test tries to reach an address beyond loopback."""


_lock = threading.Lock()
_original: dict[str, Any] = {}
_blocked: list[str] = []
_capture: list[list[str]] = []


def is_loopback(host: str) -> bool:
    """True for loopback IP literals (v4, v6, v4-mapped v6, with or without a zone) and ``localhost``."""
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _check(sock: socket.socket, address: Any, what: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # unix sockets, netlink, ...: never leave the machine
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if isinstance(host, str) and is_loopback(host):
        return
    port = address[1] if isinstance(address, tuple) and len(address) > 1 else "?"
    target = f"{host}:{port}"
    with _lock:
        (_capture[-1] if _capture else _blocked).append(target)
    raise NetworkGuardError(
        f"network guard: a test tried to {what} {target}, which is not loopback; tests may reach "
        "only 127.0.0.1, ::1, localhost or unix sockets (see tests/support/netguard.py)"
    )


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode(errors="replace") if isinstance(host, bytes) else host
    if name is not None and not _is_ip_literal(str(name)) and not is_loopback(str(name)) \
            and str(name).lower() != socket.gethostname().lower():
        with _lock:
            (_capture[-1] if _capture else _blocked).append(f"{name} (name lookup)")
        raise NetworkGuardError(
            f"network guard: a test tried to look up the host name {name!r}, which is not local; "
            "tests may reach only 127.0.0.1, ::1, localhost or unix sockets (see tests/support/netguard.py)"
        )
    return _original["getaddrinfo"](host, *args, **kwargs)


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address, "connect to")
    _original["connect"](self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address, "connect to")
    return int(_original["connect_ex"](self, address))


def _guarded_sendto(self: socket.socket, data: Any, *args: Any) -> int:
    _check(self, args[-1], "send a datagram to")
    return int(_original["sendto"](self, data, *args))


def installed() -> bool:
    return bool(_original)


def install() -> None:
    """Guard ``socket.socket`` in this process (idempotent)."""
    with _lock:
        if _original:
            return
        for name, guarded in (("connect", _guarded_connect), ("connect_ex", _guarded_connect_ex),
                              ("sendto", _guarded_sendto)):
            _original[name] = getattr(socket.socket, name)
            setattr(socket.socket, name, guarded)
        _original["getaddrinfo"] = socket.getaddrinfo
        socket.getaddrinfo = _guarded_getaddrinfo


def uninstall() -> None:
    with _lock:
        for name, original in _original.items():
            setattr(socket if name == "getaddrinfo" else socket.socket, name, original)
        _original.clear()


def blocked() -> list[str]:
    """Every address refused so far in this session (outside :func:`expect_blocked`)."""
    with _lock:
        return list(_blocked)


@contextmanager
def expect_blocked() -> Iterator[list[str]]:
    """Collect refused attempts into the yielded list instead of failing the session (the guard's
    own tests use it); the guard is installed for the block if it was not already."""
    was_installed = installed()
    install()
    attempts: list[str] = []
    with _lock:
        _capture.append(attempts)
    try:
        yield attempts
    finally:
        with _lock:
            _capture.remove(attempts)
        if not was_installed:
            uninstall()


# -- pytest hooks ------------------------------------------------------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    install()


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if blocked() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    refused = blocked()
    if refused:
        terminalreporter.section("network guard", sep="=", red=True)
        terminalreporter.write_line(
            f"{len(refused)} connection attempt(s) beyond loopback were refused (the run fails even "
            "where the code swallowed the error):")
        for target in sorted(set(refused)):
            terminalreporter.write_line(f"  {target}")
