"""A plan's typed results and step events: what `run_plan` hands back and reports while it runs.

`run_plan`'s ToolMessage artifact is `PlanResult.artifact()`, plain data, so it has one shape live and
saved (a saved ToolMessage is dumped to plain data, so a typed object would come back as a dict after a
restart), as MCP structured content and from the LangGraph server. Every reader takes it back with
`PlanResult.read`.
Step events (`StepStarted`, `StepFinished`) go to LangGraph's custom stream as they are, typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hugginggpt.tools.files.artifacts import FileArtifact

Status = Literal["ok", "failed", "skipped"]
PLAN_TASK: Literal["plan"] = "plan"  # the artifact's `task`, beside a task tool's own task names


def files_of(result: Mapping[str, Any] | None) -> list[FileArtifact]:
    """The files a tool's artifact names (a TaskResult's, or another MCP server's tool's `files`)."""
    named = (result or {}).get("files") or []
    files = [f for f in named if isinstance(f, Mapping) and {"path", "mime_type"} <= f.keys()]
    return cast(list[FileArtifact], files)  # checked above: each has what a FileArtifact needs here


class StepResult(BaseModel):
    """One step in the plan's result."""

    model_config = ConfigDict(frozen=True)

    call_id: str  # `<plan id>:<step id>`, the step's own tool call id
    tool: str
    status: Status
    args: dict[str, Any] = Field(default_factory=dict)  # as resolved
    seconds: float = 0.0
    content: str = ""  # what the task tool told the model (or why the step failed or was skipped)
    result: dict[str, Any] | None = None  # the task tool's artifact (a TaskResult) when the step is ok
    error: str | None = None

    def files(self) -> list[FileArtifact]:
        """The files this step made."""
        return files_of(self.result)

    def line(self, step_id: str) -> str:
        """The step's block in the plan's content for the model."""
        return f"[{step_id}] {self.tool} {self.status}: {self.content}"


class StepStarted(BaseModel):
    """A step's tool call started (its references filled in)."""

    model_config = ConfigDict(frozen=True)

    event: Literal["started"] = "started"
    call_id: str
    step: str
    tool: str
    args: dict[str, Any]


class StepFinished(StepResult):
    """A step ended: its result, and the attempts that failed before it (also when the step failed)."""

    event: Literal["finished"] = "finished"
    step: str
    failed_attempts: list[dict[str, Any]] = Field(default_factory=list)


StepEvent = StepStarted | StepFinished


class PlanResult(BaseModel):
    """A whole plan's result: each step's, in an order where every step comes after its inputs."""

    model_config = ConfigDict(frozen=True)

    task: Literal["plan"] = PLAN_TASK
    steps: dict[str, StepResult]

    @classmethod
    def read(cls, artifact: Any) -> PlanResult | None:
        """The plan result an artifact holds (as saved: plain data), or None for any other artifact."""
        if isinstance(artifact, PlanResult):
            return artifact
        if not isinstance(artifact, Mapping) or artifact.get("task") != PLAN_TASK:
            return None
        try:
            return cls.model_validate(artifact)
        except ValidationError:
            return None

    def artifact(self) -> dict[str, Any]:
        """The plain data the ToolMessage carries (and a conversation keeps)."""
        return self.model_dump()

    def files(self) -> list[FileArtifact]:
        """Every file the plan's steps made, step by step."""
        return [f for step in self.steps.values() for f in step.files()]

    def count(self, status: Status) -> int:
        return sum(step.status == status for step in self.steps.values())

    def text(self) -> str:
        """The plan's content for the model: a count line, then one block per step (its facts, files,
        model, or why it failed or was skipped)."""
        head = (
            f"run_plan: {len(self.steps)} steps, {self.count('ok')} ok, {self.count('failed')} failed, "
            f"{self.count('skipped')} skipped."
        )
        return "\n".join([head, *(step.line(step_id) for step_id, step in self.steps.items())])
