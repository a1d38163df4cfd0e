"""The whole agent for other agents, in a real `make serve` (tests/served.py, against the stand-ins): the
official `mcp` client against /mcp and `a2a-sdk`'s client against /a2a/hugginggpt, each drawing the sheep
and then asking how many sheep are in the image on the same thread / context."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import mcp_types as types
import pytest
from a2a.client import ClientConfig, create_client
from a2a.types.a2a_pb2 import Message, Part, Role, SendMessageRequest, StreamResponse, TaskState
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from hugginggpt.agent.remote.skills import FAMILIES, SUMMARY, family_of, output_modes, tasks_by_family
from hugginggpt.agent.remote.turns import BadThread, thread_name
from hugginggpt.agent.serve import main as serve_main
from hugginggpt.tools.tasks.table import TASKS
from tests import scenarios
from tests.served import Served, running_server
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.openai_api import OpenAIStandIn

TOKEN = "serve-test-token"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, _hf_stand_in_server: HFStandIn, openai_stand_in_server: Any
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("remote")
    with running_server(folder, _hf_stand_in_server.url, openai_stand_in_server.base_url) as server:
        yield server


# ------------------------------------------------------------------------------------------------ MCP


async def call(
    url: str, arguments: dict[str, Any], progress: list[str] | None = None
) -> types.CallToolResult:
    async def noted(done: float, total: float | None, message: str | None) -> None:
        if progress is not None and message:
            progress.append(message)

    async with Client(streamable_http_client(f"{url}/mcp")) as client:
        return await client.call_tool("hugginggpt", arguments, progress_callback=noted)


async def test_mcp_lists_one_tool_that_says_what_the_agent_does(served: Served) -> None:
    async with Client(streamable_http_client(f"{served.url}/mcp")) as client:
        (tool,) = (await client.list_tools()).tools
    assert tool.name == "hugginggpt" and tool.description and tool.description.startswith(SUMMARY)
    assert "text-to-image" in tool.description and "automatic-speech-recognition" in tool.description
    assert tool.input_schema["required"] == ["request"] and "thread" in tool.input_schema["properties"]
    assert set(tool.output_schema["properties"]) == {"answer", "thread", "files", "tool_calls", "usage"}


async def test_mcp_the_sheep_then_how_many_on_one_thread(
    served: Served, hf_stand_in: HFStandIn, openai_stand_in: OpenAIStandIn
) -> None:
    scenarios.register_all(openai_stand_in)
    steps: list[str] = []
    first = await call(served.url, {"request": scenarios.SHEEP_PROMPT}, steps)
    assert not first.is_error, first.content
    text, image, link = first.content
    assert isinstance(text, types.TextContent) and "Here is the image" in text.text
    made = first.structured_content
    assert made is not None
    (file,) = made["files"]
    on_disk = (served.folder / file["path"]).read_bytes()
    assert isinstance(image, types.ImageContent) and image.mime_type == "image/jpeg"
    assert base64.b64decode(image.data) == on_disk and file["size"] == len(on_disk)
    assert isinstance(link, types.ResourceLink) and link.uri == file["url"] and link.mime_type == "image/jpeg"
    assert httpx.get(str(link.uri)).content == on_disk  # the server hands out the turn's file
    assert [c["name"] for c in made["tool_calls"]] == ["text_to_image"] and "usage" in made
    assert steps[0].startswith("▶ text_to_image(") and steps[1].startswith("✔ text_to_image: ")

    second = await call(served.url, {"request": scenarios.SHEEP_FOLLOW_UP, "thread": made["thread"]})
    assert not second.is_error, second.content
    answer = second.structured_content
    assert answer is not None and answer["thread"] == made["thread"]
    assert "There are 3 sheep in the image." in answer["answer"]
    calls = answer["tool_calls"]
    assert {c["name"] for c in calls} == {"image_to_text", "object_detection", "visual_question_answering"}
    assert {c["args"]["image"] for c in calls} == {file["path"]}  # the first turn's image, by thread
    kinds = [block.type for block in second.content]
    assert kinds == ["text", "image", "resource_link"]  # the annotated image object detection made


async def test_mcp_failures_are_error_results(served: Served, openai_stand_in: OpenAIStandIn) -> None:
    bad = await call(served.url, {"request": "draw a sheep", "thread": "no spaces allowed"})
    assert bad.is_error and "the thread must be 1 to 64 letters" in bad.content[0].text  # type: ignore[union-attr]
    empty = await call(served.url, {"request": ""})
    assert empty.is_error and "request" in empty.content[0].text  # type: ignore[union-attr]
    openai_stand_in.add_fault("bad_key")
    refused = await call(served.url, {"request": "draw a sheep"})
    assert refused.is_error
    assert refused.content[0].text.startswith("the LLM server refused OPENAI_API_KEY")  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------------ A2A


def ask(text: str, context: str = "") -> SendMessageRequest:
    message = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text=text)])
    if context:
        message.context_id = context
    return SendMessageRequest(message=message)


async def send(url: str, request: SendMessageRequest, streaming: bool) -> list[tuple[float, StreamResponse]]:
    async with httpx.AsyncClient(timeout=60) as http:
        client = await create_client(
            f"{url}/a2a/hugginggpt", client_config=ClientConfig(streaming=streaming, httpx_client=http)
        )
        return [(time.monotonic(), event) async for event in client.send_message(request)]


async def test_a2a_card_names_the_task_families(served: Served) -> None:
    card = httpx.get(f"{served.url}/a2a/hugginggpt/.well-known/agent-card.json").json()
    assert card == httpx.get(f"{served.url}/.well-known/agent-card.json").json()
    assert card["name"] == "hugginggpt" and card["description"] == SUMMARY
    assert card["capabilities"]["streaming"] is True
    assert card["supportedInterfaces"][0]["url"] == f"{served.url}/a2a/hugginggpt"
    skills = {skill["id"]: skill for skill in card["skills"]}
    assert set(skills) == {family.id for family in FAMILIES}
    assert "text-to-image" in skills["images"]["tags"] and "image/*" in skills["images"]["outputModes"]


async def test_a2a_the_sheep_then_how_many_in_one_context(
    served: Served, hf_stand_in: HFStandIn, openai_stand_in: OpenAIStandIn
) -> None:
    scenarios.register_all(openai_stand_in)
    ((_, first),) = await send(served.url, ask(scenarios.SHEEP_PROMPT), streaming=False)
    task = first.task
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    (artifact,) = task.artifacts
    text, image = artifact.parts
    assert "Here is the image" in text.text
    path = text.text.split(": ")[1].split()[0]
    assert image.media_type == "image/jpeg" and image.filename == Path(path).name
    assert image.raw == (served.folder / path).read_bytes()

    ((_, second),) = await send(served.url, ask(scenarios.SHEEP_FOLLOW_UP, task.context_id), streaming=False)
    follow = second.task
    assert follow.context_id == task.context_id and follow.status.state == TaskState.TASK_STATE_COMPLETED
    answer, annotated = follow.artifacts[0].parts
    assert "There are 3 sheep in the image." in answer.text
    assert annotated.media_type.startswith("image/") and len(annotated.raw) > 0
    # the second turn found the first turn's image through the context's thread
    assert hf_stand_in.inference_requests(task="object-detection")


async def test_a2a_streaming_shows_each_tool_step_as_it_happens(
    served: Served, hf_stand_in: HFStandIn, openai_stand_in: OpenAIStandIn
) -> None:
    scenarios.register_all(openai_stand_in)
    hf_stand_in.set_latency(2.0, task="text-to-image")
    events = await send(served.url, ask(scenarios.SHEEP_PROMPT), streaming=True)

    def first(found: Any) -> float:
        return next(t for t, event in events if found(event))

    def says(event: StreamResponse, start: str) -> bool:
        parts = event.status_update.status.message.parts
        return event.HasField("status_update") and bool(parts) and parts[0].text.startswith(start)

    started = first(lambda e: says(e, "▶ text_to_image("))
    finished = first(lambda e: says(e, "✔ text_to_image: "))
    answered = first(lambda e: e.HasField("artifact_update"))
    assert started < finished <= answered
    assert finished - started >= 1.5, "the step was reported with its result, not as it started"
    assert events[-1][1].status_update.status.state == TaskState.TASK_STATE_COMPLETED


async def test_a2a_a_failed_turn_is_a_failed_task(served: Served, openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.add_fault("bad_key")
    ((_, done),) = await send(served.url, ask("draw a sheep"), streaming=False)
    assert done.task.status.state == TaskState.TASK_STATE_FAILED
    assert done.task.status.message.parts[0].text.startswith("the LLM server refused OPENAI_API_KEY")


# --------------------------------------------------------------------------------------- exposure


def test_only_the_turns_files_are_served(served: Served) -> None:
    for path in ("/files/nokey/conversations.sqlite", "/files/../outputs/conversations.sqlite"):
        assert httpx.get(f"{served.url}{path}").status_code == 404


def test_the_builtin_routes_are_replaced(served: Served) -> None:
    """langgraph.json turns off LangGraph's own /mcp and /a2a/{assistant_id} (a repr of the state)."""
    (assistant,) = served.client().assistants.search(graph_id="hugginggpt")
    reply = httpx.post(f"{served.url}/a2a/{assistant['assistant_id']}", json={"jsonrpc": "2.0", "id": 1})
    assert reply.status_code == 404


