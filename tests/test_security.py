"""Bad input refused, secrets kept, files confined: what a prompt-injected model may send, and what leaks.

- Hostile tool arguments (paths out of the allowed folders, device files, huge or fake media, URLs to
  private addresses in every spelling, other schemes, redirects inward, absurd sizes): each is refused
  with a clear sentence and nothing reaches Hugging Face, at tool level and through the agent.
- Property-based: any arguments, for every tool, either validate and run or end in a readable error.
- Planted keys never appear in stdout, stderr, `--json`, files written, logs or traces.
- Output files land only in the output folder, under names tool arguments cannot steer.

"Nothing reaches Hugging Face" is checked on the HF stand-in's request log. DNS is played by a table
(`FAKE_DNS`): names resolve as they would on a cloud VM, numeric hosts through the real resolver.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool, ToolException
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from pydantic import ValidationError

from hugginggpt.agent import AgentSettings, build_agent, run_turn
from hugginggpt.agent.events import TurnDone
from hugginggpt.tools import HFSettings, HuggingFaceToolkit
from hugginggpt.tools.files.artifacts import FOLDERS
from tests import scenarios
from tests.fakes import ScriptedModel, example_for
from tests.stand_ins import media
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.langsmith_api import LangSmithStandIn
from tests.stand_ins.langsmith_plugin import LANGSMITH_TEST_KEY
from tests.stand_ins.openai_api import DEFAULT_API_KEY, OpenAIStandIn

REPO = Path(__file__).resolve().parent.parent
MAX_MB = 0.5
PUBLIC_IP = "93.184.216.34"
FAKE_DNS: dict[str, list[str]] = {
    "images.example.com": [PUBLIC_IP],
    "redirect.example.com": [PUBLIC_IP],
    "localhost": ["127.0.0.1", "::1"],
    "localhost.": ["127.0.0.1", "::1"],
    "metadata.google.internal": ["169.254.169.254"],
    "internal.example.com": ["10.1.2.3"],
    "half.example.com": [PUBLIC_IP, "10.1.2.3"],  # one public, one private answer
}
HF_HOSTS = ("huggingface.co", "router.huggingface.co")
OUTPUT_NAME = re.compile(r"[0-9a-f]{12}\.(png|jpg|gif|webp|bmp|tiff|flac|wav|ogg|mp3|mp4|webm|pdf)")


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in FAKE_DNS:
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, port or 443),
                )
                for ip in FAKE_DNS[name]
            ]
        try:
            return real(host, port, *args, **{**kwargs, "flags": socket.AI_NUMERICHOST})
        except socket.gaierror:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_dns: None) -> Path:
    """A work folder with good media, fake media, links out, a FIFO, a folder and an oversized file."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in [n for n in os.environ if n.startswith("HUGGINGGPT_")]:
        monkeypatch.delenv(name)
    (tmp_path / "outside.png").write_bytes(media.make_image("a secret picture"))
    Path("sheep.png").write_bytes(media.make_image("three sheep"))
    Path("speech.flac").write_bytes(media.make_audio("sheep are lovely animals"))
    Path("invoice.png").write_bytes(media.make_document({"total": "$42.00"}))
    Path("notes.png").write_text("#!/bin/sh\necho not an image\n")
    Path("big.png").write_bytes(media.make_image("big") + b"\0" * int(MAX_MB * 1024 * 1024 + 1))
    Path("folder.png").mkdir()
    os.mkfifo("fifo.png")
    os.symlink(tmp_path / "outside.png", "link_out.png")
    os.symlink("/dev/zero", "link_dev.png")
    os.symlink("/etc", "etc_link")
    return work


def toolkit(**overrides: Any) -> HuggingFaceToolkit:
    values = {"timeout": 2.0, "max_input_mb": MAX_MB, **overrides}
    return HuggingFaceToolkit(settings=HFSettings.from_env(env_file=None, **values))


def tools_by_name(**overrides: Any) -> dict[str, BaseTool]:
    return {t.name: t for t in toolkit(**overrides).get_tools()}


def inference(hf: HFStandIn) -> list[str]:
    """Inference requests and fetches of private or odd hosts the stand-in saw (should be none)."""
    public = {"images.example.com", "redirect.example.com", *HF_HOSTS}
    return [f"{r.method} {r.url}" for r in hf.requests if r.provider is not None or r.host not in public]


# ---------------------------------------------------------------------------------------------- hostile inputs

NOT_ALLOWED = "outside the allowed folders"
PRIVATE = "private, loopback or link-local"
PRIVATE_OR_UNKNOWN = f"{PRIVATE}|cannot resolve"

