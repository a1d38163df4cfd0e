"""The task table: one declarative spec per Hugging Face inference task.

Each spec names the task, tells an LLM what it does, lists its inputs (named exactly as
the `InferenceClient` method's parameters) and says what kind of output it returns.
One generic tool (`hugginggpt.tools.tasks.tool.HFTaskTool`) serves them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from hugginggpt.tools.files.media import MediaKind

Output = Literal[
    "image", "audio", "video", "audios", "labels", "boxes", "segments", "text",
    "answer", "vector", "scores", "entities", "fills", "values",
]  # fmt: skip

# A task's main text, by output kind (a plan's `$id` hands it on): a path into the result's data. Kinds not
# listed hand on their files, or the first line of their facts (counts, entities, similarities).
MAIN_TEXT: dict[str, str] = {
    "text": "text", "answer": "answers.0.answer", "labels": "labels.0.label", "fills": "fills.0.sequence",
}  # fmt: skip

# What each output kind gives back, for the tool descriptions ("Returns ...").
RETURNS: dict[str, str] = {
    "image": "an image file", "audio": "an audio file", "video": "a video file", "audios": "audio files",
    "labels": "labels with scores", "boxes": "labelled boxes and an annotated image",
    "segments": "labelled regions and an overlay image", "text": "text", "answer": "answers with scores",
    "vector": "a vector", "scores": "one score per other sentence", "entities": "entities with types",
    "fills": "filled sentences with scores", "values": "one prediction per row",
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
    # Words a request uses when it needs this task (lower case, each matched from a word's start; `*` is
    # any letters); the tool selector (tools/selection/) reads them with the input and output kinds.
    cues: tuple[str, ...] = ()

    @property
    def main(self) -> str | None:
        """The path (`answers.0.answer`) of this task's main text in its result data, if it has one."""
        return self.main_text or MAIN_TEXT.get(self.output)

    @property
    def summary(self) -> str:
        """The tool description: what the task does (inputs in the schema), and what it returns."""
        return f"{self.description} Returns {RETURNS[self.output]}."

    @cached_property
    def media_args(self) -> Mapping[str, MediaKind]:
        """The arguments that take a media file (a path or URL), with their kind: `{"image": "image"}`."""
        return {arg.name: arg.media for arg in self.args if arg.media}

    @property
    def inputs(self) -> frozenset[str]:
        """The kinds of input it needs: media kinds of its arguments, `table`, else `text`."""
        kinds: set[str] = {arg.media for arg in self.args if arg.required and arg.media}
        kinds |= {"table" for arg in self.args if arg.name == "table"}
        return frozenset(kinds or {"text"})

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
IMAGE = Arg("image", Text, "Image file: a path or http(s) URL.", True,
            media="image")  # fmt: skip
