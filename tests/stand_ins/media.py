"""Small generated media for the stand-ins: images, audio and video that carry a readable marker.

Every file made here embeds a JSON "marker" (PNG text chunk, JPEG comment, FLAC Vorbis comment, WAV
LIST/INFO chunk, MP4 `free` box) describing what it shows or says, so the HF stand-in can answer
content-aware questions about it: an image made for "three sheep in a field" holds three sheep boxes,
its caption mentions them, and a VQA "how many sheep" gets "3".

Images and audio are written and read by real codecs (Pillow; libsndfile through soundfile), never by a
second copy of the product's media code (tools/files/media.py): were its FLAC checksums or its sniffing
wrong, the files made here would show it instead of sharing the bug.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import struct
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

MARKER_KEY = "hf-stand-in"
WAV_COMMENT_MAX = 2045  # libsndfile reads a longer WAV comment back as empty

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "pair": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "several": 3, "many": 5,
}  # fmt: skip
COUNT_WORDS = {
    v: k for k, v in NUMBER_WORDS.items() if k not in ("a", "an", "single", "pair", "several", "many")
}
VOCABULARY = frozenset((
    "person", "dog", "cat", "sheep", "horse", "cow", "bird", "car", "bicycle", "motorcycle", "boat", "bus",
    "truck", "train", "airplane", "elephant", "bear", "zebra", "giraffe", "duck", "goat", "pig", "chicken",
    "rabbit", "fox", "deer", "mouse", "goose", "fish", "apple", "banana", "orange", "chair", "table",
    "umbrella", "tree", "flower", "house", "bottle", "cup", "book", "laptop", "clock", "kite", "ball",
    "tent",
))  # fmt: skip
_IRREGULAR = {
    "people": "person", "men": "person", "women": "person", "children": "person", "man": "person",
    "woman": "person", "child": "person", "boy": "person", "girl": "person", "mice": "mouse",
    "geese": "goose", "puppy": "dog", "puppies": "dog", "kitten": "cat", "kittens": "cat",
}  # fmt: skip
_PREFIXES = re.compile(r"^(an? )?(photo|picture|image|drawing|painting|illustration) of ", re.IGNORECASE)


def singular(word: str) -> tuple[str | None, bool]:
    """(vocabulary label, was_plural) for `word`, or (None, False)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word], word not in ("man", "woman", "child", "boy", "girl", "puppy", "kitten")
    if word in VOCABULARY:
        return word, word in ("sheep", "fish", "deer")
    for cut in ("es", "s"):
        if word.endswith(cut) and word[: -len(cut)] in VOCABULARY:
            return word[: -len(cut)], True
    return None, False


