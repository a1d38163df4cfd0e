"""Start-up: `run_agent.py --help`, the time until an interactive chat shows `you>`, and the time to a first
answer with `--prompt` from an LLM that answers at once (imports, settings, SQLite, build_agent, one model
turn, exit): the start-up a one-shot request pays. And LangGraph's API server (`make serve`): from launch
to its first answer of /ok.

Each is a fresh process (median of several); only the stand-ins are asked.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import harness

TARGET = 1.5
REPEAT = 5
SERVER_REPEAT = 3  # each launch takes seconds
CLI = str(harness.REPO / "run_agent.py")


def environment(llm_url: str) -> dict[str, str]:
    from tests.stand_ins.openai_api import DEFAULT_API_KEY

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUGGINGGPT_", "OPENAI_", "LANGSMITH_"))}
    env.update(
        OPENAI_API_KEY=DEFAULT_API_KEY,
        OPENAI_BASE_URL=llm_url,
        HF_TOKEN=harness.HF_TEST_TOKEN,  # no tool is called: Hugging Face is never contacted
        LANGSMITH_TRACING="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def time_help(env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, CLI, "--help"], env=env, cwd=cwd, capture_output=True, check=True)
    return time.perf_counter() - start


def time_answer(env: dict[str, str], cwd: str) -> float:
    """`--prompt`: start, build the agent, one model turn answered at once, exit."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, CLI, "--prompt", "hello"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0 or "Hello there." not in done.stdout:
        raise RuntimeError(
            f"run_agent.py exited {done.returncode}: {done.stdout[-300:]} {done.stderr[-500:]}"
        )
    return time.perf_counter() - start


def time_prompt(env: dict[str, str], cwd: str) -> tuple[float, float]:
    """On a terminal: (seconds until `you>` is shown, seconds until it has exited after `exit`)."""
    master, slave = pty.openpty()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, CLI], env=env, cwd=cwd, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    seen, shown = b"", None
    try:
        while shown is None:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                raise RuntimeError(f"no prompt within 30 s; got {seen[-300:]!r}")
            chunk = os.read(master, 4096)
            if not chunk:
                raise RuntimeError(f"run_agent.py ended before its prompt: {seen[-300:]!r}")
            seen += chunk
            if b"you>" in seen:
                shown = time.perf_counter() - start
        os.write(master, b"exit\n")
        while True:  # drain until the child closes the terminal
            ready, _, _ = select.select([master], [], [], 30)
            try:
                if not ready or not os.read(master, 4096):
                    break
            except OSError:
                break
        proc.wait(timeout=30)
        if proc.returncode != 0:
            raise RuntimeError(f"run_agent.py exited {proc.returncode}: {seen[-300:]!r}")
        return shown, time.perf_counter() - start
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def time_server(hf_url: str, llm_url: str, cwd: str) -> float:
    """`python -m hugginggpt.agent.serve` (langgraph dev) in a fresh folder: seconds until /ok answers."""
    from tests.served import running_server

    with running_server(Path(tempfile.mkdtemp(prefix="served-", dir=cwd)), hf_url, llm_url) as served:
        return served.started_in


def bench(repeat: int) -> dict[str, Any]:
    from tests.stand_ins.hf import HFStandIn
    from tests.stand_ins.openai_api import OpenAIStandIn

    cwd = tempfile.mkdtemp(prefix="startup-", dir=harness.prepare_environment())
    with OpenAIStandIn() as llm, HFStandIn() as hf:
        llm.on_user(r".", ["Hello there."])
        env = environment(llm.base_url)
        time_help(env, cwd)  # warm the file cache
        time_answer(env, cwd)
        return {
            "help": [time_help(env, cwd) for _ in range(repeat)],
            "answer": [time_answer(env, cwd) for _ in range(repeat)],
            "prompt": [time_prompt(env, cwd) for _ in range(repeat)],
            "server": [time_server(hf.url, llm.base_url, cwd) for _ in range(min(repeat, SERVER_REPEAT))],
        }


def summarise(data: dict[str, Any]) -> list[dict[str, Any]]:
    med = harness.median
    shown = med([s for s, _ in data["prompt"]])
    return [
        {
            "benchmark": "start-up",
            "metric": "run_agent.py --help",
            "value": f"{med(data['help']):.2f} s",
            "target": f"<= {TARGET} s",
            "ok": med(data["help"]) <= TARGET,
        },
        {
            "benchmark": "start-up",
            "metric": "chat on a terminal: until `you>` is shown",
            "value": f"{shown:.2f} s",
            "target": f"<= {TARGET} s",
            "ok": shown <= TARGET,
        },
        {
            "benchmark": "start-up",
            "metric": "`--prompt` to a first answer (LLM answers at once; no tools)",
            "value": f"{med(data['answer']):.2f} s",
            "note": f"median of {len(data['answer'])} fresh processes; imports are most of it",
        },
        {
            "benchmark": "start-up",
            "metric": "LangGraph API server (`make serve`): launch to /ok",
            "value": f"{med(data['server']):.2f} s",
            "note": f"median of {len(data['server'])} launches (langgraph dev, in memory)",
        },
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    return summarise(bench(REPEAT))


if __name__ == "__main__":
    harness.emit(main())
