"""URL inputs: fetch one http(s) URL under the address policy, with a deadline for the whole download.

The policy is checked twice per hop: on the URL's host before the request (a refusal naming the URL),
and on the addresses the connection dials, at connect time in the transport. The transport resolves the
name once and connects only to the addresses it checked, so a second, different DNS answer (DNS
rebinding) cannot slip a private address in between the check and the connection.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore2
import httpx2

from hugginggpt.tools.inference.errors import InputRefused, too_large
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.text import quoted

MAX_REDIRECTS = 5
PRIVATE = "points to a private, loopback or link-local address; only public URLs are fetched"
# IPv6 prefixes whose last 32 bits are an IPv4 address: NAT64's well-known prefix, SIIT's translated form
EMBEDS_IPV4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # a site's own translators: never public

ClientFactory = Callable[[bool], httpx2.Client]  # allow_private_urls -> a client for one download


def is_public(address: str) -> bool:
    """Whether an IP address is public unicast (IPv6 forms that carry an IPv4 address are judged by it)."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # mapped, 6to4, NAT64, SIIT and the old "compatible" ::a.b.c.d
        packed = int(ip)
        if ip in LOCAL_NAT64:
            return False
        if ip.ipv4_mapped or ip.sixtofour:
            ip = ip.ipv4_mapped or ip.sixtofour  # type: ignore[assignment]  # v6 -> the v4 it carries
        elif any(ip in net for net in EMBEDS_IPV4) or (packed >> 32 == 0 and packed > 1):
            ip = ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


def public_addresses(host: str, port: int) -> list[str] | None:
    """The addresses `host` resolves to now, or None if any of them is not public."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    return addresses if addresses and all(is_public(a) for a in addresses) else None


class PrivateAddress(InputRefused):
    """A connection was about to reach a private, loopback or link-local address."""


class PublicOnlyBackend(httpcore2.SyncBackend):
    """A network backend that resolves each name once and dials only public addresses."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        try:
            addresses = public_addresses(host, port)
        except (OSError, UnicodeError) as error:
            raise httpcore2.ConnectError(str(error)) from None
        if addresses is None:
            raise PrivateAddress(PRIVATE)
        failure = httpcore2.ConnectError(f"no address of {host} answered")
        for address in addresses:  # numeric: nothing is resolved again
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore2.ConnectError as error:
                failure = error
        raise failure


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every download (making one costs more than the client)."""
    return httpx2.create_ssl_context()


class PublicOnlyTransport(httpx2.HTTPTransport):
    """httpx2's transport over `PublicOnlyBackend`, without proxies (a proxy would dial unchecked)."""

    def __init__(self) -> None:
        super().__init__(verify=ssl_context(), trust_env=False)
        self._pool = httpcore2.ConnectionPool(ssl_context=ssl_context(), network_backend=PublicOnlyBackend())


def default_client(allow_private: bool) -> httpx2.Client:
    """A client for one download: public addresses only, unless private ones are allowed."""
    transport = httpx2.HTTPTransport(verify=ssl_context(), trust_env=False) if allow_private else None
    return httpx2.Client(transport=transport or PublicOnlyTransport(), trust_env=False)


_factory: ClientFactory = default_client


def set_client_factory(factory: ClientFactory | None) -> None:
    """Choose how download clients are made (None: `default_client`), as huggingface_hub's
    `set_client_factory` does for its own clients; e.g. to route them to a local stand-in of the web."""
    global _factory
    _factory = factory or default_client


def check_host(url: str, settings: HFSettings) -> None:
    """Refuse a URL that is not http(s), has no host, or names a host with a non-public address."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise InputRefused(f"{quoted(url)} is not an http(s) URL")
    host = parts.hostname
    if not host:
        raise InputRefused(f"{quoted(url)} has no host")
    if settings.allow_private_urls:
        return
    try:
        addresses = public_addresses(host, parts.port or 443)
    except (OSError, UnicodeError) as error:
        raise InputRefused(f"cannot resolve the host of {quoted(url)} ({error})") from None
    if addresses is None:
        raise InputRefused(f"{quoted(url)} {PRIVATE}")


def download(url: str, settings: HFSettings) -> bytes:
    """The body at `url` (following up to MAX_REDIRECTS redirects), or a one-sentence refusal.

    The whole download, redirects included, ends within `settings.download_timeout` seconds (give or
    take one read): a server that trickles its answer cannot hold a tool call for ever.
    """
    deadline = time.monotonic() + settings.download_timeout
    with _factory(settings.allow_private_urls) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_host(url, settings)
            try:
                location, body = _hop(client, url, settings, deadline)
            except PrivateAddress:
                raise InputRefused(f"{quoted(url)} {PRIVATE}") from None
            except httpx2.TimeoutException as error:
                if time.monotonic() >= deadline:
                    raise InputRefused(_late(url, settings)) from None
                raise InputRefused(f"{quoted(url)} could not be fetched ({type(error).__name__})") from None
            except httpx2.HTTPError as error:
                raise InputRefused(f"{quoted(url)} could not be fetched ({type(error).__name__})") from None
            if location is None:
                return body
            url = location
    raise InputRefused(f"{quoted(url)} redirects too many times")


def _late(url: str, settings: HFSettings) -> str:
    return (
        f"{quoted(url)} did not finish downloading within {settings.download_timeout:g} s"
        " (HUGGINGGPT_DOWNLOAD_TIMEOUT)"
    )


def _hop(client: httpx2.Client, url: str, settings: HFSettings, deadline: float) -> tuple[str | None, bytes]:
    """One request: (where it redirects to, b"") or (None, the body)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise InputRefused(_late(url, settings))
    limit = settings.max_input_bytes
    timeout = min(settings.timeout, remaining)
    with client.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
        if response.is_redirect:
            return urljoin(url, response.headers.get("Location", "")), b""
        if response.status_code >= 400:
            raise InputRefused(f"{quoted(url)} could not be fetched (HTTP {response.status_code})")
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > limit:
            raise InputRefused(too_large(url, declared, settings.max_input_mb))
        body = bytearray()
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if len(body) > limit:
                raise InputRefused(too_large(url, len(body), settings.max_input_mb))
            if time.monotonic() > deadline:
                raise InputRefused(_late(url, settings))
        return None, bytes(body)
