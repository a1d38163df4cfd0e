"""What the HF stand-in's models answer: one deterministic, content-aware engine per task.

Engines take a `Call` (task, catalog entry, decoded inputs, parameters, binary media) and return a JSON-able
value or `Media`. They read the markers that `media.py` embeds, so answers follow the content: a generated
"three sheep" image is detected as three sheep, captioned, counted in VQA; generated speech is transcribed
back to its text. Foreign media get stable answers derived from their bytes. Text engines live in
`hf_text.py`; `TASKS` (the table at the end) maps every task to its engine and input kind.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.stand_ins import media
from tests.stand_ins.hf_call import (
    STOP,
    Call,
    InputError,
    Media,
    b64decode,
    jitter,
    ranked,
    require_field,
    require_text,
    words,
)
from tests.stand_ins.hf_text import (
    feature_extraction,
    fill_mask,
    question_answering,
    sentence_similarity,
    summarization,
    table_question_answering,
    tabular_classification,
    tabular_regression,
    text_classification,
    text_generation,
    token_classification,
    translation,
    zero_shot_classification,
)

__all__ = ["TASKS", "Call", "InputError", "Media", "TaskSpec", "b64decode"]

DEFAULT_SPEECH = "a man said to the universe sir i exist"
_IMAGENET = ["tabby, tabby cat", "golden retriever", "ram, tup", "sorrel", "sports car, sport car", "umbrella",
             "park bench", "lakeside, lakeshore", "seashore, coast", "alp"]  # fmt: skip
_FOREIGN_CAPTIONS = ["a woman in a hat and dress posing for a photo", "a person standing in a room",
                     "a view of a city street", "a close up of a plate of food"]  # fmt: skip


def scene(call: Call) -> dict[str, Any]:
    """The marker of the input image, or a stable made-up scene for foreign images."""
    data = call.media or b""
    marker = media.read_marker(data)
    if marker and marker.get("kind") in ("image", "document"):
        return marker
    size = media.image_size(data)
    if size is None:
        raise InputError("Could not read the image: cannot identify image file", 400)
    seed = media.stable_int("foreign", data[:4096], len(data))
    w, h = size
    return {"kind": "image", "prompt": "", "caption": _FOREIGN_CAPTIONS[seed % len(_FOREIGN_CAPTIONS)],
            "objects": [{"label": "person", "box": [w // 8, h // 10, w * 7 // 8, h - 1]}], "size": [w, h]}  # fmt: skip


def heard(call: Call) -> str:
    """The words in the input audio (its marker), or a fixed sentence for foreign audio."""
    data = call.media or b""
    kind = media.sniff(data)
    if kind is None or not kind.startswith(("audio/", "video/")):
        raise InputError("Malformed soundfile", 400)
    marker = media.read_marker(data)
    return str(marker["text"]) if marker and marker.get("text") else DEFAULT_SPEECH


def _labels_in(marker: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in marker.get("objects", []):
        counts[obj["label"]] = counts.get(obj["label"], 0) + 1
    return counts


def audio_classification(call: Call) -> list[dict[str, Any]]:
    said = heard(call)
    labels = call.knobs.get("labels") or ["Speech", "Music", "Silence"]
    weights = {label: 3 * jitter("ac", said, label) for label in labels}
    if "Speech" in weights:
        weights["Speech"] += 4
    return ranked(weights, call.param("top_k", 5))


def automatic_speech_recognition(call: Call) -> dict[str, Any]:
    text = heard(call)
    if not call.knobs.get("cased"):
        text = " ".join(words(text))
    out: dict[str, Any] = {"text": text}
    if call.param("return_timestamps"):
        out["chunks"] = [{"text": text, "timestamp": [0.0, round(0.3 * len(text.split()), 2)]}]
    return out


def audio_to_audio(call: Call) -> list[dict[str, Any]]:
    said = heard(call)
    blob = base64.b64encode(media.make_audio(said, fmt="flac")).decode()
    count = int(call.knobs.get("sources", 1))
    return [{"label": f"label_{i}", "blob": blob, "content-type": "audio/flac"} for i in range(count)]


def text_to_speech(call: Call) -> Media:
    text = require_text(call)
    fmt = call.knobs.get("audio_format") or ("wav" if "wav" in call.accept else "flac")
    return Media(media.make_audio(text, fmt=fmt), f"audio/{fmt}")


def _image_format(call: Call) -> str:
    fmt = call.knobs.get("image_format")
    if fmt:
        return str(fmt)
    return "jpeg" if "jpeg" in call.accept or "jpg" in call.accept else "png"


def _size(call: Call, default: tuple[int, int]) -> tuple[int, int]:
    target = call.param("target_size") or call.param("image_size") or {}
    width = call.param("width") or (target.get("width") if isinstance(target, dict) else None) or default[0]
    height = (
        call.param("height") or (target.get("height") if isinstance(target, dict) else None) or default[1]
    )
    return max(16, min(int(width), 1024)), max(16, min(int(height), 1024))


def text_to_image(call: Call) -> Media:
    prompt = require_text(call)
    fmt = _image_format(call)
    return Media(media.make_image(prompt, fmt=fmt, size=_size(call, (256, 256))), f"image/{fmt}")


def image_to_image(call: Call) -> Media:
    before = scene(call)
    edit = str(call.param("prompt", "")).strip()
    prompt = ", ".join(p for p in (before.get("prompt") or before.get("caption", ""), edit) if p)
    size = _size(call, tuple(before.get("size") or (256, 256)))  # type: ignore[arg-type]
    marker = media.scene_for(prompt, size)
    marker["objects"] = media.layout_objects(_labels_in(before) or media.count_objects(prompt), size)
    marker["edited_with"] = edit
    fmt = _image_format(call)
    return Media(media.make_image(prompt, fmt=fmt, size=size, marker=marker), f"image/{fmt}")


def image_to_text(call: Call) -> list[dict[str, str]]:
    return [{"generated_text": scene(call)["caption"]}]


def image_classification(call: Call) -> list[dict[str, Any]]:
    marker = scene(call)
    if call.knobs.get("labels"):
        labels = call.knobs["labels"]
        return ranked({label: (4 if i == 0 else 0) + jitter(marker["caption"], label)
                        for i, label in enumerate(labels)}, call.param("top_k", 5))  # fmt: skip
    weights = {label: 3.0 + n for label, n in _labels_in(marker).items()}
    for i, filler in enumerate(_IMAGENET):
        weights.setdefault(filler, jitter(marker["caption"], filler) - i * 0.1)
    return ranked(weights, call.param("top_k", 5))


def object_detection(call: Call) -> list[dict[str, Any]]:
    marker = scene(call)
    threshold = float(call.param("threshold", 0.5))
    found = []
    for i, obj in enumerate(marker.get("objects", [])):
        score = round(0.9 + 0.09 * jitter("det", i, obj["label"], obj["box"]), 6)
        x0, y0, x1, y1 = obj["box"]
        if score >= threshold:
            found.append({"score": score, "label": obj["label"],
                          "box": {"xmin": x0, "ymin": y0, "xmax": x1, "ymax": y1}})  # fmt: skip
    return found


def image_segmentation(call: Call) -> list[dict[str, Any]]:
    marker = scene(call)
    size = tuple(marker.get("size") or media.image_size(call.media or b"") or (256, 256))
    w, h = int(size[0]), int(size[1])

    def segment(label: str, box: list[int] | None, score: float) -> dict[str, Any]:
        png = media.mask_png((w, h), box)
        return {"score": round(score, 6), "label": label, "mask": base64.b64encode(png).decode()}

    background = "paper" if marker.get("kind") == "document" else "sky"
    out = [segment(background, [0, 0, w - 1, h * 2 // 3], 0.99)]
    if marker.get("kind") != "document":
        out.append(segment("grass", [0, h * 2 // 3, w - 1, h - 1], 0.97))
    for i, obj in enumerate(marker.get("objects", [])):
        out.append(segment(obj["label"], obj["box"], 0.9 + 0.09 * jitter("seg", i, obj["label"])))
    threshold = float(call.param("threshold", 0.0))
    return [item for item in out if item["score"] >= threshold]


def zero_shot_image_classification(call: Call) -> list[dict[str, Any]]:
    marker = scene(call)
    labels = call.param("candidate_labels")
    if isinstance(labels, str):
        labels = [part.strip() for part in labels.split(",") if part.strip()]
    if not isinstance(labels, list) or len(labels) < 2:
        raise InputError("Input validation error: `parameters.candidate_labels` needs at least 2 labels")
    seen = set(_labels_in(marker)) | set(words(marker.get("caption", "")))
    weights = {}
    for label in labels:
        hits = sum(1 for w in words(str(label)) if w in seen or media.singular(w)[0] in seen)
        weights[str(label)] = 5.0 * hits + jitter("zsi", marker["caption"], label)
    return ranked(weights)


def _answers(question: str, marker: dict[str, Any]) -> list[tuple[str, float]]:
    q = question.lower()
    counts = _labels_in(marker)
    if "how many" in q:
        asked = [media.singular(w)[0] for w in words(q)]
        label = next((a for a in asked if a), None)
        n = counts.get(label, 0) if label else sum(counts.values())
        return [(str(n), 0.93), (str(n + 1), 0.04), (str(max(n - 1, 0)), 0.02), (str(n + 2), 0.01)]
    if q.startswith(("is there", "are there", "is it", "does", "do ", "can ")):
        asked = {media.singular(w)[0] for w in words(q)} - {None}
        yes = bool(asked & set(counts)) or any(
            w in marker.get("caption", "") for w in words(q) if w not in STOP
        )
        return [("yes", 0.91), ("no", 0.09)] if yes else [("no", 0.88), ("yes", 0.12)]
    if marker.get("fields"):
        return [(_field_answer(q, marker["fields"])[0], 0.9)]
    top = max(counts, key=counts.get) if counts else (words(marker.get("caption", "")) or ["nothing"])[-1]  # type: ignore[arg-type]
    return [(top, 0.87), ("animal" if top != "animal" else "thing", 0.05), ("nothing", 0.02)]


def visual_question_answering(call: Call) -> list[dict[str, Any]]:
    question = call.param("question") or (
        call.inputs.get("question") if isinstance(call.inputs, dict) else None
    )
    if not isinstance(question, str) or not question.strip():
        raise InputError("Input validation error: `question` is required")
    answers = _answers(question, scene(call))
    return [{"score": score, "answer": answer} for answer, score in answers][: int(call.param("top_k", 5))]


def _field_answer(question: str, fields: dict[str, str]) -> tuple[str, int]:
    asked = set(words(question))
    best = max(fields, key=lambda key: (len(asked & set(words(key))), -list(fields).index(key)))
    return fields[best], list(fields).index(best)


def document_question_answering(call: Call) -> list[dict[str, Any]]:
    question = require_field(call, "question")
    call.media = b64decode(require_field(call, "image"), "inputs.image")
    marker = scene(call)
    fields = marker.get("fields") or {"text": marker.get("caption", "")}
    answer, index = _field_answer(question, fields)
    start = sum(len(words(f"{k} {v}")) for k, v in list(fields.items())[:index]) + len(
        words(list(fields)[index])
    )
    return [{"answer": answer, "score": 0.97, "start": start, "end": start + len(words(answer)) - 1}]


def text_to_video(call: Call) -> Media:
    return Media(media.make_video(require_text(call, "prompt")), "video/mp4")


def image_to_video(call: Call) -> Media:
    marker = scene(call)
    prompt = ", ".join(p for p in (marker.get("prompt") or marker.get("caption"), call.param("prompt")) if p)
    return Media(media.make_video(prompt), "video/mp4")


@dataclass(frozen=True)
class TaskSpec:
    """How a task reads its input on hf-inference and which engine answers it."""

    engine: Callable[[Call], Any]
    input: str  # "text" | "image" | "audio" | "object" | "table"


TASKS: dict[str, TaskSpec] = {
    "audio-classification": TaskSpec(audio_classification, "audio"),
    "audio-to-audio": TaskSpec(audio_to_audio, "audio"),
    "automatic-speech-recognition": TaskSpec(automatic_speech_recognition, "audio"),
    "document-question-answering": TaskSpec(document_question_answering, "object"),
    "feature-extraction": TaskSpec(feature_extraction, "text"),
    "fill-mask": TaskSpec(fill_mask, "text"),
    "image-classification": TaskSpec(image_classification, "image"),
    "image-segmentation": TaskSpec(image_segmentation, "image"),
    "image-to-image": TaskSpec(image_to_image, "image"),
    "image-to-text": TaskSpec(image_to_text, "image"),
    "image-to-video": TaskSpec(image_to_video, "image"),
    "object-detection": TaskSpec(object_detection, "image"),
    "question-answering": TaskSpec(question_answering, "object"),
    "sentence-similarity": TaskSpec(sentence_similarity, "object"),
    "summarization": TaskSpec(summarization, "text"),
    "table-question-answering": TaskSpec(table_question_answering, "object"),
    "tabular-classification": TaskSpec(tabular_classification, "table"),
    "tabular-regression": TaskSpec(tabular_regression, "table"),
    "text-classification": TaskSpec(text_classification, "text"),
    "text-generation": TaskSpec(text_generation, "text"),
    "text-to-image": TaskSpec(text_to_image, "text"),
    "text-to-speech": TaskSpec(text_to_speech, "text"),
    "text-to-video": TaskSpec(text_to_video, "text"),
    "token-classification": TaskSpec(token_classification, "text"),
    "translation": TaskSpec(translation, "text"),
    "visual-question-answering": TaskSpec(visual_question_answering, "image"),
    "zero-shot-classification": TaskSpec(zero_shot_classification, "text"),
    "zero-shot-image-classification": TaskSpec(zero_shot_image_classification, "image"),
}
