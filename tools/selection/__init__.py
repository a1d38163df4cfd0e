"""Tool selection: offer the model the tools a request needs (`ToolSelectionMiddleware`, `choose`)."""

from tools.selection.choose import Choice, choose, request_kinds
from tools.selection.load import LOAD_TOOL, LoadToolsTool
from tools.selection.middleware import ToolSelectionMiddleware, select

__all__ = [
    "LOAD_TOOL",
    "Choice",
    "LoadToolsTool",
    "ToolSelectionMiddleware",
    "choose",
    "request_kinds",
    "select",
]
