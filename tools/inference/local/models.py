"""Local inference: the models of HUGGINGGPT_LOCAL_MODELS as one more provider ("local") of the attempt loop.

`LocalBackend.call(spec, attempt, sent)` (and `acall`, for the event loop) answers like the router's client
call for the task, with the same huggingface_hub types, so fallback, errors, traces and the renderers need
nothing new. Each model is loaded once per backend (that is, per toolkit) and kept until the backend is
closed (one load even when many calls arrive at once), on a thread of its own, and waited for at most HUGGINGGPT_TIMEOUT; calls run on a pool of worker
threads, off the event loop, and take turns on each model. Every failure is a failed attempt in one
sentence (tools/inference/errors.py `AttemptFailed`), so hybrid mode falls back to the router.

Nothing here imports torch or transformers: tools/inference/local/runners.py does, on the first local call.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from hugginggpt.tools.inference.errors import AttemptFailed, Cause, Failure, classify
from hugginggpt.tools.inference.local.tasks import LOCAL_TASKS, LocalTask
from hugginggpt.tools.inference.models import Attempt
from hugginggpt.tools.inference.pools import OwnedPool
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.tasks.table import TaskSpec
from hugginggpt.tools.text import shorten

if TYPE_CHECKING:
    from hugginggpt.tools.inference.local.runners import Loaded

EXTRA = "pip install 'hugginggpt-langchain[local]'"
GRACE = 0.5  # seconds a caller waits past the deadline, so the worker's own reason arrives first


@dataclass
class LoadRecord:
    """One model loaded in this process."""

    model: str
    folder: str
    seconds: float


class LoadedModels:
    """One backend's loaded models: one load per (kind, model, device), kept until `clear`."""

    def __init__(self) -> None:
        self._loads: dict[tuple[str, str, str], Future[Loaded]] = {}
        self._guard = threading.Lock()
        self.records: list[LoadRecord] = []  # every finished load, in order

    def get(self, key: tuple[str, str, str], load: Any, timeout: float, deadline: float) -> Loaded:
        with self._guard:
            future = self._loads.get(key)
            if future is None or (future.done() and future.exception() is not None):  # a failed load retries
                future = self._loads[key] = Future()
                threading.Thread(target=load, args=(future,), name="local-model-load", daemon=True).start()
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            raise AttemptFailed(Failure(Cause.TIMEOUT, f"the local model did not load within {timeout:g} s "
                                        "(it goes on loading: try again shortly)")) from None  # fmt: skip

    def clear(self) -> None:
        """Let go of every loaded model (a load still running finishes into nothing)."""
        with self._guard:
            self._loads.clear()
            self.records.clear()


def _folder_like(ref: str) -> bool:
    return Path(ref).is_absolute() or ref.startswith((".", "~")) or ref.count("/") > 1


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {shorten(text[0], 160)}" if text else type(error).__name__


def _out_of_memory(error: BaseException) -> bool:
    return (
        isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError"
    )  # torch's, not imported


def _load_failure(error: BaseException, task: str, ref: str, timeout: float) -> AttemptFailed:
    if isinstance(error, AttemptFailed):
        return error
    if isinstance(error, ImportError):
        return AttemptFailed(Failure(Cause.UNSUPPORTED, f"{ref} needs a library this machine lacks "
                                     f"({_first_line(error)}; the `local` extra has the usual ones: {EXTRA})"))  # fmt: skip
    if _out_of_memory(error):
        return AttemptFailed(Failure(Cause.SERVER, f"out of memory loading the local model {ref}"))
    if isinstance(error, HfHubHTTPError):  # a download (HUGGINGGPT_LOCAL_DOWNLOAD=true) that failed
        return AttemptFailed(classify(error, timeout))
    return AttemptFailed(Failure(Cause.UNSUPPORTED, f"{ref} could not be loaded for {task} here "
                                 f"({_first_line(error)})"))  # fmt: skip


def _run_failure(error: Exception) -> AttemptFailed:
    if isinstance(error, AttemptFailed):
        return error
    if _out_of_memory(error):
        return AttemptFailed(Failure(Cause.SERVER, "the local model ran out of memory"))
    return AttemptFailed(Failure(Cause.UNSUPPORTED, f"the local model could not take this input "
                                 f"({_first_line(error)})"))  # fmt: skip


