"""Hugging Face inference tasks as LangChain tools: `HuggingFaceToolkit().get_tools()`."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, Field, PrivateAttr

from hugginggpt.tools.inference.backend import Backend
from hugginggpt.tools.inference.models import providers_serving
from hugginggpt.tools.plans.tool import PLAN_TOOL, RunPlanTool, plan_tool
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.tasks.find_models import FindModelsTool
from hugginggpt.tools.tasks.table import TASKS, TaskSpec, get_spec
from hugginggpt.tools.tasks.tool import HFTaskTool, TaskResult


class HuggingFaceToolkit(BaseToolkit):
    """One tool per HF inference task (every served one, or the `tasks` asked for), plus `find_models` and
    `run_plan`.

    A task no provider serves (tabular-regression today) is left out unless asked for by name; then its
    tool says so in one sentence, or runs on an Inference Endpoint URL passed as `model`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tasks: list[str] | None = Field(
        default=None, description="Task names to include; None means every task some provider serves."
    )
    settings: HFSettings | None = Field(default=None, description="Defaults to HFSettings.from_env().")
    include_find_models: bool = True
    include_run_plan: bool = True
    include_foreign: bool = Field(
        default=True, description="Add the tools of the MCP servers in HUGGINGGPT_MCP_SERVERS (if set)."
    )
    _backend: Backend | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        for task in self.tasks or []:
            get_spec(task)  # unknown names fail here, with the list of known ones

    @property
    def backend(self) -> Backend:
        """Shared settings, artifact store and model catalog (made on first use)."""
        if self._backend is None:
            self._backend = Backend(self.settings or HFSettings.from_env())
        return self._backend

    def close(self) -> None:
        """Let go of what the tools share: worker pools, loaded local models, MCP servers (`Backend.close`)."""
        if self._backend is not None:
            self._backend.close()

    async def aclose(self) -> None:
        """`close`, and close the HTTP clients this event loop opened."""
        if self._backend is not None:
            await self._backend.aclose()

    def specs(self) -> list[TaskSpec]:
        """The tasks asked for, or every task an inference provider can serve (no tool that cannot run)."""
        if self.tasks:
            return [get_spec(t) for t in self.tasks]
        return [spec for spec in TASKS if providers_serving(spec.task)]

    def get_tools(self) -> list[BaseTool]:
        """The task tools, the tools of other MCP servers (`HUGGINGGPT_MCP_SERVERS`: started here, once per
        toolkit, stopped by `close`), then `find_models` and `run_plan` (a task graph of those tools in one call)."""
        tasks: list[BaseTool] = [HFTaskTool(spec, self.backend) for spec in self.specs()]
        own = {t.name for t in tasks} | {"find_models", PLAN_TOOL}
        if self.include_foreign and self.backend.settings.mcp_client.mcp_servers is not None:
            from hugginggpt.tools.mcp_client.servers import foreign_tools  # the mcp client loads only then

            tasks += foreign_tools(self.backend.settings, self.backend.store, self.backend.sessions, own)
        tools = list(tasks)
        if self.include_find_models:
            tools.append(FindModelsTool(backend=self.backend))
        if self.include_run_plan:
            tools.append(plan_tool(tasks, self.backend.settings))
        return tools


__all__ = [
    "PLAN_TOOL",
    "TASKS",
    "FindModelsTool",
    "HFSettings",
    "HFTaskTool",
    "HuggingFaceToolkit",
    "RunPlanTool",
    "TaskResult",
    "TaskSpec",
    "ToolSelectionMiddleware",
]


def __getattr__(name: str) -> Any:
    """`ToolSelectionMiddleware` (tools/selection/), imported on first use: it loads langchain's agents."""
    if name == "ToolSelectionMiddleware":
        from hugginggpt.tools.selection import ToolSelectionMiddleware

        return ToolSelectionMiddleware
    raise AttributeError(f"module 'hugginggpt.tools' has no attribute {name!r}")
