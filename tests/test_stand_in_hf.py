"""Self-tests of the HF stand-in, through the real huggingface_hub clients (sync and async)."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx2
import numpy as np
import pytest
from huggingface_hub import AsyncInferenceClient, HfApi, InferenceClient
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    InferenceTimeoutError,
    RepositoryNotFoundError,
    ValidationError,
)
from PIL import Image

from tests.stand_ins import media
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.hf_catalog import DEFAULT_CATALOG
from tests.stand_ins.hf_faults import FAULT_KINDS

IMAGE = media.make_image("three sheep grazing in a field")
PHOTO_JPEG = media.make_image("a dog and two cats", fmt="JPEG")
SPEECH = media.make_audio("turn on the kitchen lights")
DOCUMENT = media.make_document()
TABLE = {"Repository": ["Transformers", "Datasets", "Tokenizers"], "Stars": ["36542", "4512", "3934"]}
WINE = {"fixed_acidity": ["7.4", "7.8"], "alcohol": ["9.4", "9.8"]}
EXPAND = ["inferenceProviderMapping", "likes", "downloads", "pipeline_tag", "library_name", "tags"]


def _is_image(result: Any) -> bool:
    return isinstance(result, Image.Image) and result.size[0] > 0 and result.load() is not None


# method -> (task, kwargs, check): called on the top-liked model of the task with provider="auto".
CASES: dict[str, tuple[str, dict[str, Any], Callable[[Any], bool]]] = {
    "audio_classification": ("audio-classification", {"audio": SPEECH}, lambda r: r[0].label == "Speech"),
    "audio_to_audio": (
        "audio-to-audio",
        {"audio": SPEECH},
        lambda r: (
            r[0].blob[:4] == b"fLaC" and media.read_marker(r[0].blob)["text"] == "turn on the kitchen lights"
        ),
    ),
    "automatic_speech_recognition": (
        "automatic-speech-recognition",
        {"audio": SPEECH},
        lambda r: r.text == "turn on the kitchen lights",
    ),
    "document_question_answering": (
        "document-question-answering",
        {"image": DOCUMENT, "question": "What is the total?"},
        lambda r: r[0].answer == "$1,234.00" and r[0].start >= 0,
    ),
    "feature_extraction": (
        "feature-extraction",
        {"text": "Hi, who are you?"},
        lambda r: r.shape == (1, 1024),
    ),
    "fill_mask": (
        "fill-mask",
        {"text": "The capital of France is [MASK]."},
        lambda r: r[0].token_str == "paris" and "paris" in r[0].sequence,
    ),
    "image_classification": ("image-classification", {"image": IMAGE}, lambda r: r[0].label == "sheep"),
    "image_segmentation": (
        "image-segmentation",
        {"image": IMAGE},
        lambda r: [s.label for s in r].count("sheep") == 3 and r[0].mask.size == (256, 256),
    ),
    "image_to_image": ("image-to-image", {"image": IMAGE, "prompt": "make it winter"}, _is_image),
    "image_to_text": (
        "image-to-text",
        {"image": IMAGE},
        lambda r: r.generated_text == "a picture of three sheep grazing in a field",
    ),
    "image_to_video": (
        "image-to-video",
        {"image": IMAGE, "prompt": "the sheep walk away"},
        lambda r: r[4:8] == b"ftyp" and "sheep" in media.read_marker(r)["prompt"],
    ),
    "object_detection": (
        "object-detection",
        {"image": IMAGE},
        lambda r: [d.label for d in r] == ["sheep"] * 3 and r[0].box.xmax > r[0].box.xmin,
    ),
    "question_answering": (
        "question-answering",
        {"question": "What is the capital of France?", "context": "Paris is the capital of France."},
        lambda r: r.answer == "Paris" and (r.start, r.end) == (0, 5),
    ),
    "sentence_similarity": (
        "sentence-similarity",
        {"sentence": "a dog runs in the park", "other_sentences": ["a dog runs in the garden", "tax forms"]},
        lambda r: len(r) == 2 and r[0] > r[1],
    ),
    "summarization": (
        "summarization",
        {"text": "The tower is 324 metres tall. It was built in 1889 for the World's Fair."},
        lambda r: r.summary_text == "The tower is 324 metres tall.",
    ),
    "table_question_answering": (
        "table-question-answering",
        {"table": TABLE, "query": "How many stars does the transformers repository have?"},
        lambda r: r.answer == "36542" and r.coordinates == [[0, 1]],
    ),
    "tabular_classification": ("tabular-classification", {"table": WINE}, lambda r: len(r) == 2),
    "text_classification": (
        "text-classification",
        {"text": "I love this movie, it is great"},
        lambda r: r[0].label == "POSITIVE" and abs(sum(x.score for x in r) - 1) < 1e-3,
    ),
    "text_generation": (
        "text-generation",
        {"prompt": "Once upon a time", "max_new_tokens": 5},
        lambda r: isinstance(r, str) and len(r.split()) == 5,
    ),
    "text_to_image": ("text-to-image", {"prompt": "two horses on a beach"}, _is_image),
    "text_to_speech": (
        "text-to-speech",
        {"text": "good morning"},
        lambda r: (
            media.sniff(r) in ("audio/flac", "audio/wav") and media.read_marker(r)["text"] == "good morning"
        ),
    ),
    "text_to_video": ("text-to-video", {"prompt": "a cat playing"}, lambda r: r[4:8] == b"ftyp"),
    "token_classification": (
        "token-classification",
        {"text": "My name is Sarah Jessica Parker and I live in London"},
        lambda r: (
            [(e.entity_group, e.word) for e in r] == [("PER", "Sarah Jessica Parker"), ("LOC", "London")]
        ),
    ),
    "translation": ("translation", {"text": "Hello world"}, lambda r: r.translation_text == "Bonjour monde"),
    "visual_question_answering": (
        "visual-question-answering",
        {"image": IMAGE, "question": "How many sheep are there?"},
        lambda r: r[0].answer == "3",
    ),
    "zero_shot_classification": (
        "zero-shot-classification",
        {"text": "The match ended with a late goal", "candidate_labels": ["sports", "politics", "goal"]},
        lambda r: r[0].label == "goal" and abs(sum(x.score for x in r) - 1) < 1e-3,
    ),
    "zero_shot_image_classification": (
        "zero-shot-image-classification",
        {"image": IMAGE, "candidate_labels": ["a photo of sheep", "a photo of a car"]},
        lambda r: r[0].label == "a photo of sheep",
    ),
}


@pytest.fixture
def client(hf_stand_in: HFStandIn) -> InferenceClient:
    return InferenceClient(provider="auto", timeout=10)


def test_cases_cover_every_task_method() -> None:
    skipped = {"chat_completion", "chat", "tabular_regression", "get_endpoint_info", "health_check", "close"}
    methods = {
        n for n in vars(InferenceClient) if not n.startswith("_") and callable(getattr(InferenceClient, n))
    }
    assert methods - skipped == set(CASES)


@pytest.mark.parametrize("method", sorted(CASES))
def test_sync_client_parses_every_task(hf_stand_in: HFStandIn, client: InferenceClient, method: str) -> None:
    task, kwargs, check = CASES[method]
    top = hf_stand_in.models(task)[0]["id"]
    result = getattr(client, method)(**kwargs, model=top)
    assert check(result), result
    sent = hf_stand_in.inference_requests(task=task)
    assert sent and sent[0].model == top and sent[0].headers["authorization"].startswith("Bearer hf_")


@pytest.mark.parametrize("method", sorted(CASES))
async def test_async_client_parses_every_task(hf_stand_in: HFStandIn, method: str) -> None:
    task, kwargs, check = CASES[method]
    async with AsyncInferenceClient(provider="auto", timeout=10) as client:
        result = await getattr(client, method)(**kwargs, model=hf_stand_in.models(task)[0]["id"])
    assert check(result), result


@pytest.mark.parametrize(
    "method",
    [
        "object_detection",
        "text_classification",
        "feature_extraction",
        "sentence_similarity",
        "text_to_speech",
    ],
)
def test_hf_inference_provider_and_recommended_model(hf_stand_in: HFStandIn, method: str) -> None:
    task, kwargs, check = CASES[method]
    result = getattr(InferenceClient(provider="hf-inference", timeout=10), method)(**kwargs)
    assert check(result)
    (sent,) = hf_stand_in.inference_requests()
    assert sent.model == hf_stand_in.models(task, "hf-inference")[0]["id"]
    pipeline = task in ("feature-extraction", "sentence-similarity")
    assert sent.path.endswith(f"/pipeline/{task}") == pipeline
    assert any(r.path == "/api/tasks" for r in hf_stand_in.requests)


def test_binary_inputs_go_raw_or_base64(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    client.image_classification(PHOTO_JPEG, model="google/vit-base-patch16-224")
    client.image_classification(PHOTO_JPEG, model="google/vit-base-patch16-224", top_k=2)
    raw, wrapped = hf_stand_in.inference_requests()
    assert raw.body == PHOTO_JPEG
    assert wrapped.headers["content-type"] == "application/json"
    assert wrapped.json()["parameters"] == {"top_k": 2}


def test_media_formats_vary_so_clients_must_sniff(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    assert client.text_to_image("a cat", model="black-forest-labs/FLUX.1-dev").format == "JPEG"
    assert client.text_to_image("a cat", model="stabilityai/stable-diffusion-xl-base-1.0").format == "PNG"
    assert client.text_to_speech("hi", model="suno/bark-small")[:4] == b"RIFF"
    assert client.text_to_speech("hi", model="espnet/kan-bayashi_ljspeech_vits")[:4] == b"fLaC"
    assert all(
        r.headers["accept"] == "image/png" for r in hf_stand_in.inference_requests(task="text-to-image")
    )


def test_generated_image_stays_recognisable_after_a_pil_round_trip(
    hf_stand_in: HFStandIn, client: InferenceClient
) -> None:
    image = client.text_to_image("three sheep and a dog in a field", model="black-forest-labs/FLUX.1-dev")
    assert image.format == "JPEG"
    saved = io.BytesIO()
    image.save(saved, "PNG")  # what a tool saving the result to a file does: the JPEG comment is gone
    labels = [d.label for d in client.object_detection(saved.getvalue(), model="facebook/detr-resnet-50")]
    assert sorted(labels) == ["dog", "sheep", "sheep", "sheep"]
    answer = client.visual_question_answering(
        saved.getvalue(), "How many sheep?", model="Salesforce/blip-vqa-base"
    )
    assert answer[0].answer == "3"


def test_second_providers_fal_and_replicate(hf_stand_in: HFStandIn) -> None:
    fal, replicate = InferenceClient(provider="fal-ai"), InferenceClient(provider="replicate")
    assert fal.text_to_image("a red car", model="black-forest-labs/FLUX.1-dev").size == (256, 256)
    assert replicate.text_to_image("a red car", model="black-forest-labs/FLUX.1-dev").size == (256, 256)
    assert fal.automatic_speech_recognition(SPEECH, model="openai/whisper-large-v3").text == (
        "turn on the kitchen lights"
    )
    assert replicate.text_to_video("waves", model="Wan-AI/Wan2.1-T2V-14B")[4:8] == b"ftyp"
    hosts = {r.host for r in hf_stand_in.requests}
    assert {"v3.fal.media", "replicate.delivery", "router.huggingface.co", "huggingface.co"} <= hosts
    assert [r.path for r in hf_stand_in.inference_requests(provider="fal-ai")] == [
        "/fal-ai/fal-ai/flux/dev",
        "/fal-ai/fal-ai/whisper",
    ]


def test_fal_queue_flow_for_video(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    hf_stand_in.fal.polls_before_done = 2
    video = client.image_to_video(IMAGE, model="Lightricks/LTX-Video-0.9.7-dev")
    assert media.read_marker(video)["kind"] == "video"
    paths = [(r.method, r.host, r.path) for r in hf_stand_in.requests if r.host != "huggingface.co"]
    submit, poll1, poll2, result, download = paths
    assert submit == ("POST", "router.huggingface.co", "/fal-ai/fal-ai/ltx-video-13b-dev/image-to-video")
    assert poll1[2].startswith("/fal-ai/fal-ai/ltx-video-13b-dev/requests/") and poll1[2].endswith("/status")
    assert poll2 == poll1 and result[2] == poll1[2].removesuffix("/status")
    assert download[1] == "v3.fal.media"
    assert hf_stand_in.requests[-4].query == {"_subdomain": ["queue"]}


def test_public_url_inputs_and_redirects(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    hf_stand_in.add_file("https://images.example.com/sheep.png", IMAGE)
    hf_stand_in.add_redirect("https://images.example.com/old.png", "https://images.example.com/sheep.png")
    for url in ("https://images.example.com/sheep.png", "https://images.example.com/old.png"):
        assert client.object_detection(url, model="facebook/detr-resnet-50")[0].label == "sheep"
    assert client.image_to_video("https://images.example.com/sheep.png", model="Wan-AI/Wan2.1-I2V-14B-720P")
    assert (
        hf_stand_in.inference_requests(provider="fal-ai")[0].json()["image_url"].startswith("https://images.")
    )
    with pytest.raises(HfHubHTTPError) as error:
        client.image_to_video("https://images.example.com/missing.png", model="Wan-AI/Wan2.1-I2V-14B-720P")
    assert error.value.response.status_code == 422 and "Failed to download" in str(error.value)


def test_text_generation_details_stream_and_validation(
    hf_stand_in: HFStandIn, client: InferenceClient
) -> None:
    model = "openai-community/gpt2"
    out = client.text_generation("Once upon a time", model=model, details=True, max_new_tokens=4)
    assert out.details.generated_tokens == 4 and out.details.finish_reason == "length"
    assert (
        "".join(client.text_generation("Once upon a time", model=model, stream=True, max_new_tokens=3))
        == (out.generated_text.rsplit(" ", 1)[0])
    )
    with pytest.raises(ValidationError):
        client.text_generation("hi", model=model, max_new_tokens=100_000)
    assert hf_stand_in.inference_requests()[0].json()["parameters"]["details"] is True


def test_input_validation_errors(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    with pytest.raises(BadRequestError, match="No mask_token"):
        client.fill_mask("no mask here", model="FacebookAI/roberta-base")
    with pytest.raises(HfHubHTTPError) as error:
        client.zero_shot_classification("text", candidate_labels=[], model="facebook/bart-large-mnli")
    assert error.value.response.status_code == 422
    with pytest.raises(BadRequestError, match="cannot identify image"):
        client.object_detection(b"not an image", model="facebook/detr-resnet-50")
    with pytest.raises(BadRequestError, match="Malformed soundfile"):
        client.automatic_speech_recognition(b"not audio", model="openai/whisper-large-v3")


def test_tabular_regression_has_no_live_provider(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    api = HfApi()
    assert list(api.list_models(pipeline_tag="tabular-regression", inference_provider="all")) == []
    models = list(api.list_models(pipeline_tag="tabular-regression", expand=EXPAND))
    assert len(models) == 3 and all(m.inference_provider_mapping == [] for m in models)
    with pytest.raises(StopIteration):  # the client takes the first of an empty mapping list
        client.tabular_regression(WINE, model=models[0].id)
    with pytest.raises(ValueError, match="not supported for provider 'hf-inference'"):
        InferenceClient(provider="hf-inference").tabular_regression(WINE, model=models[0].id)
    assert hf_stand_in.inference_requests() == []


def test_list_models_like_the_hub(hf_stand_in: HFStandIn) -> None:
    api = HfApi()
    found = list(
        api.list_models(
            pipeline_tag="text-to-image", inference_provider="all", sort="likes", limit=3, expand=EXPAND
        )
    )
    assert [m.id for m in found] == [m["id"] for m in DEFAULT_CATALOG["text-to-image"][:3]]
    flux = found[0]
    assert flux.likes > found[1].likes and flux.library_name == "diffusers" and "flux" in flux.tags
    assert [(p.provider, p.status) for p in flux.inference_provider_mapping] == [
        ("hf-inference", "live"),
        ("fal-ai", "live"),
        ("replicate", "live"),
    ]
    raw = hf_stand_in.requests[-1]
    assert raw.query["expand"] == EXPAND and raw.query["inference_provider"] == ["all"]
    video = list(api.list_models(pipeline_tag="text-to-video", inference_provider="hf-inference"))
    assert video == []
    fal_video = list(
        api.list_models(pipeline_tag="text-to-video", inference_provider="fal-ai", search="video")
    )
    assert {m.id for m in fal_video} == {"tencent/HunyuanVideo", "Lightricks/LTX-Video"}
    assert (
        next(m.id for m in api.list_models(filter="whisper", sort="downloads")) == "openai/whisper-large-v3"
    )


def test_model_info_like_the_hub(hf_stand_in: HFStandIn) -> None:
    api = HfApi()
    info = api.model_info("black-forest-labs/FLUX.1-dev", expand=["inferenceProviderMapping"])
    assert {p.provider: p.provider_id for p in info.inference_provider_mapping}["fal-ai"] == "fal-ai/flux/dev"
    assert json.loads(hf_stand_in.requests[-1].body or b"{}") == {}
    full = api.model_info("facebook/detr-resnet-50")
    assert full.pipeline_tag == "object-detection" and full.likes == 837 and full.siblings
    assert full.inference_provider_mapping is None and full.inference == "warm"
    assert api.model_info("t5-small").id == "google-t5/t5-small"  # 307 redirect, followed
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody/no-such-model")


def test_catalog_shape() -> None:
    client_tasks = {task for task, _, _ in CASES.values()} | {"tabular-regression"}
    assert set(DEFAULT_CATALOG) == client_tasks and len(client_tasks) == 28
    for task, models in DEFAULT_CATALOG.items():
        assert len(models) >= 3, task
        assert [m["likes"] for m in models] == sorted((m["likes"] for m in models), reverse=True)
        providers = {p for m in models for p in m["inferenceProviderMapping"]}
        if task in ("text-to-video", "image-to-video"):
            assert "hf-inference" not in providers and "fal-ai" in providers
        elif task == "tabular-regression":
            assert providers == set()
        else:
            assert models[0]["inferenceProviderMapping"]["hf-inference"]["status"] == "live", task
    assert sum(len(m["inferenceProviderMapping"]) > 1 for ms in DEFAULT_CATALOG.values() for m in ms) >= 5


def test_catalog_is_mutable_and_reset(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    hf_stand_in.set_mapping("facebook/detr-resnet-50", "hf-inference", status="error")
    with pytest.raises(HfHubHTTPError) as error:
        client.object_detection(IMAGE, model="facebook/detr-resnet-50")
    assert error.value.response.status_code == 503
    hf_stand_in.add_model("object-detection", "acme/sheep-detector", likes=10_000)
    assert hf_stand_in.models("object-detection", "hf-inference")[0]["id"] == "acme/sheep-detector"
    assert client.object_detection(IMAGE, model="acme/sheep-detector")
    hf_stand_in.reset()
    assert hf_stand_in.model("acme/sheep-detector") is None
    assert (
        hf_stand_in.model("facebook/detr-resnet-50")["inferenceProviderMapping"]["hf-inference"]["status"]
        == "live"
    )


def _status(error: BaseException) -> int | None:
    return error.response.status_code if isinstance(error, HfHubHTTPError) else None


# kind -> (task method, kwargs, exception type, HTTP status or None)
FAULTS: dict[str, tuple[str, dict[str, Any], type[BaseException], int | None]] = {
    "loading": ("text_classification", {"text": "hi"}, HfHubHTTPError, 503),
    "rate_limit": ("text_classification", {"text": "hi"}, HfHubHTTPError, 429),
    "not_found": ("text_classification", {"text": "hi"}, HfHubHTTPError, 404),
    "server_error": ("text_classification", {"text": "hi"}, HfHubHTTPError, 500),
    "bad_gateway": ("text_classification", {"text": "hi"}, HfHubHTTPError, 502),
    "reset": ("text_classification", {"text": "hi"}, httpx2.RemoteProtocolError, None),
    "timeout": ("text_classification", {"text": "hi"}, InferenceTimeoutError, None),
    "malformed": ("text_classification", {"text": "hi"}, json.JSONDecodeError, None),
    "truncated": ("text_to_image", {"prompt": "a cat"}, OSError, None),
    "dead_provider": ("text_to_video", {"prompt": "a cat"}, HfHubHTTPError, 502),
}


def test_every_fault_kind_is_tested() -> None:
    assert set(FAULTS) == set(FAULT_KINDS)


def _fault_model(method: str, stand_in: HFStandIn) -> str:
    task = {"text_classification": "text-classification", "text_to_image": "text-to-image"}.get(
        method, "text-to-video"
    )
    return stand_in.models(task)[0]["id"]


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_faults_raise_what_the_client_really_raises(hf_stand_in: HFStandIn, kind: str) -> None:
    method, kwargs, expected, status = FAULTS[kind]
    hf_stand_in.add_fault(kind, seconds=2.0)
    client = InferenceClient(provider="auto", timeout=0.5)
    with pytest.raises(expected) as error:
        result = getattr(client, method)(**kwargs, model=_fault_model(method, hf_stand_in))
        result.load()  # a truncated image opens lazily and only fails on load
    assert _status(error.value) == status
    if kind == "loading":
        assert error.value.response.json()["estimated_time"] == 20.0
    if kind == "rate_limit":
        assert error.value.response.headers["Retry-After"] == "1"
        assert error.value.response.headers["X-RateLimit-Remaining"] == "0"
    assert hf_stand_in.inference_requests()[0].fault == kind


@pytest.mark.parametrize("kind", ["loading", "reset", "timeout", "malformed"])
async def test_faults_in_the_async_client(hf_stand_in: HFStandIn, kind: str) -> None:
    method, kwargs, expected, status = FAULTS[kind]
    hf_stand_in.add_fault(kind, seconds=2.0)
    async with AsyncInferenceClient(provider="auto", timeout=0.5) as client:
        with pytest.raises(expected) as error:
            await getattr(client, method)(**kwargs, model=_fault_model(method, hf_stand_in))
        assert _status(error.value) == status
        assert (await client.text_classification("fine again", model="ProsusAI/finbert"))[0].label


def test_truncated_media_behind_provider_urls(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    hf_stand_in.add_fault("truncated", provider="fal-ai")
    video = client.text_to_video("a cat", model="tencent/HunyuanVideo")  # the client never checks the bytes
    assert video[4:8] == b"ftyp" and len(video) < len(media.make_video("a cat")) // 2
    hf_stand_in.add_fault("malformed", provider="fal-ai")
    with pytest.raises(json.JSONDecodeError):
        client.text_to_video("a cat", model="tencent/HunyuanVideo")


def test_scripted_fault_filters_and_counts(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    hf_stand_in.add_fault("loading", model="ProsusAI/finbert", times=2)
    hf_stand_in.add_fault("bad_gateway", task="fill-mask", status=504)
    for _ in range(2):
        with pytest.raises(HfHubHTTPError):
            client.text_classification("hi", model="ProsusAI/finbert")
    assert client.text_classification("hi", model="ProsusAI/finbert")
    assert client.text_classification("hi", model="cardiffnlp/twitter-roberta-base-sentiment-latest")
    with pytest.raises(HfHubHTTPError) as error:
        client.fill_mask("a [MASK]", model="google-bert/bert-base-uncased")
    assert error.value.response.status_code == 504
    assert [r.status for r in hf_stand_in.inference_requests()] == [503, 503, 200, 200, 504]


def test_random_faults_are_seeded_and_deterministic(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    def run() -> list[str]:
        outcomes = []
        for i in range(12):
            try:
                client.text_classification(f"sentence {i}", model="ProsusAI/finbert")
                outcomes.append("ok")
            except (HfHubHTTPError, httpx2.HTTPError) as error:
                outcomes.append(type(error).__name__ + str(_status(error)))
        return outcomes

    hf_stand_in.set_fault_rate(0.5, seed=7, kinds=["loading", "rate_limit", "reset"])
    first = run()
    hf_stand_in.reset()
    hf_stand_in.set_fault_rate(0.5, seed=7, kinds=["loading", "rate_limit", "reset"])
    assert run() == first and "ok" in first and len(set(first)) > 2
    hf_stand_in.reset()
    hf_stand_in.set_fault_rate(1.0, seed=7, kinds=["server_error"], only_first_attempt=True)
    with pytest.raises(HfHubHTTPError):
        client.text_classification("retry me", model="ProsusAI/finbert")
    assert client.text_classification("retry me", model="ProsusAI/finbert")  # the retry goes through


def test_latency_global_and_per_task(hf_stand_in: HFStandIn, client: InferenceClient) -> None:
    hf_stand_in.set_latency(3.0, task="summarization")  # a margin over a local call on a loaded machine
    start = time.perf_counter()
    client.text_classification("quick", model="ProsusAI/finbert")
    fast = time.perf_counter() - start
    start = time.perf_counter()
    client.summarization("Slow. Very slow.", model="facebook/bart-large-cnn")
    assert time.perf_counter() - start >= 3.0 > fast
    hf_stand_in.latency = 0.3
    start = time.perf_counter()
    client.text_classification("slow now", model="ProsusAI/finbert")
    assert time.perf_counter() - start >= 0.3


async def test_concurrent_calls_overlap(hf_stand_in: HFStandIn) -> None:
    hf_stand_in.meet(6)  # each request is held until all six are in flight: one after the other never meet
    async with AsyncInferenceClient(provider="hf-inference", timeout=120) as client:
        texts = [f"text number {i}" for i in range(6)]
        results = await asyncio.gather(
            *(client.text_classification(t, model="ProsusAI/finbert") for t in texts)
        )
    assert len(results) == 6 and hf_stand_in.together == 6


def test_agent_harness_registry_served(
    hf_stand_in: HFStandIn, client: InferenceClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", False)  # the agent check is telemetry
    client.text_classification("hi", model="ProsusAI/finbert")
    assert [r.path for r in hf_stand_in.requests].count("/api/agent-harnesses") == 1
    assert HfApi().whoami()["name"] == "stand-in-user"


def test_unrouted_outside_the_fixture() -> None:
    from huggingface_hub.utils import _http

    from tests.stand_ins.routing import routed_to

    assert routed_to() is None and _http._GLOBAL_CLIENT_FACTORY is _http.default_client_factory


def test_subprocess_routed_by_sitecustomize(
    hf_stand_in: HFStandIn, hf_subprocess_env: dict[str, str]
) -> None:
    code = (
        "from huggingface_hub import InferenceClient, HfApi;"
        "print(HfApi().model_info('facebook/detr-resnet-50').pipeline_tag);"
        "print(InferenceClient().text_classification('I love it', model='ProsusAI/finbert')[0].label)"
    )
    done = subprocess.run([sys.executable, "-c", code], env=hf_subprocess_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["object-detection", "positive"]
    assert hf_stand_in.inference_requests(model="ProsusAI/finbert")
    quiet = {**hf_subprocess_env, "HUGGINGGPT_TEST_HF_URL": ""}
    done = subprocess.run([sys.executable, "-c", "import sitecustomize"], env=quiet, capture_output=True)
    assert done.returncode == 0


def test_generated_media_are_valid_files() -> None:
    assert Image.open(io.BytesIO(IMAGE)).size == (256, 256)
    assert media.read_marker(PHOTO_JPEG)["caption"] == "a picture of a dog and two cats"
    assert media.count_objects("three sheep, a dog and 2 horses") == {"sheep": 3, "dog": 1, "horse": 2}
    wav = media.make_audio("hello", fmt="wav")
    assert media.sniff(wav) == "audio/wav" and media.read_marker(wav)["text"] == "hello"
    assert media.sniff(media.make_video("x")) == "video/mp4" and np.frombuffer(SPEECH[:4], "u1").tolist()
