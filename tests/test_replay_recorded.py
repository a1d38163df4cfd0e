"""Self-tests of the replay: every copied cassette replays through the real huggingface_hub clients and parses.

Each test calls ``InferenceClient(provider=<recorded>).<task>(<recorded inputs>, model=<recorded>)`` and checks
the parsed result against what the cassette recorded. Drifted recordings have their own test with a docstring.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import AsyncInferenceClient, HfApi, InferenceClient, constants
from huggingface_hub.errors import ValidationError
from huggingface_hub.inference._providers._common import _fetch_inference_provider_mapping
from huggingface_hub.inference._providers.hf_inference import _check_supported_task
from huggingface_hub.utils import _http, get_session

from tests.stand_ins.replay import (
    CASSETTE_DIR,
    EMPTY_HARNESS_REGISTRY,
    HUB,
    Drift,
    Replay,
    UnmatchedRequestError,
    json_strings,
    load_cassette,
    sniff,
)
from tests.stand_ins.replay_plugin import ReplayFactory

Call = Callable[[InferenceClient, Replay], Any]


def _raises(error: type[Exception], call: Callable[[], Any]) -> Exception:
    with pytest.raises(error) as info:
        call()
    return info.value


def _prompt(rec: Replay) -> str:
    body = rec.recorded_json()
    return body.get("inputs") or body.get("prompt") or body["input"]["prompt"]


def _labels(out: list[Any], n: int | None = None) -> list[tuple[str, float]]:
    return [(o.label, round(o.score, 4)) for o in out[:n]]


@dataclass(frozen=True)
class Case:
    """One cassette: how to call the client with the recorded inputs, and what the parsed result must be."""

    cassette: str
    call: Call
    extract: Callable[[Any], Any]
    expected: Any
    drifts: frozenset[Drift] = field(default_factory=frozenset)


CASES = [
    Case(
        "test_audio_classification",
        lambda c, r: c.audio_classification(r.recorded_input_media(), model=r.model),
        _labels,
        [("male", 0.9987), ("female", 0.0013)],
    ),
    Case(
        "test_audio_to_audio",
        lambda c, r: c.audio_to_audio(r.recorded_input_media(), model=r.model),
        lambda out: [(o.label, o.content_type, sniff(o.blob)) for o in out],
        [("label_0", "audio/flac", "FLAC"), ("label_1", "audio/flac", "FLAC")],
    ),
    Case(
        "test_automatic_speech_recognition[hf-inference",
        lambda c, r: c.automatic_speech_recognition(r.recorded_input_media(), model=r.model),
        lambda out: out.text,
        "a man said to the universe sir i exist",
    ),
    Case(
        "test_automatic_speech_recognition[fal-ai",
        lambda c, r: c.automatic_speech_recognition(r.recorded_input_media(), model=r.model),
        lambda out: out.text,
        " A man said to the universe, Sir, I exist.",
    ),
    Case(
        "test_document_question_answering",
        lambda c, r: c.document_question_answering(
            r.recorded_input_media(), r.recorded_json()["inputs"]["question"], model=r.model
        ),
        lambda out: [o.answer for o in out],
        ["$1,0000,000,00"],
    ),
    Case(
        "test_image_classification",
        lambda c, r: c.image_classification(r.recorded_input_media(), model=r.model),
        lambda out: _labels(out, 2),
        [("brassiere, bra, bandeau", 0.1177), ("sombrero", 0.0957)],
    ),
    Case(
        "test_image_segmentation",
        lambda c, r: c.image_segmentation(r.recorded_input_media(), model=r.model),
        lambda out: [(o.label, o.mask.format, o.mask.size, o.mask.mode) for o in out],
        [("LABEL_199", "PNG", (512, 512), "L"), ("person", "PNG", (512, 512), "L")],
    ),
    Case(
        "test_image_to_text",
        lambda c, r: c.image_to_text(r.recorded_input_media(), model=r.model),
        lambda out: out.generated_text,
        "a woman in a hat and dress posing for a photo",
    ),
    Case(
        "test_object_detection",
        lambda c, r: c.object_detection(r.recorded_input_media(), model=r.model),
        lambda out: [(o.label, o.box.xmin, o.box.ymin, o.box.xmax, o.box.ymax) for o in out],
        [("person", 59, 39, 420, 510), ("umbrella", 143, 4, 510, 387), ("person", 60, 162, 413, 510)],
    ),
    Case(
        "test_summarization",
        lambda c, r: c.summarization(r.recorded_json()["inputs"], model=r.model),
        lambda out: (out.summary_text[:15], len(out.summary_text)),
        (" eloqu eloqu el", 905),
    ),
    Case(
        "test_table_question_answering",
        lambda c, r: c.table_question_answering(
            r.recorded_json()["table"], r.recorded_json()["query"], model=r.model
        ),
        lambda out: (out.answer, out.cells, out.coordinates, out.aggregator),
        ("AVERAGE > 36542", ["36542"], [[0, 1]], "AVERAGE"),
    ),
    Case(
        "test_text_classification",
        lambda c, r: c.text_classification(r.recorded_json()["inputs"], model=r.model),
        _labels,
        [("POSITIVE", 0.9999), ("NEGATIVE", 0.0001)],
    ),
    Case(
        "test_text_to_image_default[hf-inference",
        lambda c, r: c.text_to_image(_prompt(r), model=r.model),
        lambda image: (image.format, image.size),
        ("JPEG", (512, 512)),
    ),
    Case(
        "test_text_to_image_default[fal-ai",
        lambda c, r: c.text_to_image(_prompt(r), model=r.model),
        lambda image: (image.format, image.size),
        ("PNG", (1024, 768)),
    ),
    Case(
        "test_text_to_image_default[replicate",
        lambda c, r: c.text_to_image(_prompt(r), model=r.model),
        lambda image: (image.format, image.size),
        ("PNG", (1024, 1024)),
    ),
    Case(
        "test_text_to_image_default[together",
        lambda c, r: c.text_to_image(_prompt(r), model=r.model),
        lambda image: (image.format, image.size),
        ("JPEG", (1024, 1024)),
    ),
    Case(
        "test_text_to_speech[hf-inference",
        lambda c, r: c.text_to_speech(r.recorded_json()["inputs"], model=r.model),
        lambda audio: (audio[:4], sniff(audio), len(audio)),
        (b"fLaC", "FLAC", 52835),
    ),
    Case(
        "test_token_classification",
        lambda c, r: c.token_classification(r.recorded_json()["inputs"], model=r.model),
        lambda out: [(o.entity_group, o.word, o.start, o.end) for o in out],
        [("PER", "Sarah Jessica Parker", 11, 31), ("PER", "Jessica", 52, 59)],
    ),
    Case(
        "test_translation[",
        lambda c, r: c.translation(r.recorded_json()["inputs"], model=r.model),
        lambda out: out.translation_text,
        "Hallo Welt",
    ),
    Case(
        "test_translation_with_source_and_target_language",
        lambda c, r: c.translation(
            r.recorded_json()["inputs"], model=r.model, src_lang="en_XX", tgt_lang="fr_XX"
        ),
        lambda out: out.translation_text,
        "Hello world",  # recorded as is: mbart answered with the input untranslated
    ),
    Case(
        "test_visual_question_answering",
        lambda c, r: c.visual_question_answering(
            r.recorded_input_media(), r.recorded_json()["question"], model=r.model
        ),
        lambda out: [(o.answer, round(o.score, 4)) for o in out[:2]],
        [("woman", 0.9387), ("girl", 0.3431)],
    ),
    Case(
        "test_zero_shot_image_classification",
        lambda c, r: c.zero_shot_image_classification(
            r.recorded_input_media(), r.recorded_json()["parameters"]["candidate_labels"], model=r.model
        ),
        lambda out: [o.label for o in out],
        ["woman", "cat", "tree"],
    ),
    Case(
        "test_generate_no_details",
        lambda c, r: c.text_generation("test", model=r.model, max_new_tokens=1),
        lambda text: text,
        "",  # recorded as is: flan-t5-xxl generated an empty string
    ),
    Case(
        "test_generate_with_details",
        lambda c, r: c.text_generation(
            "test", model=r.model, max_new_tokens=1, details=True, decoder_input_details=True
        ),
        lambda out: (
            out.details.finish_reason,
            out.details.generated_tokens,
            [t.text for t in out.details.tokens],
        ),
        ("length", 1, [" "]),
    ),
    Case(
        "test_generate_validation_error",
        lambda c, r: _raises(
            ValidationError, lambda: c.text_generation("test", model=r.model, max_new_tokens=10000)
        ),
        lambda error: "`inputs` tokens + `max_new_tokens` must be <= 1512" in str(error),
        True,
    ),
]


def _check_sent_recorded_inputs(rec: Replay) -> None:
    """What the client sent carries the recorded inputs: same bytes, or every recorded JSON string."""
    recorded, sent = rec.request.body, rec.inference_calls[0].body
    try:
        recorded_json = json.loads(recorded)
    except ValueError:
        assert sent == recorded
        return
    assert set(json_strings(recorded_json)) <= set(json_strings(json.loads(sent)))


def _replay_and_check(replay: ReplayFactory, case: Case) -> Replay:
    rec = replay(case.cassette)
    client = InferenceClient(provider=rec.provider, token=rec.token, timeout=30)  # type: ignore[arg-type]
    assert case.extract(case.call(client, rec)) == case.expected
    assert rec.inference_calls, "the inference call was not served from the cassette"
    assert rec.applied == case.drifts
    _check_sent_recorded_inputs(rec)
    return rec


@pytest.mark.parametrize(
    "case", CASES, ids=lambda case: case.cassette.removeprefix("test_").replace("[", "-").strip("-")
)
def test_recorded_task_replays(replay: ReplayFactory, case: Case) -> None:
    _replay_and_check(replay, case)


@pytest.mark.parametrize("cassette", ["with_sentence_transformers", "with_transformers"])
def test_feature_extraction_drifted_path(replay: ReplayFactory, cassette: str) -> None:
    """Drifted: recorded at /hf-inference/pipeline/feature-extraction/{model}; served at today's
    /hf-inference/models/{model}/pipeline/feature-extraction with the recorded body (``pipeline-path``)."""
    case = Case(
        f"test_feature_extraction_{cassette}",
        lambda c, r: c.feature_extraction(r.recorded_json()["inputs"], model=r.model),
        lambda out: (out.shape, round(float(out[0, 0, 0]), 4)),
        ((1, 8, 768), 2.4248),
        frozenset({Drift.PIPELINE_PATH}),
    )
    rec = _replay_and_check(replay, case)
    assert rec.inference_calls[0].url.endswith("/models/facebook/bart-base/pipeline/feature-extraction")


def test_sentence_similarity_drifted_path(replay: ReplayFactory) -> None:
    """Drifted: recorded at /hf-inference/pipeline/sentence-similarity/{model}; served at today's
    /hf-inference/models/{model}/pipeline/sentence-similarity with the recorded body (``pipeline-path``)."""
    case = Case(
        "test_sentence_similarity[",
        lambda c, r: c.sentence_similarity(
            r.recorded_json()["source_sentence"], r.recorded_json()["sentences"], model=r.model
        ),
        lambda scores: [round(s, 4) for s in scores],
        [0.7786, 0.4588, 0.2906],
        frozenset({Drift.PIPELINE_PATH}),
    )
    _replay_and_check(replay, case)


@pytest.mark.parametrize(
    ("cassette", "expected"),
    [
        ("multi_label", [("scientific discovery", 0.9829), ("space & cosmos", 0.7552)]),
        ("single_label", [("scientific discovery", 0.7962), ("space & cosmos", 0.1857)]),
    ],
)
def test_zero_shot_classification_drifted_format(
    replay: ReplayFactory, cassette: str, expected: list[tuple[str, float]]
) -> None:
    """Drifted: recorded in the old {sequence, labels, scores} format; served in today's [{label, score}] with the
    recorded values (``zero-shot-format``)."""
    case = Case(
        f"test_zero_shot_classification_{cassette}",
        lambda c, r: c.zero_shot_classification(
            r.recorded_json()["inputs"], **r.recorded_json()["parameters"], model=r.model
        ),
        lambda out: _labels(out, 2),
        expected,
        frozenset({Drift.ZERO_SHOT_FORMAT}),
    )
    _replay_and_check(replay, case)


def test_zero_shot_classification_recorded_format_fails_today(replay: ReplayFactory) -> None:
    """Drift signal: the body exactly as recorded no longer parses with huggingface_hub 2.4.0."""
    rec = replay("test_zero_shot_classification_multi_label", zero_shot="recorded")
    body = rec.recorded_json()
    client = InferenceClient(provider=rec.provider, token=rec.token)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected a list"):
        client.zero_shot_classification(body["inputs"], **body["parameters"], model=rec.model)
    assert rec.applied == set()


def test_replicate_text_to_speech_recorded_cold_start(replay: ReplayFactory) -> None:
    """Drifted: recorded straight to api.replicate.com with a Replicate key and no Hub look-up; served at the
    router URL a hf_ token uses today (``provider-host``), with a synthesized provider mapping
    (``mapping-synthesized``). The recorded answer is a cold start (202, ``output: null``): the client raises."""
    rec = replay("test_text_to_speech[replicate")
    client = InferenceClient(provider=rec.provider, token=rec.token)  # type: ignore[arg-type]
    with pytest.raises(TimeoutError, match="No output generated for model jaaari/kokoro-82m"):
        client.text_to_speech(rec.recorded_json()["input"]["text"], model=rec.model)
    assert rec.applied == {Drift.PROVIDER_HOST, Drift.MAPPING_SYNTHESIZED}
    assert rec.inference_calls[0].url == "https://router.huggingface.co/replicate/v1/predictions"
    _check_sent_recorded_inputs(rec)


async def test_async_sentence_similarity_drifted_path(replay: ReplayFactory) -> None:
    """Drifted (``pipeline-path``), async client. Its request body was not recorded: the inputs are those of the
    sync recording, which answered the same scores."""
    rec = replay("test_async_sentence_similarity")
    body = load_cassette("test_sentence_similarity[").recorded_json()
    async with AsyncInferenceClient(provider=rec.provider, token=rec.token) as client:  # type: ignore[arg-type]
        scores = await client.sentence_similarity(body["source_sentence"], body["sentences"], model=rec.model)
    assert [round(s, 4) for s in scores] == [0.7786, 0.4588, 0.2906]
    assert rec.applied == {Drift.PIPELINE_PATH}


async def test_async_generate_no_details(replay: ReplayFactory) -> None:
    rec = replay("test_async_generate_no_details")
    async with AsyncInferenceClient(provider=rec.provider, token=rec.token) as client:  # type: ignore[arg-type]
        assert await client.text_generation("test", model=rec.model, max_new_tokens=1) == "."


async def test_async_object_detection(replay: ReplayFactory) -> None:
    rec = replay("test_object_detection")
    async with AsyncInferenceClient(provider=rec.provider, token=rec.token, timeout=30) as client:  # type: ignore[arg-type]
        boxes = await client.object_detection(rec.recorded_input_media(), model=rec.model)
    assert [(b.label, b.box.xmin) for b in boxes] == [("person", 59), ("umbrella", 143), ("person", 60)]


async def test_async_text_to_image_is_recorded_jpeg(replay: ReplayFactory) -> None:
    rec = replay("test_text_to_image_default[hf-inference")
    async with AsyncInferenceClient(provider=rec.provider, token=rec.token) as client:  # type: ignore[arg-type]
        image = await client.text_to_image(_prompt(rec), model=rec.model)
    assert (image.format, image.size, sniff(rec.media_bytes())) == ("JPEG", (512, 512), "JPEG")


def test_every_copied_cassette_is_exercised() -> None:
    drifted = [
        "feature_extraction_with",
        "test_sentence_similarity[",
        "zero_shot_classification_",
        "speech[replicate",
    ]
    covered = [case.cassette for case in CASES] + drifted + ["test_async_sentence", "test_async_generate_no"]
    stems = {p.stem for p in CASSETTE_DIR.glob("*.yaml")}
    assert {s for s in stems if not any(part in s for part in covered)} == set()


def test_model_info_with_expand_is_answered(replay: ReplayFactory) -> None:
    """Tools ask for the provider mapping first: recorded when it was, composed/synthesized otherwise."""
    fal = replay("test_text_to_image_default[fal-ai")
    mapping = HfApi().model_info(fal.model, expand=["inferenceProviderMapping"]).inference_provider_mapping
    assert {m.provider: m.provider_id for m in mapping or []}["fal-ai"] == "fal-ai/flux/dev"
    assert fal.applied == set()
    t5 = replay("test_translation[")
    info = HfApi().model_info(t5.model, expand=["inferenceProviderMapping", "pipeline_tag"])
    assert (info.id, info.pipeline_tag) == ("google-t5/t5-small", "translation")
    assert [(m.provider, m.status, m.task) for m in info.inference_provider_mapping or []] == [
        ("hf-inference", "live", "translation")
    ]
    assert Drift.MAPPING_SYNTHESIZED in t5.applied


def test_model_search_lists_the_recorded_models(replay: ReplayFactory) -> None:
    """``list_models`` was never recorded: it is synthesized from the loaded cassettes, for the asked task."""
    rec = replay("test_object_detection", "test_image_to_text", "test_text_to_image_default[fal-ai")
    expand = ["inferenceProviderMapping", "likes", "pipeline_tag", "tags"]
    found = HfApi().list_models(pipeline_tag="object-detection", inference_provider="all", expand=expand)  # type: ignore[arg-type]
    assert [(m.id, m.pipeline_tag, m.likes) for m in found] == [(rec.model, "object-detection", 837)]
    t2i = HfApi().list_models(pipeline_tag="text-to-image", expand=["inferenceProviderMapping"])  # type: ignore[list-item]
    assert [m.provider for info in t2i for m in info.inference_provider_mapping or []][:2] == [
        "fal-ai",
        "replicate",
    ]
    assert rec.applied == {Drift.SEARCH_SYNTHESIZED}


def test_independent_tasks_replay_at_once(replay: ReplayFactory) -> None:
    rec = replay("test_object_detection", "test_image_to_text")
    client = InferenceClient(provider="hf-inference", token=rec.token)
    image = rec.recorded_input_media()
    with ThreadPoolExecutor(2) as pool:
        boxes = pool.submit(client.object_detection, image, model=rec.model)
        caption = pool.submit(client.image_to_text, image, model=rec.cassettes[1].model)
        assert (len(boxes.result()), caption.result().generated_text[:7]) == (3, "a woman")


def test_sandbox_is_installed_and_removed(tmp_path: Path) -> None:
    factories = _http._GLOBAL_CLIENT_FACTORY, _http._GLOBAL_ASYNC_CLIENT_FACTORY
    with Replay(("test_text_classification",), home=tmp_path) as rec:
        assert (os.environ["HF_HOME"], os.environ["HF_TOKEN"][:3]) == (str(tmp_path), "hf_")
        assert Path(constants.AGENT_HARNESSES_PATH).parent == tmp_path
        assert get_session().get(f"{HUB}/api/agent-harnesses").json() == EMPTY_HARNESS_REGISTRY
        client = InferenceClient(provider="hf-inference", token=rec.token)
        client.text_classification("I like you", model=rec.model)
        assert _check_supported_task.cache_info().currsize == 1
    assert factories == (_http._GLOBAL_CLIENT_FACTORY, _http._GLOBAL_ASYNC_CLIENT_FACTORY)
    assert (
        _check_supported_task.cache_info().currsize
        == _fetch_inference_provider_mapping.cache_info().currsize
        == 0
    )


def test_unmatched_request_fails_loudly(tmp_path: Path) -> None:
    rec = Replay(("test_text_classification",), home=tmp_path).start()
    try:
        with pytest.raises(
            UnmatchedRequestError, match=f"nothing recorded for GET {HUB}/api/models/nobody/nothing"
        ):
            HfApi().model_info("nobody/nothing")
        with contextlib.suppress(Exception):  # code under test that swallows the error is still caught
            InferenceClient(provider="hf-inference", token=rec.token).text_classification(
                "hi", model="nobody/else"
            )
    finally:
        rec.stop()
    assert len(rec.unmatched) == 2
    with pytest.raises(UnmatchedRequestError, match="nobody/else"):
        rec.check()
