"""The toolkit over MCP, driven by the official `mcp` client SDK: over stdio (the real command as a
subprocess, its huggingface_hub routed to the HF stand-in) and over streamable HTTP (uvicorn on
loopback), plus the round trip: the server's tools back as LangChain tools in `create_agent`."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx2
import mcp_types as types
import pytest
import uvicorn
from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from examples.mcp_client import mcp_tools
from hugginggpt.tools import HFSettings, HuggingFaceToolkit, TaskResult
from hugginggpt.tools.mcp import build_server
from hugginggpt.tools.mcp.command import main as mcp_command
from hugginggpt.tools.mcp.transports import http_app
from hugginggpt.tools.plans.results import PlanResult
from tests import scenarios
from tests.stand_ins import media
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.hf_plugin import HF_TEST_TOKEN
from tests.stand_ins.openai_api import OpenAIStandIn

TRAVERSAL = "../" * 16 + "etc/passwd"  # /etc/passwd from the server's folder, however deep it lies


MCP_TOKEN = "mcp-test-token-0123456789"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("HUGGINGGPT_"):
            monkeypatch.delenv(name)
    return tmp_path


def make_settings(**overrides: Any) -> HFSettings:
    defaults = {"timeout": 10.0, "mcp_progress_seconds": 0.2, "output_dir": Path("outputs").resolve()}
    return HFSettings.from_env(env_file=None, **{**defaults, **overrides})


@contextmanager
def http_server(settings: HFSettings, host: str = "127.0.0.1") -> Iterator[str]:
    """The MCP server's HTTP app on a free port (uvicorn in a thread); yields the loopback /mcp URL."""
    app = http_app(build_server(HuggingFaceToolkit(settings=settings)), settings, host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="mcp-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the MCP HTTP server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture
def http_url(hf_stand_in: HFStandIn, workdir: Path) -> Iterator[str]:
    with http_server(make_settings()) as url:
        yield url


def stdio_server(env: dict[str, str], cwd: Path) -> StdioServerParameters:
    """The real command, `python -m hugginggpt.tools.mcp`, as an MCP client starts it."""
    environment = {k: v for k, v in env.items() if not k.startswith("HUGGINGGPT_") or "_TEST_" in k}
    environment.update(HUGGINGGPT_TIMEOUT="10", PYTHONUNBUFFERED="1")
    return StdioServerParameters(
        command=sys.executable, args=["-m", "hugginggpt.tools.mcp"], env=environment, cwd=cwd
    )


@asynccontextmanager
async def authorized(url: str, token: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))


def file_path(uri: str) -> Path:
    parts = urlsplit(uri)
    assert parts.scheme == "file"
    return Path(url2pathname(parts.path))


def expected_listing() -> list[tuple[str, str, dict[str, Any]]]:
    """What LangChain shows a chat model for each tool: name, description, JSON schema of the arguments."""
    shown = [convert_to_openai_tool(tool)["function"] for tool in HuggingFaceToolkit().get_tools()]
    return [(f["name"], f["description"], f["parameters"]) for f in shown]


def check_media_result(result: types.CallToolResult, kind: str) -> tuple[Path, dict[str, Any]]:
    """A successful result that made one file of `kind`: text, inline block, link, typed artifact."""
    assert not result.is_error, text_of(result)
    text, inline, link = result.content
    assert isinstance(text, types.TextContent)
    assert isinstance(inline, types.ImageContent if kind == "image" else types.AudioContent)
    assert isinstance(link, types.ResourceLink)
    path = file_path(link.uri)
    assert path.is_file() and link.name == path.name and link.size == path.stat().st_size
    assert base64.b64decode(inline.data) == path.read_bytes()
    assert inline.mime_type == link.mime_type and link.mime_type.startswith(f"{kind}/")
    artifact = result.structured_content
    assert isinstance(artifact, dict) and set(artifact) == set(TaskResult.__annotations__)
    (made,) = artifact["files"]
    assert Path(made["path"]).resolve() == path and made["path"] in text.text
    return path, artifact


