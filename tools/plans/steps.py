"""A plan's steps: their input model, the checks made before anything runs, and `$id` references.

A step's argument that is exactly `$<id>` becomes that step's main output (a file path for a file input, its
main text for any other); `$<id>` inside a longer text becomes its main text; each item of a list may be a
reference. Refused in one sentence the model can act on: a whole plan with too many steps, a duplicate id
or a cycle (`plan_refusal`, `order`); a single step with a malformed id, an unknown tool, arguments that
fail the tool's schema or a reference to no step (`step_refusal`, `missing_reference`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hugginggpt.tools.text import problems

ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
REFERENCE = re.compile(r"\$([A-Za-z][A-Za-z0-9_-]{0,31})")
# What a reference stands for while a step's arguments are checked against its tool's schema.
PLACEHOLDER = "planned"


class PlanStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        description='Step id, e.g. "s1"; later steps refer to its output as "$s1".', max_length=32
    )
    tool: str = Field(description="A task tool's name, e.g. text_to_image.", max_length=64)
    args: dict[str, Any] = Field(default_factory=dict, description="Exactly that tool's arguments.")


class PlanInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[PlanStep] = Field(description="The task graph, any order.", min_length=1, max_length=100)


def references(value: Any) -> list[str]:
    """Step ids referenced by an argument value (a text, or a list of texts), in order."""
    if isinstance(value, str):
        return REFERENCE.findall(value)
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    return []


def depends_on(step: PlanStep) -> list[str]:
    """The steps this one waits for."""
    return list(dict.fromkeys(ref for value in step.args.values() for ref in references(value)))


def _placeholders(value: Any) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER if REFERENCE.fullmatch(value) else REFERENCE.sub("planned", value)
    if isinstance(value, list):
        return [_placeholders(item) for item in value]
    return value


def order(steps: list[PlanStep]) -> list[PlanStep]:
    """Steps in an order where each comes after the steps it references (references to no step are
    left out); raises `ToolException` (one sentence) for a cycle."""
    by_id = {step.id: step for step in steps}
    placed: dict[str, PlanStep] = {}
    visiting: list[str] = []

    def place(step: PlanStep) -> None:
        if step.id in placed:
            return
        if step.id in visiting:
            cycle = " -> ".join([*visiting[visiting.index(step.id) :], step.id])
            raise ToolException(
                f"run_plan refused the plan: its steps form a cycle ({cycle}); a step can only use earlier results."
            )
        visiting.append(step.id)
        for ref in depends_on(step):
            if ref in by_id and ref != step.id:
                place(by_id[ref])
        visiting.pop()
        placed[step.id] = step

    for step in steps:
        place(step)
    return list(placed.values())


def plan_refusal(steps: list[PlanStep], max_steps: int) -> str | None:
    """Why the plan as a whole is refused (too many steps, a duplicate id), or None; cycles: `order`."""
    if len(steps) > max_steps:
        return f"it has {len(steps)} steps; the limit is {max_steps} (HUGGINGGPT_MAX_PLAN_STEPS)"
    seen: set[str] = set()
    for step in steps:
        if step.id in seen:
            return f"two steps have the id {step.id}; give each step its own id"
        seen.add(step.id)
    return None


def step_refusal(step: PlanStep, tools: Mapping[str, BaseTool]) -> str | None:
    """Why this step is refused on its own (malformed id, unknown tool, bad arguments), or None.

    The step is then not run (the steps that need it are skipped); the rest of the plan still runs.
    """
    if not ID.match(step.id):
        return f"step id {step.id!r} is malformed; use a letter then letters, digits, _ or -, like s1"
    if step.tool not in tools:
        return f"step {step.id} names an unknown tool {step.tool!r}; known: {', '.join(sorted(tools))}"
    if step.id in depends_on(step):
        return f"step {step.id} refers to its own output"
    schema = tools[step.tool].args_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        try:
            schema.model_validate({k: _placeholders(v) for k, v in step.args.items()})
        except ValidationError as error:
            return f"step {step.id} ({step.tool}) has a bad argument {problems(error, most=1)}"
    return None


def missing_reference(step: PlanStep, ids: set[str]) -> str | None:
    """Why a step of the finished plan cannot run: it refers to an id no step has; or None."""
    ref = next((ref for ref in depends_on(step) if ref not in ids), None)
    return None if ref is None else f"step {step.id} refers to ${ref}, but no step has the id {ref}"


def resolve(value: Any, outputs: Mapping[str, tuple[str | None, str]], *, file_input: bool) -> Any:
    """Replace references by outputs ({id: (first file or None, main text)}), for a file input or not."""
    if isinstance(value, list):
        return [resolve(item, outputs, file_input=file_input) for item in value]
    if not isinstance(value, str):
        return value
    whole = REFERENCE.fullmatch(value)
    if whole:
        file, text = outputs[whole.group(1)]
        return file if file_input and file else text
    return REFERENCE.sub(lambda match: outputs[match.group(1)][1], value)
