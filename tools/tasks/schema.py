"""A task spec's inputs as the pydantic model LangChain shows the LLM (and validates calls with)."""

from __future__ import annotations

from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from hugginggpt.tools.tasks.table import TaskSpec

MODEL_PATTERN = r"^(https?://\S+|[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?)$"
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}
_JSON_LIMITS = {"ge": "minimum", "le": "maximum", "min_length": "minLength", "max_length": "maxLength"}


def _none() -> None:
    return None


def _optional(kind: Any, shown: dict[str, Any] | None, description: str, **limits: Any) -> tuple[Any, Any]:
    """An optional field, shown to the model as `shown`: its type and limits, without pydantic's
    `anyOf: [..., {"type": "null"}]` and `"default": null` (leaving a field out is how the model says
    "none"). Validation is unchanged: None and a missing field are both accepted."""
    annotation = Annotated[kind | None, WithJsonSchema(shown)] if shown else kind | None
    return annotation, Field(default_factory=_none, description=description, **limits)


def args_schema(spec: TaskSpec) -> type[BaseModel]:
    """A pydantic model with one described field per input, plus an optional `model`."""
    fields: dict[str, Any] = {}
    for arg in spec.args:
        if arg.required:
            fields[arg.name] = (arg.type, Field(..., description=arg.description, **arg.limits))
            continue
        base = get_args(arg.type)[0] if get_origin(arg.type) is Annotated else arg.type  # Text is a str
        kind = _JSON_TYPES.get(base)
        shown = (
            None
            if kind is None
            else {
                "type": kind,
                **{_JSON_LIMITS[k]: v for k, v in arg.limits.items() if k in _JSON_LIMITS},
            }
        )
        fields[arg.name] = _optional(arg.type, shown, arg.description, **arg.limits)
    # The model needs no regex to write a Hub id; a malformed one is still refused.
    fields["model"] = _optional(str, {"type": "string"}, "Hub model id; omit for a served one.",
                               max_length=300, pattern=MODEL_PATTERN)  # fmt: skip
    title = "".join(part.title() for part in spec.task.split("-")) + "Input"
    return create_model(title, __config__=ConfigDict(extra="forbid"), **fields)
