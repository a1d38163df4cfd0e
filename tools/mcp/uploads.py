"""`data:` URIs for media arguments, accepted by the MCP server only: a client on another machine cannot
hand over a local path, so the server keeps the bytes as an upload (checked like any input) and calls the
tool with its path. The tools themselves still refuse `data:` and every other non-http(s) scheme."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from langchain_core.tools import BaseTool

from hugginggpt.tools.files.artifacts import ArtifactStore
from hugginggpt.tools.files.media import MediaKind
from hugginggpt.tools.inference.errors import InputRefused
from hugginggpt.tools.plans.tool import RunPlanTool
from hugginggpt.tools.tasks.tool import media_args

DATA_URI = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[\w.+-]+=[^;,]*)*)(?P<base64>;base64)?,",
                      re.IGNORECASE)  # fmt: skip


def is_data_uri(value: Any) -> bool:
    return isinstance(value, str) and value.lstrip()[:5].lower() == "data:"


def save_data_uri(uri: str, kind: MediaKind, store: ArtifactStore) -> str:
    """Decode a base64 `data:` URI, keep it as an upload of `kind`, and return the upload's path."""
    uri = uri.strip()
    limit = store.settings.max_input_bytes
    if len(uri) > limit * 4 // 3 + 1024:  # refused before decoding: base64 is 4 characters per 3 bytes
        raise InputRefused(
            f"the data: URI is too large (about {len(uri) * 3 / 4 / 1e6:.1f} MB; the limit is"
            f" {store.settings.max_input_mb:g} MB)"
        )
    head = DATA_URI.match(uri)
    if head is None:
        raise InputRefused("the data: URI is malformed; expected data:<type>;base64,<data>")
    if not head["base64"]:
        raise InputRefused("only base64 data: URIs are accepted (data:<type>;base64,<data>)")
    try:
        data = base64.b64decode("".join(uri[head.end() :].split()), validate=True)
    except (binascii.Error, ValueError):
        raise InputRefused("the data: URI does not hold valid base64") from None
    declared = (head["type"] or "").lower() or None
    upload = store.save_upload(data, kind, f"data:{declared or ''};base64,… ({len(data)} bytes)", declared)
    return upload.source


def with_uploads(
    arguments: Mapping[str, Any], media: Mapping[str, MediaKind], store: ArtifactStore
) -> dict[str, Any]:
    """`arguments` with each `data:` URI in a media argument replaced by the path of its saved upload."""
    out = dict(arguments)
    for name, kind in media.items():
        if is_data_uri(out.get(name)):
            try:
                out[name] = save_data_uri(out[name], kind, store)
            except InputRefused as error:
                raise InputRefused(f"{name}: {error}") from None
    return out


def prepared(arguments: Mapping[str, Any], tool: BaseTool, store: ArtifactStore) -> dict[str, Any]:
    """The call's arguments with `data:` URIs kept as uploads: in the tool's media arguments, or, for
    `run_plan`, in each step's media arguments (by the step's own tool)."""
    steps = arguments.get("steps")
    if not isinstance(tool, RunPlanTool) or not isinstance(steps, list):
        return with_uploads(arguments, media_args(tool), store)
    prepared_steps = []
    for step in steps:
        if not isinstance(step, Mapping) or not isinstance(step.get("args"), Mapping):
            prepared_steps.append(step)  # the plan's own checks refuse it, in their words
            continue
        try:
            media = tool.media_args(str(step.get("tool")))
            prepared_steps.append({**step, "args": with_uploads(step["args"], media, store)})
        except InputRefused as error:
            raise InputRefused(f"step {step.get('id')}: {error}") from None
    return {**arguments, "steps": prepared_steps}
