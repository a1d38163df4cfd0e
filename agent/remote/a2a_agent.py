"""The whole agent as an A2A agent, on the official `a2a-sdk`: one conversation thread per `contextId`,
each tool step a `working` status update while the turn runs, and the turn's answer as an artifact of a
text part plus one file part per file made (its bytes when small, else a URL this server serves)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from a2a.helpers.proto_helpers import new_data_part, new_raw_part, new_task, new_text_part, new_url_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events.event_queue_v2 import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes import DefaultServerCallContextBuilder, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Part,
    TaskState,
)
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH, PROTOCOL_VERSION_1_0
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hugginggpt.agent.build import AGENT_NAME
from hugginggpt.agent.events import ToolFinished, ToolStarted, TurnDone
from hugginggpt.agent.remote.mcp_tool import step_line
from hugginggpt.agent.remote.skills import FAMILIES, SUMMARY, output_modes, skill_description, tasks_by_family
from hugginggpt.agent.remote.turns import (
    BadThread,
    RemoteAgent,
    TurnFailed,
    TurnResult,
    result_of,
    thread_name,
)
from hugginggpt.tools.redaction import Redactor

A2A_PATH = f"/a2a/{AGENT_NAME}"
BASE_URL = "base_url"  # the call context's state: this server's address as the client reached it


class BaseUrlContext(DefaultServerCallContextBuilder):
    """The SDK's call context, plus the address the client used (for the URLs of file parts)."""

    def build(self, request: Request) -> ServerCallContext:
        context = super().build(request)
        context.state[BASE_URL] = str(request.base_url)
        return context


def agent_card(base_url: str, version: str) -> AgentCard:
    """The card: what the agent does, one skill per task family, streaming, the media it returns."""
    grouped = tasks_by_family()
    skills = [
        AgentSkill(
            id=family.id,
            name=family.name,
            description=skill_description(family, grouped[family.id]),
            tags=[family.id, *(spec.task for spec in grouped[family.id])],
            examples=[family.example],
            input_modes=["text/plain"],
            output_modes=output_modes(grouped[family.id]),
        )
        for family in FAMILIES
        if grouped[family.id]
    ]
    url = f"{base_url.rstrip('/')}{A2A_PATH}"
    return AgentCard(
        name=AGENT_NAME,
        description=SUMMARY,
        version=version,
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version=PROTOCOL_VERSION_1_0)
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain", "image/*", "audio/*", "video/*"],
        skills=skills,
    )


def answer_parts(result: TurnResult, inline_limit: int) -> list[Part]:
    """The answer as a text part, then each file: its bytes up to `inline_limit`, else its URL."""
    parts = [new_text_part(result["answer"], "text/plain")]
    for file in result["files"]:
        path = Path(file["path"])
        name = path.name
        size = file["size"]
        if size is not None and (size <= inline_limit or not file["url"]):
            parts.append(new_raw_part(path.read_bytes(), file["mime_type"], name))
        elif file["url"]:
            parts.append(new_url_part(file["url"], file["mime_type"], name))
    return parts


class AgentExecutorForA2A(AgentExecutor):
    """Runs one turn per message on the context's thread, reporting each tool step as it happens."""

    def __init__(self, remote: RemoteAgent) -> None:
        self.remote = remote
        self.redact = Redactor(remote.settings.secret_values())

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id, context_id = context.task_id or "", context.context_id or ""
        if context.current_task is None:
            history = [context.message] if context.message is not None else []
            await event_queue.enqueue_event(
                new_task(task_id, context_id, TaskState.TASK_STATE_SUBMITTED, history=history)
            )
        updater = TaskUpdater(event_queue, task_id, context_id)
        text = context.get_user_input().strip()
        try:
            thread = thread_name(f"a2a-{context_id}", "a2a")
        except BadThread as error:
            await updater.failed(self.say(updater, f"the contextId cannot name a conversation: {error}"))
            return
        if not text:
            await updater.failed(
                self.say(updater, "the message has no text: say what you want in a text part.")
            )
            return
        await updater.start_work()
        try:
            async for event in self.remote.turn(text, thread):
                if isinstance(event, ToolStarted | ToolFinished):
                    step: dict[str, Any] = {
                        "event": type(event).__name__,
                        "name": event.name,
                        "step": event.step,
                    }
                    if isinstance(event, ToolFinished):
                        step |= {"status": event.status, "model": event.model, "seconds": event.seconds}
                    message = updater.new_agent_message(
                        [new_text_part(self.redact(step_line(event))), new_data_part(self.redact(step))]
                    )
                    await updater.update_status(TaskState.TASK_STATE_WORKING, message)
                elif isinstance(event, TurnDone):
                    base = context.call_context.state.get(BASE_URL)
                    parts = await asyncio.to_thread(self.answer, event, base)  # files: off the loop
                    await updater.add_artifact(parts, name="answer", metadata={"thread": thread})
                    await updater.complete()
                    return
        except TurnFailed as error:
            await updater.failed(self.say(updater, str(error)))
            return
        await updater.failed(self.say(updater, "the turn ended without an answer."))

    def answer(self, done: TurnDone, base: str | None) -> list[Part]:
        result = result_of(done.summary, self.remote.shelf, base)
        result["answer"] = self.redact(result["answer"])
        return answer_parts(result, self.remote.settings.toolkit.mcp_server.mcp_inline_bytes)

    def say(self, updater: TaskUpdater, text: str) -> Any:
        return updater.new_agent_message([new_text_part(self.redact(text))])

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        """The framework cancels the running `execute`; the task is then marked canceled."""
        await TaskUpdater(event_queue, context.task_id or "", context.context_id or "").cancel()


def a2a_routes(remote: RemoteAgent, version: str) -> list[Route]:
    """The JSON-RPC endpoint at /a2a/hugginggpt and the agent card (there and at the server's root)."""
    card = agent_card("http://127.0.0.1", version)  # the SDK's handler needs one; callers get theirs below
    handler = DefaultRequestHandler(
        agent_executor=AgentExecutorForA2A(remote), task_store=InMemoryTaskStore(), agent_card=card
    )

    async def card_route(request: Request) -> Response:
        return JSONResponse(agent_card_to_dict(agent_card(str(request.base_url), version)))

    return [
        *create_jsonrpc_routes(handler, A2A_PATH, context_builder=BaseUrlContext()),
        Route(f"{A2A_PATH}{AGENT_CARD_WELL_KNOWN_PATH}", card_route, methods=["GET"]),
        Route(AGENT_CARD_WELL_KNOWN_PATH, card_route, methods=["GET"]),
    ]
