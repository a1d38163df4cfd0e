"""`run_plan`: a whole task graph in one tool call, every step started as soon as its inputs exist.

Each step is an ordinary call of its task tool (validation, input policy, model choice, fallback, retries,
files, traces: nothing reimplemented), made as a child run of the plan's run (tools/plans/run.py). A failed
step skips the steps that need it; every other step still runs. When the agent streamed the call's steps
into execution while the model was writing them (agent/plan_stream.py), the call joins that run
(`joining`) instead of starting the steps again, and adopts their traces as its child runs.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict

from hugginggpt.tools.files.media import MediaKind
from hugginggpt.tools.plans.results import PlanResult
from hugginggpt.tools.plans.run import PROGRESS_EVENT, STEP_EVENT, PlanRun, stream_writer
from hugginggpt.tools.plans.steps import PlanInput, PlanStep
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.tasks.tool import media_args

__all__ = [
    "PLAN_TOOL",
    "PROGRESS_EVENT",
    "STEP_EVENT",
    "PlanResult",
    "PlanRun",
    "RunPlanTool",
    "joining",
    "plan_tool",
    "planned_steps",
    "stream_writer",
    "tool_calls_counted",
]

PLAN_TOOL = "run_plan"
DESCRIPTION = (
    "Run several tasks that feed each other in ONE call: a list of steps {id, tool, args}, where args are "
    "exactly that tool's arguments. An argument \"$s1\" is replaced by step s1's output: its file for an "
    "image/audio/video input (a made image, audio or video, or the annotated image of a detection), else its "
    "text (caption, transcript, translation, summary, generated text, answer, top label; other tasks: their "
    "first fact line; another MCP server's tool, named server__tool: its first file, else its text); "
    '"$s1" inside a longer text inserts that text; list items may be references. Steps start as soon as '
    "their inputs exist; a failed step skips its dependents only."
)


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

    def start(
        self,
        callbacks: Any,
        write: Callable[[Any], None],
        context: contextvars.Context | None = None,
        plan_id: str | None = None,
    ) -> PlanRun:
        """A run of this tool's plan whose steps are added as they arrive (see tools/plans/run.py)."""
        run = PlanRun(self.tools, self.settings, callbacks, write, context)
        run.plan_id = plan_id or run.plan_id
        return run

    def media_args(self, tool: str) -> Mapping[str, MediaKind]:
        """The arguments of a step's tool that take a media file, with their kind (none for an unknown
        tool, which the plan's checks refuse)."""
        step_tool = self.tools.get(tool)
        return media_args(step_tool) if step_tool is not None else {}

    async def _execute(
        self, steps: list[Any], callbacks: Any, write: Callable[[Any], None]
    ) -> tuple[str, dict[str, Any]]:
        parsed = [s if isinstance(s, PlanStep) else PlanStep.model_validate(s) for s in steps]
        run = _JOINING.get()
        if run is None or run.over_budget or not run.streamed_as(parsed):
            if run is not None:  # the tool-call budget was misjudged, or the stream misread: start afresh
                run.cancel("cancelled: the plan was read again from the call's arguments")
            run = self.start(callbacks, write)
        else:
            await run.adopt(callbacks)  # the steps it started become this call's child runs
        result = await run.join(parsed)
        return result.text(), result.artifact()


_JOINING: contextvars.ContextVar[PlanRun | None] = contextvars.ContextVar("run_plan_joining", default=None)


@contextmanager
def joining(run: PlanRun) -> Iterator[None]:
    """While inside, a `run_plan` call joins `run` (its steps already started) instead of starting anew."""
    token = _JOINING.set(run)
    try:
        yield
    finally:
        _JOINING.reset(token)


def planned_steps(call: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The step objects of a `run_plan` tool call (`{"name", "args"}`) as the model sent them, unchecked (the
    plan's own checks come when it runs); None for another tool's call or arguments without a step list."""
    if call.get("name") != PLAN_TOOL or not isinstance(args := call.get("args"), Mapping):
        return None
    steps = args.get("steps")
    return [s for s in steps if isinstance(s, Mapping)] if isinstance(steps, list) else None


def tool_calls_counted(call: Mapping[str, Any]) -> int:
    """How many tool calls one call stands for against HUGGINGGPT_MAX_TOOL_CALLS: a plan's steps, else one."""
    steps = call.get("args", {}).get("steps") if call.get("name") == PLAN_TOOL else None
    return max(1, len(steps)) if isinstance(steps, list) else 1


def plan_tool(tools: list[BaseTool], settings: HFSettings) -> RunPlanTool:
    """`run_plan` over the given task tools and other MCP servers' tools (others, like find_models, are left
    out)."""
    if not tools:
        raise ToolException("run_plan needs at least one task tool")
    steps = {t.name: t for t in tools if getattr(t, "spec", None) is not None or getattr(t, "foreign", False)}
    return RunPlanTool(tools=steps, settings=settings)
