"""The conversation store (agent/store.py) as users meet it: a turn stopped half way, two writers on one
thread, and a store that keeps only what resuming needs. Real CLI processes, the real SQLite saver."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import StructuredTool
from pydantic import SecretStr

from hugginggpt.agent.build import build_agent
from hugginggpt.agent.events import ThreadWaiting, TurnDone, run_turn
from hugginggpt.agent.middleware import INTERRUPTED, answered_in_place
from hugginggpt.agent.settings import AgentSettings
from hugginggpt.agent.store import open_store
from hugginggpt.agent.thread_locks import FileLocks
from hugginggpt.agent.web import Session, WebApp
from tests import cli_run, scenarios
from tests.cli_run import TURN, ends_with_open_calls, wait_for
from tests.fakes import ScriptedModel
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.openai_api import OpenAIStandIn


def store_path(tmp_path: Path) -> Path:
    return tmp_path / "outputs" / "conversations.sqlite"


# --------------------------------------------------------------------------- 1. interrupted turns


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_a_turn_stopped_mid_tool_leaves_a_thread_that_still_works(
    env: dict[str, str],
    hf_stand_in: HFStandIn,
    openai_stand_in: OpenAIStandIn,
    tmp_path: Path,
    stop: signal.Signals,
) -> None:
    hf_stand_in.latency = 30
    first = cli_run.start(env, "--thread", "k", "--prompt", scenarios.SHEEP_PROMPT)
    wait_for(lambda: hf_stand_in.inference_requests(), what="the text_to_image call")
    wait_for(lambda: ends_with_open_calls(store_path(tmp_path), "k"), what="the saved tool call")
    first.send_signal(stop)
    first.communicate(timeout=30)
    hf_stand_in.latency = 0

    second = cli_run.run(env, "--thread", "k", "--prompt", scenarios.POEM_PROMPT, "--json")
    assert second.returncode == 0, second.stderr
    sent = openai_stand_in.chat_requests[-1]["messages"]
    roles = [m["role"] for m in sent]
    call = sent[roles.index("assistant")]["tool_calls"][0]
    note = sent[roles.index("assistant") + 1]
    assert call["function"]["name"] == "text_to_image"
    assert note["role"] == "tool" and note["tool_call_id"] == call["id"] and "interrupted" in note["content"]
    assert [turn[:3] for turn in cli_run.turns_of(cli_run.saved_messages(store_path(tmp_path), "k"))] == [
        ["human", "ai+calls", "tool"],
        ["human", "ai+calls", "tool"],
    ]


async def test_a_thread_saved_with_unanswered_calls_is_answered_before_the_model_sees_it(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, tmp_path: Path
) -> None:
    """A thread an earlier version saved as `human, ai(tool_calls)`: the next turn makes it
    `human, ai(tool_calls), tool(interrupted), human, ...` (the stand-in, like OpenAI, refuses it otherwise)."""
    scenarios.register_all(openai_stand_in)
    settings = AgentSettings.from_env(
        env_file=None, output_dir=tmp_path / "outputs", allowed_dirs=(tmp_path,)
    )
    calls = [{"id": "call_old1", "name": "text_to_image", "args": {"prompt": "sheep"}, "type": "tool_call"}]
    async with await open_store(settings) as store:
        agent = build_agent(settings, checkpointer=store.saver)
        config: Any = {"configurable": {"thread_id": "old"}}
        old = [HumanMessage("Draw sheep"), AIMessage("", tool_calls=calls)]
        await agent.aupdate_state(config, {"messages": old}, as_node="model")
        events = [e async for e in run_turn(agent, scenarios.POEM_PROMPT, thread="old", store=store)]
        saved = (await agent.aget_state(config)).values["messages"]
    summary = events[-1].summary
    assert isinstance(events[-1], TurnDone) and scenarios.POEM in summary.answer
    assert [c["name"] for c in summary.tool_calls] == ["text_to_speech"]  # no replay of the repaired history
    assert [m.type for m in saved] == ["human", "ai", "tool", "human", "ai", "tool", "ai"]
    assert (
        saved[2].tool_call_id == "call_old1" and saved[2].status == "error" and saved[2].text == INTERRUPTED
    )


def test_answered_in_place_moves_late_answers_and_fills_missing_ones() -> None:
    def ai(*ids: str) -> AIMessage:
        return AIMessage(
            "", tool_calls=[{"id": i, "name": "t", "args": {}, "type": "tool_call"} for i in ids]
        )

    def tool(i: str) -> ToolMessage:
        return ToolMessage("ok", tool_call_id=i)

    whole = [HumanMessage("a"), ai("1", "2"), tool("2"), tool("1"), AIMessage("done")]
    assert answered_in_place(whole) is None  # answered, in any order: left alone
    partial = answered_in_place([HumanMessage("a"), ai("1", "2"), tool("2"), HumanMessage("b")])
    assert partial is not None
    assert [(m.type, getattr(m, "tool_call_id", None)) for m in partial] == [
        ("human", None), ("ai", None), ("tool", "2"), ("tool", "1"), ("human", None)
    ]  # fmt: skip
    assert partial[3].text == INTERRUPTED and partial[3].status == "error"
    spliced = answered_in_place([HumanMessage("a"), ai("1"), HumanMessage("b"), tool("1"), AIMessage("x")])
    assert spliced is not None
    assert [(m.type, getattr(m, "tool_call_id", None)) for m in spliced] == [
        ("human", None), ("ai", None), ("tool", "1"), ("human", None), ("ai", None)
    ]  # fmt: skip
    assert spliced[2].text == "ok"


# --------------------------------------------------------------------------- 2. one writer per thread


def test_a_second_cli_on_a_busy_thread_waits_its_turn(
    env: dict[str, str], hf_stand_in: HFStandIn, tmp_path: Path
) -> None:
    env["HUGGINGGPT_TIMEOUT"] = "120"  # the held call may wait for the second CLI's start-up under load
    hf_stand_in.hold("text-to-speech")  # the first turn's tool runs until the second turn says it waits
    first = cli_run.start(env, "--thread", "shared", "--prompt", scenarios.POEM_PROMPT)
    wait_for(lambda: hf_stand_in.inference_requests(), seconds=120, what="the first turn's tool call")
    second = cli_run.start(env, "--thread", "shared", "--prompt", scenarios.SHEEP_PROMPT)
    assert second.stdout is not None
    waiting = second.stdout.readline()  # its first line: it waits (a turn would show its tool call)
    hf_stand_in.release()
    (code, _, err), (second_code, _, second_err) = cli_run.finish_all([first, second], timeout=120)
    assert code == 0, err
    assert second_code == 0, second_err
    assert "thread 'shared' is busy with another turn; waiting up to 120 s" in waiting
    messages = cli_run.saved_messages(store_path(tmp_path), "shared")
    assert cli_run.turns_of(messages) == [TURN, TURN]
    assert [m.text for m in messages if m.type == "human"] == [scenarios.POEM_PROMPT, scenarios.SHEEP_PROMPT]


@pytest.mark.timeout(300)
def test_eight_clis_at_once_on_one_thread_keep_every_turn_whole(
    env: dict[str, str], hf_stand_in: HFStandIn, tmp_path: Path
) -> None:
    hf_stand_in.latency = 0.3
    animals = ["sheep", "cows", "goats", "horses", "ducks", "pigs", "geese", "llamas"]
    prompts = [f"Write a poem about {animal}, then read it to me" for animal in animals]
    running = [cli_run.start(env, "--thread", "farm", "--prompt", p, "--json") for p in prompts]
    for code, _, err in cli_run.finish_all(running, timeout=240):
        assert code == 0, err
    messages = cli_run.saved_messages(store_path(tmp_path), "farm")
    assert cli_run.turns_of(messages) == [TURN] * len(prompts)
    assert sorted(m.text for m in messages if m.type == "human") == sorted(prompts)
    for i in range(0, len(messages), 4):  # each turn's tool message answers its own call
        assert messages[i + 2].tool_call_id == messages[i + 1].tool_calls[0]["id"]


def test_a_thread_busy_past_the_wait_fails_with_one_sentence(env: dict[str, str], tmp_path: Path) -> None:
    async def hold_then_run() -> Any:
        lock = FileLocks(store_path(tmp_path).with_suffix(".locks")).lock("held")
        assert await lock.try_acquire()
        try:
            return await asyncio.to_thread(
                cli_run.run, {**env, "HUGGINGGPT_THREAD_WAIT": "1"}, "-t", "held", "-p", scenarios.POEM_PROMPT
            )
        finally:
            await lock.release()

    done = asyncio.run(hold_then_run())
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        done.stderr.count("\n") == 1
        and "thread 'held' is still busy with another turn after 1 s" in done.stderr
    )
    assert cli_run.saved_messages(store_path(tmp_path), "held") == []  # nothing half written


def _slow_tool() -> StructuredTool:
    async def count_sheep(field: str) -> str:
        """Count the sheep in a field."""
        await asyncio.sleep(0.6)
        return f"3 sheep in {field}"

    return StructuredTool.from_function(coroutine=count_sheep)


async def test_two_tabs_on_one_thread_take_turns(tmp_path: Path) -> None:
    settings = AgentSettings(
        output_dir=tmp_path / "outputs",
        allowed_dirs=(tmp_path,),
        openai_api_key=SecretStr("sk-test"),
        hf_token=SecretStr("hf_test"),
    )
    model = ScriptedModel(turns=[[("count_sheep", {"field": "the meadow"})], "Three sheep."])
    app = WebApp(settings, model=model, tools=[_slow_tool()])
    try:

        async def tab(text: str) -> Session:
            updates = [u async for u in app.respond(text, Session(thread="pasture"))]
            return updates[-1][3]

        first, second = await asyncio.gather(tab("How many sheep?"), tab("Count them again"))
        state = await (await app.agent()).aget_state({"configurable": {"thread_id": "pasture"}})
    finally:
        await app.aclose()
    notes = [m["content"] for s in (first, second) for m in s.messages if "⏳" in str(m["content"])]
    assert len(notes) == 1 and "Another turn on this conversation is still running" in notes[0]
    assert cli_run.turns_of(state.values["messages"]) == [TURN, TURN]
    assert all(s.messages[-1]["content"] == "Three sheep." for s in (first, second))


# --------------------------------------------------------------------------- 5b. what the store keeps


async def test_only_the_latest_checkpoint_is_kept_and_resuming_still_works(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, tmp_path: Path
) -> None:
    scenarios.register_all(openai_stand_in)
    settings = AgentSettings.from_env(
        env_file=None, output_dir=tmp_path / "outputs", allowed_dirs=(tmp_path,)
    )
    async with await open_store(settings) as store:
        agent = build_agent(settings, checkpointer=store.saver)
        for prompt in (scenarios.SHEEP_PROMPT, scenarios.SHEEP_FOLLOW_UP):
            events = [e async for e in run_turn(agent, prompt, thread="farm", store=store)]
        checkpoints = [c async for c in store.saver.alist({"configurable": {"thread_id": "farm"}})]
        state = await agent.aget_state({"configurable": {"thread_id": "farm"}})
    assert "There are 3 sheep" in events[-1].summary.answer  # the follow-up used the first turn's image
    assert not any(isinstance(e, ThreadWaiting) for e in events)
    assert len(checkpoints) == 1
    assert [m.text for m in state.values["messages"] if m.type == "human"] == [
        scenarios.SHEEP_PROMPT,
        scenarios.SHEEP_FOLLOW_UP,
    ]
