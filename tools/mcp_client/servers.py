"""The configured servers' tools: each server started and listed once per toolkit (on its `Sessions`), the
failing ones left out with a warning."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

import mcp_types as types
from langchain_core.tools import BaseTool

from hugginggpt.tools.files.artifacts import ArtifactStore
from hugginggpt.tools.mcp_client.config import ServerEntry, load_servers
from hugginggpt.tools.mcp_client.sessions import Sessions
from hugginggpt.tools.mcp_client.tool import MCPTool, input_schema, tool_name
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.text import quoted, shorten

log = logging.getLogger(__name__)


def _reason(error: BaseException, timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return f"it did not answer within {timeout:g} s (HUGGINGGPT_MCP_CALL_TIMEOUT)"
    if isinstance(error, OSError) and error.strerror:
        return f"it could not be started ({error.strerror})"
    return shorten(f"{type(error).__name__}: {error}", 200)


async def _list(
    sessions: Sessions, entries: list[ServerEntry], timeout: float
) -> list[list[types.Tool] | BaseException]:
    listing = (sessions.connection(e).list_tools(timeout) for e in entries)
    return await asyncio.gather(*listing, return_exceptions=True)


def listed_tools(
    sessions: Sessions, entries: list[ServerEntry], timeout: float
) -> dict[str, list[types.Tool]]:
    """Each server's tools (started and listed at once, the first time on `sessions`); a server that fails
    to start or to list is left out with one warning naming it."""
    listed = sessions.listed
    missing = [e for e in entries if e.key() not in listed]
    if missing:
        results = sessions.run_sync(_list(sessions, missing, timeout), timeout + 15)
        for entry, result in zip(missing, results, strict=True):
            if isinstance(result, BaseException):
                log.warning(
                    "MCP server %s is left out: %s.", quoted(entry.name, 40), _reason(result, timeout)
                )
            else:
                listed[entry.key()] = result
    return {e.name: listed[e.key()] for e in entries if e.key() in listed}


def foreign_tools(
    settings: HFSettings, store: ArtifactStore, sessions: Sessions, reserved: Collection[str]
) -> list[BaseTool]:
    """The tools of every server in `settings.mcp_client.mcp_servers`, on `sessions` (their owner's), named
    `<server>__<tool>`, never one of `reserved` (the project's own tools); `ServersConfigError` for an
    unusable file."""
    if settings.mcp_client.mcp_servers is None:
        return []
    entries = load_servers(settings.mcp_client.mcp_servers)
    by_server = listed_tools(sessions, entries, settings.mcp_client.mcp_call_timeout)
    taken, made = set(reserved), list[BaseTool]()
    for entry in entries:
        for tool in by_server.get(entry.name, []):
            schema = input_schema(tool)
            if schema is None:
                log.warning("MCP tool %s of %s is left out: its input schema is too large.",
                            quoted(tool.name, 60), quoted(entry.name, 40))  # fmt: skip
                continue
            name = tool_name(entry, tool.name, taken)
            made.append(MCPTool.of(entry, tool, schema, name, store, settings, sessions))
    return made
