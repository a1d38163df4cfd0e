"""Which models serve a task right now: Hub search by live providers, cached, in fallback order."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError
from huggingface_hub.hf_api import ExpandModelProperty_T, ModelInfo

from hugginggpt.tools.inference.errors import InputRefused, TaskError
from hugginggpt.tools.inference.local.tasks import LOCAL_TASKS
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.tasks.table import task_id
from hugginggpt.tools.text import quoted
from hugginggpt.tools.upstream import provider_tasks

T = TypeVar("T")
SEARCH_LIMIT = 40
EXPAND: list[ExpandModelProperty_T] = [
    "inferenceProviderMapping", "likes", "downloads", "pipeline_tag", "library_name", "tags",
]  # fmt: skip
# Hosts a `model` URL may point at: the HF token is sent there, so only Hugging Face's own endpoints.
ENDPOINT_HOST_SUFFIXES = (".endpoints.huggingface.cloud", ".hf.space", ".huggingface.co")
LOCAL = "local"  # the provider of the models run on this machine (tools/inference/local/models.py)


class HubUnavailable(RuntimeError):
    """The Hub could not be asked which models serve a task."""


@dataclass(frozen=True)
class ModelCandidate:
    """A model that some provider serves for a task now."""

    id: str
    providers: tuple[str, ...]
    likes: int = 0
    downloads: int = 0
    library: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        """One line: what it is and who serves it."""
        extras = [t for t in self.tags if t.startswith(("license:", "language:"))][:2]
        bits = [self.library or "model", *extras, f"served by {', '.join(self.providers)}"]
        return " · ".join(bits)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "likes": self.likes,
            "downloads": self.downloads,
            "providers": list(self.providers),
            "description": self.description,
        }


@dataclass(frozen=True)
class Attempt:
    """One (model, provider) pair to try."""

    model: str
    provider: str


def providers_serving(task: str) -> tuple[str, ...]:
    """Providers huggingface_hub can call for `task` at all (its provider table is the truth)."""
    return tuple(name for name, tasks in provider_tasks().items() if task_id(task) in tasks)


def live_providers(info: ModelInfo, task: str) -> tuple[str, ...]:
    """Providers whose mapping for this model is live for `task`, in the Hub's order."""
    return tuple(
        m.provider
        for m in info.inference_provider_mapping or []
        if m.status == "live"
        and (not m.task or m.task == task or (task == "text-generation" and m.task == "conversational"))
    )


def with_deadline(fn: Callable[[], T], seconds: float) -> T:
    """Run a blocking Hub look-up in a daemon thread and stop waiting after `seconds`.

    A daemon thread, so a look-up the Hub client keeps retrying never holds the process at exit.
    """
    future: Future[T] = Future()

    def work() -> None:
        try:
            future.set_result(fn())
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=work, name="hub-lookup", daemon=True).start()
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        raise HubUnavailable(f"the Hub did not answer within {seconds:g} s") from None


