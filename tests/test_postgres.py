"""Conversations in PostgreSQL (`HUGGINGGPT_DATABASE_URL`), against a real server the suite starts
(tests/postgres_server.py): CLI processes and web UI processes sharing threads, as on several machines."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hugginggpt.agent.store import open_postgres
from tests import browser, cli_run, postgres_server, scenarios
from tests.cli_run import TURN, ends_with_open_calls, wait_for
from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.openai_api import OpenAIStandIn
from tests.stand_ins.scripts import content_text

pytestmark = pytest.mark.skipif(
    postgres_server.binaries() is None,
    reason="no PostgreSQL binaries (initdb, pg_ctl): apt-get install postgresql (.ci/run does)",
)
_databases = itertools.count(1)


@pytest.fixture(scope="module")
def server() -> Iterator[postgres_server.PostgresServer]:
    with postgres_server.running() as started:
        yield started


@pytest.fixture
def database(server: postgres_server.PostgresServer) -> str:
    """A fresh, empty database on the module's server: its URL."""
    return server.create_database(f"t{next(_databases)}")


@pytest.fixture
def env(env: dict[str, str], database: str) -> dict[str, str]:
    """The CLI environment (tests/cli_run.py) on the module's PostgreSQL server."""
    return {**env, "HUGGINGGPT_DATABASE_URL": database}


def test_sheep_conversation_across_two_cli_processes(
    env: dict[str, str], database: str, tmp_path: Path
) -> None:
    first = cli_run.run(env, "--prompt", scenarios.SHEEP_PROMPT, "--json", "--thread", "farm")
    assert first.returncode == 0, first.stderr
    (image,) = json.loads(first.stdout)["artifacts"]
    second = cli_run.run(env, "--prompt", scenarios.SHEEP_FOLLOW_UP, "--json", "--thread", "farm")
    assert second.returncode == 0, second.stderr
    follow = json.loads(second.stdout)
    assert "There are 3 sheep" in follow["answer"]
    assert {c["args"]["image"] for c in follow["tool_calls"]} == {image["path"]}
    assert not (tmp_path / "outputs" / "conversations.sqlite").exists()  # kept in PostgreSQL only
    turns = cli_run.turns_of(cli_run.saved_messages(database, "farm"))
    assert [turn[0] for turn in turns] == ["human", "human"] and turns[1][-1] == "ai"


@pytest.mark.timeout(300)
def test_twenty_cli_runs_at_once_on_twenty_threads(
    env: dict[str, str], database: str, tmp_path: Path
) -> None:
    subjects = [f"{2 + i % 3} sheep in field number {i}" for i in range(20)]
    running = [
        cli_run.start(env, "--thread", f"field-{i}", "--json", "--prompt", f"Generate an image of {subject}")
        for i, subject in enumerate(subjects)
    ]
    results = []
    for code, out, err in cli_run.finish_all(running, timeout=280):
        assert code == 0, err
        results.append(json.loads(out))
    made = [result["artifacts"][0]["path"] for result in results]
    assert len(set(made)) == 20
    for i, (subject, result) in enumerate(zip(subjects, results, strict=True)):
        assert result["thread"] == f"field-{i}" and result["tool_calls"][0]["args"]["prompt"] == subject
        messages = cli_run.saved_messages(database, f"field-{i}")
        assert cli_run.turns_of(messages) == [TURN]
        assert messages[0].text == f"Generate an image of {subject}" and made[i] in messages[2].text


async def test_many_processes_starting_on_a_new_database_set_its_tables_up_once(database: str) -> None:
    """Web workers or CLIs starting together on an empty database: one sets the tables up, none fails."""
    stores = await asyncio.gather(*(open_postgres(database, 1) for _ in range(12)))
    for store in stores:
        await store.aclose()
    assert cli_run.saved_messages(database, "none") == []  # the tables are there, empty


def test_a_server_killed_mid_turn_comes_back_and_the_thread_resumes(
    hf_subprocess_env: dict[str, str],
    openai_stand_in: OpenAIStandIn,
    hf_stand_in: HFStandIn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenarios.register_all(openai_stand_in)
    monkeypatch.chdir(tmp_path)
    with postgres_server.running() as own:
        url = own.create_database("crash")
        env = cli_run.cli_environment(hf_subprocess_env, HUGGINGGPT_DATABASE_URL=url)
        env["HUGGINGGPT_TIMEOUT"] = "120"  # the held call outlasts no client timeout
        hf_stand_in.hold("text-to-image")  # still running when the server dies, however slow the machine
        turn = cli_run.start(env, "--thread", "k", "--prompt", scenarios.SHEEP_PROMPT)
        wait_for(lambda: hf_stand_in.inference_requests(), seconds=120, what="the text_to_image call")
        wait_for(lambda: ends_with_open_calls(url, "k"), what="the saved tool call")
        own.kill()
        hf_stand_in.release()
        _, err = turn.communicate(timeout=60)
        assert turn.returncode == 1 and "Traceback" not in err, err
        assert "PostgreSQL" in err and "HUGGINGGPT_DATABASE_URL" in err and err.count("\n") == 1
        own.start()
        again = cli_run.run(env, "--thread", "k", "--prompt", scenarios.POEM_PROMPT)
        assert again.returncode == 0, again.stderr
        sent = openai_stand_in.chat_requests[-1]["messages"]
        roles = [m["role"] for m in sent]
        note = sent[roles.index("assistant") + 1]
        assert note["role"] == "tool" and "interrupted" in note["content"]
        assert [t[0] for t in cli_run.turns_of(cli_run.saved_messages(url, "k"))] == ["human", "human"]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://db.example/chat", "HUGGINGGPT_DATABASE_URL must be a postgresql:// URL"),
        ("postgresql://me:s3cret@127.0.0.1:{free}/chat", "PostgreSQL server at 127.0.0.1:{free} named by"),
        ("{server}/no_such_database", 'database "no_such_database" does not exist'),
    ],
    ids=["not-postgres", "unreachable", "no-database"],
)
def test_a_bad_database_url_is_one_sentence_exit_2_and_nothing_written(
    env: dict[str, str], server: postgres_server.PostgresServer, tmp_path: Path, url: str, said: str
) -> None:
    free = str(postgres_server.free_port())
    values = {"free": free, "server": server.url().rsplit("/", 1)[0]}
    env["HUGGINGGPT_DATABASE_URL"] = url.format(**values)
    done = cli_run.run(env, "--prompt", scenarios.POEM_PROMPT)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert said.format(**values) in done.stderr and "HUGGINGGPT_DATABASE_URL" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout
    assert list(tmp_path.iterdir()) == []  # no outputs/, no conversations.sqlite


