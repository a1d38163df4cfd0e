"""Every use of another project's private names, in one place.

Each shim below says which release range it was written for (`SHIMS`), and `tests/test_upstream.py`
checks both the installed versions against those ranges and the exact upstream shapes each shim leans on,
so an upgrade that moves them fails a test instead of failing silently for a user. Public APIs were
checked first; each entry says why there is none to use.

Heavy imports (langchain's agents, langsmith, the checkpoint savers) happen inside the functions, so the
toolkit imports nothing of the agent's stack.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from huggingface_hub.inference._common import MimeBytes as MimeBytes  # bytes with their content type
from huggingface_hub.inference._providers import get_provider_helper as get_provider_helper

if TYPE_CHECKING:
    import langsmith
    from huggingface_hub.inference._providers._common import TaskProviderHelper
    from langchain.agents.middleware import ToolCallLimitMiddleware
    from langchain_core.messages import ToolCall


@dataclass(frozen=True)
class Shim:
    """One reliance on a private name: where, for which releases, and why no public API serves."""

    distribution: str
    written_for: str  # a version specifier, checked against the installed release by the tests
    names: tuple[str, ...]
    why: str


SHIMS: tuple[Shim, ...] = (
    Shim(
        "huggingface_hub",
        ">=2.4,<3",
        ("huggingface_hub.inference._providers.PROVIDERS",),
        "which provider can serve which task: no public listing exists (only PROVIDER_T names providers)",
    ),
    Shim(
        "huggingface_hub",
        ">=2.4,<3",
        ("TaskProviderHelper._prepare_mapping_info",),
        "the client's own cached Hub look-up of a model's provider mapping, run under our deadline before "
        "the call; publicly it only runs inside prepare_request, which needs the inputs",
    ),
    Shim(
        "huggingface_hub",
        ">=2.4,<3",
        (
            "huggingface_hub.inference._common.MimeBytes",
            "huggingface_hub.inference._providers.get_provider_helper",
        ),
        "bytes that carry their content type into the client's request, and the helper that knows a "
        "provider's route for a task: the client uses both internally and exports neither",
    ),
    Shim(
        "langchain",
        ">=1.4,<2",
        (
            "ToolCallLimitMiddleware._separate_tool_calls",
            "ToolCallLimitMiddleware._matches_tool_filter",
            "ToolCallLimitMiddleware._would_exceed_limit",
        ),
        "a weight per tool call (a plan's steps) while keeping langchain's counts, state keys and messages",
    ),
    Shim(
        "langsmith",
        ">=0.15,<1",
        ("Client._use_daemon_threads",),
        "daemon background threads per client; the public switch is the process-wide LANGSMITH_USE_DAEMON",
    ),
    Shim(
        "langgraph-checkpoint-sqlite",
        ">=3.0,<4",
        ("AsyncSqliteSaver.lock", "tables checkpoints and writes"),
        "dropping superseded checkpoints as each one is saved: the SQLite saver has no prune/aprune",
    ),
    Shim(
        "langgraph-checkpoint-postgres",
        ">=3.2,<4",
        ("AsyncPostgresSaver.lock",),
        "queries at once on a pool: the saver serialises every query behind one lock, public or not",
    ),
)


def provider_tasks() -> Mapping[str, Mapping[str, Any]]:
    """huggingface_hub's provider table: provider name -> {task id: its helper}."""
    from huggingface_hub.inference._providers import PROVIDERS

    return {str(name): tasks for name, tasks in PROVIDERS.items()}


def fetch_provider_mapping(helper: TaskProviderHelper, model: str) -> Any:
    """The provider's mapping for `model`, through the client's own cached Hub look-up."""
    return helper._prepare_mapping_info(model)


@functools.cache
def weighted_tool_call_limit() -> type[ToolCallLimitMiddleware]:
    """langchain's `ToolCallLimitMiddleware` where a call may count as several (`weight`, default 1).

    Overrides the one method that decides which calls of a turn fit the limits, so the limits, the counts
    kept in the state and the messages for blocked calls all stay langchain's own.
    """
    from langchain.agents.middleware import ToolCallLimitMiddleware

    class WeightedToolCallLimit(ToolCallLimitMiddleware):
        def weight(self, call: ToolCall) -> int:
            return 1

        def _separate_tool_calls(
            self, tool_calls: list[ToolCall], thread_count: int, run_count: int
        ) -> tuple[list[ToolCall], list[ToolCall], int, int]:
            allowed: list[ToolCall] = []
            blocked: list[ToolCall] = []
            for call in tool_calls:
                if not self._matches_tool_filter(call):
                    continue
                extra = self.weight(call) - 1
                if self._would_exceed_limit(thread_count + extra, run_count + extra):
                    blocked.append(call)
                else:
                    allowed.append(call)
                    thread_count, run_count = thread_count + extra + 1, run_count + extra + 1
            return allowed, blocked, thread_count, run_count

    return WeightedToolCallLimit


@functools.cache
def daemon_langsmith_client() -> type[langsmith.Client]:
    """langsmith's client, with daemon background threads whatever `LANGSMITH_USE_DAEMON` says."""
    import langsmith

    class DaemonClient(langsmith.Client):
        @property
        def _use_daemon_threads(self) -> bool:
            return True

        @_use_daemon_threads.setter
        def _use_daemon_threads(self, value: bool) -> None:
            pass  # the base class sets it from the environment before starting its threads

    return DaemonClient


# Each checkpoint saved makes the thread's earlier ones (and their writes) superseded: resuming reads only
# the latest. The kept checkpoint still names its parent: clearing it would rewrite the whole row.
SQLITE_SUPERSEDED = (
    "DELETE FROM checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id < ?3",
    "DELETE FROM writes WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id < ?3",
)


def latest_only_sqlite_saver(conn: Any) -> Any:
    """An `AsyncSqliteSaver` that deletes a thread's superseded checkpoints as it saves a new one."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    class LatestOnlySqliteSaver(AsyncSqliteSaver):
        async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
            saved = await super().aput(config, checkpoint, metadata, new_versions)
            where = saved["configurable"]
            key = (str(where["thread_id"]), where["checkpoint_ns"], where["checkpoint_id"])
            async with self.lock:
                for statement in SQLITE_SUPERSEDED:
                    await self.conn.execute(statement, key)
                await self.conn.commit()
            return saved

    return LatestOnlySqliteSaver(conn)


def pooled_postgres_saver(pool: Any) -> Any:
    """An `AsyncPostgresSaver` whose queries run at once, each on a connection of its own from the pool.

    The saver holds one lock around every query, which a single shared connection needs; on a pool it
    makes every save in the process wait for the one before (50 turns at once queue ~2 s per save).
    """
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    class PooledPostgresSaver(AsyncPostgresSaver):
        def __init__(self, conn: Any) -> None:
            super().__init__(conn)
            self.lock = contextlib.nullcontext()  # type: ignore[assignment]  # an async no-op lock

    return PooledPostgresSaver(pool)
