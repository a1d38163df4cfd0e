"""LangSmith tracing of a real agent run, captured by a loopback LangSmith API: the tree, the metadata,
and that nothing secret or bulky leaves.

The agent is the real one (ChatOpenAI against the OpenAI stand-in, the HF tools against the HF stand-in);
only the network ends are stand-ins.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import langsmith
import pytest
from langchain_core.callbacks import CallbackManager
from langchain_core.tracers.context import collect_runs
from langchain_core.tracers.langchain import LangChainTracer
from langgraph.checkpoint.memory import InMemorySaver
from langsmith.run_trees import get_cached_client

from hugginggpt.agent import build_agent, run_turn
from hugginggpt.agent.events import TurnSummary
from hugginggpt.agent.settings import AgentSettings
from hugginggpt.agent.tracing import (
    agent_tracer,
    close_tracing,
    hide_bulky,
    install_tracing,
    reset_tracing,
    scrubber,
    tracers_of,
)
from hugginggpt.tools import HFSettings, HuggingFaceToolkit
from tests.fakes import ScriptedModel
from tests.stand_ins.langsmith_api import LangSmithStandIn
from tests.stand_ins.langsmith_plugin import LANGSMITH_TEST_KEY, LANGSMITH_TEST_PROJECT
from tests.stand_ins.scripts import call
from tests.test_plan_stream import WAIT, Hold

PLANTED = "hf_PlantedInToolInput0123456789abcdefXY"  # an HF-token-shaped string inside a tool input
TOOL_KEYS = ("task", "model", "provider", "seconds", "failed_models", "files", "mime_types")
ROOT_KEYS = ("thread_id", "llm_model", "experiment")


@pytest.fixture(autouse=True)
def _forget_clients():
    yield
    reset_tracing()


async def run(agent: Any, text: str, thread: str, config: dict[str, Any] | None = None) -> TurnSummary:
    async for event in run_turn(agent, text, thread=thread, config=config):
        summary = getattr(event, "summary", None)
    assert summary is not None
    return summary


def secrets_in(data: bytes, secrets: list[str]) -> list[str]:
    """The secrets (and any hf_/sk-/lsv2_-shaped strings) found in `data`."""
    found = [s for s in secrets if s.encode() in data]
    shapes = rb"hf_[A-Za-z0-9]{16,}|sk-[A-Za-z0-9_-]{16,}|lsv2_[a-z]{2}_[A-Za-z0-9_]{16,}"
    return found + [m.decode() for m in re.findall(shapes, data)]


def runs_named(ls: LangSmithStandIn, name: str) -> list[dict[str, Any]]:
    return [r for r in ls.runs().values() if r.get("name") == name]


def metadata(run: dict[str, Any]) -> dict[str, Any]:
    return (run.get("extra") or {}).get("metadata") or {}


async def test_agent_run_is_one_readable_tree_without_secrets(
    langsmith_stand_in, openai_stand_in, hf_stand_in, tmp_path: Path
) -> None:
    ls = langsmith_stand_in
    first = hf_stand_in.models("text-classification")[0]["id"]
    hf_stand_in.add_fault("server_error", model=first, times=1)  # the classifier falls back once
    openai_stand_in.script(
        [
            [
                call("text_to_image", prompt=f"three sheep in a field {PLANTED}"),
                call("text_classification", text="What a lovely field of sheep!"),
            ],
            "Here are your sheep, and the mood is positive.",
        ]
    )
    settings = AgentSettings.from_env(output_dir=tmp_path / "out")
    agent = build_agent(settings, checkpointer=InMemorySaver())
    config = {"tags": ["experiment:tracing"], "metadata": {"experiment": "tracing-test"}}

    summary = await run(agent, "Draw three sheep and tell me the mood of my sentence.", "sheep-1", config)
    close_tracing(agent)  # its queued runs sent

    assert [c["status"] for c in summary.tool_calls] == ["ok", "ok"], summary.tool_calls
    print(ls.tree(ROOT_KEYS + TOOL_KEYS))  # the captured tree, for the record (-s)
    runs = ls.runs()
    roots = [r for r in runs.values() if not r.get("parent_run_id")]
    assert [r["name"] for r in roots] == ["hugginggpt"], ls.tree()
    root = roots[0]
    assert {r["trace_id"] for r in runs.values()} == {root["id"]}
    assert {"hugginggpt", "experiment:tracing"} <= set(root["tags"])
    assert metadata(root)["thread_id"] == "sheep-1"
    assert metadata(root)["llm_model"] == settings.llm.openai_model
    assert metadata(root)["experiment"] == "tracing-test"
    assert root["session_name"] == LANGSMITH_TEST_PROJECT
    usage = metadata(root)["usage"]  # what the turn cost, as the stand-ins counted it
    assert usage == summary.usage
    assert usage["model_calls"] == len(openai_stand_in.chat_requests) == 2
    assert usage["input_tokens"] == sum(u["prompt_tokens"] for u in openai_stand_in.usage_sent)
    assert usage["hf_requests"] == len(hf_stand_in.inference_requests()) == 3  # the fallback included

    def ancestors(run: dict[str, Any]) -> list[str]:
        names = []
        while run.get("parent_run_id"):
            run = runs[run["parent_run_id"]]
            names.append(run["name"])
        return names

    llm_runs = [r for r in runs.values() if r["run_type"] == "llm"]
    assert [r["name"] for r in llm_runs] == ["ChatOpenAI", "ChatOpenAI"]
    assert all(ancestors(r)[-1] == "hugginggpt" for r in llm_runs)

    tool_runs = {r["name"]: r for r in runs.values() if r["run_type"] == "tool"}
    assert set(tool_runs) == {"text_to_image", "text_classification"}
    image = metadata(tool_runs["text_to_image"])
    assert image["task"] == "text-to-image" and image["provider"] and image["model"]
    assert image["failed_models"] == [] and image["seconds"] >= 0
    assert image["mime_types"][0].startswith("image/") and Path(image["files"][0]).is_file()
    assert "hf-task:text-to-image" in tool_runs["text_to_image"]["tags"]
    classify = metadata(tool_runs["text_classification"])
    assert classify["failed_models"] == [first] and classify["model"] != first
    assert {"hf-task:text-classification", "hf-fallback"} <= set(tool_runs["text_classification"]["tags"])
    assert all(ancestors(r)[-1] == "hugginggpt" for r in tool_runs.values())

    captured = ls.captured_bytes()
    assert b"three sheep in a field" in captured  # the tool input was traced...
    assert b"[redacted]" in captured  # ...with the planted string redacted
    secrets = [PLANTED, settings.toolkit.token() or "", openai_stand_in.api_key or "", LANGSMITH_TEST_KEY]
    assert secrets_in(captured, secrets) == []
    made = Path(image["files"][0]).read_bytes()  # no image bytes, raw or base64
    assert made[:64] not in captured and base64.b64encode(made[:48]) not in captured
    assert any(r.headers.get("content-encoding") == "zstd" for r in ls.requests)


@pytest.mark.parametrize(("streamed", "slow"), [(True, 0.0), (True, 0.5), (False, 0.0)])
async def test_a_plan_is_one_tool_run_with_a_child_run_per_step(
    langsmith_stand_in, openai_stand_in, hf_stand_in, tmp_path: Path, streamed: bool, slow: float
) -> None:
    """Each step is a child run of the run_plan run, also when it started while the model wrote the plan
    (before the run_plan run existed: its trace is held until then, tools/plans/held.py), whether it
    ended before that run started or (`slow`, likely) after."""
    ls = langsmith_stand_in
    hf_stand_in.set_latency(slow, task="text-to-image")
    plan = {"steps": [{"id": "s1", "tool": "text_to_image", "args": {"prompt": "three sheep"}},
                      {"id": "s2", "tool": "image_to_text", "args": {"image": "$s1"}}]}  # fmt: skip
    openai_stand_in.script([call("run_plan", **plan), "Three sheep, captioned."])
    settings = AgentSettings.from_env(output_dir=tmp_path / "out", plan_streaming=streamed)
    agent = build_agent(settings, checkpointer=InMemorySaver())
    config = {"tags": ["experiment:plans"], "metadata": {"experiment": "plan-test"}}
    summary = await run(agent, "Draw three sheep and caption the picture.", "plan-1", config)
    close_tracing(agent)  # its queued runs sent
    assert [(c["name"], c["status"]) for c in summary.tool_calls] == [
        ("text_to_image", "ok"),
        ("image_to_text", "ok"),
    ]
    runs = ls.runs()
    tools_run = [r for r in runs.values() if r["run_type"] == "tool"]
    (planned,) = [r for r in tools_run if r["name"] == "run_plan"]
    children = {r["name"]: r for r in tools_run if r.get("parent_run_id") == planned["id"]}
    assert set(children) == {"text_to_image", "image_to_text"}, ls.tree()
    assert set(children) == {r["name"] for r in tools_run} - {"run_plan"}  # and nowhere else
    for child in children.values():  # a child never starts before its parent (LangSmith refuses that)
        assert child["start_time"] >= planned["start_time"] and child["dotted_order"].startswith(
            planned["dotted_order"] + "."
        )
    caption = children["image_to_text"]
    assert "hf-task:image-to-text" in caption["tags"] and "experiment:plans" in caption["tags"]
    meta = metadata(caption)
    assert meta["task"] == "image-to-text" and meta["model"] and meta["thread_id"] == "plan-1"
    assert meta["plan_step"] == "s2" and meta["plan_args"] == {"image": "$s1"}  # the reference, as planned
    assert caption["trace_id"] == planned["trace_id"]
    assert meta["plan"].startswith("call_") == streamed  # a streamed plan's id is its run_plan call's id
    image = metadata(children["text_to_image"])["files"][0]
    assert caption["inputs"]["image"] == image  # and as resolved


async def test_steps_of_a_streamed_plan_nobody_runs_are_traced_where_they_started(
    langsmith_stand_in, openai_stand_in, hf_stand_in, tmp_path: Path
) -> None:
    """A streamed plan refused as a whole: its cancelled steps' held runs are sent under the model node
    that wrote the plan, in the turn's one trace, ended as cancelled."""
    ls = langsmith_stand_in
    too_many = [{"id": f"s{i}", "tool": "text_to_speech", "args": {"text": f"baa {i}"}} for i in range(1, 5)]
    hf_stand_in.set_latency(WAIT, task="text-to-speech")  # still running when the plan is refused
    hold = Hold('"id":"s4"', lambda: bool(hf_stand_in.inference_requests(task="text-to-speech")))
    openai_stand_in.before_chunk = hold  # s4 (one too many) is written once a step's request is out
    openai_stand_in.script([call("run_plan", steps=too_many), "The plan was refused."])
    settings = AgentSettings.from_env(output_dir=tmp_path / "out", max_plan_steps=3)
    agent = build_agent(settings, checkpointer=InMemorySaver())
    assert (await run(agent, "Say baa four times.", "plan-2")).answer == "The plan was refused."
    close_tracing(agent)  # its queued runs sent
    assert hold.ready_in_time
    runs = ls.runs()
    (root,) = [r for r in runs.values() if not r.get("parent_run_id")]
    steps = [r for r in runs.values() if r["name"] == "text_to_speech"]
    assert steps and all(r["trace_id"] == root["id"] for r in steps), ls.tree()
    assert {runs[r["parent_run_id"]]["name"] for r in steps} == {"model"}  # the node that wrote the plan
    assert all(r.get("end_time") and "CancelledError" in (r.get("error") or "") for r in steps), steps


