"""Attach what a tool call did (model served, failures, files) to its trace run, and what a turn cost to
the turn's."""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.tracers.base import BaseTracer

logger = logging.getLogger(__name__)


def run_tags(metadata: dict[str, Any]) -> list[str]:
    """Tags to filter tool runs by: the task, and whether a fallback was needed."""
    tags = [f"hf-task:{metadata['task']}"] if metadata.get("task") else []
    if metadata.get("failed_models"):
        tags.append("hf-fallback")
    return tags


def annotate_run(run_manager: Any, metadata: dict[str, Any]) -> None:
    """Add `metadata` (and tags) to the tool's traced run, if tracing is on. Never raises.

    The run is the one each tracer (LangSmith's `LangChainTracer` included) keeps for this tool call;
    it is sent when the call ends, so what is added here travels with it.
    """
    if run_manager is not None:
        _annotate(run_manager.handlers, run_manager.run_id, metadata, run_tags(metadata))


def annotate_parent_run(callbacks: Any, metadata: dict[str, Any]) -> None:
    """Add `metadata` to the traced run that `callbacks` (a callback manager) makes children of: inside a
    graph's node, the graph's run. Never raises."""
    run_id = getattr(callbacks, "parent_run_id", None)
    if run_id is not None:
        _annotate(getattr(callbacks, "handlers", []), run_id, metadata, [])


def _annotate(handlers: list[Any], run_id: Any, metadata: dict[str, Any], tags: list[str]) -> None:
    try:
        for handler in handlers:
            run = handler.run_map.get(str(run_id)) if isinstance(handler, BaseTracer) else None
            if run is not None:
                run.add_metadata(metadata)
                run.add_tags([t for t in tags if t not in (run.tags or [])])
    except Exception:  # tracing must never break a run
        logger.debug("could not annotate the traced run", exc_info=True)
