"""The product's media sniffing and truncation checks (tools/files/media.py) against files written by real
encoders (Pillow, libsndfile), not against a second copy of its own byte rules."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from hugginggpt.tools.files.media import looks_complete, sniff
from tests.stand_ins import media


def pillow(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 90)).save(buffer, fmt)
    return buffer.getvalue()


def libsndfile(fmt: str, subtype: str, rate: int = 16000, seconds: float = 1.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    buffer = io.BytesIO()
    sf.write(buffer, 0.3 * np.sin(2 * np.pi * 440 * t), rate, subtype=subtype, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (pillow("PNG"), "image/png"),
        (pillow("JPEG"), "image/jpeg"),
        (pillow("GIF"), "image/gif"),
        (pillow("WEBP"), "image/webp"),
        (pillow("BMP"), "image/bmp"),
        (pillow("TIFF"), "image/tiff"),
        (libsndfile("FLAC", "PCM_16"), "audio/flac"),
        (libsndfile("WAV", "PCM_16"), "audio/wav"),
        (libsndfile("OGG", "VORBIS"), "audio/ogg"),
        (libsndfile("MP3", "MPEG_LAYER_III"), "audio/mpeg"),
    ],
)
def test_sniff_names_what_real_encoders_wrote(data: bytes, mime: str) -> None:
    found = sniff(data)
    assert found is not None and found[0] == mime
    assert media.sniff(data) == mime  # the stand-ins' sniffing asks the same decoders


@pytest.mark.parametrize(("rate", "subtype"), [(8000, "PCM_16"), (22050, "PCM_24"), (48000, "PCM_16")])
def test_a_libsndfile_flac_passes_whole_and_not_cut(rate: int, subtype: str) -> None:
    """The FLAC checksums (CRC-8 of each frame header, CRC-16 of the last frame) as libFLAC computes them:
    a whole file passes, whichever rate and depth; cut anywhere sampled, it does not."""
    data = libsndfile("FLAC", subtype, rate, seconds=1.3)
    assert looks_complete(data, "audio/flac")
    cuts = range(len(data) // 20, len(data) - 1, max(1, len(data) // 97))
    assert [cut for cut in cuts if looks_complete(data[:cut], "audio/flac")] == []
    flipped = data[:-1] + bytes([data[-1] ^ 0x01])  # the last CRC-16 byte wrong
    assert not looks_complete(flipped, "audio/flac")


def test_stand_in_audio_is_libsndfiles_and_keeps_its_words() -> None:
    for fmt in ("flac", "wav"):
        data = media.make_audio("three sheep say baa", fmt=fmt)
        with sf.SoundFile(io.BytesIO(data)) as audio:  # a real decoder reads it
            assert audio.format == fmt.upper() and audio.frames > 0
        assert media.read_marker(data) == {"kind": "audio", "text": "three sheep say baa"}
    with pytest.raises(ValueError, match="too many for a WAV comment"):
        media.make_audio("baa " * 600, fmt="wav")
