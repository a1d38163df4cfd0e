"""The retry budget is one set of settings, and its worst case holds: through the real agent, a tool call
whose every attempt is refused makes exactly attempts x (1 + rate-limit retries) x (1 + tool retries) HF
requests, and a model call whose every try fails makes exactly 1 + LLM retries LLM requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import SecretStr

from hugginggpt.agent import AgentSettings, build_agent, run_turn
from hugginggpt.agent.events import TurnDone
from tests.fakes import ScriptedModel
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.openai_api import OpenAIStandIn


def settings(tmp_path: Path, **overrides: Any) -> AgentSettings:
    values = {"timeout": 5.0, "retry_delay": 0.0, "max_retry_wait": 0.0, "output_dir": tmp_path / "out"}
    return AgentSettings.from_env(env_file=None, openai_api_key="sk-unused", **{**values, **overrides})


async def classify_once(config: AgentSettings) -> ToolMessage:
    model = ScriptedModel(turns=[[("text_classification", {"text": "I love sheep"})], "Done."])
    agent = build_agent(config, model=model, checkpointer=InMemorySaver())
    result = await agent.ainvoke({"messages": [("user", "classify")]}, {"configurable": {"thread_id": "b"}})
    (message,) = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    return message


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        ({}, 18),  # the defaults: 3 models x (1 + 2 rate-limit retries) x (1 + 1 tool retry)
        ({"max_attempts": 2, "rate_limit_retries": 1, "tool_retries": 2}, 12),
        ({"max_attempts": 1, "rate_limit_retries": 0, "tool_retries": 0}, 1),
    ],
)
async def test_worst_case_hf_requests_per_tool_call(
    budget: dict[str, int], expected: int, hf_stand_in: HFStandIn, tmp_path: Path
) -> None:
    """Every request answered 429: each model is retried, then the next, then the whole call once more."""
    config = settings(tmp_path, **budget)
    hf_stand_in.add_fault("rate_limit", task="text-classification", times=None)
    message = await classify_once(config)
    sent = hf_stand_in.inference_requests(task="text-classification")
    assert message.status == "error" and len(sent) == expected == config.toolkit.hf_requests_per_tool_call
    assert len(set(r.model for r in sent)) == config.toolkit.max_attempts  # no model beyond the budget


async def test_cold_models_fall_back_without_retrying(hf_stand_in: HFStandIn, tmp_path: Path) -> None:
    """A cold model (503) is not retried: the next one is tried at once; the tool call is retried once."""
    config = settings(tmp_path)
    hf_stand_in.add_fault("loading", task="text-classification", times=None)
    message = await classify_once(config)
    sent = hf_stand_in.inference_requests(task="text-classification")
    assert (
        message.status == "error"
        and len(sent) == config.toolkit.max_attempts * (1 + config.toolkit.tool_retries) == 6
    )


async def test_worst_case_llm_requests_per_model_call(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, tmp_path: Path
) -> None:
    """The OpenAI SDK makes no retries of its own: the agent's retry middleware holds the whole budget."""
    config = settings(tmp_path, llm_retries=2, llm_timeout=5.0)
    llm = config.llm.model_copy(
        update={
            "openai_api_key": SecretStr(openai_stand_in.api_key or ""),
            "openai_base_url": openai_stand_in.base_url,
        }
    )
    config = config.model_copy(update={"llm": llm})
    openai_stand_in.add_fault("server_error", times=100)
    agent = build_agent(config, checkpointer=InMemorySaver())
    with pytest.raises(openai.InternalServerError):
        async for event in run_turn(agent, "hello", thread="llm-budget"):
            assert not isinstance(event, TurnDone)
    assert len(openai_stand_in.chat_requests) == 1 + config.llm.llm_retries


async def test_a_passing_failure_is_retried_within_the_budget(hf_stand_in: HFStandIn, tmp_path: Path) -> None:
    """Two 429s on the top model, then it answers: the same model serves, nothing counts as failed."""
    hf_stand_in.add_fault("rate_limit", task="text-classification", times=2)
    message = await classify_once(settings(tmp_path))
    sent = hf_stand_in.inference_requests(task="text-classification")
    assert message.status == "success" and len(sent) == 3 and len({r.model for r in sent}) == 1
    assert message.artifact["failed_attempts"] == []
