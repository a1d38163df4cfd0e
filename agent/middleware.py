"""Two small middlewares where langchain's own stop short.

- `ToolFailureMiddleware`: like `ToolErrorMiddleware` (a failed tool becomes an error `ToolMessage` the
  model can react to), but it keeps what the tool knew as the message's artifact (which models were tried
  and why they failed) and bounds every error text, so hostile arguments are not echoed back in bulk.
- `SafeToolArgsMiddleware`: integers too large for 64 bits (valid JSON from an LLM) would make the
  checkpointer fail after the model turn; they are turned into strings, which the tool schema then
  refuses with a readable error.
- `StepCountingToolCallLimit`: langchain's `ToolCallLimitMiddleware`, where a `run_plan` call counts as
  its number of steps, so a plan cannot get round `HUGGINGGPT_MAX_TOOL_CALLS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ToolCallLimitMiddleware
from langchain.agents.middleware.types import ModelRequest, ModelResponse, ToolCallRequest
from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.tools import ToolException
from langgraph.errors import GraphBubbleUp
from langgraph.types import Command

from tools.plan import PLAN_TOOL
from tools.text import shorten

MAX_ERROR_CHARS = 1200
INT64 = 2**63 - 1


class ToolFailureMiddleware(AgentMiddleware):
    """Tool exceptions -> bounded error `ToolMessage`s that keep the tool's failure facts."""

    def _failed(self, error: Exception, request: ToolCallRequest) -> ToolMessage:
        name = request.tool.name if request.tool else request.tool_call["name"]
        if isinstance(error, ToolException):
            content = f"Error: {error}"
        else:
            content = f"Error: {name} failed unexpectedly ({type(error).__name__})."
        return ToolMessage(
            content=shorten(content, MAX_ERROR_CHARS, counted=True),
            tool_call_id=request.tool_call["id"],
            name=name,
            status="error",
            artifact=getattr(error, "artifact", None),
        )

    @staticmethod
    def _bounded(result: ToolMessage | Command[Any]) -> ToolMessage | Command[Any]:
        if isinstance(result, ToolMessage) and result.status == "error" and isinstance(result.content, str):
            result.content = shorten(result.content, MAX_ERROR_CHARS, counted=True)
        return result

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]]
    ) -> ToolMessage | Command[Any]:
        try:
            return self._bounded(handler(request))
        except GraphBubbleUp:
            raise
        except Exception as error:
            return self._failed(error, request)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        try:
            return self._bounded(await handler(request))
        except GraphBubbleUp:
            raise
        except Exception as error:
            return self._failed(error, request)


def _safe(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > INT64:
        return str(value)
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value


class SafeToolArgsMiddleware(AgentMiddleware):
    """Keep tool-call arguments storable by any checkpointer."""

    @staticmethod
    def _clean(response: ModelResponse) -> ModelResponse:
        for message in response.result:
            if isinstance(message, AIMessage) and message.tool_calls:
                message.tool_calls = [{**call, "args": _safe(call["args"])} for call in message.tool_calls]
        return response

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        return self._clean(handler(request))

    async def awrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[ModelResponse]]
    ) -> ModelResponse:
        return self._clean(await handler(request))


def tool_calls_counted(call: ToolCall) -> int:
    """How many tool calls one call stands for: a plan's steps, else one."""
    steps = call["args"].get("steps") if call["name"] == PLAN_TOOL else None
    return max(1, len(steps)) if isinstance(steps, list) else 1


class StepCountingToolCallLimit(ToolCallLimitMiddleware):
    """`ToolCallLimitMiddleware` counting each step of a `run_plan` call as a tool call.

    Overrides the one method that decides which calls of a turn fit the limits (langchain 1.x), so the
    limits, the counts kept in the state and the messages for blocked calls all stay langchain's own.
    """

    def _separate_tool_calls(
        self, tool_calls: list[ToolCall], thread_count: int, run_count: int
    ) -> tuple[list[ToolCall], list[ToolCall], int, int]:
        allowed: list[ToolCall] = []
        blocked: list[ToolCall] = []
        for call in tool_calls:
            if not self._matches_tool_filter(call):
                continue
            extra = tool_calls_counted(call) - 1
            if self._would_exceed_limit(thread_count + extra, run_count + extra):
                blocked.append(call)
            else:
                allowed.append(call)
                thread_count, run_count = thread_count + extra + 1, run_count + extra + 1
        return allowed, blocked, thread_count, run_count
