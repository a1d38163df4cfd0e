"""The MCP reference server, `@modelcontextprotocol/server-everything`, as the tests start it: installed by
`make test` into the git-ignored `.mcp-servers/` (npm). In CI (`CI=true`) a missing install fails the tests that
need it; elsewhere they are skipped, saying how to install it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
VERSION = "2026.8.31"
PACKAGE = ROOT / ".mcp-servers/node_modules/@modelcontextprotocol/server-everything"
INSTALL = f"npm install --prefix .mcp-servers @modelcontextprotocol/server-everything@{VERSION}"


def everything_script() -> Path:
    """The server's entry point; fails (CI) or skips (elsewhere) the test when it is not installed."""
    script = PACKAGE / "dist/index.js"
    if not script.is_file():
        reason = f"the MCP reference server is not installed (run `{INSTALL}`, as .ci/run does)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    return script


def everything(**env: str) -> dict[str, Any]:
    """Its `mcpServers` entry over stdio (`env` is passed to it; tests make each server theirs with it)."""
    return {"command": "node", "args": [str(everything_script()), "stdio"], "env": env}


def servers_file(folder: Path, servers: dict[str, Any]) -> Path:
    path = folder / "mcp_servers.json"
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


STUBBORN = """
import asyncio, signal, time
from hugginggpt.tools import HuggingFaceToolkit
from hugginggpt.tools.mcp import build_server
from hugginggpt.tools.mcp.transports import serve_stdio
signal.signal(signal.SIGHUP, signal.SIG_IGN)
asyncio.run(serve_stdio(build_server(HuggingFaceToolkit(tasks=["image_to_text"], include_foreign=False))))
time.sleep(300)  # its client hung up: it stays until stopped (SIGTERM), as a careless server would
"""


def stubborn(**env: str) -> dict[str, Any]:
    """A stdio server (this project's, one task) that does not exit when its stdin closes: only a client
    that stops it (the SDK's SIGTERM) ends it before it gives up 300 s later."""
    return {"command": sys.executable, "args": ["-c", STUBBORN], "env": {"PYTHONPATH": str(ROOT), **env}}
