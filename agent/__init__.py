"""HuggingGPT as a LangChain agent: `build_agent()` and the turn runner shared by the CLI and web UI."""

from agent.build import AGENT_NAME, build_agent, system_prompt
from agent.events import AnswerDelta, Event, ToolFinished, ToolStarted, TurnDone, TurnSummary, run_turn
from agent.settings import AgentSettings, MissingSetting

__all__ = [
    "AGENT_NAME",
    "AgentSettings",
    "AnswerDelta",
    "Event",
    "MissingSetting",
    "ToolFinished",
    "ToolStarted",
    "TurnDone",
    "TurnSummary",
    "build_agent",
    "run_turn",
    "system_prompt",
]
