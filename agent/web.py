"""The web UI: a Gradio chat that renders `hugginggpt.agent.events.run_turn` — steps, inline media, what ran.

Rendering only: the agent, its settings and its event stream are the CLI's. Each browser session is its
own conversation thread (kept in the same conversation store as the CLI, agent/store.py); `?thread=NAME`
resumes one, and two tabs (or processes) on one thread take turns. With sign-in (HUGGINGGPT_WEB_AUTH) a
user's threads are theirs: stored as `user/NAME`, so `?thread=NAME` opens only the signed-in user's. The
server hands out only media files (made files and uploads, typed by their bytes: agent/web_guard.py), never
the conversation store or anything else in the output folder, takes attachments only through the one upload
check (`ArtifactStore.save_upload`), and refuses to listen beyond loopback without sign-in.
"""

from __future__ import annotations

import logging
import mimetypes
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr
from langchain_core.messages import BaseMessage, HumanMessage
from starlette.middleware import Middleware

from hugginggpt.agent.errors import describe_error
from hugginggpt.agent.events import (
    AnswerDelta,
    Event,
    ThreadWaiting,
    ToolFinished,
    ToolProgress,
    ToolStarted,
    TurnDone,
    answer_already_shown,
    args_preview,
    replay,
    run_turn,
)
from hugginggpt.agent.lazy_agent import LazyAgent
from hugginggpt.agent.settings import THREAD_NAME, AgentSettings, MissingSetting
from hugginggpt.agent.store import ConversationStore
from hugginggpt.agent.usage import USAGE_KEY, Usage, thread_usages, total, usage_line
from hugginggpt.agent.web_guard import MediaOnlyFiles
from hugginggpt.tools.files.artifacts import FOLDERS, UPLOADS, ArtifactStore, display_path
from hugginggpt.tools.inference.errors import InputRefused, OutputNotSaved

ATTACHED = "\n\nAttached files:"
LOG = logging.getLogger(__name__)
CSS = """
#settings-problem { border-left: 4px solid #d97706; padding: 0.5em 1em; background: #fffbeb; }
"""


def new_thread() -> str:
    return f"web-{uuid.uuid4().hex[:8]}"


def signed_in(request: gr.Request | None) -> str | None:
    """The signed-in user of a request (None without sign-in)."""
    return getattr(request, "username", None) or None


@dataclass
class Session:
    """One browser session: its conversation thread (and whose it is) and what the page shows of it."""

    thread: str = field(default_factory=new_thread)
    user: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    turn_usage: Usage | None = None  # the latest turn's, on this page
    usages: list[Usage] = field(default_factory=list)  # each saved turn's, the thread's total

    @property
    def key(self) -> str:
        """The thread's id in the store: the user's own namespace with sign-in, the name without."""
        return f"{self.user}/{self.thread}" if self.user else self.thread


def _sentence(error: BaseException) -> str:
    """`describe_error`, worded for the page; an unexpected error's traceback goes to the server log."""
    sentence = describe_error(error)
    if sentence.startswith("unexpected error"):
        LOG.error("turn failed", exc_info=error)
        return sentence.replace("run with --verbose for details", "the server log has the details")
    LOG.warning("turn failed: %s", sentence)
    return sentence


def _seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _parse(message: dict[str, Any] | str | None) -> tuple[str, list[str]]:
    """The MultimodalTextbox value as (text, uploaded file paths)."""
    if not isinstance(message, dict):
        return (message or "").strip(), []
    files = [f if isinstance(f, str) else f["path"] for f in message.get("files") or []]
    return (message.get("text") or "").strip(), files


def _media(path: str, caption: str) -> dict[str, Any]:
    """A file message: the Chatbot shows images, audio and video inline, other files as links."""
    return {"role": "assistant", "content": {"path": str(Path(path).resolve()), "alt_text": caption}}