AUDIO = Arg("audio", Text, "Audio file: a path or http(s) URL.", True,
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
    TaskSpec("audio-classification", "Classify an audio clip (emotion, speaker, sound event, genre).",
             (AUDIO, TOP_K), "labels",
             cues=("classif*", "categori*", "emotion", "speaker", "gender", "genre", "sound event", "what sound",
                   "kind of sound", "type of sound", "recogni*", "identify", "detect", "command", "intent")),
    TaskSpec("audio-to-audio", "Enhance, denoise or separate the sources of an audio clip.",
             (AUDIO,), "audios",
             cues=("enhanc*", "denois*", "noise", "noisy", "clean*", "clear*", "improv*", "quality",
                   "separat*", "background", "restor*")),
    TaskSpec("automatic-speech-recognition", "Transcribe the speech in an audio clip.",
             (AUDIO,), "text", text_field="text",
             cues=("transcri*", "speech to text", "speech-to-text", "said", "say", "spoken", "words",
                   "written", "text", "subtitl*", "dictat*", "understand", "command", "voice", "recording",
                   "memo", "lecture", "meeting", "interview", "conversation", "content", "description",
                   "question", "translat*")),
    TaskSpec("document-question-answering", "Answer a question about a document image (scan, invoice, form).",
             (Arg("image", Text, IMAGE.description, True, media="document"), QUESTION), "answer",
             cues=("document", "invoice", "receipt", "form", "scan*", "pdf", "contract", "letter", "report",
                   "page", "table", "chart", "agenda", "menu", "slide", "text on", "text in", "written")),
    TaskSpec("feature-extraction", "Embed a text as a vector of numbers.",
             (TEXT, Arg("normalize", bool, "Scale the vector to unit length.")), "vector",
             cues=("embed*", "vector", "feature*")),
    TaskSpec("fill-mask", "Fill the mask token ([MASK] or <mask>, per model) in a sentence.",
             (TEXT, TOP_K), "fills",
             cues=("mask", "fill in", "fill the", "blank", "missing word")),
    TaskSpec("image-classification", "Say what an image shows, as labels.",
             (IMAGE, TOP_K), "labels",
             cues=("classif*", "categori*", "what kind", "what type", "which class", "label*", "recogni*",
                   "identify", "what is in", "what's in", "what is this", "species", "breed", "main object",
                   "theme", "tell me what")),
    TaskSpec("image-segmentation", "Split an image into labelled regions (masks).",
             (IMAGE, Arg("threshold", float, "Minimum score to keep a region.", limits={"ge": 0, "le": 1})),
             "segments",
             cues=("segment*", "mask*", "region*", "outline*", "background", "foreground", "cut out",
                   "separate", "objects", "parts", "areas", "layout", "room", "scene", "document", "table",
                   "depth")),
    TaskSpec("image-to-image", "Edit or restyle an image following a prompt.",
             (IMAGE, Arg("prompt", Text, "How to change the image.", limits={"max_length": 2000}), NEGATIVE,
              STEPS), "image",
             cues=("edit*", "modif*", "chang*", "transform*", "restyl*", "style", "enhanc*", "convert",
                   "turn", "make", "colori*", "sharpen*", "upscal*", "adjust*", "target image", "apply",
                   "improv*", "brighter", "darker", "add", "remove", "replace", "match", "background")),
    TaskSpec("image-to-text", "Caption an image: describe what it shows.",
             (IMAGE,), "text", text_field="generated_text",
             cues=("caption*", "describ*", "description", "what is in", "what's in", "what does", "shows",
                   "text", "written", "read", "extract*", "analy*", "content", "summar*", "story", "about",
                   "tell me", "information", "details", "scene", "convert")),
    TaskSpec("image-to-video", "Animate an image into a short video.",
             (IMAGE, Arg("prompt", Text, "How the scene should move.", limits={"max_length": 2000}), NEGATIVE,
              FRAMES, SEED), "video", offload=True,
             cues=("animat*", "video", "bring to life", "moving", "motion")),
    TaskSpec("object-detection", "Find and count objects in an image, with boxes.",
             (IMAGE, Arg("threshold", float, "Minimum score to keep a box.", limits={"ge": 0, "le": 1})),
             "boxes",
             cues=("detect*", "object*", "count*", "how many", "locat*", "find", "where", "identify",
                   "bounding", "box*", "spot", "items", "things", "people", "cars", "vehicles", "animals")),
    TaskSpec("question-answering", "Answer a question from a given passage of text.",
             (QUESTION, Arg("context", Text, "The passage holding the answer.", True,
                            limits={"min_length": 1, "max_length": TEXT_MAX})), "answer",
             cues=("question", "answer*", "ask*", "what", "who", "when", "where", "which", "why", "how",
                   "find out", "know", "tell me", "information", "learn")),
    TaskSpec("sentence-similarity", "Score how similar one sentence is to others (0 to 1).",
             (Arg("sentence", Text, "The reference sentence.", True,
                  limits={"min_length": 1, "max_length": 5000}),
              Arg("other_sentences", list[Sentence], "Sentences to compare with it.", True,
                  limits={"min_length": 1, "max_length": 50})), "scores",
             cues=("similar*", "compar*", "same meaning", "related", "match*", "close*", "resembl*",
                   "relevan*", "paraphras*", "consisten*", "align*", "differ*", "check if", "check whether",
                   "correct", "guess")),
    TaskSpec("summarization", "Summarise a long text with a summarisation model.",
             (TEXT,), "text", text_field="summary_text",
             cues=("summar*", "short*", "brief*", "main point*", "main idea*", "gist", "condens*",
                   "key point*", "overview", "concise*", "tl;dr", "main topic", "main information", "core",
                   "highlights")),
    TaskSpec("table-question-answering", "Answer a question about a table.",
             (replace(TABLE, coerce=table_of_strings),
              Arg("query", Text, "The question about the table.", True,
                  limits={"min_length": 1, "max_length": 1000})), "answer",
             cues=("table", "tabular", "spreadsheet", "csv", "column*", "rows")),
    TaskSpec("tabular-classification", "Predict a class for each row of a table of features.",
             (TABLE,), "values",
             cues=("table", "tabular", "spreadsheet", "csv", "column*", "rows", "records")),
    TaskSpec("tabular-regression", "Predict a number for each row of a table of features.",
             (TABLE,), "values",
             cues=("table", "tabular", "spreadsheet", "csv", "column*", "rows", "records")),
    TaskSpec("text-classification", "Classify a text (e.g. sentiment), as labels.",
             (TEXT, TOP_K), "labels",
             cues=("sentiment", "classif*", "positive", "negative", "tone", "spam", "categori*", "opinion",
                   "mood", "emotion", "toxic*", "intent")),
    TaskSpec("text-generation", "Continue a text with an HF language model (only if one is asked for).",
             (Arg("prompt", Text, "The text to continue.", True,
                  limits={"min_length": 1, "max_length": TEXT_MAX}),
              Arg("max_new_tokens", int, "Most tokens to generate.", limits={"ge": 1, "le": 2048})),
             "text", fixed={"details": False, "stream": False},
             cues=("generat*", "continu*", "write", "story", "paragraph", "expand*", "complet*", "compos*",
                   "creat*", "elaborat*", "narrative", "respon*", "reply", "chat*", "conversation*",
                   "more detail*", "additional", "explain*", "learn", "essay", "article", "poem", "new text",
                   "rewrite", "paraphras*", "based on")),
    TaskSpec("text-to-image", "Generate an image from a text description.",
             (PROMPT, NEGATIVE, WIDTH, HEIGHT, STEPS, SEED), "image",
             cues=("draw*", "paint*", "illustrat*", "visuali*", "artwork", "sketch*", "render*", "design",
                   "generat* an image", "generat* a picture", "creat* an image", "creat* a picture",
                   "generat* an illustration", "image generat*", "new image", "image of", "picture of",
                   "photo of", "image based", "image from", "image that", "image represent*", "image related",
                   "image depicting", "an image", "visual", "related image", "relevant image",
                   "representative image", "generating the image")),
    TaskSpec("text-to-speech", "Read a text aloud.",
             (Arg("text", Text, "The text to speak.", True, limits={"min_length": 1, "max_length": 5000}),),
             "audio",
             cues=("speech", "speak*", "aloud", "audio", "voice", "narrat*", "listen*", "spoken", "pronounc*",
                   "say it", "podcast", "sound", "read it", "read out", "announce*", "recording")),
    TaskSpec("text-to-video", "Generate a short video from a text description.",
             (PROMPT, NEGATIVE, FRAMES, SEED), "video", offload=True,
             cues=("video", "clip", "animat*", "movie", "film", "visual")),
    TaskSpec("token-classification", "Find named entities (people, places, organisations...) in a text.",
             (TEXT,), "entities",
             cues=("entit*", "named", "ner", "part-of-speech", "part of speech", "pos", "people", "places",
                   "organi*", "person*", "location*", "dates", "names", "keyword*", "token*", "tag*", "noun*",
                   "verb*", "specific", "extract*", "identify", "key ", "details", "information")),
    TaskSpec("translation", "Translate a text; some models need source and target language codes.",
             (TEXT, Arg("src_lang", Text, "Source language code, e.g. en_XX (multilingual models).",
                        limits={"max_length": 20}),
              Arg("tgt_lang", Text, "Target language code, e.g. fr_XX (multilingual models).",
                  limits={"max_length": 20})), "text", text_field="translation_text",
             cues=("translat*", "language", "english", "french", "spanish", "german", "italian", "chinese",
                   "japanese", "portuguese", "russian", "arabic", "korean", "dutch", "hindi", "foreign")),
    TaskSpec("visual-question-answering", "Answer a question about an image (count, colour, what is where).",
             (IMAGE, QUESTION, TOP_K), "answer",
             cues=("question", "answer*", "ask*", "what", "who", "where", "which", "how", "is there",
                   "are there", "colo*r", "count", "know", "tell me", "find")),
    TaskSpec("zero-shot-classification", "Classify a text into labels you choose.",
             (TEXT, LABELS, Arg("multi_label", bool, "Allow several labels to be true at once.")), "labels",
             cues=("labels", "categor*", "classify", "topic", "which of", "one of")),
    TaskSpec("zero-shot-image-classification", "Classify an image into labels you choose.",
             (IMAGE, LABELS), "labels",
             cues=("labels", "categor*", "which of", "one of", "is it a", "whether")),
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
