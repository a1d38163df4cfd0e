"""The local task table: how a task runs on this machine, as data beside the task table (tools/tasks/table.py).

A row names the runner that loads and calls the model (tools/inference/local/runners.py: a transformers pipeline,
sentence-transformers, or transformers' `generate` and extractive QA where transformers 5 has no
pipeline), the tool arguments it is called with, and how its answer becomes the router's answer for the
task: the same huggingface_hub types `InferenceClient` returns, so tools/tasks/outputs.py renders local results
unchanged. Running one more task locally is one more row (README, "Local models").

Nothing here imports torch or transformers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from huggingface_hub import (
    AutomaticSpeechRecognitionOutput,
    FillMaskOutputElement,
    ImageClassificationOutputElement,
    ImageToTextOutput,
    ObjectDetectionOutputElement,
    QuestionAnsweringOutputElement,
    SummarizationOutput,
    TextClassificationOutputElement,
    TokenClassificationOutputElement,
    TranslationOutput,
    ZeroShotClassificationOutputElement,
)

# pipeline: transformers.pipeline(task); similarity/embedding: sentence-transformers (embedding: the
# transformers feature-extraction pipeline for a model without a sentence-transformers config);
# generate: AutoModelForSeq2SeqLM / AutoModelForImageTextToText + generate; extractive-qa: the best span.
Runner = Literal["pipeline", "similarity", "embedding", "generate", "extractive-qa"]


def _same(answer: Any) -> Any:
    return answer


def _listed(kind: Any) -> Callable[[Any], Any]:
    """[{...}, ...] (or [[{...}, ...]], as text classification gives for one text) -> [kind, ...]."""

    def parse(answer: Any) -> Any:
        if isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], list):
            answer = answer[0]
        return kind.parse_obj_as_list(answer)

    return parse


def _single(kind: Any, text_field: str | None = None) -> Callable[[Any], Any]:
    """{...} -> kind; a plain string goes into `text_field`."""
    return lambda answer: kind.parse_obj_as_instance({text_field: answer} if text_field else answer)


def _zero_shot(answer: dict[str, Any]) -> Any:
    pairs = zip(answer["labels"], answer["scores"], strict=True)
    return ZeroShotClassificationOutputElement.parse_obj_as_list(
        [{"label": lb, "score": s} for lb, s in pairs]
    )


@dataclass(frozen=True)
class LocalTask:
    """How one task runs locally."""

    runner: Runner
    inputs: tuple[str, ...]  # tool arguments passed in this order (media as PIL images / decoded audio)
    options: tuple[str, ...] = ()  # tool arguments passed by name when given
    fixed: dict[str, Any] = field(default_factory=dict)  # keywords always passed (`options` win)
    pipeline: str | None = None  # the transformers pipeline task, for runner "pipeline"
    answer: Callable[[Any], Any] = _same  # the runner's plain answer -> the router's answer
    max_audio_seconds: float = 600.0  # longer audio is refused (an input over the task's limits)


LOCAL_TASKS: dict[str, LocalTask] = {
    "sentence-similarity": LocalTask("similarity", ("sentence", "other_sentences")),
    "feature-extraction": LocalTask("embedding", ("text",), ("normalize",)),
    "text-classification": LocalTask("pipeline", ("text",), ("top_k",), {"top_k": None},
                                     "text-classification", _listed(TextClassificationOutputElement)),
    "token-classification": LocalTask("pipeline", ("text",), (), {"aggregation_strategy": "simple"},
                                      "token-classification", _listed(TokenClassificationOutputElement)),
    "zero-shot-classification": LocalTask("pipeline", ("text",), ("candidate_labels", "multi_label"), {},
                                          "zero-shot-classification", _zero_shot),
    "fill-mask": LocalTask("pipeline", ("text",), ("top_k",), {}, "fill-mask", _listed(FillMaskOutputElement)),
    "question-answering": LocalTask("extractive-qa", ("question", "context"),
                                    answer=_single(QuestionAnsweringOutputElement)),
    "summarization": LocalTask("generate", ("text",), answer=_single(SummarizationOutput, "summary_text")),
    "translation": LocalTask("generate", ("text",), ("src_lang", "tgt_lang"),
                             answer=_single(TranslationOutput, "translation_text")),
    "image-classification": LocalTask("pipeline", ("image",), ("top_k",), {}, "image-classification",
                                      _listed(ImageClassificationOutputElement)),
    "object-detection": LocalTask("pipeline", ("image",), ("threshold",), {}, "object-detection",
                                  _listed(ObjectDetectionOutputElement)),
    "image-to-text": LocalTask("generate", ("image",), answer=_single(ImageToTextOutput, "generated_text")),
    "automatic-speech-recognition": LocalTask("pipeline", ("audio",), (), {}, "automatic-speech-recognition",
                                              _single(AutomaticSpeechRecognitionOutput)),
}  # fmt: skip