async def test_tracing_is_off_by_default(
    no_langsmith, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    settings = AgentSettings.from_env(output_dir=tmp_path)
    assert agent_tracer(settings) is None and install_tracing(settings) is None
    agent = build_agent(settings, model=ScriptedModel(turns=["Hello."]), tools=[])
    assert (await run(agent, "hi", "t")).answer == "Hello."
    handlers = CallbackManager.configure().handlers
    assert not any(isinstance(h, LangChainTracer) for h in handlers)


async def test_legacy_variables_and_env_file(
    no_langsmith, _langsmith_stand_in_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """LANGCHAIN_TRACING_V2 and friends work, read from .env as the other settings are."""
    ls = _langsmith_stand_in_server
    ls.reset()
    (tmp_path / ".env").write_text(
        f"LANGCHAIN_TRACING_V2=true\nLANGCHAIN_ENDPOINT={ls.url}\nLANGCHAIN_API_KEY={LANGSMITH_TEST_KEY}\n"
        "LANGCHAIN_PROJECT=legacy\nHUGGINGGPT_TRACE_TAGS=exp-a, exp-b\nHUGGINGGPT_TRACE_METADATA=run=7\n"
    )
    monkeypatch.chdir(tmp_path)
    agent = build_agent(AgentSettings.from_env(output_dir=tmp_path), model=ScriptedModel(turns=["Hi."]))
    await run(agent, "hello", "legacy-thread")
    close_tracing(agent)  # its queued runs sent
    roots = [r for r in ls.runs().values() if not r.get("parent_run_id")]
    assert [r["name"] for r in roots] == ["hugginggpt"]
    assert roots[0]["session_name"] == "legacy"
    assert {"exp-a", "exp-b"} <= set(roots[0]["tags"]) and metadata(roots[0])["run"] == "7"
    ls.reset()


def test_tool_runs_carry_metadata_in_any_chain(hf_stand_in, tmp_path: Path) -> None:
    """The tool annotates its run for whatever tracer is listening, here a plain run collector."""
    settings = HFSettings.from_env(output_dir=tmp_path)
    tool = HuggingFaceToolkit(settings=settings, tasks=["text_classification"]).get_tools()[0]
    with collect_runs() as collector:
        tool.invoke({"text": "What a lovely day"})
    run = collector.traced_runs[0]
    assert run.name == "text_classification" and "hf-task:text-classification" in run.tags
    assert run.metadata["task"] == "text-classification" and run.metadata["model"]


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def recovered() -> Iterator[contextlib.ExitStack]:
    """Stand-ins that come back after an outage and stay up to the end of the session, so the
    abandoned clients' background retries end quietly (and reach no other test's stand-in)."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.mark.parametrize("outage", ["http-503", "connection-refused"])
async def test_langsmith_outage_never_breaks_a_run(
    outage: str, recovered, no_langsmith, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port = unused_port()
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("LANGSMITH_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("LANGSMITH_API_KEY", LANGSMITH_TEST_KEY)
    monkeypatch.setenv("LANGSMITH_USE_DAEMON", "true")  # its retries must not hold up pytest's exit
    server = LangSmithStandIn(port=port)
    if outage == "http-503":
        recovered.enter_context(server).down = True
    agent = build_agent(AgentSettings.from_env(output_dir=tmp_path), model=ScriptedModel(turns=["Fine."]))
    started = time.monotonic()
    assert (await run(agent, "hello", "down")).answer == "Fine."
    assert time.monotonic() - started < 5  # nothing waits for LangSmith
    close_tracing(agent, flush=False)
    if outage == "connection-refused":
        recovered.enter_context(server)
    server.down = False


async def test_missing_api_key_leaves_tracing_off(
    no_langsmith, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    settings = AgentSettings.from_env(output_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="hugginggpt.agent.tracing"):
        assert install_tracing(settings) is None  # an entry point: tracing off for the whole process
    assert "LANGSMITH_API_KEY is not set" in caplog.text
    assert langsmith.get_tracing_context()["enabled"] is False
    agent = build_agent(settings, model=ScriptedModel(turns=["Ok."]))
    assert tracers_of(agent) == []
    assert (await run(agent, "hello", "nokey")).answer == "Ok."


def process_tracing() -> dict[str, Any]:
    """LangSmith's process-wide tracing settings, and the client its runs fall back to."""
    context = langsmith.get_tracing_context()
    return {
        "enabled": context["enabled"],
        "project_name": context["project_name"],
        "client": get_cached_client(),
    }


async def test_build_agent_leaves_langsmith_process_settings_alone(
    langsmith_stand_in: LangSmithStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An embedded `build_agent` traces its own runs, scrubbed, through a tracer of its own; LangSmith's
    process-wide client and switch stay as they were, with tracing on, off or unusable."""
    before = process_tracing()
    agent = build_agent(AgentSettings.from_env(output_dir=tmp_path), model=ScriptedModel(turns=["Hi."]))
    (tracer,) = tracers_of(agent)
    assert process_tracing() == before and tracer.client is not before["client"]
    await run(agent, f"hello {PLANTED}", "embedded")
    close_tracing(agent)  # its queued runs sent
    captured = langsmith_stand_in.captured_bytes()
    assert b"hello" in captured and PLANTED.encode() not in captured  # traced by the agent's scrubbing client
    unusable = AgentSettings.from_env(output_dir=tmp_path, langsmith_endpoint=None, langsmith_api_key=None)
    with caplog.at_level(logging.WARNING, logger="hugginggpt.agent.tracing"):
        assert tracers_of(build_agent(unusable, model=ScriptedModel(turns=["Hi."]), tools=[])) == []
    assert "LANGSMITH_API_KEY is not set" in caplog.text and process_tracing() == before


def test_install_tracing_is_the_entry_points_process_wide_setup(langsmith_stand_in: LangSmithStandIn,
                                                                tmp_path: Path) -> None:  # fmt: skip
    """What only entry points do: LangSmith's global client becomes the scrubbing one, and an exit flush."""
    tracer = install_tracing(AgentSettings.from_env(output_dir=tmp_path))
    assert tracer is not None
    assert process_tracing() == {
        "enabled": True,
        "client": tracer.client,
        "project_name": LANGSMITH_TEST_PROJECT,
    }
    agent = build_agent(AgentSettings.from_env(output_dir=tmp_path), model=ScriptedModel(turns=["Hi."]),
                        tools=[], callbacks=[tracer])  # fmt: skip
    assert tracers_of(agent) == [tracer]  # the given tracer, no second client


def test_scrubber_hides_secrets_and_bytes() -> None:
    scrub = scrubber({"my-secret-value-123"})
    data = {
        "a": "key my-secret-value-123 and sk-proj-abcdefghijklmnopqrstuvwx and hf_abcdefghijklmnopqrstu",
        "b": ["data:image/png;base64," + "A" * 200, "QUJD" * 200, list(range(100)), "short text"],
        "c": {"d": "Bearer abcdefghijklmnop", "e": "lsv2_pt_" + "a" * 32 + "_beef"},
    }
    out = scrub(data)
    text = str(out)
    assert "my-secret" not in text and "sk-proj" not in text and "hf_abc" not in text and "lsv2" not in text
    assert "abcdefghijklmnop" not in text
    assert (
        out["b"][0].startswith("[") and out["b"][1].startswith("[") and out["b"][2] == "[100 numbers omitted]"
    )
    assert out["b"][3] == "short text"
    assert hide_bulky({"x": [1, 2, 3]}) == {"x": [1, 2, 3]}