class TurnView:
    """Folds one turn's events into the session's chat messages, steps and panel rows."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.steps: dict[str, int] = {}
        self.answer_at: int | None = None
        self.waiting_at: int | None = None
        self.streamed = ""

    def user(self, text: str, files: Sequence[str] = ()) -> None:
        messages = self.session.messages
        messages.extend({"role": "user", "content": {"path": str(Path(f).resolve())}} for f in files)
        messages.append({"role": "user", "content": text or "(files attached)"})

    def apply(self, event: Event) -> None:
        if isinstance(event, ThreadWaiting):
            self.waiting(event)
        elif isinstance(event, ToolStarted):
            self.started(event)
        elif isinstance(event, ToolProgress):
            self.progressed(event)
        elif isinstance(event, ToolFinished):
            self.finished(event)
        elif isinstance(event, AnswerDelta):
            self.delta(event.text)
        elif isinstance(event, TurnDone):
            self.session.turn_usage = event.summary.usage
            answer = event.summary.answer
            if answer and not answer_already_shown(self.streamed, answer):
                self.answer_at = None
                self.delta(answer)

    def waiting(self, event: ThreadWaiting) -> None:
        """Another turn (another tab or process) is running on this thread: say so while this one waits."""
        note = (
            f"⏳ Another turn on this conversation is still running; waiting up to {event.limit:g} s "
            f"(waited {event.waited:.0f} s)…"
        )
        if self.waiting_at is None:
            self.waiting_at = len(self.session.messages)
            self.session.messages.append({"role": "assistant", "content": note})
        else:
            self.session.messages[self.waiting_at]["content"] = note

    def started(self, event: ToolStarted) -> None:
        self.answer_at = None
        model = event.args.get("model")
        self.steps[event.id] = len(self.session.messages)
        self.session.messages.append(
            {
                "role": "assistant",
                "content": args_preview(event.args, 300) or "(no arguments)",
                "metadata": {
                    "title": f"{event.name}" + (f" · {model}" if model else ""),
                    "id": event.id or f"step-{len(self.steps)}",
                    "status": "pending",
                    "log": "running…",
                },
            }
        )

    def progressed(self, event: ToolProgress) -> None:
        """A running step's progress report, as its log line."""
        index = self.steps.get(event.id)
        if index is not None:
            self.session.messages[index]["metadata"]["log"] = event.text()

    def finished(self, event: ToolFinished) -> None:
        ok = event.status == "ok"
        lines = []
        index = self.steps.get(event.id)
        if index is not None:
            lines.append(self.session.messages[index]["content"])
        if event.model:
            lines.append(f"model: {event.model}" + (f" ({event.provider})" if event.provider else ""))
        lines.extend(f"tried first: {a.get('model')} — {a.get('error')}" for a in event.failed_attempts)
        lines.extend(f"made: {display_path(f['path'])}" for f in event.files)
        if not ok:
            lines.append(f"error: {event.error or 'failed'}")
        step = {
            "role": "assistant",
            "content": "\n\n".join(lines),
            "metadata": {
                "title": f"{'✔' if ok else '✖'} {event.name}" + (f" · {event.model}" if event.model else ""),
                "id": event.id,
                "status": "done",
                "duration": event.seconds,
                "log": "ok" if ok else "error",
            },
        }
        if index is None:
            self.session.messages.append(step)
        else:
            self.session.messages[index] = step
        self.session.messages.extend(_media(f["path"], f"{event.name} output") for f in event.files)
        self.session.calls.append(
            {
                "task": event.name,
                "model": event.model or "—",
                "seconds": event.seconds,
                "status": event.status,
                "error": event.error,
            }
        )
        self.session.files.extend({**f, "task": event.name, "model": event.model} for f in event.files)

    def delta(self, text: str) -> None:
        self.streamed += text
        messages = self.session.messages
        if self.answer_at is None:
            self.answer_at = len(messages)
            messages.append({"role": "assistant", "content": ""})
        messages[self.answer_at]["content"] += text

    def fail(self, sentence: str) -> None:
        """End the turn with an error message; steps still pending are closed."""
        for index in self.steps.values():
            metadata = self.session.messages[index].get("metadata", {})
            if metadata.get("status") == "pending":
                metadata.update(status="done", log="stopped")
        self.session.messages.append({"role": "assistant", "content": f"⚠️ {sentence}"})


def panel(session: Session) -> str:
    """The side panel: the conversation, the tasks run with their models, the files made, what the latest
    turn and the whole conversation cost."""
    lines = [f"**Conversation** `{session.thread}`", "", "### Tasks run"]
    for n, call in enumerate(session.calls, 1):
        result = "ok" if call["status"] == "ok" else f"✖ {call['error'] or 'failed'}"
        lines.append(f"{n}. **{call['task']}** · `{call['model']}` · {_seconds(call['seconds'])} · {result}")
    if not session.calls:
        lines.append("_none yet_")
    lines += ["", "### Files made"]
    if session.files:
        lines += [f"- `{display_path(f['path'])}` ({f['mime_type']}, {f['task']})" for f in session.files]
    else:
        lines.append("_none yet_")
    lines += ["", "### Usage"]
    if session.turn_usage is not None:
        lines.append(f"- **This turn**: {usage_line(session.turn_usage)}")
    if session.usages:
        lines.append(f"- **Conversation**: {usage_line(total(session.usages))}")
    if session.turn_usage is None and not session.usages:
        lines.append("_none yet_")
    return "\n".join(lines)


