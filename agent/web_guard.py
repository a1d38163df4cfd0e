"""What the web UI's server may send: its file route hands out only inert media, typed by its bytes.

Gradio serves any file under `allowed_paths` inline with the type its name suggests, so an HTML page or
an SVG with a script under `outputs/uploads/` (written by an earlier version, or by hand) would run in
the app's origin. `MediaOnlyFiles` sits in front of Gradio's file routes: a file is served only if its
first bytes are an image, audio, video or PDF (`hugginggpt.tools.files.media.sniff`), with that type, `nosniff`, a
sandboxing Content-Security-Policy, inline for what the page plays and as an attachment for PDFs; any
other file is refused with 403. Every other response carries the page's Content-Security-Policy.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from hugginggpt.tools.files.media import sniff

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/")  # Gradio's file route and its deprecated twin
INLINE = frozenset({"image", "audio", "video"})  # what the page shows or plays; PDFs are downloaded
# The page: Gradio needs its inline scripts and styles (its config is an inline <script>); everything
# else comes from this server, nothing may frame it, post forms elsewhere or load plugins.
PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' data: blob:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
FILE_POLICY = "default-src 'none'; sandbox"  # a file opened on its own runs nothing, in no origin
REFUSED = b"File not allowed: only images, audio, video and PDF files are served."


def served_type(path: str) -> tuple[str, str] | None:
    """(content type, disposition) the file at `path` (as Gradio resolves it) is served with, or None."""
    try:
        with open(os.path.abspath(path), "rb") as file:  # Gradio's `utils.abspath`: from the cwd
            found = sniff(file.read(32))
    except OSError:
        return None
    if found is None:
        return None
    mime, _, kind = found
    return mime, "inline" if kind in INLINE else "attachment"


def _file_target(path: str) -> str | None:
    """The file a request path names, if it is one of Gradio's file routes."""
    for route in FILE_ROUTES:
        if path.startswith(route):
            return path[len(route) :]
    return None


def _set(message: Message, **headers: str) -> None:
    """Replace headers of a response start message (`content_type` names `content-type`)."""
    names = {name.replace("_", "-").encode(): value.encode("latin-1") for name, value in headers.items()}
    kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
    message["headers"] = kept + list(names.items())


class MediaOnlyFiles:
    """ASGI middleware: Gradio's file routes serve only sniffed media (see the module); CSP on the rest."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, root = scope["path"], scope.get("root_path", "")
        target = _file_target(path[len(root) :] if root and path.startswith(root) else path)
        if target is None:
            await self.app(scope, receive, self._page(send))
            return
        if "://" in target:  # the page shows only this server's files; no fetching of URLs for anyone
            await _refuse(send)
            return
        await self.app(scope, receive, _FileSend(send, target))

    @staticmethod
    def _page(send: Send) -> Send:
        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                _set(message, content_security_policy=PAGE_POLICY, x_content_type_options="nosniff")
            await send(message)

        return with_policy


class _FileSend:
    """The `send` of one file request: retypes what Gradio serves, or swaps it for a refusal."""

    def __init__(self, send: Send, target: str) -> None:
        self.send = send
        self.target = target
        self.refused = False

    async def __call__(self, message: Message) -> None:
        if self.refused:
            return  # Gradio's own body of a file it may not serve
        if message["type"] == "http.response.start":
            if message["status"] in (200, 206):  # Gradio found it and may serve it (allowed, signed in)
                served = served_type(self.target)
                if served is None:
                    self.refused = True
                    await _refuse(self.send)
                    return
                mime, disposition = served
                old = dict(message.get("headers", [])).get(b"content-disposition", b"").decode("latin-1")
                filename = old.partition(";")[2].strip()
                disposition = "; ".join(filter(None, [disposition, filename]))
                _set(message, content_type=mime, content_disposition=disposition)
            _set(message, x_content_type_options="nosniff", content_security_policy=FILE_POLICY)
        await self.send(message)


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(REFUSED)).encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"content-security-policy", FILE_POLICY.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": REFUSED})
