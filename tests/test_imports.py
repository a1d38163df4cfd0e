"""The public API is pinned: changing it is a decision, not an accident."""

import pytest

from hugginggpt import agent, tools

# The public names, sorted, packed (the modules list them one a line for Python; this is the pin).
TOOLS_ALL = ["FindModelsTool", "HFSettings", "HFTaskTool", "HuggingFaceToolkit", "PLAN_TOOL", "RunPlanTool",
             "TASKS", "TaskResult", "TaskSpec", "ToolSelectionMiddleware"]  # fmt: skip
AGENT_ALL = ["AGENT_NAME", "AgentSettings", "AnswerDelta", "ConversationStore", "Event", "MissingSetting",
             "ToolFinished", "ToolStarted", "TurnDone", "TurnSummary", "build_agent", "open_store", "run_turn",
             "system_prompt"]  # fmt: skip


def test_tools_all() -> None:
    from langchain_core.tools import BaseTool, BaseToolkit

    assert sorted(tools.__all__) == TOOLS_ALL
    assert issubclass(tools.HuggingFaceToolkit, BaseToolkit)
    assert issubclass(tools.HFTaskTool, BaseTool) and issubclass(tools.FindModelsTool, BaseTool)
    assert all(isinstance(spec, tools.TaskSpec) for spec in tools.TASKS) and len(tools.TASKS) == 28
    assert set(tools.TaskResult.__annotations__) >= {"task", "model", "provider", "files", "failed_attempts"}
    assert tools.HFSettings().provider == "auto"
    assert (
        issubclass(tools.RunPlanTool, BaseTool)
        and tools.RunPlanTool.model_fields["name"].default == tools.PLAN_TOOL
    )
    from langchain.agents.middleware import AgentMiddleware

    assert issubclass(tools.ToolSelectionMiddleware, AgentMiddleware)


def test_agent_all_resolve_lazily_to_their_modules() -> None:
    """`agent`'s names are loaded on first use (a fast `--help`), and are the modules' own objects."""
    import importlib
    import subprocess
    import sys

    assert sorted(agent.__all__) == AGENT_ALL
    homes = {"hugginggpt.agent.build": {"AGENT_NAME", "build_agent", "system_prompt"}, "hugginggpt.agent.settings":
             {"AgentSettings", "MissingSetting"}, "hugginggpt.agent.store": {"ConversationStore", "open_store"}}  # fmt: skip
    for name in agent.__all__:
        home = next((m for m, names in homes.items() if name in names), "hugginggpt.agent.events")
        assert getattr(agent, name) is getattr(importlib.import_module(home), name), name
    code = "import sys; from hugginggpt import agent; print('hugginggpt.agent.build' in sys.modules, 'langchain' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    with pytest.raises(AttributeError, match="no_such_name"):
        agent.no_such_name  # noqa: B018


def test_tools_package_does_not_import_agent() -> None:
    import subprocess
    import sys

    code = "import sys; from hugginggpt import tools; tools.HuggingFaceToolkit; print('hugginggpt.agent' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_module_is_installed_under_hugginggpt_alone() -> None:
    """Issue 23.6: the packages are `hugginggpt.tools`, `.agent`, `.prompts`. Every module of the three
    folders imports under that name, and none imports an old top-level `tools`, `agent` or `prompts`
    (that would load a second copy of a module beside the first)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    # builds the agent on import (needs keys); brings torch in (tests/test_local.py); runs the MCP server
    skip = {
        "hugginggpt.agent.graph",
        "hugginggpt.tools.inference.local.runners",
        "hugginggpt.tools.mcp.__main__",
    }
    code = (
        "import importlib, json, pkgutil, sys, hugginggpt\n"
        "seen = [m.name for m in pkgutil.walk_packages(hugginggpt.__path__, 'hugginggpt.')]\n"
        f"[importlib.import_module(name) for name in seen if name not in {skip!r}]\n"
        "old = [n for n in sys.modules if n.partition('.')[0] in ('tools', 'agent', 'prompts')]\n"
        "print(json.dumps({'seen': seen, 'old': old}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout)
    root = Path(__file__).resolve().parent.parent
    files = [p.relative_to(root) for top in ("tools", "agent", "prompts") for p in (root / top).rglob("*.py")]
    modules = {".".join(("hugginggpt", *p.with_suffix("").parts)).removesuffix(".__init__") for p in files}
    assert set(found["seen"]) == modules and found["old"] == []
