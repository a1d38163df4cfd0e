"""The public API is pinned: changing it is a decision, not an accident."""

import agent
import tools

TOOLS_ALL = [
    "TASKS",
    "FindModelsTool",
    "HFSettings",
    "HFTaskTool",
    "HuggingFaceToolkit",
    "TaskResult",
    "TaskSpec",
]
AGENT_ALL = [
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


def test_tools_all() -> None:
    assert sorted(tools.__all__) == sorted(TOOLS_ALL)
    for name in tools.__all__:
        assert getattr(tools, name) is not None


def test_agent_all() -> None:
    assert sorted(agent.__all__) == sorted(AGENT_ALL)
    for name in agent.__all__:
        assert getattr(agent, name) is not None


def test_tools_package_does_not_import_agent() -> None:
    import subprocess
    import sys

    code = "import sys, tools; tools.HuggingFaceToolkit; print('agent' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
