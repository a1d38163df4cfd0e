"""The one retry of a whole tool call: langchain's `ToolRetryMiddleware` with the toolkit's budget.

A call whose failures were all passing (cold, busy, timeout: `TransientToolError`) is made again up to
`HUGGINGGPT_TOOL_RETRIES` times, `HUGGINGGPT_RETRY_DELAY` apart (doubling). The agent runs it as its tool
middleware; `run_plan` runs each step's call through the same middleware (tools/plans/run.py), so a step
is retried exactly as a direct call, also outside the agent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hugginggpt.tools.inference.errors import TransientToolError
from hugginggpt.tools.settings import HFSettings

if TYPE_CHECKING:
    from langchain.agents.middleware import ToolRetryMiddleware


def tool_retry(settings: HFSettings) -> ToolRetryMiddleware:
    """The retry of a whole tool call, as the settings budget it."""
    from langchain.agents.middleware import ToolRetryMiddleware  # imported when first used: start-up time

    return ToolRetryMiddleware(
        max_retries=settings.tool_retries,
        retry_on=(TransientToolError,),
        on_failure="error",
        initial_delay=settings.retry_delay,
    )
