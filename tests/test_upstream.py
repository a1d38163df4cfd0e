"""tools/upstream.py's shims against the releases installed: each private name still has the shape the shim
leans on, and each release is in the range the shim was written for. An upgrade that moves one fails here."""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import sqlite3
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet

from hugginggpt.tools.upstream import (
    SHIMS,
    MimeBytes,
    daemon_langsmith_client,
    fetch_provider_mapping,
    get_provider_helper,
    latest_only_sqlite_saver,
    provider_tasks,
    weighted_tool_call_limit,
)


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize("shim", SHIMS, ids=lambda shim: shim.names[0])
def test_each_installed_release_is_one_the_shim_was_written_for(shim: Any) -> None:
    installed = importlib.metadata.version(shim.distribution)
    assert installed in SpecifierSet(shim.written_for), (
        f"{shim.distribution} {installed} is outside {shim.written_for}: check {', '.join(shim.names)} "
        "(tools/upstream.py) against this release, then widen the range"
    )


def test_huggingface_hub_provider_table_helpers_and_mime_bytes() -> None:
    from huggingface_hub.inference._providers._common import TaskProviderHelper

    table = provider_tasks()
    assert "text-to-image" in table["hf-inference"] and "tabular-regression" not in table["hf-inference"]
    assert all(
        isinstance(helper, TaskProviderHelper) for tasks in table.values() for helper in tasks.values()
    )
    helper = get_provider_helper("hf-inference", "text-to-image", "some/model")
    assert isinstance(helper, TaskProviderHelper)
    assert parameters(TaskProviderHelper._prepare_mapping_info) == ["self", "model"]
    # still the step prepare_request runs first, so warming it up front saves the call's own look-up
    assert "_prepare_mapping_info(" in inspect.getsource(TaskProviderHelper.prepare_request)
    assert parameters(fetch_provider_mapping) == ["helper", "model"]
    data = MimeBytes(b"\x89PNG", mime_type="image/png")
    assert isinstance(data, bytes) and data.mime_type == "image/png"


def test_tool_call_limit_still_decides_through_the_overridden_method() -> None:
    from langchain.agents.middleware import ToolCallLimitMiddleware

    assert parameters(ToolCallLimitMiddleware._separate_tool_calls) == [
        "self",
        "tool_calls",
        "thread_count",
        "run_count",
    ]
    assert parameters(ToolCallLimitMiddleware._matches_tool_filter) == ["self", "tool_call"]
    assert parameters(ToolCallLimitMiddleware._would_exceed_limit) == ["self", "thread_count", "run_count"]
    assert "self._separate_tool_calls(" in inspect.getsource(ToolCallLimitMiddleware)

    class Triple(weighted_tool_call_limit()):  # type: ignore[misc]  # a class made at run time
        def weight(self, call: Any) -> int:
            return 3

    calls: list[Any] = [{"name": "t", "args": {}, "id": str(i), "type": "tool_call"} for i in range(2)]
    allowed, blocked, thread_count, run_count = Triple(run_limit=5)._separate_tool_calls(calls, 0, 0)
    assert [c["id"] for c in allowed] == ["0"] and [c["id"] for c in blocked] == ["1"]
    assert (thread_count, run_count) == (3, 3)


def test_langsmith_client_still_reads_its_daemon_switch_from_the_attribute() -> None:
    import langsmith
    import langsmith.client

    assert "self._use_daemon_threads = " in inspect.getsource(langsmith.Client.__init__)
    assert "daemon=self._use_daemon_threads" in inspect.getsource(langsmith.client)
    client = daemon_langsmith_client()(
        api_url="http://127.0.0.1:9", api_key="lsv2_test", auto_batch_tracing=False
    )
    assert client._use_daemon_threads is True


async def test_sqlite_saver_has_no_prune_of_its_own_and_the_tables_the_deletes_name() -> None:
    import aiosqlite
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    assert AsyncSqliteSaver.aprune is BaseCheckpointSaver.aprune, "the SQLite saver prunes now: use aprune"
    async with aiosqlite.connect(":memory:") as conn:
        saver = latest_only_sqlite_saver(conn)
        await saver.setup()
        assert isinstance(saver.lock, asyncio.Lock)
        for table in ("checkpoints", "writes"):
            rows = await (await conn.execute(f"PRAGMA table_info({table})")).fetchall()
            assert {"thread_id", "checkpoint_ns", "checkpoint_id"} <= {row[1] for row in rows}, table
    assert sqlite3.sqlite_version_info >= (3, 8)


def test_postgres_saver_still_serialises_through_its_lock_attribute() -> None:
    from langgraph.checkpoint.postgres import aio

    assert "self.lock = asyncio.Lock()" in inspect.getsource(aio.AsyncPostgresSaver.__init__)
    assert "async with self.lock" in inspect.getsource(aio) or "with self.lock" in inspect.getsource(aio)
