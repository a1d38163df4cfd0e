"""Plans streamed into execution: TaskBench graphs four ways with the LLM stand-in writing at a real pace.

The critical-path benchmark's three ways (one task a turn, layer by layer, planned once) plus a fourth,
planned once and streamed (each step starts as soon as its object is complete in the model's stream), with
the LLM stand-in writing `--rates` tokens/s (one token ~ 4 characters of tool-call arguments) after 0.3 s
of latency a turn. Every chunk's time is recorded, so the bounds use what the stand-in actually wrote:
- the three ways: each turn's latency + stream time, + the slowest tool of each layer (task: every tool);
- streamed: when each step's object was complete in the plan's stream, + the tool latencies along the
  critical path from there, + the answer turn.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time
from typing import Any

from benchmarks import harness
from benchmarks.critical_path import LLM_LATENCY, QUEUE_POLL, inject_latencies, prompt_tokens

WAYS = ("task", "layer", "once", "stream")
LABELS = {"task": "one task a turn", "layer": "layer by layer", "once": "planned once",
          "stream": "planned once, streamed"}  # fmt: skip
TARGET_LEFT, TARGET_SPEEDUP, TARGET_MEDIAN = 0.50, 0.80, 1.10


class Chunks:
    """The stand-in's chunks with their times (`before_chunk`), split into completions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.turns: list[list[tuple[float, dict[str, Any]]]] = []

    def __call__(self, chunk: dict[str, Any]) -> None:
        with self.lock:
            delta = (chunk.get("choices") or [{}])[0].get("delta", {})
            if "role" in delta or not self.turns:
                self.turns.append([])
            self.turns[-1].append((time.perf_counter(), chunk))


def step_times(turn: list[tuple[float, dict[str, Any]]]) -> tuple[dict[str, float], float, float]:
    """({step id: seconds into the stream when its object was complete}, stream seconds, first chunk)."""
    from hugginggpt.tools.plans.scan import StepScanner

    scanner, done = StepScanner(), {}
    start = turn[0][0]
    for at, chunk in turn:
        for part in (chunk.get("choices") or [{}])[0].get("delta", {}).get("tool_calls") or []:
            for step in scanner.feed(part.get("function", {}).get("arguments") or ""):
                done[step["id"]] = at - start
    return done, turn[-1][0] - start, start


async def run_graph(stack: Any, agent: Any, tag: str, graph: Any, way: str, chunks: Chunks) -> dict[str, Any]:
    from benchmarks.graphs import plan
    from tests.stand_ins.scripts import last_user_message

    stack.llm.on_user(re.escape(tag), plan(graph, "once" if way == "stream" else way))
    chunks.turns.clear()
    summary, seconds = await harness.run_prompt(agent, f"{tag} run this task graph", thread=tag)
    requests = [r for r in stack.llm.chat_requests if tag in last_user_message(r)]
    failed = [(c["name"], c["error"]) for c in summary.tool_calls if c["status"] != "ok"]
    if failed or sorted(c["name"] for c in summary.tool_calls) != sorted(graph.nodes):
        raise RuntimeError(f"{tag}: expected {sorted(graph.nodes)} to succeed, failed {failed}")
    return {"seconds": seconds, "turns": len(requests), "tokens": prompt_tokens(requests),
            "streams": [step_times(t) for t in chunks.turns]}  # fmt: skip


def bound(graph: Any, latency: dict[str, float], way: str, row: dict[str, Any]) -> float:
    service = {n: latency[n] + QUEUE_POLL.get(n, 0.0) for n in graph.nodes}
    turns = [LLM_LATENCY + stream for _, stream, _ in row["streams"]]
    if way == "task":
        return sum(turns) + sum(service.values())
    if way in ("layer", "once") or len(graph.nodes) == 1:
        return sum(turns) + sum(max(service[n] for n in layer) for layer in graph.layers())
    complete, _, _ = row["streams"][0]
    finish: dict[str, float] = {}
    for layer in graph.layers():
        for node in layer:
            ready = max([complete[node], *(finish[e.source] for e in graph.parents(node))])
            finish[node] = ready + service[node]
    return LLM_LATENCY + max(finish.values()) + sum(turns[1:])


def left_at_first_start(graph: Any, row: dict[str, Any]) -> float:
    """Share of the plan's stream still to come when its first step could start."""
    complete, stream, _ = row["streams"][0]
    roots = [n for n in graph.layers()[0]]
    return 1 - min(complete[n] for n in roots) / stream