def check_endpoint_url(url: str) -> None:
    """Refuse `model` URLs that are not Hugging Face Inference Endpoints (the HF token goes there)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme != "https" or not host.endswith(ENDPOINT_HOST_SUFFIXES):
        raise InputRefused(
            f"model URL {quoted(url)} is not a Hugging Face Inference Endpoint (https://…"
            f"{ENDPOINT_HOST_SUFFIXES[0]}); the HF token is only sent to Hugging Face"
        )


def local_refusal(task: str, model: str | None, settings: HFSettings) -> str:
    """Why the `local` backend cannot run this call, and the setting that would serve it."""
    configured = settings.local.local_models.get(task)
    if configured and model:
        return (f"{task} runs only {configured} here (HUGGINGGPT_BACKEND=local); to use {model}, name it in "
                f"HUGGINGGPT_LOCAL_MODELS ({task}={model}) or set HUGGINGGPT_BACKEND=hybrid.")  # fmt: skip
    if task in LOCAL_TASKS:
        return (f"{task} has no local model and HUGGINGGPT_BACKEND=local sends nothing to Hugging Face: set "
                f"HUGGINGGPT_LOCAL_MODELS={task}=<Hub id or folder> to run it here, or "
                "HUGGINGGPT_BACKEND=hybrid to use the router.")  # fmt: skip
    return (f"{task} does not run locally and HUGGINGGPT_BACKEND=local sends nothing to Hugging Face: set "
            "HUGGINGGPT_BACKEND=hybrid (or router) to use the router for it.")  # fmt: skip


@dataclass
class _Entry:
    value: Any
    expires: float


@dataclass
class ModelCatalog:
    """Hub search for served models, with a time-limited cache shared by all tools."""

    settings: HFSettings
    api: HfApi = field(default_factory=HfApi)
    _cache: dict[tuple[str, ...], _Entry] = field(default_factory=dict, repr=False)
    _locks: dict[tuple[str, ...], threading.Lock] = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _cached(self, key: tuple[str, ...], load: Callable[[], T]) -> T:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one look-up per key at a time; the others wait for its answer
            entry = self._cache.get(key)
            if entry and entry.expires > time.monotonic():
                return entry.value
            value = with_deadline(load, self.settings.timeout)
            self._cache[key] = _Entry(value, time.monotonic() + self.settings.model_cache_seconds)
            return value

    def _token(self) -> str | bool | None:
        return self.settings.token() or None

    def candidates(self, task: str, *, need: str | None = None, limit: int = 10) -> list[ModelCandidate]:
        """Models for `task`, best first: its local model (backends `local` and `hybrid`), then the models
        served now (not with the `local` backend, which asks the Hub nothing)."""
        task = task_id(task)
        local = self.local_candidates(task)
        if self.settings.local.backend == "local":
            return local[:limit]
        return (local + self.served(task, need=need, limit=limit))[:limit]

    def local_candidates(self, task: str) -> list[ModelCandidate]:
        """The task's model in HUGGINGGPT_LOCAL_MODELS, unless the backend is `router`."""
        model = self.settings.local.local_models.get(task_id(task))
        if self.settings.local.backend == "router" or not model:
            return []
        return [ModelCandidate(id=model, providers=(LOCAL,), library="on this machine (the default)")]

    def served(self, task: str, *, need: str | None = None, limit: int = 10) -> list[ModelCandidate]:
        """Models served for `task` now, best first; `need` (free text) re-ranks by matching words."""
        task = task_id(task)
        found = self._cached(("search", task), lambda: self._search(task))
        if need:
            found = self._rank_by_need(found, need, task)
        return found[:limit]

    def _search(self, task: str, search: str | None = None) -> list[ModelCandidate]:
        try:
            infos = list(
                self.api.list_models(
                    pipeline_tag=task,
                    inference_provider="all",
                    search=search,
                    sort="likes",
                    limit=SEARCH_LIMIT,
                    expand=EXPAND,
                    token=self._token(),
                )
            )
        except Exception as error:  # the Hub is down or refused: say so in one sentence
            raise HubUnavailable(f"the Hub model search failed ({type(error).__name__})") from error
        return self._rank(infos, task)

    def _rank(self, infos: list[ModelInfo], task: str) -> list[ModelCandidate]:
        wanted = self.settings.provider
        out = []
        for info in infos:
            providers = live_providers(info, task)
            if wanted != "auto":
                providers = tuple(p for p in providers if p == wanted)
            if providers:
                out.append(
                    ModelCandidate(
                        id=info.id,
                        providers=providers,
                        likes=info.likes or 0,
                        downloads=info.downloads or 0,
                        library=info.library_name,
                        tags=tuple(info.tags or ()),
                    )
                )
        out.sort(key=lambda c: c.likes, reverse=True)  # most liked served model first
        return out

    def _rank_by_need(self, found: list[ModelCandidate], need: str, task: str) -> list[ModelCandidate]:
        words = {w for w in re.findall(r"[a-z0-9]+", need.lower()) if len(w) > 1}
        if not words:
            return found

        def score(c: ModelCandidate) -> int:
            hay = " ".join((c.id, *c.tags)).lower()
            return sum(w in hay for w in words)

        matching = [c for c in found if score(c)]
        if not matching:
            extra = self._cached(("search", task, need.lower()), lambda: self._search(task, need.strip()))
            matching = extra
        matching.sort(key=score, reverse=True)
        rest = [c for c in found if c not in matching]
        return matching + rest

    def providers_for(self, model: str, task: str) -> tuple[str, ...]:
        """Live providers of one named model for `task` (empty if none)."""
        task = task_id(task)

        def load() -> tuple[str, ...]:
            try:
                info = self.api.model_info(model, expand=["inferenceProviderMapping"], token=self._token())
            except RepositoryNotFoundError:
                return ()
            except Exception as error:
                raise HubUnavailable(f"the Hub look-up of {model} failed ({type(error).__name__})") from error
            return live_providers(info, task)

        providers = self._cached(("model", model, task), load)
        wanted = self.settings.provider
        return providers if wanted == "auto" else tuple(p for p in providers if p == wanted)

    def attempts(self, task: str, model: str | None = None) -> list[Attempt]:
        """What to try first, by HUGGINGGPT_BACKEND: `router` the router's attempts; `local` only the
        task's local model (or a one-sentence refusal naming the setting that would serve the call);
        `hybrid` the local model if the task has one (the router's attempts come after it, from
        `later_attempts`, only if it fails), else the router's."""
        local = self._local_attempts(task, model)
        if self.settings.local.backend == "local" and not local:
            raise TaskError(local_refusal(task_id(task), model, self.settings))
        return local or self.routed_attempts(task, model)

    def later_attempts(self, task: str, model: str | None = None) -> Callable[[], list[Attempt]] | None:
        """With `hybrid`, the router's attempts after a failed local one: the Hub is asked only then."""
        if self.settings.local.backend != "hybrid" or not self._local_attempts(task, model):
            return None

        def routed() -> list[Attempt]:
            try:
                return self.routed_attempts(task, model)
            except HubUnavailable:  # out of reach: the local model's failure is the answer
                return []

        return routed

    def _local_attempts(self, task: str, model: str | None) -> list[Attempt]:
        return [Attempt(c.id, LOCAL) for c in self.local_candidates(task) if model in (None, c.id)]

    def routed_attempts(self, task: str, model: str | None = None) -> list[Attempt]:
        """The router's attempts, bounded by `max_attempts`.

        A named model is tried on each provider that serves it; otherwise the best
        served models are tried, each on its first live provider.
        """
        limit = self.settings.max_attempts
        if model and model.startswith(("http://", "https://")):
            check_endpoint_url(model)
            return [Attempt(model, "hf-inference")]
        if model:
            return [Attempt(model, p) for p in self.providers_for(model, task)][:limit]
        return [Attempt(c.id, c.providers[0]) for c in self.served(task, limit=limit)]
