"""One generic tool for every HF task: resolve inputs -> pick model -> call -> save outputs -> summarise."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypedDict

from huggingface_hub import AsyncInferenceClient, InferenceClient
from huggingface_hub.inference._providers import get_provider_helper
from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from tools.artifacts import ArtifactStore, FileArtifact, MediaInput
from tools.errors import TRANSIENT_CAUSES, Cause, Failure, InputRefused, classify, tool_error
from tools.models import Attempt, HubUnavailable, ModelCatalog, check_endpoint_url, with_deadline
from tools.outputs import Context, Rendered, render
from tools.settings import HFSettings
from tools.tasks import TaskSpec
from tools.tracing import annotate_run

MODEL_PATTERN = r"^(https?://\S+|[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?)$"
RATE_LIMIT_RETRIES = 2
MAX_RETRY_WAIT = 30.0
# Offloaded calls (video jobs the sync client polls, for minutes) get threads of their own: on the loop's
# default executor (min(32, cores + 4) threads) a few of them would stall every other tool's short hops.
_OFFLOADED = ThreadPoolExecutor(max_workers=64, thread_name_prefix="hf-offloaded")


class FailedAttempt(TypedDict):
    model: str
    provider: str
    cause: str
    error: str


class TaskResult(TypedDict):
    """The artifact of a task tool: typed metadata, never bytes."""

    task: str
    model: str
    provider: str
    seconds: float
    files: list[FileArtifact]
    data: dict[str, Any]
    failed_attempts: list[FailedAttempt]


@dataclass
class Backend:
    """What all tools of one toolkit share: settings, files, and the model catalog."""

    settings: HFSettings
    store: ArtifactStore = field(init=False)
    catalog: ModelCatalog = field(init=False)

    def __post_init__(self) -> None:
        self.store = ArtifactStore(self.settings)
        self.catalog = ModelCatalog(self.settings)
        self._clients: dict[asyncio.AbstractEventLoop, tuple[dict[str, AsyncInferenceClient], Any]] = {}
        self._clients_lock = threading.Lock()

    async def async_client(self, provider: str) -> AsyncInferenceClient:
        """The AsyncInferenceClient for `provider` on the running event loop, made once and then reused.

        A fresh client per call would build a new HTTP client each time (a TLS context: the CA bundle is
        read, 30-100 ms on the event loop) and open a new connection (a TLS handshake); reused, its
        connection pool stays warm. Kept per loop, since pooled connections belong to the loop that
        opened them, and closed when the loop shuts down (see `_close_with_loop`).
        """
        loop = asyncio.get_running_loop()
        with self._clients_lock:
            for closed in [other for other in self._clients if other.is_closed()]:
                del self._clients[closed]
            fresh = loop not in self._clients
            if fresh:
                clients: dict[str, AsyncInferenceClient] = {}
                self._clients[loop] = (clients, self._close_with_loop(loop, clients))
            clients, closer = self._clients[loop]
            client = clients.get(provider)
            if client is None:
                client = clients[provider] = AsyncInferenceClient(
                    provider=provider,  # type: ignore[arg-type]
                    token=self.settings.token(),
                    timeout=self.settings.timeout,
                )
        if fresh:
            await anext(closer)  # parked until the loop closes its async generators
        return client

    async def _close_with_loop(
        self, loop: asyncio.AbstractEventLoop, clients: dict[str, AsyncInferenceClient]
    ) -> AsyncIterator[None]:
        """Waits at `yield` for the loop's `shutdown_asyncgens()` (asyncio.run calls it before closing
        the loop), then closes this loop's clients and their connections."""
        try:
            yield
        finally:
            with self._clients_lock:
                if self._clients.get(loop, (None,))[0] is clients:
                    del self._clients[loop]
            for client in list(clients.values()):
                await client.close()


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}
_JSON_LIMITS = {"ge": "minimum", "le": "maximum", "min_length": "minLength", "max_length": "maxLength"}


def _none() -> None:
    return None


def _optional(kind: Any, shown: dict[str, Any] | None, description: str, **limits: Any) -> tuple[Any, Any]:
    """An optional field, shown to the model as `shown`: its type and limits, without pydantic's
    `anyOf: [..., {"type": "null"}]` and `"default": null` (leaving a field out is how the model says
    "none"). Validation is unchanged: None and a missing field are both accepted."""
    annotation = Annotated[kind | None, WithJsonSchema(shown)] if shown else kind | None
    return annotation, Field(default_factory=_none, description=description, **limits)


