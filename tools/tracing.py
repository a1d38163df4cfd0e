"""Attach what a tool call did (model served, failures, files) to its trace run."""

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
    if run_manager is None:
        return
    try:
        for handler in run_manager.handlers:
            held = getattr(handler, "annotate_run", None)  # traces held for a plan (tools/plans/held.py)
            if callable(held):
                held(run_manager.run_id, metadata)
            else:
                annotate_tracer(handler, run_manager.run_id, metadata)
    except Exception:  # tracing must never break a tool call
        logger.debug("could not annotate the tool run", exc_info=True)


def annotate_tracer(handler: Any, run_id: Any, metadata: dict[str, Any]) -> None:
    """Add `metadata` (and tags) to the run `handler` keeps for `run_id`, if it is a tracer keeping it."""
    run = handler.run_map.get(str(run_id)) if isinstance(handler, BaseTracer) else None
    if run is not None:
        run.add_metadata(metadata)
        run.add_tags([t for t in run_tags(metadata) if t not in (run.tags or [])])
