"""Plans streamed into execution (agent/plan_stream.py), through the real agent and a paced LLM stand-in.

The LLM stand-in holds its stream at a chosen point (`before_chunk`) until the HF stand-in has seen a step's
request, or gives up after a generous limit: so "a step ran while the model was still writing" is an
observed order of events, not a timing.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from hugginggpt.agent import AgentSettings, TurnSummary, build_agent, run_turn
from hugginggpt.agent.events import ToolFinished, ToolStarted, TurnDone
from hugginggpt.tools.plans.scan import StepScanner
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.openai_api import CutStream, OpenAIStandIn
from tests.stand_ins.scripts import call

WAIT = 30.0  # seconds a held stream waits for a step's request: generous, for a loaded CI machine


def settings(**overrides: Any) -> AgentSettings:
    return AgentSettings.from_env(env_file=None, **{"timeout": 10.0, "llm_timeout": 30.0, **overrides})


def step(id: str, tool: str, **args: Any) -> dict[str, Any]:
    return {"id": id, "tool": tool, "args": args}


DAG = [  # the 3-layer TaskBench DAG
    step("s1", "text_to_image", prompt="three sheep in a field"),
    step("s2", "image_classification", image="$s1"),
    step("s3", "image_to_image", image="$s1", prompt="in winter"),
    step("s4", "translation", text="$s2", src_lang="en_XX", tgt_lang="fr_XX"),
]


class Hold:
    """Holds the LLM stand-in's stream once `marker` has been written, until `ready()` or `WAIT` s."""

    def __init__(self, marker: str, ready: Callable[[], bool]) -> None:
        self.marker, self.ready = marker, ready
        self.written = ""
        self.held = False
        self.ready_in_time: bool | None = None
        self.stream_ended = threading.Event()

    def __call__(self, chunk: dict[str, Any]) -> None:
        for choice in chunk.get("choices", []):
            for part in choice.get("delta", {}).get("tool_calls") or []:
                self.written += part.get("function", {}).get("arguments") or ""
            if choice.get("finish_reason") and self.marker in self.written:
                self.stream_ended.set()
        if not self.held and self.marker in self.written:
            self.held = True
            deadline = time.monotonic() + WAIT
            while not self.ready() and time.monotonic() < deadline:
                time.sleep(0.01)
            self.ready_in_time = self.ready()


async def run(agent: Any, text: str, thread: str, events: list[Any] | None = None) -> TurnSummary:
    summary = None
    async for event in run_turn(agent, text, thread=thread):
        if events is not None:
            events.append(event)
        if isinstance(event, TurnDone):
            summary = event.summary
    assert summary is not None
    return summary


def test_the_scanner_gives_each_step_when_its_object_closes() -> None:
    text = json.dumps({"steps": [*DAG, step("s5", "text_to_speech", text='say "}{][" \\ $s4')]})
    for size in (1, 4, 7, len(text)):
        scanner, got = StepScanner(), []
        for at in range(0, len(text), size):
            new = scanner.feed(text[at : at + size])
            got += new
            assert all(text.index(json.dumps(s)) + len(json.dumps(s)) <= at + size for s in new)
        assert got == [*DAG, step("s5", "text_to_speech", text='say "}{][" \\ $s4')]
    assert StepScanner().feed('{"other": [{"id": "x"}], "steps": [{"id": "s1"}') == [{"id": "s1"}]