def count_objects(text: str) -> dict[str, int]:
    """Objects named in `text` with their counts: "three sheep and a dog" -> {"sheep": 3, "dog": 1}."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    counts: dict[str, int] = {}
    for i, word in enumerate(words):
        label, plural = singular(word)
        if label is None:
            continue
        number = None
        for back in words[max(0, i - 3) : i][::-1]:
            if back.isdigit():
                number = int(back)
                break
            if back in NUMBER_WORDS:
                number = NUMBER_WORDS[back]
                break
        counts[label] = counts.get(label, 0) + (number or (2 if plural else 1))
    return counts


def caption_for(prompt: str) -> str:
    """A caption in the style of BLIP: "a picture of three sheep grazing in a field"."""
    phrase = _PREFIXES.sub("", prompt.strip().rstrip(".!?").strip()).lower() or "something"
    return f"a picture of {phrase}"


def stable_int(*parts: Any) -> int:
    """A hash that is the same in every process (unlike `hash`)."""
    digest = hashlib.sha1("\x1f".join(map(str, parts)).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big")


def _color(label: str) -> tuple[int, int, int]:
    h = stable_int("color", label)
    return (60 + h % 180, 60 + (h >> 8) % 180, 60 + (h >> 16) % 180)


def layout_objects(counts: dict[str, int], size: tuple[int, int]) -> list[dict[str, Any]]:
    """Place each object in its own grid cell; boxes are [xmin, ymin, xmax, ymax] in pixels."""
    labels = [label for label, n in counts.items() for _ in range(min(n, 50))]
    if not labels:
        return []
    width, height = size
    cols = math.ceil(math.sqrt(len(labels)))
    rows = math.ceil(len(labels) / cols)
    cell_w, cell_h = width / cols, height / rows
    objects = []
    for i, label in enumerate(labels):
        x, y = (i % cols) * cell_w, (i // cols) * cell_h
        box = [int(x + cell_w * 0.1), int(y + cell_h * 0.15), int(x + cell_w * 0.9), int(y + cell_h * 0.9)]
        objects.append({"label": label, "box": box})
    return objects


def scene_for(prompt: str, size: tuple[int, int] = (256, 256)) -> dict[str, Any]:
    """The marker of an image generated for `prompt`."""
    return {
        "kind": "image",
        "prompt": prompt,
        "caption": caption_for(prompt),
        "objects": layout_objects(count_objects(prompt), size),
        "size": list(size),
    }


def _draw(marker: dict[str, Any], size: tuple[int, int]) -> Image.Image:
    width, height = size
    seed = stable_int(marker.get("prompt", ""), marker.get("caption", ""))
    sky = (120 + seed % 80, 170 + (seed >> 8) % 60, 230)
    image = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, height * 2 // 3, width, height], fill=(70, 150 + (seed >> 16) % 60, 70))
    for obj in marker.get("objects", []):
        draw.rectangle(obj["box"], fill=_color(obj["label"]), outline=(20, 20, 20))
    for i, line in enumerate(marker.get("lines", [])):
        draw.text((8, 8 + 14 * i), line, fill=(0, 0, 0))
    return image


_SEEN: OrderedDict[bytes, tuple[np.ndarray, dict[str, Any]]] = OrderedDict()
_SEEN_LOCK = threading.Lock()
_SEEN_MAX = 4096


def _fingerprint(image: Image.Image) -> tuple[bytes, np.ndarray]:
    """(digest of the exact pixels, 16x16 thumbnail) of an image."""
    rgb = image.convert("RGB")
    digest = hashlib.sha1(rgb.tobytes() + repr(rgb.size).encode()).digest()
    return digest, np.asarray(rgb.resize((16, 16), Image.Resampling.BOX), dtype=np.int16)


def _remember(data: bytes, marker: dict[str, Any]) -> None:
    """Keep `marker` for these pixels: PIL re-encodes drop PNG text chunks, the pixels stay."""
    with Image.open(io.BytesIO(data)) as image:
        digest, thumb = _fingerprint(image)
    with _SEEN_LOCK:
        _SEEN[digest] = (thumb, marker)
        _SEEN.move_to_end(digest)
        while len(_SEEN) > _SEEN_MAX:
            _SEEN.popitem(last=False)


def _recall(image: Image.Image) -> dict[str, Any] | None:
    """The marker of a generated image whose pixels match (exactly, or closely after a lossy re-encode)."""
    digest, thumb = _fingerprint(image)
    with _SEEN_LOCK:
        if digest in _SEEN:
            return _SEEN[digest][1]
        entries = list(_SEEN.values())
    if not entries:
        return None
    distances = np.abs(np.stack([seen for seen, _ in entries]) - thumb).mean(axis=(1, 2, 3))
    best = int(np.argmin(distances))
    return entries[best][1] if distances[best] < 6.0 else None


def encode_image(image: Image.Image, fmt: str = "PNG", marker: dict[str, Any] | None = None) -> bytes:
    """PNG/JPEG/WEBP bytes of `image`, with `marker` embedded (PNG text chunk, JPEG comment).

    The marker is also remembered by pixels, so `read_marker` still finds it after a PIL re-encode.
    """
    fmt = fmt.upper().replace("JPG", "JPEG")
    buf = io.BytesIO()
    text = json.dumps(marker, separators=(",", ":")) if marker is not None else None
    if fmt == "PNG":
        info = PngInfo()
        if text is not None:
            info.add_text(MARKER_KEY, text)
        image.save(buf, "PNG", pnginfo=info)
    elif fmt == "JPEG":
        extra = {"comment": f"{MARKER_KEY}:{text}".encode()} if text is not None else {}
        image.convert("RGB").save(buf, "JPEG", quality=80, **extra)
    else:
        image.save(buf, fmt)
    if marker is not None:
        _remember(buf.getvalue(), marker)
    return buf.getvalue()


def make_image(
    prompt: str = "two cats and a dog on a sofa",
    *,
    fmt: str = "PNG",
    size: tuple[int, int] = (256, 256),
    marker: dict[str, Any] | None = None,
) -> bytes:
    """An image that shows (as coloured boxes) and says (in its marker) what `prompt` describes."""
    marker = marker if marker is not None else scene_for(prompt, size)
    return encode_image(_draw(marker, size), fmt, marker)


def make_document(fields: dict[str, str] | None = None, *, fmt: str = "PNG", title: str = "INVOICE") -> bytes:
    """A small document image (for document QA) whose marker holds its key/value fields."""
    fields = fields or {"invoice number": "INV-0042", "date": "2024-05-01", "total": "$1,234.00"}
    lines = [title, *(f"{key}: {value}" for key, value in fields.items())]
    marker = {"kind": "document", "caption": f"a document titled {title.lower()}", "objects": [],
              "fields": fields, "lines": lines, "size": [320, 200]}  # fmt: skip
    image = Image.new("RGB", (320, 200), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((12, 12 + 18 * i), line, fill=(0, 0, 0))
    return encode_image(image, fmt, marker)


def _tone(text: str, sample_rate: int) -> np.ndarray:
    seconds = min(0.25 + 0.05 * len(text.split()), 1.5)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    pitch = 180 + stable_int("pitch", text) % 200
    envelope = np.minimum(1.0, np.minimum(t, t[::-1]) * 20)
    return (np.sin(2 * np.pi * pitch * t) * envelope * 8000).astype("<i2")


def make_audio(text: str = "hello world", *, fmt: str = "flac", sample_rate: int = 16000) -> bytes:
    """A short tone (FLAC or WAV, written by libsndfile) whose comment, the marker, holds the words it "says"."""
    marker = json.dumps({"kind": "audio", "text": text}, separators=(",", ":"))
    if fmt.lower() == "wav" and len(marker) > WAV_COMMENT_MAX:
        raise ValueError(f"{len(text)} characters of speech are too many for a WAV comment")
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", sample_rate, 1, "PCM_16", format=fmt.upper()) as audio:
        audio.comment = marker  # a Vorbis comment in FLAC, LIST/INFO ICMT in WAV
        audio.write(_tone(text, sample_rate))
    return buffer.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def make_video(prompt: str = "a cat playing with a ball", *, seconds: float = 2.0) -> bytes:
    """A small MP4-looking file: ftyp, moov/mvhd, a `free` box holding the marker, and an mdat."""
    marker = {"kind": "video", "prompt": prompt, "caption": caption_for(prompt), "seconds": seconds}
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    mvhd = struct.pack(">B3xIIII", 0, 0, 0, 1000, int(seconds * 1000))
    mvhd += struct.pack(">IH", 0x00010000, 0x0100) + b"\x00" * 10
    mvhd += struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000) + b"\x00" * 24
    mvhd += struct.pack(">I", 2)
    moov = _box(b"moov", _box(b"mvhd", mvhd))
    free = _box(b"free", f"{MARKER_KEY}:{json.dumps(marker, separators=(',', ':'))}".encode())
    payload = hashlib.sha256(prompt.encode()).digest() * 64
    return ftyp + moov + free + _box(b"mdat", payload)


# The formats the stand-ins meet, as Pillow and libsndfile name them.
_IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")  # Pillow guesses widely without a list
_AUDIO_TYPES = {"FLAC": "audio/flac", "WAV": "audio/wav", "OGG": "audio/ogg", "MP3": "audio/mpeg"}


def sniff(data: bytes) -> str | None:
    """The media type of `data`, as the decoders see it: Pillow for images, libsndfile for audio; for video
    (no decoder installed) the container's signature: an ISO BMFF `ftyp` box first, or Matroska's EBML."""
    try:
        with Image.open(io.BytesIO(data), formats=_IMAGE_FORMATS) as image:
            return Image.MIME.get(image.format or "")
    except (OSError, ValueError, SyntaxError):
        pass
    try:
        return _AUDIO_TYPES.get(sf.info(io.BytesIO(data)).format)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    if data[4:8] == b"ftyp":
        return "audio/mp4" if data[8:11] == b"M4A" else "video/mp4"
    return "video/webm" if data.startswith(b"\x1a\x45\xdf\xa3") else None


def read_marker(data: bytes) -> dict[str, Any] | None:
    """The marker of media made here (embedded, or recalled from an image's pixels), else None."""
    kind = sniff(data)
    text: str | None = None
    try:
        if kind and kind.startswith("image/"):
            with Image.open(io.BytesIO(data)) as image:
                text = image.info.get(MARKER_KEY)
                comment = image.info.get("comment", b"")
                prefix = f"{MARKER_KEY}:".encode()
                if isinstance(comment, bytes) and comment.startswith(prefix):
                    text = comment[len(prefix) :].decode()
                if not text:
                    return _recall(image)
        elif kind and kind.startswith("audio/") and kind != "audio/mp4":
            with sf.SoundFile(io.BytesIO(data)) as audio:
                text = audio.comment
        elif kind == "video/mp4":
            at = data.find(f"{MARKER_KEY}:".encode())
            if at >= 0:
                end = data.find(b"mdat", at) - 4
                text = data[at + len(MARKER_KEY) + 1 : end if end > at else None].decode()
        return json.loads(text) if text else None
    except (OSError, ValueError, SyntaxError, sf.LibsndfileError, RuntimeError):
        return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of an image Pillow can read, else None."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (OSError, ValueError, SyntaxError):
        return None


def mask_png(size: tuple[int, int], box: list[int] | None) -> bytes:
    """A black/white (mode L) PNG mask, white inside `box` (everything if None)."""
    mask = Image.new("L", size, 0 if box else 255)
    if box:
        ImageDraw.Draw(mask).rectangle(box, fill=255)
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    return buf.getvalue()
