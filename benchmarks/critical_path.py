"""Critical path: TaskBench graphs through the real agent, three ways, against the bound each could reach.

Each graph runs with the same latencies (LLM 0.3 s per turn; each tool 0.3-1.0 s, seeded) three ways:
one task per model turn (the original HuggingGPT), one dependency layer per model turn (this project before
run_plan, the agent without it), and planned once (one run_plan call, then the answer). Bound = model turns
x LLM latency + the slowest tool of each layer (for one task a turn: every tool, one after the other).
Tokens sent = system prompt + tool schemas + history, summed over the turns (chars / 4).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from typing import Any

from benchmarks import harness

LLM_LATENCY = 0.3
TOOL_LATENCY = (0.3, 1.0)
# huggingface_hub polls fal's queue every 0.5 s (fal_ai._POLLING_INTERVAL): a floor on queue-served tasks.
QUEUE_POLL = {"text_to_video": 0.5}
TARGET_MEDIAN, TARGET_WORST = 1.10, 1.2  # planned once
TARGET_TOKENS_SAVED = 0.40  # on the DAGs, against layer by layer


def bound(graph: Any, latency: dict[str, float], way: str) -> tuple[float, int]:
    """(seconds, model turns) a perfect run of this graph needs, planned `way` (see graphs.WAYS)."""
    service = {n: latency[n] + QUEUE_POLL.get(n, 0.0) for n in graph.nodes}
    if way == "task":
        return (len(graph.nodes) + 1) * LLM_LATENCY + sum(service.values()), len(graph.nodes) + 1
    layers = graph.layers()
    turns = 2 if way == "once" else len(layers) + 1
    return turns * LLM_LATENCY + sum(max(service[n] for n in layer) for layer in layers), turns


def prompt_tokens(requests: list[dict[str, Any]]) -> int:
    """Tokens sent over the turns (system prompt, tool schemas, history), estimated as chars/4."""
    return sum(len(json.dumps({"messages": r["messages"], "tools": r.get("tools")})) for r in requests) // 4


async def run_graph(stack: Any, agent: Any, tag: str, graph: Any, way: str) -> dict[str, Any]:
    from benchmarks.graphs import plan
    from tests.stand_ins.scripts import last_user_message

    stack.llm.on_user(re.escape(tag), plan(graph, way))
    summary, seconds = await harness.run_prompt(agent, f"{tag} run this task graph", thread=tag)
    requests = [r for r in stack.llm.chat_requests if tag in last_user_message(r)]
    failed = [(c["name"], c["error"]) for c in summary.tool_calls if c["status"] != "ok"]
    ran = sorted(c["name"] for c in summary.tool_calls)
    if failed or ran != sorted(graph.nodes):
        raise RuntimeError(f"{tag}: expected {sorted(graph.nodes)} to succeed, got {ran}, failed {failed}")
    return {"seconds": seconds, "turns": len(requests), "tokens": prompt_tokens(requests)}


def inject_latencies(stack: Any, graph: Any, rng: random.Random) -> dict[str, float]:
    """Seeded latencies (TOOL_LATENCY) for the graph's tools, set on the HF stand-in, other faults cleared."""
    latency = {n: round(rng.uniform(*TOOL_LATENCY), 2) for n in graph.nodes}
    stack.hf.faults.reset()
    for node, seconds in latency.items():
        stack.hf.set_latency(seconds, task=node.replace("_", "-"))
    return latency


async def bench(seed: int, singles: int, chains: int, dags: int) -> dict[str, Any]:
    from benchmarks.graphs import WAYS, Graph, load_links, sample_graphs
    from hugginggpt.tools import HuggingFaceToolkit

    graphs = sample_graphs(seed, singles, chains, dags)
    rng = random.Random(seed + 1)
    results = []
    with harness.stack() as stack:
        without_plan = HuggingFaceToolkit(
            settings=stack.settings().toolkit, include_run_plan=False
        ).get_tools()
        agents = {"task": stack.agent(tools=without_plan), "layer": stack.agent(tools=without_plan),
                  "once": stack.agent()}  # fmt: skip
        for i, tool in enumerate(sorted(load_links())):  # warm-up: imports, Hub look-ups, connections
            for way, agent in agents.items():
                await run_graph(stack, agent, f"[warm-{i}-{way}]", Graph("single", [tool]), way)
        stack.llm.latency = LLM_LATENCY
        for i, graph in enumerate(graphs):
            latency = inject_latencies(stack, graph, rng)
            row: dict[str, Any] = {"graph": graph, "latency": latency}
            for way in WAYS:
                row[way] = await run_graph(stack, agents[way], f"[g{i}-{way}]", graph, way)
                row[way]["bound"], row[way]["bound_turns"] = bound(graph, latency, way)
            results.append(row)
    return {"rows": results}