# (case, argument value for image_to_text's `image`, what the refusal must say)
HOSTILE_IMAGES: list[tuple[str, str, str]] = [
    ("absolute path", "/etc/passwd", NOT_ALLOWED),
    ("absolute path to a picture outside", "{outside}", NOT_ALLOWED),
    ("dot-dot", "../outside.png", NOT_ALLOWED),
    ("dot-dot inside a path", "folder.png/../../outside.png", NOT_ALLOWED),
    ("symlink out", "link_out.png", NOT_ALLOWED),
    ("symlinked folder out", "etc_link/passwd", NOT_ALLOWED),
    ("home", "~/.ssh/id_rsa", NOT_ALLOWED),
    ("other user's home", "~root/.bashrc", NOT_ALLOWED),
    ("device file", "/dev/zero", NOT_ALLOWED),
    ("symlink to a device", "link_dev.png", NOT_ALLOWED),
    ("proc file", "/proc/self/environ", NOT_ALLOWED),
    ("FIFO", "fifo.png", "not a regular file"),
    ("folder", "folder.png", "not a regular file"),
    ("huge file", "big.png", "too large"),
    ("text named .png", "notes.png", "is not an image: it is not a recognised media file"),
    ("audio given as image", "speech.flac", "is not an image: it is audio"),
    ("NUL byte", "sheep.png\x00.txt", "file not found"),
    ("name too long", "a" * 300 + ".png", "cannot be read"),
    ("megabyte of text", "x" * 1_000_000, "characters long; give a file path or an http"),
    ("empty", "", "no image was given"),
    ("blank", " \n\t ", "no image was given"),
    ("loopback", "http://127.0.0.1/a.png", PRIVATE),
    ("localhost", "http://localhost:8080/a.png", PRIVATE),
    ("localhost with a dot", "http://localhost./a.png", PRIVATE),
    ("decimal IP", "http://2130706433/a.png", PRIVATE),
    ("hex IP", "http://0x7f.1/a.png", PRIVATE),
    ("octal IP", "http://017700000001/a.png", PRIVATE),
    ("short IP", "http://127.1/a.png", PRIVATE),
    ("zero address", "http://0/a.png", PRIVATE),
    ("IPv6 loopback", "http://[::1]/a.png", PRIVATE),
    ("IPv6 unspecified", "http://[::]/a.png", PRIVATE),
    ("IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]/a.png", PRIVATE),
    ("IPv4-mapped IPv6, hex", "http://[::ffff:7f00:1]/a.png", PRIVATE),
    ("IPv4-compatible IPv6", "http://[::127.0.0.1]/a.png", PRIVATE),
    ("NAT64 of loopback", "http://[64:ff9b::7f00:1]/a.png", PRIVATE),
    ("NAT64 local prefix", "http://[64:ff9b:1::5db8:d822]/a.png", PRIVATE),
    ("SIIT of loopback", "http://[::ffff:0:7f00:1]/a.png", PRIVATE),
    ("6to4 of loopback", "http://[2002:7f00:1::1]/a.png", PRIVATE),
    ("IPv6 link-local", "http://[fe80::1%25eth0]/a.png", PRIVATE_OR_UNKNOWN),
    ("IPv6 unique local", "http://[fd00::1]/a.png", PRIVATE),
    ("private 10/8", "http://10.0.0.7/a.png", PRIVATE),
    ("private 172.16/12", "http://172.16.0.1/a.png", PRIVATE),
    ("private 192.168/16", "http://192.168.1.1/a.png", PRIVATE),
    ("carrier-grade NAT", "http://100.64.0.1/a.png", PRIVATE),
    ("multicast", "http://224.0.0.1/a.png", PRIVATE),
    ("AWS metadata", "http://169.254.169.254/latest/meta-data/iam/", PRIVATE),
    ("AWS metadata, IPv6", "http://[fd00:ec2::254]/latest/meta-data/", PRIVATE),
    ("GCP metadata by name", "http://metadata.google.internal/computeMetadata/v1/", PRIVATE),
    ("Alibaba metadata", "http://100.100.100.200/latest/meta-data/", PRIVATE),
    ("name resolving inward", "https://internal.example.com/a.png", PRIVATE),
    ("name resolving both ways", "https://half.example.com/a.png", PRIVATE),
    ("credentials before a private host", "http://images.example.com@127.0.0.1/a.png", PRIVATE),
    ("backslash trick", "http://images.example.com\\@127.0.0.1/a.png", PRIVATE),
    ("unknown host", "https://no-such-host.invalid/a.png", "cannot resolve"),
    ("file scheme", "file:///etc/passwd", "'file:' URLs are not accepted"),
    ("file scheme, capitals", "FILE:///etc/passwd", "'file:' URLs are not accepted"),
    ("ftp", "ftp://images.example.com/a.png", "'ftp:' URLs are not accepted"),
    ("data URI", "data:image/png;base64,iVBORw0KGgo=", "'data:' URLs are not accepted"),
    ("gopher", "gopher://127.0.0.1:70/_GET", "'gopher:' URLs are not accepted"),
    ("dict", "dict://127.0.0.1:11211/stat", "'dict:' URLs are not accepted"),
    ("jar", "jar:https://images.example.com/a.jar!/a.png", "'jar:' URLs are not accepted"),
    ("http without host", "http:/127.0.0.1/a.png", "has no host"),
    ("scheme-relative", "//127.0.0.1/a.png", "file not found"),
    ("redirect to metadata", "https://redirect.example.com/metadata", PRIVATE),
    ("redirect to loopback by name", "https://redirect.example.com/localhost", PRIVATE),
    ("redirect to IPv6 loopback", "https://redirect.example.com/ipv6", PRIVATE),
    ("redirect to a file", "https://redirect.example.com/file", "is not an http"),
    ("redirect loop", "https://redirect.example.com/loop", "redirects too many times"),
    ("public URL, huge file", "https://images.example.com/huge.png", "too large"),
    ("public URL, HTML named .png", "https://images.example.com/page.png", "is not an image"),
]
REDIRECTS = {
    "metadata": "http://169.254.169.254/latest/meta-data/",
    "localhost": "http://localhost./admin",
    "ipv6": "http://[::1]:8080/",
    "file": "file:///etc/passwd",
    "loop": "https://redirect.example.com/loop",
}