def args_schema(spec: TaskSpec) -> type[BaseModel]:
    """A pydantic model with one described field per input, plus an optional `model`."""
    fields: dict[str, Any] = {}
    for arg in spec.args:
        if arg.required:
            fields[arg.name] = (arg.type, Field(..., description=arg.description, **arg.limits))
            continue
        kind = _JSON_TYPES.get(arg.type)
        shown = (
            None
            if kind is None
            else {
                "type": kind,
                **{_JSON_LIMITS[k]: v for k, v in arg.limits.items() if k in _JSON_LIMITS},
            }
        )
        fields[arg.name] = _optional(arg.type, shown, arg.description, **arg.limits)
    # The model needs no regex to write a Hub id; a malformed one is still refused.
    fields["model"] = _optional(str, {"type": "string"}, "Hub model id to use; omit to pick a served one.",
                               max_length=300, pattern=MODEL_PATTERN)  # fmt: skip
    title = "".join(part.title() for part in spec.task.split("-")) + "Input"
    return create_model(title, __config__=ConfigDict(extra="forbid"), **fields)


class _Call:
    """The state of one tool call: inputs, attempts made, the answer."""

    def __init__(self, tool: HFTaskTool, kwargs: dict[str, Any]) -> None:
        self.tool = tool
        self.spec = tool.spec
        self.model = kwargs.pop("model", None)
        self.args = {k: v for k, v in kwargs.items() if v is not None}
        self.media: dict[str, MediaInput] = {}
        self.failed: list[FailedAttempt] = []
        self.started = time.monotonic()
        self.result: TaskResult | None = None
        self.last: tuple[Attempt, Failure] = (
            Attempt(self.model or "?", "?"),
            Failure(Cause.UNKNOWN, "not run"),
        )

    @property
    def backend(self) -> Backend:
        return self.tool.backend

    def prepare(self) -> None:
        """Check and load every input; refuse before anything is sent."""
        try:
            if self.model and self.model.startswith(("http://", "https://")):
                check_endpoint_url(self.model)
            for arg in self.spec.args:
                value = self.args.get(arg.name)
                if value is None:
                    continue
                if arg.media:
                    self.media[arg.name] = self.backend.store.load(value, arg.media)
                elif arg.coerce:
                    self.args[arg.name] = arg.coerce(value)
        except (InputRefused, ValueError) as error:
            raise ToolException(f"{self.spec.task} refused its input: {error}.") from None

    def client_args(self) -> dict[str, Any]:
        sent = {**self.args, **self.spec.fixed}
        sent.update({name: item.data for name, item in self.media.items()})
        return sent

    def plan(self, attempts: list[Attempt]) -> list[Attempt]:
        if attempts:
            return attempts
        if self.model:
            raise ToolException(
                f"{self.spec.task} cannot use {self.model}: no inference provider serves it for this task now"
                " (check the id, or call find_models for served ones)."
            )
        raise ToolException(
            f"{self.spec.task} is not served by any inference provider today, so it cannot run here"
            " (a dedicated Inference Endpoint URL can be passed as `model`)."
        )

    def after_failure(self, attempt: Attempt, error: Exception, retries: int) -> float | None:
        """Seconds to wait before retrying `attempt`, None to try the next one; raises if hopeless."""
        self.last = (attempt, classify(error, self.backend.settings.timeout))
        failure = self.last[1]
        if failure.cause is Cause.RATE_LIMITED and retries < RATE_LIMIT_RETRIES:
            wait = failure.retry_after if failure.retry_after is not None else 2.0**retries
            return min(wait, MAX_RETRY_WAIT, self.backend.settings.timeout)
        self.failed.append(
            FailedAttempt(
                model=attempt.model,
                provider=attempt.provider,
                cause=failure.cause.value,
                error=failure.detail,
            )
        )
        if not failure.may_fall_back:
            raise self.exhausted()
        return None

    def exhausted(self) -> ToolException:
        """The error once nothing more will be tried (transient if every failure was)."""
        attempt, failure = self.last
        tried = list(dict.fromkeys(f["model"] for f in self.failed))
        transient = bool(self.failed) and all(f["cause"] in TRANSIENT_CAUSES for f in self.failed)
        error = tool_error(self.spec.task, attempt.model, failure, tried, transient)
        error.artifact = {"task": self.spec.task, "failed_attempts": self.failed}  # read by the agent
        return error

    def trace_metadata(self) -> dict[str, Any]:
        """What a trace of this call should carry: who served, who failed, what was made."""
        meta: dict[str, Any] = {"task": self.spec.task, "failed_models": [f["model"] for f in self.failed]}
        if self.result:
            meta.update(model=self.result["model"], provider=self.result["provider"],
                        seconds=self.result["seconds"], files=[f["path"] for f in self.result["files"]],
                        mime_types=[f["mime_type"] for f in self.result["files"]])  # fmt: skip
        else:
            meta["seconds"] = round(time.monotonic() - self.started, 3)
        return meta

    def finish(self, attempt: Attempt, rendered: Rendered) -> tuple[str, TaskResult]:
        seconds = round(time.monotonic() - self.started, 3)
        result = TaskResult(
            task=self.spec.task, model=attempt.model, provider=attempt.provider, seconds=seconds,
            files=rendered.files, data=rendered.data, failed_attempts=self.failed,
        )  # fmt: skip
        self.result = result
        line = f"Model: {attempt.model} via {attempt.provider} ({seconds:.1f} s)"
        if self.failed:
            line += "; failed first: " + ", ".join(f"{f['model']} ({f['error']})" for f in self.failed)
        return f"{self.spec.task}: {rendered.facts}\n{line}", result

    def render(self, attempt: Attempt, raw: Any) -> Rendered:
        return render(raw, Context(self.spec, self.args, self.media, self.backend.store))


