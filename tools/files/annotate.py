"""Draw what a vision model found onto the image it looked at, as HuggingGPT did."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw

PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)]  # fmt: skip


def _colour(index: int) -> tuple[int, int, int]:
    return PALETTE[index % len(PALETTE)]


def encode_image(image: Image.Image) -> bytes:
    """Encode an image in its own format when that is JPEG, PNG or WebP (JPEGs keep their quality), else PNG."""
    buffer = io.BytesIO()
    fmt = image.format if image.format in ("JPEG", "PNG", "WEBP") else "PNG"
    options = {"quality": "keep"} if fmt == "JPEG" and hasattr(image, "quantization") else {}
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def draw_boxes(image_bytes: bytes, boxes: Sequence[dict[str, Any]]) -> bytes:
    """Return PNG bytes of the image with each box outlined and labelled."""
    image = Image.open(io.BytesIO(image_bytes)).convert("RGB")
    draw = ImageDraw.Draw(image)
    labels = sorted({b["label"] for b in boxes})
    width = max(2, round(min(image.size) / 200))
    for box in boxes:
        colour = _colour(labels.index(box["label"]))
        xy = [box["box"][k] for k in ("xmin", "ymin", "xmax", "ymax")]
        draw.rectangle(xy, outline=colour, width=width)
        caption = f"{box['label']} {box['score']:.2f}"
        left, top = xy[0], max(0, xy[1] - 12)
        draw.rectangle(draw.textbbox((left, top), caption), fill=colour)
        draw.text((left, top), caption, fill=(0, 0, 0))
    return encode_image(image)


def draw_masks(image_bytes: bytes, masks: Sequence[tuple[str, Image.Image]]) -> bytes:
    """Return PNG bytes of the image with each (label, mask) tinted in its own colour."""
    image = Image.open(io.BytesIO(image_bytes)).convert("RGBA")
    for index, (_label, mask) in enumerate(masks):
        alpha = mask.convert("L").resize(image.size).point(lambda v: 110 if v > 127 else 0)
        tint = Image.new("RGBA", image.size, (*_colour(index), 0))
        tint.putalpha(alpha)
        image = Image.alpha_composite(image, tint)
    return encode_image(image.convert("RGB"))
