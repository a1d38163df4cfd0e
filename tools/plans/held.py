"""The traces of plan steps that start before the `run_plan` run that owns them exists.

A step started while the model is still writing the plan (agent/plan_stream.py) runs before its `run_plan`
tool run has started, and a tracer cannot make a run the child of a run it has not seen (LangSmith also
refuses a child that starts before its parent). So the tracers' events of such steps are held here, and
replayed when the `run_plan` run adopts the plan (`adopt`), with that run as the parent of each step's run:
the same tree as a plan that was not streamed (the runs keep the metadata of where they started, e.g.
`langgraph_node`). From then on events pass straight through. A step's run therefore starts, in the trace,
no earlier than the `run_plan` run; its `seconds` metadata is the task's own time.
Only tracers are held: every other callback handler sees the events as they happen. A plan nobody adopts
(cancelled before its call ran) releases its events under the model node that wrote the plan (`release`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler, AsyncCallbackManager, BaseCallbackManager
from langchain_core.callbacks.manager import ahandle_event
from langchain_core.tracers.base import AsyncBaseTracer, BaseTracer
from langsmith.run_helpers import tracing_context

from hugginggpt.tools.tracing import annotate_tracer

EVENTS = (
    "on_llm_start", "on_chat_model_start", "on_llm_new_token", "on_llm_end", "on_llm_error",
    "on_chain_start", "on_chain_end", "on_chain_error", "on_tool_start", "on_tool_end", "on_tool_error",
    "on_retriever_start", "on_retriever_end", "on_retriever_error", "on_retry", "on_text",
    "on_agent_action", "on_agent_finish", "on_custom_event",
)  # fmt: skip


def _tracers(callbacks: Any) -> list[Any]:
    handlers = callbacks.handlers if isinstance(callbacks, BaseCallbackManager) else callbacks or []
    return [h for h in handlers if isinstance(h, BaseTracer | AsyncBaseTracer)]


class HeldTraces(AsyncCallbackHandler):
    """Holds the tracers' events of runs started under `manager` until `adopt` or `release`."""

    def __init__(self, callbacks: Any) -> None:
        self.tracers = _tracers(callbacks)
        self.origin: UUID | None = getattr(callbacks, "parent_run_id", None)  # the run they started in
        self.parent: UUID | None = None  # where the steps' own runs go: the adopting run, or `origin`
        self.passing = False  # adopted or released: events go straight to the tracers
        self._held: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._runs: set[UUID] = set()  # runs started through this handler (their children keep them)
        self._notes: dict[UUID, dict[str, Any]] = {}  # metadata added to held runs (tools/tracing.py)
        self._sent: set[UUID] = set()  # runs whose start the tracers have seen
        self._lock = asyncio.Lock()
        self.manager = self._manager(callbacks)

    def _manager(self, callbacks: Any) -> AsyncCallbackManager:
        """`callbacks` with its tracers replaced by this handler."""
        if isinstance(callbacks, BaseCallbackManager):
            manager = AsyncCallbackManager(
                [h for h in callbacks.handlers if h not in self.tracers],
                [h for h in callbacks.inheritable_handlers if h not in self.tracers],
                callbacks.parent_run_id,
                tags=callbacks.tags, inheritable_tags=callbacks.inheritable_tags,
                metadata=callbacks.metadata, inheritable_metadata=callbacks.inheritable_metadata,
            )  # fmt: skip
        else:
            manager = AsyncCallbackManager([h for h in callbacks or [] if h not in self.tracers])
        manager.add_handler(self, inherit=True)
        return manager

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """While inside, runs are traced only through this handler (the environment adds no tracer)."""
        with tracing_context(enabled=False):
            yield

    async def adopt(self, callbacks: Any) -> None:
        """Replay the held events under the run `callbacks` belong to (a child manager of the `run_plan`
        run), to its tracers; pass later events straight through."""
        async with self._lock:
            self.tracers = _tracers(callbacks)
            self.parent = getattr(callbacks, "parent_run_id", None)
            await self._pass()

    async def release(self) -> None:
        """Replay the held events under the run they started in (nobody adopted them); pass later ones
        through."""
        async with self._lock:
            self.parent = self.origin
            await self._pass()

    async def _pass(self) -> None:
        self.passing = True
        while self._held:
            await self._send(*self._held.pop(0))

    def annotate_run(self, run_id: UUID, metadata: dict[str, Any]) -> None:
        """Add metadata to a run's trace: now if the tracers have it, else once it is replayed."""
        if run_id in self._sent:
            for tracer in self.tracers:
                annotate_tracer(tracer, run_id, metadata)
        else:
            self._notes.setdefault(run_id, {}).update(metadata)

    async def _event(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if name.endswith("_start") and isinstance(kwargs.get("run_id"), UUID):
            self._runs.add(kwargs["run_id"])
        async with self._lock:
            if not self.passing:
                self._held.append((name, args, kwargs))
                return
            await self._send(name, args, kwargs)

    async def _send(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.parent is not None and kwargs.get("parent_run_id") not in self._runs:
            kwargs = {**kwargs, "parent_run_id": self.parent}  # a step's own run: the plan's child
        await ahandle_event(self.tracers, name, None, *args, **kwargs)
        run_id = kwargs.get("run_id")
        if name.endswith("_start") and isinstance(run_id, UUID):
            self._sent.add(run_id)
            for tracer in self.tracers:
                annotate_tracer(tracer, run_id, self._notes.pop(run_id, {}))


def _holding_event(name: str) -> Callable[..., Awaitable[None]]:
    async def hold(self: HeldTraces, *args: Any, **kwargs: Any) -> None:
        await self._event(name, args, kwargs)

    hold.__name__ = name
    return hold


for _name in EVENTS:
    setattr(HeldTraces, _name, _holding_event(_name))
