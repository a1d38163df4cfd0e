"""Refuse, and write down, every name look-up and connection of this process that is not loopback.

For child processes started by a test (e.g. LangGraph's API server): with HUGGINGGPT_TEST_LOOPBACK_LOG
naming a file, tests/stand_ins/route_hf/sitecustomize.py calls `install(file)`. Each attempt appends one
line (`resolve NAME` or `connect HOST:PORT`) to the file and fails as an unknown name or a refused
connection would. The test then reads the file: empty means nothing left the machine through Python's
socket module (threads' urllib, requests and httpx calls; an event loop's own C sockets, e.g. uvloop's,
are not seen).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

_lock = threading.Lock()


def is_loopback(host: Any) -> bool:
    """Whether `host` (a name or address, str or bytes; None is the local host) stays on this machine."""
    if host is None:
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower().rstrip(".") == "localhost" or name == "":
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def install(log: str) -> None:
    """Guard `socket.getaddrinfo` and `socket.socket.connect`/`connect_ex`, writing refusals to `log`."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def note(line: str) -> None:
        with _lock, open(log, "a", encoding="utf-8") as file:
            file.write(line + "\n")

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            note(f"resolve {host}")
            raise socket.gaierror(socket.EAI_NONAME, "refused by the test's loopback guard")
        return real_getaddrinfo(host, port, *args, **kwargs)

    def remote(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or is_loopback(address[0]):
            return False
        note(f"connect {address[0]}:{address[1]}")
        return True

    def connect(self: socket.socket, address: Any) -> None:
        if remote(self, address):
            raise ConnectionRefusedError("refused by the test's loopback guard")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        return 111 if remote(self, address) else real_connect_ex(self, address)  # ECONNREFUSED

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign]  # the point of a guard
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
