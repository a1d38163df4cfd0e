"""A tool of another MCP server as a LangChain tool: its name prefixed with the server's, its description
(bounded) and its JSON schema as the model sees them; a call goes to the server's session (on the
`Sessions` of the toolkit that made the tool) and comes back as a task tool's result (text, files of the
turn, data)."""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import time
from typing import Any, ClassVar, Literal

import mcp_types as types
from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool
from mcp import MCPError
from pydantic import ConfigDict, Field

from hugginggpt.tools.files.artifacts import ArtifactStore
from hugginggpt.tools.inference.errors import InputRefused, TaskError
from hugginggpt.tools.mcp_client.config import SEPARATOR, ServerEntry, sanitise
from hugginggpt.tools.mcp_client.results import ResultRefused, convert, summary
from hugginggpt.tools.mcp_client.sessions import Progress, ServerGone, Sessions
from hugginggpt.tools.plans.tool import PROGRESS_EVENT, stream_writer
from hugginggpt.tools.settings import HFSettings
from hugginggpt.tools.text import quoted, shorten
from hugginggpt.tools.tracing import annotate_run

MAX_DESCRIPTION = 1024  # characters of a foreign tool's description
MAX_SCHEMA = 16000  # characters of a foreign tool's input schema (JSON); larger ones are left out
MAX_NAME = 64  # what OpenAI accepts for a function name
CALL_ID = "__tool_call_id__"  # where the tool call's id travels to `_arun` (progress events name it)
FILE_FORMATS = frozenset({"uri", "uri-reference", "iri", "data-url"})


def tool_name(entry: ServerEntry, remote: str, taken: set[str]) -> str:
    """`<server prefix>__<tool>`, sanitised, at most 64 characters, not in `taken` (which it joins)."""
    base = f"{entry.prefix}{SEPARATOR}{sanitise(remote, MAX_NAME - len(entry.prefix) - len(SEPARATOR) - 3)}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def input_schema(tool: types.Tool) -> dict[str, Any] | None:
    """The tool's argument schema as sent to the model, or None when it is too large to offer."""
    schema = {k: v for k, v in tool.input_schema.items() if k != "$schema"}
    schema["type"] = "object"
    schema.setdefault("properties", {})
    return schema if len(json.dumps(schema)) <= MAX_SCHEMA else None


def file_arguments(schema: dict[str, Any]) -> dict[str, str]:
    """Arguments that take a file's content, by how: "uri" (a data: URI) or "base64"."""
    found: dict[str, str] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict) or prop.get("type") not in ("string", None):
            continue
        if prop.get("contentEncoding") == "base64":
            found[name] = "base64"
        elif prop.get("format") in FILE_FORMATS or prop.get("contentMediaType"):
            found[name] = "uri"
    return found


