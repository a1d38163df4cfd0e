"""The task table: one declarative spec per Hugging Face inference task.

Each spec names the task, tells an LLM what it does, lists its inputs (named exactly as
the `InferenceClient` method's parameters) and says what kind of output it returns.
One generic tool (`tools.tasks.tool.HFTaskTool`) serves them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from tools.files.media import MediaKind

Output = Literal[
    "image", "audio", "video", "audios", "labels", "boxes", "segments", "text",
    "answer", "vector", "scores", "entities", "fills", "values",
]  # fmt: skip

# A task's main text, by output kind (a plan's `$id` hands it on): a path into the result's data. Kinds not
# listed hand on their files, or the first line of their facts (counts, entities, similarities).
MAIN_TEXT: dict[str, str] = {
    "text": "text", "answer": "answers.0.answer", "labels": "labels.0.label", "fills": "fills.0.sequence",
}  # fmt: skip

# Text is stripped before its length is checked, so blank text is refused.
Text = Annotated[str, StringConstraints(strip_whitespace=True)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Cell = Annotated[str, StringConstraints(max_length=1000)] | int | float
Column = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Table = dict[Column, Annotated[list[Cell], Field(max_length=1000)]]
MAX_TABLE_CELLS = 10_000


def check_table(table: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Refuse ragged tables: every column must have the same number of cells."""
    lengths = {len(cells) for cells in table.values()}
    if len(lengths) > 1:
        raise ValueError(f"every column must have the same number of cells; got lengths {sorted(lengths)}")
    if lengths == {0}:
        raise ValueError("the table has no rows")
    cells = sum(lengths) * len(table) // max(1, len(lengths))
    if cells > MAX_TABLE_CELLS:
        raise ValueError(f"the table has {cells} cells; the limit is {MAX_TABLE_CELLS}")
    return table


def table_of_strings(table: dict[str, list[Any]]) -> dict[str, list[str]]:
    """Table QA models read every cell as text."""
    return {col: [str(cell) for cell in cells] for col, cells in check_table(table).items()}


@dataclass(frozen=True)
class Arg:
    """One tool input."""

    name: str
    type: Any
    description: str
    required: bool = False
    media: MediaKind | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    coerce: Callable[[Any], Any] | None = None  # check/convert the value before it is sent


@dataclass(frozen=True)
class TaskSpec:
    """One HF task as data."""

    task: str
    description: str
    args: tuple[Arg, ...]
    output: Output
    text_field: str | None = None  # for text outputs: the attribute holding the text
    fixed: dict[str, Any] = field(default_factory=dict)  # arguments always passed to the client
    offload: bool = False  # provider helpers poll with blocking I/O: run the sync client in a thread
    main_text: str | None = None  # where a plan's `$id` finds this task's text in the result data

    @property
    def main(self) -> str | None:
        """The path (`answers.0.answer`) of this task's main text in its result data, if it has one."""
        return self.main_text or MAIN_TEXT.get(self.output)

    @property
    def name(self) -> str:
        """The tool name, also the InferenceClient method: `text_to_image`."""
        return self.task.replace("-", "_")


# Shared inputs, with limits that keep absurd values out before anything is sent.
TEXT_MAX = 20_000
PROMPT = Arg(
    "prompt", Text, "What to generate, in words.", True, limits={"min_length": 1, "max_length": 2000}
)
NEGATIVE = Arg("negative_prompt", Text, "What the result should not show.", limits={"max_length": 1000})
TEXT = Arg("text", Text, "The input text.", True, limits={"min_length": 1, "max_length": TEXT_MAX})
IMAGE = Arg("image", Text, "Image: a file path from an earlier result, a local file, or an http(s) URL.", True,
            media="image")  # fmt: skip
AUDIO = Arg("audio", Text, "Audio: a file path from an earlier result, a local file, or an http(s) URL.", True,
            media="audio")  # fmt: skip
QUESTION = Arg(
    "question", Text, "The question to answer.", True, limits={"min_length": 1, "max_length": 1000}
)
LABELS = Arg("candidate_labels", list[Label], "Labels to choose from (at least two).", True,
             limits={"min_length": 2, "max_length": 50})  # fmt: skip