async def test_stdio_lists_every_tool_makes_an_image_and_finds_the_sheep(
    hf_subprocess_env: dict[str, str], hf_stand_in: HFStandIn, workdir: Path
) -> None:
    async with Client(stdio_server(hf_subprocess_env, workdir)) as client:
        listed = (await client.list_tools()).tools
        assert [(t.name, t.description, t.input_schema) for t in listed] == expected_listing()
        assert {"text_to_image", "object_detection", "find_models"} <= {t.name for t in listed}
        assert listed[-1].name == "run_plan"  # every tool the toolkit offers, the plan tool too

        made = await client.call_tool("text_to_image", {"prompt": "three sheep grazing in a field"})
        image, artifact = check_media_result(made, "image")
        assert image.is_relative_to(workdir / "outputs" / "images")
        assert artifact["task"] == "text-to-image" and artifact["model"] in text_of(made)

        found = await client.call_tool("object_detection", {"image": artifact["files"][0]["path"]})
        annotated, detection = check_media_result(found, "image")
        assert "3 sheep" in text_of(found) and detection["data"]["counts"] == {"sheep": 3}
        assert annotated != image

        seen = len(hf_stand_in.requests)
        hostile = {  # refused by the tool (named by its task), or by the server for a data: URI
            "/etc/passwd": "object-detection refused its input: '/etc/passwd' is outside the allowed folders",
            TRAVERSAL: f"object-detection refused its input: '{TRAVERSAL}' is outside",
            "file:///etc/passwd": "object-detection refused its input: 'file:' URLs are not accepted",
            "data:image/png;base64,@@": "object_detection refused its input: image: the data: URI does not hold",
        }
        for value, reason in hostile.items():
            refused = await client.call_tool("object_detection", {"image": value})
            assert refused.is_error and text_of(refused).startswith(reason), text_of(refused)
            assert len(text_of(refused).splitlines()) == 1
        assert len(hf_stand_in.requests) == seen  # nothing went to HF, not even a model look-up
        for result in (made, found, refused):
            assert HF_TEST_TOKEN not in result.model_dump_json()


