"""The conversation store: the one place that opens it, keeps one writer per thread, and drops what
resuming never reads.

- Where: SQLite at `<HUGGINGGPT_OUTPUT_DIR>/conversations.sqlite` by default (one machine), PostgreSQL when
  `HUGGINGGPT_DATABASE_URL` is a postgresql:// URL (langgraph-checkpoint-postgres on a psycopg pool, its
  tables set up on first use), so processes on several machines share threads.
- One writer per thread (agent/thread_locks.py): a turn holds the thread's lock; a second turn on it waits
  up to `HUGGINGGPT_THREAD_WAIT` seconds (`ThreadWriter.wait` says so as it waits), then fails with
  `ThreadBusy`. Never two turns spliced into one history, never a turn lost.
- Size: LangGraph saves a checkpoint per step, ~14 a turn, and the SQLite saver stores the whole history in
  each. Only a thread's latest checkpoint (with its pending writes) is kept: the SQLite saver deletes the
  superseded ones as it saves, PostgreSQL's are pruned after each turn (the saver's `aprune`). Resuming,
  `--thread` and the web UI's `?thread=` read nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from hugginggpt.agent.thread_locks import AdvisoryLocks, FileLocks, ThreadLock, ThreadLocks
from hugginggpt.tools.upstream import latest_only_sqlite_saver, pooled_postgres_saver

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from hugginggpt.agent.settings import AgentSettings

LOG = logging.getLogger(__name__)
URL_VARIABLE = "HUGGINGGPT_DATABASE_URL"
POLL_SECONDS = 0.2  # how often a waiting turn tries the thread's lock again
NOTE_SECONDS = 5.0  # how often it says it is still waiting
CONNECT_SECONDS = 10
POOL_SIZE = 10  # connections a process's saves use at once (each turn's lock holds one more)
POOL_WAIT_SECONDS = 5.0  # a save waiting for a connection gives up after this (the server went away)
SQLITE_BUSY_SECONDS = 30.0  # other processes' write transactions are short
SQLITE_WAL_PAGES = 256  # pages (4 kB) in the write-ahead log before SQLite folds it into the file
SQLITE_JOURNAL_LIMIT = 1 << 20  # bytes the write-ahead log is cut back to then
SETUP_KEY = "hugginggpt-store-setup"
SETUP_WAIT_SECONDS = 60.0  # another process setting the tables up takes well under a second


class StoreError(RuntimeError):
    """The conversation store cannot be used; the message is one sentence saying what to do."""


class StoreUnavailable(StoreError):
    """`HUGGINGGPT_DATABASE_URL` is not a usable URL, or its server cannot be reached (a setting to fix)."""


class ThreadBusy(StoreError):
    """Another turn held the thread for longer than `HUGGINGGPT_THREAD_WAIT`."""


class ThreadWriter:
    """The right to write one thread: `async for waited in writer.wait()`, run the turn, `release()`."""

    def __init__(self, lock: ThreadLock, thread: str, limit: float) -> None:
        self.lock, self.thread, self.limit = lock, thread, limit

    async def wait(self) -> AsyncIterator[float]:
        """Take the thread's lock; while another turn holds it, yield the seconds waited (at once, then
        every `NOTE_SECONDS`); raise `ThreadBusy` once `limit` seconds have passed."""
        started, noted = time.monotonic(), -NOTE_SECONDS
        try:
            while not await self.lock.try_acquire():
                waited = time.monotonic() - started
                if waited >= self.limit:
                    raise ThreadBusy(
                        f"thread {self.thread!r} is still busy with another turn after {self.limit:g} s; "
                        "try again once it has finished (HUGGINGGPT_THREAD_WAIT sets how long to wait)."
                    )
                if waited - noted >= NOTE_SECONDS:
                    noted = waited
                    yield waited
                await asyncio.sleep(min(POLL_SECONDS, self.limit - waited))
        except BaseException:
            await self.lock.release()
            raise

    async def release(self) -> None:
        await self.lock.release()


class ConversationStore:
    """A LangGraph checkpointer (`saver`) plus the thread locks and the pruning that go with it."""

    backend = "store"

    def __init__(
        self, saver: BaseCheckpointSaver, locks: ThreadLocks, wait: float, keep_history: bool = False
    ) -> None:
        self.saver, self.locks, self.wait = saver, locks, wait
        self.keep_history = keep_history  # every checkpoint kept (LangGraph's default; benchmarks compare)

    def writer(self, thread: str) -> ThreadWriter:
        return ThreadWriter(self.locks.lock(thread), thread, self.wait)

    async def prune(self, thread: str) -> None:
        """Keep only the thread's latest checkpoint (after a turn, holding its writer)."""
        if self.keep_history:
            return
        try:
            await self._prune(thread)
        except Exception as error:  # the turn is saved; the old checkpoints go next time
            LOG.warning("could not drop the superseded checkpoints of thread %r: %s", thread, error)

    async def _prune(self, thread: str) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Close the connections, from the event loop that opened them."""

    def close(self) -> None:
        """Best effort from outside the event loop (at exit)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class SqliteStore(ConversationStore):
    """The SQLite saver deletes superseded checkpoints itself (`latest_only_sqlite_saver`)."""

    backend = "sqlite"

    def __init__(self, saver: Any, path: Path, wait: float, keep_history: bool = False) -> None:
        super().__init__(saver, FileLocks(path.with_suffix(".locks")), wait, keep_history)
        self.path = path

    async def _prune(self, thread: str) -> None:
        return None

    async def aclose(self) -> None:
        await self.saver.conn.close()  # type: ignore[attr-defined]  # aiosqlite's, untyped on the base saver

    def close(self) -> None:
        self.saver.conn.stop()  # type: ignore[attr-defined]  # aiosqlite's worker thread


