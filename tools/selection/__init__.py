"""Tool selection: offer the model the tools a request needs (`ToolSelectionMiddleware`, `choose`)."""

from hugginggpt.tools.selection.choose import Choice, choose, request_kinds
from hugginggpt.tools.selection.load import LOAD_TOOL, LoadToolsTool
from hugginggpt.tools.selection.middleware import ToolSelectionMiddleware, select

__all__ = [
    "LOAD_TOOL",
    "Choice",
    "LoadToolsTool",
    "ToolSelectionMiddleware",
    "choose",
    "request_kinds",
    "select",
]
