"""`ToolSelectionMiddleware`: before each model call, offer the tools this request needs.

A LangChain middleware (`wrap_model_call` narrowing `request.tools`), usable in any `create_agent`:

    create_agent(model, HuggingFaceToolkit().get_tools(), middleware=[ToolSelectionMiddleware()])

Offered: the task tools `choose` picks for the latest user message (with the kinds of files named anywhere
in the conversation), every task tool already called in the thread (directly, as a `run_plan` step or
asked for with `load_tools`), and every tool that is not a task tool (`find_models`, `run_plan`,
`load_tools`, tools from other servers). `run_plan`'s step `tool` is limited to the offered task tools.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

from langchain.agents.middleware import AgentMiddleware
from langchain.agents.middleware.types import ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from hugginggpt.tools.plans.tool import PLAN_TOOL, planned_steps
from hugginggpt.tools.selection.choose import Choice, choose, request_kinds
from hugginggpt.tools.selection.load import LOAD_TOOL, LoadToolsTool, known_tasks
from hugginggpt.tools.tasks.table import TaskSpec

Mode = Literal["auto", "all"]


def _text(message: AnyMessage) -> str:
    return message.text if hasattr(message, "text") else str(message.content)


def used_tools(messages: Iterable[AnyMessage]) -> set[str]:
    """Task names called in these messages: tool calls, `run_plan` steps, `load_tools` requests."""
    used: set[str] = set()
    for message in messages:
        for call in message.tool_calls if isinstance(message, AIMessage) else []:
            args = call.get("args") or {}
            used.add(call["name"])
            used |= {str(s.get("tool")) for s in planned_steps(call) or []}
            if call["name"] == LOAD_TOOL and isinstance(args.get("tasks"), list):
                used |= set(known_tasks(str(t) for t in args["tasks"])[0])
    return used


def select(messages: list[AnyMessage], specs: list[TaskSpec]) -> Choice:
    """What `ToolSelectionMiddleware` offers for a conversation (its latest user message, its files)."""
    latest = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
    kinds = request_kinds(" ".join(_text(m) for m in messages))
    return choose(_text(latest) if latest else "", specs, kinds=kinds, keep=used_tools(messages))


def _plan_schema(plan: str, offered: list[str]) -> dict[str, Any]:
    """`run_plan` (its schema as JSON) as the model sees it, its steps' `tool` one of the offered tools."""
    schema = json.loads(plan)
    step = schema["function"]["parameters"]["properties"]["steps"]["items"]["properties"]["tool"]
    step.pop("description", None)
    step["enum"] = offered
    return schema


class ToolSelectionMiddleware(AgentMiddleware):
    """Offers the model the tools a request needs (see the module docstring); `mode="all"` offers all."""

    def __init__(self, mode: Mode = "auto") -> None:
        super().__init__()
        self.mode = mode
        self.tools = [LoadToolsTool()] if mode == "auto" else []  # registered with the agent
        self._plan_json = ""  # run_plan's schema, made once (pydantic is slow at it)

    def narrowed(self, request: ModelRequest) -> ModelRequest:
        """The request with only the offered tools (unchanged in mode `all`)."""
        if self.mode == "all":
            return request
        specs = [spec for tool in request.tools if (spec := getattr(tool, "spec", None)) is not None]
        chosen = set(select(request.messages, specs).tasks)
        tools: list[BaseTool | dict[str, Any]] = []
        for tool in request.tools:
            spec = getattr(tool, "spec", None)
            if spec is None or spec.task in chosen:
                tools.append(tool)
        offered = [spec.name for spec in specs if spec.task in chosen]
        plan = next((t for t in tools if isinstance(t, BaseTool) and t.name == PLAN_TOOL), None)
        if plan is not None:
            self._plan_json = self._plan_json or json.dumps(convert_to_openai_tool(plan))
            tools[tools.index(plan)] = _plan_schema(self._plan_json, offered) if offered else plan
        return request.override(tools=tools)

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        return handler(self.narrowed(request))

    async def awrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[ModelResponse]]
    ) -> ModelResponse:
        return await handler(self.narrowed(request))
