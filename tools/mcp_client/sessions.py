"""The MCP sessions of one owner (a toolkit's `Backend`): one session per configured server, started on
first use, started again after it died, closed with the owner, and at exit if nobody closed it.

A `Sessions` runs every session on an event loop of its own, in a daemon thread, because the SDK's sessions
(anyio task groups) must be opened and closed in one task of one loop, while tools are called from whatever
loop the agent, the web UI or a sync caller runs. Callers wait on that loop's futures; cancelling the wait
(Ctrl-C) cancels the call there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import weakref
from collections.abc import Coroutine
from contextlib import AsyncExitStack, suppress
from typing import Any, TypeVar

import anyio
import httpx2
import mcp_types as types
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.dispatcher import ProgressFnT as Progress
from mcp_types import CONNECTION_CLOSED

from hugginggpt.tools.mcp_client.config import ServerEntry

T = TypeVar("T")
CLOSE_TIMEOUT = 10.0  # seconds to close every session (the SDK stops a stdio server within ~6 s)
MAX_PAGES = 20  # tools/list pages read from one server


class ServerGone(Exception):
    """The server's session ended (it exited, crashed or hung up); it is started again on the next call."""


class _LoopThread:
    """The event loop the sessions of one `Sessions` run on; it ends when stopped."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="mcp-client", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)


class _Open:
    """What a `Sessions` has open: its loop thread and its connections. Kept apart from the `Sessions` so
    that the finalizer closing them at exit (or when the `Sessions` is dropped) holds no reference to it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: _LoopThread | None = None
        self.connections: dict[str, Connection] = {}

    def running(self) -> _LoopThread:
        with self.lock:
            if self.loop is None:
                self.loop = _LoopThread()
            return self.loop

    def connection(self, entry: ServerEntry) -> Connection:
        with self.lock:
            found = self.connections.get(entry.key())
            if found is None:
                found = self.connections[entry.key()] = Connection(entry)
            return found

    def close(self) -> None:
        """Close every session (stdio servers are stopped) and end the loop thread; safe to call again."""
        with self.lock:
            loop, opened = self.loop, list(self.connections.values())
            self.loop, self.connections = None, {}
        if loop is None:
            return

        async def close() -> None:
            await asyncio.gather(*(c.close() for c in opened), return_exceptions=True)
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:  # calls still running on this loop end here
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        with suppress(RuntimeError):  # the loop already ended (after the interpreter's shutdown began)
            closing = loop.submit(close())
            closing.add_done_callback(lambda _: loop.loop.call_soon_threadsafe(loop.loop.stop))
            if threading.current_thread() is not loop.thread:  # on the loop itself it cannot be waited for
                with suppress(concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
                    closing.result(CLOSE_TIMEOUT)
                loop.thread.join(CLOSE_TIMEOUT)


class Sessions:
    """The sessions of one owner, one per server (by `ServerEntry.key`), and the tools each listed. Nothing
    starts until used; `close` stops the servers (a later call starts them again); a `Sessions` nobody closed
    is closed when it is dropped or, at the latest, when the process exits."""

    def __init__(self) -> None:
        self._open = _Open()
        self._finalizer = weakref.finalize(self, self._open.close)
        self.listed: dict[str, list[types.Tool]] = {}  # per server (entry key): its tools, listed once

    def connection(self, entry: ServerEntry) -> Connection:
        """The one connection to `entry`'s server (not started until used)."""
        return self._open.connection(entry)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` on the sessions' loop from any other loop; cancelling this cancels it there."""
        return await asyncio.wrap_future(self._open.running().submit(coro))

    def run_sync(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the sessions' loop and wait for it here (sync callers, not on that loop)."""
        future = self._open.running().submit(coro)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def close(self) -> None:
        """Stop every server and end the loop thread (within about `CLOSE_TIMEOUT` seconds)."""
        self._open.close()

    async def aclose(self) -> None:
        """`close`, without blocking the caller's loop."""
        await asyncio.to_thread(self._open.close)


class Connection:
    """A session with one server, owned by a task on the sessions' loop (all methods run there)."""

    def __init__(self, entry: ServerEntry) -> None:
        self.entry = entry
        self.client: Client | None = None
        self._owner: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._starting: asyncio.Lock | None = None
        self.starts = 0  # how many times the session was opened (1 unless it died)

    async def _target(self, stack: AsyncExitStack) -> Any:
        entry = self.entry
        if entry.command:  # the SDK's default environment (HOME, PATH, ...) plus exactly the entry's env
            return StdioServerParameters(command=entry.command, args=list(entry.args), env=entry.env,
                                         cwd=entry.cwd)  # fmt: skip
        assert entry.url is not None
        http = await stack.enter_async_context(httpx2.AsyncClient(headers=entry.headers))
        return streamable_http_client(entry.url, http_client=http)

    async def _own(self, ready: asyncio.Future[Client], stop: asyncio.Event) -> None:
        try:
            async with AsyncExitStack() as stack:
                client = await stack.enter_async_context(Client(await self._target(stack)))
                ready.set_result(client)
                await stop.wait()
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error if isinstance(error, Exception) else ServerGone("cancelled"))
            if not isinstance(error, Exception):
                raise
        finally:
            if self._owner is asyncio.current_task():  # it ended by itself (the server is gone)
                self.client = None

    async def open(self, timeout: float) -> Client:
        """The live session, started (within `timeout` seconds) if there is none."""
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self.client is not None and self._owner is not None and not self._owner.done():
                return self.client
            await self.close()
            ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
            self._stop = asyncio.Event()
            self._owner = asyncio.create_task(self._own(ready, self._stop), name=f"mcp:{self.entry.name}")
            self.starts += 1
            try:
                self.client = await asyncio.wait_for(asyncio.shield(ready), timeout)
            except BaseException:
                await self.close()
                raise
            return self.client

    async def close(self) -> None:
        """End the session (a stdio server is stopped by the SDK: stdin closed, then SIGTERM, SIGKILL)."""
        owner, stop = self._owner, self._stop
        self._owner = self._stop = None
        self.client = None
        if owner is None or stop is None:
            return
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(owner), CLOSE_TIMEOUT)
        except (Exception, asyncio.CancelledError):
            owner.cancel()

    async def list_tools(self, timeout: float) -> list[types.Tool]:
        client = await self.open(timeout)
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await asyncio.wait_for(client.list_tools(cursor=cursor), timeout)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    async def call(
        self, name: str, arguments: dict[str, Any], timeout: float, progress: Progress | None
    ) -> types.CallToolResult:
        """Call a tool; `TimeoutError` past `timeout`, `ServerGone` if the session ended under the call."""
        client = await self.open(timeout)
        owner = self._owner
        try:
            return await asyncio.wait_for(
                client.call_tool(name, arguments, progress_callback=progress), timeout
            )
        except (TimeoutError, asyncio.CancelledError):
            raise
        except Exception as error:
            if owner is None or owner.done() or self.client is None or _closed(error):
                await self.close()  # started again on the next call
                raise ServerGone(str(error) or type(error).__name__) from error
            raise


def _closed(error: BaseException) -> bool:
    """Whether `error` says the connection is gone (the SDK's CONNECTION_CLOSED, a broken stream)."""
    if isinstance(error, MCPError):
        return error.code == CONNECTION_CLOSED
    return isinstance(error, anyio.ClosedResourceError | anyio.BrokenResourceError | ConnectionError)
