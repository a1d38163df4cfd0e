"""Tool selection on TaskBench's dev split (325 human-verified requests with gold task graphs): recall of
the gold tools in the first model call, by type; system prompt + tool schemas sent (chars/4, as the
prompt-size benchmark counts), with selection and with every tool; selection time per model call.

Gold names map to task ids ("Image Editing" is image_to_image); "Conversational" and "Depth Estimation"
have no task tool, and generator artefacts outside TaskBench's 23 tools are left out, as its README says.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks import harness

GOLD = harness.REPO / "tests" / "fixtures" / "taskbench" / "gold-dev.jsonl"
TASKBENCH_TOOLS = harness.REPO / "tests" / "fixtures" / "taskbench" / "tool_desc.json"
RENAMED = {"Image Editing": "image-to-image"}


def load_gold(path: Path = GOLD) -> list[dict[str, Any]]:
    """The dev requests, each with `gold`: the task ids of its gold nodes that have a task tool."""
    from hugginggpt.tools.tasks.table import TASKS_BY_ID, task_id

    names = {node["id"] for node in json.loads(TASKBENCH_TOOLS.read_text(encoding="utf-8"))["nodes"]}
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for record in records:
        ids = {RENAMED.get(name, task_id(name)) for name in record["tasks"] if name in names}
        record["gold"] = sorted(ids & set(TASKS_BY_ID))
    return records


def recall(records: list[dict[str, Any]], offered: list[set[str]]) -> dict[str, float]:
    """Share of gold tools offered: over all requests (`all`) and by type."""
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record, tasks in zip(records, offered, strict=True):
        for gold in record["gold"]:
            for key in ("all", record["type"]):
                hits[key][0] += gold in tasks
                hits[key][1] += 1
    return {key: got / total for key, (got, total) in hits.items()}


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def bench() -> dict[str, Any]:
    from langchain.agents.middleware.types import ModelRequest
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import HumanMessage
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from hugginggpt.agent.build import system_prompt
    from hugginggpt.tools import HFSettings, HuggingFaceToolkit
    from hugginggpt.tools.selection import ToolSelectionMiddleware

    records = load_gold()
    tools = [*HuggingFaceToolkit(settings=HFSettings.from_env(env_file=None)).get_tools()]
    selector = ToolSelectionMiddleware("auto")
    tools += selector.tools
    system = len(system_prompt())
    model = GenericFakeChatModel(messages=iter(()))
    every = sum(len(compact(convert_to_openai_tool(t))) for t in tools if t.name != "load_tools")
    offered, sent, seconds = [], [], []
    for record in records:
        request = ModelRequest(
            model=model, messages=[HumanMessage(record["user_request"])], tools=list(tools)
        )
        started = time.perf_counter()
        narrowed = selector.narrowed(request)
        seconds.append(time.perf_counter() - started)
        shown = [t if isinstance(t, dict) else convert_to_openai_tool(t) for t in narrowed.tools]
        offered.append({t.spec.task for t in narrowed.tools if getattr(t, "spec", None)})
        sent.append(system + len(compact(shown)))
    descriptions = sum(len(getattr(t, "description", "")) for t in tools if getattr(t, "spec", None))
    return {
        "recall": recall(records, offered),
        "requests": len(records),
        "tokens": [chars / 4 for chars in sent],
        "tokens_all": (system + every) / 4,
        "task_tools": [len(o) for o in offered],
        "ms": [s * 1000 for s in seconds],
        "task_descriptions": descriptions,
    }


def summarise(data: dict[str, Any]) -> list[dict[str, Any]]:
    r, tokens, ms = data["recall"], data["tokens"], data["ms"]
    median = harness.median(tokens)
    return [
        {
            "benchmark": "tool selection",
            "metric": f"recall of gold tools in the first model call (TaskBench dev, {data['requests']} requests)",
            "value": f"{r['all']:.3f}",
            "target": ">= 0.98",
            "ok": r["all"] >= 0.98,
            "note": f"single {r['single']:.3f}, chain {r['chain']:.3f}, DAG {r['dag']:.3f}",
        },
        {
            "benchmark": "tool selection",
            "metric": "system + tool schemas per model call: median (p90, max)",
            "value": f"~{median:.0f} tokens",
            "target": "<= 2000",
            "ok": median <= 2000,
            "note": f"p90 {harness.percentile(tokens, 90):.0f}, max {max(tokens):.0f}; every tool: "
            f"~{data['tokens_all']:.0f}; task tools offered: median {harness.median(data['task_tools']):.0f}",
        },
        {
            "benchmark": "tool selection",
            "metric": "selection time per model call: median, p99",
            "value": f"{harness.median(ms):.2f} ms, {harness.percentile(ms, 99):.2f} ms",
            "target": "<= 20 ms",
            "ok": harness.percentile(ms, 99) <= 20,
            "note": f"task tool descriptions: {data['task_descriptions']} chars",
        },
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    harness.prepare_environment()
    return summarise(bench())


if __name__ == "__main__":
    harness.emit(main())
