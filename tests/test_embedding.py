"""The tools embedded in other code: each example in examples/ run offline against the stand-ins
(the real ChatOpenAI against the OpenAI stand-in, the real HF clients against the HF stand-in)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI
from PIL import Image

from examples.bind_tools import ask
from examples.call_tools import caption_and_detect
from examples.lcel_chain import draw_and_caption_chain, illustrate_chain, look_chain
from examples.own_graph import my_agent, my_graph
from hugginggpt.tools import HFSettings, HuggingFaceToolkit
from tests.stand_ins.scripts import call

TASKS = ["text_to_image", "image_to_text", "object_detection"]


@pytest.fixture
def toolkit(hf_stand_in, tmp_path: Path) -> HuggingFaceToolkit:
    settings = HFSettings.from_env(output_dir=tmp_path / "out", allowed_dirs=(tmp_path,))
    return HuggingFaceToolkit(settings=settings, tasks=TASKS)


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "sheep.png"
    Image.new("RGB", (96, 64), (120, 180, 90)).save(path)
    return str(path)


@pytest.fixture
def llm(openai_stand_in) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4.1-mini")  # key and base URL from the stand-in's environment


def test_direct_invoke_gives_text_and_a_tool_call_gives_the_artifact(toolkit, photo) -> None:
    caption, detected = caption_and_detect(photo, toolkit)
    assert isinstance(caption, str) and caption.startswith("image-to-text:")
    assert isinstance(detected, ToolMessage) and detected.tool_call_id == "call-1"
    result = detected.artifact
    assert result["task"] == "object-detection" and result["model"] and result["provider"]
    assert all(Path(f["path"]).is_file() for f in result["files"])  # the annotated image


def test_bind_tools_and_run_the_calls(llm, toolkit, openai_stand_in) -> None:
    openai_stand_in.script(
        [[call("text_to_image", prompt="a lighthouse at dusk")], "Here is your lighthouse."]
    )
    messages = ask(llm, toolkit.get_tools(), "Draw a lighthouse at dusk")
    assert [type(m) for m in messages] == [HumanMessage, AIMessage, ToolMessage, AIMessage]
    assert messages[2].artifact["task"] == "text-to-image" and messages[2].status == "success"
    assert messages[-1].content == "Here is your lighthouse."
    offered = {t["function"]["name"] for t in openai_stand_in.chat_requests[0]["tools"]}
    assert offered == set(TASKS) | {"find_models", "run_plan"}


def test_lcel_prompt_llm_parser_tool(llm, toolkit, openai_stand_in, hf_stand_in) -> None:
    openai_stand_in.script(["A lighthouse at dusk, oil painting"])
    drawn = illustrate_chain(llm, toolkit).invoke({"idea": "a lighthouse"})
    assert drawn.startswith("text-to-image:")
    sent = hf_stand_in.inference_requests(task="text-to-image")
    assert sent and b"A lighthouse at dusk, oil painting" in sent[-1].body


def test_lcel_parallel_caption_and_detect(toolkit, photo, hf_stand_in) -> None:
    both = look_chain(toolkit).invoke({"image": photo})
    assert both["caption"].startswith("image-to-text:")
    assert both["objects"].startswith("object-detection:")
    assert {r.task for r in hf_stand_in.inference_requests()} >= {"image-to-text", "object-detection"}


@pytest.mark.parametrize("build", [my_agent, my_graph], ids=["create_agent", "tool_node_graph"])
def test_inside_another_agent_or_graph(build, llm, toolkit, photo, openai_stand_in) -> None:
    openai_stand_in.script(
        [[call("text_to_image", prompt="a red fox"), call("image_to_text", image=photo)], "A fox, drawn."]
    )
    result = build(llm, toolkit.get_tools()).invoke({"messages": [("user", "Draw a fox; caption my photo")]})
    tool_messages = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert sorted(m.name for m in tool_messages) == ["image_to_text", "text_to_image"]
    assert all(m.status == "success" and m.artifact["model"] for m in tool_messages)
    assert result["messages"][-1].content == "A fox, drawn."


def test_lcel_run_plan_step(toolkit, hf_stand_in) -> None:
    """A whole task graph as one chain step: the caption and the detection both got the drawing."""
    content = draw_and_caption_chain(toolkit).invoke({"idea": "three sheep in a field"})
    assert content.startswith("run_plan: 3 steps, 3 ok")
    drawn = hf_stand_in.inference_requests(task="text-to-image")
    assert len(drawn) == 1 and {r.task for r in hf_stand_in.inference_requests()} == {
        "text-to-image", "image-to-text", "object-detection"
    }  # fmt: skip


def test_run_plan_inside_your_own_create_agent(llm, toolkit, openai_stand_in) -> None:
    plan = {"steps": [{"id": "fox", "tool": "text_to_image", "args": {"prompt": "a red fox"}},
                      {"id": "says", "tool": "image_to_text", "args": {"image": "$fox"}}]}  # fmt: skip
    openai_stand_in.script([[call("run_plan", **plan)], "A fox, drawn and captioned."])
    result = my_agent(llm, toolkit.get_tools()).invoke(
        {"messages": [("user", "Draw a fox, then caption it")]}
    )
    (message,) = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert message.name == "run_plan" and message.status == "success"
    steps = message.artifact["steps"]
    assert steps["says"]["args"]["image"] == steps["fox"]["result"]["files"][0]["path"]
    assert result["messages"][-1].content == "A fox, drawn and captioned."
