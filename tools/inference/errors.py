"""Turn whatever huggingface_hub, httpx2 or our own checks raise into one clear sentence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx2
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError
from langchain_core.tools import ToolException

from hugginggpt.tools.text import one_line, quoted, shorten


class TaskError(ToolException):
    """A task tool's failure; `artifact` keeps what it knew (the attempts made) for the agent to show."""

    artifact: dict[str, Any] | None = None


class TransientToolError(TaskError):
    """Every model tried failed for passing reasons (cold, busy, timeout...): trying again later may work."""


class OutputNotSaved(TaskError):
    """A made file could not be written here (disk full, read-only, no permission...): a local problem.

    Not a model failure: the attempt loop lets a `ToolException` through, so no other model is tried (and
    paid for) and, not being transient, no retry either.
    """


class InputRefused(ValueError):
    """A tool argument was refused before anything was sent (bad path, URL, media type, size...)."""


def too_large(source: str, size: int, limit_mb: float) -> str:
    """The refusal of an input of `size` bytes over the limit."""
    return f"{quoted(source)} is too large ({size / 1e6:.1f} MB; the limit is {limit_mb:g} MB)"


class Cause(StrEnum):
    """Why a call failed; decides whether another model may be tried."""

    COLD = "cold"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    SERVER = "server"
    TIMEOUT = "timeout"
    NETWORK = "network"
    MALFORMED = "malformed"
    UNSUPPORTED = "unsupported"
    AUTH = "auth"
    BAD_INPUT = "bad_input"
    UNKNOWN = "unknown"


# Causes that pass with time: the whole call may be retried later.
TRANSIENT_CAUSES = frozenset({Cause.COLD, Cause.RATE_LIMITED, Cause.SERVER, Cause.TIMEOUT, Cause.NETWORK})

# Causes tied to one model or provider: the next candidate may well work.
FALLBACK_CAUSES = frozenset(
    {
        Cause.COLD,
        Cause.RATE_LIMITED,
        Cause.NOT_FOUND,
        Cause.SERVER,
        Cause.TIMEOUT,
        Cause.NETWORK,
        Cause.MALFORMED,
        Cause.UNSUPPORTED,
    }
)


@dataclass(frozen=True)
class Failure:
    """One failed attempt, described for people and for the fallback logic."""

    cause: Cause
    detail: str
    retry_after: float | None = None

    @property
    def may_fall_back(self) -> bool:
        return self.cause in FALLBACK_CAUSES


class AttemptFailed(Exception):
    """An attempt that failed for a reason already put in words (a local model's, say)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


def _server_message(error: HfHubHTTPError) -> str:
    response = error.response
    message = response.headers.get("X-Error-Message", "")
    if not message:
        try:
            body = response.json()
        except (ValueError, json.JSONDecodeError):
            body = None
        if isinstance(body, dict):
            raw = body.get("error") or body.get("message") or body.get("detail") or ""
            message = raw if isinstance(raw, str) else json.dumps(raw)
    return one_line(message)


def _retry_after(error: HfHubHTTPError) -> float | None:
    value = error.response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _from_http(error: HfHubHTTPError) -> Failure:
    status = error.response.status_code
    said = _server_message(error)
    suffix = f" ({said})" if said else ""
    if status == 503 or "loading" in said.lower():
        return Failure(Cause.COLD, f"the model is cold or loading (HTTP {status}){suffix}")
    if status == 429:
        return Failure(Cause.RATE_LIMITED, f"rate limited (HTTP 429){suffix}", _retry_after(error))
    if status in (401, 403):
        return Failure(Cause.AUTH, f"the HF token was refused (HTTP {status}); check HF_TOKEN{suffix}")
    if status in (404, 410):
        return Failure(Cause.NOT_FOUND, f"model not found or not deployed (HTTP {status}){suffix}")
    if status in (400, 413, 422):
        return Failure(Cause.BAD_INPUT, f"the input was rejected (HTTP {status}){suffix}")
    if status == 504:
        return Failure(Cause.TIMEOUT, f"the provider timed out (HTTP 504){suffix}")
    if status >= 500:
        return Failure(Cause.SERVER, f"server error (HTTP {status}){suffix}")
    return Failure(Cause.UNKNOWN, f"unexpected HTTP {status}{suffix}")


def classify(error: BaseException, timeout: float) -> Failure:
    """Describe `error` as a `Failure`; never raises."""
    if isinstance(error, AttemptFailed):
        return error.failure
    if isinstance(error, InputRefused):
        return Failure(Cause.BAD_INPUT, str(error))
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        return _from_http(error)
    if isinstance(error, InferenceTimeoutError | httpx2.TimeoutException | TimeoutError):
        return Failure(Cause.TIMEOUT, f"timed out after {timeout:g} s")
    if isinstance(error, httpx2.TransportError | ConnectionError):
        return Failure(
            Cause.NETWORK,
            f"network error ({type(error).__name__}: {shorten(str(error), 120) or 'no detail'})",
        )
    if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
        return Failure(Cause.MALFORMED, "the server sent a malformed response")
    if isinstance(error, ValueError) and "not supported" in str(error).lower():
        return Failure(Cause.UNSUPPORTED, shorten(str(error).split("\n")[0], 200))
    if isinstance(error, ValueError | TypeError | KeyError | IndexError | OSError):
        return Failure(
            Cause.MALFORMED, shorten(f"the response could not be read ({type(error).__name__}: {error})", 240)
        )
    return Failure(Cause.UNKNOWN, shorten(f"{type(error).__name__}: {error}", 240))


def tool_error(
    task: str, model: str | None, failure: Failure, tried: list[str] | None = None, transient: bool = False
) -> TaskError:
    """One sentence naming the task, the model and the cause."""
    who = f" with {model}" if model else ""
    also = ""
    if tried and len(tried) > 1:
        also = f"; also tried {', '.join(t for t in tried if t != model)}"
    kind = TransientToolError if transient else TaskError
    return kind(f"{task} failed{who}: {failure.detail}{also}.")
