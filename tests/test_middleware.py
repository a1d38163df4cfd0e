"""agent/middleware.py on its own, in the style of langchain's middleware tests: a raising tool, a fake
model, `create_agent`, and assertions on the ToolMessage the model gets back."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import ToolException, tool
from langgraph.checkpoint.memory import InMemorySaver

from hugginggpt.agent.middleware import MAX_ERROR_CHARS, SafeToolArgsMiddleware, ToolFailureMiddleware
from hugginggpt.tools.inference.errors import TaskError
from tests.fakes import ScriptedModel


def _tool_messages(result: dict[str, Any]) -> list[ToolMessage]:
    return [m for m in result["messages"] if isinstance(m, ToolMessage)]


def _agent(tools: list[Any], turns: list[Any], *middleware: Any) -> Any:
    return create_agent(
        ScriptedModel(turns=turns), tools, middleware=list(middleware), checkpointer=InMemorySaver()
    )


def _run(agent: Any) -> dict[str, Any]:
    return agent.invoke({"messages": [("user", "go")]}, {"configurable": {"thread_id": "m"}})


def test_a_tool_error_becomes_an_error_message_that_keeps_its_artifact() -> None:
    @tool
    def draw(prompt: str) -> str:
        """Draw."""
        error = TaskError("text-to-image failed with org/a: the model is cold.")
        error.artifact = {"task": "text-to-image", "failed_attempts": [{"model": "org/a", "cause": "cold"}]}
        raise error

    result = _run(_agent([draw], [[("draw", {"prompt": "sheep"})], "Sorry."], ToolFailureMiddleware()))
    (message,) = _tool_messages(result)
    assert (
        message.status == "error"
        and message.content == "Error: text-to-image failed with org/a: the model is cold."
    )
    assert message.artifact["failed_attempts"][0]["model"] == "org/a"
    assert result["messages"][-1].content == "Sorry."  # the run went on to the answer


def test_an_unexpected_exception_is_named_without_its_text() -> None:
    @tool
    def explode(x: int) -> str:
        """Explode."""
        raise RuntimeError("secret internals /etc/passwd")

    (message,) = _tool_messages(
        _run(_agent([explode], [[("explode", {"x": 1})], "ok"], ToolFailureMiddleware()))
    )
    assert (
        message.content == "Error: explode failed unexpectedly (RuntimeError)." and message.artifact is None
    )


def test_long_errors_are_bounded_and_say_how_much_was_cut() -> None:
    @tool
    def shout(x: int) -> str:
        """Shout."""
        raise ToolException("no " * 5000)

    (message,) = _tool_messages(_run(_agent([shout], [[("shout", {"x": 1})], "ok"], ToolFailureMiddleware())))
    assert len(message.content) <= MAX_ERROR_CHARS + 10 and "characters cut]" in message.content


def test_without_the_middleware_a_tool_exception_ends_the_run() -> None:
    """The control case: what ToolFailureMiddleware is for."""

    @tool
    def shout(x: int) -> str:
        """Shout."""
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _run(_agent([shout], [[("shout", {"x": 1})], "ok"]))


def test_oversized_integers_are_made_strings_so_the_turn_can_be_stored() -> None:
    seen: list[Any] = []

    @tool
    def count(n: str) -> str:
        """Count to n."""
        seen.append(n)
        return "counted"

    huge = 2**80
    agent = _agent(
        [count], [[("count", {"n": huge})], "ok"], SafeToolArgsMiddleware(), ToolFailureMiddleware()
    )
    result = _run(agent)  # the checkpointer (msgpack) cannot store integers beyond 64 bits
    call = next(m for m in result["messages"] if isinstance(m, AIMessage) and m.tool_calls).tool_calls[0]
    assert call["args"] == {"n": str(huge)} and seen == [str(huge)]
