"""Where an attempt runs: Hugging Face's router, through huggingface_hub's sync and async clients."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from huggingface_hub import AsyncInferenceClient, InferenceClient

from hugginggpt.tools.inference.models import Attempt, with_deadline
from hugginggpt.tools.inference.pools import OwnedPool
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.tasks.table import TaskSpec
from hugginggpt.tools.upstream import fetch_provider_mapping, get_provider_helper

# Offloaded calls (video jobs the sync client polls, for minutes) get threads of their own: on the loop's
# default executor (min(32, cores + 4) threads) a few of them would stall every other tool's short hops.
OFFLOAD_WORKERS = 64
_Clients = dict[str, AsyncInferenceClient]


class Router:
    """Runs one attempt on the HF router; keeps one AsyncInferenceClient per provider and event loop.

    A fresh client per call would build a new HTTP client each time (a TLS context: the CA bundle is read,
    30-100 ms on the event loop) and open a new connection; reused, its connection pool stays warm. Kept
    per loop, since pooled connections belong to the loop that opened them, and closed when the loop shuts
    down (or by `aclose`). Offloaded calls run on this router's own thread pool, made on first use and
    shut by `close`.
    """

    def __init__(self, settings: HFSettings) -> None:
        self.settings = settings
        self._clients: dict[asyncio.AbstractEventLoop, tuple[_Clients, AsyncIterator[None]]] = {}
        self._lock = threading.Lock()
        self._offloaded = OwnedPool(lambda: OFFLOAD_WORKERS, "hf-offloaded")

    def offloaded(self) -> ThreadPoolExecutor:
        """The pool offloaded calls run on (made on first use, again after `close`)."""
        return self._offloaded.get()

    def close(self) -> None:
        """Shut the offloaded calls' pool: queued calls are cancelled, running ones finish on their own."""
        self._offloaded.close()

    def call(self, spec: TaskSpec, attempt: Attempt, args: dict[str, Any]) -> Any:
        """The client call, blocking."""
        self._warm(spec, attempt)
        client = InferenceClient(provider=attempt.provider, **self._auth())  # type: ignore[arg-type]  # provider names are checked by the Hub's mapping
        return getattr(client, spec.name)(**args, model=attempt.model)

    async def acall(self, spec: TaskSpec, attempt: Attempt, args: dict[str, Any]) -> Any:
        """The client call, without blocking the event loop."""
        if spec.offload:  # like asyncio.to_thread (context kept), on this router's own pool
            call = functools.partial(contextvars.copy_context().run, self.call, spec, attempt, args)
            return await asyncio.get_running_loop().run_in_executor(self.offloaded(), call)
        await asyncio.to_thread(self._warm, spec, attempt)
        client = await self._client(attempt.provider)
        return await getattr(client, spec.name)(**args, model=attempt.model)

    async def aclose(self) -> None:
        """Close the running loop's clients and their connections now."""
        with self._lock:
            clients, _ = self._clients.pop(asyncio.get_running_loop(), ({}, None))
        for client in clients.values():
            await client.close()

    def _auth(self) -> dict[str, Any]:
        return {"token": self.settings.token(), "timeout": self.settings.timeout}

    def _warm(self, spec: TaskSpec, attempt: Attempt) -> None:
        """Do the client's own blocking Hub look-ups (cached by the client) under a deadline."""
        if attempt.model.startswith(("http://", "https://")):
            return
        helper = get_provider_helper(attempt.provider, spec.task, attempt.model)  # type: ignore[arg-type]  # as above
        with_deadline(lambda: fetch_provider_mapping(helper, attempt.model), self.settings.timeout)

    async def _client(self, provider: str) -> AsyncInferenceClient:
        loop = asyncio.get_running_loop()
        with self._lock:
            for closed in [other for other in self._clients if other.is_closed()]:
                del self._clients[closed]
            fresh = loop not in self._clients
            if fresh:
                clients: _Clients = {}
                self._clients[loop] = (clients, self._close_with_loop(loop, clients))
            clients, closer = self._clients[loop]
            client = clients.get(provider)
            if client is None:
                client = clients[provider] = AsyncInferenceClient(provider=provider, **self._auth())  # type: ignore[arg-type]  # as above
        if fresh:
            await anext(closer)  # parked until the loop closes its async generators
        return client

    async def _close_with_loop(
        self, loop: asyncio.AbstractEventLoop, clients: _Clients
    ) -> AsyncIterator[None]:
        """Waits at `yield` for the loop's `shutdown_asyncgens()` (asyncio.run calls it before closing
        the loop), then closes this loop's clients and their connections."""
        try:
            yield
        finally:
            with self._lock:
                if self._clients.get(loop, (None,))[0] is clients:
                    del self._clients[loop]
            for client in list(clients.values()):
                await client.close()
