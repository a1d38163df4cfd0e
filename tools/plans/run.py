"""One execution of a plan whose steps arrive one by one: all at once (a `run_plan` call's arguments), or
while the model is still writing them (agent/plan_stream.py reads them from the model's stream).

A step is checked on its own when it arrives and starts at once; it waits for the steps it references
(ids not seen yet included) and is an ordinary call of its task tool, made as a child run. A step refused on
its own (malformed id, unknown tool, bad arguments, a reference to no step) fails with one sentence and
skips only the steps that need it. A plan refused as a whole (too many steps, a duplicate id, a cycle)
cancels every step it started, as soon as the refusal is known, and says which had started. Step starts and
ends are written to LangGraph's custom stream (`{"plan_step": StepStarted | StepFinished}`) as they happen;
the plan ends as a `PlanResult` (tools/plans/results.py). A step's call is retried exactly as a direct call
is, by the same `ToolRetryMiddleware` (tools/inference/retry.py).

A run started from a retried model call's stream has the failed attempt's run as `previous`: a step
written again the same (and whose inputs were kept too) is kept, not run again; the others are cancelled.
A run started before its `run_plan` call holds its steps' traces until the call adopts it (held.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from pydantic import ValidationError

from hugginggpt.tools.inference.retry import tool_retry
from hugginggpt.tools.plans.held import HeldTraces
from hugginggpt.tools.plans.results import PlanResult, Status, StepFinished, StepResult, StepStarted
from hugginggpt.tools.plans.steps import (
    PlanStep,
    depends_on,
    missing_reference,
    order,
    plan_refusal,
    resolve,
    step_refusal,
)
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.tasks.outputs import FILE_OUTPUTS
from hugginggpt.tools.tasks.table import TaskSpec
from hugginggpt.tools.tasks.tool import media_args
from hugginggpt.tools.text import problems, shorten

if TYPE_CHECKING:
    from langgraph.prebuilt.tool_node import ToolCallRequest

STEP_EVENT = "plan_step"  # the key of step events in LangGraph's custom stream
PROGRESS_EVENT = "tool_progress"  # the key of a tool's progress reports there (other MCP servers' tools)
MAX_STEP_ERROR = 600
REFUSED_PLAN = "cancelled: run_plan refused the plan"
STOPPED = "cancelled: the turn was stopped"
OVER_BUDGET = "cancelled: the plan has more steps than the tool calls left (HUGGINGGPT_MAX_TOOL_CALLS)"
REWRITTEN = "cancelled: the retried model call wrote this step differently"
NOT_REWRITTEN = "cancelled: the retried model call did not write this step again"


def stream_writer() -> Callable[[Any], None]:
    """LangGraph's custom-stream writer when running inside a graph, else a writer that drops events."""
    from langgraph.config import get_stream_writer

    try:
        return get_stream_writer()
    except (RuntimeError, KeyError):  # called outside a graph (a direct invoke, an LCEL chain)
        return lambda _event: None


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return f"its arguments were refused after references were filled in: {problems(error)}"
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
class PlanRun:
    """One plan's execution: `add` each step as it arrives, then `join` with the whole plan."""

    tools: Mapping[str, BaseTool]
    settings: HFSettings
    callbacks: Any
    write: Callable[[Any], None]
    context: contextvars.Context | None = None  # the steps' context (by default the caller's)
    plan_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    planned: list[PlanStep] = field(default_factory=list)
    steps: dict[str, StepResult] = field(default_factory=dict)
    outputs: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)  # steps whose tool call started, in order
    refused: bool = False  # the plan as a whole cannot be accepted: nothing more starts
    early_limit: int | None = None  # most steps to start before the call runs (the tool calls left)
    over_budget: bool = False  # more steps than `early_limit` were written: the call will be blocked
    held: HeldTraces | None = None  # the traces of steps started before the run_plan run exists
    previous: PlanRun | None = None  # the run a failed model call started: its same steps are kept
    carried: set[str] = field(default_factory=set)  # steps kept from `previous` (not run again)
    _done: dict[str, asyncio.Event] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _why_cancelled: str = REFUSED_PLAN
    _why: dict[str, str] = field(default_factory=dict)  # steps cancelled on their own, and why
    _releasing: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self._retry = tool_retry(self.settings)

    def add(self, raw: Any) -> None:
        """Take one more step: start it (it waits for its inputs), refuse it on its own, or, when the plan
        can no longer be accepted (a step too many, a duplicate id), cancel every step of the plan."""
        if self.refused:
            return
        try:
            step = raw if isinstance(raw, PlanStep) else PlanStep.model_validate(raw)
        except ValidationError:
            return  # the call's arguments fail run_plan's schema: the call is refused as a whole
        self.planned.append(step)
        if plan_refusal(self.planned, self.settings.max_plan_steps):
            self.cancel(REFUSED_PLAN)
            return
        if self.early_limit is not None and len(self.planned) > self.early_limit:
            self.over_budget = True
            self.cancel(OVER_BUDGET)
            return
        if self._carry(step):
            return
        reason = step_refusal(step, self.tools)
        if reason is not None:
            self.finish(step, {}, time.monotonic(), "failed", f"refused: {reason}")
            return
        context = self.context.copy() if self.context is not None else None
        self._tasks[step.id] = asyncio.create_task(
            self.step(step), name=f"plan-step-{step.id}", context=context
        )

    def _carry(self, step: PlanStep) -> bool:
        """Keep `previous`'s step when `step` is the same (id, tool, arguments) and so are the steps it
        needs: it is not run again, its result is taken when it ends. A step written differently is
        cancelled there."""
        old = self.previous
        if old is None or old.refused or step.id not in old._tasks or step.id in old._why:
            return False
        was = next(s for s in old.planned if s.id == step.id)
        if was != step or not all(ref in self.carried for ref in depends_on(step)):
            old.drop(step.id, REWRITTEN)
            return False
        self.carried.add(step.id)
        if step.id in old.started:
            self.started.append(step.id)
        self._tasks[step.id] = asyncio.create_task(self._take(old, step), name=f"plan-step-{step.id}")
        return True

    async def _take(self, old: PlanRun, step: PlanStep) -> None:
        await old._event(step.id).wait()
        self.steps[step.id] = old.steps[step.id]
        if step.id in old.outputs:
            self.outputs[step.id] = old.outputs[step.id]
        self._event(step.id).set()

    def drop(self, step_id: str, why: str) -> None:
        """Cancel one step (if it had started, it ends as failed, saying `why`)."""
        self._why[step_id] = why
        if (task := self._tasks.get(step_id)) is not None:
            task.cancel()

    def cancel(self, why: str) -> None:
        """Stop every step (those that had started end as failed, saying `why`); nothing more starts."""
        self.refused, self._why_cancelled = True, why
        for task in self._tasks.values():
            task.cancel()
        if self.previous is not None:
            self.previous.cancel(why)
        if self.held is not None and not self.held.passing and self._releasing is None:
            with contextlib.suppress(RuntimeError):  # no event loop: nothing was held
                self._releasing = asyncio.get_running_loop().create_task(self.held.release())

    async def adopt(self, callbacks: Any) -> None:
        """Become the run of the `run_plan` call whose child callbacks these are: steps call their tools
        under it, and the traces of steps that started before it move under it (tools/plans/held.py)."""
        self.callbacks = callbacks
        if self.held is not None:
            await self.held.adopt(callbacks)
        if self.previous is not None:
            await self.previous.adopt(callbacks)

    def streamed_as(self, steps: list[PlanStep]) -> bool:
        """Whether the steps added so far are the start of `steps` (the call's final arguments)."""
        return self.planned == steps[: len(self.planned)]

    async def join(self, steps: list[PlanStep]) -> PlanResult:
        """The plan's result once every step has ended; raises `ToolException` (one sentence) for a plan
        refused as a whole, after cancelling the steps it started."""
        for step in steps[len(self.planned) :]:
            self.add(step)
        try:
            reason = plan_refusal(steps, self.settings.max_plan_steps)
            if reason is not None:
                raise ToolException(f"run_plan refused the plan: {reason}.")
            ordered = order(steps)
        except ToolException as refusal:
            self.cancel(REFUSED_PLAN)
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            raise ToolException(self._with_started(str(refusal))) from None
        kept, old, dropped = self.carried, self.previous, []
        while old is not None:  # the failed model calls' steps this plan did not keep
            for left in [s.id for s in old.planned if s.id not in kept]:
                old.drop(left, NOT_REWRITTEN)
                dropped += [old._tasks[left]] if left in old._tasks else []
            kept, old = kept & old.carried, old.previous
        await asyncio.gather(*dropped, return_exceptions=True)
        ids = {step.id for step in steps}
        for step in steps:
            why = missing_reference(step, ids) if step.id not in self.steps else None
            if why is not None and (task := self._tasks.pop(step.id, None)) is not None:
                task.cancel()  # it was waiting for the id no step has: never started
                self.finish(step, {}, time.monotonic(), "failed", f"refused: {why}")
        try:
            await asyncio.gather(*self._tasks.values())
        except asyncio.CancelledError:  # the turn was stopped (Ctrl-C, SIGTERM): gather cancelled the steps
            self.cancel(STOPPED)
            raise
        return PlanResult(steps={step.id: self.steps[step.id] for step in ordered})

    def _with_started(self, sentence: str) -> str:
        if not self.started:
            return sentence
        names = ", ".join(self.started)
        return f"{sentence.rstrip('.')}; {names} had already started and {'was' if len(self.started) == 1 else 'were'} cancelled."

    def _event(self, step_id: str) -> asyncio.Event:
        return self._done.setdefault(step_id, asyncio.Event())

    async def step(self, step: PlanStep) -> None:
        needs = depends_on(step)
        for ref in needs:
            await self._event(ref).wait()
        started, call_id = time.monotonic(), f"{self.plan_id}:{step.id}"
        blocked = next((ref for ref in needs if self.steps[ref].status != "ok"), None)
        if blocked is not None:
            how = "failed" if self.steps[blocked].status == "failed" else "was skipped"
            why = f"it needs {blocked} ({self.steps[blocked].tool}), which {how}"
            self.finish(step, {}, started, "skipped", why)
            return
        tool = self.tools[step.tool]
        spec: TaskSpec | None = getattr(tool, "spec", None)
        media = media_args(tool)
        args = {k: resolve(v, self.outputs, file_input=k in media) for k, v in step.args.items()}
        self.started.append(step.id)
        self.write({STEP_EVENT: StepStarted(call_id=call_id, step=step.id, tool=step.tool, args=args)})
        try:
            message = await self.call(tool, step, call_id, args)
        except asyncio.CancelledError:
            self.finish(step, args, started, "failed", self._why.get(step.id, self._why_cancelled))
            raise
        except Exception as error:  # the tool's own one-sentence error, or a refused resolved argument
            artifact = getattr(error, "artifact", None) or {}
            self.finish(step, args, started, "failed", _error_text(error), artifact)
            return
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        self.outputs[step.id] = output_of(spec, message.text, artifact)
        self.finish(step, args, started, "ok", message.text, artifact)

    async def call(self, tool: BaseTool, step: PlanStep, call_id: str, args: dict[str, Any]) -> ToolMessage:
        """The task tool's ordinary call (a child run of the plan), through the agent's tool retry."""
        from langgraph.prebuilt.tool_node import ToolCallRequest  # imported when first used: start-up time

        metadata = {"plan": self.plan_id, "plan_step": step.id, "plan_args": step.args}

        async def invoke(request: ToolCallRequest) -> ToolMessage:
            held = self.held if self.held is not None and not self.held.passing else None
            config: RunnableConfig = {  # before the run_plan run exists, its traces are held for it
                "callbacks": held.manager if held is not None else self.callbacks,
                "metadata": metadata,
            }
            with held.holding() if held is not None else contextlib.nullcontext():
                message = await tool.ainvoke({**request.tool_call, "type": "tool_call"}, config)
            return (
                message
                if isinstance(message, ToolMessage)
                else ToolMessage(str(message), tool_call_id=call_id)
            )

        call = ToolCall(name=tool.name, args=args, id=call_id)
        request = ToolCallRequest(call, tool, state={}, runtime=None)  # type: ignore[arg-type]  # no graph here
        message = await self._retry.awrap_tool_call(request, invoke)
        if not isinstance(message, ToolMessage):  # a Command: task tools never return one
            raise ToolException(f"{tool.name} returned no result")
        return message

    def finish(self, step: PlanStep, args: dict[str, Any], started: float, status: Status, content: str,
               artifact: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        artifact = dict(artifact or {})
        done = StepResult(
            call_id=f"{self.plan_id}:{step.id}", tool=step.tool, status=status, args=args, content=content,
            seconds=round(float(artifact.get("seconds", time.monotonic() - started)), 3),
            result=artifact if status == "ok" else None,
            error={"ok": None, "failed": content}.get(status, f"{step.tool} skipped: {content}"),
        )  # fmt: skip
        self.steps[step.id] = done
        failed = list(artifact.get("failed_attempts") or [])
        finished = StepFinished.model_construct(**dict(done), step=step.id, failed_attempts=failed)  # checked
        self.write({STEP_EVENT: finished})
        self._event(step.id).set()
