"""Media inputs are read only under the policy; outputs land under the output folder, named by content."""

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hugginggpt.tools.files.artifacts import ArtifactStore
from hugginggpt.tools.files.media import looks_complete, sniff
from hugginggpt.tools.inference.errors import InputRefused, OutputNotSaved
from hugginggpt.tools.settings import HFSettings
from tests.disks import SmallDisk


def png_bytes(colour: str = "red", size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "green").save(buffer, format="JPEG")
    return buffer.getvalue()


def wav_bytes(frames: int = 800) -> bytes:
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * frames)
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ArtifactStore:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return ArtifactStore(HFSettings(output_dir=Path("outputs"), max_input_mb=0.05))


def test_sniffs_by_bytes_not_names() -> None:
    assert sniff(png_bytes())[:2] == ("image/png", ".png")
    assert sniff(jpeg_bytes())[:2] == ("image/jpeg", ".jpg")
    assert sniff(wav_bytes())[:2] == ("audio/wav", ".wav")
    assert sniff(b"fLaC\x00\x00\x00\x22" + b"\x00" * 40)[:2] == ("audio/flac", ".flac")
    assert sniff(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 16)[:2] == ("video/mp4", ".mp4")
    assert sniff(b"hello, I am a text file") is None


def test_truncation_is_noticed() -> None:
    png, wav = png_bytes(), wav_bytes()
    assert looks_complete(png, "image/png") and not looks_complete(png[:-20], "image/png")
    assert looks_complete(wav, "audio/wav") and not looks_complete(wav[:-100], "audio/wav")
    mp4 = (
        (24).to_bytes(4, "big") + b"ftypmp42" + b"\x00" * 12 + (16).to_bytes(4, "big") + b"mdat" + b"\x00" * 8
    )
    assert looks_complete(mp4, "video/mp4") and not looks_complete(mp4[:-3], "video/mp4")


def test_saves_with_content_name_and_sniffed_extension(store: ArtifactStore) -> None:
    saved = store.save(jpeg_bytes())
    assert saved["mime_type"] == "image/jpeg" and saved["kind"] == "image"
    path = Path(saved["path"])
    assert path.parent == Path("outputs/images") and path.suffix == ".jpg" and len(path.stem) == 12
    assert store.save(jpeg_bytes()) == saved  # same bytes, same file
    audio = store.save(wav_bytes())
    assert audio["path"].startswith("outputs/audios/") and audio["path"].endswith(".wav")


def test_save_refuses_unknown_or_truncated(store: ArtifactStore) -> None:
    with pytest.raises(ValueError, match="not a known media"):
        store.save(b"<html>oops</html>")
    with pytest.raises(ValueError, match="truncated"):
        store.save(png_bytes()[:-30])
    with pytest.raises(ValueError, match="expected video"):
        store.save(png_bytes(), "video")
    assert not Path("outputs/images").exists() or not list(Path("outputs/images").iterdir())


@pytest.mark.parametrize(
    ("readonly", "cause"), [(False, "No space left on device"), (True, "Read-only file system")]
)
def test_a_local_write_failure_names_the_folder_and_leaves_no_partial_file(
    store: ArtifactStore, small_disk: Any, readonly: bool, cause: str
) -> None:
    disk: SmallDisk = small_disk(Path("outputs/images").resolve(), readonly=readonly)
    if not readonly:
        disk.fill()
    big = png_bytes(size=(200, 200)) + b"\0" * 40_000  # more than one free page, whatever is left
    with pytest.raises(OutputNotSaved) as caught:
        store.save(big)
    sentence = str(caught.value)
    assert sentence == (
        f"the image could not be saved in outputs/images ({cause}); a local problem, not the model's:"
        " free some space or fix the folder, or set HUGGINGGPT_OUTPUT_DIR to another one."
    )
    assert disk.names() == []  # no .part file, no empty file under the final name


