"""`langgraph.json` serves the agent: load each graph the way LangGraph Server does (parse `graphs`,
import the file by path, read the variable) and run one turn with the server's own checkpointer."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.pregel import Pregel

from agent import AGENT_NAME, MissingSetting, run_turn
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
