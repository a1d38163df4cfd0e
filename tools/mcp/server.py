"""The toolkit's tools over MCP: every tool of `HuggingFaceToolkit().get_tools()` is listed with its
LangChain description and schema, and each call runs that LangChain tool as any other caller would."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from functools import cache
from typing import Any

import mcp_types as types
from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool, ToolException
from langchain_core.utils.function_calling import convert_to_openai_tool
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from pydantic import TypeAdapter, ValidationError

from hugginggpt.tools.files.artifacts import ArtifactStore
from hugginggpt.tools.inference.errors import InputRefused
from hugginggpt.tools.mcp.results import failure, success
from hugginggpt.tools.mcp.uploads import prepared
from hugginggpt.tools.plans.results import PlanResult
from hugginggpt.tools.plans.tool import RunPlanTool
from hugginggpt.tools.redaction import Redactor
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.tasks.tool import HFTaskTool, TaskResult
from hugginggpt.tools.text import invalid_arguments, shorten

log = logging.getLogger(__name__)
SERVER_NAME = "hugginggpt"


def instructions(settings: HFSettings) -> str:
    return (
        "Hugging Face inference tasks on models that are served right now, with fallback to other models. "
        "Media arguments take a file path from an earlier result, a file under the server's allowed "
        f"folders, a public http(s) URL, or a base64 data: URI (up to {settings.max_input_mb:g} MB). "
        "Results carry the files made as resource links (and images and audio inline when small); "
        "structuredContent holds the typed result (task, model, provider, seconds, files, data, failed "
        "attempts). Call find_models to see which models serve a task."
    )


@cache
def _task_result_schema() -> dict[str, Any]:
    return TypeAdapter(TaskResult).json_schema()


@cache
def _plan_result_schema() -> dict[str, Any]:
    return PlanResult.model_json_schema(mode="serialization")


def _output_schema(tool: BaseTool) -> dict[str, Any] | None:
    """The JSON schema of a tool's structured content: a task's result, a plan's, else none declared."""
    if isinstance(tool, HFTaskTool):
        return _task_result_schema()
    return _plan_result_schema() if isinstance(tool, RunPlanTool) else None


def listing(tool: BaseTool) -> types.Tool:
    """The tool as MCP lists it: name, description and the JSON schema of its arguments exactly as an
    LLM sees them when the tool is bound to a chat model (`bind_tools` sends `convert_to_openai_tool`)."""
    function = convert_to_openai_tool(tool)["function"]
    return types.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=function.get("parameters") or {"type": "object", "properties": {}},
        output_schema=_output_schema(tool),
    )


@asynccontextmanager
async def progress_reports(ctx: ServerRequestContext[Any], name: str, every: float) -> AsyncIterator[None]:
    """While the block runs, report progress every `every` seconds, if the client asked for progress."""
    if not (ctx.meta or {}).get("progress_token"):
        yield
        return
    started = time.monotonic()

    async def report() -> None:
        while True:
            elapsed = round(time.monotonic() - started, 3)
            await ctx.session.report_progress(elapsed, None, f"{name}: running for {elapsed:.0f} s")
            await asyncio.sleep(every)

    task = asyncio.create_task(report())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await task


class ToolServer:
    """Lists the tools and runs one call: uploads -> the LangChain tool -> an MCP tool result."""

    def __init__(self, tools: Sequence[BaseTool], settings: HFSettings, store: ArtifactStore) -> None:
        self.tools = {tool.name: tool for tool in tools}
        self.settings = settings
        self.store = store
        self.redact = Redactor(settings.secret_values())

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[listing(tool) for tool in self.tools.values()])

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = self.tools.get(params.name)
        if tool is None:  # an unknown tool is a protocol error, as the spec asks
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {shorten(params.name, 100)}")
        try:
            arguments = await asyncio.to_thread(prepared, params.arguments or {}, tool, self.store)
        except InputRefused as error:
            return failure(f"{tool.name} refused its input: {error}.", self.redact)
        call = ToolCall(name=tool.name, args=arguments, id=f"mcp-{ctx.request_id}", type="tool_call")
        try:
            async with progress_reports(ctx, tool.name, self.settings.mcp_server.mcp_progress_seconds):
                message = await tool.ainvoke(call)
        except ToolException as error:
            return failure(str(error), self.redact, getattr(error, "artifact", None))
        except ValidationError as error:
            return failure(invalid_arguments(tool.name, error), self.redact)
        except Exception as error:  # a bug, not the caller's fault: still a result, never a protocol error
            log.error("%s failed unexpectedly: %s", tool.name, type(error).__name__)
            return failure(f"{tool.name} failed unexpectedly ({type(error).__name__}).", self.redact)
        if not isinstance(message, ToolMessage):  # a tool made with response_format="content"
            message = ToolMessage(content=message, tool_call_id=call["id"] or "")
        if message.status == "error":  # a tool that handles its own errors
            return failure(str(message.content), self.redact, message.artifact)
        return await asyncio.to_thread(
            success, message, self.settings.mcp_server.mcp_inline_bytes, self.redact
        )

    def server(self) -> Server[Any]:
        return Server(
            SERVER_NAME,
            version=_version(),
            instructions=instructions(self.settings),
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
        )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hugginggpt-langchain")
    except PackageNotFoundError:
        return "0"
