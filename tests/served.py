"""LangGraph's API server for the tests and benchmarks: `python -m hugginggpt.agent.serve` (what `make serve` runs) in a
folder holding a copy of `langgraph.json`, with huggingface_hub routed to the HF stand-in, ChatOpenAI
pointed at the OpenAI stand-in, and every look-up or connection beyond loopback refused and written down
(tests/stand_ins/loopback_guard.py)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.browser import free_port, stop
from tests.stand_ins.hf_plugin import routed_env
from tests.stand_ins.langsmith_plugin import LANGSMITH_TEST_KEY
from tests.stand_ins.openai_api import DEFAULT_API_KEY

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 150  # seconds for the server to answer /ok (about 4 s on an idle machine)
OWN_PREFIXES = ("HUGGINGGPT_", "LANGSMITH_", "LANGCHAIN_", "LANGGRAPH_", "OPENAI_", "HF_")


@dataclass
class Served:
    url: str
    folder: Path  # the server's working folder: langgraph.json, outputs/, .langgraph_api/
    log: Path  # the server's stdout and stderr
    guard: Path  # look-ups and connections beyond loopback (none expected)
    started_in: float  # seconds from launch to the first answer of /ok

    def client(self) -> Any:
        from langgraph_sdk import get_sync_client

        return get_sync_client(url=self.url, api_key=None)


def server_folder(folder: Path) -> Path:
    """A folder laid out as the project is for the server: the same langgraph.json, the graph's file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "langgraph.json").write_text((ROOT / "langgraph.json").read_text())
    (folder / "agent").symlink_to(ROOT / "agent", target_is_directory=True)
    return folder  # no .env: the server reads only the environment it is given


def server_env(hf_url: str, llm_url: str, folder: Path) -> dict[str, str]:
    """The server's environment: routed to the stand-ins, the keys set, a LangSmith key but no tracing."""
    env = routed_env(hf_url, {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)})
    env.update(
        OPENAI_API_KEY=DEFAULT_API_KEY,
        OPENAI_BASE_URL=llm_url,
        HF_HOME=str(folder / "hf_home"),
        HUGGINGGPT_TIMEOUT="10",
        HUGGINGGPT_RETRY_DELAY="0",
        HUGGINGGPT_TEST_LOOPBACK_LOG=str(folder / "guard.log"),
        LANGSMITH_API_KEY=LANGSMITH_TEST_KEY,  # a user's key, tracing not asked for: nothing may go there
        NO_PROXY="127.0.0.1,localhost,::1",
        PYTHONUNBUFFERED="1",
    )
    return env


def launch(folder: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """Start the server (output to folder/server.log)."""
    with (folder / "server.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "hugginggpt.agent.serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ok", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT} s:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def running_server(
    folder: Path, hf_url: str, llm_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[Served]:
    """The server on a free loopback port, up; stopped (SIGTERM) afterwards."""
    folder = server_folder(folder)
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    env = {**server_env(hf_url, llm_url, folder), **(extra_env or {})}
    proc = launch(folder, env, int(url.rsplit(":", 1)[1]))
    try:
        wait_until_up(proc, url, folder / "server.log")
        yield Served(url, folder, folder / "server.log", folder / "guard.log", time.monotonic() - started)
    finally:
        stop(proc, grace=20)
