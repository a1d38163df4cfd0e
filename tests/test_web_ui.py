"""The web UI (agent/web.py, app.py): the event rendering and turn handler, then the page in a real Chromium."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import openai
import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import StructuredTool
from PIL import Image
from pydantic import SecretStr

from hugginggpt.agent.events import AnswerDelta, ToolFinished, ToolStarted, TurnDone, TurnSummary
from hugginggpt.agent.settings import THREAD_NAME, AgentSettings, MissingSetting
from hugginggpt.agent.web import Session, TurnView, WebApp, panel
from tests import browser
from tests.fakes import ScriptedModel
from tests.stand_ins import media
from tests.stand_ins.scripts import call, content_text, find_paths, last_user_message, turn_messages

# --------------------------------------------------------------------------- rendering (no browser)


def test_turn_view_renders_steps_media_and_answer(tmp_path: Path) -> None:
    image = tmp_path / "sheep.png"
    image.write_bytes(b"png")
    session = Session(thread="t1")
    view = TurnView(session)
    view.user("Draw three sheep")
    view.apply(ToolStarted("c1", "text_to_image", {"prompt": "three sheep"}))
    step = session.messages[-1]
    assert step["metadata"]["status"] == "pending" and step["metadata"]["title"] == "text_to_image"
    view.apply(
        ToolFinished(
            "c1",
            "text_to_image",
            "ok",
            1.5,
            model="org/sdxl",
            provider="hf-inference",
            files=[{"path": str(image), "mime_type": "image/png", "kind": "image"}],
        )
    )
    step, media = session.messages[-2:]
    assert step["metadata"] == {
        "title": "✔ text_to_image · org/sdxl",
        "id": "c1",
        "status": "done",
        "duration": 1.5,
        "log": "ok",
    }
    assert "prompt='three sheep'" in step["content"] and "org/sdxl (hf-inference)" in step["content"]
    assert media["content"]["path"] == str(image.resolve())
    view.apply(ToolStarted("c2", "object_detection", {"image": "x.png"}))
    view.apply(ToolFinished("c2", "object_detection", "error", 0.2, error="the model is cold"))
    assert session.messages[-1]["metadata"]["log"] == "error"
    assert "error: the model is cold" in session.messages[-1]["content"]
    for piece in ("Here are ", "three sheep."):
        view.apply(AnswerDelta(piece))
    view.apply(TurnDone(TurnSummary(answer="Here are three sheep.")))
    assert session.messages[-1] == {"role": "assistant", "content": "Here are three sheep."}
    table = panel(session)
    assert "1. **text_to_image** · `org/sdxl` · 1.5 s · ok" in table
    assert "2. **object_detection** · `—` · 200 ms · ✖ the model is cold" in table
    assert "(image/png, text_to_image)" in table


def test_turn_view_adds_an_unstreamed_answer_and_closes_steps_on_failure() -> None:
    session = Session()
    view = TurnView(session)
    view.apply(ToolStarted("c1", "text_to_speech", {"text": "baa"}))
    view.fail("could not reach the LLM server; check OPENAI_BASE_URL and the network.")
    assert session.messages[0]["metadata"]["status"] == "done"
    assert session.messages[-1]["content"].startswith("⚠️ could not reach the LLM server")
    view.apply(TurnDone(TurnSummary(answer="Done.")))
    assert session.messages[-1]["content"] == "Done."


# --------------------------------------------------------------------------- the turn handler, with fakes


def _settings(tmp_path: Path, **overrides: Any) -> AgentSettings:
    values = {
        "output_dir": tmp_path / "outputs",
        "allowed_dirs": (tmp_path,),
        "openai_api_key": SecretStr("sk-test"),
        "hf_token": SecretStr("hf_test"),
    }
    return AgentSettings(**{**values, **overrides})


def _image_tool(settings: AgentSettings) -> StructuredTool:
    """A stand-in for the toolkit's text_to_image: writes a PNG, returns (text, artifact)."""

    def text_to_image(prompt: str) -> tuple[str, dict[str, Any]]:
        """Make an image from a prompt."""
        folder = settings.toolkit.output_dir / "images"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "sheep.png"
        Image.new("RGB", (8, 8), "green").save(path)
        files = [{"path": str(path), "mime_type": "image/png", "kind": "image"}]
        return f"Image saved to {path} (model org/sdxl)", {
            "task": "text-to-image",
            "model": "org/sdxl",
            "seconds": 0.1,
            "files": files,
        }

    return StructuredTool.from_function(text_to_image, response_format="content_and_artifact")


