"""One agent turn as a stream of progress events, shared by the CLI and the web UI."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage


@dataclass(frozen=True)
class ToolStarted:
    id: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class ToolFinished:
    id: str
    name: str
    status: str  # "ok" | "error"
    seconds: float
    model: str | None = None
    provider: str | None = None
    error: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    failed_attempts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class AnswerDelta:
    text: str


@dataclass
class TurnSummary:
    """What a turn produced: the `--json` shape."""

    answer: str = ""
    thread: str = ""
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [c for c in self.tool_calls if c["status"] == "error"]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TurnDone:
    summary: TurnSummary


Event = ToolStarted | ToolFinished | AnswerDelta | TurnDone


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

    def model_update(self, message: AIMessage) -> list[Event]:
        events: list[Event] = []
        for call in message.tool_calls:
            started = ToolStarted(call["id"] or "", call["name"], dict(call["args"]))
            self.started[started.id] = (started, time.monotonic())
            events.append(started)
        if not message.tool_calls:
            self.summary.answer = _text(message.content).strip()
        return events

    def tool_update(self, message: ToolMessage) -> ToolFinished:
        started, t0 = self.started.get(message.tool_call_id, (None, time.monotonic()))
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        ok = message.status != "error"
        finished = ToolFinished(
            id=message.tool_call_id,
            name=message.name or (started.name if started else "?"),
            status="ok" if ok else "error",
            seconds=round(artifact.get("seconds", time.monotonic() - t0), 3),
            model=artifact.get("model"),
            provider=artifact.get("provider"),
            error=None if ok else _text(message.content).removeprefix("Error: "),
            files=list(artifact.get("files", [])),
            failed_attempts=list(artifact.get("failed_attempts", [])),
        )
        self.summary.tool_calls.append(
            {
                "name": finished.name,
                "args": started.args if started else {},
                "status": finished.status,
                "model": finished.model,
                "seconds": finished.seconds,
                "error": finished.error,
                "failed_attempts": finished.failed_attempts,
            }
        )
        for f in finished.files:
            entry = {"path": f["path"], "mime_type": f["mime_type"], "task": artifact.get("task"),
                     "model": finished.model}  # fmt: skip
            self.summary.artifacts.append(entry)
        return finished


async def run_turn(
    agent: Any, text: str, *, thread: str, config: dict[str, Any] | None = None
) -> AsyncIterator[Event]:
    """Run one user turn on `thread`, yielding progress events and finally `TurnDone`."""
    turn = _Turn(thread)
    run_config = {**(config or {})}
    run_config["configurable"] = {**run_config.get("configurable", {}), "thread_id": thread}
    stream = agent.astream(
        {"messages": [HumanMessage(text)]}, config=run_config, stream_mode=["updates", "messages"]
    )
    async for mode, payload in stream:
        if mode == "messages":
            chunk, meta = payload
            if isinstance(chunk, AIMessageChunk) and meta.get("langgraph_node") == "model":
                delta = _text(chunk.content)
                if delta:
                    yield AnswerDelta(delta)
            continue
        for update in (payload or {}).values():
            for message in (update or {}).get("messages", []) if isinstance(update, dict) else []:
                if isinstance(message, AIMessage):
                    for event in turn.model_update(message):
                        yield event
                elif isinstance(message, ToolMessage):
                    yield turn.tool_update(message)
    yield TurnDone(turn.summary)
