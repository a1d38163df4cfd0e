"""The command line's live view of a turn (rich): tool calls as they start and end, the answer, the files.

With `verbose`, each tool call's details go to stderr as well: its arguments in full, every attempt that
failed (model, provider, cause, the server's words) and who served it; `log_requests` adds one line per
HTTP request the clients make (method, URL, status).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

from hugginggpt.agent.events import (
    AnswerDelta,
    ThreadWaiting,
    ToolFinished,
    ToolProgress,
    ToolStarted,
    TurnDone,
    TurnSummary,
    answer_already_shown,
    args_preview,
    run_turn,
)
from hugginggpt.agent.usage import thread_usages, total, usage_line
from hugginggpt.tools.text import shorten

DETAIL_CHARS = 2000  # of one verbose detail line (a tool call's arguments)
HTTP_LOGGERS = ("httpx", "httpx2")  # the OpenAI client's and huggingface_hub's HTTP clients


def _step(step: str | None) -> str:
    """` [s1]` for a plan step, nothing for a direct call."""
    return f" [dim]\\[{escape(step)}][/]" if step else ""


class Renderer:
    """Prints progress to the terminal, or one JSON object per turn with `json_mode`."""

    def __init__(self, json_mode: bool = False, verbose: bool = False, thread_usage: bool = False) -> None:
        self.json_mode = json_mode
        self.verbose = verbose
        self.thread_usage = thread_usage  # after each turn, also the conversation's total (--usage)
        # In JSON mode stdout carries only JSON; progress goes to stderr.
        self.out = Console(file=sys.stdout, highlight=False, soft_wrap=True)
        self.progress = Console(file=sys.stderr if json_mode else sys.stdout, highlight=False, soft_wrap=True)
        self.details = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        self.said_waiting = False

    def show(self, event: Any, streamed: list[str]) -> None:
        if isinstance(event, ThreadWaiting):
            if not self.said_waiting:  # once a turn (the wait is bounded)
                self.said_waiting = True
                self.progress.print(
                    f"[yellow]⏳ thread {escape(repr(event.thread))} is busy with another turn; "
                    f"waiting up to {event.limit:g} s…[/]"
                )
        elif isinstance(event, ToolStarted):
            preview = args_preview(event.args, 90, leave_out={"model"})
            self.progress.print(f"[cyan]▶ {event.name}[/]{_step(event.step)} {escape(preview)}")
            self.detail(f"{event.name} {event.id} arguments: " + json.dumps(event.args, ensure_ascii=False))
        elif isinstance(event, ToolProgress):
            self.progress.print(f"[dim]… {event.name} {escape(event.text())}[/]")
        elif isinstance(event, ToolFinished):
            if event.status == "ok":
                self.progress.print(
                    f"[green]✔ {event.name}[/]{_step(event.step)} {escape(event.model or '')} · {event.seconds:.1f} s"
                )
            else:
                self.progress.print(
                    f"[red]✖ {event.name}[/]{_step(event.step)} {escape(event.error or 'failed')}"
                )
            for failed in event.failed_attempts:
                self.detail(
                    f"{event.name} {event.id} tried {failed.get('model')} via {failed.get('provider')}:"
                    f" {failed.get('cause')}: {failed.get('error')}"
                )
            if event.model:
                self.detail(f"{event.name} {event.id} served by {event.model} via {event.provider}")
        elif isinstance(event, AnswerDelta) and not self.json_mode:
            streamed.append(event.text)
            self.out.print(escape(event.text), end="")

    def detail(self, line: str) -> None:
        """A request detail on stderr, with `verbose` only."""
        if self.verbose:
            self.details.print(f"[dim]  {escape(shorten(line, DETAIL_CHARS))}[/]")

    def finish(self, summary: TurnSummary, streamed: list[str], thread: dict[str, Any] | None = None) -> None:
        """The answer (unless streamed), the files, the failures, what the turn cost (and the thread's
        total, when given); or the JSON object."""
        if self.json_mode:
            shown = summary.to_dict() | ({"thread_usage": thread} if thread is not None else {})
            print(json.dumps(shown, ensure_ascii=False), flush=True)
            return
        if streamed:
            self.out.print()
        if summary.answer and not answer_already_shown("".join(streamed), summary.answer):
            self.out.print(escape(summary.answer))
        if summary.artifacts:
            self.out.print("[bold]Files made:[/]")
            for item in summary.artifacts:
                self.out.print(f"  {escape(item['path'])}  ({item['mime_type']}, {item['task']})")
        if summary.failed:
            self.out.print(
                f"[yellow]{len(summary.failed)} task(s) failed; the answer says what is missing.[/]"
            )
        if summary.usage is not None:
            self.out.print(f"[dim]Used: {escape(usage_line(summary.usage))}[/]")
        if thread is not None:
            self.out.print(f"[dim]Thread {escape(repr(summary.thread))}: {escape(usage_line(thread))}[/]")

    @staticmethod
    def log_requests() -> None:
        """One stderr line per HTTP request of the LLM and HF clients (method, URL, status)."""
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("  %(message)s"))
        for name in HTTP_LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(logging.INFO)
            logger.addHandler(handler)

    async def turn(
        self, agent: Any, text: str, thread: str, config: dict[str, Any], store: Any = None
    ) -> bool:
        """Run and show one turn (on `store`'s thread lock when given); False if the user interrupted it."""
        streamed: list[str] = []
        self.said_waiting = False
        try:
            async for event in run_turn(agent, text, thread=thread, config=config, store=store):
                if isinstance(event, TurnDone):
                    usages = await thread_usages(agent, thread) if self.thread_usage else None
                    self.finish(event.summary, streamed, None if usages is None else total(usages))
                else:
                    self.show(event, streamed)
        except (KeyboardInterrupt, asyncio.CancelledError):
            self.progress.print("\n[yellow]Stopped; the request in flight was cancelled.[/]")
            return False
        except BaseException:
            if streamed and not streamed[-1].endswith("\n"):
                self.out.print()  # the error line that follows starts a line of its own
            raise
        return True
