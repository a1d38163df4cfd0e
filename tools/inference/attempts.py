"""The attempt plan of one tool call, written once: which model to try next and how long to wait first.

`AttemptPlan` is iterated by a sync and an async runner (`run_sync`, `run_async`): each step is one
(model, provider) attempt and the seconds to wait before it. A failure is described by `hugginggpt.tools.inference.errors`;
a 429 retries the same model after its Retry-After (up to `rate_limit_retries` times, capped at
`max_retry_wait`), a failure tied to the model falls back to the next one, any other ends the plan.
Attempts that are worth finding only if the first ones fail (hybrid's router ones, after the local model)
come from `more`, asked once the others are used up (off the event loop in `run_async`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from langchain_core.tools import ToolException
from typing_extensions import TypedDict  # pydantic reads it on Python 3.11 (MCP output schema)

from hugginggpt.tools.inference.errors import (
    TRANSIENT_CAUSES,
    Cause,
    Failure,
    TaskError,
    classify,
    tool_error,
)
from hugginggpt.tools.inference.models import Attempt
from hugginggpt.tools.inference.usage import RequestCounter
from hugginggpt.tools.settings import HFSettings

T = TypeVar("T")


class FailedAttempt(TypedDict):
    model: str
    provider: str
    cause: str
    error: str


@dataclass(frozen=True)
class Step:
    """Try `attempt` after waiting `wait` seconds."""

    attempt: Attempt
    wait: float = 0.0


class AttemptPlan:
    """The attempts of one call in order, the failures met, and the error once nothing is left."""

    def __init__(
        self,
        task: str,
        attempts: list[Attempt],
        settings: HFSettings,
        more: Callable[[], list[Attempt]] | None = None,
        counters: Sequence[RequestCounter] = (),
    ) -> None:
        self.task = task
        self.attempts = attempts
        self.settings = settings
        self.more = more  # asked only once these attempts are used up (hybrid: the router's, after local)
        self.counters = counters  # told of every attempt, as it is made
        self.failed: list[FailedAttempt] = []
        self.last: tuple[Attempt, Failure] | None = None
        self._next = 0

    def __iter__(self) -> Iterator[Step]:
        while self._next < len(self.attempts):
            attempt = self.attempts[self._next]
            self._next += 1
            failure: Failure | None = None
            for retry in range(self.settings.rate_limit_retries + 1):
                wait, self.last = self._wait(retry), None
                yield Step(attempt, wait)
                if self.last is None:  # the runner stopped early: nothing to record
                    return
                failure = self.last[1]
                if failure.cause is not Cause.RATE_LIMITED:
                    break
            assert failure is not None  # the loop above ran at least once
            self._record(attempt, failure)
            if not failure.may_fall_back:
                raise self.exhausted()

    def _wait(self, retry: int) -> float:
        if not retry or self.last is None:
            return 0.0
        said = self.last[1].retry_after
        wait = said if said is not None else 2.0 ** (retry - 1)
        return min(wait, self.settings.max_retry_wait, self.settings.timeout)

    def _record(self, attempt: Attempt, failure: Failure) -> None:
        self.failed.append(
            FailedAttempt(
                model=attempt.model,
                provider=attempt.provider,
                cause=failure.cause.value,
                error=failure.detail,
            )
        )

    def extend(self) -> bool:
        """Add the attempts `more` gives (it is asked once); False when there are none."""
        more, self.more = self.more, None
        added = more() if more else []
        self.attempts = [*self.attempts, *added]
        return bool(added)

    @contextmanager
    def trying(self, step: Step) -> Iterator[None]:
        """Run one attempt: a tool error (refused input, a local failure) ends the call as it is; any other
        exception is this attempt's failure, which the plan reads when it is asked for the next step."""
        for counter in self.counters:
            counter.count(step.attempt)
        try:
            yield
        except ToolException:
            raise
        except Exception as error:
            self.last = (step.attempt, classify(error, self.settings.timeout))

    def exhausted(self) -> TaskError:
        """The error once nothing more will be tried (transient if every failure was)."""
        attempt, failure = self.last or (Attempt("?", "?"), Failure(Cause.UNKNOWN, "not run"))
        tried = list(dict.fromkeys(f["model"] for f in self.failed))
        transient = bool(self.failed) and all(f["cause"] in TRANSIENT_CAUSES for f in self.failed)
        error = tool_error(self.task, attempt.model, failure, tried, transient)
        error.artifact = {"task": self.task, "failed_attempts": self.failed}  # read by the agent
        return error


def run_sync(plan: AttemptPlan, attempt_once: Callable[[Attempt], T]) -> T:
    """Drive `plan`, blocking: the first attempt that succeeds gives the result."""
    while True:
        for step in plan:
            time.sleep(step.wait)
            with plan.trying(step):
                return attempt_once(step.attempt)
        if not plan.extend():
            raise plan.exhausted()


async def run_async(plan: AttemptPlan, attempt_once: Callable[[Attempt], Awaitable[T]]) -> T:
    """Drive `plan` on the event loop: the first attempt that succeeds gives the result."""
    while True:
        for step in plan:
            await asyncio.sleep(step.wait)
            with plan.trying(step):
                return await attempt_once(step.attempt)
        if plan.more is None or not await asyncio.to_thread(plan.extend):
            raise plan.exhausted()