def history_view(session: Session, messages: Sequence[BaseMessage]) -> None:
    """Rebuild the page for a resumed thread from its stored messages (text, steps, media)."""
    view = TurnView(session)
    for item in replay(messages):
        if isinstance(item, HumanMessage):
            view = TurnView(session)
            view.user(item.text.split(ATTACHED)[0])
        elif isinstance(item, ToolFinished):  # files since removed are not shown
            view.apply(replace(item, files=[f for f in item.files if Path(f["path"]).is_file()]))
        else:
            if isinstance(item, AnswerDelta):
                view.answer_at = None
            view.apply(item)


class WebApp:
    """The Gradio app around one agent; `model`/`tools` are passed to `build_agent` (tests), `callbacks` too
    (the command's LangSmith tracer)."""

    def __init__(
        self, settings: AgentSettings, *, model: Any = None, tools: Any = None, callbacks: Sequence[Any] = ()
    ) -> None:
        self.settings = settings
        self.problem: str | None = None
        try:
            settings.require_keys()
        except MissingSetting as error:
            self.problem = str(error)
        self.lazy = LazyAgent(settings, model=model, tools=tools, callbacks=callbacks)
        self.uploads = ArtifactStore(settings.toolkit)
        self.demo = self._blocks()

    @property
    def store(self) -> ConversationStore | None:
        """The conversation store, once the agent is built."""
        return self.lazy.store

    async def agent(self) -> Any:
        """The agent, built on first use in the server's event loop, on the conversation store."""
        return await self.lazy.get()

    def close(self) -> None:
        """Let go of the store and the toolkit from outside the server's loop (at exit)."""
        self.lazy.close()

    async def aclose(self) -> None:
        """Close the store and the toolkit from inside the loop that opened them."""
        await self.lazy.aclose()

    def save_uploads(self, paths: Sequence[str], key: str) -> list[str]:
        """Keep the files attached to a message under `<output_dir>/uploads/<thread key>/`, where the tools
        may read them, through the one upload check (`ArtifactStore.save_upload`): size, media sniffed from
        the bytes, and the type the file's name claims. Raises `InputRefused` (one sentence) for any
        other file, before any of them is written."""
        checked = []
        for path in paths:
            name = Path(path).name  # Gradio keeps the sender's name under its cache folder
            data = Path(path).read_bytes()  # at most Gradio's max_file_size, which is the same limit
            declared = mimetypes.guess_type(name)[0]
            self.uploads.check_upload(data, None, name, declared)
            checked.append((data, name, declared))
        return [
            self.uploads.save_upload(data, None, name, declared, under=key, name=name).source
            for data, name, declared in checked
        ]

    def media_folders(self) -> list[str]:
        """The only folders the server hands files out of: made media and uploads."""
        output = self.settings.toolkit.output_dir.resolve()
        return [str(output / name) for name in (*FOLDERS.values(), UPLOADS)]

    async def respond(
        self, message: dict[str, Any] | str | None, session: Session | None, request: gr.Request | None = None
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Run one turn, yielding (input box, chat, panel, session) as the events arrive."""
        user = signed_in(request)
        if session is None or (request is not None and session.user != user):
            session = Session(user=user)
        text, uploads = _parse(message)
        if not text and not uploads:
            yield gr.MultimodalTextbox(), session.messages, panel(session), session
            return
        busy = gr.MultimodalTextbox(value=None, interactive=False)
        view = TurnView(session)
        try:
            files = self.save_uploads(uploads, session.key)
        except (InputRefused, OutputNotSaved, OSError) as error:  # nothing sent; the text stays in the box
            view.fail(_sentence(error))
            kept = gr.MultimodalTextbox(value={"text": text, "files": []}, interactive=True)
            yield kept, session.messages, panel(session), session
            return
        try:
            view.user(text, files)
            yield busy, session.messages, panel(session), session
            if self.problem:
                raise MissingSetting(self.problem)
            sent = text + (ATTACHED + "".join(f"\n- {f}" for f in files) if files else "")
            config = {"tags": ["web"], "metadata": {"thread_id": session.key}}
            agent = await self.agent()
            turn = run_turn(agent, sent, thread=session.key, config=config, store=self.store)
            async for event in turn:
                view.apply(event)
                yield busy, session.messages, panel(session), session
            session.usages = await thread_usages(agent, session.key)  # other tabs' turns included
        except Exception as error:  # never a dead page: one sentence in the chat
            view.fail(_sentence(error))
        yield gr.MultimodalTextbox(value=None, interactive=True), session.messages, panel(session), session

    async def start(self, request: gr.Request) -> tuple[Session, list[dict[str, Any]], str, Any]:
        """A page load: a new thread, or the one named by `?thread=` (the signed-in user's) with its history.
        The input box opens only then, so a message typed first is not wiped by the load's result."""
        name = (dict(request.query_params) if request else {}).get("thread", "")
        user = signed_in(request)
        session = Session(thread=name, user=user) if THREAD_NAME.match(name) else Session(user=user)
        if name and not self.problem:
            try:
                state = await (await self.agent()).aget_state({"configurable": {"thread_id": session.key}})
                history_view(session, state.values.get("messages", []))
                session.usages = list(state.values.get(USAGE_KEY) or [])
            except Exception as error:
                TurnView(session).fail(_sentence(error))
        return session, session.messages, panel(session), gr.MultimodalTextbox(interactive=True)

    @staticmethod
    def new_chat(request: gr.Request | None = None) -> tuple[Session, list[dict[str, Any]], str, Any]:
        session = Session(user=signed_in(request))
        return session, session.messages, panel(session), gr.MultimodalTextbox(value=None, interactive=True)

    def _blocks(self) -> gr.Blocks:
        with gr.Blocks(title="HuggingGPT", analytics_enabled=False, fill_height=True) as demo:
            session = gr.State(None)  # set on load
            gr.Markdown("## HuggingGPT — an LLM plans, Hugging Face models do the work")
            gr.Markdown(
                f"**Setup needed:** {self.problem}" if self.problem else "",
                visible=bool(self.problem),
                elem_id="settings-problem",
            )
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chat = gr.Chatbot(
                        elem_id="chat",
                        label="Conversation",
                        height=640,
                        buttons=["copy"],
                        feedback_options=None,
                        placeholder="Ask for images, speech, captions, detections… and attach files.",
                    )
                    box = gr.MultimodalTextbox(
                        elem_id="prompt",
                        placeholder="Generate an image of three sheep in a field, then count them",
                        # no file_types: every file reaches the one upload check, which answers in the chat
                        file_count="multiple",
                        show_label=False,
                        autofocus=True,
                        interactive=False,  # until the page's session is loaded (`start`)
                    )
                with gr.Column(scale=1, min_width=280):
                    new = gr.Button("New chat", elem_id="new-chat", variant="secondary")
                    with gr.Accordion("What ran", open=True):
                        steps = gr.Markdown(panel(Session(thread="…")), elem_id="steps-panel")
            outputs = [session, chat, steps]
            demo.load(self.start, None, [*outputs, box], api_visibility="private")
            turn = box.submit(
                self.respond, [box, session], [box, chat, steps, session], api_visibility="private"
            )
            for event in (new.click, chat.clear):  # a new thread; a turn in flight is cancelled
                event(self.new_chat, None, [*outputs, box], cancels=[turn], api_visibility="private")
        return demo

    def launch(self, host: str, port: int, **kwargs: Any) -> None:
        """Serve on host:port; blocks unless `prevent_thread_lock=True`.

        Raises `MissingSetting` (before anything listens) for an address beyond loopback without sign-in.
        """
        logins = self.settings.web.web_sign_in(host)
        self.demo.queue(default_concurrency_limit=8).launch(
            server_name=host,
            server_port=port,
            share=False,
            ssr_mode=False,
            mcp_server=False,
            pwa=False,
            auth=logins or None,
            allowed_paths=self.media_folders(),  # not the whole output folder: it holds the store
            max_file_size=self.settings.toolkit.max_input_bytes,  # Gradio refuses bigger uploads before taking them
            app_kwargs={"middleware": [Middleware(MediaOnlyFiles)]},  # only media from its file route
            css=CSS,
            **kwargs,
        )
