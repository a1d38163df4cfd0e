"""One generic tool for every HF task: check inputs -> plan attempts -> call -> save outputs -> summarise."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool, ToolException
from pydantic import ConfigDict
from typing_extensions import TypedDict  # pydantic reads it on Python 3.11 (MCP output schema)

from hugginggpt.tools.files.artifacts import FileArtifact, MediaInput
from hugginggpt.tools.files.media import MediaKind
from hugginggpt.tools.inference.attempts import AttemptPlan, FailedAttempt, run_async, run_sync
from hugginggpt.tools.inference.backend import Backend
from hugginggpt.tools.inference.errors import InputRefused
from hugginggpt.tools.inference.models import Attempt, HubUnavailable, check_endpoint_url
from hugginggpt.tools.inference.usage import RequestCounter, counters
from hugginggpt.tools.tasks.outputs import Context, Rendered, render
from hugginggpt.tools.tasks.schema import args_schema
from hugginggpt.tools.tasks.table import TaskSpec
from hugginggpt.tools.tracing import annotate_run


class TaskResult(TypedDict):
    """The artifact of a task tool: typed metadata, never bytes."""

    task: str
    model: str
    provider: str
    seconds: float
    files: list[FileArtifact]
    data: dict[str, Any]
    failed_attempts: list[FailedAttempt]


def media_args(tool: BaseTool) -> Mapping[str, MediaKind]:
    """The tool's arguments that take a media file, with their kind (none for a tool without a task spec,
    such as another MCP server's)."""
    spec = getattr(tool, "spec", None)
    return spec.media_args if isinstance(spec, TaskSpec) else {}


class TaskCall:
    """One call of a task tool: its checked inputs, its attempt plan, its result."""

    def __init__(
        self, spec: TaskSpec, backend: Backend, kwargs: dict[str, Any], counters: list[RequestCounter]
    ) -> None:
        self.spec = spec
        self.backend = backend
        self.model: str | None = kwargs.pop("model", None)
        self.args = {k: v for k, v in kwargs.items() if v is not None}
        self.media: dict[str, MediaInput] = {}
        self.started = time.monotonic()
        self.counters = counters
        self.plan = AttemptPlan(spec.task, [], backend.settings)
        self.result: TaskResult | None = None

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

    def choose(self) -> AttemptPlan:
        """The models to try, from the catalog; refuses when nobody serves the task (or the named model)."""
        try:
            attempts = self.backend.catalog.attempts(self.spec.task, self.model)
        except HubUnavailable as error:
            raise ToolException(f"{self.spec.task} could not choose a model: {error}.") from None
        if not attempts and self.model:
            raise ToolException(
                f"{self.spec.task} cannot use {self.model}: no inference provider serves it for this task now"
                " (check the id, or call find_models for served ones)."
            )
        if not attempts:
            raise ToolException(
                f"{self.spec.task} is not served by any inference provider today, so it cannot run here"
                " (a dedicated Inference Endpoint URL can be passed as `model`)."
            )
        later = self.backend.catalog.later_attempts(self.spec.task, self.model)
        self.plan = AttemptPlan(
            self.spec.task, attempts, self.backend.settings, more=later, counters=self.counters
        )
        return self.plan

    def client_args(self) -> dict[str, Any]:
        sent = {**self.args, **self.spec.fixed}
        sent.update({name: item.data for name, item in self.media.items()})
        return sent

    def render(self, raw: Any) -> Rendered:
        return render(raw, Context(self.spec, self.args, self.media, self.backend.store))

    def finish(self, attempt: Attempt, rendered: Rendered) -> tuple[str, TaskResult]:
        seconds = round(time.monotonic() - self.started, 3)
        failed = self.plan.failed
        self.result = TaskResult(
            task=self.spec.task, model=attempt.model, provider=attempt.provider, seconds=seconds,
            files=rendered.files, data=rendered.data, failed_attempts=failed,
        )  # fmt: skip
        line = f"Model: {attempt.model} via {attempt.provider} ({seconds:.1f} s)"
        if failed:
            line += "; failed first: " + ", ".join(f"{f['model']} ({f['error']})" for f in failed)
        return f"{self.spec.task}: {rendered.facts}\n{line}", self.result

    def trace_metadata(self) -> dict[str, Any]:
        """What a trace of this call should carry: who served, who failed, what was made."""
        meta: dict[str, Any] = {
            "task": self.spec.task,
            "failed_models": [f["model"] for f in self.plan.failed],
        }
        if self.result:
            meta.update(model=self.result["model"], provider=self.result["provider"],
                        seconds=self.result["seconds"], files=[f["path"] for f in self.result["files"]],
                        mime_types=[f["mime_type"] for f in self.result["files"]])  # fmt: skip
        else:
            meta["seconds"] = round(time.monotonic() - self.started, 3)
        return meta

    # ---- one attempt, sync and async ----
    def attempt(self, attempt: Attempt) -> tuple[str, TaskResult]:
        raw = self.backend.runner(attempt).call(self.spec, attempt, self.client_args())
        return self.finish(attempt, self.render(raw))

    async def aattempt(self, attempt: Attempt) -> tuple[str, TaskResult]:
        raw = await self.backend.runner(attempt).acall(self.spec, attempt, self.client_args())
        return self.finish(attempt, await asyncio.to_thread(self.render, raw))


class HFTaskTool(BaseTool):
    """A LangChain tool for one Hugging Face task, served by the generic call above."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    spec: TaskSpec
    backend: Backend
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"

    def __init__(self, spec: TaskSpec, backend: Backend, **kwargs: Any) -> None:
        super().__init__(
            name=spec.name,
            description=spec.summary,
            args_schema=args_schema(spec),
            spec=spec,
            backend=backend,
            **kwargs,
        )

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, TaskResult]:
        call = TaskCall(self.spec, self.backend, kwargs, counters(run_manager))
        try:
            call.prepare()
            return run_sync(call.choose(), call.attempt)
        finally:
            annotate_run(run_manager, call.trace_metadata())

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, TaskResult]:
        call = TaskCall(self.spec, self.backend, kwargs, counters(run_manager))
        try:
            await asyncio.to_thread(call.prepare)
            return await run_async(await asyncio.to_thread(call.choose), call.aattempt)
        finally:
            annotate_run(run_manager, call.trace_metadata())