def _ratios(rows: list[dict[str, Any]], way: str) -> list[float]:
    return [r[way]["seconds"] / r[way]["bound"] for r in rows]


def summarise(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = data["rows"]
    out = []
    for shape in ("single", "chain", "dag", "all"):
        mine = [r for r in rows if shape in ("all", r["graph"].shape)]
        if not mine:
            continue
        tasks = sum(len(r["graph"].nodes) for r in mine)
        for way, label in (
            ("task", "one task a turn"),
            ("layer", "layer by layer"),
            ("once", "planned once"),
        ):
            rs = _ratios(mine, way)
            turns = sum(r[way]["turns"] for r in mine)
            needed = sum(r[way]["bound_turns"] for r in mine)
            tokens = sum(r[way]["tokens"] for r in mine)
            wall = sum(r[way]["seconds"] for r in mine)
            out.append(
                {
                    "benchmark": "critical path",
                    "metric": f"{shape} ({len(mine)} graphs, {tasks} tasks), {label}: turns, tokens sent, wall / bound",
                    "value": f"{turns}, ~{tokens / 1000:.0f}k, {harness.median(rs):.3f} / {max(rs):.3f}",
                    "note": f"turns bound {needed}; wall {wall:.1f} s; wall / bound median / worst",
                }
            )
    once = _ratios(rows, "once")
    two_turns = all(r["once"]["turns"] == 2 for r in rows)
    out.append({"benchmark": "critical path", "metric": "planned once: every graph in exactly 2 model turns",
                "value": "yes" if two_turns else "no", "target": "yes", "ok": two_turns})  # fmt: skip
    out.append({"benchmark": "critical path", "metric": "planned once: wall / bound, median",
                "value": f"{harness.median(once):.3f}", "target": f"<= {TARGET_MEDIAN}",
                "ok": harness.median(once) <= TARGET_MEDIAN})  # fmt: skip
    out.append({"benchmark": "critical path", "metric": "planned once: wall / bound, worst",
                "value": f"{max(once):.3f}", "target": f"<= {TARGET_WORST}", "ok": max(once) <= TARGET_WORST})  # fmt: skip
    dags = [r for r in rows if r["graph"].shape == "dag"]
    if dags:
        saved = 1 - sum(r["once"]["tokens"] for r in dags) / sum(r["layer"]["tokens"] for r in dags)
        out.append({"benchmark": "critical path", "metric": "DAGs: tokens sent, planned once vs layer by layer",
                    "value": f"{saved:.0%} fewer", "target": f">= {TARGET_TOKENS_SAVED:.0%} fewer",
                    "ok": saved >= TARGET_TOKENS_SAVED})  # fmt: skip
        speedup = [r["task"]["seconds"] / r["once"]["seconds"] for r in dags]
        out.append({"benchmark": "critical path", "metric": "DAGs: wall, one task a turn (original HuggingGPT) vs planned once",
                    "value": f"{sum(r['task']['seconds'] for r in dags):.1f} s vs {sum(r['once']['seconds'] for r in dags):.1f} s",
                    "note": f"x{harness.median(speedup):.2f} median speed-up"})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    from benchmarks.graphs import graph_arguments

    args = graph_arguments(__doc__, singles=4).parse_args(argv)
    harness.prepare_environment()
    data = asyncio.run(bench(args.seed, args.singles, args.chains, args.dags))
    if args.verbose:
        for r in data["rows"]:
            g = r["graph"]
            ways = "  ".join(
                f"{w} {r[w]['seconds']:5.2f}/{r[w]['bound']:5.2f} t{r[w]['turns']}"
                for w in ("task", "layer", "once")
            )
            print(f"{g.shape:6} {ways}  {g.describe()}")
    return summarise(data)


if __name__ == "__main__":
    harness.emit(main())
