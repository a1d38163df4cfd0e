"""What the whole agent offers other agents, from the task table: its description and one skill per
task family (the MCP tool's description and the A2A agent card say the same)."""

from __future__ import annotations

from dataclasses import dataclass

from hugginggpt.tools.tasks.outputs import FILE_OUTPUTS
from hugginggpt.tools.tasks.table import TASKS, TaskSpec

SUMMARY = (
    "HuggingGPT: give it a request in plain words and it plans the Hugging Face tasks that answer it "
    "(images, audio, video, text, tables), runs them on models that are served right now (independent "
    "tasks at once, files passed from one task to the next) and answers with the result and the files "
    "it made."
)


@dataclass(frozen=True)
class Family:
    id: str
    name: str
    example: str  # what it returns follows from its tasks: `output_modes`


FAMILIES: tuple[Family, ...] = (
    Family("images", "Images: make, edit and understand them",
           "Generate an image of a field with three sheep grazing peacefully"),
    Family("audio", "Speech and audio", "Read this sentence aloud: sheep are nice."),
    Family("video", "Video", "Make a short video of waves on a beach"),
    Family("text", "Text", "Translate 'three sheep in a field' into French"),
    Family("tables", "Tables", "Which city in this table has the most sheep?"),
)  # fmt: skip


def family_of(spec: TaskSpec) -> str:
    """A task's family, from its inputs and output: video, audio, images, tables or text."""
    media = set(spec.media_args.values())
    if "video" in spec.task:
        return "video"
    if "audio" in media or spec.output in ("audio", "audios"):
        return "audio"
    if media & {"image", "document"} or spec.output == "image":
        return "images"
    if any(arg.name == "table" for arg in spec.args):
        return "tables"
    return "text"


def tasks_by_family() -> dict[str, list[TaskSpec]]:
    grouped: dict[str, list[TaskSpec]] = {family.id: [] for family in FAMILIES}
    for spec in TASKS:
        grouped[family_of(spec)].append(spec)
    return grouped


def output_modes(specs: list[TaskSpec]) -> list[str]:
    """What a family's tasks return: text (the answer, always), and the kinds of media they make."""
    made = {f"{spec.output.removesuffix('s')}/*" for spec in specs if spec.output in FILE_OUTPUTS}
    return ["text/plain", *sorted(made)]


def skill_description(family: Family, specs: list[TaskSpec]) -> str:
    return " ".join(f"{spec.task}: {spec.description}" for spec in specs)


def tool_description() -> str:
    """The MCP tool's description: what the agent does, the task families, threads and what comes back."""
    families = "; ".join(
        f"{family.name.lower()} ({', '.join(spec.task for spec in specs)})"
        for family, specs in zip(FAMILIES, tasks_by_family().values(), strict=True)
    )
    return (
        f"{SUMMARY} Task families: {families}. Pass `thread` to continue a conversation (a later request "
        "may use the files an earlier one made: 'How many sheep are in the image?'); the result names "
        "the thread. The result holds the answer, each image or audio file made (inline when small) "
        "with a link to it, and structuredContent {answer, thread, files, tool_calls, usage}."
    )
