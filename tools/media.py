"""Recognise media from its first bytes (never from a file name)."""

from __future__ import annotations

from typing import Literal

MediaKind = Literal["image", "audio", "video", "document"]

# (magic test, mime type, extension, kind)
_SIGNATURES: tuple[tuple[str, str, str, MediaKind], ...] = (
    ("png", "image/png", ".png", "image"),
    ("jpeg", "image/jpeg", ".jpg", "image"),
    ("gif", "image/gif", ".gif", "image"),
    ("webp", "image/webp", ".webp", "image"),
    ("bmp", "image/bmp", ".bmp", "image"),
    ("tiff", "image/tiff", ".tiff", "image"),
    ("flac", "audio/flac", ".flac", "audio"),
    ("wav", "audio/wav", ".wav", "audio"),
    ("ogg", "audio/ogg", ".ogg", "audio"),
    ("mp3", "audio/mpeg", ".mp3", "audio"),
    ("mp4", "video/mp4", ".mp4", "video"),
    ("webm", "video/webm", ".webm", "video"),
    ("pdf", "application/pdf", ".pdf", "document"),
)


def _matches(test: str, head: bytes) -> bool:
    match test:
        case "png":
            return head.startswith(b"\x89PNG\r\n\x1a\n")
        case "jpeg":
            return head.startswith(b"\xff\xd8\xff")
        case "gif":
            return head[:6] in (b"GIF87a", b"GIF89a")
        case "webp":
            return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
        case "bmp":
            return head.startswith(b"BM") and len(head) > 26
        case "tiff":
            return head[:4] in (b"II*\x00", b"MM\x00*")
        case "flac":
            return head.startswith(b"fLaC")
        case "wav":
            return head[:4] == b"RIFF" and head[8:12] == b"WAVE"
        case "ogg":
            return head.startswith(b"OggS")
        case "mp3":
            return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
        case "mp4":
            return head[4:8] == b"ftyp"
        case "webm":
            return head.startswith(b"\x1a\x45\xdf\xa3")
        case "pdf":
            return head.startswith(b"%PDF-")
    return False


def sniff(data: bytes) -> tuple[str, str, MediaKind] | None:
    """Return (mime type, extension, kind) for known media bytes, else None."""
    head = data[:32]
    for test, mime, ext, kind in _SIGNATURES:
        if _matches(test, head):
            return mime, ext, kind
    return None


def _mp4_complete(data: bytes) -> bool:
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if size == 1 and offset + 16 <= len(data):
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:
            return True  # box runs to the end of the file
        if size < 8:
            return False
        offset += size
    return offset == len(data)


def looks_complete(data: bytes, mime: str) -> bool:
    """Cheap end-of-file checks that catch media cut off in transit."""
    match mime:
        case "image/png":
            return data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82")
        case "image/jpeg":
            return data.rstrip(b"\x00").endswith(b"\xff\xd9")
        case "audio/wav":
            return len(data) >= int.from_bytes(data[4:8], "little") + 8
        case "video/mp4":
            return _mp4_complete(data)
    return len(data) > 64


# What each input kind accepts: documents may be scanned pages (images) or PDFs.
ACCEPTS: dict[MediaKind, frozenset[MediaKind]] = {
    "image": frozenset({"image"}),
    "audio": frozenset({"audio", "video"}),
    "video": frozenset({"video"}),
    "document": frozenset({"image", "document"}),
}
