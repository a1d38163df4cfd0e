"""Plans that start running while the model is still writing them.

`PlanStreamMiddleware` watches each model call's stream (a callback handler, set for the call only through
langchain's configure hook): when the model writes a `run_plan` call, every step object of its `steps` is
handed to a `PlanRun` (tools/plans/run.py) as soon as it is complete in the stream, so a step starts while
later steps are still being written. The `run_plan` call then joins that run (keyed by its tool_call_id)
instead of starting the steps again: the same checks, step events, ToolMessage and artifact.

The middleware sits outside the model's retries (ModelRetryMiddleware): when an attempt fails mid-stream
and the retry writes the plan again, the retry's run keeps the steps the failed attempt started (or
finished) that it writes the same (id, tool, arguments, and the steps they need kept too) instead of
running them again; the others are cancelled (tools/plans/run.py, `PlanRun.previous`). The steps' traces
are held until the `run_plan` run adopts them as its child runs (tools/plans/held.py).

Paid work is bounded: no step starts once the plan has more steps than `HUGGINGGPT_MAX_PLAN_STEPS` or than
the turn's tool calls left (`HUGGINGGPT_MAX_TOOL_CALLS`; such a call is refused or blocked), and those
started are cancelled then. A run nobody joins is cancelled: when the model call fails for good (an
error after the last retry, Ctrl-C), when its attempt failed and no retry wrote the plan again, or when the
call was answered without running (its arguments refused, the tool-call limit reached), seen at the next
model call or at the end of the turn.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from langchain.agents.middleware import AgentMiddleware
from langchain.agents.middleware.types import ModelRequest, ModelResponse, ToolCallRequest
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import ToolMessage
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk
from langchain_core.runnables import ensure_config
from langchain_core.tracers.context import register_configure_hook
from langgraph.types import Command

from hugginggpt.tools.plans.held import HeldTraces
from hugginggpt.tools.plans.run import STOPPED, PlanRun
from hugginggpt.tools.plans.scan import StepScanner
from hugginggpt.tools.plans.tool import PLAN_TOOL, RunPlanTool, joining, stream_writer

ORPHANED = "cancelled: the run_plan call was answered without running"
LLM_FAILED = "cancelled: the model call that wrote the plan failed"


class PlanWatcher(AsyncCallbackHandler):
    """Reads `run_plan` arguments from a model's streamed tool-call chunks and adds each complete step."""

    def __init__(self, start: Callable[[str, UUID], PlanRun]) -> None:
        self.start = start
        self._calls: dict[tuple[UUID, int], tuple[StepScanner, PlanRun] | None] = {}

    async def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: GenerationChunk | ChatGenerationChunk | None = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        for part in getattr(getattr(chunk, "message", None), "tool_call_chunks", None) or []:
            key = (run_id, part.get("index") or 0)
            if key not in self._calls:  # a call's first chunk names it
                is_plan = part.get("name") == PLAN_TOOL and part.get("id")
                self._calls[key] = (StepScanner(), self.start(part["id"], run_id)) if is_plan else None
            watched = self._calls[key]
            if watched is not None and part.get("args"):
                scanner, plan = watched
                for step in scanner.feed(part["args"]):
                    plan.add(step)


_WATCHER: contextvars.ContextVar[PlanWatcher | None] = contextvars.ContextVar("plan_watcher", default=None)
register_configure_hook(_WATCHER, inheritable=False)


class PlanStreamMiddleware(AgentMiddleware):
    """Start each `run_plan` step as soon as the model has written it (see the module docstring)."""

    def __init__(self, tool: RunPlanTool, max_tool_calls: int | None = None) -> None:
        super().__init__()
        self.tool, self.max_tool_calls = tool, max_tool_calls
        self.runs: dict[str, PlanRun] = {}  # by tool_call_id, until the call joins its run

    def _sweep(self, state: Any) -> None:
        """Cancel the runs of calls this conversation has answered without running them."""
        answered = {m.tool_call_id for m in state.get("messages", []) if isinstance(m, ToolMessage)}
        for call_id in answered & set(self.runs):
            self.runs.pop(call_id).cancel(ORPHANED)

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        return handler(request)  # sync agents: plans run when called, as before

    async def awrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[ModelResponse]]
    ) -> ModelResponse:
        self._sweep(request.state)
        callbacks, write = ensure_config().get("callbacks"), stream_writer()
        context = contextvars.copy_context()  # the steps run in the model call's context, without the watcher
        mine: dict[str, UUID] = {}  # the plan calls written, in all attempts: by the LLM run that wrote them
        state: Any = request.state
        used = state.get("run_tool_call_count", {}).get("__all__", 0)  # StepCountingToolCallLimit's count
        left = None if self.max_tool_calls is None else max(0, self.max_tool_calls - used)

        def start(call_id: str, attempt: UUID) -> PlanRun:
            run = self.tool.start(callbacks, write, context, plan_id=call_id)
            run.held = HeldTraces(callbacks)  # its steps' runs become the run_plan run's children
            run.early_limit = left  # a plan over the budget is blocked: start none of it
            failed = next((c for c, a in mine.items() if a != attempt and c in self.runs), None)
            if failed is not None:  # a retry: keep what the failed attempt's plan started, where the same
                run.previous = self.runs.pop(failed)
            mine[call_id] = attempt
            self.runs[call_id] = run
            return run

        token = _WATCHER.set(PlanWatcher(start))
        try:
            response = await handler(request)
        except BaseException as error:
            why = STOPPED if isinstance(error, asyncio.CancelledError) else LLM_FAILED
            for call_id in mine:
                if call_id in self.runs:
                    self.runs.pop(call_id).cancel(why)
            raise
        finally:
            _WATCHER.reset(token)
        messages = response.result if isinstance(response, ModelResponse) else [response]
        written = {call["id"] for m in messages for call in getattr(m, "tool_calls", None) or []}
        for call_id in mine:  # plans of failed attempts that no retry wrote again
            if call_id in self.runs and call_id not in written:
                self.runs.pop(call_id).cancel(LLM_FAILED)
        return response

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]]
    ) -> ToolMessage | Command[Any]:
        return handler(request)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        run = self.runs.pop(request.tool_call["id"] or "", None)
        if run is None:
            return await handler(request)
        try:
            with joining(run):
                return await handler(request)
        finally:
            run.cancel(ORPHANED)  # a no-op once joined and ended; stops steps if the call never joined

    def after_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        self._sweep(state)
        return None

    async def aafter_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return self.after_agent(state, runtime)
