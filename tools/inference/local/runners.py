"""Loading and calling local models: one loader and one call per runner of the local task table.

This is where torch and transformers come in: tools/inference/local/models.py imports this module on the first local
call only. A call gets the tool's arguments (media as bytes, as the router's client would) and returns
the runner's plain answer; the table's `answer` turns it into the router's answer.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from PIL import Image

from hugginggpt.tools.inference.errors import AttemptFailed, Cause, Failure
from hugginggpt.tools.inference.local.tasks import LocalTask
from hugginggpt.tools.tasks.table import TaskSpec

transformers.utils.logging.disable_progress_bar()  # tool calls show their own progress
transformers.utils.logging.set_verbosity_error()

CHUNK_SECONDS = 30.0  # longer audio is transcribed in windows of this length (Whisper's)
MAX_ANSWER_TOKENS = 15  # extractive QA: the longest span considered, as transformers' QA pipeline had it
DTYPE = torch.float32  # the checkpoint's numbers as the router computes them, on every device


@dataclass
class Loaded:
    """A model ready to call, and the lock its calls take turns on (tokenizers are not thread-safe)."""

    model: Any  # a pipeline, a SentenceTransformer, or a PreTrainedModel
    tokenizer: Any = None
    image_processor: Any = None
    max_tokens: int | None = None  # the longest text input the model takes (None: it truncates)
    sentence_transformers: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def unsupported(detail: str) -> AttemptFailed:
    """An input or model this machine cannot run: a failed attempt another model may still serve."""
    return AttemptFailed(Failure(Cause.UNSUPPORTED, detail))


def pick_device(setting: str) -> str:
    """'auto' -> the first of cuda, mps and cpu that this machine has."""
    if setting != "auto":
        return setting
    if torch.cuda.is_available():
        return "cuda"
    return "mps" if torch.backends.mps.is_available() else "cpu"


def is_sentence_transformers(folder: Path) -> bool:
    """Whether sentence-transformers is the model's own library (its modules.json names the pooling)."""
    return (folder / "modules.json").is_file()


def _max_tokens(tokenizer: Any, config: Any) -> int | None:
    limits = [getattr(tokenizer, "model_max_length", None), getattr(config, "max_position_embeddings", None)]
    known = [n for n in limits if isinstance(n, int) and 0 < n < 1_000_000]  # unset: a huge sentinel
    return min(known) if known else None


def _auto(name: str, folder: Path, device: str) -> Any:
    model = getattr(transformers, name).from_pretrained(folder, dtype=DTYPE, local_files_only=True)
    return model.to(device).eval()


def load(row: LocalTask, spec: TaskSpec, folder: Path, device: str) -> Loaded:
    """Load the model in `folder` the way `row`'s runner calls it."""
    if row.runner == "similarity" or (row.runner == "embedding" and is_sentence_transformers(folder)):
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(folder), device=device, local_files_only=True)
        return Loaded(model, sentence_transformers=True)
    if row.runner in ("pipeline", "embedding"):
        task: Any = row.pipeline or "feature-extraction"  # any task name (the overloads list each one)
        pipe = transformers.pipeline(task, model=str(folder), device=device, dtype=DTYPE)
        limit = _max_tokens(pipe.tokenizer, pipe.model.config) if pipe.tokenizer is not None else None
        return Loaded(pipe, pipe.tokenizer, max_tokens=limit)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if row.runner == "extractive-qa":
        model = _auto("AutoModelForQuestionAnswering", folder, device)
        return Loaded(model, tokenizer, max_tokens=_max_tokens(tokenizer, model.config))
    if _media_of(spec, row.inputs[0]) == "image":
        processor = transformers.AutoImageProcessor.from_pretrained(folder, local_files_only=True)
        return Loaded(_auto("AutoModelForImageTextToText", folder, device), tokenizer, processor)
    model = _auto("AutoModelForSeq2SeqLM", folder, device)
    return Loaded(model, tokenizer, max_tokens=_max_tokens(tokenizer, model.config))