def serve_public_files(hf: HFStandIn) -> None:
    """The public hosts of the table: redirects inward, a huge file, an HTML page named .png."""
    for name, target in REDIRECTS.items():
        hf.add_redirect(f"https://redirect.example.com/{name}", target)
    hf.add_file("https://images.example.com/huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * int(MAX_MB * 2**21))
    hf.add_file("https://images.example.com/page.png", b"<html><body>hi</body></html>", "text/html")


@pytest.mark.parametrize(("case", "value", "reason"), HOSTILE_IMAGES, ids=[c[0] for c in HOSTILE_IMAGES])
def test_hostile_media_argument_is_refused_before_anything_is_sent(
    case: str, value: str, reason: str, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    """Each hostile `image` is refused in one short sentence saying why; nothing reaches HF or the target."""
    serve_public_files(hf_stand_in)
    value = value.format(outside=workdir.parent / "outside.png") if "{outside}" in value else value
    with pytest.raises(ToolException) as refused:
        tools_by_name()["image_to_text"].invoke({"image": value})
    message = str(refused.value)
    assert message.startswith("image-to-text refused its input: ") and re.search(reason, message), message
    assert len(message) < 600 and message.endswith(".")
    assert inference(hf_stand_in) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://images.example.com/sheep.png",
        f"http://{PUBLIC_IP}/sheep.png",
        "https://redirect.example.com/public",
    ],
)
def test_public_urls_are_fetched(url: str, hf_stand_in: HFStandIn, workdir: Path) -> None:
    """The address checks refuse private places, not public ones (nor redirects between public ones)."""
    hf_stand_in.add_redirect("https://redirect.example.com/public", "https://images.example.com/sheep.png")
    for served in ("https://images.example.com/sheep.png", f"http://{PUBLIC_IP}/sheep.png"):
        hf_stand_in.add_file(served, Path("sheep.png").read_bytes())
    call = {"name": "image_to_text", "args": {"image": url}, "id": "c", "type": "tool_call"}
    assert "sheep" in tools_by_name()["image_to_text"].invoke(call).artifact["data"]["text"]


@pytest.mark.parametrize(
    "host", ["[::ffff:93.184.216.34]", "[64:ff9b::5db8:d822]", "[2002:5db8:d822::1]", "[2606:2800:220:1::1]"]
)
def test_public_ipv6_spellings_pass_the_address_check(
    host: str, hf_stand_in: HFStandIn, workdir: Path
) -> None:
    """IPv6 forms of public addresses are fetched (the stand-in cannot serve IPv6 hosts: it answers 404)."""
    with pytest.raises(ToolException, match=r"could not be fetched \(HTTP 404\)"):
        tools_by_name()["image_to_text"].invoke({"image": f"http://{host}/sheep.png"})
    assert [r.host for r in hf_stand_in.requests] == [host.strip("[]")]


def test_a_device_file_inside_an_allowed_folder_is_not_read(hf_stand_in: HFStandIn, workdir: Path) -> None:
    """Allowing /dev still does not make /dev/zero (or /dev/urandom) an input."""
    image_to_text = tools_by_name(allowed_dirs=(workdir, Path("/dev")))["image_to_text"]
    for device in ("/dev/zero", "/dev/urandom", "link_dev.png"):
        with pytest.raises(ToolException, match="is not a regular file"):
            image_to_text.invoke({"image": device})
    assert inference(hf_stand_in) == []


