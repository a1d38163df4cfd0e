"""A tool's outcome as an MCP tool result: the tool's text, each made image or audio inline (up to a
size cap), a `resource_link` to every made file, and the typed artifact as `structuredContent`."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mcp_types as types
from langchain_core.messages import ToolMessage

from hugginggpt.tools.files.artifacts import FileArtifact
from hugginggpt.tools.plans.results import PlanResult, files_of
from hugginggpt.tools.redaction import Redactor


def message_text(content: Any) -> str:
    """A ToolMessage's content as plain text (tools return a string; content blocks are joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            message_text(part.get("text", "") if isinstance(part, dict) else part) for part in content
        )
    return json.dumps(content, default=str)


def file_blocks(
    file: Mapping[str, Any], inline_limit: int, uri: str | None = None
) -> list[types.ContentBlock]:
    """An image/audio block for a file small enough to inline, and always a link to it (its `file:` URI,
    or `uri` where a server hands the file out)."""
    path = Path(file["path"]).resolve()  # tools show paths relative to the current folder
    mime = file["mime_type"]
    size = path.stat().st_size if path.is_file() else None
    link = types.ResourceLink(uri=uri or path.as_uri(), name=path.name, mime_type=mime, size=size)
    major = mime.split("/")[0]
    if major not in ("image", "audio") or size is None or size > inline_limit:
        return [link]  # MCP has no video block; big (or since removed) files only linked
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    inline: types.ContentBlock = (
        types.ImageContent(data=data, mime_type=mime)
        if major == "image"
        else types.AudioContent(data=data, mime_type=mime)
    )
    return [inline, link]


def made_files(artifact: Any) -> list[FileArtifact]:
    """The files an artifact names: a TaskResult's `files`, or those of each step of a plan."""
    if not isinstance(artifact, Mapping):
        return []
    plan = PlanResult.read(artifact)
    return plan.files() if plan is not None else files_of(artifact)


def success(message: ToolMessage, inline_limit: int, redact: Redactor) -> types.CallToolResult:
    """A finished tool call: text, media blocks and links, the artifact."""
    blocks: list[types.ContentBlock] = [types.TextContent(text=redact(message_text(message.content)))]
    for file in made_files(message.artifact):
        blocks.extend(file_blocks(file, inline_limit))
    structured = redact(message.artifact) if isinstance(message.artifact, Mapping) else None
    return types.CallToolResult(content=blocks, structured_content=structured)


def failure(error: str, redact: Redactor, artifact: Any = None) -> types.CallToolResult:
    """A failed call: `isError` with the one-sentence error (and what the tool knew, e.g. attempts)."""
    structured = redact(artifact) if isinstance(artifact, Mapping) else None
    return types.CallToolResult(
        content=[types.TextContent(text=redact(error))], structured_content=structured, is_error=True
    )