# ---- inputs ----
def _media_of(spec: TaskSpec, name: str) -> str | None:
    return spec.media_args.get(name)


def _image(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data)).convert("RGB")
    except (OSError, ValueError) as error:
        raise unsupported(f"the image could not be decoded here ({error})") from None


def _audio(data: bytes, rate: int, max_seconds: float) -> dict[str, Any]:
    """Decoded mono samples at the model's rate (soundfile reads WAV, FLAC, OGG, MP3; soxr resamples)."""
    import soundfile
    import soxr

    try:
        samples, source_rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise unsupported(f"the audio could not be decoded here ({error})") from None
    mono = samples.mean(axis=1)
    seconds = len(mono) / source_rate
    if seconds > max_seconds:
        raise unsupported(
            f"the audio is {seconds:.0f} s long; local transcription takes at most {max_seconds:g} s"
        )
    if source_rate != rate:
        mono = soxr.resample(mono, source_rate, rate)
    return {"raw": np.ascontiguousarray(mono, dtype=np.float32), "sampling_rate": rate}


def _value(spec: TaskSpec, row: LocalTask, loaded: Loaded, name: str, value: Any) -> Any:
    media = _media_of(spec, name)
    if media in ("image", "document"):
        return _image(value)
    if media == "audio":
        return _audio(value, loaded.model.feature_extractor.sampling_rate, row.max_audio_seconds)
    return value


def _check_tokens(loaded: Loaded, texts: list[str]) -> None:
    """Refuse text longer than the model takes (it would fail or be cut short)."""
    if loaded.max_tokens is None or loaded.tokenizer is None or not texts:
        return
    count = len(loaded.tokenizer(*texts[:2])["input_ids"])
    if count > loaded.max_tokens:
        raise unsupported(
            f"the input is {count} tokens long; the local model takes at most {loaded.max_tokens}"
        )


# ---- the runners ----
def _pipeline(loaded: Loaded, spec: TaskSpec, values: list[Any], options: dict[str, Any]) -> Any:
    first = values[0]
    if isinstance(first, dict) and len(first["raw"]) > CHUNK_SECONDS * first["sampling_rate"]:
        options = {"chunk_length_s": CHUNK_SECONDS, **options}
    return loaded.model(*values, **options)