def test_a_file_made_on_another_machine_is_refused_not_a_crash(
    env: dict[str, str], openai_stand_in: OpenAIStandIn, tmp_path: Path
) -> None:
    """Two machines share the database but not HUGGINGGPT_OUTPUT_DIR: the follow-up names a file that
    is not on this machine, and the tools refuse it with a sentence the answer passes on."""

    def report(request: dict[str, Any]) -> str:
        errors = [content_text(m["content"]) for m in request["messages"] if m.get("role") == "tool"]
        return "I could not look at the picture: " + " | ".join(e for e in errors if e.startswith("Error"))

    openai_stand_in.on_user("look at the earlier picture", [scenarios.ask_about_earlier_image, report])
    machine_a, machine_b = tmp_path / "a", tmp_path / "b"
    machine_a.mkdir()
    machine_b.mkdir()
    made = cli_run.run(env, "-t", "farm", "-p", scenarios.SHEEP_PROMPT, "--json", cwd=machine_a)
    assert made.returncode == 0, made.stderr
    (image,) = json.loads(made.stdout)["artifacts"]
    follow_up = "Please look at the earlier picture: how many sheep?"
    there = cli_run.run(env, "-t", "farm", "-p", follow_up, "--json", cwd=machine_b)
    assert there.returncode == 0 and "Traceback" not in there.stderr, there.stderr
    out = json.loads(there.stdout)
    assert {c["status"] for c in out["tool_calls"]} == {"error"}
    assert all(f"file not found: {image['path']!r}" in c["error"] for c in out["tool_calls"]), out
    assert f"file not found: {image['path']!r}" in out["answer"]


needs_chromium = pytest.mark.skipif(
    browser.chromium_path() is None, reason="Chromium is not installed (apt-get install -y chromium)"
)


@needs_chromium
@pytest.mark.timeout(240)
def test_two_web_ui_processes_serve_one_thread_in_turn(
    openai_stand_in: OpenAIStandIn,
    hf_stand_in: HFStandIn,
    hf_subprocess_env: dict[str, str],
    database: str,
    tmp_path: Path,
) -> None:
    scenarios.register_all(openai_stand_in)
    env = browser.stand_in_env(openai_stand_in, hf_subprocess_env, HUGGINGGPT_DATABASE_URL=database)
    shared = tmp_path / "shared"  # HUGGINGGPT_OUTPUT_DIR on storage both "machines" see
    shared.mkdir()
    with (
        browser.app_server(env, shared) as first_url,
        browser.app_server(env, shared) as second_url,
        browser.browser_page(tmp_path / "profile", [], "postgres-two-apps") as page,
    ):
        page.goto(first_url + "?thread=farm")
        page.locator("#steps-panel").get_by_text("farm").wait_for()  # the page has loaded its thread
        browser.send(page, scenarios.SHEEP_PROMPT)
        page.locator("#chat").get_by_text("Here is the image of").wait_for(timeout=30_000)
        browser.wait_idle(page)
        page.goto(second_url + "?thread=farm")  # the other process: the same thread, its history shown
        page.locator("#chat").get_by_text("Here is the image of").wait_for(timeout=30_000)
        browser.send(page, scenarios.SHEEP_FOLLOW_UP)
        page.locator("#chat").get_by_text("There are 3 sheep in the image.").wait_for(timeout=30_000)
        browser.wait_idle(page)
        browser.screenshot(page, "web-postgres-second-process")
    messages = cli_run.saved_messages(database, "farm")
    assert [m.text for m in messages if m.type == "human"] == [
        scenarios.SHEEP_PROMPT,
        scenarios.SHEEP_FOLLOW_UP,
    ]
    image = re.search(r"outputs/images/[\w.-]+", messages[2].text)
    assert image and (shared / image.group(0)).is_file()
    assert all(image.group(0) in str(c["args"]) for c in messages[5].tool_calls)
