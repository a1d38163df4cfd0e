"""HuggingGPT as a LangChain agent: `build_agent()` and the turn runner shared by the CLI and web UI.

The names below are imported on first use, so `hugginggpt --help` does not load the agent stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.build import AGENT_NAME, build_agent, system_prompt
    from agent.events import (
        AnswerDelta,
        Event,
        ToolFinished,
        ToolStarted,
        TurnDone,
        TurnSummary,
        run_turn,
    )
    from agent.settings import AgentSettings, MissingSetting
    from agent.store import ConversationStore, open_store

_WHERE = {
    "AGENT_NAME": "agent.build",
    "build_agent": "agent.build",
    "system_prompt": "agent.build",
    "AnswerDelta": "agent.events",
    "Event": "agent.events",
    "ToolFinished": "agent.events",
    "ToolStarted": "agent.events",
    "TurnDone": "agent.events",
    "TurnSummary": "agent.events",
    "run_turn": "agent.events",
    "AgentSettings": "agent.settings",
    "MissingSetting": "agent.settings",
    "ConversationStore": "agent.store",
    "open_store": "agent.store",
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
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