def _similarity(loaded: Loaded, spec: TaskSpec, values: list[Any], options: dict[str, Any]) -> list[float]:
    """Cosine of the model's own sentence embeddings (its pooling and normalisation), as the router's."""
    sentence, others = values
    vectors = np.asarray(loaded.model.encode([sentence, *others], convert_to_numpy=True), dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [float(score) for score in vectors[1:] @ vectors[0]]


def _embedding(loaded: Loaded, spec: TaskSpec, values: list[Any], options: dict[str, Any]) -> np.ndarray:
    """[1, dim] for a sentence-transformers model (its pooled vector), [1, tokens, dim] otherwise."""
    normalize = bool(options.get("normalize"))
    if loaded.sentence_transformers:
        vector = loaded.model.encode(values[0], normalize_embeddings=normalize, convert_to_numpy=True)
        return np.asarray(vector, dtype=np.float32)[None, :]
    states = np.asarray(loaded.model(values[0]), dtype=np.float32)
    return states / np.linalg.norm(states, axis=-1, keepdims=True) if normalize else states


def _lang_id(tokenizer: Any, code: str) -> int:
    """The token id of a language code (mBART `fr_XX`, NLLB `fra_Latn`, M2M100 `fr`)."""
    if hasattr(tokenizer, "get_lang_id"):
        try:
            return int(tokenizer.get_lang_id(code))
        except KeyError:
            pass
    token = tokenizer.convert_tokens_to_ids(code)
    if token is None or token == tokenizer.unk_token_id:
        raise unsupported(f"the local model knows no language code '{code}'")
    return int(token)


def _generate(loaded: Loaded, spec: TaskSpec, values: list[Any], options: dict[str, Any]) -> str:
    """Text from a text or image input with the model's own generation settings."""
    model, tokenizer = loaded.model, loaded.tokenizer
    settings: dict[str, Any] = {}
    if loaded.image_processor is not None:
        inputs = {
            "pixel_values": loaded.image_processor(images=values[0], return_tensors="pt")["pixel_values"]
        }
    else:
        source, target = options.get("src_lang"), options.get("tgt_lang")
        key = spec.task if spec.task != "translation" else f"translation_{source}_to_{target}"
        settings = dict((getattr(model.config, "task_specific_params", None) or {}).get(key) or {})
        prefix = settings.pop("prefix", "")  # T5's "summarize: ", "translate English to French: "
        if hasattr(tokenizer, "src_lang"):  # a multilingual model: language codes; others ignore them
            if source:
                tokenizer.src_lang = source  # under the model's lock
            if target:
                settings["forced_bos_token_id"] = _lang_id(tokenizer, target)
        inputs = tokenizer(prefix + values[0], return_tensors="pt", return_token_type_ids=False)
    with torch.inference_mode():
        ids = model.generate(**{k: v.to(model.device) for k, v in inputs.items()}, **settings)
    return str(tokenizer.decode(ids[0], skip_special_tokens=True)).strip()


def _extractive_qa(
    loaded: Loaded, spec: TaskSpec, values: list[Any], options: dict[str, Any]
) -> dict[str, Any]:
    """The most likely answer span in the context (start <= end, at most 15 tokens), with its score."""
    question, context = values
    tokenizer, model = loaded.tokenizer, loaded.model
    encoded = tokenizer(question, context, return_tensors="pt", return_offsets_mapping=True)
    offsets = encoded.pop("offset_mapping")[0].tolist()
    allowed = torch.tensor([side == 1 for side in encoded.sequence_ids(0)])
    allowed[0] = True  # the first token takes part in the softmax, as in transformers' QA pipeline
    inputs = {k: v.to(model.device) for k, v in encoded.items() if k in tokenizer.model_input_names}
    with torch.inference_mode():
        out = model(**inputs)
    start, end = (logits[0].float().cpu().masked_fill(~allowed, -1e4).softmax(-1)
                  for logits in (out.start_logits, out.end_logits))  # fmt: skip
    start[0] = end[0] = 0.0
    spans = torch.tril(torch.triu(start[:, None] * end[None, :]), MAX_ANSWER_TOKENS - 1)
    first, last = divmod(int(spans.argmax()), spans.shape[1])
    begin, finish = offsets[first][0], offsets[last][1]
    return {
        "answer": context[begin:finish],
        "score": float(spans[first, last]),
        "start": begin,
        "end": finish,
    }


RUNNERS: dict[str, Callable[[Loaded, TaskSpec, list[Any], dict[str, Any]], Any]] = {
    "pipeline": _pipeline, "similarity": _similarity, "embedding": _embedding,
    "generate": _generate, "extractive-qa": _extractive_qa,
}  # fmt: skip


def plain(value: Any) -> Any:
    """numpy and torch scalars and tensors inside an answer -> Python numbers and lists (arrays stay)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic | torch.Tensor):
        return value.tolist()
    return value


def call(row: LocalTask, spec: TaskSpec, loaded: Loaded, sent: dict[str, Any]) -> Any:
    """Run one call on a loaded model (the caller holds `loaded.lock`): the router's answer for the task."""
    values = [_value(spec, row, loaded, name, sent[name]) for name in row.inputs]
    options = {**row.fixed, **{name: sent[name] for name in row.options if sent.get(name) is not None}}
    _check_tokens(loaded, [v for v in values if isinstance(v, str)])
    return row.answer(plain(RUNNERS[row.runner](loaded, spec, values, options)))
