"""Recognise media from its first bytes (never from a file name)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

MediaKind = Literal["image", "audio", "video", "document"]

# One row per format: mime type, extension, kind, and the test on its first 32 bytes.
_FORMATS: tuple[tuple[str, str, MediaKind, Callable[[bytes], bool]], ...] = (
    ("image/png", ".png", "image", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", ".jpg", "image", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/gif", ".gif", "image", lambda head: head[:6] in (b"GIF87a", b"GIF89a")),
    ("image/webp", ".webp", "image", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    ("image/bmp", ".bmp", "image", lambda head: head.startswith(b"BM") and len(head) > 26),
    ("image/tiff", ".tiff", "image", lambda head: head[:4] in (b"II*\x00", b"MM\x00*")),
    ("audio/flac", ".flac", "audio", lambda head: head.startswith(b"fLaC")),
    ("audio/wav", ".wav", "audio", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WAVE"),
    ("audio/ogg", ".ogg", "audio", lambda head: head.startswith(b"OggS")),
    ("audio/mpeg", ".mp3", "audio",
     lambda head: head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)),
    ("video/mp4", ".mp4", "video", lambda head: head[4:8] == b"ftyp"),
    ("video/webm", ".webm", "video", lambda head: head.startswith(b"\x1a\x45\xdf\xa3")),
    ("application/pdf", ".pdf", "document", lambda head: head.startswith(b"%PDF-")),
)  # fmt: skip


def sniff(data: bytes) -> tuple[str, str, MediaKind] | None:
    """Return (mime type, extension, kind) for known media bytes, else None."""
    head = data[:32]
    for mime, ext, kind, matches in _FORMATS:
        if matches(head):
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


def _crc_table(poly: int, width: int) -> tuple[int, ...]:
    top, mask, table = 1 << (width - 1), (1 << width) - 1, []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
        table.append(crc)
    return tuple(table)


_CRC8, _CRC16 = _crc_table(0x07, 8), _crc_table(0x8005, 16)  # FLAC's frame header and frame checksums


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ byte]
    return crc


def _flac_frame(data: bytes, at: int) -> tuple[int, int, bool] | None:
    """(coded number, block size, variable block size) of a valid frame header at `at`, else None."""
    head = data[at : at + 16]
    if len(head) < 6 or head[0] != 0xFF or head[1] & 0xFE != 0xF8 or head[3] >> 4 > 10 or head[3] & 1:
        return None
    size_code, rate_code = head[2] >> 4, head[2] & 0x0F
    lead = next((n for n in range(8) if not head[4] & (0x80 >> n)), 8)  # UTF-8-style coded number
    if lead == 1 or lead == 8 or size_code == 0 or rate_code == 15:
        return None
    length = max(lead, 1)
    number = head[4] & (0x7F >> lead)
    for byte in head[5 : 4 + length]:
        if byte & 0xC0 != 0x80:
            return None
        number = (number << 6) | (byte & 0x3F)
    pos = 4 + length
    extra = {6: 1, 7: 2}.get(size_code, 0)
    block = int.from_bytes(head[pos : pos + extra], "big") + 1 if extra else 0
    pos += extra + {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if pos >= len(head) or _crc8(head[:pos]) != head[pos]:
        return None
    if not extra:
        block = (
            192 if size_code == 1 else 576 << (size_code - 2) if size_code <= 5 else 256 << (size_code - 8)
        )
    return number, block, bool(head[1] & 1)


def _flac_complete(data: bytes) -> bool:
    """Metadata whole, and the last frame whole (its CRC-16 closes the file) and ending the stream.

    The stream's length is checked when STREAMINFO gives it; encoders writing to a pipe leave it 0, and
    then only a cut exactly between two frames goes unnoticed.
    """
    pos, total, fixed_block, max_frame = 4, 0, 0, 0
    while True:  # metadata blocks: 1 byte (last flag, type) + 3 bytes length, then the body
        if pos + 4 > len(data):
            return False
        kind, size = data[pos], int.from_bytes(data[pos + 1 : pos + 4], "big")
        if kind & 0x7F == 0 and size >= 18:  # STREAMINFO
            fixed_block = int.from_bytes(data[pos + 6 : pos + 8], "big")
            max_frame = int.from_bytes(data[pos + 11 : pos + 14], "big")
            total = int.from_bytes(data[pos + 14 : pos + 22], "big") & ((1 << 36) - 1)
        pos += 4 + size
        if kind & 0x80:
            break
    if pos + 8 > len(data):
        return False  # no audio frame at all
    floor = max(pos, len(data) - (max_frame + 16 if max_frame else 1 << 21))
    tries, at = 0, len(data) - 2
    while tries < 4:  # the last frame headers first
        at = max(data.rfind(b"\xff\xf8", floor, at), data.rfind(b"\xff\xf9", floor, at))
        if at < 0:
            break
        frame = _flac_frame(data, at)
        if frame is None:
            continue
        tries += 1
        number, block, variable = frame
        if _crc16(data[at:-2]) == int.from_bytes(data[-2:], "big"):
            return total == 0 or (number if variable else number * fixed_block) + block == total
    return False


def looks_complete(data: bytes, mime: str) -> bool:
    """Cheap end-of-file checks that catch media cut off in transit."""
    match mime:
        case "image/png":
            return data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82")
        case "image/jpeg":
            return data.rstrip(b"\x00").endswith(b"\xff\xd9")
        case "audio/wav":
            return len(data) >= int.from_bytes(data[4:8], "little") + 8
        case "audio/flac":
            return _flac_complete(data)
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
