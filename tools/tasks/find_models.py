"""The `find_models` tool: which models are served for a task right now."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, Field

from hugginggpt.tools.inference.backend import Backend
from hugginggpt.tools.inference.models import LOCAL, HubUnavailable
from hugginggpt.tools.tasks.table import get_spec


class FindModelsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: str = Field(description="HF task, e.g. 'text-to-image' or 'text_to_image'.", min_length=2,
                      max_length=60)  # fmt: skip
    need: str | None = Field(None, description="Optional wish in words, e.g. 'anime style'.", max_length=200)
    limit: int = Field(5, description="How many models to list.", ge=1, le=20)


class FindModelsTool(BaseTool):
    """Lists served models for a task: id, likes, downloads, live providers, a one-line description."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = "find_models"
    description: str = (
        "List models served now for an HF task (id, likes, providers). Use when the user wants a "
        "kind of model or a default failed; pass the chosen id as `model`."
    )
    args_schema: type[BaseModel] = FindModelsInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    backend: Backend

    def _run(
        self,
        task: str,
        need: str | None = None,
        limit: int = 5,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str, dict[str, Any]]:
        try:
            key = get_spec(task).task
        except KeyError as error:
            raise ToolException(f"find_models: {error.args[0]}.") from None
        try:
            found = self.backend.catalog.candidates(key, need=need, limit=limit)
        except HubUnavailable as error:
            raise ToolException(f"find_models could not search the Hub for {key}: {error}.") from None
        models = [c.as_dict() for c in found]
        if not models:
            nothing = (f"No local model is set for {key} (HUGGINGGPT_LOCAL_MODELS), and HUGGINGGPT_BACKEND=local "
                       "asks Hugging Face nothing." if self.backend.settings.local.backend == "local"
                       else f"No model is served for {key} by any inference provider right now.")  # fmt: skip
            return nothing, {"task": key, "models": []}
        lines = [
            f"{m['id']} — {m['description']}"
            if m["providers"] == [LOCAL]
            else f"{m['id']} — {m['likes']} likes, {m['downloads']} downloads, {m['description']}"
            for m in models
        ]
        return f"Models served for {key}, best first:\n" + "\n".join(lines), {"task": key, "models": models}

    async def _arun(self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._run, **kwargs)