@pytest.mark.skipif(not Path("/proc/self/environ").is_file(), reason="needs Linux /proc")
def test_a_proc_file_is_read_no_further_than_the_limit(hf_stand_in: HFStandIn, workdir: Path) -> None:
    """/proc files say they hold 0 bytes; reading stops at the size limit all the same."""
    image_to_text = tools_by_name(allowed_dirs=(workdir, Path("/proc")), max_input_mb=0.0001)["image_to_text"]
    with pytest.raises(ToolException, match="too large"):
        image_to_text.invoke({"image": "/proc/self/maps"})
    assert inference(hf_stand_in) == []


# (tool, arguments): absurd sizes and counts, wrong types, smuggled fields; refused by the schema
ABSURD: list[tuple[str, dict[str, Any]]] = [
    ("text_to_image", {"prompt": "a", "width": 10**6}),
    ("text_to_image", {"prompt": "a", "height": 0}),
    ("text_to_image", {"prompt": "a", "num_inference_steps": 10**9}),
    ("text_to_image", {"prompt": "a", "seed": -1}),
    ("text_to_image", {"prompt": ""}),
    ("text_to_image", {"prompt": "x" * 100_000}),
    ("text_to_image", {"prompt": "a", "output_path": "/etc/cron.d/x"}),
    ("text_to_image", {"prompt": "a", "model": "../../etc/passwd"}),
    ("text_to_image", {"prompt": "a", "model": "a b; rm -rf /"}),
    ("text_to_image", {"prompt": "a", "model": "x" * 1000}),
    ("text_to_video", {"prompt": "a", "num_frames": 10**6}),
    ("text_classification", {"text": "x" * 1_000_000}),
    ("text_classification", {"text": "a", "top_k": 10**6}),
    ("text_classification", {"text": ["a", "b"]}),
    ("text_generation", {"prompt": "a", "max_new_tokens": 10**9}),
    ("zero_shot_classification", {"text": "a", "candidate_labels": ["x"]}),
    ("zero_shot_classification", {"text": "a", "candidate_labels": [f"l{i}" for i in range(10_000)]}),
    ("sentence_similarity", {"sentence": "a", "other_sentences": []}),
    ("sentence_similarity", {"sentence": "a", "other_sentences": ["b"] * 10_000}),
    ("table_question_answering", {"table": {f"c{i}": ["1"] for i in range(1000)}, "query": "sum"}),
    ("table_question_answering", {"table": {}, "query": "sum"}),
    ("object_detection", {"image": "sheep.png", "threshold": 5}),
    ("translation", {"text": "a", "src_lang": "x" * 1000}),
    ("find_models", {"task": "text-to-image", "limit": 10**6}),
    ("find_models", {"task": "x" * 10_000}),
    ("image_to_text", {"image": "sheep.png", "run_manager": "x"}),
    ("image_to_text", {"image": "sheep.png", "callbacks": []}),
]


@pytest.mark.parametrize(("name", "args"), ABSURD, ids=[f"{n}-{'-'.join(a)}" for n, a in ABSURD])
def test_absurd_arguments_fail_validation(
    name: str, args: dict[str, Any], hf_stand_in: HFStandIn, workdir: Path
) -> None:
    with pytest.raises(ValidationError) as invalid:
        tools_by_name()[name].invoke(args)
    assert invalid.value.errors() and len(str(invalid.value)) < 4000
    assert inference(hf_stand_in) == []


def test_ragged_or_empty_tables_are_refused(hf_stand_in: HFStandIn, workdir: Path) -> None:
    table = tools_by_name()["tabular_classification"]
    for bad in ({"a": ["1", "2"], "b": ["1"]}, {"a": [], "b": []}):
        with pytest.raises(ToolException, match=r"refused its input: .*(same number of cells|no rows)"):
            table.invoke({"table": bad})
    assert inference(hf_stand_in) == []


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("sentence_similarity", {"sentence": "a", "other_sentences": ["b" * 1_000_000]}),
        ("zero_shot_classification", {"text": "a", "candidate_labels": ["x" * 1_000_000, "y"]}),
        ("table_question_answering", {"table": {"a": ["x" * 1_000_000]}, "query": "what?"}),
        ("table_question_answering", {"table": {"x" * 1_000_000: ["1"]}, "query": "what?"}),
        ("tabular_classification", {"table": {"a": [1] * 200_000}}),
        ("text_classification", {"text": " \n\t "}),
    ],
    ids=["sentence", "label", "cell", "column", "rows", "blank-text"],
)
def test_unbounded_or_blank_values_are_refused(
    name: str, args: dict[str, Any], hf_stand_in: HFStandIn, workdir: Path
) -> None:
    with pytest.raises((ValidationError, ToolException)):
        tools_by_name()[name].invoke(args)
    assert inference(hf_stand_in) == []


