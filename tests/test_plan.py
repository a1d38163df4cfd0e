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

from hugginggpt.tools import HFSettings, HuggingFaceToolkit
from hugginggpt.tools.plans.results import PlanResult, StepFinished, StepResult, StepStarted
from hugginggpt.tools.plans.steps import PlanStep
from hugginggpt.tools.plans.tool import STEP_EVENT, planned_steps, tool_calls_counted
from tests.stand_ins import media
from tests.stand_ins.hf import HFStandIn, RecordedRequest
from tests.stand_ins.scripts import plan_failures, plan_steps


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


async def test_every_step_retry_follows_the_tool_retry_budget(hf_stand_in: HFStandIn, workdir: Path) -> None:
    """A step whose failures all pass is retried by the agent's own ToolRetryMiddleware (one retry loop):
    HUGGINGGPT_TOOL_RETRIES more calls of the whole step, then it fails with the tool's sentence."""
    hf_stand_in.add_fault("loading", task="text-to-speech", times=None)
    for retries in (0, 2):
        before = len(hf_stand_in.inference_requests(task="text-to-speech"))
        message = await run(step("s1", "text_to_speech", text="baa"), max_attempts=1, tool_retries=retries)
        plan = PlanResult.read(message.artifact)
        assert plan is not None and plan.steps["s1"].status == "failed", message.content
        sent = len(hf_stand_in.inference_requests(task="text-to-speech")) - before
        assert sent == 1 + retries, (retries, sent)


async def test_the_result_is_typed_and_kept_as_plain_data(hf_stand_in: HFStandIn, workdir: Path) -> None:
    """The artifact is plain JSON data (as a conversation keeps it); `PlanResult.read` gives the typed result
    back, with the files the steps made and the very content the model was sent."""
    hf_stand_in.add_fault("not_found", task="image-to-text", times=None)
    message = await run(
        step("s1", "text_to_image", prompt="three sheep"),
        step("s2", "image_to_text", image="$s1"),
        step("s3", "text_to_speech", text="$s2"),
        step("s4", "text_to_speech", text="baa"),
    )
    stored = json.loads(json.dumps(message.artifact))  # what a checkpoint or an MCP client gets back
    plan = PlanResult.read(stored)
    assert plan is not None and plan == PlanResult.read(message.artifact)
    assert {k: s.status for k, s in plan.steps.items()} == {
        "s1": "ok",
        "s2": "failed",
        "s3": "skipped",
        "s4": "ok",
    }
    assert plan.text() == message.content
    # the LLM stand-in reads the same steps back from the text, all a model is sent (it never sees artifacts)
    assert plan_steps(message.content) == {k: s.content for k, s in plan.steps.items()}
    assert plan_failures(message.content) == [plan.steps["s2"].error, plan.steps["s3"].error]
    made = [f["path"] for f in plan.files()]
    assert [f["mime_type"].split("/")[0] for f in plan.files()] == ["image", "audio"]
    assert all(Path(p).is_file() for p in made)
    assert made == [plan.steps["s1"].files()[0]["path"], plan.steps["s4"].files()[0]["path"]]
    task = (
        await plan_tool()
        .tools["text_to_speech"]
        .ainvoke({"name": "text_to_speech", "args": {"text": "baa"}, "id": "t1", "type": "tool_call"})
    )
    assert PlanResult.read(task.artifact) is None  # a task tool's artifact is not a plan's
    assert PlanResult.read({"task": "plan", "steps": {"s1": {"tool": "x"}}}) is None  # nor a broken one


async def test_step_events_are_typed_and_match_the_result(hf_stand_in: HFStandIn, workdir: Path) -> None:
    """Each step writes StepStarted (its resolved arguments) then StepFinished (its result, and the attempts
    that failed first, also for a failed step, whose result keeps none)."""
    hf_stand_in.add_fault("not_found", task="image-to-text", times=None)
    tool, events = plan_tool(max_attempts=1), []
    parsed = [
        PlanStep.model_validate(s)
        for s in (step("s1", "text_to_image", prompt="a sheep"), step("s2", "image_to_text", image="$s1"))
    ]
    result = await tool.start(None, events.append).join(parsed)
    typed = [e[STEP_EVENT] for e in events]
    assert [(type(e).__name__, e.step) for e in typed] == [
        ("StepStarted", "s1"), ("StepFinished", "s1"), ("StepStarted", "s2"), ("StepFinished", "s2"),
    ]  # fmt: skip
    started, finished = typed[2], typed[3]
    assert isinstance(started, StepStarted) and isinstance(finished, StepFinished)
    assert started.args == {"image": result.steps["s1"].files()[0]["path"]}
    for event in typed[1::2]:
        assert StepResult.model_validate(event.model_dump()) == result.steps[event.step]
    assert finished.status == "failed" and [a["model"] for a in finished.failed_attempts] == [
        hf_stand_in.models("image-to-text")[0]["id"]
    ]


def test_a_calls_steps_are_read_once(hf_stand_in: HFStandIn) -> None:
    """What callers read from a run_plan call's arguments, as the model sent them: the steps (for the tools
    it uses), how many tool calls it counts for, which step arguments take media."""
    steps = [step("s1", "text_to_image", prompt="a"), "junk", step("s2", "image_to_text", image="$s1")]
    call = {"name": "run_plan", "args": {"steps": steps}, "id": "p", "type": "tool_call"}
    assert [s["tool"] for s in planned_steps(call) or []] == ["text_to_image", "image_to_text"]
    assert tool_calls_counted(call) == 3 and tool_calls_counted({**call, "args": {"steps": []}}) == 1
    assert tool_calls_counted({"name": "text_to_image", "args": {"steps": steps}}) == 1
    assert planned_steps({"name": "text_to_image", "args": {"steps": steps}}) is None
    plan = plan_tool()
    assert plan.media_args("image_to_text") == {"image": "image"} and plan.media_args("paint") == {}
    assert plan.media_args("visual_question_answering") == {"image": "image"}
    assert plan.media_args("text_to_image") == {}


def test_media_arguments_are_the_file_inputs_the_schemas_describe() -> None:
    """Which arguments take media is computed once on the task spec; each is an argument whose schema asks
    for a file path or URL, and every such argument is one."""
    for tool in HuggingFaceToolkit().get_tools():
        spec = getattr(tool, "spec", None)
        if spec is None:
            continue
        schema = tool.args_schema.model_json_schema()["properties"]
        files = {
            name for name, prop in schema.items() if "a path or http(s) URL" in prop.get("description", "")
        }
        assert set(spec.media_args) == files, tool.name
        assert all(kind in tool.name or kind in spec.description.lower() for kind in spec.media_args.values())