async def test_step_one_runs_while_the_model_still_writes_the_plan(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    hold = Hold('"id":"s4"', lambda: bool(hf_stand_in.inference_requests(task="text-to-image")))
    openai_stand_in.tokens_per_second = 400
    openai_stand_in.before_chunk = hold
    openai_stand_in.script([call("run_plan", steps=DAG), "Done."])
    agent = build_agent(settings(), checkpointer=InMemorySaver())
    events: list[Any] = []
    summary = await run(agent, "Draw three sheep, label, restyle, translate.", "stream-1", events)
    assert hold.held and hold.ready_in_time, "step s1's request did not arrive while s4 was being written"
    assert [c["status"] for c in summary.tool_calls] == ["ok"] * 4, summary.tool_calls
    started = [e.step for e in events if isinstance(e, ToolStarted)]
    assert sorted(started) == ["s1", "s2", "s3", "s4"] and len(set(started)) == 4  # each step once
    for task in ("text-to-image", "image-classification", "image-to-image", "translation"):
        assert len(hf_stand_in.inference_requests(task=task)) == 1, task  # no step ran twice
    # the ToolMessage is the plan's, as when the plan was not streamed
    history = (await agent.aget_state({"configurable": {"thread_id": "stream-1"}})).values["messages"]
    (planned,) = [m for m in history if isinstance(m, ToolMessage)]
    assert planned.name == "run_plan" and planned.text.startswith("run_plan: 4 steps, 4 ok, 0 failed")


async def test_a_plan_refused_as_a_whole_cancels_the_steps_it_started(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    hf_stand_in.set_latency(WAIT, task="text-to-speech")  # still running when the plan is refused
    too_many = [step(f"s{i}", "text_to_speech", text=f"baa {i}") for i in range(1, 5)]
    hold = Hold('"id":"s4"', lambda: bool(hf_stand_in.inference_requests(task="text-to-speech")))
    openai_stand_in.before_chunk = hold
    openai_stand_in.script([call("run_plan", steps=too_many), "The plan was refused.", "Hello again."])
    agent = build_agent(settings(max_plan_steps=3), checkpointer=InMemorySaver())
    events: list[Any] = []
    started = time.monotonic()
    summary = await run(agent, "Say baa four times.", "stream-2", events)
    assert time.monotonic() - started < WAIT  # the slow steps were cancelled, not waited for
    assert hold.ready_in_time
    history = (await agent.aget_state({"configurable": {"thread_id": "stream-2"}})).values["messages"]
    (refused,) = [m for m in history if isinstance(m, ToolMessage)]
    assert refused.status == "error"
    assert refused.text.startswith("Error: run_plan refused the plan: it has 4 steps; the limit is 3")
    assert "had already started and" in refused.text and "cancelled." in refused.text
    cancelled = [e for e in events if isinstance(e, ToolFinished) and e.step]
    assert cancelled and all(e.error == "cancelled: run_plan refused the plan" for e in cancelled)
    assert {e.step for e in cancelled} <= {"s1", "s2", "s3"}
    assert summary.answer == "The plan was refused."
    assert (await run(agent, "Hi.", "stream-2")).answer == "Hello again."  # the thread is consistent


async def test_stopping_the_turn_while_the_plan_streams_cancels_its_steps(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    hf_stand_in.set_latency(WAIT, task="text-to-image")
    hold = Hold('"id":"s4"', lambda: bool(hf_stand_in.inference_requests(task="text-to-image")))
    openai_stand_in.before_chunk = hold
    openai_stand_in.chunk_delay = 0.05  # the rest of the plan keeps streaming for a while
    openai_stand_in.script([call("run_plan", steps=DAG), "Hello again."])
    agent = build_agent(settings(), checkpointer=InMemorySaver())
    turn = asyncio.create_task(run(agent, "Draw and so on.", "stream-3"))
    for _ in range(int(WAIT / 0.01)):
        if hold.ready_in_time is not None:
            break
        await asyncio.sleep(0.01)
    assert hold.ready_in_time and not hold.stream_ended.is_set()
    turn.cancel()  # what Ctrl-C and SIGTERM do to the turn
    with pytest.raises(asyncio.CancelledError):
        await turn
    for _ in range(int(WAIT / 0.01)):  # the step's task ends (cancelled), nothing is left running
        if not [t for t in asyncio.all_tasks() if t.get_name().startswith("plan-step-")]:
            break
        await asyncio.sleep(0.01)
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("plan-step-")]
    openai_stand_in.chunk_delay = 0.0
    assert (await run(agent, "Hi.", "stream-3")).answer == "Hello again."  # the thread is consistent


async def test_a_plan_over_the_tool_call_budget_stops_its_started_steps(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HUGGINGGPT_MAX_TOOL_CALLS blocks a call with too many steps: what it started early is cancelled."""
    monkeypatch.chdir(tmp_path)
    hf_stand_in.set_latency(WAIT, task="text-to-speech")
    steps = [step(f"s{i}", "text_to_speech", text=f"baa {i}") for i in range(1, 5)]
    hold = Hold('"id":"s4"', lambda: bool(hf_stand_in.inference_requests(task="text-to-speech")))
    openai_stand_in.before_chunk = hold
    openai_stand_in.script([call("run_plan", steps=steps), "Too many steps."])
    agent = build_agent(settings(max_tool_calls=3), checkpointer=InMemorySaver())
    events: list[Any] = []
    started = time.monotonic()
    await run(agent, "Say baa four times.", "stream-4", events)
    assert hold.ready_in_time and time.monotonic() - started < WAIT
    cancelled = [e for e in events if isinstance(e, ToolFinished) and e.step]
    assert cancelled and all("more steps than the tool calls left" in (e.error or "") for e in cancelled)
    history = (await agent.aget_state({"configurable": {"thread_id": "stream-4"}})).values["messages"]
    (blocked,) = [m for m in history if isinstance(m, ToolMessage)]
    assert blocked.status == "error" and "run_plan: 4 steps" not in blocked.text


class Cut:
    """Hangs up the first `times` streams, each once `marker` has been written and `ready()` (or after
    `WAIT` s)."""

    def __init__(self, marker: str, ready: Callable[[], bool], times: int = 1) -> None:
        self.marker, self.ready, self.times = marker, ready, times
        self.hold, self.ready_in_time, self.cuts = Hold(marker, ready), True, 0

    @property
    def cut(self) -> bool:
        return self.cuts > 0

    def __call__(self, chunk: dict[str, Any]) -> None:
        if self.cuts >= self.times:
            return
        self.hold(chunk)
        if self.hold.held:
            self.ready_in_time = bool(self.ready_in_time and self.hold.ready_in_time)
            self.cuts, self.hold = self.cuts + 1, Hold(self.marker, self.ready)
            raise CutStream


@pytest.mark.parametrize(("same", "cuts"), [(True, 1), (False, 1), (True, 2)])
async def test_a_retried_model_call_keeps_the_steps_it_writes_again(
    openai_stand_in: OpenAIStandIn,
    hf_stand_in: HFStandIn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    same: bool,
    cuts: int,
) -> None:
    """The stream is lost after step s1 started; the retry writes the plan again: the same s1 is kept (its
    request sent once, also across two retries), a different s1 is cancelled and the new one runs."""
    monkeypatch.chdir(tmp_path)
    cut = Cut('"id":"s2"', lambda: bool(hf_stand_in.inference_requests(task="text-to-image")), cuts)
    if not same:  # the first s1 is still running when the retry writes s1 differently

        def before_chunk(chunk: dict[str, Any]) -> None:
            if cut.cut:
                hf_stand_in.set_latency(0.0, task="text-to-image")
            cut(chunk)

        hf_stand_in.set_latency(WAIT, task="text-to-image")
    openai_stand_in.before_chunk = cut if same else before_chunk
    again = DAG if same else [step("s1", "text_to_image", prompt="four sheep in a field"), *DAG[1:]]
    written = [call("run_plan", steps=DAG)] * cuts + [call("run_plan", steps=again)]
    openai_stand_in.script([*written, "Done."])
    agent = build_agent(settings(llm_retries=cuts, retry_delay=0.0), checkpointer=InMemorySaver())
    events: list[Any] = []
    began = time.monotonic()
    summary = await run(agent, "Draw three sheep, label, restyle, translate.", "stream-5", events)
    assert time.monotonic() - began < WAIT  # a step written differently was cancelled, not waited for
    assert cut.cuts == cuts and cut.ready_in_time, "step s1's request did not arrive before the cut"
    assert len(openai_stand_in.chat_requests) == cuts + 2  # the cut attempts, the retry, the answer
    statuses = [(c["name"], c["status"]) for c in summary.tool_calls]
    assert sorted(statuses) == sorted(
        [(s["tool"], "ok") for s in DAG] + ([] if same else [("text_to_image", "error")])
    )
    prompts = [r.json()["inputs"] for r in hf_stand_in.inference_requests(task="text-to-image")]
    assert prompts == (
        ["three sheep in a field"] if same else ["three sheep in a field", "four sheep in a field"]
    )
    for task in ("image-classification", "image-to-image", "translation"):
        assert len(hf_stand_in.inference_requests(task=task)) == 1, task
    started = [e.step for e in events if isinstance(e, ToolStarted)]
    assert sorted(started) == (["s1", "s2", "s3", "s4"] if same else ["s1", "s1", "s2", "s3", "s4"])
    if not same:
        (dropped,) = [e for e in events if isinstance(e, ToolFinished) and e.error]
        assert (
            dropped.step == "s1"
            and dropped.error == "cancelled: the retried model call wrote this step differently"
        )
    history = (await agent.aget_state({"configurable": {"thread_id": "stream-5"}})).values["messages"]
    (planned,) = [m for m in history if isinstance(m, ToolMessage)]
    assert planned.text.startswith("run_plan: 4 steps, 4 ok, 0 failed")
