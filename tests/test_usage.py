"""What a turn cost, checked against what the stand-ins counted: model calls and the tokens the LLM server
reported (or "not reported"), HF requests by provider with every failed attempt and retry, and the
thread's total kept in the conversation across a restart. The agent is the real one (ChatOpenAI against
the OpenAI stand-in, the HF tools against the HF stand-in)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from hugginggpt.agent import AgentSettings, TurnSummary, build_agent, run_turn
from hugginggpt.agent.events import TurnDone
from hugginggpt.agent.usage import UsageMeter, thread_usages, total, usage_line
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.openai_api import OpenAIStandIn
from tests.stand_ins.scripts import call

FLUX = "black-forest-labs/FLUX.1-dev"  # served by hf-inference, then fal-ai and replicate


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def settings(**overrides: Any) -> AgentSettings:
    fast = {"timeout": 5.0, "llm_timeout": 10.0, "retry_delay": 0.0, "max_retry_wait": 0.05}
    return AgentSettings.from_env(env_file=None, **{**fast, **overrides})


async def run(agent: Any, text: str, thread: str) -> TurnSummary:
    summary = None
    async for event in run_turn(agent, text, thread=thread):
        if isinstance(event, TurnDone):
            summary = event.summary
    assert summary is not None
    return summary


def stand_in_counts(llm: OpenAIStandIn, hf: HFStandIn) -> dict[str, Any]:
    """The usage object as the stand-ins saw the turn: requests received, tokens they reported."""
    providers = Counter(r.provider for r in hf.inference_requests())
    return {
        "model_calls": len(llm.chat_requests),
        "input_tokens": sum(u["prompt_tokens"] for u in llm.usage_sent),
        "output_tokens": sum(u["completion_tokens"] for u in llm.usage_sent),
        "hf_requests": sum(providers.values()),
        "local_calls": 0,
        "by_provider": dict(sorted(providers.items())),
    }


def without_seconds(usage: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in usage.items() if k != "seconds"}


async def test_a_turn_counts_every_request_the_stand_ins_saw(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    classifier = hf_stand_in.models("text-classification")[0]["id"]
    hf_stand_in.add_fault("server_error", model=FLUX, provider="hf-inference", times=1)  # -> fal-ai
    hf_stand_in.add_fault("rate_limit", model=classifier, times=1)  # the same model again, after its wait
    openai_stand_in.add_fault("rate_limit", times=1)  # the first model call is refused, then retried
    openai_stand_in.script(
        [
            [
                call("text_to_image", prompt="three sheep in a field", model=FLUX),
                call("run_plan", steps=[{"id": "s1", "tool": "text_classification",
                                         "args": {"text": "What a lovely field of sheep!"}}]),
            ],
            "Here are your sheep, and the mood is positive.",
        ]
    )  # fmt: skip
    agent = build_agent(settings(output_dir=workdir / "out"))

    summary = await run(agent, "Draw three sheep and tell me the mood of my sentence.", "cost")

    assert [c["status"] for c in summary.tool_calls] == ["ok", "ok"], summary.tool_calls
    usage = summary.usage
    assert usage is not None and without_seconds(usage) == stand_in_counts(openai_stand_in, hf_stand_in)
    assert usage["model_calls"] == 3 and len(openai_stand_in.usage_sent) == 2  # the refused call: no tokens
    assert usage["by_provider"] == {"fal-ai": 1, "hf-inference": 3}  # a fallback, a 429 retry, a plan step
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0 and usage["seconds"] > 0
    line = usage_line(usage)
    assert line.startswith(f"3 model calls ({usage['input_tokens']:,} tokens in, {usage['output_tokens']:,}")
    assert "4 HF requests (fal-ai 1, hf-inference 3)" in line


async def test_a_server_that_reports_no_usage_says_so(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    openai_stand_in.report_usage = False
    openai_stand_in.script([call("text_classification", text="Sheep are lovely."), "It is positive."])
    agent = build_agent(settings(output_dir=workdir / "out"))

    usage = (await run(agent, "Is my sentence positive? Sheep are lovely.", "quiet")).usage

    assert usage is not None and openai_stand_in.usage_sent == []
    assert usage["model_calls"] == 2 and usage["hf_requests"] == 1
    assert usage["input_tokens"] is None and usage["output_tokens"] is None  # never a made-up 0
    assert usage_line(usage).startswith("2 model calls (tokens not reported) · 1 HF request")
    assert total([usage, {**usage, "input_tokens": 5, "output_tokens": 5}])["input_tokens"] is None


async def test_the_thread_total_survives_a_restart(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    store = str(workdir / "conversations.sqlite")
    summaries = []
    for text in ("Is this positive? Sheep are lovely.", "And this? Wolves are scary."):
        openai_stand_in.script([call("text_classification", text=text), "Answered."])
        async with AsyncSqliteSaver.from_conn_string(store) as saver:  # a fresh process's agent each turn
            agent = build_agent(settings(output_dir=workdir / "out"), checkpointer=saver)
            summaries.append(await run(agent, text, "farm"))

    async with AsyncSqliteSaver.from_conn_string(store) as saver:
        kept = await thread_usages(build_agent(settings(), checkpointer=saver), "farm")

    assert kept == [s.usage for s in summaries]
    thread = total(kept)
    assert thread["turns"] == 2 and thread["model_calls"] == 4 == len(openai_stand_in.chat_requests)
    assert thread["hf_requests"] == 2 == len(hf_stand_in.inference_requests())
    assert thread["input_tokens"] == sum(u["prompt_tokens"] for u in openai_stand_in.usage_sent)
    assert usage_line(thread).startswith("2 turns · 4 model calls (")


def test_the_request_counter_asks_for_no_run_events() -> None:
    """Tools call `count`; every kind of run event LangChain could dispatch to a handler is declined (a kind
    added upstream fails here until declined too)."""
    from langchain_core.callbacks import BaseCallbackHandler

    from hugginggpt.tools.inference.usage import RequestCounter

    kinds = [name for name in dir(BaseCallbackHandler) if name.startswith("ignore_")]
    assert len(kinds) >= 7 and all(getattr(RequestCounter(), kind) is True for kind in kinds)
    meter = UsageMeter()  # the turn's meter also counts model calls: their ends and errors only
    assert [kind for kind in kinds if not getattr(meter, kind)] == ["ignore_llm"]
