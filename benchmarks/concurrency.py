"""Concurrency and memory: 50 agent runs at once in one process, one event loop, 50 conversation threads.

Each run draws its own picture (a prompt naming run i), then captions it and counts its objects in one
parallel turn, then answers. Latency is injected as in the critical-path benchmark (LLM 0.3 s per turn,
tools 0.3-1.0 s). The stand-ins run in a child process, so the CPU and memory measured are the agent's. Checked for cross-talk: every run's answer quotes the caption of its own picture, its
captioning and detection read its own file, the picture's embedded prompt is its own, no file is shared
between runs, and each thread's saved conversation holds only its own request.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
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


async def bench(runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": runs}
    with harness.stack(remote=serve) as stack:
        agent = stack.agent()
        warm = [harness.run_prompt(agent, PROMPT.format(subject(1000 + i)), f"warm-{i}") for i in range(4)]
        await asyncio.gather(*warm)  # imports, Hub look-ups, connections
        alone = []
        for i in range(3):
            _, seconds = await harness.run_prompt(agent, PROMPT.format(subject(2000 + i)), f"alone-{i}")
            alone.append(seconds)
        out["alone"] = harness.median(alone)

        base_rss = rss_mb()
        peak_ok = reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        results = await asyncio.gather(
            *(harness.run_prompt(agent, PROMPT.format(subject(i)), f"run-{i}") for i in range(runs))
        )
        out["wall"], out["cpu"] = time.perf_counter() - started, time.process_time() - cpu
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
        out["video_alone"], out["videos"] = await videos(stack)
    return out


async def videos(stack: Any) -> tuple[float, float]:
    """Seconds for one text_to_video call, and for `VIDEOS` of them at once."""
    from tools import HuggingFaceToolkit

    (tool,) = HuggingFaceToolkit(
        tasks=["text_to_video"], settings=stack.settings(), include_find_models=False
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


def summarise(data: dict[str, Any]) -> list[dict[str, Any]]:
    lat = data["latencies"]
    problems = data["problems"]
    return [
        {
            "benchmark": "concurrency",
            "metric": f"{data['runs']} runs at once (3 turns, 3 tools each): throughput",
            "value": f"{data['runs'] / data['wall']:.1f} runs/s",
            "note": f"all done in {data['wall']:.2f} s; agent process CPU {data['cpu'] / data['runs'] * 1000:.0f} ms a run",
        },
        {
            "benchmark": "concurrency",
            "metric": "latency per run under load: p50, p95 (one run alone)",
            "value": f"{harness.median(lat):.2f} s, {harness.percentile(lat, 95):.2f} s",
            "note": f"alone {data['alone']:.2f} s; p95 / alone = {harness.percentile(lat, 95) / data['alone']:.2f}",
        },
        {
            "benchmark": "concurrency",
            "metric": "memory: agent process RSS before, peak during",
            "value": f"{data['rss_base']:.0f} MB, {data['rss_peak']:.0f} MB",
            "note": f"+{(data['rss_peak'] - data['rss_base']) / data['runs']:.2f} MB per concurrent run",
        },
        {
            "benchmark": "concurrency",
            "metric": f"{VIDEOS} text_to_video calls at once ({VIDEO_SECONDS:g} s jobs, polled in threads)",
            "value": f"{data['videos']:.2f} s",
            "note": f"one alone {data['video_alone']:.2f} s (job + huggingface_hub's 0.5 s queue poll)",
        },
        {
            "benchmark": "concurrency",
            "metric": "cross-talk between runs (answers, files, saved threads)",
            "value": "none" if not problems else f"{len(problems)} problems",
            "target": "none",
            "ok": not problems,
            "note": "; ".join(problems[:3]),
        },
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    harness.prepare_environment()
    return summarise(asyncio.run(bench(args.runs)))


if __name__ == "__main__":
    harness.emit(main())
