"""tools/inference/models.py on its own: which models serve a task, in which order, and what a call may try — asked of
the HF stand-in's Hub API through the real `HfApi`."""

from __future__ import annotations

import threading

import pytest

from hugginggpt.tools.inference.errors import InputRefused
from hugginggpt.tools.inference.models import (
    Attempt,
    HubUnavailable,
    ModelCatalog,
    check_endpoint_url,
    providers_serving,
    with_deadline,
)
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.tasks.table import task_id
from tests.stand_ins.hf import HFStandIn


def catalog(**settings: object) -> ModelCatalog:
    return ModelCatalog(HFSettings(**settings))  # type: ignore[arg-type]  # test values


def searches(hf: HFStandIn) -> int:
    return sum(1 for r in hf.requests if r.path == "/api/models")


def test_task_names_have_one_canonical_form() -> None:
    assert (
        task_id("text_to_image") == task_id(" Text-To-Image ") == task_id("text to image") == "text-to-image"
    )


def test_served_tasks_come_from_huggingface_hubs_provider_table() -> None:
    assert "fal-ai" in providers_serving("text_to_video") and "hf-inference" not in providers_serving(
        "text-to-video"
    )
    assert providers_serving("tabular-regression") == ()


def test_candidates_are_live_served_models_most_liked_first(hf_stand_in: HFStandIn) -> None:
    hf_stand_in.add_model("text-to-image", "acme/loved", likes=10**6)
    hf_stand_in.add_model(
        "text-to-image", "acme/staging", likes=10**7, providers=(("fal-ai", None, "staging"),)
    )
    found = catalog().candidates("text_to_image", limit=40)
    assert found[0].id == "acme/loved" and "acme/staging" not in [c.id for c in found]
    assert [c.likes for c in found] == sorted((c.likes for c in found), reverse=True)


def test_a_chosen_provider_filters_models(hf_stand_in: HFStandIn) -> None:
    found = catalog(provider="fal-ai").candidates("text-to-image", limit=40)
    assert found and all(c.providers == ("fal-ai",) for c in found)


def test_a_wish_reranks_matching_models_first(hf_stand_in: HFStandIn) -> None:
    hf_stand_in.add_model("text-to-image", "acme/anime-diffusion", likes=2, tags="anime")
    assert catalog().candidates("text-to-image", need="anime style")[0].id == "acme/anime-diffusion"


def test_attempts_are_bounded_and_a_named_model_tries_each_of_its_providers(hf_stand_in: HFStandIn) -> None:
    top = catalog(max_attempts=2).attempts("text-to-image")
    assert len(top) == 2 and all(isinstance(a, Attempt) for a in top)
    hf_stand_in.add_model(
        "text-to-image", "acme/two", providers=(("hf-inference", None, "live"), ("fal-ai", None, "live"))
    )
    assert [a.provider for a in catalog().attempts("text-to-image", "acme/two")] == ["hf-inference", "fal-ai"]
    assert catalog().attempts("text-to-image", "acme/no-such-model") == []


def test_model_lists_are_cached_and_looked_up_once_under_concurrency(hf_stand_in: HFStandIn) -> None:
    shared = catalog(model_cache_seconds=60)
    hf_stand_in.requests.clear()
    threads = [threading.Thread(target=shared.candidates, args=("image-to-text",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert searches(hf_stand_in) == 1
    catalog(model_cache_seconds=0).candidates("image-to-text")  # another catalog, no cache: asks again
    assert searches(hf_stand_in) == 2


def test_endpoint_urls_must_be_hugging_faces_own() -> None:
    check_endpoint_url("https://abc.us-east-1.aws.endpoints.huggingface.cloud/model")
    for url in (
        "http://abc.endpoints.huggingface.cloud",
        "https://evil.example.com/x",
        "https://huggingface.cloud.evil.com",
    ):
        with pytest.raises(InputRefused, match="not a Hugging Face Inference Endpoint"):
            check_endpoint_url(url)
    assert catalog().attempts("text-to-image", "https://x.endpoints.huggingface.cloud") == [
        Attempt("https://x.endpoints.huggingface.cloud", "hf-inference")
    ]


def test_a_hub_that_does_not_answer_is_one_sentence() -> None:
    answer, answered = threading.Event(), threading.Event()

    def lookup() -> None:  # a look-up that answers only when the test says so
        answer.wait(60)
        answered.set()

    with pytest.raises(HubUnavailable, match=r"did not answer within 0\.2 s"):
        with_deadline(lookup, 0.2)
    assert not answered.is_set()  # it gave up at its deadline instead of waiting for the look-up
    answer.set()