def test_loads_files_under_allowed_folders(store: ArtifactStore) -> None:
    Path("cat.png").write_bytes(png_bytes())
    loaded = store.load("cat.png", "image")
    assert loaded.data.mime_type == "image/png" and bytes(loaded.data) == png_bytes()
    made = store.save(png_bytes("blue"))
    assert store.load(made["path"], "image").kind == "image"
    # a path relative to the output folder works too
    assert store.load(made["path"].removeprefix("outputs/"), "image").source.endswith(made["path"])


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "no image"),
        ("missing.png", "not found"),
        ("/etc/passwd", "outside the allowed folders"),
        ("~/.ssh/id_rsa", "outside the allowed folders"),
        ("../outside.png", "outside the allowed folders"),
        ("file:///etc/passwd", "'file:' URLs are not accepted"),
        ("ftp://example.com/a.png", "'ftp:' URLs are not accepted"),
        ("/dev/zero", "outside the allowed folders"),
        ("http://127.0.0.1/a.png", "private, loopback or link-local"),
        ("http://169.254.169.254/latest/meta-data", "private, loopback or link-local"),
        ("http://10.0.0.7/a.png", "private, loopback or link-local"),
        ("http://[::1]/a.png", "private, loopback or link-local"),
        ("http://localhost:8080/a.png", "private, loopback or link-local"),
    ],
)
def test_refuses_before_sending(store: ArtifactStore, tmp_path: Path, value: str, reason: str) -> None:
    (tmp_path / "outside.png").write_bytes(png_bytes())
    with pytest.raises(InputRefused, match=reason):
        store.load(value, "image")


def test_refuses_symlink_out_of_allowed(store: ArtifactStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes())
    os.symlink(secret, "link.png")
    with pytest.raises(InputRefused, match="outside the allowed folders"):
        store.load("link.png", "image")


def test_refuses_wrong_media_oversized_and_folders(store: ArtifactStore) -> None:
    Path("notes.png").write_text("not an image at all")
    with pytest.raises(InputRefused, match="not an image: it is not a recognised media file"):
        store.load("notes.png", "image")
    Path("voice.wav").write_bytes(wav_bytes())
    with pytest.raises(InputRefused, match="not an image: it is audio"):
        store.load("voice.wav", "image")
    Path("big.png").write_bytes(png_bytes() + b"\x00" * 60_000)
    with pytest.raises(InputRefused, match="too large"):
        store.load("big.png", "image")
    Path("folder.png").mkdir()
    with pytest.raises(InputRefused, match="not a regular file"):
        store.load("folder.png", "image")
    # documents accept scanned images
    assert store.load("voice.wav", "audio").kind == "audio"


HTML = b"<!doctype html><script>fetch('/gradio_api/queue/data')</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    ("data", "name", "declared", "sentence"),
    [
        (HTML, "page.html", "text/html", "'page.html' is not an image, audio, video or PDF file; only those"),
        (SVG, "x.svg", "image/svg+xml", "'x.svg' is not an image, audio, video or PDF file; only those"),
        (HTML, "x.png", "image/png", "'x.png' is not an image, audio, video or PDF file; only those"),
        (png_bytes() + b"\0" * 60_000, "big.png", "image/png", "'big.png' is too large (0.1 MB; the limit"),
        (wav_bytes(), "song.png", "image/png", "'song.png' says it is 'image/png' but holds audio/wav"),
    ],
)
def test_an_upload_of_any_kind_is_refused_unless_it_is_media(
    store: ArtifactStore, data: bytes, name: str, declared: str, sentence: str
) -> None:
    with pytest.raises(InputRefused) as refused:
        store.save_upload(data, None, name, declared, under="web-1", name=name)
    assert str(refused.value).startswith(sentence)
    with pytest.raises(InputRefused):
        store.check_upload(data, None, name, declared)
    assert not Path("outputs/uploads").exists()  # nothing written, not even the folder


def test_an_upload_keeps_a_readable_name_and_the_sniffed_extension(store: ArtifactStore) -> None:
    saved = store.save_upload(
        jpeg_bytes(), None, "my photo.PNG", "image/png", under="web-1", name="my photo.PNG"
    )
    path = Path(saved.source)
    assert (
        path.parent == Path("outputs/uploads/web-1") and path.suffix == ".jpg"
    )  # the bytes', not the name's
    assert (
        path.stem.startswith("my_photo-") and saved.kind == "image" and saved.data.mime_type == "image/jpeg"
    )
    assert store.load(saved.source, "image").source == str(path.resolve())  # the tools may read it
    audio = store.save_upload(wav_bytes(), None, "data:audio/wav;base64,…", "audio/wav")
    assert re.fullmatch(r"outputs/uploads/[0-9a-f]{12}\.wav", audio.source) and audio.kind == "audio"
    with pytest.raises(ValueError, match="uploads are kept under uploads/"):
        store.save_upload(jpeg_bytes(), None, "x.jpg", under="../images")
