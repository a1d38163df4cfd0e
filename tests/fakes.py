"""A fake tool-calling chat model for unit tests, in the spirit of pydantic-ai's `TestModel`.

`SchemaModel` calls every bound tool once, in one parallel turn, with arguments built from each
tool's JSON schema (or given per tool), then answers with a text quoting the tool results.
`ScriptedModel` plays a fixed list of turns.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

_ids = itertools.count(1)


def example_for(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A valid example value for a JSON schema (required fields only)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return example_for(defs[schema["$ref"].split("/")[-1]], defs)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return example_for(options[0], defs)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        if not props and isinstance(schema.get("additionalProperties"), dict):
            return {"column": [example_for(schema["additionalProperties"].get("items", {}), defs)]}
        return {k: example_for(v, defs) for k, v in props.items() if k in schema.get("required", [])}
    if kind == "array":
        return [example_for(schema.get("items", {"type": "string"}), defs)] * max(
            1, schema.get("minItems", 1)
        )
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return schema.get("minimum", 0.5)
    if kind == "boolean":
        return False
    return "a sheep" if "maxLength" not in schema or schema["maxLength"] >= 7 else "x"


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{next(_ids)}", "type": "tool_call"}


class ScriptedModel(BaseChatModel):
    """Plays `turns` in order: a str is a final answer, a list of (name, args) is parallel tool calls.

    A turn may also be a callable taking the messages so far and returning either of those.
    """

    turns: list[Any] = Field(default_factory=list)
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedModel:
        self.bound_tools = [convert_to_openai_tool(t) for t in tools]
        return self

    def next_turn(self, messages: list[BaseMessage]) -> Any:
        step = sum(isinstance(m, AIMessage) for m in messages[self._last_human(messages) :])
        return self.turns[step] if step < len(self.turns) else "Done."

    @staticmethod
    def _last_human(messages: list[BaseMessage]) -> int:
        return max((i for i, m in enumerate(messages) if m.type == "human"), default=0)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        turn = self.next_turn(messages)
        if callable(turn):
            turn = turn(messages)
        if isinstance(turn, str):
            message = AIMessage(turn)
        else:
            message = AIMessage("", tool_calls=[_call(name, args) for name, args in turn])
        return ChatResult(generations=[ChatGeneration(message=message)])


class SchemaModel(ScriptedModel):
    """Calls every bound tool once (args from its schema unless given), then quotes the results."""

    args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    answer: Callable[[list[ToolMessage]], str] | None = None

    def next_turn(self, messages: list[BaseMessage]) -> Any:
        recent = messages[self._last_human(messages) :]
        if not any(isinstance(m, AIMessage) for m in recent):
            calls = []
            for tool in self.bound_tools:
                fn = tool["function"]
                calls.append((fn["name"], self.args.get(fn["name"]) or example_for(fn["parameters"])))
            return calls
        results = [m for m in recent if isinstance(m, ToolMessage)]
        if self.answer:
            return self.answer(results)
        return "\n".join(f"{m.name}: {m.status}: {m.content}" for m in results)