class LocalBackend:
    """Runs attempts whose provider is `local` on this machine (see the module docstring)."""

    def __init__(self, settings: HFSettings) -> None:
        self.settings = settings
        self.models = LoadedModels()
        self._pool = OwnedPool(lambda: self.workers, "hf-local")

    @property
    def workers(self) -> int:
        """Worker threads: HUGGINGGPT_LOCAL_WORKERS, or one per core (at most 8)."""
        return self.settings.local.local_workers or min(8, os.cpu_count() or 1)

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The worker threads local calls run on (made on first use, again after `close`)."""
        return self._pool.get()

    def close(self) -> None:
        """Shut the worker pool (queued calls are cancelled, running ones finish) and drop the loaded models."""
        self._pool.close()
        self.models.clear()

    def resolve(self, ref: str) -> Path:
        """A folder as given, or a Hub id's snapshot in the local HF cache (downloaded only if allowed)."""
        path = Path(ref).expanduser()
        if path.is_dir():
            return path.resolve()
        if _folder_like(ref):
            raise AttemptFailed(Failure(Cause.NOT_FOUND, f"the folder {ref} does not exist"))
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(ref, local_files_only=not self.settings.local.local_download,
                                          token=self.settings.token()))  # fmt: skip
        except LocalEntryNotFoundError:
            raise AttemptFailed(Failure(Cause.NOT_FOUND, f"{ref} is not in the local Hugging Face cache "
                                        "(set HUGGINGGPT_LOCAL_DOWNLOAD=true to download it once, or name "
                                        "a folder)")) from None  # fmt: skip

    def _loaded(self, row: LocalTask, spec: TaskSpec, ref: str, deadline: float) -> Loaded:
        kind = "encoder" if row.runner in ("similarity", "embedding") else spec.task  # shared by both tasks
        device = self.settings.local.local_device

        def load(future: Future[Loaded]) -> None:
            started = time.monotonic()
            try:
                runners = importlib.import_module(
                    "hugginggpt.tools.inference.local.runners"
                )  # torch comes in here
                folder = self.resolve(ref)
                loaded = runners.load(row, spec, folder, runners.pick_device(device))
            except BaseException as error:
                future.set_exception(_load_failure(error, spec.task, ref, self.settings.timeout))
            else:
                self.models.records.append(LoadRecord(ref, str(folder), round(time.monotonic() - started, 3)))
                future.set_result(loaded)

        return self.models.get((kind, ref, device), load, self.settings.timeout, deadline)

    def _work(self, spec: TaskSpec, attempt: Attempt, sent: dict[str, Any], deadline: float) -> Any:
        row = LOCAL_TASKS[spec.task]
        loaded = self._loaded(row, spec, attempt.model, deadline)
        from hugginggpt.tools.inference.local.runners import call

        with loaded.lock:
            try:
                return call(row, spec, loaded, sent)
            except Exception as error:
                raise _run_failure(error) from error

    def _submit(self, spec: TaskSpec, attempt: Attempt, sent: dict[str, Any]) -> Future[Any]:
        deadline = time.monotonic() + self.settings.timeout
        context = contextvars.copy_context()
        return self.pool.submit(context.run, self._work, spec, attempt, sent, deadline)

    def _late(self) -> AttemptFailed:
        return AttemptFailed(Failure(Cause.TIMEOUT, f"the local model did not answer within "
                                     f"{self.settings.timeout:g} s"))  # fmt: skip

    def call(self, spec: TaskSpec, attempt: Attempt, sent: dict[str, Any]) -> Any:
        """Run one attempt on the pool and wait for it (at most HUGGINGGPT_TIMEOUT)."""
        future = self._submit(spec, attempt, sent)
        try:
            return future.result(timeout=self.settings.timeout + GRACE)
        except FutureTimeout:
            future.cancel()  # still queued: never run it
            raise self._late() from None

    async def acall(self, spec: TaskSpec, attempt: Attempt, sent: dict[str, Any]) -> Any:
        """`call` for the event loop: waits without blocking it."""
        future = asyncio.wrap_future(self._submit(spec, attempt, sent))
        try:
            return await asyncio.wait_for(future, self.settings.timeout + GRACE)
        except TimeoutError:
            raise self._late() from None