class PostgresStore(ConversationStore):
    """PostgreSQL: a thread's superseded checkpoints are pruned after each turn (the saver's `aprune`)."""

    backend = "postgres"

    def __init__(self, saver: Any, pool: Any, conninfo: str, wait: float, keep_history: bool = False) -> None:
        super().__init__(saver, AdvisoryLocks(conninfo), wait, keep_history)
        self.pool = pool

    async def _prune(self, thread: str) -> None:
        await self.saver.aprune([thread], strategy="keep_latest")

    async def aclose(self) -> None:
        await self.pool.close()


async def open_store(settings: AgentSettings) -> ConversationStore:
    """The store the settings name, ready to use (`async with await open_store(settings) as store`).

    Raises `StoreUnavailable` (one sentence naming the variable and the host) for a bad
    `HUGGINGGPT_DATABASE_URL` or a server that cannot be reached; nothing is written then.
    """
    if settings.store.database_url is None or not settings.store.database_url.get_secret_value().strip():
        return await open_sqlite(settings.checkpoint_path, settings.store.thread_wait)
    return await open_postgres(
        settings.store.database_url.get_secret_value().strip(), settings.store.thread_wait
    )


async def open_sqlite(path: Path, wait: float, *, keep_history: bool = False) -> SqliteStore:
    """The SQLite store; `keep_history` keeps every checkpoint (LangGraph's default; benchmarks compare)."""
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)  # off the event loop
    conn = await aiosqlite.connect(str(path), timeout=SQLITE_BUSY_SECONDS)
    try:
        # The write-ahead log takes every page each save writes: fold it back into the file every
        # SQLITE_WAL_PAGES pages and cut it back then, so it stays about a megabyte.
        await conn.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_WAL_PAGES}")
        # With the write-ahead log, NORMAL syncs at its checkpoints, not at every commit: a killed process
        # loses nothing, a power cut at most the last steps (SQLite's advice for WAL).
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute(f"PRAGMA journal_size_limit = {SQLITE_JOURNAL_LIMIT}")
        saver = AsyncSqliteSaver(conn) if keep_history else latest_only_sqlite_saver(conn)
        await saver.setup()
    except BaseException:
        await conn.close()
        raise
    return SqliteStore(saver, path, wait, keep_history)


