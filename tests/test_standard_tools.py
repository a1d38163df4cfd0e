"""langchain-tests' standard suites over every tool: unit suites offline, integration suites on the stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from hugginggpt.tools import TASKS, HFSettings, HFTaskTool
from hugginggpt.tools.inference.backend import Backend
from hugginggpt.tools.tasks.find_models import FindModelsTool
from tests.stand_ins import media
from tests.stand_ins.hf import HFStandIn

EXAMPLES: dict[str, dict[str, Any]] = {
    "audio": {"audio": "hello.flac"},
    "image": {"image": "sheep.png"},
    "document": {"image": "sheep.png", "question": "What is the total?"},
}
TEXT_EXAMPLES: dict[str, dict[str, Any]] = {
    "feature-extraction": {"text": "Sheep are nice"},
    "fill-mask": {"text": "Sheep eat [MASK]."},
    "question-answering": {"question": "What do sheep eat?", "context": "Sheep eat grass."},
    "sentence-similarity": {"sentence": "Sheep are nice", "other_sentences": ["Sheep are kind", "Cars"]},
    "summarization": {"text": "Sheep graze in fields. They eat grass all day. " * 5},
    "table-question-answering": {
        "table": {"animal": ["sheep", "cow"], "count": ["3", "2"]},
        "query": "sheep?",
    },
    "tabular-classification": {"table": {"fixed_acidity": ["7.4"], "alcohol": ["9.4"]}},
    "tabular-regression": {"table": {"Height": ["11.52"], "Width": ["4.02"]}},
    "text-classification": {"text": "I love sheep"},
    "text-generation": {"prompt": "Sheep are"},
    "text-to-image": {"prompt": "three sheep in a field"},
    "text-to-speech": {"text": "Sheep are nice"},
    "text-to-video": {"prompt": "sheep running"},
    "token-classification": {"text": "Dolly the sheep was cloned in Scotland."},
    "translation": {"text": "Sheep are nice"},
    "zero-shot-classification": {"text": "I love sheep", "candidate_labels": ["animals", "cars"]},
}
EXTRA = {
    "visual-question-answering": {"question": "How many sheep?"},
    "zero-shot-image-classification": {"candidate_labels": ["sheep", "cow"]},
}


def example(spec: Any) -> dict[str, Any]:
    media_arg = next((a.media for a in spec.args if a.media), None)
    if media_arg:
        return {**EXAMPLES[media_arg], **EXTRA.get(spec.task, {})}
    return TEXT_EXAMPLES[spec.task]


def backend() -> Backend:
    return Backend(HFSettings.from_env(env_file=None, timeout=5.0))


class _Offline:
    """Each test runs in a temp folder with sample media, against the HF stand-in."""

    @pytest.fixture(autouse=True)
    def _offline(self, hf_stand_in: HFStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        Path("sheep.png").write_bytes(media.make_image("a field with three sheep"))
        Path("hello.flac").write_bytes(media.make_audio("sheep are nice"))


def _suites(spec: Any) -> tuple[type, type]:
    props = {
        "tool_constructor": property(lambda self: HFTaskTool),
        "tool_constructor_params": property(lambda self: {"spec": spec, "backend": backend()}),
        "tool_invoke_params_example": property(lambda self: example(spec)),
    }
    unit = type(f"TestUnit_{spec.name}", (ToolsUnitTests,), dict(props))
    integration = type(f"TestIntegration_{spec.name}", (_Offline, ToolsIntegrationTests), dict(props))
    return unit, integration


for _spec in TASKS:
    if _spec.task == "tabular-regression":  # not served by any provider: it raises by design
        globals()[f"TestUnit_{_spec.name}"] = _suites(_spec)[0]
        continue
    globals()[f"TestUnit_{_spec.name}"], globals()[f"TestIntegration_{_spec.name}"] = _suites(_spec)


class TestUnitFindModels(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[FindModelsTool]:
        return FindModelsTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"backend": backend()}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"task": "text-to-image", "limit": 3}


class TestIntegrationFindModels(_Offline, ToolsIntegrationTests):
    tool_constructor = TestUnitFindModels.tool_constructor
    tool_constructor_params = TestUnitFindModels.tool_constructor_params
    tool_invoke_params_example = TestUnitFindModels.tool_invoke_params_example
