"""Pytest fixtures for the HF stand-in (registered in tests/conftest.py via `pytest_plugins`).

- `hf_stand_in`: the running `HFStandIn` (one server per session, `reset()` for each test), with
  huggingface_hub routed to it, `HF_TOKEN` set to a fake `hf_...` token and `HF_HOME` in a temp folder.
  Routing is active only while a test uses the fixture.
- `hf_subprocess_env`: environment variables that route a child process (e.g. the CLI) to the stand-in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stand_ins.hf import HFStandIn
from tests.stand_ins.routing import route_hf_to, unroute_hf

HF_TEST_TOKEN = "hf_test_stand_in_0123456789abcdef"
ROUTE_HF_DIR = Path(__file__).parent / "route_hf"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def _hf_stand_in_server() -> Iterator[HFStandIn]:
    with HFStandIn() as server:
        yield server


@pytest.fixture
def hf_stand_in(
    _hf_stand_in_server: HFStandIn, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HFStandIn]:
    """The HF stand-in, reset, with huggingface_hub routed to it for this test."""
    from huggingface_hub import constants
    from huggingface_hub.utils import _detect_agent

    home = tmp_path_factory.mktemp("hf_home")
    monkeypatch.setenv("HF_TOKEN", HF_TEST_TOKEN)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    # huggingface_hub reads these at import time: point them at the temp home too.
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(home / ".agent_harnesses.json"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(_detect_agent, "_registry", None)  # fetched (once) from the stand-in
    _hf_stand_in_server.reset()
    route_hf_to(_hf_stand_in_server.url)
    try:
        yield _hf_stand_in_server
    finally:
        unroute_hf()
        _hf_stand_in_server.reset()


def routed_env(url: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of `env` (default: os.environ) that routes a child Python process's huggingface_hub, and
    its URL-input downloads, to the HF stand-in at `url`."""
    env = dict(os.environ if env is None else env)
    paths = [str(ROUTE_HF_DIR), str(REPO_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env.update(PYTHONPATH=os.pathsep.join(paths), HUGGINGGPT_TEST_HF_URL=url, HF_TOKEN=HF_TEST_TOKEN)
    return env


@pytest.fixture
def hf_subprocess_env(hf_stand_in: HFStandIn) -> dict[str, str]:
    """A copy of os.environ that routes a child Python process's huggingface_hub to the stand-in."""
    return routed_env(hf_stand_in.url)
