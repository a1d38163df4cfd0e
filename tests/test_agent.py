"""The agent end to end: the real ChatOpenAI against the planner stand-in, the real tools against the HF
stand-in, conversations kept in SQLite. Plus a schema-driven fake model that calls every tool."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from hugginggpt.agent import AgentSettings, TurnSummary, build_agent, run_turn
from hugginggpt.agent.events import AnswerDelta, ToolFinished, ToolStarted, TurnDone, replay
from hugginggpt.tools import HuggingFaceToolkit
from hugginggpt.tools.plans.results import PlanResult
from tests import scenarios
from tests.fakes import SchemaModel, ScriptedModel
from tests.stand_ins import media
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.openai_api import OpenAIStandIn
from tests.stand_ins.scripts import last_user_message


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("HUGGINGGPT_"):
            monkeypatch.delenv(name)
    Path("speech.flac").write_bytes(media.make_audio("sheep are lovely animals"))
    Path("sheep.png").write_bytes(media.make_image("three sheep"))
    return tmp_path


@pytest.fixture
def planner(openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, workdir: Path) -> OpenAIStandIn:
    scenarios.register_all(openai_stand_in)
    return openai_stand_in


def settings(**overrides: Any) -> AgentSettings:
    return AgentSettings.from_env(env_file=None, **{"timeout": 5.0, "llm_timeout": 10.0, **overrides})


async def run(agent: Any, text: str, thread: str = "t1", events: list[Any] | None = None) -> TurnSummary:
    summary = None
    async for event in run_turn(agent, text, thread=thread):
        if events is not None:
            events.append(event)
        if isinstance(event, TurnDone):
            summary = event.summary
    assert summary is not None
    return summary


async def test_sheep_conversation_two_turns(planner: OpenAIStandIn, workdir: Path) -> None:
    config = settings()
    async with AsyncSqliteSaver.from_conn_string(str(workdir / "conversations.sqlite")) as saver:
        agent = build_agent(config, checkpointer=saver)
        first = await run(agent, scenarios.SHEEP_PROMPT)
        (image,) = [a for a in first.artifacts if a["task"] == "text-to-image"]
        assert Path(image["path"]).is_file() and image["mime_type"].startswith("image/")
        assert image["path"] in first.answer and image["model"] in first.answer

        events: list[Any] = []
        second = await run(agent, scenarios.SHEEP_FOLLOW_UP, events=events)
    assert "There are 3 sheep in the image" in second.answer
    calls = {c["name"]: c for c in second.tool_calls}
    assert set(calls) == {"image_to_text", "object_detection", "visual_question_answering"}
    assert all(c["args"]["image"] == image["path"] and c["status"] == "ok" for c in calls.values())
    # the three tools were started together, in one model turn
    started = [e for e in events if isinstance(e, ToolStarted)]
    first_finish = next(i for i, e in enumerate(events) if isinstance(e, ToolFinished))
    assert len(started) == 3 and all(events.index(s) < first_finish for s in started)
    assert any(a["task"] == "object-detection" for a in second.artifacts)  # the annotated image
    # the second turn's request carried the first turn's history (read back from SQLite)
    assert any(image["path"] in str(m.get("content")) for m in planner.chat_requests[-1]["messages"])


async def test_poem_read_aloud(planner: OpenAIStandIn) -> None:
    summary = await run(build_agent(settings(), checkpointer=InMemorySaver()), scenarios.POEM_PROMPT)
    assert scenarios.POEM in summary.answer
    (audio,) = summary.artifacts
    assert audio["task"] == "text-to-speech" and audio["mime_type"].startswith("audio/")
    assert Path(audio["path"]).read_bytes()[:4] in (b"fLaC", b"RIFF")
    assert summary.tool_calls[0]["args"] == {"text": scenarios.POEM}


def agent_for(mode: str) -> Any:
    """The default agent ("planned": run_plan is offered), or one without run_plan ("layered")."""
    if mode == "planned":
        return build_agent(settings(), checkpointer=InMemorySaver())
    tools = HuggingFaceToolkit(settings=settings().toolkit, include_run_plan=False).get_tools()
    return build_agent(settings(), tools=tools, checkpointer=InMemorySaver())


def model_turns(planner: OpenAIStandIn, prompt: str) -> int:
    return sum(1 for r in planner.chat_requests if last_user_message(r) == prompt)


MODES = pytest.mark.parametrize("mode", ["planned", "layered"])


@MODES
async def test_transcribe_then_compare(mode: str, planner: OpenAIStandIn, workdir: Path) -> None:
    prompt = scenarios.transcribe_prompt("speech.flac")
    summary = await run(agent_for(mode), prompt)
    asr, similarity = summary.tool_calls
    assert asr["name"] == "automatic_speech_recognition" and similarity["name"] == "sentence_similarity"
    assert similarity["args"]["sentence"] == "sheep are lovely animals"
    assert similarity["args"]["other_sentences"] == ["Sheep are nice"]
    assert "Similarity to the reference sentence" in summary.answer
    assert model_turns(planner, prompt) == (2 if mode == "planned" else 3)
    assert [c["step"] for c in summary.tool_calls] == (["s1", "s2"] if mode == "planned" else [None, None])


@MODES
async def test_taskbench_chain(mode: str, planner: OpenAIStandIn) -> None:
    summary = await run(agent_for(mode), scenarios.CHAIN_PROMPT)
    assert [c["name"] for c in summary.tool_calls] == ["text_to_image", "image_to_text", "translation"]
    assert all(c["status"] == "ok" for c in summary.tool_calls)
    assert summary.answer.startswith("French description: ")
    assert "translation" in summary.answer and "Text:" in summary.answer
    image = summary.artifacts[0]["path"]
    assert summary.tool_calls[1]["args"] == {"image": image}  # the resolved reference, as the tool got it
    assert model_turns(planner, scenarios.CHAIN_PROMPT) == (2 if mode == "planned" else 4)


@MODES
async def test_taskbench_dag_runs_independent_tasks_together(mode: str, planner: OpenAIStandIn) -> None:
    events: list[Any] = []
    summary = await run(agent_for(mode), scenarios.DAG_PROMPT, events=events)
    names = [c["name"] for c in summary.tool_calls]
    assert names[0] == "text_to_image" and names[-1] == "text_to_speech"
    assert set(names[1:4]) == {"object_detection", "image_classification", "image_to_text"}
    assert "I found 2 objects" in summary.answer
    assert {a["task"] for a in summary.artifacts} >= {"text-to-image", "object-detection", "text-to-speech"}
    # planned: the plan and the answer; layered: one model turn per dependency layer plus the answer
    assert len(planner.chat_requests) == (2 if mode == "planned" else 4)
    started = [e.name for e in events if isinstance(e, ToolStarted)]
    assert sorted(started) == sorted(names) and "run_plan" not in started  # each step shows as a tool call


@MODES
async def test_a_failed_tool_keeps_the_other_results(
    mode: str, planner: OpenAIStandIn, hf_stand_in: HFStandIn
) -> None:
    hf_stand_in.add_fault("not_found", task="object-detection", times=None)
    summary = await run(agent_for(mode), scenarios.FAIL_PROMPT)
    status = {c["name"]: c["status"] for c in summary.tool_calls}
    assert status == {"text_to_image": "ok", "object_detection": "error", "image_to_text": "ok"}
    failed = summary.failed[0]
    assert failed["error"].startswith("object-detection failed with") and "not found" in failed["error"]
    assert "Partial answer" in summary.answer and "object-detection failed" in summary.answer
    assert "image-to-text: Text:" in summary.answer


async def test_plan_steps_stream_as_they_happen(planner: OpenAIStandIn, hf_stand_in: HFStandIn) -> None:
    """The picture's step ends (and is shown) while its caption is still being made."""
    hf_stand_in.set_latency(0.6, task="image-to-text")
    seen: list[tuple[float, Any]] = []
    async for event in run_turn(agent_for("planned"), scenarios.CHAIN_PROMPT, thread="stream"):
        seen.append((time.monotonic(), event))
    ended = {e.name: t for t, e in seen if isinstance(e, ToolFinished)}
    started = {e.name: t for t, e in seen if isinstance(e, ToolStarted)}
    assert ended["text_to_image"] + 0.5 < ended["image_to_text"]
    assert started["image_to_text"] < ended["image_to_text"] - 0.5  # shown starting, not only at the end


