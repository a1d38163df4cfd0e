"""`run_plan` on its own, against the HF stand-in: references resolved to the right files and texts (as the
stand-in saw them), steps run as early as they can, failures skip only their dependents, bad plans are
refused before anything is sent, and the sync path works too."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, ToolException

from tests.stand_ins import media
from tests.stand_ins.hf import HFStandIn, RecordedRequest
from tools import HFSettings, HuggingFaceToolkit


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("speech.flac").write_bytes(media.make_audio("sheep are lovely animals"))
    return tmp_path


def plan_tool(**settings: Any) -> BaseTool:
    config = HFSettings.from_env(env_file=None, **{"timeout": 5.0, "retry_delay": 0.0, **settings})
    (tool,) = [t for t in HuggingFaceToolkit(settings=config).get_tools() if t.name == "run_plan"]
    return tool


def step(id: str, tool: str, **args: Any) -> dict[str, Any]:
    return {"id": id, "tool": tool, "args": args}


async def run(*steps: dict[str, Any], **settings: Any) -> ToolMessage:
    tool = plan_tool(**settings)
    message = await tool.ainvoke(
        {"name": "run_plan", "args": {"steps": list(steps)}, "id": "p1", "type": "tool_call"}
    )
    assert isinstance(message, ToolMessage)
    return message


def sent_bytes(request: RecordedRequest) -> bytes:
    """The media a request carried: its raw body, or the base64 `inputs` of a JSON body."""
    try:
        payload = json.loads(request.body)
    except ValueError:
        return request.body
    inputs = payload.get("inputs") if isinstance(payload, dict) else None
    return base64.b64decode(inputs.split(",")[-1]) if isinstance(inputs, str) else b""


def sent_text(request: RecordedRequest) -> Any:
    return json.loads(request.body)["inputs"]


async def test_a_chain_hands_on_the_file_then_the_text(hf_stand_in: HFStandIn, workdir: Path) -> None:
    message = await run(
        step("s1", "text_to_image", prompt="a lighthouse at dusk"),
        step("s2", "image_to_text", image="$s1"),
        step("s3", "translation", text="$s2", src_lang="en_XX", tgt_lang="fr_XX"),
        step("s4", "text_to_speech", text="In French: $s3"),
    )
    steps = message.artifact["steps"]
    assert [s["status"] for s in steps.values()] == ["ok"] * 4, message.content
    image = steps["s1"]["result"]["files"][0]["path"]
    caption = steps["s2"]["result"]["data"]["text"]
    french = steps["s3"]["result"]["data"]["text"]
    assert steps["s2"]["args"] == {"image": image} and steps["s3"]["args"]["text"] == caption
    assert steps["s4"]["args"]["text"] == f"In French: {french}"
    (captioned,) = hf_stand_in.inference_requests(task="image-to-text")
    assert sent_bytes(captioned) == Path(image).read_bytes()  # the very file s1 made
    (translated,) = hf_stand_in.inference_requests(task="translation")
    assert sent_text(translated) == caption
    (spoken,) = hf_stand_in.inference_requests(task="text-to-speech")
    assert sent_text(spoken) == f"In French: {french}"
    assert message.content.startswith("run_plan: 4 steps, 4 ok, 0 failed, 0 skipped.")
    assert f"[s1] text_to_image ok: text-to-image: Made an image: {image}" in message.content


async def test_list_items_and_texts_that_are_not_files(hf_stand_in: HFStandIn, workdir: Path) -> None:
    message = await run(
        step("heard", "automatic_speech_recognition", audio="speech.flac"),
        step(
            "alike", "sentence_similarity", sentence="$heard", other_sentences=["Sheep are nice.", "$heard"]
        ),
        step("labels", "image_classification", image="outputs/none.png"),  # fails: no such file
    )
    steps = message.artifact["steps"]
    transcript = steps["heard"]["result"]["data"]["text"]
    assert steps["alike"]["args"] == {
        "sentence": transcript,
        "other_sentences": ["Sheep are nice.", transcript],
    }
    (similar,) = hf_stand_in.inference_requests(task="sentence-similarity")
    assert sent_text(similar) == {"source_sentence": transcript, "sentences": ["Sheep are nice.", transcript]}
    assert steps["labels"]["status"] == "failed" and "file not found" in (steps["labels"]["error"] or "")


async def test_a_failed_step_skips_only_its_dependents(hf_stand_in: HFStandIn, workdir: Path) -> None:
    hf_stand_in.add_fault("not_found", task="image-to-text", times=None)
    message = await run(
        step("s1", "text_to_image", prompt="three sheep"),
        step("s2", "image_to_text", image="$s1"),
        step("s3", "translation", text="$s2"),
        step("s4", "text_to_speech", text="$s3"),
        step("s5", "object_detection", image="$s1"),
    )
    steps = message.artifact["steps"]
    assert {k: v["status"] for k, v in steps.items()} == {
        "s1": "ok", "s2": "failed", "s3": "skipped", "s4": "skipped", "s5": "ok",
    }  # fmt: skip
    assert steps["s3"]["error"] == "translation skipped: it needs s2 (image_to_text), which failed"
    assert steps["s4"]["error"] == "text_to_speech skipped: it needs s3 (translation), which was skipped"
    assert "[s3] translation skipped: it needs s2 (image_to_text), which failed" in message.content
    assert (
        "image-to-text failed" in (steps["s2"]["error"] or "") and steps["s5"]["result"]["data"]["count"] == 3
    )
    assert hf_stand_in.inference_requests(task="translation") == []  # nothing was sent for skipped steps
    assert "1 failed, 2 skipped" in message.content and message.status == "success"


async def test_independent_steps_run_at_the_same_time(hf_stand_in: HFStandIn, workdir: Path) -> None:
    tool = plan_tool()
    warm = [step("a", "text_to_speech", text="warm"), step("b", "text_to_image", prompt="warm")]
    await tool.ainvoke({"steps": warm})  # model lists looked up once, outside the timing
    hf_stand_in.meet(2)  # each step is held until both are in flight: one after the other never meet
    await tool.ainvoke(
        {"steps": [step("a", "text_to_speech", text="baa"), step("b", "text_to_image", prompt="ewe")]}
    )
    assert hf_stand_in.together == 2


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        ([step("s1", "text_to_image", prompt="a"), step("s1", "text_to_speech", text="b")], "two steps have the id s1"),
        ([step("s1", "image_to_text", image="$s2"), step("s2", "image_to_image", image="$s1")],
         "its steps form a cycle (s1 -> s2 -> s1)"),
        ([step(f"s{i}", "text_to_speech", text="baa") for i in range(13)], "it has 13 steps; the limit is 12"),
    ],
)  # fmt: skip
async def test_bad_plans_are_refused_before_anything_runs(
    steps: list[dict[str, Any]], reason: str, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    with pytest.raises(ToolException) as refused:
        await plan_tool().ainvoke({"steps": steps})
    sentence = str(refused.value)
    assert sentence.startswith(f"run_plan refused the plan: {reason}") and sentence.endswith(".")
    assert "\n" not in sentence and "started" not in sentence and hf_stand_in.inference_requests() == []


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (step("s1", "paint", prompt="x"), "step s1 names an unknown tool 'paint'"),
        (step("1st", "text_to_image", prompt="a"), "step id '1st' is malformed"),
        (step("s1", "image_to_text", image="$s9"), "step s1 refers to $s9, but no step has the id s9"),
        (step("s1", "image_to_text", image="$s1"), "step s1 refers to its own output"),
        (step("s1", "text_to_image", prompt="a", width=10**6), "step s1 (text_to_image) has a bad argument width"),
        (step("s1", "text_to_image", colour="red"), "step s1 (text_to_image) has a bad argument prompt: Field required"),
        (step("s1", "find_models", task="text-to-image"), "step s1 names an unknown tool 'find_models'"),
    ],
)  # fmt: skip
async def test_a_bad_step_is_refused_on_its_own(
    bad: dict[str, Any], reason: str, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    """The step fails with one sentence and nothing is sent for it; its dependents are skipped, the rest runs."""
    referable = bad["id"] != "1st"  # a malformed id cannot be referred to
    after = step("after", "translation", text="the result: $s1") if referable else None
    message = await run(bad, step("other", "text_to_speech", text="baa"), *([after] if after else []))
    steps = message.artifact["steps"]
    error = steps[bad["id"]]["error"] or ""
    assert steps[bad["id"]]["status"] == "failed" and error.startswith(f"refused: {reason}"), error
    assert "\n" not in error and steps["other"]["status"] == "ok"
    assert (
        not referable
        or steps["after"]["error"] == f"translation skipped: it needs s1 ({bad['tool']}), which failed"
    )
    assert {r.task for r in hf_stand_in.inference_requests()} == {"text-to-speech"}


def test_the_sync_path_runs_the_same_plan(hf_stand_in: HFStandIn, workdir: Path) -> None:
    content = plan_tool().invoke(
        {
            "steps": [
                step("s1", "text_to_image", prompt="a sheep"),
                step("s2", "object_detection", image="$s1"),
            ]
        }
    )
    assert content.startswith("run_plan: 2 steps, 2 ok") and "Found 1 object(s): 1 sheep." in content


async def test_a_passing_failure_is_retried_like_a_direct_call(hf_stand_in: HFStandIn, workdir: Path) -> None:
    """Every served model cold once: the step's tool call is retried (HUGGINGGPT_TOOL_RETRIES) and works."""
    for model in hf_stand_in.models("text-to-speech")[:3]:
        hf_stand_in.add_fault("loading", model=model["id"], times=1)
    message = await run(step("s1", "text_to_speech", text="baa"), max_attempts=3, tool_retries=1)
    assert message.artifact["steps"]["s1"]["status"] == "ok"
    assert len(hf_stand_in.inference_requests(task="text-to-speech")) == 4
