"""Tool calls a model writes as text: some self-hosted servers (or models) do not support tool calling, and
the model then writes ```json {"name": "text_to_speech", "arguments": {...}}``` as its answer.

`TextToolCallMiddleware` turns such a reply into a real tool call when it is strict: one JSON object naming
an offered tool, its arguments valid against that tool's schema. Otherwise, when the text still names a
tool, the answer gets one sentence saying what happened (shown by the CLI and the web UI alike).
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from langchain.agents.middleware import AgentMiddleware
from langchain.agents.middleware.types import ModelRequest, ModelResponse
from langchain_core.messages import AIMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ValidationError

from hugginggpt.tools.tasks.table import TASKS_BY_ID, task_id

NOTE = (
    "(The model wrote a tool call as text instead of calling the tool, so nothing ran: it, or its server, "
    "may not support tool calling; see README, Self-hosted models.)"
)
_FENCED = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.DOTALL)


def written_call(text: str) -> tuple[str, Any] | None:
    """(tool name, arguments) of the one JSON object a text holds, if it names a tool; else None."""
    found = _FENCED.search(text)
    body = found.group(1) if found else text[text.find("{") : text.rfind("}") + 1]
    try:
        data = json.loads(body) if body else None
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict) and isinstance(data.get("function"), dict):
        data = data["function"]
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    args: Any = next((data[k] for k in ("arguments", "args", "parameters") if k in data), {})
    if isinstance(args, str):
        with contextlib.suppress(json.JSONDecodeError):  # left a string: not valid arguments
            args = json.loads(args)
    return data["name"], args


def _name(tool: BaseTool | dict[str, Any]) -> str:
    return tool.name if isinstance(tool, BaseTool) else str(tool.get("function", tool).get("name", ""))


def _valid(tool: BaseTool | dict[str, Any], args: Any) -> bool:
    schema = tool.tool_call_schema if isinstance(tool, BaseTool) else None
    if not (isinstance(args, dict) and isinstance(schema, type) and issubclass(schema, BaseModel)):
        return isinstance(args, dict) and not isinstance(tool, BaseTool)  # a dict schema: the tool checks
    try:
        schema.model_validate(args)
    except ValidationError:
        return False
    return True


def fix(request: ModelRequest, response: ModelResponse) -> ModelResponse:
    """The response with a strict written tool call made real, or the note added (in place)."""
    message = response.result[-1] if response.result else None
    if not isinstance(message, AIMessage) or message.tool_calls or not isinstance(message.content, str):
        return response
    written = written_call(message.content)
    if written is None:
        return response
    name, args = written
    offered = {_name(tool): tool for tool in request.tools}
    if name in offered and _valid(offered[name], args):
        message.content = ""
        message.tool_calls = [{"name": name, "args": args, "id": f"call_text_{uuid.uuid4().hex[:12]}",
                               "type": "tool_call"}]  # fmt: skip
    elif name in offered or task_id(name) in TASKS_BY_ID:
        message.content = f"{message.content.rstrip()}\n\n{NOTE}"
    return response


class TextToolCallMiddleware(AgentMiddleware):
    """Tool calls written as text: run when strict, else explained (see the module docstring)."""

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        return fix(request, handler(request))

    async def awrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[ModelResponse]]
    ) -> ModelResponse:
        return fix(request, await handler(request))