async def test_plan_steps_count_against_the_tool_call_limit(hf_stand_in: HFStandIn, workdir: Path) -> None:
    plan = {"steps": [{"id": f"s{i}", "tool": "text_to_speech", "args": {"text": "baa"}} for i in range(3)]}
    model = ScriptedModel(turns=[[("run_plan", plan)], "done"])
    agent = build_agent(settings(openai_api_key="sk-unused", max_tool_calls=2), model=model)
    summary = await run(agent, "three at once")
    assert hf_stand_in.inference_requests() == []  # the plan was blocked as a whole
    (blocked,) = summary.tool_calls
    assert (
        blocked["name"] == "run_plan" and blocked["status"] == "error" and "limit" in blocked["error"].lower()
    )


async def test_llm_rate_limit_is_retried(planner: OpenAIStandIn) -> None:
    planner.add_fault("rate_limit", times=2)
    summary = await run(build_agent(settings(), checkpointer=InMemorySaver()), scenarios.POEM_PROMPT)
    assert scenarios.POEM in summary.answer


async def test_answer_streams(planner: OpenAIStandIn) -> None:
    events: list[Any] = []
    await run(build_agent(settings(), checkpointer=InMemorySaver()), scenarios.POEM_PROMPT, events=events)
    deltas = [e.text for e in events if isinstance(e, AnswerDelta)]
    assert len(deltas) > 1 and scenarios.POEM in "".join(deltas)


