"""No hidden process-wide state: pools and loaded models belong to the toolkit that made them and end with
it; the apps close what their agent opened; importing the web UI changes nothing in the process.
(That `build_agent` leaves LangSmith's process settings alone is in tests/test_tracing.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from hugginggpt.agent.lazy_agent import LazyAgent
from hugginggpt.agent.settings import AgentSettings
from hugginggpt.tools import HFSettings, HuggingFaceToolkit
from tests.stand_ins.hf import HFStandIn

VIDEO_CALL = {"name": "text_to_video", "args": {"prompt": "a sheep"}, "id": "call_1", "type": "tool_call"}
WAIT = 60.0  # seconds an idle worker may take to see its pool shut, on a loaded machine: generous


def offloaded_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("hf-offloaded")}


async def test_two_toolkits_do_not_share_a_pool_and_closing_one_shuts_only_its_own(
    hf_stand_in: HFStandIn, tmp_path: Path
) -> None:
    kits = [HuggingFaceToolkit(settings=HFSettings.from_env(output_dir=tmp_path / name), tasks=["text-to-video"])
            for name in ("a", "b")]  # fmt: skip
    videos, workers = [], []
    for kit in kits:
        before = offloaded_threads()
        message = await kit.get_tools()[0].ainvoke(VIDEO_CALL)  # offloaded: the sync client polls the job
        assert isinstance(message, ToolMessage) and message.status == "success", message.content
        videos.append(message.artifact["files"][0])
        workers.append(offloaded_threads() - before)
    assert all(workers) and not workers[0] & workers[1]  # each call ran on its own toolkit's threads
    pools = [kit.backend.router.offloaded() for kit in kits]
    assert pools[0] is not pools[1]
    assert kits[0].backend.local.pool is not kits[1].backend.local.pool
    assert kits[0].backend.local.models is not kits[1].backend.local.models

    local_pool = kits[0].backend.local.pool
    kits[0].close()
    for thread in workers[0]:
        thread.join(WAIT)
    assert not any(t.is_alive() for t in workers[0])  # the closed toolkit's workers are gone
    assert all(t.is_alive() for t in workers[1])  # the other's are not
    for closed in (pools[0], local_pool):
        with pytest.raises(RuntimeError, match="shutdown"):
            closed.submit(int)
    assert pools[1].submit(int).result(WAIT) == 0
    again = await kits[1].get_tools()[0].ainvoke(VIDEO_CALL)
    assert again.status == "success"
    kits[1].close()


async def test_the_app_agent_closes_the_toolkit_it_made(
    hf_stand_in: HFStandIn, openai_stand_in: Any, tmp_path: Path
) -> None:
    """The web UI's and the served routes' agent: its toolkit's pools and its store end with `aclose`."""
    lazy = LazyAgent(AgentSettings.from_env(env_file=None, output_dir=tmp_path))
    assert await lazy.get() is await lazy.get()  # built once
    assert lazy.toolkit is not None and lazy.store is not None
    pool = lazy.toolkit.backend.router.offloaded()
    await lazy.aclose()
    assert lazy.toolkit is None and lazy.store is None
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(int)


def test_importing_the_web_ui_leaves_the_environment_alone(tmp_path: Path) -> None:
    """Process-wide setup (Gradio's analytics switch) is the `hugginggpt-web` command's, not the module's."""
    script = (
        "import json, os\n"
        "before = dict(os.environ)\n"
        "import hugginggpt.agent.web\n"
        "after = dict(os.environ)\n"
        "print(json.dumps({k: [before.get(k), after.get(k)] for k in before.keys() | after.keys()"
        " if before.get(k) != after.get(k)}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADIO_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {}