async def test_a_token_guards_every_route(
    tmp_path: Path, _hf_stand_in_server: HFStandIn, openai_stand_in_server: Any
) -> None:
    """With HUGGINGGPT_SERVE_TOKEN every route of the server asks for it (LangGraph's own too), but /ok."""
    folder, token = tmp_path / "guarded", {"HUGGINGGPT_SERVE_TOKEN": TOKEN}
    with running_server(folder, _hf_stand_in_server.url, openai_stand_in_server.base_url, token) as guarded:
        for path in ("/.well-known/agent-card.json", "/threads/search", "/mcp", "/docs"):
            assert httpx.get(f"{guarded.url}{path}").status_code == 401, path
        signed = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{guarded.url}/.well-known/agent-card.json", headers=signed).status_code == 200
        async with (
            httpx2.AsyncClient(headers=signed) as http,
            Client(streamable_http_client(f"{guarded.url}/mcp", http_client=http)) as client,
        ):
            assert [tool.name for tool in (await client.list_tools()).tools] == ["hugginggpt"]


def test_serve_refuses_beyond_loopback_without_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "langgraph.json").write_text("{}")
    monkeypatch.delenv("HUGGINGGPT_SERVE_TOKEN", raising=False)
    assert serve_main(["--host", "0.0.0.0"]) == 2
    assert "needs HUGGINGGPT_SERVE_TOKEN set" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ in process


def test_every_task_is_in_a_family() -> None:
    grouped = tasks_by_family()
    assert sorted(spec.task for specs in grouped.values() for spec in specs) == sorted(s.task for s in TASKS)
    assert all(grouped[family.id] for family in FAMILIES)
    assert family_of(next(s for s in TASKS if s.task == "text-to-speech")) == "audio"
    assert family_of(next(s for s in TASKS if s.task == "visual-question-answering")) == "images"
    modes = {family: output_modes(specs) for family, specs in grouped.items()}
    assert modes == {"images": ["text/plain", "image/*"], "audio": ["text/plain", "audio/*"],
                     "video": ["text/plain", "video/*"], "text": ["text/plain"], "tables": ["text/plain"]}  # fmt: skip


def test_thread_names() -> None:
    assert thread_name("farm", "mcp") == "farm"
    assert thread_name(None, "mcp").startswith("mcp-") and thread_name("", "a2a").startswith("a2a-")
    with pytest.raises(BadThread, match="1 to 64 letters"):
        thread_name("x" * 65, "mcp")
