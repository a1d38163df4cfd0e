"""HuggingGPT as a LangChain agent: `build_agent()` and the turn runner shared by the CLI and web UI.

The names below are imported on first use, so `hugginggpt --help` does not load the agent stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hugginggpt.agent.build import AGENT_NAME, build_agent, system_prompt
    from hugginggpt.agent.events import (
        AnswerDelta,
        Event,
        ToolFinished,
        ToolStarted,
        TurnDone,
        TurnSummary,
        run_turn,
    )
    from hugginggpt.agent.settings import AgentSettings, MissingSetting
    from hugginggpt.agent.store import ConversationStore, open_store

_WHERE = {
    "AGENT_NAME": "hugginggpt.agent.build",
    "build_agent": "hugginggpt.agent.build",
    "system_prompt": "hugginggpt.agent.build",
    "AnswerDelta": "hugginggpt.agent.events",
    "Event": "hugginggpt.agent.events",
    "ToolFinished": "hugginggpt.agent.events",
    "ToolStarted": "hugginggpt.agent.events",
    "TurnDone": "hugginggpt.agent.events",
    "TurnSummary": "hugginggpt.agent.events",
    "run_turn": "hugginggpt.agent.events",
    "AgentSettings": "hugginggpt.agent.settings",
    "MissingSetting": "hugginggpt.agent.settings",
    "ConversationStore": "hugginggpt.agent.store",
    "open_store": "hugginggpt.agent.store",
}
__all__ = [
    "AGENT_NAME",
    "AgentSettings",
    "AnswerDelta",
    "ConversationStore",
    "Event",
    "MissingSetting",
    "ToolFinished",
    "ToolStarted",
    "TurnDone",
    "TurnSummary",
    "build_agent",
    "open_store",
    "run_turn",
    "system_prompt",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'hugginggpt.agent' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
