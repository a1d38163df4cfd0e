"""Running the real command line as a user does, in a child process talking to the loopback stand-ins."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests import scenarios
from tests.stand_ins.openai_api import OpenAIStandIn

REPO = Path(__file__).resolve().parent.parent
CLI = str(REPO / "run_agent.py")
TURN = ["human", "ai+calls", "tool", "ai"]  # one turn of a one-tool request, as `turns_of` shows it


def cli_environment(hf_subprocess_env: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The environment of a CLI child: stand-ins for HF and the LLM, no HUGGINGGPT_* leaking in."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HUGGINGGPT_")}
    environment.update(hf_subprocess_env)
    environment.update(
        OPENAI_API_KEY=os.environ["OPENAI_API_KEY"],
        OPENAI_BASE_URL=os.environ["OPENAI_BASE_URL"],
        HUGGINGGPT_TIMEOUT="10",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return environment


@pytest.fixture
def env(
    hf_subprocess_env: dict[str, str],
    openai_stand_in: OpenAIStandIn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """A CLI child's environment, the planner stand-in knowing every scenario, the test's folder as cwd."""
    scenarios.register_all(openai_stand_in)
    monkeypatch.chdir(tmp_path)
    return cli_environment(hf_subprocess_env)


def start(env: Mapping[str, str], *args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, CLI, *args], env=dict(env), cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish_all(processes: list[subprocess.Popen[str]], timeout: float) -> list[tuple[int, str, str]]:
    """(exit code, stdout, stderr) of each process; none is left running, even when one times out."""
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=timeout)
            results.append((process.returncode, out, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return results


def run(
    env: Mapping[str, str], *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, CLI, *args], env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def saved_messages(store: Path | str, thread: str) -> list[Any]:
    """The messages a thread's latest checkpoint holds, read with LangGraph's own (sync) savers from an
    SQLite file or a postgresql:// URL."""
    config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    if isinstance(store, str) and store.startswith("postgresql://"):
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(store) as saver:
            try:
                saved = saver.get_tuple(config)
            except psycopg.errors.UndefinedTable:  # the first process has not set the tables up yet
                return []
    else:
        from langgraph.checkpoint.sqlite import SqliteSaver

        with contextlib.closing(sqlite3.connect(store, check_same_thread=False)) as conn:
            saved = SqliteSaver(conn).get_tuple(config)
    return list(saved.checkpoint["channel_values"].get("messages", [])) if saved else []


def turns_of(messages: list[Any]) -> list[list[str]]:
    """The history as turns of message kinds: human, ai+calls, tool, ai (one list per human message)."""
    turns: list[list[str]] = []
    for message in messages:
        kind = "ai+calls" if message.type == "ai" and message.tool_calls else message.type
        if kind == "human" or not turns:
            turns.append([])
        turns[-1].append(kind)
    return turns


def ends_with_open_calls(store: Path | str, thread: str) -> bool:
    """Whether the thread's saved history ends with tool calls not yet answered (a turn mid-tool)."""
    if isinstance(store, Path) and not store.is_file():
        return False
    messages = saved_messages(store, thread)
    return bool(messages) and messages[-1].type == "ai" and bool(messages[-1].tool_calls)


def wait_for(condition: Any, seconds: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
