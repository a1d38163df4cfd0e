"""`langgraph.json` serves the agent, in LangGraph's own API server.

First the graph as the server loads it (parse `graphs`, import the file by path, read the variable), in
process. Then the real thing (tests/served.py): `python -m hugginggpt.agent.serve` (what `make serve` runs:
`langgraph dev`, in memory) started once for the module on a free port, in a folder holding a copy of
`langgraph.json`, against the stand-ins, driven by the official `langgraph_sdk` client. The server
process refuses and writes down any name look-up or connection beyond loopback.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.pregel import Pregel

from hugginggpt.agent import AGENT_NAME, MissingSetting, run_turn
from hugginggpt.agent.serve import QUIET
from hugginggpt.agent.serve import main as serve_main
from tests import scenarios
from tests.browser import free_port
from tests.served import START_TIMEOUT, Served, launch, running_server, server_env, server_folder
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.hf_plugin import ROUTE_HF_DIR
from tests.stand_ins.openai_api import OpenAIStandIn
from tests.stand_ins.scripts import call

ROOT = Path(__file__).resolve().parent.parent
CONFIG = json.loads((ROOT / "langgraph.json").read_text())


def load_graph(spec: str) -> Any:
    """As langgraph_api does: `./path.py:variable` -> exec the file as a module -> module.__dict__[variable]."""
    path, _, variable = spec.rpartition(":")
    modname = path.replace("/", "__").replace(".py", "").lstrip(".")
    modspec = importlib.util.spec_from_file_location(modname, ROOT / path)
    assert modspec is not None and modspec.loader is not None
    module = importlib.util.module_from_spec(modspec)
    sys.modules[modname] = module
    try:
        modspec.loader.exec_module(module)
    finally:
        del sys.modules[modname]
    return module.__dict__[variable]


def test_config_names_the_agent_graph() -> None:
    assert CONFIG["graphs"] == {AGENT_NAME: "./agent/graph.py:graph"}
    assert CONFIG["dependencies"] == ["."]


async def test_server_loads_the_graph_and_runs_a_turn(
    openai_stand_in, hf_stand_in, no_langsmith, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env: the fixtures' environment only
    monkeypatch.setenv("HUGGINGGPT_OUTPUT_DIR", str(tmp_path / "out"))
    graph = load_graph(CONFIG["graphs"][AGENT_NAME])
    assert isinstance(graph, Pregel) and graph.name == AGENT_NAME
    assert graph.checkpointer is None  # the server supplies persistence
    served = graph.copy(update={"checkpointer": InMemorySaver()})  # what the server does per run

    openai_stand_in.script([[call("text_to_image", prompt="a sheep")], "Here is your sheep."])
    events = [e async for e in run_turn(served, "Draw a sheep", thread="server-thread")]
    summary = events[-1].summary
    assert summary.answer == "Here is your sheep."
    assert [c["status"] for c in summary.tool_calls] == ["ok"]
    assert Path(summary.artifacts[0]["path"]).is_file()
    state = await served.aget_state({"configurable": {"thread_id": "server-thread"}})
    assert len(state.values["messages"]) == 4  # kept by the server's checkpointer


def test_loading_without_keys_is_a_clear_error(
    no_langsmith, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "HF_TOKEN", "HUGGINGFACEHUB_API_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingSetting, match="OPENAI_API_KEY is not set"):
        load_graph(CONFIG["graphs"][AGENT_NAME])


# ---------------------------------------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
    _hf_stand_in_server: HFStandIn,
    openai_stand_in_server: OpenAIStandIn,
) -> Iterator[Served]:
    """One server for the module (it takes seconds to start; `make bench` times it)."""
    folder = tmp_path_factory.mktemp("served")
    with running_server(folder, _hf_stand_in_server.url, openai_stand_in_server.base_url) as server:
        yield server


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def after_last_human(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    last = max(i for i, m in enumerate(messages) if m["type"] == "human")
    return messages[last + 1 :]


def tool_calls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for m in messages if m["type"] == "ai" for c in m.get("tool_calls") or []]


def test_the_server_lists_the_graph(served: Served) -> None:
    (assistant,) = served.client().assistants.search(graph_id=AGENT_NAME)
    assert assistant["graph_id"] == AGENT_NAME and assistant["name"] == AGENT_NAME
    schema = served.client().assistants.get_schemas(assistant["assistant_id"])
    assert "messages" in schema["input_schema"]["properties"]


def test_a_thread_keeps_the_conversation_and_its_files(
    served: Served, hf_stand_in: HFStandIn, openai_stand_in: OpenAIStandIn
) -> None:
    """Two runs on one thread: the second run's tools work on the file the first run made."""
    scenarios.register_all(openai_stand_in)
    client = served.client()
    thread = client.threads.create()["thread_id"]

    first = client.runs.wait(thread, AGENT_NAME, input=said(scenarios.SHEEP_PROMPT))
    (made,) = tool_calls(after_last_human(first["messages"]))
    assert made["name"] == "text_to_image"
    tool_message = first["messages"][-2]
    image = re.search(r"Made an image: (\S+)", tool_message["content"]).group(1)  # type: ignore[union-attr]
    assert (served.folder / image).is_file() and image.startswith("outputs/images/")

    second = client.runs.wait(thread, AGENT_NAME, input=said(scenarios.SHEEP_FOLLOW_UP))
    turn = after_last_human(second["messages"])
    calls = tool_calls(turn)
    assert {c["name"] for c in calls} == {"image_to_text", "object_detection", "visual_question_answering"}
    assert {c["args"]["image"] for c in calls} == {image}
    results = [m for m in turn if m["type"] == "tool"]
    assert len(results) == 3 and not [m for m in results if m.get("status") == "error"], results
    assert "There are 3 sheep in the image." in second["messages"][-1]["content"]
    assert len(second["messages"]) == len(first["messages"]) + 1 + len(turn)  # the thread kept turn one


