"""Files in and out: which inputs may be read, and how made files are saved."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from typing_extensions import TypedDict  # pydantic reads it on Python 3.11 (MCP output schema)

from hugginggpt.tools.files.downloads import download
from hugginggpt.tools.files.media import ACCEPTS, MediaKind, looks_complete, sniff
from hugginggpt.tools.inference.errors import InputRefused, OutputNotSaved, too_large
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.text import quoted, with_article
from hugginggpt.tools.upstream import MimeBytes

FOLDERS: dict[str, str] = {"image": "images", "audio": "audios", "video": "videos", "document": "documents"}
UPLOADS = "uploads"  # media handed over in a message (the MCP server's data: URIs, the web UI's files)
ANY_MEDIA = "an image, audio, video or PDF file"
MAX_REFERENCE = 4096  # characters in a path or URL (PATH_MAX); longer is not a file reference


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


def _major(mime: str) -> str:
    """The top-level media type; audio and video share containers (an .mp4 may be either)."""
    major = mime.split("/")[0].lower()
    return "audio/video" if major in ("audio", "video") else major


class ArtifactStore:
    """Reads media inputs under a policy and writes outputs under the output folder."""

    def __init__(self, settings: HFSettings) -> None:
        self.settings = settings
        self.output_dir = settings.output_dir.expanduser().resolve()

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
            data = download(text, self.settings)
            source = text
        elif scheme and len(scheme) > 1:
            raise InputRefused(
                f"{quoted(scheme + ':', 20)} URLs are not accepted; give an http(s) URL or a file path"
            )
        else:
            path, data = self._local(text)
            source = str(path)
        return MediaInput(self._check_media(data, kind, source), source, kind)

    def load_file(self, value: str) -> MediaInput:
        """A local file under the allowed folders holding media of any known kind (for tools that take
        any file, e.g. another MCP server's); refused like `load`'s inputs otherwise."""
        text = (value or "").strip()
        path, data = self._local(text)
        found = sniff(data)
        if found is None:
            raise InputRefused(f"{quoted(text)} is not a recognised media file")
        return MediaInput(MimeBytes(data, mime_type=found[0]), str(path), found[2])

    def _local(self, text: str) -> tuple[Path, bytes]:
        try:
            path = self._allowed_path(text)
            return path, self._read(path, text)
        except OSError as error:  # e.g. a name too long, no permission, a loop of links
            reason = error.strerror or type(error).__name__
            raise InputRefused(f"{quoted(text)} cannot be read ({reason})") from None

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
        return too_large(source, size, self.settings.max_input_mb)

    def _check_media(self, data: bytes, kind: MediaKind, source: str) -> MimeBytes:
        return MimeBytes(data, mime_type=self._sniffed(data, kind, source)[0])

    def _sniffed(self, data: bytes, kind: MediaKind | None, source: str) -> tuple[str, str, MediaKind]:
        """(mime type, extension, kind) of media of `kind` (None: any kind the tools read), by its bytes."""
        found = sniff(data)
        if found is not None and (kind is None or found[2] in ACCEPTS[kind]):
            return found
        if kind is None:
            raise InputRefused(f"{quoted(source)} is not {ANY_MEDIA}; only those can be attached")
        what = f"{found[2]} ({found[0]})" if found else "not a recognised media file"
        raise InputRefused(f"{quoted(source)} is not {with_article(kind)}: it is {what}")

    # ---------- outputs ----------
    def save(self, data: bytes, kind: MediaKind | None = None) -> FileArtifact:
        """Save media bytes under the output folder with a content-derived name, whole or not at all."""
        found = sniff(data)
        if found is None:
            raise ValueError("the server returned bytes that are not a known media format")
        mime, ext, sniffed_kind = found
        if kind and sniffed_kind not in ACCEPTS[kind]:
            raise ValueError(f"expected {kind} but the server returned {mime}")
        if not looks_complete(data, mime):
            raise ValueError(f"the server returned a truncated {mime} file")
        made = kind or sniffed_kind
        path = self._write(self.output_dir / FOLDERS[made], data, ext, f"the {made}")
        return FileArtifact(path=display_path(path), mime_type=mime, kind=made)

    def save_upload(
        self,
        data: bytes,
        kind: MediaKind | None,
        source: str,
        declared: str | None = None,
        *,
        under: str = "",
        name: str = "",
    ) -> MediaInput:
        """Keep media handed over in a message (not by path or URL) under `<output_dir>/uploads/[under/]`,
        where the tools may read it: the one way every surface (MCP `data:` URIs, the web UI's attachments)
        takes files in. Checked like any input first (size, sniffed type of `kind`, or of any media kind
        for None, and the same type as `declared`, the type the sender named), so nothing refused is
        written. It is named by its content's hash (after the sender's file `name`, cleaned, if given)
        and the sniffed extension, never the sender's."""
        mime, ext, sniffed_kind = self.check_upload(data, kind, source, declared)
        folder = (self.output_dir / UPLOADS / under).resolve()
        if not folder.is_relative_to(self.output_dir / UPLOADS):
            raise ValueError(f"uploads are kept under {UPLOADS}/, not {under!r}")
        what = f"the upload {quoted(source, 60)}"
        path = self._write(folder, data, ext, what, re.sub(r"[^\w.-]+", "_", Path(name).stem)[:60])
        return MediaInput(MimeBytes(data, mime_type=mime), self.display_path(path), kind or sniffed_kind)

    def check_upload(
        self, data: bytes, kind: MediaKind | None, source: str, declared: str | None = None
    ) -> tuple[str, str, MediaKind]:
        """`save_upload`'s checks, without writing: (mime type, extension, kind), or `InputRefused`."""
        if len(data) > self.settings.max_input_bytes:
            raise InputRefused(self._too_big(source, len(data)))
        mime, ext, sniffed_kind = self._sniffed(data, kind, source)  # refuses what sniff() does not know
        if declared and _major(declared) != _major(mime):
            raise InputRefused(f"{quoted(source)} says it is {quoted(declared, 40)} but holds {mime}")
        return mime, ext, sniffed_kind

    def _write(self, folder: Path, data: bytes, ext: str, what: str, stem: str = "") -> Path:
        """Write `data` once under `folder`, named by its content (`what` it is names it in errors)."""
        digest = hashlib.sha256(data).hexdigest()
        path = folder / (f"{stem}-{digest[:8]}{ext}" if stem else f"{digest[:12]}{ext}")
        if not path.exists():
            write_whole(path, data, what)
        return path

    def display_path(self, path: Path) -> str:
        """See `display_path`."""
        return display_path(path)


def display_path(path: str | Path) -> str:
    """How a file is shown to people and to the model: relative to the current folder when inside it."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


def write_whole(path: Path, data: bytes, what: str) -> None:
    """Write `data` to `path` whole or not at all: a temporary name in the same folder, synced, renamed.

    Any local failure (disk full, read-only, no permission...) removes the temporary file and raises
    `OutputNotSaved`: one sentence naming `what`, the folder and the cause.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with open(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        cause = error.strerror or type(error).__name__
        raise OutputNotSaved(
            f"{what} could not be saved in {display_path(path.parent)} ({cause}); a local problem, not the"
            " model's: free some space or fix the folder, or set HUGGINGGPT_OUTPUT_DIR to another one."
        ) from error