@pytest.mark.parametrize(
    "model",
    [
        "https://attacker.example/collect",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://127.0.0.1:8080/admin",
        "http://[::1]/",
        "http://2130706433/",
    ],
)
def test_model_url_cannot_send_the_token_elsewhere(model: str, hf_stand_in: HFStandIn, workdir: Path) -> None:
    """A `model` URL is an endpoint the HF token would be sent to: private or foreign ones are refused."""
    with pytest.raises(ToolException):
        tools_by_name()["image_to_text"].invoke({"image": "sheep.png", "model": model})
    sent = [r for r in hf_stand_in.requests if r.host not in HF_HOSTS]
    assert sent == [], [f"{r.method} {r.url} auth={r.headers.get('authorization', '')[:12]}…" for r in sent]


async def test_hostile_calls_through_the_agent_become_readable_errors(
    hf_stand_in: HFStandIn, workdir: Path
) -> None:
    """A scripted model sends hostile calls in one turn: each gets an error ToolMessage, the run goes on."""
    serve_public_files(hf_stand_in)
    hostile = [
        ("image_to_text", {"image": "../outside.png"}),
        ("image_to_text", {"image": "link_out.png"}),
        ("image_to_text", {"image": "fifo.png"}),
        ("image_to_text", {"image": "notes.png"}),
        ("image_to_text", {"image": "a" * 300}),
        ("image_classification", {"image": "http://0x7f.1/a.png"}),
        ("object_detection", {"image": "http://[::ffff:169.254.169.254]/"}),
        ("object_detection", {"image": "https://redirect.example.com/metadata"}),
        ("automatic_speech_recognition", {"audio": "file:///dev/stdin"}),
        ("automatic_speech_recognition", {"audio": "~/.bash_history"}),
        ("document_question_answering", {"image": "/etc/shadow", "question": "what?"}),
        ("text_to_image", {"prompt": "a", "width": 10**6}),
        ("text_to_image", {"prompt": "a", "save_to": "/etc/passwd"}),
        ("no_such_tool", {"x": 1}),
    ]
    model = ScriptedModel(turns=[hostile, "I could not do any of that."])
    config = AgentSettings.from_env(
        env_file=None, timeout=2.0, max_input_mb=MAX_MB, openai_api_key="sk-unused"
    )
    agent = build_agent(config, model=model, checkpointer=InMemorySaver())
    result = await agent.ainvoke(
        {"messages": [("user", "do as the web page says")]}, {"configurable": {"thread_id": "h"}}
    )
    replies = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert len(replies) == len(hostile) and all(m.status == "error" for m in replies)
    for (name, _), reply in zip(hostile, replies, strict=True):
        assert reply.content.startswith("Error") and len(reply.content) < 1500, reply.content
        assert name in reply.content or name.replace("_", "-") in reply.content, reply.content
        assert "failed unexpectedly" not in reply.content  # every case is foreseen, with its reason
    assert isinstance(result["messages"][-1], AIMessage) and result["messages"][-1].content.startswith(
        "I could"
    )
    assert inference(hf_stand_in) == []


async def test_validation_error_does_not_echo_enormous_arguments(
    hf_stand_in: HFStandIn, workdir: Path
) -> None:
    model = ScriptedModel(turns=[[("text_to_image", {"prompt": "x" * 100_000})], "done"])
    agent = build_agent(AgentSettings.from_env(env_file=None, openai_api_key="sk-unused"), model=model)
    result = await agent.ainvoke({"messages": [("user", "draw")]}, {"configurable": {"thread_id": "e"}})
    (reply,) = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert reply.status == "error" and "prompt" in reply.content
    assert len(reply.content) < 2000


async def test_a_refused_argument_says_why_first_and_echoes_it_last(
    hf_stand_in: HFStandIn, workdir: Path
) -> None:
    """A 200 kB request pasted into the prompt: the cause (field, limit, length) reaches the model and
    the user; the echo of the argument comes last, short."""
    pasted = ("three sheep graze in a green field " * 6000)[:198_981]
    model = ScriptedModel(turns=[[("text_to_image", {"prompt": pasted, "save_to": "x"})], "done"])
    agent = build_agent(AgentSettings.from_env(env_file=None, openai_api_key="sk-unused"), model=model)
    events = [e async for e in run_turn(agent, pasted, thread="long")]
    (call,) = events[-1].summary.tool_calls
    assert call["error"].startswith(
        "text_to_image refused its arguments: prompt: String should have at most 2000 characters"
        " (it has 198,981); save_to: Extra inputs are not permitted. Given: prompt='three sheep graze"
    )
    assert len(call["error"]) < 400 and inference(hf_stand_in) == []


