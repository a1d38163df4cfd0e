"""The agent graph for the LangGraph CLI and LangGraph Server (`langgraph.json` points here).

The server reads the module-level `graph`, so it is built on import: without keys the import fails
with `MissingSetting`, naming the variable to set. No checkpointer: the server brings its own.
"""

from __future__ import annotations

from langgraph.graph.state import CompiledStateGraph

from hugginggpt.agent.build import build_agent
from hugginggpt.agent.settings import AgentSettings


def make_graph() -> CompiledStateGraph:
    """Build the agent from the environment and `.env`, after checking the keys are there."""
    settings = AgentSettings.from_env()
    settings.require_keys()
    return build_agent(settings)


graph = make_graph()
