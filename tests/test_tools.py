"""Every tool against the loopback HF stand-in: sync and async, model choice, fallback, errors, bad input."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, ToolException

from hugginggpt.tools import TASKS, HFSettings, HuggingFaceToolkit
from hugginggpt.tools.inference.errors import OutputNotSaved, TransientToolError
from tests.fakes import example_for
from tests.stand_ins import media
from tests.stand_ins.hf import HFStandIn

MEDIA_OUTPUT = {"image": "images", "audio": "audios", "video": "videos"}
SERVED = [spec for spec in TASKS if spec.task != "tabular-regression"]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("sheep.png").write_bytes(media.make_image("a field with three sheep grazing"))
    Path("hello.flac").write_bytes(media.make_audio("sheep are nice"))
    Path("invoice.png").write_bytes(media.make_document({"total": "$42.00"}))
    return tmp_path


def toolkit(**overrides: Any) -> HuggingFaceToolkit:
    settings = HFSettings.from_env(env_file=None, **{"timeout": 5.0, **overrides})
    return HuggingFaceToolkit(settings=settings)


def tool_named(name: str, **overrides: Any) -> BaseTool:
    return next(t for t in toolkit(**overrides).get_tools() if t.name == name)


def call(tool: BaseTool, **args: Any) -> dict[str, Any]:
    return {"name": tool.name, "args": args, "id": "call_1", "type": "tool_call"}


def example_args(tool: BaseTool) -> dict[str, Any]:
    """Schema-derived arguments, with real media files for media inputs."""
    args = example_for(tool.tool_call_schema.model_json_schema())
    media_files = {"image": "sheep.png", "audio": "hello.flac"}
    for arg in tool.spec.args:
        if arg.media:
            args[arg.name] = "invoice.png" if arg.media == "document" else media_files[arg.media]
    if tool.name == "fill_mask":
        args["text"] = "Sheep eat [MASK]."
    if tool.name in ("table_question_answering", "tabular_classification"):
        args["table"] = {"fixed_acidity": ["7.4", "7.8"], "alcohol": ["9.4", "9.8"]}
    return args


def test_one_tool_per_task_plus_find_models() -> None:
    tools = HuggingFaceToolkit(settings=HFSettings()).get_tools()
    names = [t.name for t in tools]
    assert len(tools) == 29 and names[-2:] == ["find_models", "run_plan"]
    from huggingface_hub import InferenceClient
    from huggingface_hub.inference._providers import PROVIDERS

    methods = {m for m in dir(InferenceClient) if not m.startswith("_")}
    methods -= {"chat", "chat_completion", "close", "get_endpoint_info", "health_check"}
    served = {task.replace("-", "_") for tasks in PROVIDERS.values() for task in tasks}
    assert set(names[:-2]) == methods & served and methods - served == {"tabular_regression"}
    for tool in tools:
        assert tool.response_format == "content_and_artifact"
        assert tool.description and len(tool.description) < (800 if tool.name == "run_plan" else 160)
        schema = tool.tool_call_schema.model_json_schema()
        assert all(p.get("description") for p in schema["properties"].values()), tool.name


def test_subset_and_unknown_task() -> None:
    tools = HuggingFaceToolkit(tasks=["text-to-image", "object_detection"], settings=HFSettings()).get_tools()
    assert [t.name for t in tools] == ["text_to_image", "object_detection", "find_models", "run_plan"]
    with pytest.raises(KeyError, match="unknown task 'draw'"):
        HuggingFaceToolkit(tasks=["draw"])


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("spec", SERVED, ids=[s.name for s in SERVED])
async def test_every_tool_runs(spec: Any, mode: str, hf_stand_in: HFStandIn, workdir: Path) -> None:
    tool = tool_named(spec.name)
    request = call(tool, **example_args(tool))
    message = tool.invoke(request) if mode == "sync" else await tool.ainvoke(request)
    assert isinstance(message, ToolMessage) and message.status == "success", message.content
    artifact = message.artifact
    top = hf_stand_in.models(spec.task)[0]["id"]
    assert artifact["task"] == spec.task and artifact["model"] == top
    assert artifact["failed_attempts"] == [] and artifact["seconds"] >= 0
    assert message.content.startswith(f"{spec.task}: ") and f"Model: {top} via" in message.content
    if spec.output in MEDIA_OUTPUT:
        (made,) = artifact["files"]
        assert (
            made["path"].startswith(f"outputs/{MEDIA_OUTPUT[spec.output]}/") and Path(made["path"]).is_file()
        )
        assert made["path"] in message.content and made["mime_type"].startswith(spec.output)
    else:  # detection and segmentation draw what they found onto the input; audio_to_audio makes tracks
        made_kinds = {"boxes": {"image"}, "segments": {"image"}, "audios": {"audio"}}
        assert {f["kind"] for f in artifact["files"]} == made_kinds.get(spec.output, set())
    sent = hf_stand_in.inference_requests()
    assert sent and all(r.model == top for r in sent)


def test_video_tasks_use_a_third_party_provider(hf_stand_in: HFStandIn, workdir: Path) -> None:
    for name, args in (
        ("text_to_video", {"prompt": "sheep running"}),
        ("image_to_video", {"image": "sheep.png"}),
    ):
        message = tool_named(name).invoke(call(tool_named(name), **args))
        assert message.artifact["provider"] == "fal-ai", message.content
        assert message.artifact["files"][0]["mime_type"] == "video/mp4"


def test_tabular_regression_says_it_is_not_served(hf_stand_in: HFStandIn, workdir: Path) -> None:
    settings = HFSettings.from_env(env_file=None, timeout=5.0)
    (tool, *_) = HuggingFaceToolkit(
        tasks=["tabular_regression"], settings=settings
    ).get_tools()  # by name only
    with pytest.raises(ToolException, match="not served by any inference provider today"):
        tool.invoke({"table": {"Height": ["11.52"], "Width": ["4.02"]}})
    assert hf_stand_in.inference_requests() == []


def test_sheep_pipeline_passes_files_between_tools(hf_stand_in: HFStandIn, workdir: Path) -> None:
    image = tool_named("text_to_image").invoke(
        call(tool_named("text_to_image"), prompt="a field with three sheep grazing peacefully")
    )
    path = image.artifact["files"][0]["path"]
    found = tool_named("object_detection").invoke(call(tool_named("object_detection"), image=path))
    assert found.artifact["data"]["counts"] == {"sheep": 3}
    annotated = found.artifact["files"][0]["path"]
    assert annotated != path and Path(annotated).read_bytes()[:4] == b"\x89PNG"
    answer = tool_named("visual_question_answering").invoke(
        {"image": path, "question": "How many sheep are in the image?"}
    )
    assert "Answer: 3" in answer


def test_named_model_is_used(hf_stand_in: HFStandIn, workdir: Path) -> None:
    tool = tool_named("object_detection")
    message = tool.invoke(call(tool, image="sheep.png", model="hustvl/yolos-tiny"))
    assert message.artifact["model"] == "hustvl/yolos-tiny"
    with pytest.raises(ToolException, match="cannot use nobody/nothing: no inference provider serves it"):
        tool.invoke({"image": "sheep.png", "model": "nobody/nothing"})


def test_falls_back_to_next_model_when_one_is_cold(hf_stand_in: HFStandIn, workdir: Path) -> None:
    first, second = (m["id"] for m in hf_stand_in.models("object-detection")[:2])
    hf_stand_in.add_fault("loading", model=first, times=None)
    tool = tool_named("object_detection")
    message = tool.invoke(call(tool, image="sheep.png"))
    assert message.artifact["model"] == second
    (failed,) = message.artifact["failed_attempts"]
    assert failed["model"] == first and failed["cause"] == "cold"
    assert f"failed first: {first} (the model is cold or loading" in message.content


def test_provider_fallback_for_a_named_model(hf_stand_in: HFStandIn, workdir: Path) -> None:
    hf_stand_in.add_fault("dead_provider", model="black-forest-labs/FLUX.1-dev", provider="hf-inference")
    tool = tool_named("text_to_image")
    message = tool.invoke(call(tool, prompt="a sheep", model="black-forest-labs/FLUX.1-dev"))
    assert message.artifact["model"] == "black-forest-labs/FLUX.1-dev"
    assert message.artifact["provider"] != "hf-inference"
    assert message.artifact["failed_attempts"][0]["provider"] == "hf-inference"


def test_provider_setting_limits_choice(hf_stand_in: HFStandIn, workdir: Path) -> None:
    tool = tool_named("text_to_image", provider="fal-ai")
    message = tool.invoke(call(tool, prompt="a sheep"))
    assert message.artifact["provider"] == "fal-ai"
    assert all(r.provider == "fal-ai" for r in hf_stand_in.inference_requests())


def test_rate_limit_waits_and_retries_same_model(hf_stand_in: HFStandIn, workdir: Path) -> None:
    top = hf_stand_in.models("image-to-text")[0]["id"]
    hf_stand_in.add_fault("rate_limit", model=top, times=1)
    tool = tool_named("image_to_text")
    started = time.monotonic()
    message = tool.invoke(call(tool, image="sheep.png"))
    assert message.artifact["model"] == top and message.artifact["failed_attempts"] == []
    assert time.monotonic() - started >= 0.9  # honoured Retry-After: 1
    assert len(hf_stand_in.inference_requests()) == 2


@pytest.mark.parametrize(
    ("kind", "sentence", "transient"),
    [
        ("loading", "the model is cold or loading (HTTP 503)", True),
        ("not_found", "model not found or not deployed (HTTP 404)", False),
        ("server_error", "server error (HTTP 500)", True),
        ("bad_gateway", "server error (HTTP 502)", True),
        ("reset", "network error", True),
        ("timeout", "timed out after 1 s", True),
        ("malformed", "malformed response", False),
        ("truncated", "truncated", False),
    ],
)
def test_each_error_is_one_clear_sentence(
    kind: str, sentence: str, transient: bool, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    task = "text-to-image" if kind == "truncated" else "image-to-text"
    hf_stand_in.add_fault(kind, task=task, times=None, seconds=3.0 if kind == "timeout" else None)
    name = task.replace("-", "_")
    tool = tool_named(name, max_attempts=2, timeout=1.0)
    args = {"prompt": "a sheep"} if name == "text_to_image" else {"image": "sheep.png"}
    with pytest.raises(ToolException) as info:
        tool.invoke(args)
    message = str(info.value)
    models = [m["id"] for m in hf_stand_in.models(task)[:2]]
    assert message.startswith(f"{task} failed with {models[1]}: ") and sentence in message
    assert f"also tried {models[0]}" in message and message.endswith(".") and "\n" not in message
    assert isinstance(info.value, TransientToolError) is transient
    assert [
        p for p in Path("outputs").rglob("*") if p.is_file()
    ] == []  # nothing saved, truncated media neither


def test_bad_token_does_not_fall_back(hf_stand_in: HFStandIn, workdir: Path) -> None:
    with pytest.raises(ToolException, match=r"HF token was refused \(HTTP 401\); check HF_TOKEN"):
        tool_named("image_to_text", hf_token="not-a-token").invoke({"image": "sheep.png"})
    assert len(hf_stand_in.inference_requests()) == 1  # no fallback to other models


@pytest.mark.parametrize("run", ["sync", "async"])
def test_a_full_disk_is_not_a_model_failure(
    hf_stand_in: HFStandIn, workdir: Path, small_disk: Any, run: str
) -> None:
    """The image is made once and cannot be saved: no other model is paid for, no retry, no partial file."""
    disk = small_disk(workdir / "outputs" / "images")
    disk.fill()
    tool = tool_named("text_to_image")
    with pytest.raises(OutputNotSaved) as info:
        if run == "sync":
            tool.invoke({"prompt": "three sheep"})
        else:
            asyncio.run(tool.ainvoke({"prompt": "three sheep"}))
    assert str(info.value).startswith(
        "the image could not be saved in outputs/images (No space left on device); a local problem"
    )
    assert len(hf_stand_in.inference_requests(task="text-to-image")) == 1
    assert disk.names() == []


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"image": "/etc/hostname"}, "outside the allowed folders"),
        ({"image": "../secret.png"}, "outside the allowed folders"),
        ({"image": "~/.ssh/id_rsa"}, "outside the allowed folders"),
        ({"image": "hello.flac"}, "is not an image: it is audio"),
        ({"image": "http://169.254.169.254/latest/meta-data/"}, "private, loopback or link-local"),
        ({"image": "file:///etc/passwd"}, "'file:' URLs are not accepted"),
        ({"image": "nowhere.png"}, "file not found"),
    ],
)
def test_bad_inputs_are_refused_before_sending(
    args: dict[str, Any], reason: str, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    (workdir.parent / "secret.png").write_bytes(media.make_image("a secret"))
    with pytest.raises(ToolException, match=f"image-to-text refused its input: .*{reason}"):
        tool_named("image_to_text").invoke(args)
    assert hf_stand_in.inference_requests() == []


def test_schema_refuses_absurd_values(hf_stand_in: HFStandIn, workdir: Path) -> None:
    from pydantic import ValidationError

    tool = tool_named("text_to_image")
    for bad in ({"prompt": ""}, {"prompt": "x" * 5000}, {"prompt": "a", "width": 10**6}, {"prompt": "a", "evil": 1},
                {"prompt": "a", "model": "../../etc/passwd"}):  # fmt: skip
        with pytest.raises(ValidationError):
            tool.invoke(bad)
    table = tool_named("table_question_answering")
    with pytest.raises(ToolException, match="same number of cells"):
        table.invoke({"table": {"a": ["1", "2"], "b": ["1"]}, "query": "sum of a"})
    assert hf_stand_in.inference_requests() == []


def test_public_url_input_and_private_redirect(
    hf_stand_in: HFStandIn, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def fake_dns(host: str, *args: Any, **kwargs: Any) -> Any:  # the stand-in plays these public hosts
        if host in ("images.example.com", "redirect.example.com"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    hf_stand_in.add_file("https://images.example.com/sheep.jpg", media.make_image("two sheep", fmt="JPEG"))
    message = tool_named("image_to_text").invoke(
        call(tool_named("image_to_text"), image="https://images.example.com/sheep.jpg")
    )
    assert "sheep" in message.artifact["data"]["text"]
    hf_stand_in.add_redirect("https://redirect.example.com/a.png", "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(ToolException, match="private, loopback or link-local"):
        tool_named("image_to_text").invoke({"image": "https://redirect.example.com/a.png"})


async def test_async_calls_run_in_parallel(hf_stand_in: HFStandIn, workdir: Path) -> None:
    kit = toolkit()
    tools = {t.name: t for t in kit.get_tools()}
    kit.backend.catalog.candidates("image-to-text")  # warm the model lists (cached afterwards)
    for task in ("object-detection", "image-classification", "visual-question-answering"):
        kit.backend.catalog.candidates(task)
    hf_stand_in.meet(4)
    results = await asyncio.gather(
        tools["image_to_text"].ainvoke({"image": "sheep.png"}),
        tools["object_detection"].ainvoke({"image": "sheep.png"}),
        tools["image_classification"].ainvoke({"image": "sheep.png"}),
        tools["visual_question_answering"].ainvoke({"image": "sheep.png", "question": "how many sheep?"}),
    )
    assert len(results) == 4 and hf_stand_in.together == 4  # all four were in flight at once


def test_model_list_is_cached(hf_stand_in: HFStandIn, workdir: Path) -> None:
    tool = tool_named("image_to_text")
    tool.invoke({"image": "sheep.png"})
    tool.invoke({"image": "sheep.png"})
    searches = [r for r in hf_stand_in.requests if r.path == "/api/models"]
    assert len(searches) == 1


def test_find_models(hf_stand_in: HFStandIn, workdir: Path) -> None:
    tool = tool_named("find_models")
    for task in ("text-to-image", "text_to_image"):
        message = tool.invoke(call(tool, task=task, limit=3))
        models = message.artifact["models"]
        assert [m["id"] for m in models] == [m["id"] for m in hf_stand_in.models("text-to-image")[:3]]
        assert models[0]["providers"] and models[0]["likes"] > 0 and models[0]["description"]
        assert models[0]["id"] in message.content
    video = tool.invoke(call(tool, task="text-to-video")).artifact["models"]
    assert video and all("hf-inference" not in m["providers"] for m in video)
    assert "No model is served" in tool.invoke({"task": "tabular-regression"})
    with pytest.raises(ToolException, match="unknown task 'draw-sheep'"):
        tool.invoke({"task": "draw-sheep"})
    need = tool.invoke(call(tool, task="text-to-image", need="stable diffusion xl")).artifact["models"]
    assert "stable-diffusion-xl" in need[0]["id"]
