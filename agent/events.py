"""One agent turn as a stream of progress events, shared by the CLI and the web UI (and `--json`).

A `run_plan` call is shown as its steps: each step starts and ends as its own tool call (from the plan's
step events in LangGraph's custom stream, as they happen), and the plan call itself only appears when the
plan was refused as a whole. Stored conversations replay into the same events (`replay`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    ToolMessage,
)
from langgraph.checkpoint.base import BaseCheckpointSaver

from hugginggpt.agent.usage import USAGE_KEY, Usage, UsageMeter, with_meter
from hugginggpt.tools.plans.results import PlanResult, StepFinished, StepResult, StepStarted
from hugginggpt.tools.plans.tool import PLAN_TOOL, PROGRESS_EVENT, STEP_EVENT
from hugginggpt.tools.text import shorten

if TYPE_CHECKING:
    from hugginggpt.agent.store import ConversationStore


# Each step is saved before the next one starts: a turn killed half way (kill -9, a crash, a lost database
# server) keeps every step that finished, and a failed save ends the turn at once. ("async" may lose the
# last step; "exit" saves only at the end, so a killed turn loses the user's request too.)
DURABILITY = "sync"


@dataclass(frozen=True)
class ToolStarted:
    id: str
    name: str
    args: dict[str, Any]
    step: str | None = None  # the plan step id, for a step of run_plan


@dataclass(frozen=True)
class ToolFinished:
    id: str
    name: str
    status: str  # "ok" | "error" | "skipped" (a plan step whose input failed)
    seconds: float
    model: str | None = None
    provider: str | None = None
    error: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    failed_attempts: list[dict[str, Any]] = field(default_factory=list)
    step: str | None = None
    task: str | None = None

    @classmethod
    def from_message(cls, message: ToolMessage, seconds: float = 0.0) -> ToolFinished:
        """A direct tool call's end, from its ToolMessage (the artifact is the tool's typed result)."""
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        ok = message.status != "error"
        return cls(
            id=message.tool_call_id,
            name=message.name or "?",
            status="ok" if ok else "error",
            seconds=round(float(artifact.get("seconds", seconds)), 3),
            model=artifact.get("model"),
            provider=artifact.get("provider"),
            error=None if ok else message.text.removeprefix("Error: "),
            files=list(artifact.get("files", [])),
            failed_attempts=list(artifact.get("failed_attempts", [])),
            task=artifact.get("task"),
        )

    @classmethod
    def from_step(cls, step_id: str, step: StepResult) -> ToolFinished:
        """A plan step's end, from its step event or its entry in the plan's result."""
        result = step.result or {}
        failed = result.get("failed_attempts") or (
            step.failed_attempts if isinstance(step, StepFinished) else []
        )
        return cls(
            id=step.call_id,
            name=step.tool,
            status={"ok": "ok", "skipped": "skipped"}.get(step.status, "error"),
            seconds=step.seconds,
            model=result.get("model"),
            provider=result.get("provider"),
            error=step.error,
            files=[dict(f) for f in step.files()],
            failed_attempts=list(failed),
            step=step_id,
            task=result.get("task"),
        )


def finished_events(message: ToolMessage) -> list[ToolFinished]:
    """The tool calls a ToolMessage ends: one, or each step of an accepted plan."""
    plan = PlanResult.read(message.artifact) if message.name == PLAN_TOOL else None
    if plan is not None:
        return [ToolFinished.from_step(step_id, step) for step_id, step in plan.steps.items()]
    return [ToolFinished.from_message(message)]


def started_events(message: AIMessage) -> list[ToolStarted]:
    """The tool calls a model turn starts (a plan's steps start one by one, later)."""
    return [
        ToolStarted(call["id"] or "", call["name"], dict(call["args"]))
        for call in message.tool_calls
        if call["name"] != PLAN_TOOL
    ]


@dataclass(frozen=True)
class ToolProgress:
    """A running tool's progress report (another MCP server's progress notifications)."""

    id: str
    name: str
    progress: float
    total: float | None = None
    message: str = ""

    def text(self) -> str:
        """`3/5 message`, `40 % message` or `3 message`."""
        if self.total:
            done = (
                f"{self.progress:g}/{self.total:g}" if self.total > 1 else f"{self.progress / self.total:.0%}"
            )
        else:
            done = f"{self.progress:g}"
        return f"{done} {self.message}".strip()


@dataclass(frozen=True)
class ThreadWaiting:
    """Another turn is running on this thread: this one waits (up to `limit` seconds) before it starts."""

    thread: str
    waited: float
    limit: float


@dataclass(frozen=True)
class AnswerDelta:
    text: str


@dataclass
class TurnSummary:
    """What a turn produced and cost: the `--json` shape (`usage`: see agent/usage.py)."""

    answer: str = ""
    thread: str = ""
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage | None = None

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [c for c in self.tool_calls if c["status"] != "ok"]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TurnDone:
    summary: TurnSummary


Event = ThreadWaiting | ToolStarted | ToolProgress | ToolFinished | AnswerDelta | TurnDone


def args_preview(args: Mapping[str, Any], limit: int, leave_out: Collection[str] = ()) -> str:
    """A tool call's arguments as `name=value, ...` in at most `limit` characters."""
    text = ", ".join(f"{k}={v!r}" for k, v in args.items() if k not in leave_out)
    return shorten(text, limit)


def answer_already_shown(shown: str, answer: str) -> bool:
    """Whether the streamed text already ends with the final answer (so it is not printed twice)."""
    return bool(answer) and shown.strip().endswith(answer[-40:].strip())


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


class _Turn:
    """Folds stream updates into events and the summary."""

    def __init__(self, thread: str) -> None:
        self.summary = TurnSummary(thread=thread)
        self.started: dict[str, tuple[ToolStarted, float]] = {}
        self.finished: set[str] = set()

    def start(self, event: ToolStarted) -> ToolStarted:
        self.started[event.id] = (event, time.monotonic())
        return event

    def model_update(self, message: AIMessage) -> list[Event]:
        if not message.tool_calls:
            self.summary.answer = _text(message.content).strip()
        return [self.start(event) for event in started_events(message)]

    def step_event(self, event: StepStarted | StepFinished) -> list[Event]:
        if isinstance(event, StepStarted):
            return [self.start(ToolStarted(event.call_id, event.tool, dict(event.args), event.step))]
        return self.finish(ToolFinished.from_step(event.step, event))

    def tool_update(self, message: ToolMessage) -> list[Event]:
        events: list[Event] = []
        for finished in finished_events(message):
            if finished.step and finished.id not in self.started:  # a step the stream did not show starting
                events.append(self.start(ToolStarted(finished.id, finished.name, {}, finished.step)))
            events.extend(self.finish(finished))
        return events

    def finish(self, finished: ToolFinished) -> list[Event]:
        if finished.id in self.finished:
            return []
        self.finished.add(finished.id)
        started, t0 = self.started.get(finished.id, (None, time.monotonic()))
        if finished.seconds == 0.0 and started is not None:
            finished = ToolFinished(**{**asdict(finished), "seconds": round(time.monotonic() - t0, 3)})
        self.summary.tool_calls.append(
            {
                "name": finished.name,
                "args": started.args if started else {},
                "status": finished.status,
                "model": finished.model,
                "provider": finished.provider,
                "seconds": finished.seconds,
                "error": finished.error,
                "failed_attempts": finished.failed_attempts,
                "step": finished.step,
            }
        )
        for f in finished.files:
            entry = {
                "path": f["path"],
                "mime_type": f["mime_type"],
                "task": finished.task,
                "model": finished.model,
            }
            self.summary.artifacts.append(entry)
        return [finished]


async def run_turn(
    agent: Any,
    text: str,
    *,
    thread: str,
    config: dict[str, Any] | None = None,
    store: ConversationStore | None = None,
) -> AsyncIterator[Event]:
    """Run one user turn on `thread`, yielding progress events and finally `TurnDone`.

    With the `store` the agent saves to, the turn is the thread's only writer while it runs (it waits for
    another turn on the thread first, with `ThreadWaiting` events) and the thread's superseded
    checkpoints are dropped after it.
    """
    if store is None:
        async for event in _stream(agent, text, thread, config):
            yield event
        return
    writer = store.writer(thread)
    async for waited in writer.wait():
        yield ThreadWaiting(thread, round(waited, 1), store.wait)
    try:
        async for event in _stream(agent, text, thread, config):
            yield event
        await store.prune(thread)
    finally:
        await writer.release()


def _rewrite(messages: list[Any]) -> bool:
    """A node that replaces the whole history (repairing or summarising it) reports nothing new."""
    return bool(messages) and isinstance(messages[0], RemoveMessage)


async def _stream(agent: Any, text: str, thread: str, config: dict[str, Any] | None) -> AsyncIterator[Event]:
    turn = _Turn(thread)
    meter = UsageMeter()
    run_config = {**(config or {})}
    run_config["configurable"] = {**run_config.get("configurable", {}), "thread_id": thread}
    run_config["callbacks"] = with_meter(run_config.get("callbacks"), meter)
    stream = agent.astream(
        {"messages": [HumanMessage(text)]},
        config=run_config,
        stream_mode=["updates", "messages", "custom"],
        durability=DURABILITY
        if isinstance(getattr(agent, "checkpointer", None), BaseCheckpointSaver)
        else None,
    )
    async for mode, payload in stream:
        if mode == "messages":
            chunk, meta = payload
            if isinstance(chunk, AIMessageChunk) and meta.get("langgraph_node") == "model":
                delta = _text(chunk.content)
                if delta:
                    yield AnswerDelta(delta)
            continue
        if mode == "custom":
            if isinstance(payload, dict) and isinstance(payload.get(STEP_EVENT), StepStarted | StepFinished):
                for event in turn.step_event(payload[STEP_EVENT]):
                    yield event
            elif isinstance(payload, dict) and isinstance(payload.get(PROGRESS_EVENT), dict):
                report = payload[PROGRESS_EVENT]
                yield ToolProgress(str(report.get("id") or ""), str(report.get("name") or "?"),
                                   float(report.get("progress") or 0), report.get("total"),
                                   str(report.get("message") or ""))  # fmt: skip
            continue
        for update in (payload or {}).values():
            if isinstance(update, dict) and update.get(USAGE_KEY):  # the turn's usage, as it was saved
                turn.summary.usage = update[USAGE_KEY][-1]
            messages = list((update or {}).get("messages", [])) if isinstance(update, dict) else []
            if _rewrite(messages):
                continue
            for message in messages:
                if isinstance(message, AIMessage):
                    for event in turn.model_update(message):
                        yield event
                elif isinstance(message, ToolMessage):
                    for event in turn.tool_update(message):
                        yield event
    if turn.summary.usage is None:  # an agent without UsageMiddleware
        turn.summary.usage = meter.report()
    yield TurnDone(turn.summary)


def replay(messages: Sequence[BaseMessage]) -> Iterator[HumanMessage | Event]:
    """A stored conversation as the events a live run gave: each human message, then its turn's events."""
    turn = _Turn("")
    for message in messages:
        if isinstance(message, HumanMessage):
            yield message
        elif isinstance(message, AIMessage):
            yield from turn.model_update(message)
            if not message.tool_calls and message.text.strip():
                yield AnswerDelta(message.text.strip())
        elif isinstance(message, ToolMessage):
            yield from turn.tool_update(message)