TOP_K = Arg("top_k", int, "How many results to return.", limits={"ge": 1, "le": 50})
WIDTH = Arg("width", int, "Width in pixels.", limits={"ge": 64, "le": 2048})
HEIGHT = Arg("height", int, "Height in pixels.", limits={"ge": 64, "le": 2048})
STEPS = Arg(
    "num_inference_steps", int, "Denoising steps (more is slower, finer).", limits={"ge": 1, "le": 100}
)
SEED = Arg("seed", int, "Random seed for a repeatable result.", limits={"ge": 0, "le": 2**32 - 1})
FRAMES = Arg("num_frames", int, "Number of video frames.", limits={"ge": 1, "le": 300})
TABLE = Arg("table", Table, "Table as {column name: [cell, ...]}, all columns the same length.", True,
            limits={"min_length": 1, "max_length": 100}, coerce=check_table)  # fmt: skip

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec("audio-classification", "Classify a sound or speech clip (e.g. emotion, gender, event).",
             (AUDIO, TOP_K), "labels"),
    TaskSpec("audio-to-audio", "Transform audio: separate sources, enhance or denoise speech.",
             (AUDIO,), "audios"),
    TaskSpec("automatic-speech-recognition", "Transcribe speech in an audio file to text.",
             (AUDIO,), "text", text_field="text"),
    TaskSpec("document-question-answering", "Answer a question about a document image (scan, invoice, form).",
             (Arg("image", Text, IMAGE.description, True, media="document"), QUESTION), "answer"),
    TaskSpec("feature-extraction", "Embed a text as a vector of numbers.",
             (TEXT, Arg("normalize", bool, "Scale the vector to unit length.")), "vector"),
    TaskSpec("fill-mask", "Fill the mask token in a sentence (e.g. [MASK] or <mask>, per model).",
             (TEXT, TOP_K), "fills"),
    TaskSpec("image-classification", "Say what an image shows, as labels with scores.",
             (IMAGE, TOP_K), "labels"),
    TaskSpec("image-segmentation", "Split an image into labelled regions (masks); saves an overlay image.",
             (IMAGE, Arg("threshold", float, "Minimum score to keep a region.", limits={"ge": 0, "le": 1})),
             "segments"),
    TaskSpec("image-to-image", "Edit or restyle an image following a prompt.",
             (IMAGE, Arg("prompt", Text, "How to change the image.", limits={"max_length": 2000}), NEGATIVE,
              STEPS), "image"),
    TaskSpec("image-to-text", "Caption an image: describe what it shows.",
             (IMAGE,), "text", text_field="generated_text"),
    TaskSpec("image-to-video", "Animate an image into a short video.",
             (IMAGE, Arg("prompt", Text, "How the scene should move.", limits={"max_length": 2000}), NEGATIVE,
              FRAMES, SEED), "video", offload=True),
    TaskSpec("object-detection", "Find and count objects in an image, with boxes; saves an annotated image.",
             (IMAGE, Arg("threshold", float, "Minimum score to keep a box.", limits={"ge": 0, "le": 1})),
             "boxes"),
    TaskSpec("question-answering", "Answer a question from a given passage of text.",
             (QUESTION, Arg("context", Text, "The passage holding the answer.", True,
                            limits={"min_length": 1, "max_length": TEXT_MAX})), "answer"),
    TaskSpec("sentence-similarity", "Score how similar one sentence is to each of several others (0 to 1).",
             (Arg("sentence", Text, "The reference sentence.", True,
                  limits={"min_length": 1, "max_length": 5000}),
              Arg("other_sentences", list[Sentence], "Sentences to compare with it.", True,
                  limits={"min_length": 1, "max_length": 50})), "scores"),
    TaskSpec("summarization", "Summarise a long text with a summarisation model.",
             (TEXT,), "text", text_field="summary_text"),
    TaskSpec("table-question-answering", "Answer a question about a table.",
             (replace(TABLE, coerce=table_of_strings),
              Arg("query", Text, "The question about the table.", True,
                  limits={"min_length": 1, "max_length": 1000})), "answer"),
    TaskSpec("tabular-classification", "Predict a class for each row of a table of features.",
             (TABLE,), "values"),
    TaskSpec("tabular-regression", "Predict a number for each row of a table of features.",
             (TABLE,), "values"),
    TaskSpec("text-classification", "Classify a text (e.g. sentiment), as labels with scores.",
             (TEXT, TOP_K), "labels"),
    TaskSpec("text-generation", "Continue a text with an HF language model (only if one is asked for).",
             (Arg("prompt", Text, "The text to continue.", True,
                  limits={"min_length": 1, "max_length": TEXT_MAX}),
              Arg("max_new_tokens", int, "Most tokens to generate.", limits={"ge": 1, "le": 2048})),
             "text", fixed={"details": False, "stream": False}),
    TaskSpec("text-to-image", "Generate an image from a text description.",
             (PROMPT, NEGATIVE, WIDTH, HEIGHT, STEPS, SEED), "image"),
    TaskSpec("text-to-speech", "Read a text aloud: makes an audio file.",
             (Arg("text", Text, "The text to speak.", True, limits={"min_length": 1, "max_length": 5000}),),
             "audio"),
    TaskSpec("text-to-video", "Generate a short video from a text description.",
             (PROMPT, NEGATIVE, FRAMES, SEED), "video", offload=True),
    TaskSpec("token-classification", "Find named entities (people, places, organisations...) in a text.",
             (TEXT,), "entities"),
    TaskSpec("translation", "Translate a text; some models need source and target language codes.",
             (TEXT, Arg("src_lang", Text, "Source language code, e.g. en_XX (multilingual models).",
                        limits={"max_length": 20}),
              Arg("tgt_lang", Text, "Target language code, e.g. fr_XX (multilingual models).",
                  limits={"max_length": 20})), "text", text_field="translation_text"),
    TaskSpec("visual-question-answering", "Answer a question about an image (count, colour, what is where).",
             (IMAGE, QUESTION, TOP_K), "answer"),
    TaskSpec("zero-shot-classification", "Classify a text into labels you choose.",
             (TEXT, LABELS, Arg("multi_label", bool, "Allow several labels to be true at once.")), "labels"),
    TaskSpec("zero-shot-image-classification", "Classify an image into labels you choose.",
             (IMAGE, LABELS), "labels"),
)  # fmt: skip

TASKS_BY_ID: dict[str, TaskSpec] = {spec.task: spec for spec in TASKS}


def task_id(name: str) -> str:
    """The Hub's id of a task named any usual way: 'text_to_image', 'Text-To-Image ' -> 'text-to-image'."""
    return "-".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


def get_spec(task: str) -> TaskSpec:
    """Look up a spec by `text-to-image` or `text_to_image`; unknown names list the known ones."""
    try:
        return TASKS_BY_ID[task_id(task)]
    except KeyError:
        raise KeyError(f"unknown task '{task}'; known: {', '.join(sorted(TASKS_BY_ID))}") from None