class MCPTool(BaseTool):
    """One tool of a configured MCP server."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    foreign: ClassVar[bool] = True  # run_plan takes it as a step

    entry: ServerEntry
    remote_name: str
    store: ArtifactStore
    settings: HFSettings
    sessions: Sessions  # the toolkit's, which owns the server's session
    file_args: dict[str, str] = Field(default_factory=dict)
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"

    @classmethod
    def of(cls, entry: ServerEntry, tool: types.Tool, schema: dict[str, Any], name: str,
           store: ArtifactStore, settings: HFSettings, sessions: Sessions) -> MCPTool:  # fmt: skip
        said = " ".join((tool.description or tool.title or "").split())
        description = shorten(f"[{entry.name} MCP server, tool {tool.name}] {said}", MAX_DESCRIPTION)
        return cls(name=name, description=description, args_schema=schema, entry=entry, remote_name=tool.name,
                   store=store, settings=settings, sessions=sessions, file_args=file_arguments(schema))  # fmt: skip

    def _arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments as sent: a local file given for a file argument becomes its content, checked by
        the input policy (allowed folders, size, a known media type); URLs and other values pass."""
        sent = dict(kwargs)
        for name, how in self.file_args.items():
            value = sent.get(name)
            if not isinstance(value, str) or ":" in value.split("/", 1)[0]:
                continue  # not a path: a URL, a data: URI, or nothing
            try:
                media = self.store.load_file(value)
            except InputRefused as error:
                raise TaskError(f"{self.name} refused its input: {error}.") from None
            encoded = base64.b64encode(bytes(media.data)).decode("ascii")
            sent[name] = encoded if how == "base64" else f"data:{media.data.mime_type};base64,{encoded}"
        return sent

    async def _call(self, kwargs: dict[str, Any], progress: Progress | None) -> tuple[str, dict[str, Any]]:
        started = time.monotonic()
        arguments = await asyncio.to_thread(self._arguments, kwargs)
        timeout = self.settings.mcp_client.mcp_call_timeout
        server = quoted(self.entry.name, 40)
        try:
            result = await self.sessions.run(
                self.sessions.connection(self.entry).call(self.remote_name, arguments, timeout, progress)
            )
        except TimeoutError:
            raise TaskError(
                f"{self.name} timed out after {timeout:g} s (HUGGINGGPT_MCP_CALL_TIMEOUT)."
            ) from None
        except ServerGone as error:
            raise TaskError(
                f"{self.name} failed: the MCP server {server} stopped during the call"
                f" ({shorten(str(error), 160)}); it is started again on the next call."
            ) from None
        except MCPError as error:
            raise TaskError(
                f"{self.name} failed: the MCP server {server} said {quoted(str(error), 300)}."
            ) from None
        except OSError as error:
            raise TaskError(
                f"{self.name} failed: the MCP server {server} could not be started ({error.strerror or error})."
            ) from None
        except Exception as error:  # a handshake or transport failure: still one sentence, never a crash
            raise TaskError(
                f"{self.name} failed: the MCP server {server} could not be reached"
                f" ({shorten(f'{type(error).__name__}: {error}', 200)})."
            ) from None
        try:
            converted = await asyncio.to_thread(convert, result, self.name, self.store)
        except ResultRefused as error:
            raise TaskError(f"{error}.") from None
        artifact = {
            "task": self.name, "model": self.remote_name, "provider": f"mcp:{self.entry.name}",
            "seconds": round(time.monotonic() - started, 3), "files": converted.files,
            "data": {"text": converted.text, "structured": result.structured_content, "links": converted.links},
            "failed_attempts": [],
        }  # fmt: skip
        if result.is_error:
            failed = TaskError(f"{self.name} failed: {converted.text or 'the server gave no reason'}")
            failed.artifact = artifact
            raise failed
        return summary(self.name, converted), artifact

    def _to_args_and_kwargs(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args, kwargs = super()._to_args_and_kwargs(tool_input, tool_call_id)
        return args, {**kwargs, CALL_ID: tool_call_id}

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, dict[str, Any]]:
        write, caller, context = stream_writer(), asyncio.get_running_loop(), contextvars.copy_context()
        call_id = kwargs.pop(CALL_ID, None)

        async def report(progress: float, total: float | None, message: str | None) -> None:
            event = {"id": call_id, "name": self.name, "progress": progress, "total": total,
                     "message": shorten(message or "", 200)}  # fmt: skip
            caller.call_soon_threadsafe(write, {PROGRESS_EVENT: event}, context=context)

        try:
            return await self._call(kwargs, report)
        finally:
            annotate_run(run_manager, {"mcp_server": self.entry.name, "mcp_tool": self.remote_name})

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> tuple[str, dict[str, Any]]:
        kwargs.pop(CALL_ID, None)
        try:
            return self.sessions.run_sync(self._call(kwargs, None))
        finally:
            annotate_run(run_manager, {"mcp_server": self.entry.name, "mcp_tool": self.remote_name})
