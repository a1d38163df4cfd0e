"""URL inputs at the socket: what the connection really reaches, and how long a download may take.

No stand-in routing here: the real download client resolves names through the system resolver
(`socket.getaddrinfo`, played by the test) and connects to a real loopback server that counts its
connections and can trickle its answer.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hugginggpt.tools import HFSettings
from hugginggpt.tools.files.artifacts import ArtifactStore
from hugginggpt.tools.inference.errors import InputRefused
from tests.stand_ins import media

PUBLIC_IP = "93.184.216.34"
PRIVATE = "points to a private, loopback or link-local address"
IMAGE = media.make_image("three sheep")


class LoopbackFiles(socketserver.ThreadingTCPServer):
    """Answers every GET with IMAGE, all at once or one byte every `trickle` seconds; counts connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, trickle: float | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.trickle = trickle
        self.connections = 0
        self.stopped = threading.Event()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> LoopbackFiles:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopped.set()
        self.shutdown()
        self.server_close()


class _Handler(socketserver.StreamRequestHandler):
    server: LoopbackFiles

    def handle(self) -> None:
        self.server.connections += 1
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the request head
        head = f"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {len(IMAGE)}\r\n\r\n"
        try:
            self.wfile.write(head.encode())
            if self.server.trickle is None:
                self.wfile.write(IMAGE)
                return
            for byte in IMAGE:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self.server.stopped.wait(self.server.trickle):
                    return
        except OSError:  # the client hung up
            return


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("HUGGINGGPT_")]:
        monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """`rebind.example.com` answers a public address the first time it is asked, loopback afterwards."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example.com":
            return real(host, port, *args, **kwargs)
        address = PUBLIC_IP if not asked else "127.0.0.1"
        asked.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 80))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    yield asked


def store(**overrides: Any) -> ArtifactStore:
    return ArtifactStore(HFSettings.from_env(env_file=None, **overrides))


def test_loopback_server_serves_when_private_urls_are_allowed(clean_env: Path) -> None:
    """The control: the same server and client fetch the picture when private addresses are allowed."""
    with LoopbackFiles() as server:
        got = store(allow_private_urls=True).load(f"http://127.0.0.1:{server.port}/sheep.png", "image")
    assert bytes(got.data) == IMAGE and server.connections == 1


def test_a_name_rebinding_to_loopback_is_refused_at_connect(
    clean_env: Path, rebinding_dns: list[str]
) -> None:
    """The check before the request sees a public address; the connection would reach loopback: refused."""
    with LoopbackFiles() as server:
        url = f"http://rebind.example.com:{server.port}/sheep.png"
        with pytest.raises(InputRefused, match=PRIVATE) as refused:
            store().load(url, "image")
    assert rebinding_dns[0] == PUBLIC_IP and "127.0.0.1" in rebinding_dns  # asked again, got loopback
    assert server.connections == 0  # refused before connecting
    assert str(refused.value).startswith(f"'{url}' ")


@pytest.mark.timeout(30)
def test_a_trickling_download_ends_at_its_deadline(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One byte every 0.2 s never trips a read timeout; HUGGINGGPT_DOWNLOAD_TIMEOUT bounds the whole download."""
    monkeypatch.setenv("HUGGINGGPT_DOWNLOAD_TIMEOUT", "1.5")
    with LoopbackFiles(trickle=0.2) as server:
        url = f"http://127.0.0.1:{server.port}/slow.png"
        started = time.monotonic()
        with pytest.raises(InputRefused) as refused:
            store(allow_private_urls=True).load(url, "image")
        elapsed = time.monotonic() - started
    message = str(refused.value)
    assert message == f"'{url}' did not finish downloading within 1.5 s (HUGGINGGPT_DOWNLOAD_TIMEOUT)"
    assert 1.5 <= elapsed < 20, elapsed  # its deadline, not the whole image (1 byte per 0.2 s: minutes)
