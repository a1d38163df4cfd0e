"""Tool selection: recall on TaskBench's dev split, what the agent offers the model per call, the way out
(`load_tools`), and tool calls a model writes as text (self-hosted servers without tool calling)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from benchmarks.tool_selection import load_gold, recall
from hugginggpt.agent import build_agent
from hugginggpt.tools.inference.models import providers_serving
from hugginggpt.tools.selection import choose, select
from hugginggpt.tools.tasks.table import TASKS
from tests.stand_ins.openai_api import OpenAIStandIn
from tests.stand_ins.scripts import call, offered_tools
from tests.test_agent import planner, run, settings, workdir  # noqa: F401 (fixtures)

SPECS = [spec for spec in TASKS if providers_serving(spec.task)]
ALWAYS = {"find_models", "run_plan", "load_tools"}


def test_recall_on_the_dev_split() -> None:
    """Gold tools offered in the first model call: >= 0.98 over all, and every type >= 0.95."""
    records = load_gold()
    offered = [set(choose(r["user_request"], SPECS).tasks) for r in records]
    got = recall(records, offered)
    assert len(records) == 325 and got["all"] >= 0.98, got
    assert min(got["single"], got["chain"], got["dag"]) >= 0.95, got
    assert sorted(map(len, offered))[len(offered) // 2] <= 9  # the median request: a few tools, not all


def test_choice_says_why() -> None:
    choice = choose("Transcribe meeting.wav and translate it into French", SPECS)
    assert {"automatic-speech-recognition", "translation"} <= set(choice.tasks)
    assert "image-to-text" not in choice.tasks and choice.kinds == {"audio"}
    assert choice.why["translation"] == "cue 'translat'" or choice.why["translation"].startswith("cue")
    assert choose("hello there", SPECS).tasks == []


def test_a_made_image_feeds_the_next_task() -> None:
    """No image is named, but one is drawn first: the tasks reading it are offered (the chain stays whole)."""
    tasks = choose("Draw a lighthouse at dusk and count the boats", SPECS).tasks
    assert {"text-to-image", "object-detection"} <= set(tasks)
    assert "object-detection" not in choose("Count the boats", SPECS).tasks  # nothing to count them in


async def test_agent_offers_the_request_s_tools_and_keeps_used_ones(planner: OpenAIStandIn) -> None:  # noqa: F811
    agent = build_agent(settings(), checkpointer=InMemorySaver())
    await run(agent, "Write a poem about sheep, then read it to me", thread="k")
    first = set(offered_tools(planner.chat_requests[0]))
    assert "text_to_speech" in first and first >= ALWAYS and len(first) < 15
    planner.script(["Done."])
    await run(agent, "thanks", thread="k")
    assert "text_to_speech" in offered_tools(planner.chat_requests[-1])  # used in the thread: still offered
    plan = next(t for t in planner.chat_requests[0]["tools"] if t["function"]["name"] == "run_plan")
    tool = plan["function"]["parameters"]["properties"]["steps"]["items"]["properties"]["tool"]
    assert set(tool["enum"]) == first - ALWAYS  # a plan's steps: the offered task tools


async def test_all_offers_every_tool(planner: OpenAIStandIn) -> None:  # noqa: F811
    planner.script(["Hello."])
    await run(build_agent(settings(tool_selection="all"), checkpointer=InMemorySaver()), "hello")
    assert len(offered_tools(planner.chat_requests[0])) == len(
        SPECS
    ) + 2 and "load_tools" not in offered_tools(planner.chat_requests[0])


async def test_load_tools_is_the_way_out(planner: OpenAIStandIn) -> None:  # noqa: F811
    """A request the cues miss: the model loads the tool it needs and calls it in the same turn."""
    planner.script(
        [
            call("load_tools", tasks=["token-classification"]),
            call("token_classification", text="Ada Lovelace lived in London."),
            "Found them.",
        ]
    )
    summary = await run(build_agent(settings(), checkpointer=InMemorySaver()), "hello, look at this: Ada")
    assert "token_classification" not in offered_tools(planner.chat_requests[0])
    assert "token_classification" in offered_tools(planner.chat_requests[1])
    assert [c["name"] for c in summary.tool_calls] == ["load_tools", "token_classification"]
    assert all(c["status"] == "ok" for c in summary.tool_calls)


async def test_load_tools_refuses_unknown_tasks(planner: OpenAIStandIn) -> None:  # noqa: F811
    planner.script([call("load_tools", tasks=["depth_estimation"]), "ok"])
    summary = await run(build_agent(settings(), checkpointer=InMemorySaver()), "hello")
    (made,) = summary.tool_calls
    assert made["status"] == "error" and "unknown task(s) depth_estimation; known:" in made["error"]


def fenced(written: dict[str, Any]) -> str:
    return "I will call the tool.\n```json\n" + json.dumps(written) + "\n```"


async def test_a_tool_call_written_as_text_is_run(planner: OpenAIStandIn) -> None:  # noqa: F811
    """A self-hosted model without tool calling writes the call as JSON text: an offered tool with valid
    arguments becomes a real call."""
    planner.script([fenced({"name": "text_to_speech", "arguments": {"text": "Baa."}}), "Here it is."])
    summary = await run(build_agent(settings(), checkpointer=InMemorySaver()), "Read 'Baa.' aloud")
    assert [(c["name"], c["status"]) for c in summary.tool_calls] == [("text_to_speech", "ok")]
    assert summary.answer == "Here it is."


@pytest.mark.parametrize(
    "written",
    [{"name": "text_to_speech", "arguments": {"words": "Baa."}}, {"name": "image_to_video", "arguments": {}}],
    ids=["invalid arguments", "a tool not offered"],
)
async def test_a_tool_call_as_text_that_cannot_run_is_explained(
    planner: OpenAIStandIn,  # noqa: F811
    written: dict[str, Any],
) -> None:
    planner.script([fenced(written)])
    summary = await run(build_agent(settings(), checkpointer=InMemorySaver()), "Read 'Baa.' aloud")
    assert summary.tool_calls == []
    assert "wrote a tool call as text" in summary.answer and "tool calling" in summary.answer


def test_select_reads_files_from_the_conversation() -> None:
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    messages = [
        HumanMessage("Draw three sheep"),
        AIMessage("", tool_calls=[{"name": "text_to_image", "args": {"prompt": "sheep"}, "id": "c1"}]),
        ToolMessage("text-to-image: file: outputs/images/abc.png", tool_call_id="c1"),
        AIMessage("Here."),
        HumanMessage("How many sheep are there?"),
    ]
    choice = select(messages, SPECS)
    assert "image" in choice.kinds and choice.why["text-to-image"] == "used in this thread"
    assert {"object-detection", "visual-question-answering"} <= set(choice.tasks)
