"""A foreign tool's `CallToolResult` as a task tool's result: text for the model, files saved as files of
the turn (images, audio, embedded resources: written whole, sniffed), resource links recorded, structured
content as data. Everything in it is untrusted text, so it is bounded; an oversized result is refused."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types

from hugginggpt.tools.files.artifacts import ArtifactStore, FileArtifact
from hugginggpt.tools.inference.errors import OutputNotSaved
from hugginggpt.tools.text import shorten, with_article

MAX_TEXT = 8000  # characters of a foreign result's text shown to the model
MAX_LINKS = 20  # resource links recorded per result


class ResultRefused(ValueError):
    """The result is larger than a tool result may be (one sentence)."""


@dataclass
class Converted:
    """What a foreign result became."""

    text: str
    files: list[FileArtifact] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def result_size(result: types.CallToolResult) -> int:
    """Bytes the result carries: its texts, its decoded media, its structured content (as JSON)."""
    size = len(result.model_dump_json(include={"structured_content"})) if result.structured_content else 0
    for block in result.content:
        if isinstance(block, types.TextContent):
            size += len(block.text.encode())
        elif isinstance(block, types.ImageContent | types.AudioContent):
            size += len(block.data) * 3 // 4
        elif isinstance(block, types.EmbeddedResource):
            res = block.resource
            size += (
                len(res.text.encode())
                if isinstance(res, types.TextResourceContents)
                else len(res.blob) * 3 // 4
            )
    return size


def _decode(data: str) -> bytes | None:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def _keep(data: bytes | None, what: str, store: ArtifactStore, out: Converted) -> None:
    """Save media bytes as a made file, or note why they were not kept."""
    if data is None:
        out.notes.append(f"{what} was not valid base64 and was not kept")
        return
    try:
        out.files.append(store.save(data))
    except OutputNotSaved:
        raise
    except ValueError as error:  # not a known media format, or truncated
        out.notes.append(f"{what} was not kept ({error})")


def convert(result: types.CallToolResult, tool: str, store: ArtifactStore) -> Converted:
    """Fold the content blocks into text, files and links; `ResultRefused` when over the input limit."""
    size = result_size(result)
    if size > store.settings.max_input_bytes:
        raise ResultRefused(
            f"{tool} returned a result of {size:,} bytes, more than the {store.settings.max_input_mb:g} MB a"
            " result may have (HUGGINGGPT_MAX_INPUT_MB), so it was refused"
        )
    out = Converted(text="")
    texts: list[str] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            texts.append(block.text)
        elif isinstance(block, types.ImageContent | types.AudioContent):
            _keep(_decode(block.data), with_article(block.type), store, out)
        elif isinstance(block, types.EmbeddedResource):
            res = block.resource
            if isinstance(res, types.TextResourceContents):
                texts.append(f"[{shorten(str(res.uri), 200)}]\n{res.text}")
            else:
                _keep(_decode(res.blob), f"the resource {shorten(str(res.uri), 200)}", store, out)
        elif isinstance(block, types.ResourceLink) and len(out.links) < MAX_LINKS:
            out.links.append(
                {"uri": shorten(str(block.uri), 2000), "name": shorten(block.name, 200),
                 "mime_type": block.mime_type, "description": shorten(block.description or "", 300)}
            )  # fmt: skip
    out.text = shorten("\n".join(t.strip() for t in texts if t.strip()), MAX_TEXT, counted=True)
    return out


def summary(tool: str, converted: Converted) -> str:
    """The text the model reads: the tool's text, the files made, the links, what was not kept."""
    lines = [f"{tool}: {converted.text or '(no text)'}"]
    lines += [f"Made {with_article(f['kind'])}: {f['path']}" for f in converted.files]
    lines += [f"Link: {link['name']} <{link['uri']}>" for link in converted.links]
    lines += [f"Note: {note}." for note in converted.notes]
    return "\n".join(lines)
