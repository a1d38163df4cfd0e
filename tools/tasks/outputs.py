"""Turn a client result into a short text for the LLM, plain data, and saved files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from hugginggpt.tools.files.annotate import draw_boxes, draw_masks, encode_image
from hugginggpt.tools.files.artifacts import ArtifactStore, FileArtifact, MediaInput
from hugginggpt.tools.tasks.table import TaskSpec
from hugginggpt.tools.text import shorten, with_article

SHOW = 5  # list items spelled out for the LLM
FILE_OUTPUTS = frozenset({"image", "audio", "video", "audios"})  # output kinds whose result is the file
TEXT_SHOW = 1500  # characters of generated text shown


@dataclass
class Rendered:
    """What a result becomes: facts for the LLM, JSON-able data, and files written."""

    facts: str
    data: dict[str, Any] = field(default_factory=dict)
    files: list[FileArtifact] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    spec: TaskSpec
    args: Mapping[str, Any]
    media: Mapping[str, MediaInput]
    store: ArtifactStore


def plain(value: Any) -> Any:
    """Client result -> JSON-able Python (dicts, lists, numbers, strings)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if not isinstance(v, bytes | Image.Image)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float):
        return round(value, 4)
    return value


def _items(result: Any) -> list[dict[str, Any]]:
    if isinstance(result, Mapping):
        return [plain(result)]
    return [plain(r) for r in result or []]


def _scored(items: list[dict[str, Any]], key: str = "label") -> str:
    return ", ".join(f"{i.get(key)} ({i.get('score', 0):.2f})" for i in items[:SHOW])


def media(result: Any, ctx: Context) -> Rendered:
    data = encode_image(result) if isinstance(result, Image.Image) else bytes(result)
    saved = ctx.store.save(data, ctx.spec.output)  # type: ignore[arg-type]  # a media task's output
    return Rendered(f"Made {with_article(saved['kind'])}: {saved['path']}", {}, [saved])


def audios(result: Any, ctx: Context) -> Rendered:
    files = [ctx.store.save(item.blob, "audio") for item in result]
    labels = [getattr(item, "label", None) or f"track {n + 1}" for n, item in enumerate(result)]
    facts = "; ".join(f"{label}: {f['path']}" for label, f in zip(labels, files, strict=True))
    return Rendered(f"Made {len(files)} audio track(s): {facts}", {"labels": labels}, files)


def labels(result: Any, ctx: Context) -> Rendered:
    items = _items(result)
    if items and "labels" in items[0] and "scores" in items[0]:  # older zero-shot format
        old = items[0]
        items = [{"label": lb, "score": sc} for lb, sc in zip(old["labels"], old["scores"], strict=False)]
    items.sort(key=lambda i: i.get("score", 0), reverse=True)
    return Rendered(f"Top labels: {_scored(items)}", {"labels": items})


def boxes(result: Any, ctx: Context) -> Rendered:
    items = _items(result)
    counts = Counter(i["label"] for i in items)
    summary = ", ".join(f"{n} {label}" for label, n in counts.most_common()) or "nothing"
    lines = [f"Found {len(items)} object(s): {summary}."]
    lines += [f"{i['label']} {i['score']:.2f} at {[i['box'][k] for k in ('xmin', 'ymin', 'xmax', 'ymax')]}"
              for i in items[:10]]  # fmt: skip
    files = []
    if items:
        files.append(ctx.store.save(draw_boxes(ctx.media["image"].data, items), "image"))
        lines.append(f"Annotated image: {files[0]['path']}")
    return Rendered("\n".join(lines), {"count": len(items), "counts": dict(counts), "objects": items}, files)


def segments(result: Any, ctx: Context) -> Rendered:
    items = [{"label": s.label, "score": round(s.score or 0, 4)} for s in result]
    files = []
    if items:
        masks = [(s.label, s.mask) for s in result if isinstance(s.mask, Image.Image)]
        files.append(ctx.store.save(draw_masks(ctx.media["image"].data, masks), "image"))
    facts = f"Found {len(items)} region(s): {_scored(items)}"
    if files:
        facts += f"\nAnnotated image: {files[0]['path']}"
    return Rendered(facts, {"count": len(items), "segments": items}, files)


def text(result: Any, ctx: Context) -> Rendered:
    field_name = ctx.spec.text_field
    if isinstance(result, list) and result:
        result = result[0]
    value = result if isinstance(result, str) else (getattr(result, field_name or "", None) or "")
    value = str(value).strip()
    return Rendered(f"Text: {shorten(value, TEXT_SHOW)}", {"text": value})


def answer(result: Any, ctx: Context) -> Rendered:
    items = _items(result)
    best = items[0] if items else {}
    facts = f"Answer: {best.get('answer', '')}"
    if "score" in best and best["score"] is not None:
        facts += f" (score {best['score']:.2f})"
    if best.get("aggregator") and best["aggregator"] != "NONE":
        facts += f"; aggregator {best['aggregator']} over {best.get('cells')}"
    if len(items) > 1:
        facts += f"; other answers: {_scored(items[1:], 'answer')}"
    return Rendered(facts, {"answers": items})


def vector(result: Any, ctx: Context) -> Rendered:
    values = plain(result)
    while isinstance(values, list) and len(values) == 1 and isinstance(values[0], list):
        values = values[0]
    flat = values if values and not isinstance(values[0], list) else values[0]
    shape = list(getattr(result, "shape", [len(values)]))
    head = ", ".join(f"{v:.4f}" for v in flat[:5])
    return Rendered(f"Embedding of shape {shape}: [{head}, …]", {"shape": shape, "embedding": values})


def scores(result: Any, ctx: Context) -> Rendered:
    values = [round(float(v), 4) for v in result]
    pairs = list(zip(ctx.args.get("other_sentences", []), values, strict=False))
    facts = "; ".join(f"{s!r}: {v:.3f}" for s, v in pairs[: SHOW * 2])
    return Rendered(f"Similarity to the reference sentence: {facts}", {"scores": values})


def entities(result: Any, ctx: Context) -> Rendered:
    items = _items(result)
    shown = ", ".join(f"{i.get('word')} ({i.get('entity_group') or i.get('entity')}, {i.get('score', 0):.2f})"
                      for i in items[:10])  # fmt: skip
    return Rendered(f"Found {len(items)} entit(ies): {shown or 'none'}", {"entities": items})


def fills(result: Any, ctx: Context) -> Rendered:
    items = _items(result)
    return Rendered(f"Best fills: {_scored(items, 'sequence')}", {"fills": items})


def values(result: Any, ctx: Context) -> Rendered:
    out = plain(list(result))
    return Rendered(f"Predictions per row: {out[:20]}", {"predictions": out})


RENDERERS: dict[str, Callable[[Any, Context], Rendered]] = {
    "image": media, "audio": media, "video": media, "audios": audios, "labels": labels, "boxes": boxes,
    "segments": segments, "text": text, "answer": answer, "vector": vector, "scores": scores,
    "entities": entities, "fills": fills, "values": values,
}  # fmt: skip


def render(result: Any, ctx: Context) -> Rendered:
    """Dispatch on the spec's output kind."""
    return RENDERERS[ctx.spec.output](result, ctx)
