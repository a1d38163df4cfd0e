"""Fault and latency injection for the HF stand-in: scripted faults, seeded random faults, delays.

Faults apply to inference POSTs on the router (and fal/replicate submissions), never to Hub API calls or
media downloads. Random faults are decided from a hash of (seed, provider, model, body, attempt number), so
the same request sequence gets the same faults whatever the thread interleaving.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = (
    "loading",  # 503 {"error": "Model X is currently loading", "estimated_time": 20.0}
    "rate_limit",  # 429 with Retry-After, RateLimit and X-RateLimit-* headers
    "not_found",  # 404 {"error": "Model not found"}
    "server_error",  # 500 {"error": "There was an inference error: ..."}
    "bad_gateway",  # 502 (or status=504) with an HTML body, as a CDN/proxy sends
    "reset",  # the connection is closed (RST) without any response
    "timeout",  # the server waits `seconds` (default HFStandIn.timeout_fault_seconds) before answering
    "malformed",  # 200 with a body that is not what the content type says (broken JSON, HTML for media)
    "truncated",  # 200 with cut-off bytes (media, or JSON for JSON tasks)
    "dead_provider",  # the provider's route answers 502 {"error": ...} (default: forever)
)
DEFAULT_RANDOM_KINDS = ("loading", "rate_limit", "server_error", "bad_gateway", "reset")
_FOREVER_BY_DEFAULT = frozenset({"dead_provider"})


@dataclass
class Fault:
    """A scripted fault; None filters match anything; `times=None` means forever."""

    kind: str
    model: str | None = None
    task: str | None = None
    provider: str | None = None
    times: int | None = 1
    seconds: float | None = None
    status: int | None = None
    hits: int = 0

    def matches(self, model: str | None, task: str | None, provider: str | None) -> bool:
        return (
            (self.model is None or self.model == model)
            and (self.task is None or self.task == task)
            and (self.provider is None or self.provider == provider)
            and (self.times is None or self.hits < self.times)
        )


@dataclass
class _RandomFaults:
    rate: float
    seed: int
    kinds: tuple[str, ...]
    only_first_attempt: bool
    attempts: dict[str, int] = field(default_factory=dict)


class FaultPlan:
    """Thread-safe store of scripted faults, random-fault settings and latencies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.faults: list[Fault] = []
            self.latency = 0.0
            self.latencies: list[tuple[dict[str, str | None], float]] = []
            self._random: _RandomFaults | None = None
            self.fired: list[Fault] = []

    def add(self, kind: str, *, times: int | str | None = "default", **match: Any) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if times == "default":
            times = None if kind in _FOREVER_BY_DEFAULT else 1
        fault = Fault(kind, times=times, **match)  # type: ignore[arg-type]
        with self._lock:
            self.faults.append(fault)
        return fault

    def set_rate(
        self,
        rate: float,
        seed: int = 0,
        kinds: list[str] | tuple[str, ...] | None = None,
        only_first_attempt: bool = False,
    ) -> None:
        kinds = tuple(kinds or DEFAULT_RANDOM_KINDS)
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        with self._lock:
            self._random = _RandomFaults(rate, seed, kinds, only_first_attempt) if rate > 0 else None

    def set_latency(self, seconds: float, **match: str | None) -> None:
        with self._lock:
            if not any(match.values()):
                self.latency = seconds
                return
            self.latencies = [(m, s) for m, s in self.latencies if m != match] + [(match, seconds)]

    def latency_for(self, model: str | None, task: str | None, provider: str | None) -> float:
        seen = {"model": model, "task": task, "provider": provider}
        with self._lock:
            extra = [s for m, s in self.latencies if all(v is None or seen[k] == v for k, v in m.items())]
            return max([self.latency, *extra])

    def pick(self, model: str | None, task: str | None, provider: str | None, body: bytes) -> Fault | None:
        """The fault for this request, if any (scripted faults first, then random ones)."""
        with self._lock:
            for fault in self.faults:
                if fault.matches(model, task, provider):
                    fault.hits += 1
                    self.fired.append(fault)
                    return fault
            plan = self._random
            if plan is None:
                return None
            key = hashlib.sha1(json.dumps([provider, model, task]).encode() + b"\0" + body).hexdigest()
            attempt = plan.attempts.get(key, 0) + 1
            plan.attempts[key] = attempt
            if plan.only_first_attempt and attempt > 1:
                return None
            rng = random.Random(f"{plan.seed}:{key}:{attempt}")
            if rng.random() >= plan.rate:
                return None
            fault = Fault(rng.choice(plan.kinds), model, task, provider, times=1, hits=1)
            if fault.kind == "bad_gateway":
                fault.status = rng.choice((502, 504))
            self.fired.append(fault)
            return fault