async def bench(seed: int, chains: int, dags: int, rates: list[float]) -> dict[str, Any]:
    from benchmarks.graphs import Graph, load_links, sample_graphs
    from hugginggpt.tools import HuggingFaceToolkit

    graphs = sample_graphs(seed, 0, chains, dags)
    rows: list[dict[str, Any]] = []
    with harness.stack() as stack:
        chunks = Chunks()
        stack.llm.before_chunk = chunks
        without_plan = HuggingFaceToolkit(
            settings=stack.settings().toolkit, include_run_plan=False
        ).get_tools()
        agents = {"task": stack.agent(tools=without_plan), "layer": stack.agent(tools=without_plan),
                  "once": stack.agent(stack.settings(plan_streaming=False)), "stream": stack.agent()}  # fmt: skip
        for i, tool in enumerate(sorted(load_links())):  # warm-up: imports, Hub look-ups, connections
            for way, agent in agents.items():
                await run_graph(stack, agent, f"[warm-{i}-{way}]", Graph("single", [tool]), way, chunks)
        stack.llm.latency = LLM_LATENCY
        for rate in rates:
            stack.llm.tokens_per_second = rate
            rng = random.Random(seed + 1)
            for i, graph in enumerate(graphs):
                latency = inject_latencies(stack, graph, rng)
                row: dict[str, Any] = {"graph": graph, "rate": rate}
                for way in WAYS:
                    result = await run_graph(
                        stack, agents[way], f"[r{rate:g}-g{i}-{way}]", graph, way, chunks
                    )
                    result["bound"] = bound(graph, latency, way, result)
                    row[way] = result
                row["left"] = left_at_first_start(graph, row["stream"])
                rows.append(row)
    return {"rows": rows}


def summarise(data: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rate in sorted({r["rate"] for r in data["rows"]}):
        rows = [r for r in data["rows"] if r["rate"] == rate]
        dags = [r for r in rows if r["graph"].shape == "dag"]
        for shape, mine in (("dags", dags), ("all", rows)):
            for way in WAYS:
                ratios = [r[way]["seconds"] / r[way]["bound"] for r in mine]
                out.append({
                    "benchmark": "plan stream",
                    "metric": f"{rate:g} tokens/s, {shape} ({len(mine)} graphs), {LABELS[way]}: turns, tokens sent, wall, wall / bound",
                    "value": f"{sum(r[way]['turns'] for r in mine)}, ~{sum(r[way]['tokens'] for r in mine) / 1000:.0f}k, "
                             f"{sum(r[way]['seconds'] for r in mine):.1f} s, {harness.median(ratios):.3f} / {max(ratios):.3f}",
                    "note": "wall / bound median / worst",
                })  # fmt: skip
        left = harness.median([r["left"] for r in dags]) if dags else float("nan")
        speed = sum(r["stream"]["seconds"] for r in dags) / sum(r["once"]["seconds"] for r in dags)
        floor = sum(r["stream"]["bound"] for r in dags) / sum(r["once"]["bound"] for r in dags)
        ratios = [r["stream"]["seconds"] / r["stream"]["bound"] for r in rows]
        if rate == 25:
            out.append({"benchmark": "plan stream", "metric": "25 tokens/s, DAGs: plan stream left when step 1 starts, median",
                        "value": f"{left:.0%}", "target": f">= {TARGET_LEFT:.0%}", "ok": left >= TARGET_LEFT})  # fmt: skip
            out.append({"benchmark": "plan stream", "metric": "25 tokens/s, DAGs: wall, streamed / planned once",
                        "value": f"{speed:.2f}", "target": f"<= {TARGET_SPEEDUP}", "ok": speed <= TARGET_SPEEDUP,
                        "note": f"the same for the bounds: {floor:.2f}"})  # fmt: skip
        out.append({"benchmark": "plan stream", "metric": f"{rate:g} tokens/s: streamed wall / bound, median",
                    "value": f"{harness.median(ratios):.3f}", "target": f"<= {TARGET_MEDIAN}",
                    "ok": harness.median(ratios) <= TARGET_MEDIAN, "note": f"left at step 1 {left:.0%}, streamed/once {speed:.2f}"})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    from benchmarks.graphs import graph_arguments

    parser = graph_arguments(__doc__)
    parser.add_argument("--rates", default="25,80", help="LLM tokens/s, comma-separated")
    args = parser.parse_args(argv)
    harness.prepare_environment()
    rates = [float(r) for r in args.rates.split(",")]
    data = asyncio.run(bench(args.seed, args.chains, args.dags, rates))
    if args.verbose:
        for r in data["rows"]:
            ways = "  ".join(f"{w} {r[w]['seconds']:5.2f}/{r[w]['bound']:5.2f}" for w in WAYS)
            print(f"{r['rate']:4g} {r['graph'].shape:6} {ways} left {r['left']:.0%}  {r['graph'].describe()}")

    return summarise(data)


if __name__ == "__main__":
    harness.emit(main())
