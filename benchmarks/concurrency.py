"""Concurrency and memory: 50 agent runs at once in one process, one event loop, 50 conversation threads,
kept in the real conversation store (`--store sqlite`, the default, or `postgres`; `memory` for LangGraph's
in-memory saver).

Each run draws its own picture (a prompt naming run i), then captions it and counts its objects in one
parallel turn, then answers. Latency is injected as in the critical-path benchmark (LLM 0.3 s per turn,
tools 0.3-1.0 s). The stand-ins run in a child process, so the CPU and memory measured are the agent's. Checked for cross-talk: every run's answer quotes the caption of its own picture, its
captioning and detection read its own file, the picture's embedded prompt is its own, no file is shared
between runs, and each thread's saved conversation holds only its own request.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from benchmarks import harness

RUNS = 50
VIDEOS = 24  # offloaded calls (the sync client polls the provider's queue in a thread)
VIDEO_SECONDS = 1.0
LLM_LATENCY = 0.3
ANIMALS = ["sheep", "cows", "goats", "horses", "ducks", "pigs", "dogs", "cats", "geese", "llamas"]
COLORS = ["red", "blue", "green", "yellow", "purple", "orange", "white", "black", "brown", "pink"]


def subject(i: int) -> str:
    return f"{2 + i % 3} {COLORS[i % 10]} {ANIMALS[(i // 10) % 10]} in field number {i}"


def plan() -> list[Any]:
    from tests.stand_ins.scripts import tool_results

    def layer_two(request: dict[str, Any]) -> list[dict[str, Any]]:
        from tests.stand_ins.scripts import find_paths

        (image,) = find_paths(tool_results(request)[0].content, "image")
        return [
            {"name": "image_to_text", "args": {"image": image}},
            {"name": "object_detection", "args": {"image": image}},
        ]

    def answer(request: dict[str, Any]) -> str:
        by_name = {r.name: r.content for r in tool_results(request)}
        caption = re.search(r"Text: (.*)", by_name["image_to_text"])
        return (
            f"Caption: {caption.group(1) if caption else '?'}\n" + by_name["object_detection"].splitlines()[0]
        )

    return [
        [{"name": "text_to_image", "args": {"prompt": "{subject}"}}],
        layer_two,
        answer,
    ]


def check(i: int, summary: Any, workdir: Path) -> list[str]:
    """Problems with run i's result (empty if it is all its own)."""
    from tests.stand_ins import media

    problems = []
    want = subject(i)
    if media.caption_for(want) not in summary.answer:
        problems.append(f"run {i}: answer lacks its own caption: {summary.answer[:120]!r}")
    images = [a["path"] for a in summary.artifacts if a["task"] == "text-to-image"]
    if len(images) != 1:
        return [*problems, f"run {i}: expected one picture, got {images}"]
    marker = media.read_marker((workdir / images[0]).read_bytes()) or {}
    if marker.get("prompt") != want:
        problems.append(f"run {i}: its picture was drawn for {marker.get('prompt')!r}")
    for call in summary.tool_calls:
        if call["status"] != "ok":
            problems.append(f"run {i}: {call['name']} failed: {call['error']}")
        if "image" in call["args"] and call["args"]["image"] != images[0]:
            problems.append(f"run {i}: {call['name']} read {call['args']['image']}, not {images[0]}")
    return problems


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


PROMPT = "Draw {}. Then caption it and count what is in it."


def serve(hf: Any, llm: Any) -> None:
    """The stand-ins' set-up, run in their own process: the plan and the injected latency."""
    rng = random.Random(7)
    llm.on_user(r"Draw (?P<subject>.+?)\. Then caption", plan())
    llm.latency = LLM_LATENCY
    for task in ("text-to-image", "image-to-text", "object-detection"):
        hf.set_latency(round(rng.uniform(0.3, 1.0), 2), task=task)
    hf.set_latency(VIDEO_SECONDS, task="text-to-video")


