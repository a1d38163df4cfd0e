"""One MCP session per configured server and process: started on first use, started again after it died,
closed when the process exits.

Every session lives on one event loop of its own, in a daemon thread, because the SDK's sessions (anyio
task groups) must be opened and closed in one task of one loop, while tools are called from whatever loop
the agent, the web UI or a sync caller runs. Callers wait on that loop's futures; cancelling the wait
(Ctrl-C) cancels the call there.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
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

from tools.mcp_client.config import ServerEntry

T = TypeVar("T")
CLOSE_TIMEOUT = 10.0  # seconds to close every session at exit (the SDK stops a stdio server within ~6 s)
MAX_PAGES = 20  # tools/list pages read from one server


class ServerGone(Exception):
    """The server's session ended (it exited, crashed or hung up); it is started again on the next call."""


class _LoopThread:
    """The event loop every MCP session of this process runs on."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="mcp-client", daemon=True)
        self.thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)


_lock = threading.Lock()
_loop: _LoopThread | None = None
_connections: dict[str, Connection] = {}


def _loop_thread() -> _LoopThread:
    global _loop
    with _lock:
        if _loop is None:
            _loop = _LoopThread()
            atexit.register(close_all)
        return _loop


async def on_sessions_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro` on the sessions' loop from any other loop; cancelling this cancels it there."""
    return await asyncio.wrap_future(_loop_thread().submit(coro))


def on_sessions_loop_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the sessions' loop and wait for it here (sync callers, not on that loop)."""
    future = _loop_thread().submit(coro)
    try:
        return future.result(timeout)
    except BaseException:
        future.cancel()
        raise


def connection(entry: ServerEntry) -> Connection:
    """The process's one connection to `entry`'s server (not started until used)."""
    with _lock:
        found = _connections.get(entry.key())
        if found is None:
            found = _connections[entry.key()] = Connection(entry)
        return found


def close_all() -> None:
    """Close every session (stdio servers are stopped); run at exit, safe to call more than once."""
    with _lock:
        loop, opened = _loop, list(_connections.values())
    if loop is None or not loop.thread.is_alive():
        return

    async def close() -> None:
        await asyncio.gather(*(c.close() for c in opened), return_exceptions=True)

    with suppress(concurrent.futures.TimeoutError, RuntimeError):
        loop.submit(close()).result(CLOSE_TIMEOUT)


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
