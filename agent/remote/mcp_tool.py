"""The whole agent as one MCP tool, `hugginggpt`, on the official `mcp` SDK: a request in, the answer, the
media the turn made (rendered as tools/mcp/results.py renders a tool's files) and the turn's
structured result out; each tool step is reported as progress while the turn runs."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from hugginggpt.agent.build import AGENT_NAME
from hugginggpt.agent.events import ToolFinished, ToolStarted, TurnDone, args_preview
from hugginggpt.agent.remote import turns
from hugginggpt.agent.remote.skills import tool_description
from hugginggpt.tools.mcp.results import failure, file_blocks
from hugginggpt.tools.redaction import Redactor
from hugginggpt.tools.text import invalid_arguments, shorten

MAX_REQUEST = 20_000  # characters in one request


class Request(BaseModel):
    """The tool's arguments."""

    request: str = Field(
        min_length=1, max_length=MAX_REQUEST, description="What you want, in plain words (any language)."
    )
    thread: str | None = Field(
        None,
        description="A conversation to continue (the `thread` of an earlier result, or a name of your "
        "choice); leave it out to start a new one.",
    )


@cache
def _output_schema() -> dict[str, Any]:
    return TypeAdapter(turns.TurnResult).json_schema()


def listing() -> types.Tool:
    schema = Request.model_json_schema()
    schema.pop("title", None)
    return types.Tool(
        name=AGENT_NAME,
        title="HuggingGPT",
        description=tool_description(),
        input_schema=schema,
        output_schema=_output_schema(),
    )


def step_line(event: ToolStarted | ToolFinished) -> str:
    """One progress line per tool step, as the CLI shows it."""
    label = f"[{event.step}] {event.name}" if event.step else event.name
    if isinstance(event, ToolStarted):
        return f"▶ {label}({args_preview(event.args, 120)})"
    if event.status == "ok":
        return f"✔ {label}: {event.model or '?'} ({event.seconds:.1f} s)"
    return f"✖ {label}: {event.error or event.status}"


def base_url(ctx: ServerRequestContext[Any]) -> str | None:
    """This server's address as the client reached it (HTTP only)."""
    request = ctx.request
    url = getattr(request, "base_url", None)
    return str(url) if url is not None else None


class AgentTool:
    """Runs one turn per `tools/call` and renders it as an MCP tool result."""

    def __init__(self, remote: turns.RemoteAgent) -> None:
        self.remote = remote
        secrets = remote.settings.secret_values()
        self.redact = Redactor(secrets)

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[listing()])

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        if params.name != AGENT_NAME:
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {shorten(params.name, 100)}")
        try:
            args = Request.model_validate(params.arguments or {})
            thread = turns.thread_name(args.thread, "mcp")
        except ValidationError as error:
            return failure(invalid_arguments(AGENT_NAME, error), self.redact)
        except turns.BadThread as error:
            return failure(f"{AGENT_NAME} refused its arguments: {error}", self.redact)
        steps = 0
        try:
            async for event in self.remote.turn(args.request, thread):
                if isinstance(event, ToolStarted | ToolFinished):
                    steps += 1
                    await ctx.session.report_progress(steps, None, self.redact(step_line(event)))
                elif isinstance(event, TurnDone):
                    return await asyncio.to_thread(self.render, event, base_url(ctx))
        except turns.TurnFailed as error:
            return failure(str(error), self.redact, {"thread": thread})
        return failure("the turn ended without an answer.", self.redact, {"thread": thread})

    def render(self, done: TurnDone, base: str | None) -> types.CallToolResult:
        result = turns.result_of(done.summary, self.remote.shelf, base)
        blocks: list[types.ContentBlock] = [types.TextContent(text=self.redact(result["answer"]))]
        for file in result["files"]:
            blocks.extend(
                file_blocks(file, self.remote.settings.toolkit.mcp_server.mcp_inline_bytes, file["url"])
            )
        return types.CallToolResult(content=blocks, structured_content=self.redact(dict(result)))

    def server(self) -> Server[Any]:
        return Server(
            AGENT_NAME,
            instructions="One tool, hugginggpt: the whole HuggingGPT agent. Pass `thread` to continue.",
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
        )
