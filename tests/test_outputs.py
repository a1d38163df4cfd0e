"""tools/tasks/outputs.py on its own: each kind of client result (huggingface_hub's own types) becomes short facts
for the LLM, plain data and saved files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from huggingface_hub import (
    AudioToAudioOutputElement,
    FillMaskOutputElement,
    ImageClassificationOutputElement,
    ImageSegmentationOutputElement,
    ImageToTextOutput,
    ObjectDetectionOutputElement,
    QuestionAnsweringOutputElement,
    TableQuestionAnsweringOutputElement,
    TokenClassificationOutputElement,
    TranslationOutput,
)
from PIL import Image

from hugginggpt.tools.files.artifacts import ArtifactStore, MediaInput
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.tasks.outputs import TEXT_SHOW, Context, Rendered, render
from hugginggpt.tools.tasks.table import get_spec
from tests.stand_ins import media


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ArtifactStore:
    monkeypatch.chdir(tmp_path)
    return ArtifactStore(HFSettings(output_dir=Path("outputs")))


def rendered(task: str, raw: Any, store: ArtifactStore, **args: Any) -> Rendered:
    image = media.make_image("three sheep")
    inputs = {"image": MediaInput(image, "sheep.png", "image")} if "image" in args else {}  # type: ignore[arg-type]  # bytes stand for MimeBytes
    out = render(raw, Context(get_spec(task), args, inputs, store))
    json.dumps(out.data)  # always plain JSON
    return out


def test_labels_best_first_also_from_the_older_zero_shot_format(store: ArtifactStore) -> None:
    raw = [
        ImageClassificationOutputElement(label="cow", score=0.1),
        ImageClassificationOutputElement(label="sheep", score=0.9),
    ]
    out = rendered("image-classification", raw, store)
    assert out.facts == "Top labels: sheep (0.90), cow (0.10)" and out.data["labels"][0]["label"] == "sheep"
    old = {"sequence": "I love sheep", "labels": ["animals", "cars"], "scores": [0.8, 0.2]}
    assert rendered("zero-shot-classification", old, store).facts == "Top labels: animals (0.80), cars (0.20)"


def test_boxes_are_counted_and_drawn_onto_the_input(store: ArtifactStore) -> None:
    box = {"xmin": 1, "ymin": 1, "xmax": 20, "ymax": 20}
    raw = [
        ObjectDetectionOutputElement(label=label, score=0.9, box=box) for label in ("sheep", "sheep", "dog")
    ]
    out = rendered("object-detection", raw, store, image="sheep.png")
    assert out.facts.startswith("Found 3 object(s): 2 sheep, 1 dog.") and out.data["counts"] == {
        "sheep": 2,
        "dog": 1,
    }
    (annotated,) = out.files
    assert annotated["mime_type"] == "image/png" and Image.open(annotated["path"]).size == (256, 256)
    assert annotated["path"] in out.facts
    assert (
        rendered("object-detection", [], store, image="sheep.png").files == []
    )  # nothing found, nothing drawn


def test_segments_tint_their_masks(store: ArtifactStore) -> None:
    mask = Image.new("L", (256, 256), 255)
    raw = [ImageSegmentationOutputElement(label="sheep", score=0.97, mask=mask)]  # type: ignore[arg-type]  # the client decodes masks to images
    out = rendered("image-segmentation", raw, store, image="sheep.png")
    assert out.data == {"count": 1, "segments": [{"label": "sheep", "score": 0.97}]} and len(out.files) == 1


@pytest.mark.parametrize(
    ("task", "raw", "text"),
    [
        (
            "image-to-text",
            ImageToTextOutput(generated_text=" three sheep in a field "),
            "three sheep in a field",
        ),
        ("translation", [TranslationOutput(translation_text="trois moutons")], "trois moutons"),
        ("text-generation", "Sheep are woolly.", "Sheep are woolly."),
    ],
)
def test_text_is_read_from_the_task_field(task: str, raw: Any, text: str, store: ArtifactStore) -> None:
    out = rendered(task, raw, store)
    assert out.facts == f"Text: {text}" and out.data == {"text": text}


def test_long_text_is_shortened_for_the_model_but_kept_whole_in_the_data(store: ArtifactStore) -> None:
    out = rendered("text-generation", "baa " * 1000, store)
    assert len(out.facts) <= len("Text: ") + TEXT_SHOW and out.facts.endswith("…")
    assert out.data["text"] == ("baa " * 1000).strip()


def test_answers_with_score_and_table_aggregation(store: ArtifactStore) -> None:
    qa = QuestionAnsweringOutputElement(answer="grass", score=0.93, start=9, end=14)
    assert rendered("question-answering", qa, store).facts == "Answer: grass (score 0.93)"
    table = TableQuestionAnsweringOutputElement(
        answer="5", coordinates=[[0, 1]], cells=["3", "2"], aggregator="SUM"
    )
    assert "aggregator SUM over ['3', '2']" in rendered("table-question-answering", table, store).facts


def test_vectors_scores_entities_fills_values(store: ArtifactStore) -> None:
    out = rendered("feature-extraction", np.array([[0.1, 0.2, 0.3]], dtype=np.float32), store)
    assert out.data["shape"] == [1, 3] and out.data["embedding"] == pytest.approx([0.1, 0.2, 0.3])
    out = rendered("sentence-similarity", [0.91, 0.12], store, other_sentences=["Sheep are kind", "Cars"])
    assert out.facts == "Similarity to the reference sentence: 'Sheep are kind': 0.910; 'Cars': 0.120"
    entity = TokenClassificationOutputElement(entity_group="LOC", score=0.99, word="Scotland", start=0, end=8)
    assert (
        rendered("token-classification", [entity], store).facts == "Found 1 entit(ies): Scotland (LOC, 0.99)"
    )
    fill = FillMaskOutputElement(sequence="sheep eat grass", score=0.5, token=1, token_str="grass")
    assert rendered("fill-mask", [fill], store).facts == "Best fills: sheep eat grass (0.50)"
    assert rendered("tabular-classification", np.array([1, 0]), store).data == {"predictions": [1, 0]}


def test_media_results_are_saved_by_content(store: ArtifactStore) -> None:
    image = Image.open(__import__("io").BytesIO(media.make_image("sheep")))
    out = rendered("text-to-image", image, store)
    (saved,) = out.files
    assert out.facts == f"Made an image: {saved['path']}" and saved["path"].startswith("outputs/images/")
    tracks = [
        AudioToAudioOutputElement(label="speech", content_type="audio/flac", blob=media.make_audio("baa"))
    ]
    out = rendered("audio-to-audio", tracks, store)
    assert out.data == {"labels": ["speech"]} and out.files[0]["path"].startswith("outputs/audios/")
    with pytest.raises(ValueError, match="expected image"):
        rendered("text-to-image", media.make_audio("not a picture"), store)