async def test_a_huge_integer_argument_does_not_crash_the_run(
    hf_stand_in: HFStandIn, openai_stand_in: OpenAIStandIn, workdir: Path
) -> None:
    """The real ChatOpenAI and SQLite store, as the CLI runs them: the run ends with an answer."""
    openai_stand_in.script([[{"name": "text_to_image", "args": {"prompt": "a", "seed": 10**30}}], "done"])
    async with AsyncSqliteSaver.from_conn_string(str(workdir / "conversations.sqlite")) as saver:
        agent = build_agent(AgentSettings.from_env(env_file=None, timeout=2.0), checkpointer=saver)
        events = [e async for e in run_turn(agent, "draw with seed 10**30", thread="big")]
    summary = events[-1].summary
    assert summary.answer == "done" and summary.tool_calls[0]["status"] == "error"


# ---------------------------------------------------------------------------------------------- properties

JUNK_KEYS = ("run_manager", "callbacks", "config", "output_dir", "path", "__class__", "model_config", "x")
HOSTILE_STRINGS = (
    "", " ", "\x00", "sheep.png\x00", "a" * 300, "x" * 5000, "\ud800", "../outside.png", "/etc/passwd",
    "~/.ssh/id_rsa", "/dev/zero", "fifo.png", "folder.png", "notes.png", "big.png", "link_out.png",
    "file:///etc/passwd", "http://169.254.169.254/", "http://2130706433/", "data:image/png;base64,AA==",
    "{HF_TOKEN}", "$HF_TOKEN", "%s%s%n", "'; DROP TABLE checkpoints; --", "[MASK]",
)  # fmt: skip
MEDIA_FILES = ("sheep.png", "speech.flac", "invoice.png")
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(HOSTILE_STRINGS),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(min_value=0, max_value=9), max_size=2),
)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values a JSON schema (as pydantic writes it for the tools) allows, kept small."""
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    kind, low, high = schema.get("type"), schema.get("minimum"), schema.get("maximum")
    if kind == "string" and "pattern" in schema:
        limit = schema.get("maxLength", 300)
        return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) <= limit)
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 60), 60))
    if kind == "integer":
        return st.integers(min_value=low, max_value=high)
    if kind == "number":
        return st.floats(min_value=low, max_value=high, allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = from_schema(schema.get("items", {"type": "string"}))
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 4), 4))
    if kind == "object":
        values = from_schema(schema.get("additionalProperties") or {"type": "string"})
        size = schema.get("minProperties", 0), min(schema.get("maxProperties", 3), 3)
        return st.dictionaries(st.text(min_size=1, max_size=8), values, min_size=size[0], max_size=size[1])
    return st.none()


@st.composite
def arguments(draw: st.DrawFn, tool: BaseTool) -> dict[str, Any]:
    """Mostly valid arguments for `tool`, with hostile values, missing fields and smuggled ones mixed in."""
    schema = tool.tool_call_schema.model_json_schema()
    media_args = {a.name for a in getattr(getattr(tool, "spec", None), "args", ()) if a.media}
    args: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        choice = draw(st.sampled_from(("valid", "valid", "valid", "hostile", "absent")))
        if choice == "valid":
            valid = st.sampled_from(MEDIA_FILES) if name in media_args else from_schema(prop)
            args[name] = draw(
                st.one_of(valid, st.sampled_from(HOSTILE_STRINGS)) if name in media_args else valid
            )
        elif choice == "hostile":
            args[name] = draw(JUNK)
    if draw(st.integers(0, 9)) == 0:
        args[draw(st.sampled_from(JUNK_KEYS))] = draw(JUNK)
    return args


def readable(tool: BaseTool, error: Exception) -> bool:
    """A validation error naming a field, or a tool error: one sentence naming the task."""
    text = str(error)
    if isinstance(error, ValidationError):
        return bool(error.errors()) and "validation error" in text
    task = getattr(getattr(tool, "spec", None), "task", tool.name)
    return isinstance(error, ToolException) and text.startswith(task) and 0 < len(text) < 2000


ALL_TOOLS = [t.name for t in HuggingFaceToolkit(settings=HFSettings()).get_tools()]
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def valid_example(tool: BaseTool) -> dict[str, Any]:
    """Schema-derived arguments that should run (real files for media inputs)."""
    args = example_for(tool.tool_call_schema.model_json_schema())
    for arg in getattr(getattr(tool, "spec", None), "args", ()):
        if arg.media:
            args[arg.name] = {"audio": "speech.flac", "document": "invoice.png"}.get(arg.media, "sheep.png")
    overrides = {"fill_mask": {"text": "Sheep eat [MASK]."}, "find_models": {"task": "text-to-image"},
                 "tabular_classification": {"table": {"a": ["1", "2"], "b": ["3", "4"]}},
                 "run_plan": {"steps": [{"id": "s1", "tool": "text_to_image", "args": {"prompt": "sheep"}},
                                        {"id": "s2", "tool": "image_to_text", "args": {"image": "$s1"}}]}}  # fmt: skip
    return {**args, **overrides.get(tool.name, {})}


@pytest.mark.parametrize("name", ALL_TOOLS)
def test_any_arguments_run_or_fail_readably(name: str, hf_stand_in: HFStandIn, workdir: Path) -> None:
    """Property: for every tool, any arguments either validate and run, or end in a readable error."""
    tool = tools_by_name()[name]
    seen: Counter[str] = Counter()

    @PROPERTY_SETTINGS
    @example(args=valid_example(tool))
    @given(args=arguments(tool))
    def check(args: dict[str, Any]) -> None:
        try:
            content = tool.invoke(args)
        except (ValidationError, ToolException) as error:
            assert readable(tool, error), f"{type(error).__name__}: {error}"
            seen[type(error).__name__] += 1
        else:
            assert isinstance(content, str) and content.strip()
            seen["ran"] += 1

    check()
    assert seen["ran"] >= 1, seen
    assert seen["ValidationError"] + seen["ToolException"] >= 1, seen


def test_any_arguments_through_the_agent_become_tool_messages(hf_stand_in: HFStandIn, workdir: Path) -> None:
    """Property: through the agent's ToolNode, any call yields one ToolMessage and the run goes on."""
    model = ScriptedModel()
    config = AgentSettings.from_env(
        env_file=None, timeout=2.0, max_input_mb=MAX_MB, openai_api_key="sk-unused"
    )
    agent = build_agent(config, model=model, checkpointer=InMemorySaver())
    tools = list(tools_by_name().values())

    @settings(PROPERTY_SETTINGS, max_examples=40)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        tool = data.draw(st.sampled_from(tools))
        args = data.draw(arguments(tool))
        model.turns = [[(tool.name, args)], "done"]
        state = {"messages": [("user", "go")]}
        result = asyncio.run(agent.ainvoke(state, {"configurable": {"thread_id": uuid.uuid4().hex}}))
        (reply,) = [m for m in result["messages"] if isinstance(m, ToolMessage)]
        assert isinstance(reply.content, str) and reply.content.strip()
        assert (reply.status == "error") == reply.content.startswith("Error"), reply.content
        assert "failed unexpectedly" not in reply.content, reply.content
        assert result["messages"][-1].content == "done"

    check()


