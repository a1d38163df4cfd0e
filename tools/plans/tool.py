"""`run_plan`: a whole task graph in one tool call, every step started as soon as its inputs exist.

Each step is an ordinary call of its task tool (validation, input policy, model choice, fallback, retries,
files, traces: nothing reimplemented), made as a child run of the plan's run. A failed step skips the steps
that need it; every other step still runs. Step starts and ends are written to LangGraph's custom stream
(`{"plan_step": {...}}`) as they happen, so renderers show each step like a direct tool call.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, ValidationError

from tools.inference.errors import TransientToolError
from tools.plans.steps import PlanInput, PlanStep, check_plan, depends_on, resolve
from tools.settings import HFSettings
from tools.tasks.outputs import FILE_OUTPUTS
from tools.tasks.table import TaskSpec
from tools.text import shorten

PLAN_TOOL = "run_plan"
STEP_EVENT = "plan_step"  # the key of step events in LangGraph's custom stream
PROGRESS_EVENT = "tool_progress"  # the key of a tool's progress reports there (other MCP servers' tools)
MAX_STEP_ERROR = 600
DESCRIPTION = (
    "Run several tasks that feed each other in ONE call: a list of steps {id, tool, args}, where args are "
    "exactly that tool's arguments. An argument \"$s1\" is replaced by step s1's output: its file for an "
    "image/audio/video input (a made image, audio or video, or the annotated image of a detection), else its "
    "text (caption, transcript, translation, summary, generated text, answer, top label; other tasks: their "
    "first fact line; another MCP server's tool, named server__tool: its first file, else its text); "
    '"$s1" inside a longer text inserts that text; list items may be references. Steps start as soon as '
    "their inputs exist; a failed step skips its dependents only."
)


class StepResult(TypedDict):
    """One step in the plan's artifact."""

    call_id: str
    tool: str
    status: Literal["ok", "failed", "skipped"]
    args: dict[str, Any]  # as resolved
    seconds: float
    content: str  # what the task tool told the model (or why the step failed or was skipped)
    result: dict[str, Any] | None  # the task tool's artifact (a TaskResult)
    error: str | None


def stream_writer() -> Callable[[Any], None]:
    """LangGraph's custom-stream writer when running inside a graph, else a writer that drops events."""
    from langgraph.config import get_stream_writer

    try:
        return get_stream_writer()
    except (RuntimeError, KeyError):  # called outside a graph (a direct invoke, an LCEL chain)
        return lambda _event: None


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"its argument {where} was refused after references were filled in: {first['msg']}"
    return shorten(str(error), MAX_STEP_ERROR)


def _dig(data: Any, path: str) -> Any:
    """`data["answers"][0]["answer"]` for the path `answers.0.answer`; None where it leads nowhere."""
    for key in path.split("."):
        if isinstance(data, list) and key.isdigit():
            data = data[int(key)] if int(key) < len(data) else None
        elif isinstance(data, dict):
            data = data.get(key)
        else:
            return None
    return data


def output_of(spec: TaskSpec | None, content: str, artifact: Mapping[str, Any]) -> tuple[str | None, str]:
    """(first file, main text) of a finished step: what references to it are replaced by."""
    files = artifact.get("files") or []
    first = files[0]["path"] if files else None
    data = artifact.get("data") or {}
    if spec is None and isinstance(data.get("text"), str):  # another MCP server's tool
        return first, first or data["text"]
    main = _dig(artifact.get("data", {}), spec.main) if spec and spec.main else None
    if isinstance(main, str | int | float) and not isinstance(main, bool):
        return first, str(main)
    if first and spec and spec.output in FILE_OUTPUTS:  # a made file is the text too
        return first, first
    return first, content.split("\n", 1)[0].split(": ", 1)[-1]  # the first fact line, without "task: "