class HFTaskTool(BaseTool):
    """A LangChain tool for one Hugging Face task, served by the generic call below."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    spec: TaskSpec
    backend: Backend
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"

    def __init__(self, spec: TaskSpec, backend: Backend, **kwargs: Any) -> None:
        super().__init__(
            name=spec.name,
            description=spec.description,
            args_schema=args_schema(spec),
            spec=spec,
            backend=backend,
            **kwargs,
        )

    # ---- the client call, sync and async ----
    def _warm(self, attempt: Attempt) -> None:
        """Do the client's own blocking Hub look-ups (cached by the client) under a deadline."""
        if attempt.model.startswith(("http://", "https://")):
            return
        helper = get_provider_helper(attempt.provider, self.spec.task, attempt.model)  # type: ignore[arg-type]
        with_deadline(lambda: helper._prepare_mapping_info(attempt.model), self.backend.settings.timeout)

    def _client_kwargs(self, attempt: Attempt) -> dict[str, Any]:
        settings = self.backend.settings
        return {"provider": attempt.provider, "token": settings.token(), "timeout": settings.timeout}

    def _call_sync(self, attempt: Attempt, sent: dict[str, Any]) -> Any:
        self._warm(attempt)
        client = InferenceClient(**self._client_kwargs(attempt))
        return getattr(client, self.spec.method)(**sent, model=attempt.model)

    async def _call_async(self, attempt: Attempt, sent: dict[str, Any]) -> Any:
        if self.spec.offload:  # like asyncio.to_thread (context kept), on the pool above
            call = functools.partial(contextvars.copy_context().run, self._call_sync, attempt, sent)
            return await asyncio.get_running_loop().run_in_executor(_OFFLOADED, call)
        await asyncio.to_thread(self._warm, attempt)
        client = await self.backend.async_client(attempt.provider)
        return await getattr(client, self.spec.method)(**sent, model=attempt.model)

    # ---- the loop over attempts ----
    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, TaskResult]:
        call = _Call(self, kwargs)
        try:
            return self._run_attempts(call)
        finally:
            annotate_run(run_manager, call.trace_metadata())

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, TaskResult]:
        call = _Call(self, kwargs)
        try:
            return await self._arun_attempts(call)
        finally:
            annotate_run(run_manager, call.trace_metadata())

    def _run_attempts(self, call: _Call) -> tuple[str, TaskResult]:
        call.prepare()
        try:
            attempts = call.plan(self.backend.catalog.attempts(self.spec.task, call.model))
        except HubUnavailable as error:
            raise ToolException(f"{self.spec.task} could not choose a model: {error}.") from None
        for attempt in attempts:
            retries = 0
            while True:
                try:
                    raw = self._call_sync(attempt, call.client_args())
                    return call.finish(attempt, call.render(attempt, raw))
                except ToolException:
                    raise
                except Exception as error:
                    wait = call.after_failure(attempt, error, retries)
                if wait is None:
                    break
                retries += 1
                time.sleep(wait)
        raise call.exhausted()

    async def _arun_attempts(self, call: _Call) -> tuple[str, TaskResult]:
        await asyncio.to_thread(call.prepare)
        try:
            attempts = call.plan(await self.backend.catalog.aattempts(self.spec.task, call.model))
        except HubUnavailable as error:
            raise ToolException(f"{self.spec.task} could not choose a model: {error}.") from None
        for attempt in attempts:
            retries = 0
            while True:
                try:
                    raw = await self._call_async(attempt, call.client_args())
                    rendered = await asyncio.to_thread(call.render, attempt, raw)
                    return call.finish(attempt, rendered)
                except ToolException:
                    raise
                except Exception as error:
                    wait = call.after_failure(attempt, error, retries)
                if wait is None:
                    break
                retries += 1
                await asyncio.sleep(wait)
        raise call.exhausted()
