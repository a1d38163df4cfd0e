"""Small middlewares where langchain's own stop short.

- `InterruptedCallsMiddleware`: a turn that ended early (Ctrl-C, a signal, kill -9, a full disk, a lost
  database) leaves a saved assistant message whose tool calls have no answers, and every LLM API refuses
  such a history. Before the agent runs, each unanswered call gets an error `ToolMessage` saying it was
  interrupted, right after its assistant message (so the model knows, and may call it again); threads
  saved by earlier versions (`human, ai(tool_calls), human`) are repaired the same way.
- `ToolFailureMiddleware`: like `ToolErrorMiddleware` (a failed tool becomes an error `ToolMessage` the
  model can react to), but it keeps what the tool knew as the message's artifact (which models were tried
  and why they failed) and bounds every error text, so hostile arguments are not echoed back in bulk.
  Refused arguments are reported cause first (field, rule, the value's length), the echo last and short:
  langgraph's own message starts with the whole arguments, which can push the cause out of the budget.
- `SafeToolArgsMiddleware`: integers too large for 64 bits (valid JSON from an LLM) would make the
  checkpointer fail after the model turn; they are turned into strings, which the tool schema then
  refuses with a readable error.
- `StepCountingToolCallLimit`: langchain's `ToolCallLimitMiddleware`, where a `run_plan` call counts as
  its number of steps, so a plan cannot get round `HUGGINGGPT_MAX_TOOL_CALLS`.
- `UsageMiddleware`: at the end of a turn, keeps what it cost (the turn's `UsageMeter`, agent/usage.py) in
  the conversation's state, one entry per turn, and puts it in the turn's trace metadata.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NotRequired

from langchain.agents.middleware import AgentMiddleware, AgentState
from langchain.agents.middleware.types import ModelRequest, ModelResponse, OmitFromInput, ToolCallRequest
from langchain_core.messages import AIMessage, AnyMessage, RemoveMessage, ToolCall, ToolMessage
from langchain_core.tools import ToolException
from langgraph.config import get_config
from langgraph.errors import GraphBubbleUp
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.types import Command
from pydantic import BaseModel, ValidationError

from hugginggpt.agent.events import args_preview
from hugginggpt.agent.tracing import annotate_graph_run
from hugginggpt.agent.usage import USAGE_KEY, Usage, meter_of
from hugginggpt.tools.plans.tool import tool_calls_counted
from hugginggpt.tools.text import invalid_arguments, problems, shorten
from hugginggpt.tools.upstream import weighted_tool_call_limit

MAX_ERROR_CHARS = 1200
ECHO_CHARS = 200  # of the arguments, after the cause
INT64 = 2**63 - 1
INTERRUPTED = (
    "Error: this call was interrupted before it finished (its turn was stopped: Ctrl-C, a signal, a crash "
    "or a full disk), so its result is unknown; call the tool again if it is still needed."
)


def refused_arguments(request: ToolCallRequest) -> ToolMessage | None:
    """The error message for arguments the tool's schema refuses, or None when they pass.

    The same check the tool makes (its `args_schema`), less the arguments the model does not send
    (injected ones, absent from `tool_call_schema`).
    """
    schema = getattr(request.tool, "args_schema", None)
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return None
    call = request.tool_call
    try:
        schema.model_validate(call["args"])
        return None
    except ValidationError as error:
        sent = request.tool.tool_call_schema if request.tool else None
        shown = sent.model_fields if isinstance(sent, type) and issubclass(sent, BaseModel) else {}
        injected = set(schema.model_fields) - set(shown)
        if not problems(error, skip=injected):
            return None
        content = f"Error: {invalid_arguments(call['name'], error, skip=injected)} Given: "
    content += args_preview(call["args"], ECHO_CHARS) + "."
    return ToolMessage(
        content=shorten(content, MAX_ERROR_CHARS, counted=True),
        tool_call_id=call["id"],
        name=call["name"],
        status="error",
    )


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
        refused = refused_arguments(request)
        if refused is not None:
            return refused
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
        refused = refused_arguments(request)
        if refused is not None:
            return refused
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


class StepCountingToolCallLimit(weighted_tool_call_limit()):  # type: ignore[misc]  # a class made at import
    """`ToolCallLimitMiddleware` counting each step of a `run_plan` call as a tool call."""

    def weight(self, call: ToolCall) -> int:
        return tool_calls_counted(call)


def _interrupted(call: dict[str, Any]) -> ToolMessage:
    return ToolMessage(INTERRUPTED, tool_call_id=call["id"] or "", name=call["name"], status="error")


def answered_in_place(messages: list[AnyMessage]) -> list[AnyMessage] | None:
    """The history with every tool call answered by the tool messages right after its assistant message
    (a later answer is moved up, a missing one becomes an "interrupted" error); None if it already is."""
    answers = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    moved: set[str] = set()
    out: list[AnyMessage] = []
    i = 0
    while i < len(messages):
        message = messages[i]
        i += 1
        if isinstance(message, ToolMessage) and message.tool_call_id in moved:
            continue  # already placed after its call
        out.append(message)
        if not isinstance(message, AIMessage) or not message.tool_calls:
            continue
        answered = set()
        while i < len(messages) and isinstance(messages[i], ToolMessage):
            answer = messages[i]
            i += 1
            if isinstance(answer, ToolMessage) and answer.tool_call_id not in moved:
                out.append(answer)
                answered.add(answer.tool_call_id)
        for call in message.tool_calls:
            if call["id"] in answered:
                continue
            late = answers.get(call["id"] or "")
            if late is not None:
                moved.add(late.tool_call_id)
            out.append(late or _interrupted(dict(call)))
    return out if len(out) != len(messages) or moved else None


class InterruptedCallsMiddleware(AgentMiddleware):
    """Answer the tool calls an earlier, interrupted turn left unanswered, before the model sees them."""

    def before_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        fixed = answered_in_place(list(state["messages"]))
        if fixed is None:
            return None
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *fixed]}

    async def abefore_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return self.before_agent(state, runtime)


class UsageState(AgentState):
    """The agent's state, plus what each turn cost (appended to, one entry per turn)."""

    usage: NotRequired[Annotated[list[Usage], OmitFromInput, operator.add]]  # the reducer last (LangGraph)


class UsageMiddleware(AgentMiddleware[UsageState, Any]):
    """Keep the turn's usage in the conversation (and its trace) as the turn ends.

    The meter comes with the run's callbacks (`run_turn` passes one); a run without one (the LangGraph
    server, an own chain) records nothing rather than a made-up count.
    """

    state_schema = UsageState

    def after_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        callbacks = get_config().get("callbacks")
        meter = meter_of(callbacks)
        if meter is None:
            return None
        usage = meter.report()
        annotate_graph_run(callbacks, {USAGE_KEY: usage})
        return {USAGE_KEY: [usage]}

    async def aafter_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return self.after_agent(state, runtime)