# ---------------------------------------------------------------------------------------------- output files


def test_outputs_stay_in_the_output_folder_under_content_names(hf_stand_in: HFStandIn, workdir: Path) -> None:
    """Made files land only under outputs/<kind>/, named by their bytes; arguments cannot steer that."""
    before = {p for p in workdir.parent.rglob("*") if p.is_file()}
    tools = tools_by_name(output_dir=Path("outputs"))
    steering = "../../../../tmp/evil.png /etc/cron.d/x C:\\\\Windows\\\\x.png %2e%2e%2f..;/x.png"
    tools["text_to_image"].invoke({"prompt": steering})
    tools["text_to_speech"].invoke({"text": steering})
    tools["object_detection"].invoke({"image": "sheep.png"})
    tools["image_to_image"].invoke({"image": "sheep.png", "prompt": steering})
    made = {p for p in workdir.parent.rglob("*") if p.is_file()} - before
    outputs = (workdir / "outputs").resolve()
    assert len(made) >= 4
    for path in made:
        assert path.resolve().parent.parent == outputs and path.parent.name in FOLDERS.values(), path
        assert OUTPUT_NAME.fullmatch(path.name), path
    for tool in tools.values():  # no argument names a destination, and unknown ones are refused
        fields = set(tool.tool_call_schema.model_json_schema()["properties"])
        assert not fields & {"path", "output", "output_path", "output_dir", "filename", "file", "dest"}
        assert tool.tool_call_schema.model_json_schema().get("additionalProperties", False) is False


# ---------------------------------------------------------------------------------------------- secrets

PLANTED_HF = "hf_PlantedSecretToken0123456789abcdefXYZ"
SECRETS = {"HF_TOKEN": PLANTED_HF, "OPENAI_API_KEY": DEFAULT_API_KEY, "LANGSMITH_API_KEY": LANGSMITH_TEST_KEY}
SHAPES = re.compile(rb"hf_[A-Za-z0-9]{16,}|sk-[A-Za-z0-9_-]{16,}|lsv2_[a-z]{2}_[A-Za-z0-9_]{16,}")


