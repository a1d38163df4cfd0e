"""Pytest fixtures for the loopback OpenAI stand-in (registered in tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.stand_ins.openai_api import DEFAULT_API_KEY, OpenAIStandIn

_NO_PROXY = "127.0.0.1,localhost,::1"


def _forget_cached_async_clients() -> None:
    """langchain-openai shares one cached async httpx client per (base_url, timeout) across event
    loops; its pooled connections then belong to a closed loop in the next async test
    ("RuntimeError: Event loop is closed").  Start each test with a fresh cache."""
    try:
        from langchain_openai.chat_models import _client_utils
    except ImportError:  # pragma: no cover - private module moved
        return
    cache = getattr(_client_utils, "_cached_async_httpx_client", None)
    if hasattr(cache, "cache_clear"):
        cache.cache_clear()


@pytest.fixture(scope="session")
def openai_stand_in_server() -> Iterator[OpenAIStandIn]:
    """One stand-in server for the whole session (prefer `openai_stand_in`)."""
    with OpenAIStandIn(api_key=DEFAULT_API_KEY) as server:
        yield server


@pytest.fixture
def openai_stand_in(
    openai_stand_in_server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OpenAIStandIn]:
    """The session's stand-in, reset for this test, with the OpenAI env pointing at it.

    Sets ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` and ``OPENAI_API_BASE`` (which langchain-openai
    prefers over ``OPENAI_BASE_URL``), and clears settings that would route elsewhere.
    """
    server = openai_stand_in_server
    server.reset()
    _forget_cached_async_clients()
    monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
    for name in (
        "OPENAI_PROXY",
        "OPENAI_ORG_ID",
        "OPENAI_ORGANIZATION",
        "OPENAI_PROJECT",
        "LANGSMITH_GATEWAY",
    ):
        monkeypatch.delenv(name, raising=False)
    no_proxy = ",".join(filter(None, (os.environ.get("NO_PROXY"), _NO_PROXY)))
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setenv("no_proxy", no_proxy)
    yield server
    server.reset()
    _forget_cached_async_clients()