async def test_schema_model_calls_every_tool_and_the_run_survives(
    hf_stand_in: HFStandIn, workdir: Path
) -> None:
    """Every tool offered (HUGGINGGPT_TOOL_SELECTION=all), every tool called with valid arguments."""
    model = SchemaModel(
        args={
            "audio_classification": {"audio": "speech.flac"},
            "audio_to_audio": {"audio": "speech.flac"},
            "automatic_speech_recognition": {"audio": "speech.flac"},
        }
    )
    for name in ("document_question_answering", "image_classification", "image_segmentation", "image_to_image",
                 "image_to_text", "image_to_video", "object_detection", "visual_question_answering",
                 "zero_shot_image_classification"):  # fmt: skip
        model.args[name] = (
            {"image": "sheep.png"}
            | ({"question": "how many?"} if "question" in name else {})
            | ({"candidate_labels": ["sheep", "cow"]} if name.startswith("zero") else {})
        )
    model.args["fill_mask"] = {"text": "Sheep eat [MASK]."}
    model.args["find_models"] = {"task": "text-to-image"}
    model.args["run_plan"] = {"steps": [{"id": "s1", "tool": "text_to_image", "args": {"prompt": "three sheep"}},
                                        {"id": "s2", "tool": "image_classification", "args": {"image": "$s1"}}]}  # fmt: skip
    agent = build_agent(
        settings(openai_api_key="sk-unused", tool_selection="all"), model=model, checkpointer=InMemorySaver()
    )
    result = await agent.ainvoke(
        {"messages": [("user", "use every tool")]}, {"configurable": {"thread_id": "x"}}
    )
    tools = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert len(tools) == 29  # 27 served tasks, find_models and run_plan: tabular_regression is not offered
    assert "tabular_regression" not in {m.name for m in tools}
    errors = {m.name: m.content for m in tools if m.status == "error"}
    assert errors == {}


async def test_independent_tool_calls_run_concurrently(hf_stand_in: HFStandIn, workdir: Path) -> None:
    turn = [("image_to_text", {"image": "sheep.png"}), ("object_detection", {"image": "sheep.png"}),
            ("image_classification", {"image": "sheep.png"}), ("text_to_speech", {"text": "baa"})]  # fmt: skip
    agent = build_agent(settings(openai_api_key="sk-unused"), model=ScriptedModel(turns=[turn, "done"]))
    hf_stand_in.meet(4)  # each call is held until all four are in flight: one after another never meet
    summary = await run(agent, "four things at once")
    assert [c["status"] for c in summary.tool_calls] == ["ok"] * 4
    assert hf_stand_in.together == 4


async def test_model_calls_are_capped(hf_stand_in: HFStandIn, workdir: Path) -> None:
    looping = ScriptedModel(turns=[[("image_to_text", {"image": "sheep.png"})]] * 50)
    agent = build_agent(settings(openai_api_key="sk-unused", max_model_calls=3), model=looping)
    await run(agent, "loop forever")
    assert len(looping.seen) == 3


async def test_tool_calls_are_capped(hf_stand_in: HFStandIn, workdir: Path) -> None:
    many = [("image_to_text", {"image": "sheep.png"})] * 8
    model = ScriptedModel(turns=[many, "done"])
    agent = build_agent(settings(openai_api_key="sk-unused", max_tool_calls=5), model=model)
    summary = await run(agent, "too many")
    ran = [c for c in summary.tool_calls if c["status"] == "ok"]
    assert len(ran) == 5 and len(summary.tool_calls) == 8


async def test_long_history_is_summarised(planner: OpenAIStandIn) -> None:
    agent = build_agent(settings(context_tokens=2000), checkpointer=InMemorySaver())
    for i in range(10):
        await run(agent, f"{scenarios.POEM_PROMPT} ({'sheep ' * 150} {i})", thread="long")
    sent = planner.chat_requests[-1]["messages"]
    assert any("Earlier poems were read aloud" in str(m.get("content")) for m in sent)
    size = sum(len(str(m.get("content") or "")) for m in sent)
    assert size < 10 * 900, f"history was not trimmed ({size} characters sent)"


async def test_a_saved_plan_replays_as_its_steps(planner: OpenAIStandIn, workdir: Path) -> None:
    """A plan's result, read back from the database by another saver (a restart), replays as the very steps
    the live run showed: the artifact has one shape, plain data, live and saved."""
    db = str(workdir / "conversations.sqlite")
    live: list[Any] = []
    async with AsyncSqliteSaver.from_conn_string(db) as saver:
        await run(build_agent(settings(), checkpointer=saver), scenarios.CHAIN_PROMPT, "saved", live)
    async with AsyncSqliteSaver.from_conn_string(db) as saver:
        state = await build_agent(settings(), checkpointer=saver).aget_state(
            {"configurable": {"thread_id": "saved"}}
        )
    replayed = [e for e in replay(state.values["messages"]) if isinstance(e, ToolFinished)]

    def shown(events: list[Any]) -> list[tuple[Any, ...]]:
        return [
            (e.id, e.name, e.status, e.step, e.model, e.files) for e in events if isinstance(e, ToolFinished)
        ]

    assert shown(replayed) == shown(live) and len(replayed) >= 2 and all(e.step for e in replayed)
    (saved,) = [m.artifact for m in state.values["messages"] if isinstance(m, ToolMessage)]
    assert isinstance(saved, dict) and PlanResult.read(saved) is not None
