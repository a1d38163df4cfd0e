"""The MCP reference server, `@modelcontextprotocol/server-everything`, as the tests start it: installed by
`make test` into the git-ignored `.mcp-servers/` (npm). In CI (`CI=true`) a missing install fails the tests that
need it; elsewhere they are skipped, saying how to install it."""

from __future__ import annotations

import json
import os
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
