"""Shared pieces of the HF stand-in's task engines: the decoded request (`Call`), answers, input checks."""

from __future__ import annotations

import base64
import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.stand_ins import media

STOP = frozenset((
    "a", "an", "the", "of", "in", "on", "at", "to", "is", "are", "was", "were", "be", "what", "which",
    "who", "whom", "whose", "how", "many", "much", "does", "do", "did", "there", "this", "that", "these",
    "those", "it", "its", "for", "with", "and", "or", "by", "from", "as", "me", "my", "your", "i", "you",
    "we", "they", "he", "she",
))  # fmt: skip


class InputError(Exception):
    """A request the stand-in refuses (status 400 for unreadable bodies, 422 for invalid fields)."""

    def __init__(self, message: str, status: int = 422, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else {"error": message}


@dataclass
class Media:
    """Binary answer (image, audio, video) with its content type."""

    data: bytes
    content_type: str


@dataclass
class Call:
    """One inference request, decoded."""

    task: str
    model: dict[str, Any]
    inputs: Any = None
    parameters: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    media: bytes | None = None
    accept: str = "*/*"

    @property
    def knobs(self) -> dict[str, Any]:
        return self.model.get("stand_in") or {}

    def param(self, name: str, default: Any = None) -> Any:
        value = self.parameters.get(name)
        if value is None:
            value = self.payload.get(name)
        return default if value is None else value


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def ranked(weights: dict[Any, float], top_k: int | None = None, key: str = "label") -> list[dict[str, Any]]:
    """Softmax of `weights` as [{label, score}], best first."""
    if not weights:
        return []
    peak = max(weights.values())
    exp = {label: math.exp(w - peak) for label, w in weights.items()}
    total = sum(exp.values())
    ranked = sorted(({key: label, "score": round(v / total, 6)} for label, v in exp.items()),
                    key=lambda item: -item["score"])  # fmt: skip
    return ranked[:top_k] if top_k else ranked


def jitter(*parts: Any) -> float:
    return (media.stable_int(*parts) % 1000) / 1000.0


def b64decode(value: Any, what: str = "inputs") -> bytes:
    if not isinstance(value, str) or not value:
        raise InputError(f"`{what}` must be a base64-encoded string")
    if value.startswith("data:"):
        value = value.split(",", 1)[-1]
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as error:
        raise InputError(f"`{what}` is not valid base64: {error}", 400) from None


@functools.lru_cache(maxsize=4096)
def _word_vector(word: str, dims: int) -> np.ndarray:
    return np.random.default_rng(media.stable_int("vec", word)).standard_normal(dims).astype("float32")


def embed(text: str, dims: int) -> np.ndarray:
    """A bag-of-words embedding: texts sharing words are close (cosine)."""
    vector = np.zeros(dims, dtype="float32")
    for word in words(text) or ["<empty>"]:
        vector += _word_vector(word, dims) * (0.3 if word in STOP else 1.0)
    return vector / (float(np.linalg.norm(vector)) or 1.0)


def require_text(call: Call, name: str = "inputs") -> str:
    if not isinstance(call.inputs, str) or not call.inputs.strip():
        raise InputError(f"Input validation error: `{name}` must be a non-empty string")
    return call.inputs


def require_field(call: Call, key: str, kind: type | tuple[type, ...] = str) -> Any:
    source = call.inputs if isinstance(call.inputs, dict) else {}
    value = source.get(key, call.payload.get(key))
    if not isinstance(value, kind) or (isinstance(value, str | list | dict) and not value):
        raise InputError(f"Input validation error: `inputs.{key}` is required")
    return value