def server_of(url: str) -> str:
    """`host:port` of a PostgreSQL URL (never its password); `StoreUnavailable` if it is not one."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    if not re.match(r"postgres(ql)?://", url):
        scheme = url.partition("://")[0] if "://" in url else "no scheme"
        raise StoreUnavailable(
            f"{URL_VARIABLE} must be a postgresql:// URL such as "
            f"postgresql://user:password@host:5432/database, not {scheme!r}."
        )
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        raise StoreUnavailable(
            f"{URL_VARIABLE} is not a valid PostgreSQL URL; "
            "write it as postgresql://user:password@host:5432/database."
        ) from None
    host = str(parts.get("host") or "localhost")
    return f"{host}:{parts.get('port') or 5432}"


def unreachable(url: str, where: str, error: BaseException) -> StoreUnavailable:
    """One sentence for a PostgreSQL server that refused or could not be reached."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()] or [type(error).__name__]
    cause = re.sub(r"^.*? failed: (FATAL: +)?", "", lines[0]).rstrip(".")
    password = _password(url)
    if password:
        cause = cause.replace(password, "***")
    return StoreUnavailable(
        f"could not use the PostgreSQL server at {where} named by {URL_VARIABLE} ({cause}); "
        "check the URL and that the server is running."
    )


def _password(url: str) -> str | None:
    from psycopg.conninfo import conninfo_to_dict

    password = conninfo_to_dict(url).get("password")
    return str(password) if password else None


async def open_postgres(url: str, wait: float, *, keep_history: bool = False) -> PostgresStore:
    """The PostgreSQL store; `keep_history` keeps every checkpoint (LangGraph's default)."""
    import psycopg
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    where = server_of(url)
    # The pool logs each failed reconnection; with no logging set up that would print to stderr beside the
    # one-sentence error. A handler here keeps them for whoever configures logging (the web UI's server).
    logging.getLogger("psycopg").addHandler(logging.NullHandler())
    options: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    try:  # one connection first: a clear error if the server is not there, and the tables set up once
        async with await psycopg.AsyncConnection.connect(
            url, connect_timeout=CONNECT_SECONDS, **options
        ) as conn:
            await _take_setup_lock(conn)
            await AsyncPostgresSaver(conn).setup()  # on a dict_row connection, as the saver needs
    except (psycopg.Error, OSError) as error:
        raise unreachable(url, where, error) from None
    pool: AsyncConnectionPool = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=POOL_SIZE,
        open=False,
        timeout=POOL_WAIT_SECONDS,
        kwargs=options,
        check=AsyncConnectionPool.check_connection,
    )
    try:
        await pool.open(wait=True, timeout=CONNECT_SECONDS)
    except psycopg.Error as error:
        await pool.close()
        raise unreachable(url, where, error) from None
    return PostgresStore(pooled_postgres_saver(pool), pool, url, wait, keep_history)


async def _take_setup_lock(conn: Any) -> None:
    """One process at a time sets the tables up. Polled, not waited for: a session waiting inside
    `pg_advisory_lock` would hold a snapshot that the setup's CREATE INDEX CONCURRENTLY waits out
    (a deadlock, when many processes start at once on a new database)."""
    deadline = time.monotonic() + SETUP_WAIT_SECONDS
    query = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0)) AS taken"
    while not (await (await conn.execute(query, (SETUP_KEY,))).fetchone())["taken"]:
        if time.monotonic() > deadline:
            raise StoreUnavailable(
                f"the conversation tables in the database named by {URL_VARIABLE} were still being set up "
                f"by another process after {SETUP_WAIT_SECONDS:g} s; try again."
            )
        await asyncio.sleep(POLL_SECONDS)