class SaveClock:
    """Seconds spent in the checkpointer's saves (`aput`, `aput_writes`), waiting for its lock included."""

    def __init__(self, saver: Any) -> None:
        self.seconds, self.saves = 0.0, 0
        for name in ("aput", "aput_writes"):
            setattr(saver, name, self._timed(getattr(saver, name)))

    def _timed(self, save: Any) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await save(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.saves += 1

        return timed

    def reset(self) -> None:
        self.seconds, self.saves = 0.0, 0


@contextlib.asynccontextmanager
async def conversation_store(kind: str, stack: Any) -> AsyncIterator[Any]:
    """None (LangGraph's in-memory saver), or the real store: SQLite in the scratch folder, or PostgreSQL
    on a throwaway server with PostgreSQL's default durability settings."""
    from hugginggpt.agent.store import open_postgres, open_sqlite

    if kind == "memory":
        yield None
    elif kind == "sqlite":
        async with await open_sqlite(stack.workdir / "outputs" / "conversations.sqlite", 600) as store:
            yield store
    else:
        from tests import postgres_server

        with postgres_server.running(durable=True) as server:
            async with await open_postgres(server.create_database("bench"), 600) as store:
                yield store


async def bench(runs: int, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": runs, "store": kind}
    with harness.stack(remote=serve) as stack:
        async with conversation_store(kind, stack) as store:
            if store is None:
                agent = stack.agent()
            else:
                from hugginggpt.agent import build_agent

                agent = build_agent(stack.settings(), checkpointer=store.saver)
            await measure(agent, store, runs, stack, out)
            if kind != "postgres":  # the video calls do not touch the store: measured once
                out["video_alone"], out["videos"] = await videos(stack)
    return out


async def measure(agent: Any, store: Any, runs: int, stack: Any, out: dict[str, Any]) -> None:
    def run(i: int, thread: str) -> Any:
        return harness.run_prompt(agent, PROMPT.format(subject(i)), thread, store=store)

    clock = SaveClock(store.saver) if store is not None else None
    await asyncio.gather(*(run(1000 + i, f"warm-{i}") for i in range(4)))  # imports, Hub, connections
    alone = []
    if clock is not None:
        clock.reset()
    for i in range(3):
        _, seconds = await run(2000 + i, f"alone-{i}")
        alone.append(seconds)
    out["alone"] = harness.median(alone)
    if clock is not None:
        out["alone_save_seconds"], out["alone_saves"] = clock.seconds / 3, clock.saves / 3

    base_rss = rss_mb()
    peak_ok = reset_peak()
    if clock is not None:
        clock.reset()
    started, cpu = time.perf_counter(), time.process_time()
    results = await asyncio.gather(*(run(i, f"run-{i}") for i in range(runs)))
    out["wall"], out["cpu"] = time.perf_counter() - started, time.process_time() - cpu
    if clock is not None:
        out["save_seconds"], out["saves"] = clock.seconds, clock.saves
    out["latencies"] = [seconds for _, seconds in results]
    out["rss_base"], out["rss_peak"] = base_rss, rss_mb("VmHWM") if peak_ok else float("nan")

    problems = [p for i, (summary, _) in enumerate(results) for p in check(i, summary, stack.workdir)]
    files = [a["path"] for summary, _ in results for a in summary.artifacts]
    if len(files) != len(set(files)):
        problems.append("a file appears in two runs' results")
    for i in range(runs):
        state = await agent.aget_state({"configurable": {"thread_id": f"run-{i}"}})
        humans = [m.content for m in state.values["messages"] if m.type == "human"]
        if humans != [PROMPT.format(subject(i))]:
            problems.append(f"thread run-{i} holds other requests: {humans}")
    out["problems"] = problems


async def videos(stack: Any) -> tuple[float, float]:
    """Seconds for one text_to_video call, and for `VIDEOS` of them at once."""
    from hugginggpt.tools import HuggingFaceToolkit

    (tool,) = HuggingFaceToolkit(
        tasks=["text_to_video"],
        settings=stack.settings().toolkit,
        include_find_models=False,
        include_run_plan=False,
    ).get_tools()

    def call(i: int) -> dict[str, Any]:
        return {
            "type": "tool_call",
            "id": f"v{i}",
            "name": tool.name,
            "args": {"prompt": f"sheep number {i}"},
        }

    await tool.ainvoke(call(-1))
    started = time.perf_counter()
    await tool.ainvoke(call(-2))
    alone = time.perf_counter() - started
    started = time.perf_counter()
    done = await asyncio.gather(*(tool.ainvoke(call(i)) for i in range(VIDEOS)))
    if any(m.status != "success" for m in done):
        raise RuntimeError("a video call failed")
    return alone, time.perf_counter() - started


STORES = {"memory": "in-memory saver", "sqlite": "SQLite store", "postgres": "PostgreSQL store"}
WAITS = {
    "memory": "",
    "sqlite": "one SQLite connection: one save at a time per process",
    "postgres": "for one of the pool's 10 connections, and for the event loop",
}


def summarise(data: dict[str, Any]) -> list[dict[str, Any]]:
    lat = data["latencies"]
    problems = data["problems"]
    store = STORES[data["store"]]
    rows = [
        {
            "benchmark": "concurrency",
            "metric": f"{data['runs']} runs at once (3 turns, 3 tools each), {store}: throughput",
            "value": f"{data['runs'] / data['wall']:.1f} runs/s",
            "note": f"all done in {data['wall']:.2f} s; agent process CPU {data['cpu'] / data['runs'] * 1000:.0f} ms a run",
        },
        {
            "benchmark": "concurrency",
            "metric": f"latency per run under load, {store}: p50, p95 (one run alone)",
            "value": f"{harness.median(lat):.2f} s, {harness.percentile(lat, 95):.2f} s",
            "note": f"alone {data['alone']:.2f} s; p95 / alone = {harness.percentile(lat, 95) / data['alone']:.2f}",
        },
    ]
    if "save_seconds" in data:
        saves = max(data["saves"], 1)
        alone = data["alone_save_seconds"] * 1000
        rows.append(
            {
                "benchmark": "concurrency",
                "metric": f"checkpoint writes per run (3 model turns): alone, under load; {store}",
                "value": f"{alone:.0f} ms, {data['save_seconds'] / data['runs'] * 1000:.0f} ms",
                "note": f"{data['alone_saves']:.0f} saves a run, alone {alone / max(data['alone_saves'], 1):.1f} ms "
                f"each; under load {data['save_seconds'] / saves * 1000:.1f} ms each, most of it waiting "
                f"({WAITS[data['store']]}); each step waits for its save",
            }
        )
    rows.append(
        {
            "benchmark": "concurrency",
            "metric": f"memory: agent process RSS before, peak during, {store}",
            "value": f"{data['rss_base']:.0f} MB, {data['rss_peak']:.0f} MB",
            "note": f"+{(data['rss_peak'] - data['rss_base']) / data['runs']:.2f} MB per concurrent run",
        }
    )
    if "videos" in data:
        rows.append(
            {
                "benchmark": "concurrency",
                "metric": f"{VIDEOS} text_to_video calls at once ({VIDEO_SECONDS:g} s jobs, polled in threads)",
                "value": f"{data['videos']:.2f} s",
                "note": f"one alone {data['video_alone']:.2f} s (job + huggingface_hub's 0.5 s queue poll)",
            }
        )
    rows.append(
        {
            "benchmark": "concurrency",
            "metric": f"cross-talk between runs (answers, files, saved threads), {store}",
            "value": "none" if not problems else f"{len(problems)} problems",
            "target": "none",
            "ok": not problems,
            "note": "; ".join(problems[:3]),
        }
    )
    return rows


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--store", choices=sorted(STORES), default="sqlite", help="where threads are kept")
    args = parser.parse_args(argv)
    harness.prepare_environment()
    if args.store == "postgres" and not postgres_available():
        return [harness.skipped("concurrency", f"{STORES['postgres']}: no PostgreSQL binaries installed")]
    return summarise(asyncio.run(bench(args.runs, args.store)))


def postgres_available() -> bool:
    from tests import postgres_server

    return postgres_server.binaries() is not None


if __name__ == "__main__":
    harness.emit(main())
