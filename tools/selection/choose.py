"""Which task tools a request needs, without an LLM: the task table's cues, the kinds of input the request
names, and what the chosen tasks make (the tool graph: an image made can feed an image task).

Deterministic and explainable: every offered task comes with the reason it was offered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from hugginggpt.tools.tasks.table import TaskSpec

# The kinds of input a text names: file extensions (a path, a URL, an attached file) and plain words.
KINDS: dict[str, tuple[str, str]] = {
    "image": (r"\.(jpe?g|png|gif|webp|bmp|tiff?)\b", r"\b(images?|photos?|pictures?|pics?|drawings?|paintings?"
              r"|screenshots?|logos?|scans?|scanned)\b"),
    "audio": (r"\.(wav|mp3|flac|ogg|m4a|opus)\b", r"\b(audios?|sounds?|recordings?|voices?|songs?|podcasts?"
              r"|speech|memos?|voicemails?)\b"),
    "video": (r"\.(mp4|webm|mov|avi|mkv)\b", r"\b(videos?|clips?|footage)\b"),
    "document": (r"\.pdf\b", r"\b(documents?|invoices?|receipts?|forms?|scans?|scanned|pdfs?)\b"),
    "table": (r"\.(csv|tsv|xlsx?)\b", r"\b(tables?|tabular|spreadsheets?|csv)\b"),
}  # fmt: skip
# What a task's output gives the next task, by output kind (image outputs, overlays included, feed images).
MAKES: dict[str, str] = {"image": "image", "segments": "image", "boxes": "image", "audio": "audio",
                         "audios": "audio", "video": "video"}  # fmt: skip
FEW_READERS = 3  # a kind named in the request whose readers are this few gets them all offered
# An image of a document or a table is still an image: a document task can read a photo of a page.
SATISFIES: dict[str, frozenset[str]] = {"document": frozenset({"document", "image"})}


def request_kinds(text: str) -> set[str]:
    """The kinds of input a text names (`image`, `audio`, `video`, `document`, `table`); text is implied."""
    low = text.lower()
    return {kind for kind, patterns in KINDS.items() if any(re.search(p, low) for p in patterns)}


@cache
def _cues(cues: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for a task's cues, each matched from a word's start."""
    return re.compile(r"(?<![a-z])(?:" + "|".join(re.escape(c).replace(r"\*", r"\w*") for c in cues) + ")")


def cue_hit(spec: TaskSpec, text: str) -> str | None:
    """The first of the task's cues found in a (lower-case) text, as written there."""
    found = _cues(spec.cues).search(text) if spec.cues else None
    return found.group(0) if found else None


def _fed(spec: TaskSpec, kinds: set[str]) -> bool:
    """Whether every input the task needs is at hand (text always is)."""
    return all(need == "text" or SATISFIES.get(need, frozenset({need})) & kinds for need in spec.inputs)


def _twins(one: TaskSpec, other: TaskSpec) -> bool:
    """Same output kind from the same inputs (a document counts as an image), both asking a question."""

    def norm(spec: TaskSpec) -> tuple[str, ...]:
        return tuple(sorted("image" if k == "document" else k for k in spec.inputs))

    def asks(spec: TaskSpec) -> bool:
        return sum(arg.required for arg in spec.args) > 1

    return one.output == other.output and norm(one) == norm(other) and asks(one) and asks(other)


@dataclass
class Choice:
    """The tasks offered for a request, each with why (`cue 'transcri*'`, `used in this thread`...)."""

    kinds: set[str]
    why: dict[str, str] = field(default_factory=dict)

    @property
    def tasks(self) -> list[str]:
        return list(self.why)


def choose(
    text: str, specs: Sequence[TaskSpec], *, kinds: Iterable[str] = (), keep: Iterable[str] = ()
) -> Choice:
    """The tasks of `specs` that `text` needs.

    A task is offered when one of its cues is in the text and its inputs are at hand: named in the text,
    in `kinds` (files earlier in the conversation), or made by another offered task (an image made can
    be captioned). Tasks in `keep` (used earlier in the thread) are always offered.
    """
    low = text.lower()
    choice = Choice(request_kinds(text) | set(kinds))
    kept = set(keep)
    for spec in specs:
        if spec.task in kept or spec.name in kept:
            choice.why[spec.task] = "used in this thread"
    hits = {spec.task: cue_hit(spec, low) for spec in specs}
    for kind in sorted(choice.kinds):
        readers = [spec for spec in specs if kind in spec.inputs]
        # its plain reader (the one making text from it alone: a caption, a transcript) reads it anyway
        choice.why.update({s.task: f"reads the {kind} named" for s in readers if s.inputs == {kind}
                           and s.output == "text" and s.task not in choice.why})  # fmt: skip
        if len(readers) <= FEW_READERS:  # a kind few tasks read (audio, a table): offer them all
            choice.why.update(
                {spec.task: f"reads the {kind} named" for spec in readers if spec.task not in choice.why}
            )
    at_hand = set(choice.kinds)
    while True:  # grow along the tool graph until nothing new is fed
        added = False
        for spec in specs:
            if spec.task in choice.why or not hits[spec.task] or not _fed(spec, at_hand):
                continue
            choice.why[spec.task] = f"cue '{hits[spec.task]}'"
            if made := MAKES.get(spec.output):
                at_hand.add(made)
            added = True
        if not added:
            break
    offered = [spec for spec in specs if spec.task in choice.why]
    for spec in specs:  # a task doing the same job on the same inputs as an offered one (VQA and DQA)
        if spec.task not in choice.why and any(_twins(spec, other) for other in offered):
            twin = next(other for other in offered if _twins(spec, other))
            choice.why[spec.task] = f"like {twin.name}"
    return choice
