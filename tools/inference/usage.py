"""Counting inference at its source: every attempt the attempt loop makes, by provider.

A `RequestCounter` is a LangChain callback handler that counts nothing by itself: passed as a callback of
a run (the agent's turn, a chain), it reaches every tool call of that run through its callback manager,
and each task tool tells it about every attempt it makes (failed ones and rate-limit retries included):
an HF request to the attempt's provider, or a call of a local model.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from hugginggpt.tools.inference.models import LOCAL, Attempt


class RequestCounter(BaseCallbackHandler):
    """HF requests by provider and local model calls, of the tool calls this handler is a callback of."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()  # tools run on threads and tasks at once
        self.by_provider: Counter[str] = Counter()
        self.local_calls = 0

    def count(self, attempt: Attempt) -> None:
        """One attempt, about to be made."""
        with self._lock:
            if attempt.provider == LOCAL:
                self.local_calls += 1
            else:
                self.by_provider[attempt.provider] += 1

    # It listens to no run events (tools call `count`), so LangChain dispatches none to it: plain class
    # attributes in place of the base class's `ignore_*` properties.
    ignore_llm = ignore_chat_model = ignore_chain = ignore_agent = True
    ignore_retriever = ignore_retry = ignore_custom_event = True

    @property
    def hf_requests(self) -> int:
        return sum(self.by_provider.values())


def counters(run_manager: Any) -> list[RequestCounter]:
    """The request counters among a tool run's callback handlers (none when it has no callbacks)."""
    handlers = getattr(run_manager, "handlers", None) or []
    return [h for h in handlers if isinstance(h, RequestCounter)]
