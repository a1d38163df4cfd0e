"""`HUGGINGGPT_MCP_SERVERS`: the `{"mcpServers": {...}}` file MCP clients share, read into server entries.

Each entry is stdio (`command`, `args`, `env`, `cwd`) or streamable HTTP (`url`, `headers`). A server's name
becomes the prefix of its tools' names: lower-cased, runs of other characters as `_`, unique among servers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hugginggpt.tools.text import quoted

SEPARATOR = "__"  # between a server's prefix and its tool's name; the project's own tools never have it
MAX_PREFIX = 24


class ServersConfigError(ValueError):
    """The servers file cannot be used; the message is one sentence naming the file and the fault."""


@dataclass(frozen=True)
class ServerEntry:
    """One MCP server of the file: how to reach it, and the prefix of its tools."""

    name: str
    prefix: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"

    def key(self) -> str:
        """What makes two entries the same server (one connection per process each)."""
        return json.dumps([self.command, self.args, sorted(self.env.items()), self.cwd, self.url,
                           sorted(self.headers.items())])  # fmt: skip


def sanitise(name: str, limit: int) -> str:
    """`My Space!` -> `my_space`: letters, digits and single `_`, at most `limit` characters."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:limit].strip("_")
    return cleaned or "server"


def _strings(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"its {what} must be an object of strings")
    return {str(k): v for k, v in value.items()}


def _entry(name: str, raw: Any, prefix: str) -> ServerEntry:
    if not isinstance(raw, dict):
        raise ValueError("it must be an object with a command or a url")
    command, url = raw.get("command"), raw.get("url")
    if bool(command) == bool(url):
        raise ValueError("it needs exactly one of command (stdio) or url (streamable HTTP)")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise ValueError("its url must be an http(s) URL")
    if command is not None and not isinstance(command, str):
        raise ValueError("its command must be a string")
    args = raw.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError("its args must be a list of strings")
    cwd = raw.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise ValueError("its cwd must be a string")
    return ServerEntry(
        name=name, prefix=prefix, command=command, args=tuple(args), env=_strings(raw.get("env"), "env"),
        cwd=cwd, url=url, headers=_strings(raw.get("headers"), "headers"),
    )  # fmt: skip


def load_servers(path: Path) -> list[ServerEntry]:
    """The servers of the file at `path`, in file order; `ServersConfigError` (one sentence) if unusable."""
    where = quoted(str(path))
    try:
        document = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as error:
        raise ServersConfigError(
            f"HUGGINGGPT_MCP_SERVERS names {where}, which cannot be read ({error.strerror or error})."
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ServersConfigError(f"HUGGINGGPT_MCP_SERVERS: {where} is not valid JSON ({error}).") from None
    servers = document.get("mcpServers") if isinstance(document, dict) else None
    if not isinstance(servers, dict):
        raise ServersConfigError(
            f'HUGGINGGPT_MCP_SERVERS: {where} has no "mcpServers" object (the format MCP clients share).'
        )
    entries: list[ServerEntry] = []
    taken: set[str] = set()
    for name, raw in servers.items():
        prefix, n = sanitise(name, MAX_PREFIX), 2
        while prefix in taken:
            prefix, n = f"{sanitise(name, MAX_PREFIX - 3)}_{n}", n + 1
        taken.add(prefix)
        try:
            entries.append(_entry(str(name), raw, prefix))
        except ValueError as error:
            raise ServersConfigError(
                f"HUGGINGGPT_MCP_SERVERS: server {quoted(str(name), 40)} in {where} is unusable: {error}."
            ) from None
    return entries