def test_streaming_shows_the_tool_calls_as_they_happen(
    served: Served, hf_stand_in: HFStandIn, openai_stand_in: OpenAIStandIn
) -> None:
    """`stream_mode=["updates", "messages"]`: the tool call (streamed as the model writes it, then as the
    model step's update) arrives while the tool still runs; the answer streams in pieces."""
    scenarios.register_all(openai_stand_in)
    hf_stand_in.set_latency(2.0, task="text-to-image")
    client = served.client()
    thread = client.threads.create()["thread_id"]
    parts = [
        (time.monotonic(), part.event, part.data)
        for part in client.runs.stream(
            thread, AGENT_NAME, input=said(scenarios.SHEEP_PROMPT), stream_mode=["updates", "messages"]
        )
    ]

    def first(found: Any) -> float:
        return next(t for t, event, data in parts if found(event, data))

    def calls_t2i(message: dict[str, Any]) -> bool:
        return any(c.get("name") == "text_to_image" for c in message.get("tool_calls") or [])

    streamed_call = first(lambda e, d: e.startswith("messages") and isinstance(d, list) and calls_t2i(d[0]))
    model_update = first(
        lambda e, d: e == "updates" and "model" in d and calls_t2i(d["model"]["messages"][-1])
    )
    tool_done = first(lambda e, d: e == "updates" and "tools" in d)
    assert streamed_call <= model_update < tool_done
    assert tool_done - model_update >= 1.5, "the tool call came with its result, not as it happened"
    answer_pieces = {d[0]["content"] for _, e, d in parts if e == "messages/partial" and d[0]["type"] == "ai"}
    assert len([p for p in answer_pieces if "Here is the image" in p]) > 1  # the answer grew as it streamed


def test_nothing_but_the_stand_ins_is_reached(
    served: Served, hf_stand_in: HFStandIn, openai_stand_in: OpenAIStandIn
) -> None:
    """No analytics, version check, usage metadata or tracing: the guard saw nothing beyond loopback."""
    scenarios.register_all(openai_stand_in)
    done = served.client().runs.wait(None, AGENT_NAME, input=said(scenarios.POEM_PROMPT))
    assert scenarios.POEM in done["messages"][-1]["content"]
    assert hf_stand_in.inference_requests(task="text-to-speech") and openai_stand_in.requests
    guard = served.guard.read_text() if served.guard.exists() else ""
    assert guard == ""
    log = served.log.read_text()
    assert "skipping metadata loop" in log and "Starting metadata loop" not in log


def test_a_missing_key_stops_the_server_at_start(
    tmp_path: Path, _hf_stand_in_server: HFStandIn, openai_stand_in_server: OpenAIStandIn
) -> None:
    folder = server_folder(tmp_path / "nokey")
    env = server_env(_hf_stand_in_server.url, openai_stand_in_server.base_url, folder)
    del env["OPENAI_API_KEY"]
    proc = launch(folder, env, free_port())
    try:
        proc.wait(timeout=START_TIMEOUT)
    finally:
        proc.kill()
    log = (folder / "server.log").read_text()
    assert proc.returncode != 0, log[-2000:]
    assert "OPENAI_API_KEY is not set" in log and "Application startup failed" in log


def test_the_cli_reports_nothing_with_analytics_off(tmp_path: Path) -> None:
    """langgraph-cli posts a usage report for each command unless LANGGRAPH_CLI_NO_ANALYTICS=1 (the guard
    sees it try); with hugginggpt.agent.serve's variables it tries nothing."""
    folder = server_folder(tmp_path / "cli")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LANGGRAPH_", "HUGGINGGPT_"))}
    base["PYTHONPATH"] = str(ROUTE_HF_DIR)  # the guard only: its sitecustomize finds the repository itself
    seen = {}
    for case, extra in {"default": {}, "quiet": QUIET}.items():
        log = folder / f"{case}.log"
        env = {**base, **extra, "HUGGINGGPT_TEST_LOOPBACK_LOG": str(log)}
        done = subprocess.run([sys.executable, "-m", "langgraph_cli", "validate"], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0 and "is valid" in done.stdout, done.stderr
        seen[case] = log.read_text() if log.exists() else ""
    assert "resolve" in seen["default"] and seen["quiet"] == ""


def test_make_serve_runs_agent_serve_on_host_and_port() -> None:
    done = subprocess.run(["make", "-n", "--no-print-directory", "serve", "HOST=0.0.0.0", "PORT=8123"],
                          cwd=ROOT, capture_output=True, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if "hugginggpt.agent.serve" in line]
    assert line.endswith(" -m hugginggpt.agent.serve --host 0.0.0.0 --port 8123")


def test_serve_outside_the_project_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert serve_main([]) == 2
    err = capsys.readouterr().err
    assert err == "serve: no langgraph.json here: run it in the project's folder.\n"
