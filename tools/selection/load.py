"""`load_tools`: the way out when the offered tools do not cover a request.

The model names the tasks it needs; the tool selector offers them from the next model call of the
same turn on (and for the rest of the thread). Unknown names are refused with the list of known ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, Field, StringConstraints

from hugginggpt.tools.tasks.table import TASKS_BY_ID, task_id

LOAD_TOOL = "load_tools"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=60)]


class LoadInput(BaseModel):
    tasks: list[Name] = Field(description="HF task names, e.g. image_to_video.", min_length=1, max_length=28)


def known_tasks(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(known task ids, unknown names) of the names given any usual way."""
    known: list[str] = []
    unknown: list[str] = []
    for name in names:
        (known if task_id(name) in TASKS_BY_ID else unknown).append(name)
    return [task_id(name) for name in known], unknown


class LoadToolsTool(BaseTool):
    """Offers more task tools (see the module docstring)."""

    name: str = LOAD_TOOL
    description: str = "Offer more HF task tools when none offered fits the request; call them after this. Returns their names."
    args_schema: type[BaseModel] = LoadInput

    def _run(self, tasks: list[str]) -> str:
        known, unknown = known_tasks(tasks)
        if unknown:
            names = ", ".join(sorted(spec.replace("-", "_") for spec in TASKS_BY_ID))
            raise ToolException(f"unknown task(s) {', '.join(unknown)}; known: {names}.")
        return "Now offered: " + ", ".join(t.replace("-", "_") for t in known) + "."
