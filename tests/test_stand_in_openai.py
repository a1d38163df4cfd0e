"""Self-tests: the OpenAI stand-in speaks the wire format the real openai SDK and ChatOpenAI parse."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import time
from typing import Any

import openai
import pytest
from langchain_core import exceptions as lc_errors
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from langchain_openai import ChatOpenAI

from tests.stand_ins.openai_api import DEFAULT_API_KEY, OpenAIStandIn
from tests.stand_ins.scripts import (
    call,
    find_count,
    find_models,
    find_paths,
    last_tool_results,
    result_context,
    step_index,
    text,
)

MODEL = "gpt-4o-mini"
USER = [{"role": "user", "content": "hi"}]


# --------------------------------------------------------------------------- fake tools


def _image_path(prompt: str) -> str:
    return f"outputs/images/{hashlib.sha1(prompt.encode()).hexdigest()[:8]}.png"


@tool
def text_to_image(prompt: str) -> str:
    """Generate an image from a text prompt."""
    return json.dumps({"path": _image_path(prompt), "model": "stabilityai/sdxl-turbo"})


@tool
def object_detection(image: str) -> str:
    """Detect and count objects in an image."""
    boxes = image.replace(".png", "_boxes.png")
    return json.dumps(
        {"count": 3, "labels": ["cat", "cat", "sofa"], "model": "facebook/detr-resnet-50", "path": boxes}
    )


TOOLS: list[BaseTool] = [text_to_image, object_detection]
BY_NAME = {t.name: t for t in TOOLS}

TWO_STEP_PLAN = [
    [{"name": "text_to_image", "args": {"prompt": "a photo of {subject}"}}],
    [{"name": "object_detection", "args": {"image": "{image}"}}],
    "I drew {subject} at {images[0]} with {models[0]}, then {model} found {count} objects ({image}).",
]


def _llm(**kw: Any) -> ChatOpenAI:
    return ChatOpenAI(**{"model": MODEL, "max_retries": 0, "timeout": 5, **kw})


def _run_tools(ai: AIMessage) -> list[ToolMessage]:
    return [BY_NAME[c["name"]].invoke(c) for c in ai.tool_calls]


def _agent_loop(question: str, *, stream: bool = False) -> list[BaseMessage]:
    llm = _llm().bind_tools(TOOLS)
    messages: list[BaseMessage] = [HumanMessage(question)]
    for _ in range(5):
        ai = _merge(llm.stream(messages)) if stream else llm.invoke(messages)
        messages.append(ai)
        if not ai.tool_calls:
            return messages
        messages += _run_tools(ai)
    raise AssertionError("agent did not finish")


async def _aagent_loop(question: str) -> list[BaseMessage]:
    llm = _llm().bind_tools(TOOLS)
    messages: list[BaseMessage] = [HumanMessage(question)]
    for _ in range(5):
        ai = await llm.ainvoke(messages)
        messages.append(ai)
        if not ai.tool_calls:
            return messages
        messages += [await BY_NAME[c["name"]].ainvoke(c) for c in ai.tool_calls]
    raise AssertionError("agent did not finish")


def _merge(chunks: Any) -> AIMessageChunk:
    merged: AIMessageChunk | None = None
    for chunk in chunks:
        merged = chunk if merged is None else merged + chunk
    assert merged is not None
    return merged


# --------------------------------------------------------------------------- raw openai SDK


def test_openai_sdk_text_completion_wire_format(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.script(["Hello there."])
    raw = openai.OpenAI(max_retries=0).chat.completions.with_raw_response.create(model=MODEL, messages=USER)
    done = raw.parse()
    assert raw.headers["x-request-id"].startswith("req_")
    assert done.id.startswith("chatcmpl-") and done.object == "chat.completion" and done.model == MODEL
    assert done.choices[0].message.content == "Hello there." and done.choices[0].finish_reason == "stop"
    assert (
        done.usage is not None
        and done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    )
    req = openai_stand_in.last_request
    assert req.headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert req.body == {"model": MODEL, "messages": USER}


def test_openai_sdk_stream_with_usage_and_done(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.script([text(["Hel", "lo", " world"])])
    stream = openai.OpenAI(max_retries=0).chat.completions.create(
        model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.content for c in chunks[1:4]] == ["Hel", "lo", " world"]
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)


async def test_async_openai_streams_parallel_tool_calls(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.script([[call("a", x=1, note="a fairly long argument"), call("b", y="two")]])
    tools = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in "ab"]
    calls: dict[int, dict[str, str]] = {}
    fragments = 0
    async with openai.AsyncOpenAI(max_retries=0) as client:
        stream = await client.chat.completions.create(model=MODEL, messages=USER, tools=tools, stream=True)
        async for chunk in stream:
            for tc in chunk.choices[0].delta.tool_calls or []:
                slot = calls.setdefault(tc.index, {"id": "", "name": "", "args": ""})
                slot["id"] += tc.id or ""
                slot["name"] += (tc.function and tc.function.name) or ""
                slot["args"] += (tc.function and tc.function.arguments) or ""
                fragments += 1
    assert [(c["name"], json.loads(c["args"])) for c in calls.values()] == [
        ("a", {"x": 1, "note": "a fairly long argument"}),
        ("b", {"y": "two"}),
    ]
    assert all(c["id"].startswith("call_") for c in calls.values()) and fragments > 6
    assert chunk.choices[0].finish_reason == "tool_calls"


def test_models_endpoint(openai_stand_in: OpenAIStandIn) -> None:
    client = openai.OpenAI(max_retries=0)
    assert MODEL in [m.id for m in client.models.list()]
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.models.retrieve("gpt-nope")


def test_http_errors_use_openai_error_format(openai_stand_in: OpenAIStandIn) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", openai_stand_in.port, timeout=5)
    conn.request("POST", "/v1/nope", body="{}", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})
    resp = conn.getresponse()
    assert resp.status == 404 and json.loads(resp.read())["error"]["type"] == "invalid_request_error"
    conn.request(
        "POST", "/v1/chat/completions", body=json.dumps({"model": MODEL, "messages": USER})
    )  # same socket
    resp = conn.getresponse()
    error = json.loads(resp.read())["error"]
    assert resp.status == 401 and set(error) == {"message", "type", "param", "code"}
    conn.close()
    with pytest.raises(openai.AuthenticationError) as info:
        _llm(api_key="sk-wrong-key-123456").invoke("hi")
    assert info.value.code == "invalid_api_key"


# --------------------------------------------------------------------------- ChatOpenAI


def test_chat_openai_invoke_parallel_tool_calls(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.script(
        [[{"name": "text_to_image", "args": {"prompt": "a cat"}}, call("object_detection", image="x.png")]]
    )
    ai = _llm().bind_tools(TOOLS, parallel_tool_calls=True).invoke("draw a cat and count")
    assert [(c["name"], c["args"]) for c in ai.tool_calls] == [
        ("text_to_image", {"prompt": "a cat"}),
        ("object_detection", {"image": "x.png"}),
    ]
    assert all(c["id"].startswith("call_") for c in ai.tool_calls)
    assert ai.response_metadata["finish_reason"] == "tool_calls" and ai.usage_metadata
    body = openai_stand_in.chat_requests[-1]
    assert body["model"] == MODEL and body["parallel_tool_calls"] is True
    assert [t["function"]["name"] for t in body["tools"]] == ["text_to_image", "object_detection"]


def test_chat_openai_stream_tool_calls_and_text(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.script(
        [[call("text_to_image", prompt="a red fox in the snow"), call("object_detection", image="a.png")]]
    )
    openai_stand_in.script(["The picture shows a red fox."])
    llm = _llm(stream_usage=True).bind_tools(TOOLS)
    chunks = list(llm.stream("draw a fox"))
    merged = _merge(chunks)
    assert len(chunks) > 6
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        ("text_to_image", {"prompt": "a red fox in the snow"}),
        ("object_detection", {"image": "a.png"}),
    ]
    assert all(c["id"].startswith("call_") for c in merged.tool_calls)
    assert merged.usage_metadata and merged.response_metadata["finish_reason"] == "tool_calls"
    assert openai_stand_in.chat_requests[-1]["stream_options"] == {"include_usage": True}
    chunks = list(llm.stream("describe it"))
    assert len([c for c in chunks if c.content]) == 6
    assert _merge(chunks).content == "The picture shows a red fox."


async def test_chat_openai_astream_text(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.script([text(["One", ", two", ", three."])])
    pieces = [c.content async for c in _llm().astream("count")]
    assert [p for p in pieces if p] == ["One", ", two", ", three."]


def test_callable_turn_reads_previous_tool_message(openai_stand_in: OpenAIStandIn) -> None:
    def describe_last_image(request: dict[str, Any]) -> Any:
        [result] = last_tool_results(request)
        assert result.name == "text_to_image"
        return call("object_detection", image=find_paths(result.content, "image")[0])

    openai_stand_in.script([describe_last_image])
    history = [
        HumanMessage("draw then count"),
        AIMessage("", tool_calls=[{"name": "text_to_image", "args": {"prompt": "x"}, "id": "call_1"}]),
        ToolMessage("Saved the image to outputs/images/ab12cd34.png.", tool_call_id="call_1"),
    ]
    ai = _llm().bind_tools(TOOLS).invoke(history)
    assert ai.tool_calls[0]["args"] == {"image": "outputs/images/ab12cd34.png"}


@pytest.mark.parametrize("stream", [False, True])
def test_planner_two_steps_hands_path_on(openai_stand_in: OpenAIStandIn, stream: bool) -> None:
    openai_stand_in.on_user(r"draw (?P<subject>[\w-]+) and count", TWO_STEP_PLAN)
    messages = _agent_loop("Please draw cats and count them", stream=stream)
    generated = _image_path("a photo of cats")
    assert messages[1].tool_calls[0]["args"] == {"prompt": "a photo of cats"}
    assert messages[3].tool_calls[0]["args"] == {"image": generated}
    assert messages[-1].content == (
        f"I drew cats at {generated} with stabilityai/sdxl-turbo, then facebook/detr-resnet-50 found 3 objects "
        f"({generated.replace('.png', '_boxes.png')})."
    )
    assert len(openai_stand_in.chat_requests) == 3


def test_planner_runs_under_create_agent(openai_stand_in: OpenAIStandIn) -> None:
    from langchain.agents import create_agent

    openai_stand_in.on_user(r"draw (?P<subject>[\w-]+) and count", TWO_STEP_PLAN)
    agent = create_agent(_llm(), TOOLS, system_prompt="You are HuggingGPT.")
    out = agent.invoke({"messages": [HumanMessage("draw dogs and count")]})
    assert "found 3 objects" in out["messages"][-1].content
    assert openai_stand_in.chat_requests[0]["messages"][0] == {
        "role": "system",
        "content": "You are HuggingGPT.",
    }


def test_planner_gives_up_when_a_value_is_missing(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.on_user("caption", [[call("object_detection", image="{video}")], "never"])
    assert "no 'video'" in _llm().bind_tools(TOOLS).invoke("caption it").content


async def test_concurrent_conversations_never_mix(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.on_user(r"draw (?P<subject>[\w-]+) and count", TWO_STEP_PLAN)
    openai_stand_in.latency = 0.02
    runs = await asyncio.gather(*(_aagent_loop(f"draw cat-{i} and count") for i in range(20)))
    for i, messages in enumerate(runs):
        assert messages[-1].content.startswith(f"I drew cat-{i} at {_image_path(f'a photo of cat-{i}')} ")
    assert len(openai_stand_in.chat_requests) == 60


# --------------------------------------------------------------------------- faults


FAULTS = {
    "rate_limit": (openai.RateLimitError, lc_errors.ModelRateLimitError),
    "server_error": (openai.InternalServerError, lc_errors.ModelAPIError),
    "overloaded": (openai.InternalServerError, lc_errors.ModelAPIError),
    "timeout": (openai.APITimeoutError, lc_errors.ModelTimeoutError),
    "reset": (openai.APIConnectionError, lc_errors.ModelConnectionError),
    "bad_key": (openai.AuthenticationError, lc_errors.ModelAuthenticationError),
}


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
@pytest.mark.parametrize("kind", list(FAULTS))
def test_fault_raises_what_chat_openai_raises(
    openai_stand_in: OpenAIStandIn, kind: str, stream: bool
) -> None:
    openai_stand_in.add_fault(kind)
    llm = _llm(timeout=0.3)
    with pytest.raises(FAULTS[kind][0]) as info:
        list(llm.stream("hi")) if stream else llm.invoke("hi")
    assert isinstance(info.value, FAULTS[kind][1])
    assert openai_stand_in.last_request.fault == kind
    assert llm.invoke("hi").content.startswith("(stand-in)")  # the next call is fine


def test_rate_limit_retry_after_is_honoured(
    openai_stand_in: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai._base_client as sdk

    waits: list[float] = []  # what the SDK chose to wait, whatever the clock says on a loaded machine
    monkeypatch.setattr(sdk.time, "sleep", waits.append)
    openai_stand_in.add_fault("rate_limit", times=2)
    openai_stand_in.script(["ok"])
    assert ChatOpenAI(model=MODEL, max_retries=2).invoke("hi").content == "ok"
    assert waits == [0.05, 0.05]  # retry-after-ms: 50, not the SDK's 0.5 s+ backoff
    assert [r.fault for r in openai_stand_in.requests] == ["rate_limit", "rate_limit", None]


def test_fault_rate_is_seeded(openai_stand_in: OpenAIStandIn) -> None:
    client = openai.OpenAI(max_retries=0)

    def outcomes() -> list[str]:
        openai_stand_in.set_fault_rate(0.5, seed=3)
        got = []
        for _ in range(12):
            try:
                client.chat.completions.create(model=MODEL, messages=USER)
                got.append("ok")
            except openai.APIStatusError as exc:
                got.append(str(exc.status_code))
        return got

    first = outcomes()
    assert first == outcomes() and "ok" in first and set(first) - {"ok"} <= {"429", "500", "503"}
    assert len(set(first)) > 2


def test_random_faults_can_spare_retries(openai_stand_in: OpenAIStandIn) -> None:
    client = openai.OpenAI(max_retries=0)
    openai_stand_in.set_fault_rate(1.0, seed=3, kinds=["server_error"], only_first_attempt=True)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=MODEL, messages=USER)
    assert client.chat.completions.create(model=MODEL, messages=USER).choices  # the same request again
    with pytest.raises(openai.InternalServerError):  # a new request is a first attempt
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "other"}])


def test_latency_before_response_and_first_chunk(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.latency = 0.2
    started = time.monotonic()
    _llm().invoke("hi")
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    next(iter(openai.OpenAI(max_retries=0).chat.completions.create(model=MODEL, messages=USER, stream=True)))
    assert time.monotonic() - started >= 0.2


def test_script_errors_are_loud(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.script([call("not_a_tool"), lambda request: 1 / 0])
    with pytest.raises(openai.BadRequestError, match="not offered"):
        _llm().bind_tools(TOOLS).invoke("hi")
    with pytest.raises(openai.BadRequestError, match="ZeroDivisionError"):
        _llm().invoke("hi")
    assert "ZeroDivisionError" in openai_stand_in.errors[0]


def test_reset_clears_everything(openai_stand_in: OpenAIStandIn) -> None:
    openai_stand_in.script(["x"])
    openai_stand_in.on_user("hi", ["y"])
    openai_stand_in.add_fault("server_error")
    openai_stand_in.latency = 5
    openai_stand_in.reset()
    assert openai_stand_in.pending == 0 and openai_stand_in.requests == []
    assert _llm().invoke("hi").content.startswith("(stand-in)")


# --------------------------------------------------------------------------- helpers


def test_result_helpers_on_a_raw_request() -> None:
    request = {
        "messages": [
            {"role": "user", "content": "old question"},
            {"role": "assistant", "content": "old answer"},
            {"role": "user", "content": [{"type": "text", "text": "new question"}]},
            {
                "role": "assistant",
                "tool_calls": [{"id": "c1", "function": {"name": "t2i", "arguments": "{}"}}],
            },
            {
                "role": "tool",
                "tool_call_id": "c1",
                "content": "{'path': 'outputs/images/a1.png', 'model': 'x/y'}",
            },
            {
                "role": "assistant",
                "tool_calls": [{"id": "c2", "function": {"name": "det", "arguments": "{}"}}],
            },
            {
                "role": "tool",
                "tool_call_id": "c2",
                "content": "Found 2 objects in /tmp/b2.jpg using model: org/det-1",
            },
        ]
    }
    assert step_index(request) == 2
    assert [r.name for r in last_tool_results(request)] == ["det"]
    assert find_paths("see outputs/audio/s.wav and http://h/x.png, outputs/images/z.png.") == [
        "outputs/audio/s.wav",
        "outputs/images/z.png",
    ]
    assert find_models('{"models": ["a/b", "c/d"]}') == ["a/b", "c/d"] and find_count("count: 7") == 7
    tool_text = (  # the shape of this project's task tool output
        "object-detection: Found 3 object(s): 2 cat, 1 sofa.\nAnnotated image: outputs/images/ab12cd34.png\n"
        "Model: facebook/detr-resnet-50 via hf-inference (1.2 s); failed first: hustvl/yolos-tiny (timeout)"
    )
    assert find_paths(tool_text) == ["outputs/images/ab12cd34.png"]
    assert (find_models(tool_text), find_count(tool_text)) == (["facebook/detr-resnet-50"], 3)
    ctx = result_context(request)
    assert (ctx["image"], str(ctx["images"]), ctx["model"], ctx["count"]) == (
        "/tmp/b2.jpg",
        "outputs/images/a1.png, /tmp/b2.jpg",
        "org/det-1",
        2,
    )
    assert ctx["user"] == "new question" and ctx["path"] == "/tmp/b2.jpg"
