"""Helpers for the browser tests: start `app.py` on loopback, drive Debian's Chromium with Playwright."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def chromium_path() -> str | None:
    """Debian's Chromium (Playwright's own browser download does not work offline)."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "config", timeout=2) as response:
            return response.status == 200
    except urllib.error.HTTPError as error:  # it answers: with sign-in on, /config asks for it first
        return error.code == 401
    except OSError:
        return False


@contextlib.contextmanager
def app_server(env: Mapping[str, str], cwd: Path, timeout: float = 60) -> Iterator[str]:
    """Run `python app.py` on a free loopback port; yields its URL, stops it afterwards."""
    port = free_port()
    log = cwd / f"app-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while not _ready(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"app.py did not start:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)
        yield url
    except BaseException:
        print(f"--- app.py log ({log})\n{log.read_text(errors='replace')[-6000:]}")  # shown on failure
        raise
    finally:
        stop(process, grace=10)


@contextlib.contextmanager
def browser_page(user_data_dir: Path, external: list[str], name: str = "page") -> Iterator[Any]:
    """A page in a fresh headless Chromium; requests leaving loopback are blocked and listed in `external`."""
    from playwright.sync_api import sync_playwright

    def guard(route: Any) -> None:
        host = route.request.url.split("/")[2] if "://" in route.request.url else ""
        if route.request.url.startswith(("data:", "blob:")) or host.rsplit(":", 1)[0] in LOOPBACK:
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1360, "height": 900},
        )
        try:
            context.route("**/*", guard)
            page = context.pages[0] if context.pages else context.new_page()
            try:
                yield page
            except BaseException:
                print(f"--- screenshot at failure: {screenshot(page, f'failed-{name}')}")
                raise
        finally:
            context.close()


def csp_violations(page: Any) -> list[str]:
    """What the page's Content-Security-Policy blocked (Chromium logs each), filled as it runs."""
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    return blocked


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def stop(process: subprocess.Popen[Any], grace: float) -> None:
    """Terminate a server child, and kill it if it has not exited after `grace` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without keys or routing that could leak in, plus `extra`."""
    drop = (
        "OPENAI_",
        "HF_",
        "HUGGINGFACEHUB_",
        "HUGGING_FACE_HUB_",
        "HUGGINGGPT_",
        "LANGSMITH_",
        "LANGCHAIN_",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        GRADIO_ANALYTICS_ENABLED="False",
        NO_PROXY="127.0.0.1,localhost,::1",
        no_proxy="127.0.0.1,localhost,::1",
    )
    env.update(extra)
    return env


def stand_in_env(openai_stand_in: Any, hf_subprocess_env: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The environment of an `app.py` that talks to the OpenAI and HF stand-ins, plus `extra`."""
    from tests.stand_ins.openai_api import DEFAULT_API_KEY

    return clean_env(
        PYTHONPATH=hf_subprocess_env["PYTHONPATH"],
        HUGGINGGPT_TEST_HF_URL=hf_subprocess_env["HUGGINGGPT_TEST_HF_URL"],
        HF_TOKEN=hf_subprocess_env["HF_TOKEN"],
        HF_HOME=hf_subprocess_env["HF_HOME"],
        OPENAI_API_KEY=DEFAULT_API_KEY,
        OPENAI_BASE_URL=openai_stand_in.base_url,
        OPENAI_MODEL="gpt-4.1-mini",
        **extra,
    )


def send(page: Any, text: str) -> None:
    """Type a request into the chat's input box and send it."""
    box = page.locator("#prompt textarea")
    box.fill(text)
    box.press("Enter")


def wait_idle(page: Any, timeout_ms: int = 30_000) -> None:
    """The turn is over when the input box is editable again."""
    page.wait_for_function(
        "() => { const t = document.querySelector('#prompt textarea'); return t && !t.disabled; }",
        timeout=timeout_ms,
    )
