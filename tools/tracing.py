"""Attach what a tool call did (model served, failures, files) to its trace run."""

from __future__ import annotations

from typing import Any


def annotate_run(run_manager: Any, metadata: dict[str, Any]) -> None:
    """Add `metadata` to the tool's traced run, if tracing is on. Never raises."""
    return None