@dataclass
class _Run:
    """One execution of a checked plan."""

    tools: Mapping[str, BaseTool]
    settings: HFSettings
    callbacks: Any
    plan_id: str
    write: Callable[[Any], None]
    steps: dict[str, StepResult] = field(default_factory=dict)
    outputs: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    done: dict[str, asyncio.Event] = field(default_factory=dict)

    async def step(self, step: PlanStep) -> None:
        needs = depends_on(step)
        for ref in needs:
            await self.done[ref].wait()
        started, call_id = time.monotonic(), f"{self.plan_id}:{step.id}"
        blocked = next((ref for ref in needs if self.steps[ref]["status"] != "ok"), None)
        if blocked is not None:
            how = "failed" if self.steps[blocked]["status"] == "failed" else "was skipped"
            why = f"it needs {blocked} ({self.steps[blocked]['tool']}), which {how}"
            self.finish(step, call_id, {}, started, "skipped", why)
            return
        tool = self.tools[step.tool]
        spec: TaskSpec | None = getattr(tool, "spec", None)
        media = {arg.name for arg in spec.args if arg.media} if spec else set()
        args = {k: resolve(v, self.outputs, file_input=k in media) for k, v in step.args.items()}
        self.write({STEP_EVENT: {"event": "started", "call_id": call_id, "step": step.id, "tool": step.tool,
                                 "args": args}})  # fmt: skip
        try:
            message = await self.call(tool, step, call_id, args)
        except Exception as error:  # the tool's own one-sentence error, or a refused resolved argument
            artifact = getattr(error, "artifact", None) or {}
            self.finish(step, call_id, args, started, "failed", _error_text(error), artifact)
            return
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        self.outputs[step.id] = output_of(spec, message.text, artifact)
        self.finish(step, call_id, args, started, "ok", message.text, artifact)

    async def call(self, tool: BaseTool, step: PlanStep, call_id: str, args: dict[str, Any]) -> ToolMessage:
        """The task tool's ordinary call (a child run of the plan), retried as the agent retries tools."""
        request = {"name": tool.name, "args": args, "id": call_id, "type": "tool_call"}
        config: RunnableConfig = {
            "callbacks": self.callbacks,
            "metadata": {"plan_step": step.id, "plan_args": step.args},
        }
        retry = 0
        while True:
            try:
                message = await tool.ainvoke(request, config)
            except TransientToolError:
                if retry >= self.settings.tool_retries:
                    raise
                await asyncio.sleep(self.settings.retry_delay * 2**retry)
                retry += 1
                continue
            return (
                message
                if isinstance(message, ToolMessage)
                else ToolMessage(str(message), tool_call_id=call_id)
            )

    def finish(self, step: PlanStep, call_id: str, args: dict[str, Any], started: float,
               status: Literal["ok", "failed", "skipped"], content: str,
               artifact: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        artifact = dict(artifact or {})
        self.steps[step.id] = StepResult(
            call_id=call_id, tool=step.tool, status=status, args=args, content=content,
            seconds=round(float(artifact.get("seconds", time.monotonic() - started)), 3),
            result=artifact if status == "ok" else None,
            error={"ok": None, "failed": content}.get(status, f"{step.tool} skipped: {content}"),
        )  # fmt: skip
        event = {"event": "finished", "step": step.id, **self.steps[step.id],
                 "failed_attempts": artifact.get("failed_attempts", [])}  # fmt: skip
        self.write({STEP_EVENT: event})
        self.done[step.id].set()


def summary(order: list[PlanStep], steps: Mapping[str, StepResult]) -> str:
    """The plan's content for the model: one block per step, with its facts, files and model."""
    counts = {s: sum(r["status"] == s for r in steps.values()) for s in ("ok", "failed", "skipped")}
    lines = [
        f"run_plan: {len(order)} steps, {counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped."
    ]
    for step in order:
        done = steps[step.id]
        lines.append(f"[{step.id}] {step.tool} {done['status']}: {done['content']}")
    return "\n".join(lines)


class RunPlanTool(BaseTool):
    """Runs a task graph of the toolkit's task tools in one call (see the module docstring)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = PLAN_TOOL
    description: str = DESCRIPTION
    args_schema: type[BaseModel] = PlanInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    tools: dict[str, BaseTool]
    settings: HFSettings

    def _run(
        self, steps: list[Any], run_manager: CallbackManagerForToolRun | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Sync callers: the same run, on an event loop of its own in a worker thread."""
        callbacks = run_manager.get_child() if run_manager else None
        with ThreadPoolExecutor(1, thread_name_prefix="run-plan") as pool:
            return pool.submit(asyncio.run, self._execute(steps, callbacks, lambda _event: None)).result()

    async def _arun(
        self, steps: list[Any], run_manager: AsyncCallbackManagerForToolRun | None = None
    ) -> tuple[str, dict[str, Any]]:
        return await self._execute(steps, run_manager.get_child() if run_manager else None, stream_writer())

    async def _execute(
        self, steps: list[Any], callbacks: Any, write: Callable[[Any], None]
    ) -> tuple[str, dict[str, Any]]:
        parsed = [s if isinstance(s, PlanStep) else PlanStep.model_validate(s) for s in steps]
        order = check_plan(parsed, self.tools, self.settings.max_plan_steps)
        run = _Run(self.tools, self.settings, callbacks, uuid.uuid4().hex[:12], write)
        run.done = {step.id: asyncio.Event() for step in order}
        await asyncio.gather(*(run.step(step) for step in order))
        results = {step.id: run.steps[step.id] for step in order}
        return summary(order, results), {"task": "plan", "steps": results}


def plan_tool(tools: list[BaseTool], settings: HFSettings) -> RunPlanTool:
    """`run_plan` over the given task tools and other MCP servers' tools (others, like find_models, are left
    out)."""
    if not tools:
        raise ToolException("run_plan needs at least one task tool")
    steps = {t.name: t for t in tools if getattr(t, "spec", None) is not None or getattr(t, "foreign", False)}
    return RunPlanTool(tools=steps, settings=settings)
