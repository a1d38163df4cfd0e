"""Files in and out: which inputs may be read, and how made files are saved."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx2
from huggingface_hub.inference._common import MimeBytes
from huggingface_hub.utils import get_session
from typing_extensions import TypedDict  # pydantic reads it on Python 3.11 (MCP output schema)

from tools.errors import InputRefused
from tools.media import ACCEPTS, MediaKind, looks_complete, sniff
from tools.settings import HFSettings
from tools.text import quoted, with_article

FOLDERS: dict[str, str] = {"image": "images", "audio": "audios", "video": "videos", "document": "documents"}
UPLOADS = "uploads"  # media handed over inline (the MCP server's data: URIs)
MAX_REDIRECTS = 5
MAX_REFERENCE = 4096  # characters in a path or URL (PATH_MAX); longer is not a file reference
# IPv6 prefixes whose last 32 bits are an IPv4 address: NAT64's well-known prefix, SIIT's translated form
EMBEDS_IPV4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # a site's own translators: never public


class FileArtifact(TypedDict):
    """A file a tool made: where it is and what it holds."""

    path: str
    mime_type: str
    kind: str


@dataclass(frozen=True)
class MediaInput:
    """Media bytes accepted as a tool input, with where they came from."""

    data: MimeBytes
    source: str
    kind: MediaKind


def _is_public(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address (mapped, 6to4, NAT64, SIIT, the old "compatible"
        # ::a.b.c.d) are judged by that address.
        packed = int(ip)
        if ip in LOCAL_NAT64:
            return False
        if ip.ipv4_mapped or ip.sixtofour:
            ip = ip.ipv4_mapped or ip.sixtofour  # type: ignore[assignment]
        elif any(ip in net for net in EMBEDS_IPV4) or (packed >> 32 == 0 and packed > 1):
            ip = ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


def _major(mime: str) -> str:
    """The top-level media type; audio and video share containers (an .mp4 may be either)."""
    major = mime.split("/")[0].lower()
    return "audio/video" if major in ("audio", "video") else major


class ArtifactStore:
    """Reads media inputs under a policy and writes outputs under the output folder."""

    def __init__(self, settings: HFSettings) -> None:
        self.settings = settings
        self.output_dir = settings.output_dir.expanduser().resolve()
        self._lock = threading.Lock()

    # ---------- inputs ----------
    def load(self, value: str, kind: MediaKind) -> MediaInput:
        """Resolve a path or URL to media bytes of `kind`, or refuse with a clear reason."""
        text = (value or "").strip()
        if not text:
            raise InputRefused(f"no {kind} was given")
        if len(text) > MAX_REFERENCE:
            raise InputRefused(
                f"the {kind} given is {len(text)} characters long; give a file path or an http(s) URL"
                f" (at most {MAX_REFERENCE} characters), not the content itself"
            )
        scheme = urlsplit(text).scheme.lower()
        if scheme in ("http", "https"):
            data = self._download(text)
            source = text
        elif scheme and len(scheme) > 1:
            raise InputRefused(
                f"{quoted(scheme + ':', 20)} URLs are not accepted; give an http(s) URL or a file path"
            )
        else:
            try:
                path = self._allowed_path(text)
                data = self._read(path, text)
            except OSError as error:  # e.g. a name too long, no permission, a loop of links
                reason = error.strerror or type(error).__name__
                raise InputRefused(f"{quoted(text)} cannot be read ({reason})") from None
            source = str(path)
        return MediaInput(self._check_media(data, kind, source), source, kind)

    def _allowed_path(self, text: str) -> Path:
        raw = Path(text)
        if text.startswith("~"):
            raise InputRefused(
                f"{quoted(text)} is outside the allowed folders (home-relative paths are not read)"
            )
        candidates = [raw] if raw.is_absolute() else [Path.cwd() / raw, self.output_dir / raw]
        for candidate in candidates:
            if candidate.exists():
                break
        else:
            raise InputRefused(f"file not found: {quoted(text)}")
        resolved = candidate.resolve()
        if not any(resolved.is_relative_to(d) for d in self.settings.input_dirs):
            raise InputRefused(
                f"{quoted(text)} is outside the allowed folders; allowed: "
                + ", ".join(str(d) for d in self.settings.input_dirs)
                + " (set HUGGINGGPT_ALLOWED_DIRS to add more)"
            )
        return resolved

    def _read(self, path: Path, text: str) -> bytes:
        """Read a regular file, never more than the size limit (a file may change after it was checked)."""
        limit = self.settings.max_input_bytes
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags)  # non-blocking: opening a FIFO must not hang
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise InputRefused(f"{quoted(text)} is not a regular file")
            if info.st_size > limit:
                raise InputRefused(self._too_big(text, info.st_size))
            with open(fd, "rb", closefd=False) as file:
                data = file.read(limit + 1)  # files in /proc say 0 bytes and hold more
        finally:
            os.close(fd)
        if len(data) > limit:
            raise InputRefused(self._too_big(text, len(data)))
        return data

    def _too_big(self, source: str, size: int) -> str:
        return f"{quoted(source)} is too large ({size / 1e6:.1f} MB; the limit is {self.settings.max_input_mb:g} MB)"

    def _check_host(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise InputRefused(f"{quoted(url)} is not an http(s) URL")
        host = parts.hostname
        if not host:
            raise InputRefused(f"{quoted(url)} has no host")
        if self.settings.allow_private_urls:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as error:
            raise InputRefused(f"cannot resolve the host of {quoted(url)} ({error})") from None
        if not infos or not all(_is_public(str(info[4][0])) for info in infos):
            raise InputRefused(
                f"{quoted(url)} points to a private, loopback or link-local address; only public URLs are fetched"
            )

    def _download(self, url: str) -> bytes:
        limit = self.settings.max_input_bytes
        session = get_session()
        for _ in range(MAX_REDIRECTS + 1):
            self._check_host(url)
            try:
                with session.stream(
                    "GET", url, follow_redirects=False, timeout=self.settings.timeout
                ) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("Location", ""))
                        continue
                    if response.status_code >= 400:
                        raise InputRefused(
                            f"{quoted(url)} could not be fetched (HTTP {response.status_code})"
                        )
                    declared = int(response.headers.get("Content-Length") or 0)
                    if declared > limit:
                        raise InputRefused(self._too_big(url, declared))
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body.extend(chunk)
                        if len(body) > limit:
                            raise InputRefused(self._too_big(url, len(body)))
                    return bytes(body)
            except httpx2.HTTPError as error:
                raise InputRefused(f"{quoted(url)} could not be fetched ({type(error).__name__})") from None
        raise InputRefused(f"{quoted(url)} redirects too many times")

    def _check_media(self, data: bytes, kind: MediaKind, source: str) -> MimeBytes:
        found = sniff(data)
        if found is None or found[2] not in ACCEPTS[kind]:
            what = f"{found[2]} ({found[0]})" if found else "not a recognised media file"
            raise InputRefused(f"{quoted(source)} is not {with_article(kind)}: it is {what}")
        return MimeBytes(data, mime_type=found[0])

    # ---------- outputs ----------
    def save(self, data: bytes, kind: MediaKind | None = None) -> FileArtifact:
        """Save media bytes under the output folder with a content-derived name."""
        found = sniff(data)
        if found is None:
            raise ValueError("the server returned bytes that are not a known media format")
        mime, ext, sniffed_kind = found
        if kind and sniffed_kind not in ACCEPTS[kind]:
            raise ValueError(f"expected {kind} but the server returned {mime}")
        if not looks_complete(data, mime):
            raise ValueError(f"the server returned a truncated {mime} file")
        path = self._write(self.output_dir / FOLDERS[kind or sniffed_kind], data, ext)
        return FileArtifact(path=self.display_path(path), mime_type=mime, kind=kind or sniffed_kind)

    def save_upload(
        self, data: bytes, kind: MediaKind, source: str, declared: str | None = None
    ) -> MediaInput:
        """Keep media handed over in a message (not by path or URL) under `<output_dir>/uploads/`, where
        the tools may read it. Checked like any input first (size, sniffed type of `kind`, and the same
        type as `declared`, the type the sender named), so nothing refused is written."""
        if len(data) > self.settings.max_input_bytes:
            raise InputRefused(self._too_big(source, len(data)))
        checked = self._check_media(data, kind, source)  # refuses what sniff() does not know
        mime, ext, _ = sniff(data) or ("", "", kind)
        if declared and _major(declared) != _major(mime):
            raise InputRefused(f"{quoted(source)} says it is {quoted(declared, 40)} but holds {mime}")
        path = self._write(self.output_dir / UPLOADS, data, ext)
        return MediaInput(checked, self.display_path(path), kind)

    def _write(self, folder: Path, data: bytes, ext: str) -> Path:
        """Write `data` once under `folder`, named by its content."""
        path = folder / f"{hashlib.sha256(data).hexdigest()[:12]}{ext}"
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                tmp = path.with_suffix(path.suffix + ".part")
                tmp.write_bytes(data)
                tmp.replace(path)
        return path

    def display_path(self, path: Path) -> str:
        """Path relative to the current folder when inside it, else absolute."""
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
