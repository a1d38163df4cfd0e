"""The agent behind the served MCP and A2A routes: one agent on the conversation store, turns run
through `hugginggpt.agent.events.run_turn`, and the media each turn made, handed out by key and nothing else."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typing_extensions import TypedDict

from hugginggpt.agent.errors import describe_error
from hugginggpt.agent.events import Event, TurnDone, TurnSummary, run_turn
from hugginggpt.agent.lazy_agent import LazyAgent
from hugginggpt.agent.settings import THREAD_NAME, AgentSettings
from hugginggpt.agent.store import ConversationStore

LOG = logging.getLogger(__name__)
FILES_PATH = "/files"  # GET /files/{key}/{name}: a file a turn made (and only those)


class TurnFile(TypedDict):
    """A file the turn made, as remote callers see it."""

    path: str  # on the server, as the tools printed it
    mime_type: str
    task: str | None
    model: str | None
    size: int | None
    url: str | None  # where this server hands it out (None when the base URL is unknown)


class TurnResult(TypedDict):
    """One turn for a remote caller: MCP's structuredContent, A2A's data."""

    answer: str
    thread: str
    files: list[TurnFile]
    tool_calls: list[dict[str, Any]]
    usage: dict[str, Any] | None  # tokens of the turn, when the run reports them


class BadThread(ValueError):
    """A thread or context id that cannot name a conversation."""


def thread_name(given: str | None, prefix: str) -> str:
    """The caller's thread as given, or a new one named `prefix-<random>`; refused in one sentence."""
    if given is None or given == "":
        return f"{prefix}-{secrets.token_hex(6)}"
    if not THREAD_NAME.match(given):
        raise BadThread(
            f"the thread must be 1 to 64 letters, digits, '_', '.' or '-' (got {len(given)} characters)."
        )
    return given


@dataclass
class MediaShelf:
    """Files made by turns of this server, each under an unguessable key: the only files it hands out."""

    files: dict[str, Path] = field(default_factory=dict)

    def add(self, path: str) -> str:
        resolved = Path(path).resolve()
        for key, known in self.files.items():
            if known == resolved:
                return key
        key = secrets.token_urlsafe(16)
        self.files[key] = resolved
        return key

    def get(self, key: str) -> Path | None:
        path = self.files.get(key)
        return path if path is not None and path.is_file() else None

    def url(self, base: str | None, path: str) -> str | None:
        if not base:
            return None
        return f"{base.rstrip('/')}{FILES_PATH}/{self.add(path)}/{Path(path).name}"


def result_of(summary: TurnSummary, shelf: MediaShelf, base_url: str | None) -> TurnResult:
    """The turn's summary as remote callers get it: files with sizes and URLs, usage when known."""
    files: list[TurnFile] = []
    for made in summary.artifacts:
        path = Path(made["path"])
        files.append(
            TurnFile(
                path=made["path"],
                mime_type=made.get("mime_type") or mimetypes.guess_type(path.name)[0] or "",
                task=made.get("task"),
                model=made.get("model"),
                size=path.stat().st_size if path.is_file() else None,
                url=shelf.url(base_url, made["path"]),
            )
        )
    usage = summary.to_dict().get("usage")  # filled once the turn summary carries token usage
    return TurnResult(
        answer=summary.answer,
        thread=summary.thread,
        files=files,
        tool_calls=summary.tool_calls,
        usage=usage if isinstance(usage, dict) else None,
    )


class TurnFailed(RuntimeError):
    """The turn ended with an error; the message is one sentence for the caller."""


class RemoteAgent:
    """The agent (built on first use, in the server's loop) on the project's conversation store."""

    def __init__(self, settings: AgentSettings, *, model: Any = None, tools: Any = None) -> None:
        self.settings = settings
        self.shelf = MediaShelf()
        self.lazy = LazyAgent(settings, model=model, tools=tools)

    @property
    def store(self) -> ConversationStore | None:
        return self.lazy.store

    async def agent(self) -> Any:
        return await self.lazy.get()

    async def turn(self, text: str, thread: str) -> AsyncIterator[Event]:
        """The turn's events, ending with `TurnDone`; any failure is `TurnFailed` with one sentence."""
        try:
            agent = await self.agent()
            async for event in run_turn(agent, text, thread=thread, store=self.store):
                yield event
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as error:
            sentence = describe_error(error)
            if sentence.startswith("unexpected error"):
                LOG.error("turn failed", exc_info=error)
                sentence = sentence.replace(
                    "run with --verbose for details", "the server log has the details"
                )
            raise TurnFailed(sentence) from error

    async def run(self, text: str, thread: str) -> TurnSummary:
        """A whole turn, for callers that only want its end."""
        async for event in self.turn(text, thread):
            if isinstance(event, TurnDone):
                return event.summary
        raise TurnFailed("the turn ended without an answer.")

    async def aclose(self) -> None:
        await self.lazy.aclose()
