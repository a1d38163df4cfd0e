"""Hub API answers of the HF stand-in: /api/models (list), /api/models/{id} (info), /api/tasks.

Shapes follow the real Hub: the list endpoint returns `inferenceProviderMapping` as a list of
{provider, providerId, status, task}, model_info as a dict keyed by provider; with `expand`, only `_id`, `id`
and the expanded fields come back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

Catalog = dict[str, list[dict[str, Any]]]

LIST_FIELDS = ("_id", "id", "likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag",
               "library_name", "createdAt", "modelId")  # fmt: skip
SORT_KEYS = {"likes", "downloads", "trendingScore", "createdAt", "lastModified", "downloadsAllTime"}


def iter_models(catalog: Catalog) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    for models in catalog.values():
        for entry in models:
            if entry["id"] not in seen:
                seen.add(entry["id"])
                yield entry


def find(catalog: Catalog, model_id: str) -> dict[str, Any] | None:
    return next((m for m in iter_models(catalog) if m["id"] == model_id), None)


def live_providers(entry: dict[str, Any]) -> list[str]:
    return [p for p, m in (entry.get("inferenceProviderMapping") or {}).items() if m.get("status") == "live"]


def _extra(entry: dict[str, Any], name: str) -> Any:
    """Fields the catalog does not store but the Hub returns."""
    if name == "inference":
        return "warm" if "hf-inference" in live_providers(entry) else None
    if name == "cardData":
        license_tag = next((t for t in entry.get("tags", []) if t.startswith("license:")), "license:other")
        return {"license": license_tag.split(":", 1)[1], "tags": [entry.get("pipeline_tag")]}
    if name == "siblings":
        return [{"rfilename": f} for f in (".gitattributes", "README.md", "config.json", "model.safetensors")]
    if name == "spaces":
        return []
    if name == "usedStorage":
        return 40_000_000 + entry["downloads"] % 1_000_000
    if name == "downloadsAllTime":
        return entry["downloads"] * 12
    if name == "widgetData":
        return None
    return entry.get(name)


def _mapping_list(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"provider": p, **m} for p, m in (entry.get("inferenceProviderMapping") or {}).items()]


def render(entry: dict[str, Any], expand: list[str], *, listing: bool) -> dict[str, Any]:
    """One model as the Hub returns it (list item or model_info)."""
    if expand:
        names = ["_id", "id", *expand]
    elif listing:
        names = list(LIST_FIELDS)
    else:
        names = [k for k in entry if k not in ("stand_in", "inferenceProviderMapping")]
        names += ["cardData", "siblings", "spaces", "usedStorage", "inference"]
    out: dict[str, Any] = {}
    for name in dict.fromkeys(names):
        if name == "inferenceProviderMapping":
            mapping = entry.get("inferenceProviderMapping") or {}
            out[name] = _mapping_list(entry) if listing else {p: dict(m) for p, m in mapping.items()}
            continue
        value = _extra(entry, name)
        if value is not None or name in entry:
            out[name] = value
    return out


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _providers_asked(query: dict[str, list[str]]) -> set[str] | None:
    values = [v for raw in query.get("inference_provider", []) for v in raw.split(",") if v]
    return set(values) if values else None


def list_models(catalog: Catalog, query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """GET /api/models with the query params `HfApi.list_models` sends."""
    models: Iterable[dict[str, Any]] = iter_models(catalog)
    if pipeline_tag := _first(query, "pipeline_tag"):
        models = [m for m in models if m.get("pipeline_tag") == pipeline_tag]
    if search := _first(query, "search"):
        models = [m for m in models if search.lower() in m["id"].lower()]
    if author := _first(query, "author"):
        models = [m for m in models if m["id"].lower().startswith(author.lower() + "/")]
    for tag in query.get("filter", []):
        models = [
            m for m in models if tag in m.get("tags", []) or tag in (m.get("library_name"), m.get("id"))
        ]
    providers = _providers_asked(query)
    if providers is not None:
        # The Hub counts a model as served when a provider is live for it.
        models = [
            m
            for m in models
            if ("all" in providers and live_providers(m)) or providers & set(live_providers(m))
        ]
    if _first(query, "inference") == "warm":
        models = [m for m in models if "hf-inference" in live_providers(m)]
    models = list(models)
    sort = _first(query, "sort") or "trendingScore"
    if sort in SORT_KEYS:
        models.sort(key=lambda m: _extra(m, sort) or 0, reverse=_first(query, "direction") != "1")
    limit = _first(query, "limit")
    if limit and limit.isdigit():
        models = models[: int(limit)]
    expand = query.get("expand", [])
    if not expand and (_first(query, "full") or _first(query, "cardData") or _first(query, "config")):
        return [render(m, [], listing=False) for m in models]
    return [render(m, expand, listing=True) for m in models]


def recommended(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """GET /api/tasks: per task, widget models (live on hf-inference first, most liked first)."""
    out = {}
    for task, models in catalog.items():
        ranked = sorted(models, key=lambda m: ("hf-inference" not in live_providers(m), -m["likes"]))
        out[task] = {"id": task, "label": task.replace("-", " ").title(), "widgetModels": [m["id"] for m in ranked[:3]],
                     "libraries": sorted({m["library_name"] for m in models if m.get("library_name")}),
                     "type": "text"}  # fmt: skip
    return out
