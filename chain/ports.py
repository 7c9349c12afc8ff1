"""Free local TCP ports for the nodes and servers the project starts (anvils, the API, IPFS, a
benchmark's throwaway servers).

Asking the kernel for port 0 and closing the socket names a port that is free now, but the kernel may
hand the same port to the very next such request: two ports chosen one after the other for two
servers (a home and a remote anvil, the three listeners of an IPFS node) then collide, and one server
fails to start. ``free_port`` never returns a port it returned before in this process.
"""

from __future__ import annotations

import socket
import threading

__all__ = ["free_port"]

_given: set[int] = set()
_lock = threading.Lock()
_ATTEMPTS = 200


def free_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that nothing listens on now and that this process has not been given before."""
    with _lock:
        for _ in range(_ATTEMPTS):
            with socket.socket() as s:
                s.bind((host, 0))
                port = int(s.getsockname()[1])
            if port not in _given:
                _given.add(port)
                return port
    raise OSError(f"no free TCP port on {host} after {_ATTEMPTS} tries that this process had not used "
                  "already; too many servers started by one process?")