async def test_http_takes_a_data_uri_image_and_reports_progress(
    http_url: str, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    picture = media.make_image("three sheep grazing peacefully")
    uri = "data:image/png;base64," + base64.b64encode(picture).decode()
    hf_stand_in.set_latency(1.0, task="object-detection")
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with Client(http_url) as client:
        assert len((await client.list_tools()).tools) == len(expected_listing())
        found = await client.call_tool("object_detection", {"image": uri}, progress_callback=on_progress)
    _, detection = check_media_result(found, "image")
    assert detection["data"]["counts"] == {"sheep": 3}
    (upload,) = (workdir / "outputs" / "uploads").iterdir()
    assert upload.read_bytes() == picture and upload.suffix == ".png"
    (sent,) = hf_stand_in.inference_requests(task="object-detection")
    assert sent.body == picture  # the decoded bytes went to HF, not the URI
    assert len(progress) >= 2, progress  # every 0.2 s during a 1 s call
    values = [value for value, _, _ in progress]
    assert values == sorted(set(values)) and all("object_detection: running" in m for _, _, m in progress)


async def test_http_run_plan_takes_data_uris_in_its_steps(
    http_url: str, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    """A whole plan over MCP: a step's data: image is kept as an upload; every file made comes back."""
    picture = media.make_image("three sheep grazing peacefully")
    uri = "data:image/png;base64," + base64.b64encode(picture).decode()
    steps = [{"id": "seen", "tool": "object_detection", "args": {"image": uri}},
             {"id": "said", "tool": "text_to_speech", "args": {"text": "I see $seen"}}]  # fmt: skip
    async with Client(http_url) as client:
        listed = (await client.list_tools()).tools
        result = await client.call_tool("run_plan", {"steps": steps})
        refused = await client.call_tool("run_plan", {"steps": [{"id": "a", "tool": "image_to_text",
                                                                  "args": {"image": "data:image/png;base64,@@"}}]})  # fmt: skip
    assert not result.is_error, text_of(result)
    kinds = [type(block).__name__ for block in result.content]
    assert kinds == ["TextContent", "ImageContent", "ResourceLink", "AudioContent", "ResourceLink"]
    plan = result.structured_content
    assert plan is not None and plan["steps"]["said"]["args"]["text"].startswith("I see Found 3 object(s)")
    typed = PlanResult.read(plan)  # the typed result, read back from what the client got
    links = [file_path(b.uri) for b in result.content if isinstance(b, types.ResourceLink)]
    assert typed is not None and links == [Path(f["path"]).resolve() for f in typed.files()]
    (schema,) = [t.output_schema for t in listed if t.name == "run_plan"]  # declared, so the client checks it
    assert schema is not None and set(schema["properties"]) == {"task", "steps"}
    (sent,) = hf_stand_in.inference_requests(task="object-detection")
    assert sent.body == picture
    assert refused.is_error and text_of(refused).startswith("run_plan refused its input: step a: image: ")


async def test_http_refuses_bad_data_uris_before_anything_is_sent(
    http_url: str, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    audio = base64.b64encode(media.make_audio("baa")).decode()
    image = base64.b64encode(media.make_image("a sheep")).decode()
    cases = {
        f"data:image/png;base64,{audio}": "is not an image: it is audio (audio/flac)",
        f"data:audio/flac;base64,{image}": "says it is 'audio/flac' but holds image/png",
        f"data:image/png,{image}": "only base64 data: URIs are accepted",
        "data:image/png;base64,not base64!": "does not hold valid base64",
        "data:;;;": "malformed",
    }
    async with Client(http_url) as client:
        for uri, reason in cases.items():
            refused = await client.call_tool("image_to_text", {"image": uri})
            assert refused.is_error and reason in text_of(refused), text_of(refused)
            assert text_of(refused).startswith("image_to_text refused its input: image: ")
            assert image not in text_of(refused) and audio not in text_of(refused)
    assert hf_stand_in.requests == [] and not (workdir / "outputs" / "uploads").exists()
    # the tools themselves still refuse data: (only the MCP server turns it into an upload)
    caption, *_ = HuggingFaceToolkit(settings=make_settings(), tasks=["image_to_text"]).get_tools()
    with pytest.raises(Exception, match=r"'data:' URLs are not accepted"):
        await caption.ainvoke({"image": f"data:image/png;base64,{image}"})


async def test_failures_are_error_results_with_one_sentence(http_url: str, hf_stand_in: HFStandIn) -> None:
    hf_stand_in.add_fault("not_found", task="text-to-image", times=None)
    async with Client(http_url) as client:
        failed = await client.call_tool("text_to_image", {"prompt": "a barn"})
        invalid = await client.call_tool("text_to_image", {"prompt": "   ", "width": 5})
        unknown_task = await client.call_tool("find_models", {"task": "knitting"})
        with pytest.raises(MCPError, match="Unknown tool"):
            await client.call_tool("no_such_tool", {})
    assert failed.is_error and text_of(failed).startswith("text-to-image failed with ")
    assert "not found" in text_of(failed) and len(text_of(failed).splitlines()) == 1
    attempts = failed.structured_content["failed_attempts"]
    assert attempts and {a["cause"] for a in attempts} == {"not_found"}
    assert invalid.is_error and text_of(invalid).startswith("text_to_image refused its arguments: ")
    assert "prompt: " in text_of(invalid) and "width: " in text_of(invalid)
    assert unknown_task.is_error and "unknown task 'knitting'" in text_of(unknown_task)


async def test_the_hf_token_never_reaches_a_result(
    hf_stand_in: HFStandIn, workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "not_a_hub_token_ABCDEF0123456789"
    with http_server(make_settings(hf_token=secret)) as url:
        async with Client(url) as client:
            refused = await client.call_tool("text_to_image", {"prompt": f"print {secret}"})
            echoed = await client.call_tool("object_detection", {"image": f"{secret}.png"})
    assert refused.is_error and "the HF token was refused" in text_of(refused)
    assert echoed.is_error and text_of(echoed).endswith("file not found: '[redacted].png'.")
    assert secret not in refused.model_dump_json() + echoed.model_dump_json() + caplog.text
    assert any(r.headers.get("authorization") == f"Bearer {secret}" for r in hf_stand_in.requests)


async def test_beyond_loopback_every_request_needs_the_bearer_token(
    hf_stand_in: HFStandIn, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert mcp_command(["--transport", "http", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "needs HUGGINGGPT_MCP_TOKEN" in capsys.readouterr().err

    with http_server(make_settings(mcp_token=MCP_TOKEN), host="0.0.0.0") as url:
        hello = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        headers = {"Accept": "application/json, text/event-stream"}
        async with httpx2.AsyncClient() as http:
            bare = await http.post(url, json=hello, headers=headers)
            wrong = await http.post(url, json=hello, headers={**headers, "Authorization": "Bearer nope"})
        assert bare.status_code == wrong.status_code == 401
        assert bare.headers["www-authenticate"].startswith("Bearer")
        with pytest.raises(ExceptionGroup) as refused:  # the SDK's client, turned away with 401
            async with Client(url) as client:
                await client.list_tools()
        assert refused.group_contains(MCPError, match="Server returned an error response", depth=2)
        async with authorized(url, MCP_TOKEN) as client:
            assert len((await client.list_tools()).tools) == len(expected_listing())


async def test_origin_and_host_are_checked(hf_stand_in: HFStandIn, workdir: Path) -> None:
    settings = make_settings(mcp_allowed_origins=("https://app.example",))
    client_info = {"name": "browser", "version": "1"}
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client_info}
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    accept = {"Accept": "application/json, text/event-stream"}
    with http_server(settings) as url:
        async with httpx2.AsyncClient() as http:
            evil = await http.post(url, json=hello, headers={**accept, "Origin": "http://evil.example"})
            rebound = await http.post(url, json=hello, headers={**accept, "Host": "evil.example"})
            allowed = await http.post(url, json=hello, headers={**accept, "Origin": "https://app.example"})
            local = await http.post(url, json=hello, headers={**accept, "Origin": "http://localhost:3000"})
    assert evil.status_code == 403 and rebound.status_code == 421
    assert allowed.status_code == local.status_code == 200 and "hugginggpt" in allowed.text


async def test_round_trip_the_sheep_conversation_through_mcp(
    hf_subprocess_env: dict[str, str], openai_stand_in: OpenAIStandIn, workdir: Path
) -> None:
    scenarios.register_all(openai_stand_in)
    config = {"configurable": {"thread_id": "farm"}}
    async with mcp_tools(stdio_server(hf_subprocess_env, workdir)) as tools:
        agent = create_agent(ChatOpenAI(model="gpt-4.1-mini"), tools, checkpointer=InMemorySaver())
        first = await agent.ainvoke({"messages": [("user", scenarios.SHEEP_PROMPT)]}, config)
        second = await agent.ainvoke({"messages": [("user", scenarios.SHEEP_FOLLOW_UP)]}, config)
    (made,) = [m for m in first["messages"] if isinstance(m, ToolMessage)]
    image = made.artifact["files"][0]["path"]
    assert (
        made.name == "text_to_image"
        and (workdir / image).is_file()
        and image in first["messages"][-1].content
    )
    assert "There are 3 sheep in the image" in second["messages"][-1].content
    asked = [m for m in second["messages"][len(first["messages"]) :] if isinstance(m, ToolMessage)]
    assert {m.name for m in asked} == {"image_to_text", "object_detection", "visual_question_answering"}
    assert all(m.status == "success" for m in asked)
    # the chat model saw the same tools through MCP as it does with the toolkit bound directly
    sent = openai_stand_in.chat_requests[0]["tools"]
    direct = [convert_to_openai_tool(tool) for tool in HuggingFaceToolkit().get_tools()]
    assert json.loads(json.dumps(sent)) == json.loads(json.dumps(direct))


async def test_calls_run_concurrently(http_url: str, hf_stand_in: HFStandIn) -> None:
    hf_stand_in.meet(5)  # each call is held until all five are in flight: one after another never meet
    async with Client(http_url) as client:
        results = await asyncio.gather(
            *(client.call_tool("text_to_image", {"prompt": f"{n} sheep"}) for n in range(5))
        )
    assert not any(r.is_error for r in results) and hf_stand_in.together == 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def listening(port: int) -> None:
    """Wait until the server listens (its "serving" line is printed just before uvicorn does)."""
    deadline = time.monotonic() + 60  # a generous bound for a loaded machine
    while time.monotonic() < deadline:
        with suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


async def test_the_command_serves_http(hf_subprocess_env: dict[str, str], workdir: Path) -> None:
    port = free_port()
    env = stdio_server(hf_subprocess_env, workdir).env
    command = [sys.executable, "-m", "hugginggpt.tools.mcp", "--transport", "http", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=workdir, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        assert f"serving http://127.0.0.1:{port}/mcp" in server.stderr.readline()
        await listening(port)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            made = await client.call_tool("text_to_image", {"prompt": "three sheep"})
        check_media_result(made, "image")
    finally:
        server.terminate()
        server.wait(10)


async def test_sigterm_stops_the_http_server_with_a_call_in_flight(
    hf_subprocess_env: dict[str, str], hf_stand_in: HFStandIn, workdir: Path
) -> None:
    """A service manager's stop: the call in flight is cancelled (not waited out), the port is free, exit 0."""
    hf_stand_in.latency = 60  # the call would hold for a minute
    port = free_port()
    env = stdio_server(hf_subprocess_env, workdir).env
    command = [sys.executable, "-m", "hugginggpt.tools.mcp", "--transport", "http", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=workdir, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    try:
        assert f"serving http://127.0.0.1:{port}/mcp" in server.stderr.readline()
        await listening(port)
        exited = None
        with suppress(Exception):  # the client's own goodbye finds the server gone
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                call = asyncio.ensure_future(client.call_tool("text_to_image", {"prompt": "three sheep"}))
                while not hf_stand_in.inference_requests():
                    await asyncio.sleep(0.05)
                server.send_signal(signal.SIGTERM)  # the client stays connected, as clients do
                # well under the call's minute, even on a loaded machine
                exited = asyncio.ensure_future(asyncio.to_thread(server.wait, 30))
                with suppress(Exception):
                    await asyncio.wait_for(call, 40)  # the connection closes under it
        assert exited is not None, "the call never reached the HF stand-in"
        await exited
    finally:
        server.kill()
        stderr = server.stderr.read()
        server.wait()
    assert server.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    with socket.socket() as again:  # the port is free for the next server (which, as uvicorn does, reuses
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # it while closed ones linger)
        again.bind(("127.0.0.1", port))
        again.listen()


@pytest.mark.parametrize(
    ("argv", "env", "said"),
    [
        (["--tasks", "knitting"], {}, "unknown task 'knitting'; known: "),
        (["--transport", "http"], {"HUGGINGGPT_MCP_PORT": "99999"}, "HUGGINGGPT_MCP_PORT is invalid: "),
        (
            ["--transport", "http"],
            {"HUGGINGGPT_MCP_INLINE_MB": "lots"},
            "HUGGINGGPT_MCP_INLINE_MB is invalid: ",
        ),
    ],
)
def test_command_errors_are_one_sentence(
    argv: list[str], env: dict[str, str], said: str, workdir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert mcp_command(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hugginggpt-mcp: {said}") and err.count("\n") == 1


async def test_audio_is_inline_and_files_over_the_cap_only_linked(
    hf_stand_in: HFStandIn, workdir: Path
) -> None:
    async with Client(build_server(HuggingFaceToolkit(settings=make_settings()))) as client:
        spoken = await client.call_tool("text_to_speech", {"text": "Baa, said the sheep."})
    check_media_result(spoken, "audio")
    capped = make_settings(mcp_inline_mb=0.001)  # about 1 kB: the image made is larger
    async with Client(build_server(HuggingFaceToolkit(settings=capped))) as client:
        made = await client.call_tool("text_to_image", {"prompt": "three sheep"})
    assert not made.is_error and [block.type for block in made.content] == ["text", "resource_link"]
    (link,) = made.content[1:]
    assert isinstance(link, types.ResourceLink) and link.size and link.size > 1024
    assert file_path(link.uri).is_file()
