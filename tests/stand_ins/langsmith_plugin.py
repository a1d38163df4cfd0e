"""Pytest fixtures for the loopback LangSmith stand-in (registered in tests/conftest.py).

`langsmith_stand_in`: tracing switched on with the standard variables, pointing at the stand-in, for one
test. langsmith caches its environment look-ups and keeps a process-wide client and settings, so these
are forgotten before and after the test: nothing traces, or points at the stand-in, afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.stand_ins.langsmith_api import LangSmithStandIn

LANGSMITH_TEST_KEY = "lsv2_pt_0123456789abcdef0123456789abcdef_f00dfeed42"
LANGSMITH_TEST_PROJECT = "hugginggpt-tests"


def forget_langsmith_state() -> None:
    """Drop langsmith's cached environment, global client and global tracing settings."""
    import langsmith
    from langsmith import utils

    utils.get_env_var.cache_clear()
    utils.get_tracer_project.cache_clear()
    langsmith.configure(client=None, enabled=None, project_name=None)


def clear_langsmith_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every LANGSMITH_* / LANGCHAIN_* variable for this test."""
    for name in list(os.environ):
        if name.startswith(("LANGSMITH_", "LANGCHAIN_")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def _langsmith_stand_in_server() -> Iterator[LangSmithStandIn]:
    with LangSmithStandIn(api_key=LANGSMITH_TEST_KEY) as server:
        yield server


@pytest.fixture
def no_langsmith(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No LangSmith variables and no langsmith global state, before and after the test."""
    clear_langsmith_env(monkeypatch)
    forget_langsmith_state()
    yield
    forget_langsmith_state()


@pytest.fixture
def langsmith_stand_in(
    _langsmith_stand_in_server: LangSmithStandIn, monkeypatch: pytest.MonkeyPatch, no_langsmith: None
) -> Iterator[LangSmithStandIn]:
    """The stand-in, reset, with LANGSMITH_TRACING/ENDPOINT/API_KEY/PROJECT pointing at it."""
    from langchain_core.tracers.langchain import wait_for_all_tracers

    server = _langsmith_stand_in_server
    server.reset()
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("LANGSMITH_ENDPOINT", server.url)
    monkeypatch.setenv("LANGSMITH_API_KEY", LANGSMITH_TEST_KEY)
    monkeypatch.setenv("LANGSMITH_PROJECT", LANGSMITH_TEST_PROJECT)
    yield server
    server.down = False
    wait_for_all_tracers()
    server.reset()