async def _turn(app: WebApp, message: Any, session: Session | None) -> tuple[list[Any], Session]:
    updates = [update async for update in app.respond(message, session)]
    assert updates[-1][0].interactive is True  # the input box is given back
    return updates, updates[-1][3]


async def test_respond_streams_a_turn_and_keeps_the_thread(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    seen: list[str] = []

    def earlier_image(messages: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        seen.extend(find_paths([str(m.content) for m in messages if m.type == "tool"], "image"))
        return [("text_to_image", {"prompt": f"again, like {seen[0]}"})]

    model = ScriptedModel(turns=[[("text_to_image", {"prompt": "three sheep"})], "Here they are."])
    app = WebApp(settings, model=model, tools=[_image_tool(settings)])
    try:
        updates, session = await _turn(app, {"text": "Draw three sheep", "files": []}, None)
        assert len(updates) >= 4  # user echo, step started, step finished, answer, box back
        assert [m["role"] for m in session.messages[:1]] == ["user"]
        assert any(
            m.get("metadata", {}).get("title") == "✔ text_to_image · org/sdxl" for m in session.messages
        )
        assert any(
            isinstance(m["content"], dict) and m["content"]["path"].endswith("sheep.png")
            for m in session.messages
        )
        assert session.messages[-1]["content"] == "Here they are."
        text = panel(session)  # the fake model reports no tokens; its tool is no HF request
        assert "**This turn**: 2 model calls (tokens not reported) · 0 HF requests · " in text
        assert "**Conversation**: 1 turn · 2 model calls (tokens not reported)" in text

        model.turns = [earlier_image, "Same again."]
        _, session = await _turn(app, "Once more, from the image", session)
        assert seen and seen[0].endswith("sheep.png")  # the second turn saw the first turn's file
        assert len(session.calls) == 2 and session.messages[-1]["content"] == "Same again."
        assert settings.checkpoint_path.is_file()

        state = await (await app.agent()).aget_state({"configurable": {"thread_id": session.thread}})
        humans = [m.text for m in state.values["messages"] if isinstance(m, HumanMessage)]
        assert humans == ["Draw three sheep", "Once more, from the image"]

        resumed, messages, text, box = await app.start(
            SimpleNamespace(query_params={"thread": session.thread})
        )
        assert resumed.thread == session.thread and "2. **text_to_image** · `org/sdxl`" in text
        [prompt] = [b for b in app.demo.blocks.values() if getattr(b, "elem_id", None) == "prompt"]
        assert prompt.interactive is False and box.interactive is True  # open once the session is loaded
        assert "**Conversation**: 2 turns · 4 model calls" in text  # read back from the store
        assert "**Conversation**: 2 turns · 4 model calls" in panel(session)
        assert [m["content"] for m in messages if m["role"] == "user"] == humans
        fresh, messages, _, _ = await app.start(SimpleNamespace(query_params={}))
        assert fresh.thread != session.thread and messages == []
    finally:
        await app.aclose()


async def test_a_plan_shows_each_step_with_its_media_live_and_resumed(
    tmp_path: Path, hf_stand_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_plan's steps are steps of the page like direct calls, with the image inline; so after a reload."""
    from hugginggpt.tools import HuggingFaceToolkit

    monkeypatch.chdir(tmp_path)
    settings = _settings(tmp_path)
    plan = {"steps": [{"id": "s1", "tool": "text_to_image", "args": {"prompt": "three sheep"}},
                      {"id": "s2", "tool": "image_to_text", "args": {"image": "$s1"}}]}  # fmt: skip
    model = ScriptedModel(turns=[[("run_plan", plan)], "Three sheep, captioned."])
    app = WebApp(settings, model=model, tools=HuggingFaceToolkit(settings=settings.toolkit).get_tools())
    try:
        _, session = await _turn(app, "Draw three sheep and caption them", None)

        def steps_and_media(messages: list[dict[str, Any]]) -> list[str]:
            shown = [m["metadata"]["title"].split(" · ")[0] for m in messages if m.get("metadata")]
            return shown + [
                Path(m["content"]["path"]).suffix for m in messages if isinstance(m["content"], dict)
            ]

        live = steps_and_media(session.messages)
        assert live == ["✔ text_to_image", "✔ image_to_text", ".jpg"], session.messages
        assert [c["task"] for c in session.calls] == ["text_to_image", "image_to_text"]
        _, messages, _, _ = await app.start(SimpleNamespace(query_params={"thread": session.thread}))
        assert steps_and_media(messages) == live and messages[-1]["content"] == "Three sheep, captioned."
    finally:
        await app.aclose()


async def test_respond_saves_uploads_where_the_tools_may_read_them(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    upload = tmp_path / "gradio-tmp" / "my photo.PNG"
    upload.parent.mkdir()
    upload.write_bytes(media.make_image("a sheep"))
    model = ScriptedModel(turns=["Got it."])
    app = WebApp(settings, model=model, tools=[_image_tool(settings)])
    try:
        _, session = await _turn(app, {"text": "What is this?", "files": [str(upload)]}, Session(thread="up"))
        saved = list((settings.toolkit.output_dir / "uploads" / "up").iterdir())
        assert len(saved) == 1 and re.fullmatch(r"my_photo-[0-9a-f]{8}\.png", saved[0].name)
        sent = model.seen[0][-1].content
        assert sent.startswith("What is this?\n\nAttached files:\n- ") and sent.endswith(saved[0].name)
        assert session.messages[0]["content"]["path"] == str(saved[0].resolve())
    finally:
        await app.aclose()


async def test_a_refused_upload_is_one_sentence_and_nothing_is_kept(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    gradio_tmp = tmp_path / "gradio-tmp"
    gradio_tmp.mkdir()
    photo, page = gradio_tmp / "sheep.png", gradio_tmp / "page.html"
    photo.write_bytes(media.make_image("a sheep"))
    page.write_bytes(b"<!doctype html><script>fetch('/gradio_api/queue/data')</script>")
    model = ScriptedModel(turns=["never asked"])
    app = WebApp(settings, model=model, tools=[])
    try:
        updates = [u async for u in app.respond({"text": "Look", "files": [str(photo), str(page)]}, None)]
        box, messages, _, _ = updates[-1]
        assert messages == [
            {
                "role": "assistant",
                "content": "⚠️ 'page.html' is not an image, audio, video or PDF file; only those can be attached",
            }
        ]
        assert box.interactive is True and box.value == {"text": "Look", "files": []}  # the text is kept
        assert (
            model.seen == [] and not (settings.toolkit.output_dir / "uploads").exists()
        )  # the photo neither
    finally:
        await app.aclose()


def test_thread_names_never_name_a_folder_above() -> None:
    assert [bool(THREAD_NAME.match(n)) for n in ("farm", "a.b", "...", ".", "..", "a/b")] == [
        True, True, True, False, False, False,
    ]  # fmt: skip


async def test_errors_become_chat_messages(tmp_path: Path) -> None:
    missing = WebApp(_settings(tmp_path, openai_api_key=None))
    assert missing.problem and missing.problem.startswith("OPENAI_API_KEY is not set")
    _, session = await _turn(missing, "hello", None)
    assert session.messages[-1]["content"] == f"⚠️ {missing.problem}"

    class Unreachable(ScriptedModel):
        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            response = httpx.Response(404, request=httpx.Request("POST", "http://127.0.0.1:9/v1"))
            raise openai.NotFoundError("The model `gpt-9` does not exist", response=response, body=None)

    class Broken(ScriptedModel):
        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    for model, sentence in [
        (Unreachable(), "⚠️ the LLM server does not know that model"),
        (Broken(), "⚠️ unexpected error (RuntimeError: boom); the server log has the details."),
    ]:
        app = WebApp(_settings(tmp_path), model=model, tools=[])
        try:
            _, session = await _turn(app, "hello", None)
            assert session.messages[-1]["content"].startswith(sentence)
        finally:
            await app.aclose()


def test_app_host_and_port_follow_gradio_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hugginggpt.agent.web_command import parse_args, settings_for

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    chosen = settings_for(parse_args([]))
    assert (chosen.web.web_host, chosen.web.web_port) == ("0.0.0.0", 8123)
    assert settings_for(parse_args(["--host", "127.0.0.2", "--port", "9000"])).web.web_port == 9000
    monkeypatch.delenv("GRADIO_SERVER_NAME")
    monkeypatch.delenv("GRADIO_SERVER_PORT")
    (tmp_path / ".env").write_text("GRADIO_SERVER_PORT=7999\n")  # .env counts, like every setting
    chosen = settings_for(parse_args([]))
    assert (chosen.web.web_host, chosen.web.web_port) == ("127.0.0.1", 7999)


async def test_signed_in_users_open_only_their_own_threads(tmp_path: Path) -> None:
    """With sign-in, `?thread=farm` is the signed-in user's farm: Bob cannot open Alice's."""
    settings = _settings(tmp_path, web_auth=SecretStr("alice:wool,bob:hay"))
    model = ScriptedModel(turns=[[("text_to_image", {"prompt": "three sheep"})], "Here they are."])
    app = WebApp(settings, model=model, tools=[_image_tool(settings)])

    def page(user: str, thread: str = "farm") -> Any:
        return SimpleNamespace(query_params={"thread": thread}, username=user)

    try:
        alice, _, _, _ = await app.start(page("alice"))
        updates = [u async for u in app.respond("Draw three sheep", alice, page("alice"))]
        assert updates[-1][3].messages[-1]["content"] == "Here they are."

        again, messages, text, _ = await app.start(page("alice"))
        assert again.key == "alice/farm"
        assert [m["content"] for m in messages if m["role"] == "user"] == ["Draw three sheep"]
        assert "text_to_image" in text
        for thread in ("farm", "alice/farm", "alice%2Ffarm", "../alice/farm"):
            bob, messages, text, _ = await app.start(page("bob", thread))
            assert messages == [] and "_none yet_" in text and bob.key != "alice/farm"

        stored = await (await app.agent()).aget_state({"configurable": {"thread_id": "alice/farm"}})
        assert [m.text for m in stored.values["messages"] if isinstance(m, HumanMessage)] == [
            "Draw three sheep"
        ]
        unsigned = await (await app.agent()).aget_state({"configurable": {"thread_id": "farm"}})
        assert unsigned.values.get("messages", []) == []
    finally:
        await app.aclose()


def test_web_auth_is_checked_and_never_echoed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hugginggpt.agent.web_command import parse_args, settings_for

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUGGINGGPT_WEB_AUTH", "alice:wool, bob:hay:stack")
    assert settings_for(parse_args([])).web.web_sign_in("0.0.0.0") == [
        ("alice", "wool"),
        ("bob", "hay:stack"),
    ]
    for bad in ("alice", "alice:", ":wool", "al ice:wool", "alice:wool,"):
        monkeypatch.setenv("HUGGINGGPT_WEB_AUTH", bad)
        with pytest.raises(MissingSetting) as info:
            settings_for(parse_args([])).web.web_sign_in("127.0.0.1")
        assert str(info.value).startswith("HUGGINGGPT_WEB_AUTH is invalid: expected user:password pairs")
        assert "wool" not in str(info.value)


def _app(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(browser.ROOT / "app.py"), *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "example.com"])
def test_listening_beyond_loopback_needs_sign_in(host: str, tmp_path: Path) -> None:
    env = browser.clean_env(HF_TOKEN="hf_test_token", OPENAI_API_KEY="sk-test")
    done = _app("--host", host, "--port", str(browser.free_port()), env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"app.py: refusing to listen on {host} without sign-in: set HUGGINGGPT_WEB_AUTH=user:password"
        " (comma-separated pairs) in .env, or listen on 127.0.0.1.\n"
    )
    bad = _app("--host", host, env={**env, "HUGGINGGPT_WEB_AUTH": "alice"}, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("app.py: HUGGINGGPT_WEB_AUTH is invalid: ")


def test_sigterm_stops_the_web_ui_and_frees_its_port(tmp_path: Path) -> None:
    """A service manager's stop: the server closes (exit 0, as after Ctrl-C) and its port is free again."""
    env = browser.clean_env(HF_TOKEN="hf_test_token", OPENAI_API_KEY="sk-test")
    port = browser.free_port()
    server = subprocess.Popen(
        [sys.executable, str(browser.ROOT / "app.py"), "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        up = False
        with httpx.Client(timeout=5) as client:
            deadline = time.monotonic() + 120  # start-up: a few seconds, more on a loaded machine
            while not up and server.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    up = client.get(f"http://127.0.0.1:{port}/config").status_code == 200
                time.sleep(0.2)
        assert up, "app.py did not start"
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=60)  # a hang guard: it closes in about a second
    finally:
        server.kill()
        server.wait()
    assert server.returncode == 0, out
    assert "Traceback" not in out, out
    with socket.socket() as again:  # the port is free for the next server (which, as uvicorn does, reuses
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # it while closed ones linger)
        again.bind(("127.0.0.1", port))
        again.listen()


def _outputs_with_store_and_image(cwd: Path) -> tuple[Path, Path]:
    outputs = cwd / "outputs"
    (outputs / "images").mkdir(parents=True)
    store = outputs / "conversations.sqlite"
    sqlite3.connect(store).execute("create table secrets (text)").connection.commit()
    image = outputs / "images" / "0123456789ab.png"
    Image.new("RGB", (8, 8), "green").save(image)
    (outputs / "notes.log").write_text("a log line")
    return store, image


def _get(client: httpx.Client, url: str, path: Path | str) -> httpx.Response:
    return client.get(f"{url}gradio_api/file={path}")


def test_the_server_hands_out_media_but_never_the_store(tmp_path: Path) -> None:
    store, image = _outputs_with_store_and_image(tmp_path)
    env = browser.clean_env(HF_TOKEN="hf_test_token")
    with browser.app_server(env, tmp_path) as url, httpx.Client(timeout=10) as client:
        served = _get(client, url, image)
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        for path in (store, "outputs/conversations.sqlite", f"{store}-wal", store.parent / "notes.log",
                     image.parent / ".." / "conversations.sqlite", browser.ROOT / "app.py"):  # fmt: skip
            refused = _get(client, url, path)
            assert refused.status_code in (403, 404), (path, refused.status_code)
            assert b"secrets" not in refused.content and b"SQLite" not in refused.content


HTML = b"<!doctype html><title>planted</title><script>fetch('/gradio_api/queue/data')</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


def test_the_file_route_serves_only_inert_media_typed_by_its_bytes(tmp_path: Path) -> None:
    """Files on disk from any version: active documents are refused, media is typed by its bytes."""
    outputs = tmp_path / "outputs"
    files = {
        "uploads/k/page.html": HTML,
        "uploads/k/x.svg": SVG,
        "images/x.png": HTML,  # an HTML body named like an image
        "uploads/k/notes.txt": b"plain words",
        "images/real.png": media.make_image("a sheep"),
        "images/named.gif": media.make_image("a sheep"),  # PNG bytes under another image's name
        "audios/a.wav": media.make_audio("baa", fmt="wav"),
        "videos/v.mp4": media.make_video("sheep"),
        "documents/d.pdf": b"%PDF-1.4\n" + b"%" * 64,
    }
    for name, data in files.items():
        (outputs / name).parent.mkdir(parents=True, exist_ok=True)
        (outputs / name).write_bytes(data)
    expected = {  # name: (content type, disposition) served, None for refused
        "uploads/k/page.html": None,
        "uploads/k/x.svg": None,
        "images/x.png": None,
        "uploads/k/notes.txt": None,
        "images/real.png": ("image/png", "inline"),
        "images/named.gif": ("image/png", "inline"),
        "audios/a.wav": ("audio/wav", "inline"),
        "videos/v.mp4": ("video/mp4", "inline"),
        "documents/d.pdf": ("application/pdf", "attachment"),
    }
    env = browser.clean_env(HF_TOKEN="hf_test_token")
    with browser.app_server(env, tmp_path) as url, httpx.Client(timeout=10) as client:
        page = client.get(url)
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        for name, served in expected.items():
            for route in ("file=", "file/"):  # Gradio's route and its deprecated twin
                response = client.get(f"{url}gradio_api/{route}{outputs / name}")
                headers = response.headers
                assert headers["x-content-type-options"] == "nosniff", name
                assert headers["content-security-policy"] == "default-src 'none'; sandbox", name
                if served is None:
                    assert response.status_code == 403 and headers["content-type"].startswith("text/plain")
                    assert b"script" not in response.content, name
                    continue
                assert response.status_code == 200 and response.content == files[name], name
                assert headers["content-type"] == served[0], name
                assert headers["content-disposition"].split(";")[0] == served[1], name
            ranged = client.get(f"{url}gradio_api/file={outputs / name}", headers={"Range": "bytes=0-7"})
            assert ranged.status_code == (403 if served is None else 206), name
        assert _get(client, url, "https://example.com/a.png").status_code == 403  # no fetching for anyone
        big = media.make_image("a sheep") + b"\0" * 50_000_000  # over the 25 MB limit: never taken in
        posted = client.post(f"{url}gradio_api/upload", files={"files": ("big.png", big, "image/png")})
        assert posted.status_code == 413, posted.status_code


def test_with_sign_in_nothing_is_served_before_it(tmp_path: Path) -> None:
    store, image = _outputs_with_store_and_image(tmp_path)
    env = browser.clean_env(HF_TOKEN="hf_test_token", HUGGINGGPT_WEB_AUTH="alice:wool")
    with browser.app_server(env, tmp_path) as url, httpx.Client(timeout=10) as client:
        assert _get(client, url, image).status_code == 401
        assert client.post(f"{url}login", data={"username": "alice", "password": "hay"}).status_code == 400
        assert client.post(f"{url}login", data={"username": "alice", "password": "wool"}).status_code == 200
        assert _get(client, url, image).status_code == 200
        assert _get(client, url, store).status_code == 403


# --------------------------------------------------------------------------- in a real browser

needs_chromium = pytest.mark.skipif(
    browser.chromium_path() is None, reason="Chromium is not installed (apt-get install -y chromium)"
)
SEND_TIMEOUT = 90_000  # ms: a hang guard (a first turn builds the agent on a loaded machine)


def _send(page: Any, text: str) -> None:
    box = page.locator("#prompt textarea")
    box.fill(text)
    box.press("Enter")


def _wait_idle(page: Any) -> None:
    """The turn is over when the input box is editable again."""
    page.wait_for_function(
        "() => { const t = document.querySelector('#prompt textarea'); return t && !t.disabled; }",
        timeout=SEND_TIMEOUT,
    )


@pytest.fixture(scope="module")
def _shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One `app.py` process for the module's keyed tests (starting one costs seconds of imports)."""
    with contextlib.ExitStack() as stack:
        started: dict[tuple[str, ...], tuple[str, Path]] = {}

        def start(env: dict[str, str]) -> tuple[str, Path]:
            key = (env["OPENAI_BASE_URL"], env["HUGGINGGPT_TEST_HF_URL"])  # session-wide stand-ins
            if key not in started:
                cwd = tmp_path_factory.mktemp("web")
                started[key] = (stack.enter_context(browser.app_server(env, cwd)), cwd)
            return started[key]

        yield start


@pytest.fixture
def web_app(_shared_app: Any, openai_stand_in: Any, hf_subprocess_env: dict[str, str]) -> tuple[str, Path]:
    """(URL, working folder) of `app.py` talking to the OpenAI and HF stand-ins (reset for this test)."""
    return _shared_app(browser.stand_in_env(openai_stand_in, hf_subprocess_env))


def _earlier_image(request: dict[str, Any]) -> Any:
    """The follow-up's plan: find the image made in an earlier turn and look at it."""
    tool_texts = [content_text(m.get("content")) for m in request["messages"] if m.get("role") == "tool"]
    image = find_paths(tool_texts, "image")[0]
    return [
        call("object_detection", image=image),
        call("visual_question_answering", image=image, question="How many sheep are in the image?"),
    ]


def _made(page: Any, folder: str) -> list[str]:
    """Files of `folder` (images, audios...) listed in the side panel."""
    return re.findall(rf"outputs/{folder}/[\w.-]+", page.locator("#steps-panel").inner_text())


def _served(page: Any) -> list[tuple[int, str, str]]:
    """Files the page fetched from the Gradio server: (status, content type, URL), filled as it runs."""
    fetched: list[tuple[int, str, str]] = []
    page.on(
        "response",
        lambda r: (
            fetched.append((r.status, r.headers.get("content-type", ""), r.url))
            if "/gradio_api/file=" in r.url
            else None
        ),
    )
    return fetched


@needs_chromium
def test_browser_image_then_follow_up(
    web_app: tuple[str, Path], openai_stand_in: Any, hf_stand_in: Any, tmp_path: Path
) -> None:
    openai_stand_in.on_user(
        "three sheep",
        [
            [call("text_to_image", prompt="a field with three sheep grazing peacefully")],
            "Here is your field with three sheep: {image} (made by {model}).",
        ],
    )
    openai_stand_in.on_user("how many sheep", [_earlier_image, "I count {count} sheep in the image."])
    external: list[str] = []
    url, _ = web_app
    with browser.browser_page(tmp_path / "profile", external, "sheep") as page:
        fetched, blocked = _served(page), browser.csp_violations(page)
        page.goto(url)
        _send(page, "Generate an image of a field with three sheep grazing peacefully")
        page.locator("#chat").get_by_text("Here is your field with three sheep").wait_for(
            timeout=SEND_TIMEOUT
        )
        _wait_idle(page)
        [made] = _made(page, "images")
        image = page.locator(f"#chat img[src$='/{Path(made).name}']")
        image.wait_for()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        assert any(s == 200 and t.startswith("image/") and u.endswith(Path(made).name) for s, t, u in fetched)
        served = [r.model for r in hf_stand_in.requests if r.task == "text-to-image" and r.status == 200]
        assert served, "the HF stand-in served no text-to-image call"
        assert f"text_to_image · {served[-1]}" in page.locator("#steps-panel").inner_text()
        assert page.locator("#chat").get_by_text(f"text_to_image · {served[-1]}").count() == 1  # the step
        browser.screenshot(page, "web-sheep-image")

        _send(page, "How many sheep are in the image?")
        page.locator("#chat").get_by_text("I count 3 sheep in the image.").wait_for(timeout=SEND_TIMEOUT)
        _wait_idle(page)
        panel_text = page.locator("#steps-panel").inner_text()
        assert "object_detection" in panel_text and "visual_question_answering" in panel_text
        follow_up = turn_messages(openai_stand_in.chat_requests[-1])  # the same thread, so it saw `made`
        calls = [c["function"] for m in follow_up for c in m.get("tool_calls") or []]
        assert {c["name"] for c in calls} == {"object_detection", "visual_question_answering"}
        assert all(made in c["arguments"] for c in calls), calls
        assert [r for r in hf_stand_in.requests if r.task == "object-detection" and r.status == 200]
        browser.screenshot(page, "web-sheep-follow-up")
        assert blocked == [], blocked  # the page's Content-Security-Policy stopped nothing it uses
    assert external == [], f"the page tried to leave loopback: {external}"


@needs_chromium
def test_browser_text_to_speech_plays_inline(
    web_app: tuple[str, Path], openai_stand_in: Any, hf_stand_in: Any, tmp_path: Path
) -> None:
    openai_stand_in.on_user(
        "read .* aloud",
        [
            [call("text_to_speech", text="Three sheep graze peacefully in a green field.")],
            "Here is the sentence read aloud: {audio}",
        ],
    )
    external: list[str] = []
    url, _ = web_app
    with browser.browser_page(tmp_path / "profile", external, "speech") as page:
        fetched, blocked = _served(page), browser.csp_violations(page)
        page.goto(url)
        _send(page, "Read 'Three sheep graze peacefully in a green field.' aloud")
        page.locator("#chat").get_by_text("Here is the sentence read aloud").wait_for(timeout=SEND_TIMEOUT)
        _wait_idle(page)
        [made] = _made(page, "audios")
        player = page.locator("#chat .minimal-audio-player")
        player.get_by_role("button", name="Play").wait_for()
        player.locator(".waveform-wrapper canvas").first.wait_for()  # drawn once the audio is decoded
        assert any(s == 200 and t.startswith("audio/") and u.endswith(Path(made).name) for s, t, u in fetched)
        assert "text_to_speech" in page.locator("#steps-panel").inner_text()
        browser.screenshot(page, "web-text-to-speech")
        assert blocked == [], blocked
    assert external == [], f"the page tried to leave loopback: {external}"


@needs_chromium
def test_browser_uploaded_photo_is_used_by_the_tools(
    web_app: tuple[str, Path], openai_stand_in: Any, hf_stand_in: Any, tmp_path: Path
) -> None:
    photo = tmp_path / "my pets.png"
    photo.write_bytes(media.make_image("two cats and a dog on a sofa"))

    def attached(request: dict[str, Any]) -> Any:
        return call("object_detection", image=find_paths(last_user_message(request), "image")[0])

    openai_stand_in.on_user("this photo", [attached, "There are {count} animals in your photo."])
    url, cwd = web_app
    with browser.browser_page(tmp_path / "profile", [], "upload") as page:
        blocked = browser.csp_violations(page)
        page.goto(url)
        page.locator("#prompt input[type=file]").set_input_files(photo)
        page.locator("#prompt img").first.wait_for()  # the upload's preview in the input box
        _send(page, "How many animals are in this photo?")
        page.locator("#chat").get_by_text("There are 3 animals in your photo.").wait_for(timeout=SEND_TIMEOUT)
        _wait_idle(page)
        [saved] = (cwd / "outputs" / "uploads").glob("web-*/my_pets-*.png")
        assert saved.read_bytes() == photo.read_bytes()
        assert page.locator(f"#chat img[src$='/{saved.name}']").count() == 1  # shown in the user's message
        sent = last_user_message(openai_stand_in.chat_requests[-1])
        assert sent.endswith(f"Attached files:\n- outputs/uploads/{saved.parent.name}/{saved.name}")
        assert [r for r in hf_stand_in.requests if r.task == "object-detection" and r.status == 200]
        browser.screenshot(page, "web-upload")
        assert blocked == [], blocked


@needs_chromium
def test_browser_refuses_an_html_page_an_svg_and_an_oversized_upload(
    web_app: tuple[str, Path], openai_stand_in: Any, tmp_path: Path
) -> None:
    planted = tmp_path / "page.html"
    planted.write_bytes(HTML)
    big = tmp_path / "big.png"
    big.write_bytes(media.make_image("a sheep") + b"\0" * 50_000_000)  # 50 MB, over the 25 MB limit
    url, cwd = web_app
    uploads = cwd / "outputs" / "uploads"
    before = sorted(uploads.rglob("*")) if uploads.exists() else []
    with browser.browser_page(tmp_path / "profile", [], "refused-uploads") as page:
        page.goto(url)
        page.locator("#prompt input[type=file]").set_input_files(planted)
        page.locator("#prompt [aria-label='File thumbnail']").wait_for()
        page.locator("#prompt [aria-label='Uploading']").wait_for(state="detached")
        _send(page, "What does this page say?")
        page.locator("#chat").get_by_text("⚠️ 'page.html' is not an image, audio, video or PDF file").wait_for(
            timeout=SEND_TIMEOUT
        )
        _wait_idle(page)
        assert page.locator("#prompt textarea").input_value() == "What does this page say?"  # kept
        drawing = tmp_path / "sheep.svg"
        drawing.write_bytes(SVG)
        page.locator("#prompt input[type=file]").set_input_files(drawing)
        page.locator("#prompt [aria-label='File thumbnail']").wait_for()
        page.locator("#prompt [aria-label='Uploading']").wait_for(state="detached")
        page.locator("#prompt textarea").press("Enter")
        page.locator("#chat").get_by_text("⚠️ 'sheep.svg' is not an image, audio, video or PDF file").wait_for(
            timeout=SEND_TIMEOUT
        )
        _wait_idle(page)
        posted: list[str] = []
        page.on("request", lambda r: posted.append(r.url) if "/gradio_api/upload" in r.url else None)
        page.locator("#prompt input[type=file]").set_input_files(big)  # refused before it is sent
        page.get_by_text('File(s) exceed the maximum allowed size of 25.0 Mb: "big.png"').wait_for()
        assert posted == [] and page.locator("#prompt [aria-label='File thumbnail']").count() == 0
        assert page.locator("#prompt textarea").input_value() == "What does this page say?"
        browser.screenshot(page, "web-refused-uploads")
    assert openai_stand_in.chat_requests == []  # nothing reached the agent
    assert (sorted(uploads.rglob("*")) if uploads.exists() else []) == before  # and nothing was kept


@needs_chromium
def test_browser_missing_key_names_the_variable(tmp_path: Path) -> None:
    env = browser.clean_env(HF_TOKEN="hf_test_token")
    with (
        browser.app_server(env, tmp_path) as url,
        browser.browser_page(tmp_path / "profile", [], "missing-key") as page,
    ):
        page.goto(url)
        banner = page.locator("#settings-problem")
        banner.wait_for()
        assert "OPENAI_API_KEY is not set" in banner.inner_text()
        _send(page, "Generate an image of a field with three sheep grazing peacefully")
        page.locator("#chat").get_by_text("⚠️ OPENAI_API_KEY is not set").wait_for(timeout=SEND_TIMEOUT)
        _wait_idle(page)
        browser.screenshot(page, "web-missing-key")


def _sign_in(page: Any, url: str, user: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.locator("#prompt textarea").wait_for(timeout=SEND_TIMEOUT)


@needs_chromium
def test_browser_signed_in_users_keep_their_threads_apart(
    openai_stand_in: Any, hf_subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    openai_stand_in.on_user(
        "three sheep",
        [[call("text_to_image", prompt="three sheep")], "Here is your field with three sheep: {image}."],
    )
    env = browser.stand_in_env(openai_stand_in, hf_subprocess_env, HUGGINGGPT_WEB_AUTH="alice:wool,bob:hay")
    farm = "?thread=farm"
    with browser.app_server(env, tmp_path) as url:
        with browser.browser_page(tmp_path / "alice", [], "alice") as page:
            _sign_in(page, url, "alice", "wool")
            page.goto(url + farm)
            page.locator("#steps-panel").get_by_text("farm").wait_for()  # the page has loaded its thread
            _send(page, "Generate an image of a field with three sheep grazing peacefully")
            page.locator("#chat").get_by_text("Here is your field with three sheep").wait_for(
                timeout=SEND_TIMEOUT
            )
            _wait_idle(page)
        with browser.browser_page(tmp_path / "bob", [], "bob") as page:
            _sign_in(page, url, "bob", "hay")
            page.goto(url + farm)
            page.locator("#steps-panel").get_by_text("farm").wait_for()
            assert "text_to_image" not in page.locator("#steps-panel").inner_text()
            assert page.locator("#chat").get_by_text("three sheep").count() == 0
            browser.screenshot(page, "web-other-user")
        with browser.browser_page(tmp_path / "alice-again", [], "alice-again") as page:
            _sign_in(page, url, "alice", "wool")
            page.goto(url + farm)
            page.locator("#chat").get_by_text("Here is your field with three sheep").wait_for(
                timeout=SEND_TIMEOUT
            )
            assert "text_to_image" in page.locator("#steps-panel").inner_text()
