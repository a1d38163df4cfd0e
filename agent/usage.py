"""What a turn cost, counted where it happens, and a conversation's total.

`UsageMeter` is one turn's meter, passed as a callback of the whole run (`run_turn` does): every model
call ends in `on_llm_end` with the usage the LLM server reported in its stream (or in `on_llm_error`), and
every inference attempt of every tool call is counted by the attempt loop (`hugginggpt.tools.inference.usage`).
A turn's usage is the `--json` `usage` object; `UsageMiddleware` keeps one per turn in the conversation's
state, so a thread's total (`total`) survives restarts.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from hugginggpt.tools.inference.usage import RequestCounter

USAGE_KEY = "usage"  # the state key holding one usage object per turn
# model_calls, input_tokens, output_tokens, hf_requests, local_calls, seconds, by_provider
Usage = dict[str, Any]


def reported_usage(response: LLMResult) -> Mapping[str, Any] | None:
    """The token usage a model call's server reported, or None when it sent none."""
    for generations in response.generations:
        for generation in generations:
            message = generation.message if isinstance(generation, ChatGeneration) else None
            if isinstance(message, AIMessage) and message.usage_metadata:
                return message.usage_metadata
    return None


class UsageMeter(RequestCounter):
    """One turn's model calls and tokens (as reported), HF requests by provider, local calls, seconds."""

    run_inline = True  # counted before the model call returns, on the loop's own thread
    ignore_llm = False  # model calls' ends and errors are what it counts

    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()
        self.model_calls = 0
        self.unreported = 0  # model calls that ended without the server reporting their tokens
        self.input_tokens = 0
        self.output_tokens = 0

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        usage = reported_usage(response)
        with self._lock:
            self.model_calls += 1
            if usage is None:
                self.unreported += 1
            else:
                self.input_tokens += int(usage.get("input_tokens") or 0)
                self.output_tokens += int(usage.get("output_tokens") or 0)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        """A call that failed (then retried, or ending the turn): a request made; servers bill no tokens for
        a refused request, and none are counted."""
        with self._lock:
            self.model_calls += 1

    def report(self) -> Usage:
        """The turn so far, as `--json` shows it: tokens are None ("not reported") when any model call of
        the turn ended without its server reporting them."""
        with self._lock:
            reported = self.unreported == 0
            return {
                "model_calls": self.model_calls,
                "input_tokens": self.input_tokens if reported else None,
                "output_tokens": self.output_tokens if reported else None,
                "hf_requests": self.hf_requests,
                "local_calls": self.local_calls,
                "seconds": round(time.monotonic() - self.started, 3),
                "by_provider": dict(sorted(self.by_provider.items())),
            }


def meter_of(callbacks: Any) -> UsageMeter | None:
    """The turn's meter among a run's callbacks (a callback manager or a list of handlers)."""
    handlers = getattr(callbacks, "handlers", callbacks) or []
    return next((h for h in handlers if isinstance(h, UsageMeter)), None)


def with_meter(callbacks: Any, meter: UsageMeter) -> Any:
    """A run config's `callbacks` with `meter` added (inherited by every child run)."""
    if callbacks is None:
        return [meter]
    if isinstance(callbacks, list):
        return [*callbacks, meter]
    manager = callbacks.copy()
    manager.add_handler(meter, inherit=True)
    return manager


def total(usages: Sequence[Usage]) -> Usage:
    """Turns added up, with `turns`; tokens stay None ("not reported") if any turn's were."""
    by_provider: Counter[str] = Counter()
    for usage in usages:
        by_provider.update(usage.get("by_provider") or {})

    def tokens(key: str) -> int | None:
        values = [usage.get(key) for usage in usages]
        return None if any(v is None for v in values) else sum(int(v or 0) for v in values)

    return {
        "turns": len(usages),
        "model_calls": sum(int(u.get("model_calls") or 0) for u in usages),
        "input_tokens": tokens("input_tokens"),
        "output_tokens": tokens("output_tokens"),
        "hf_requests": sum(by_provider.values()),
        "local_calls": sum(int(u.get("local_calls") or 0) for u in usages),
        "seconds": round(sum(float(u.get("seconds") or 0.0) for u in usages), 3),
        "by_provider": dict(sorted(by_provider.items())),
    }


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def usage_line(usage: Usage) -> str:
    """One short line: `2 model calls (1,234 tokens in, 56 out) · 3 HF requests (hf-inference 2) · 4.2 s`."""
    calls = _count(usage["model_calls"], "model call")
    if usage["model_calls"] and usage["input_tokens"] is None:
        calls += " (tokens not reported)"
    elif usage["model_calls"]:
        calls += f" ({usage['input_tokens']:,} tokens in, {usage['output_tokens']:,} out)"
    parts = [calls, _count(usage["hf_requests"], "HF request")]
    if usage["by_provider"]:
        parts[-1] += " (" + ", ".join(f"{name} {n}" for name, n in usage["by_provider"].items()) + ")"
    if usage.get("local_calls"):
        parts.append(_count(usage["local_calls"], "local model call"))
    parts.append(f"{usage['seconds']:.1f} s")
    if "turns" in usage:
        parts.insert(0, _count(usage["turns"], "turn"))
    return " · ".join(parts)


async def thread_usages(agent: Any, thread: str) -> list[Usage]:
    """The usage of each turn saved in `thread` (turns run before usage was kept have none)."""
    state = await agent.aget_state({"configurable": {"thread_id": thread}})
    return list(state.values.get(USAGE_KEY) or [])
