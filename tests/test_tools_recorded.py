"""The project's tools parse REAL responses recorded from the Hugging Face router (2025).

Each case replays one cassette from tests/fixtures/hf-recorded/ through the LangChain tool (not the bare
client): the tool resolves its inputs, asks the Hub for the model's providers, calls, saves the media and
summarises. Drifted recordings (feature-extraction/sentence-similarity paths, zero-shot format) are served
in today's shape by the replay, and their cases say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from hugginggpt.tools import HFSettings, HuggingFaceToolkit
from tests.stand_ins.replay import Drift, Replay
from tests.stand_ins.replay_plugin import ReplayFactory


@dataclass(frozen=True)
class Case:
    cassette: str
    tool: str
    args: Callable[[Replay, str | None], dict[str, Any]]
    check: Callable[[str, dict[str, Any]], None]
    drift: Drift | None = None


def media_arg(name: str, **extra: Any) -> Callable[[Replay, str | None], dict[str, Any]]:
    return lambda rec, path: {name: path, **extra}


def _file(artifact: dict[str, Any], suffix: str, mime: str) -> Path:
    (made,) = [f for f in artifact["files"] if f["mime_type"] == mime]
    path = Path(made["path"])
    assert path.suffix == suffix and path.is_file() and path.stat().st_size > 0
    return path


def check_jpeg(content: str, artifact: dict[str, Any]) -> None:
    path = _file(artifact, ".jpg", "image/jpeg")
    assert path.read_bytes()[:3] == b"\xff\xd8\xff" and str(path) in content


def check_png(content: str, artifact: dict[str, Any]) -> None:
    path = _file(artifact, ".png", "image/png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and str(path) in content


def check_flac(content: str, artifact: dict[str, Any]) -> None:
    assert _file(artifact, ".flac", "audio/flac").read_bytes()[:4] == b"fLaC"


def check_detr(content: str, artifact: dict[str, Any]) -> None:
    assert artifact["data"]["count"] == 3 and artifact["data"]["counts"] == {"person": 2, "umbrella": 1}
    assert "Found 3 object(s): 2 person, 1 umbrella" in content
    assert "[59, 39, 420, 510]" in content
    _file(artifact, ".png", "image/png")  # the annotated image


def check_segments(content: str, artifact: dict[str, Any]) -> None:
    labels = {s["label"] for s in artifact["data"]["segments"]}
    assert "person" in labels and "Annotated image" in content
    _file(artifact, ".png", "image/png")


def check_text(expected: str) -> Callable[[str, dict[str, Any]], None]:
    def check(content: str, artifact: dict[str, Any]) -> None:
        assert expected in artifact["data"]["text"] and expected in content

    return check


def check_labels(top: str) -> Callable[[str, dict[str, Any]], None]:
    def check(content: str, artifact: dict[str, Any]) -> None:
        labels = artifact["data"]["labels"]
        assert labels[0]["label"] == top and labels == sorted(labels, key=lambda x: -x["score"])
        assert f"Top labels: {top}" in content

    return check


def check_answer(expected: str) -> Callable[[str, dict[str, Any]], None]:
    def check(content: str, artifact: dict[str, Any]) -> None:
        assert artifact["data"]["answers"][0]["answer"] == expected and f"Answer: {expected}" in content

    return check


def check_scores(content: str, artifact: dict[str, Any]) -> None:
    assert artifact["data"]["scores"] == [0.7786, 0.4588, 0.2906]


def check_vector(content: str, artifact: dict[str, Any]) -> None:
    assert artifact["data"]["shape"] == [1, 8, 768] and "Embedding of shape [1, 8, 768]" in content


def check_entities(content: str, artifact: dict[str, Any]) -> None:
    words = [e["word"] for e in artifact["data"]["entities"]]
    assert "Sarah Jessica Parker" in words and "Found 2 entit" in content


def check_audios(content: str, artifact: dict[str, Any]) -> None:
    assert len(artifact["files"]) == 2 and all(f["path"].endswith(".flac") for f in artifact["files"])


def recorded(key: str) -> Callable[[Replay, str | None], dict[str, Any]]:
    return lambda rec, path: {key: rec.recorded_json()["inputs"]}


def similarity_args(rec: Replay, path: str | None) -> dict[str, Any]:
    body = rec.recorded_json()
    return {"sentence": body["source_sentence"], "other_sentences": body["sentences"]}


def table_args(rec: Replay, path: str | None) -> dict[str, Any]:
    body = rec.recorded_json()
    return {"table": body["table"], "query": body["query"]}


def zero_shot_args(rec: Replay, path: str | None) -> dict[str, Any]:
    body = rec.recorded_json()
    return {"text": body["inputs"], **body["parameters"]}


CASES = [
    Case("test_audio_classification[", "audio_classification", media_arg("audio"), check_labels("male")),
    Case("test_audio_to_audio[", "audio_to_audio", media_arg("audio"), check_audios),
    Case("test_automatic_speech_recognition[hf-inference", "automatic_speech_recognition", media_arg("audio"),
         check_text("a man said to the universe sir i exist")),
    Case("test_automatic_speech_recognition[fal-ai", "automatic_speech_recognition", media_arg("audio"),
         check_text("A man said to the universe, Sir, I exist.")),
    Case("test_document_question_answering[", "document_question_answering",
         media_arg("image", question="What is the purchase amount?"), check_answer("$1,0000,000,00")),
    Case("test_feature_extraction_with_transformers[", "feature_extraction",
         lambda rec, path: {"text": "Hi, who are you?"}, check_vector, Drift.PIPELINE_PATH),
    Case("test_image_classification[", "image_classification", media_arg("image"),
         check_labels("brassiere, bra, bandeau")),
    Case("test_image_segmentation[", "image_segmentation", media_arg("image"), check_segments),
    Case("test_image_to_text[", "image_to_text", media_arg("image"),
         check_text("a woman in a hat and dress posing for a photo")),
    Case("test_object_detection[", "object_detection", media_arg("image"), check_detr),
    Case("test_sentence_similarity[", "sentence_similarity", similarity_args, check_scores, Drift.PIPELINE_PATH),
    Case("test_table_question_answering[", "table_question_answering", table_args,
         check_answer("AVERAGE > 36542")),
    Case("test_text_classification[", "text_classification", recorded("text"), check_labels("POSITIVE")),
    Case("test_text_to_image_default[hf-inference", "text_to_image",
         lambda rec, path: {"prompt": "An astronaut riding a horse on the moon."}, check_jpeg),
    Case("test_text_to_image_default[fal-ai", "text_to_image",
         lambda rec, path: {"prompt": "An astronaut riding a horse on the moon."}, check_png),
    Case("test_text_to_speech[hf-inference", "text_to_speech", lambda rec, path: {"text": "Hello world"},
         check_flac),
    Case("test_token_classification[", "token_classification", recorded("text"), check_entities),
    Case("TestInferenceClient.test_translation[", "translation", lambda rec, path: {"text": "Hello world"},
         check_text("Hallo Welt")),
    Case("test_visual_question_answering[", "visual_question_answering",
         media_arg("image", question="Who's in the picture?"), check_answer("woman")),
    Case("test_zero_shot_classification_multi_label[", "zero_shot_classification", zero_shot_args,
         check_labels("scientific discovery"), Drift.ZERO_SHOT_FORMAT),
    Case("test_zero_shot_image_classification[", "zero_shot_image_classification",
         media_arg("image", candidate_labels=["tree", "woman", "cat"]), check_labels("woman")),
]  # fmt: skip


def _input_file(rec: Replay, folder: Path) -> str | None:
    try:
        media = rec.recorded_input_media()
    except Exception:
        return None
    if media is None:
        return None
    suffix = {"image": ".img", "audio": ".snd"}.get((media.mime_type or "x/").split("/")[0], ".bin")
    path = folder / f"recorded-input{suffix}"
    path.write_bytes(bytes(media))
    return str(path)


@pytest.mark.parametrize("case", CASES, ids=[c.tool + ("-" + c.cassette.split("[")[-1] if "[" in c.cassette and c.cassette.split("[")[-1] else "") for c in CASES])  # fmt: skip
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_tool_parses_real_recording(
    case: Case, mode: str, replay: ReplayFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rec = replay(case.cassette)
    path = _input_file(rec, tmp_path)
    settings = HFSettings(provider=rec.provider, hf_token=rec.token, timeout=30, output_dir=tmp_path / "out")
    (tool,) = HuggingFaceToolkit(
        tasks=[case.tool], settings=settings, include_find_models=False, include_run_plan=False
    ).get_tools()
    call = {"name": tool.name, "args": {**case.args(rec, path), "model": rec.model}, "id": "c1",
            "type": "tool_call"}  # fmt: skip
    message = tool.invoke(call) if mode == "sync" else await tool.ainvoke(call)
    assert isinstance(message, ToolMessage) and message.status == "success", message.content
    artifact = message.artifact
    assert artifact["model"] == rec.model and artifact["provider"] == rec.provider
    assert f"Model: {rec.model} via {rec.provider}" in message.content
    for f in artifact["files"]:
        assert Path(f["path"]).resolve().is_relative_to(settings.output_dir.resolve())
    case.check(message.content, artifact)
    assert rec.inference_calls, "the tool must have called the router"
    if case.drift is not None:
        assert case.drift in rec.applied, f"this recording drifted ({case.drift}); the replay adapts it"
