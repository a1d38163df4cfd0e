"""One writer per conversation thread, across processes and machines: the locks `agent/store.py` takes.

- `FileLocks`: an exclusive `flock` on a file per thread next to the SQLite store. The lock belongs to the
  open file, so two turns in one process exclude each other as two processes do, and the kernel drops it
  when its process dies (kill -9 included).
- `AdvisoryLocks`: a PostgreSQL session advisory lock per thread, held on a connection of its own for the
  turn, so every process on every machine that uses the database sees it; the server drops it when the
  connection ends.

Both only ever try (never block the event loop); `ThreadWriter` in agent/store.py does the waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any, Protocol

THREAD_KEY = "hugginggpt-thread:"


class ThreadLock(Protocol):
    async def try_acquire(self) -> bool:
        """Take the lock if it is free; False while another turn holds it."""
        ...

    async def release(self) -> None:
        """Let go (also of a lock never acquired); safe to call twice."""
        ...


class ThreadLocks(Protocol):
    def lock(self, thread: str) -> ThreadLock: ...


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    async def try_acquire(self) -> bool:
        import fcntl

        if self.fd is None:  # file system calls off the event loop (a server's loop must not block)
            self.fd = await asyncio.to_thread(self._open)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    async def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the file drops its flock
            self.fd = None


class FileLocks:
    """Per-thread lock files in `folder` (names are hashes, so any thread name is a safe file name)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def lock(self, thread: str) -> ThreadLock:
        name = hashlib.sha256(thread.encode("utf-8")).hexdigest()[:32]
        return _FileLock(self.folder / f"{name}.lock")


class _AdvisoryLock:
    def __init__(self, conninfo: str, thread: str) -> None:
        self.conninfo = conninfo
        self.key = THREAD_KEY + thread
        self.conn: Any = None

    async def try_acquire(self) -> bool:
        import psycopg

        if self.conn is None:
            self.conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        cursor = await self.conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (self.key,))
        row = await cursor.fetchone()
        return bool(row and row[0])

    async def release(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            with contextlib.suppress(Exception):  # a lost connection has dropped the lock already
                await conn.close()  # ending the session drops its advisory locks


class AdvisoryLocks:
    """Per-thread PostgreSQL advisory locks (64-bit keys hashed from the thread name by the server)."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo

    def lock(self, thread: str) -> ThreadLock:
        return _AdvisoryLock(self.conninfo, thread)
