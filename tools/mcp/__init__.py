"""The toolkit served over the Model Context Protocol: `python -m hugginggpt.tools.mcp` or `hugginggpt-mcp`.

`build_server()` gives the MCP server for a toolkit (every tool it offers, listed generically); the
transports (stdio, streamable HTTP with its checks) are in `hugginggpt.tools.mcp.transports`.
"""

from __future__ import annotations

from typing import Any

from mcp.server import Server

from hugginggpt.tools import HuggingFaceToolkit
from hugginggpt.tools.mcp.server import ToolServer


def build_server(toolkit: HuggingFaceToolkit | None = None) -> Server[Any]:
    """An MCP server offering every tool of `toolkit` (default: all tasks and find_models)."""
    toolkit = toolkit or HuggingFaceToolkit()
    backend = toolkit.backend
    return ToolServer(toolkit.get_tools(), backend.settings, backend.store).server()


__all__ = ["ToolServer", "build_server"]
