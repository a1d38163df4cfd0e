"""The agent of a long-running app (the web UI, the served MCP and A2A routes): built once, on first use,
in the app's event loop, on the conversation store; it owns the store and the toolkit it made, and
`aclose` (or `close`, from outside the loop) lets them go."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from hugginggpt.agent.settings import AgentSettings
from hugginggpt.agent.store import ConversationStore
from hugginggpt.tools import HuggingFaceToolkit


class LazyAgent:
    """`await get()` builds the agent once; `model`, `tools` and `callbacks` go to `build_agent`."""

    def __init__(
        self,
        settings: AgentSettings,
        *,
        model: Any = None,
        tools: Any = None,
        callbacks: Sequence[BaseCallbackHandler] = (),
    ) -> None:
        self.settings = settings
        self.model, self.tools, self.callbacks = model, tools, list(callbacks)
        self.store: ConversationStore | None = None
        self.toolkit: HuggingFaceToolkit | None = None
        self._agent: Any = None
        self._lock: asyncio.Lock | None = None

    async def get(self) -> Any:
        """The agent (missing keys raise `MissingSetting`). Blocking work runs off the loop: LangGraph's
        dev server refuses blocking calls in its event loop."""
        if self._agent is not None:
            return self._agent
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self._agent is None:
                from hugginggpt.agent.build import build_agent
                from hugginggpt.agent.store import open_store

                self.settings.require_keys()
                await asyncio.to_thread(self.settings.toolkit.output_dir.mkdir, parents=True, exist_ok=True)
                self.store = await open_store(self.settings)
                tools = self.tools
                if tools is None:
                    self.toolkit = HuggingFaceToolkit(settings=self.settings.toolkit)
                    tools = await asyncio.to_thread(self.toolkit.get_tools)
                self._agent = await asyncio.to_thread(
                    build_agent,
                    self.settings,
                    model=self.model,
                    tools=tools,
                    checkpointer=self.store.saver,
                    callbacks=self.callbacks,
                )
        return self._agent

    def _flush_traces(self) -> None:
        """Give the agent's queued traces at most HUGGINGGPT_TRACE_FLUSH_SECONDS to reach LangSmith."""
        from hugginggpt.agent.tracing import flush_within, tracers_of

        for tracer in tracers_of(self._agent):
            flush_within(tracer.client, self.settings.tracing.trace_flush_seconds)

    async def aclose(self) -> None:
        """Close the store and the toolkit (its pools, its clients in this loop) from the app's loop."""
        await asyncio.to_thread(self._flush_traces)
        store, self.store = self.store, None
        if store is not None:
            await store.aclose()
        toolkit, self.toolkit = self.toolkit, None
        if toolkit is not None:
            await toolkit.aclose()
        self._agent = None

    def close(self) -> None:
        """Let go of the store and the toolkit's pools from outside the app's loop (at exit)."""
        self._flush_traces()
        store, self.store = self.store, None
        if store is not None:
            store.close()
        toolkit, self.toolkit = self.toolkit, None
        if toolkit is not None:
            toolkit.close()
        self._agent = None