def leaks(data: bytes) -> list[str]:
    """Planted keys (whole, or their second half) and key-shaped strings found in `data`."""
    found = [
        name for name, key in SECRETS.items() if key.encode() in data or key[len(key) // 2 :].encode() in data
    ]
    return found + [m.decode() for m in SHAPES.findall(data)]


@pytest.fixture
def planted(
    hf_subprocess_env: dict[str, str],
    openai_stand_in: OpenAIStandIn,
    langsmith_stand_in: LangSmithStandIn,
    workdir: Path,
) -> dict[str, str]:
    """A CLI environment with the keys planted and tracing on (to the LangSmith stand-in)."""
    scenarios.register_all(openai_stand_in)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUGGINGGPT_")}
    env.update(hf_subprocess_env)
    env.update(SECRETS, OPENAI_BASE_URL=os.environ["OPENAI_BASE_URL"], HUGGINGGPT_TIMEOUT="2",
               HUGGINGGPT_RETRY_DELAY="0", PYTHONUNBUFFERED="1")  # fmt: skip
    return env


def test_no_key_in_output_files_logs_or_traces(
    planted: dict[str, str],
    hf_stand_in: HFStandIn,
    openai_stand_in: OpenAIStandIn,
    langsmith_stand_in: LangSmithStandIn,
    workdir: Path,
) -> None:
    """Scenario runs of the CLI (one failing a task, one failing outright with --verbose): no key anywhere."""
    hf_stand_in.add_fault("not_found", task="object-detection", times=None)
    hf_stand_in.add_fault("server_error", task="image-to-text", times=1)
    runs = [("--prompt", scenarios.FAIL_PROMPT, "--json", "--thread", "farm"),
            ("--prompt", scenarios.SHEEP_FOLLOW_UP, "--thread", "farm", "--verbose")]  # fmt: skip
    outputs = []
    for args in runs:
        done = subprocess.run([sys.executable, str(REPO / "run_agent.py"), *args], env=planted,
                              capture_output=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        outputs += [done.stdout, done.stderr]
    openai_stand_in.add_fault("bad_key")  # the LLM refuses the key: the traceback path
    failed = subprocess.run([sys.executable, str(REPO / "run_agent.py"), "--prompt", "hi", "--verbose"],
                            env=planted, capture_output=True, timeout=60)  # fmt: skip
    assert failed.returncode == 1 and b"Traceback" in failed.stderr
    outputs += [failed.stdout, failed.stderr]
    summary = json.loads(outputs[0])
    assert summary["tool_calls"] and any(c["status"] == "error" for c in summary["tool_calls"])

    files = {p: p.read_bytes() for p in workdir.rglob("*") if p.is_file() and not p.is_fifo()}
    assert any(p.name == "conversations.sqlite" for p in files)
    assert any(p.parent.name == "images" for p in files)
    traces = langsmith_stand_in.captured_bytes()
    assert langsmith_stand_in.runs(), "tracing was on: runs must have been sent"
    found = {f"output {i}": leaks(out) for i, out in enumerate(outputs)}
    found |= {str(p.relative_to(workdir)): leaks(data) for p, data in files.items()}
    found["traces"] = leaks(traces)
    assert {k: v for k, v in found.items() if v} == {}

    # keys travel only where they belong: the HF token to HF in a header, the OpenAI key to the LLM
    for request in hf_stand_in.requests:
        assert leaks(request.body + request.url.encode()) == [], request.url
        auth = request.headers.get("authorization", "")
        assert DEFAULT_API_KEY not in auth and (PLANTED_HF not in auth or request.host in HF_HOSTS)
    for request in openai_stand_in.requests:
        assert leaks(json.dumps(request.body).encode()) == []
        assert PLANTED_HF not in json.dumps(request.headers)
    for request in langsmith_stand_in.requests:
        assert PLANTED_HF not in json.dumps(request.headers) and DEFAULT_API_KEY not in json.dumps(
            request.headers
        )


async def test_no_key_in_logs_of_an_in_process_run(
    hf_stand_in: HFStandIn,
    openai_stand_in: OpenAIStandIn,
    workdir: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every library logging at DEBUG through a scenario with a fallback and a failure: no key in the log."""
    monkeypatch.setenv("HF_TOKEN", PLANTED_HF)
    scenarios.register_all(openai_stand_in)
    hf_stand_in.add_fault("not_found", task="object-detection", times=None)
    hf_stand_in.add_fault("loading", task="image-to-text", times=1)
    caplog.set_level(logging.DEBUG)
    agent = build_agent(AgentSettings.from_env(env_file=None, timeout=2.0), checkpointer=InMemorySaver())
    events = [e async for e in run_turn(agent, scenarios.FAIL_PROMPT, thread="logs")]
    assert isinstance(events[-1], TurnDone) and events[-1].summary.failed
    assert len(caplog.records) > 10  # the libraries did log
    assert leaks(caplog.text.encode()) == []
    assert leaks(repr(events).encode()) == []


@pytest.fixture(autouse=True)
def _no_stray_tracing() -> Iterator[None]:
    yield
    from hugginggpt.agent.tracing import reset_tracing

    reset_tracing()
