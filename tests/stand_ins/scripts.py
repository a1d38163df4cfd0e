"""Scripting for the OpenAI stand-in: turns, rule-based plans and conversation helpers.

A *turn* is what the stand-in's model says next.  Accepted shapes (see `to_reply`):

* ``"text"`` - a final answer; ``text(["Hel", "lo"])`` fixes how it is streamed;
* ``{"name": "tool", "args": {...}}`` - one tool call (``"id"`` optional);
* ``[{"name": ...}, {"name": ...}]`` - parallel tool calls in one assistant message;
* `Reply` / `ToolCall` objects (built with `text` / `call`);
* ``callable(request) -> turn`` - computed from the request JSON (the conversation so far).

A *plan* (for `OpenAIStandIn.on_user`) is a list of steps and ends with the final answer:
each step is one turn of tool calls (usually a list = parallel calls) and the last item is
the answer.  Strings inside steps and the answer are ``str.format`` templates over
`result_context` (tool results since the latest user message), so a plan is stateless:
the step to play is the number of assistant tool-call turns after the latest user message.
"""

from __future__ import annotations

import ast
import json
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Request = dict[str, Any]
PLAN_TOOL = "run_plan"  # the toolkit's plan tool (hugginggpt.tools.plans.tool.PLAN_TOOL)
Turn = Any  # str | Mapping | Sequence[Mapping | ToolCall] | ToolCall | Reply | Callable[[Request], Turn]

IMAGE_EXTS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff"})
AUDIO_EXTS = frozenset({"wav", "mp3", "flac", "ogg", "m4a"})
VIDEO_EXTS = frozenset({"mp4", "webm", "mov", "avi", "mkv"})
_EXTS = sorted(IMAGE_EXTS | AUDIO_EXTS | VIDEO_EXTS | {"txt", "json", "npy", "pdf"}, key=len, reverse=True)
_PATH_RE = re.compile(rf"(?<![\w.:/-])(/?(?:[\w.-]+/)*[\w-][\w.-]*\.(?:{'|'.join(_EXTS)}))(?![\w-])", re.I)
_MODEL_TEXT_RE = re.compile(
    r"\bmodel(?:_id|_name)?[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9][\w.-]*(?:/[\w.-]*\w)?)", re.I
)
_MODEL_KEYS = ("model", "model_id", "model_name", "models")  # JSON keys naming models
_COUNT_RE = re.compile(
    r"\bcount\W{0,4}(\d+)|\b(\d+)\s+(?:objects?|items?|people|persons?|faces?|detections?)\b", re.I
)


class Joined(list):
    """A list that formats as ``"a, b, c"`` in templates but still indexes: ``{images[1]}``."""

    def __str__(self) -> str:
        return ", ".join(map(str, self))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


@dataclass(frozen=True)
class ToolCall:
    """One function call the model makes; ``id`` is generated (``call_...``) when omitted."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """A normalized assistant turn: final text, or tool calls (parallel when several)."""

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    pieces: tuple[str, ...] | None = None  # how ``text`` is split when streamed

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"


@dataclass(frozen=True)
class ToolResult:
    """A ``tool`` message of the request, joined with the assistant call that asked for it."""

    call_id: str
    name: str | None
    args: Mapping[str, Any]
    content: str
    step: int  # 0-based index of the assistant tool-call turn (after the latest user message)

    def __str__(self) -> str:
        return self.content


class PlanError(LookupError):
    """A plan template referenced a value the tool results do not contain."""


# --------------------------------------------------------------------------- turn builders


def text(content: str | Sequence[str]) -> Reply:
    """A final answer; pass a list of pieces to control how it is streamed."""
    if isinstance(content, str):
        return Reply(text=content)
    return Reply(text="".join(content), pieces=tuple(content))


def call(name: str, /, **args: Any) -> ToolCall:
    """A tool call: ``call("text_to_image", prompt="a cat")``."""
    return ToolCall(name, args)


def to_reply(turn: Turn, request: Request) -> Reply:
    """Normalize any accepted turn shape to a `Reply` (calling callables with the request)."""
    while callable(turn) and not isinstance(turn, Reply | ToolCall):
        turn = turn(request)
    if isinstance(turn, Reply):
        return turn
    if isinstance(turn, str):
        return Reply(text=turn)
    if isinstance(turn, ToolCall | Mapping):
        turn = [turn]
    if isinstance(turn, Sequence) and turn:
        return Reply(tool_calls=tuple(_to_call(c) for c in turn))
    raise TypeError(f"not a turn: {turn!r}")


def _to_call(spec: ToolCall | Mapping[str, Any]) -> ToolCall:
    if isinstance(spec, ToolCall):
        return spec
    args = spec.get("args", spec.get("arguments", {}))
    return ToolCall(spec["name"], json.loads(args) if isinstance(args, str) else dict(args), spec.get("id"))


# --------------------------------------------------------------------------- request helpers


def content_text(content: Any) -> str:
    """Text of a message ``content`` (a string or a list of content parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = (p.get("text", "") if isinstance(p, Mapping) else str(p) for p in content)
    return "".join(parts)


def _last_user_index(request: Request) -> int:
    messages = request.get("messages", [])
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return i
    return -1


def last_user_message(request: Request) -> str:
    """Text of the latest ``user`` message ("" when there is none)."""
    i = _last_user_index(request)
    return content_text(request["messages"][i].get("content")) if i >= 0 else ""


def turn_messages(request: Request) -> list[dict[str, Any]]:
    """Messages after the latest user message (the agent's work on the current request)."""
    return list(request.get("messages", [])[_last_user_index(request) + 1 :])


def step_index(request: Request) -> int:
    """How many assistant tool-call turns follow the latest user message."""
    return sum(1 for m in turn_messages(request) if m.get("role") == "assistant" and m.get("tool_calls"))


def offered_tools(request: Request) -> list[str]:
    """Names of the function tools sent in the request's ``tools`` array."""
    return [t["function"]["name"] for t in request.get("tools") or [] if t.get("type") == "function"]


def tool_results(request: Request) -> list[ToolResult]:
    """All tool messages after the latest user message, in order, with their call's name/args."""
    calls: dict[str, tuple[str | None, Mapping[str, Any], int]] = {}
    results: list[ToolResult] = []
    step = -1
    for m in turn_messages(request):
        if m.get("role") == "assistant" and m.get("tool_calls"):
            step += 1
            for tc in m["tool_calls"]:
                fn = tc.get("function", {})
                calls[tc.get("id", "")] = (fn.get("name"), _loads(fn.get("arguments")) or {}, step)
        elif m.get("role") == "tool":
            cid = m.get("tool_call_id", "")
            name, args, s = calls.get(cid, (None, {}, step))
            results.append(ToolResult(cid, name, args, content_text(m.get("content")), s))
    return results


def last_tool_results(request: Request) -> list[ToolResult]:
    """Results of the most recent tool-call turn (the previous step)."""
    results = tool_results(request)
    return [r for r in results if r.step == results[-1].step] if results else []


def _texts(source: str | ToolResult | Iterable[str | ToolResult]) -> list[str]:
    if isinstance(source, str | ToolResult):
        return [str(source)]
    return [str(s) for s in source]


def find_paths(source: str | ToolResult | Iterable[str | ToolResult], kind: str | None = None) -> list[str]:
    """File paths (``outputs/images/ab12cd34.png``) in text/results, in order, deduplicated.

    ``kind`` filters by extension: ``"image"``, ``"audio"`` or ``"video"``.
    """
    exts = {"image": IMAGE_EXTS, "audio": AUDIO_EXTS, "video": VIDEO_EXTS}.get(kind or "")
    found = (m.group(1) for t in _texts(source) for m in _PATH_RE.finditer(t))
    keep = (p for p in found if exts is None or p.rsplit(".", 1)[-1].lower() in exts)
    return list(dict.fromkeys(keep))


def find_models(source: str | ToolResult | Iterable[str | ToolResult]) -> list[str]:
    """Hub model ids in tool output: JSON ``model``/``model_id``/``models``, or text ``Model: org/name``."""
    found: list[str] = []
    for t in _texts(source):
        data = _loads(t)
        if isinstance(data, Mapping):
            for key in _MODEL_KEYS:
                value = data.get(key)
                found += [value] if isinstance(value, str) else value if isinstance(value, list) else []
        found += _MODEL_TEXT_RE.findall(t)
    return list(dict.fromkeys(v for v in found if isinstance(v, str) and v))


def find_count(source: str | ToolResult | Iterable[str | ToolResult]) -> int | None:
    """A count from tool output: JSON ``count`` (or length of ``objects``/``detections``), else text."""
    for t in _texts(source):
        data = _loads(t)
        if isinstance(data, Mapping):
            if isinstance(data.get("count"), int):
                return data["count"]
            for key in ("objects", "detections", "labels"):
                if isinstance(data.get(key), list):
                    return len(data[key])
        if m := _COUNT_RE.search(t):
            return int(m.group(1) or m.group(2))
    return None


def _loads(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        pass
    try:
        return ast.literal_eval(raw.strip()) if raw.strip()[:1] in "{[" else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


# --------------------------------------------------------------------------- templating


def result_context(request: Request) -> dict[str, Any]:
    """Values plan templates can use, from the tool results since the latest user message.

    * scalar top-level keys of JSON (or dict-repr) tool outputs, later results winning;
    * ``paths``/``images``/``audios``/``videos``/``models`` - all found, in order (`Joined`);
    * ``path``/``image``/``audio``/``video``/``model`` - the first found, searching the steps
      newest first (so ``{image}`` hands on the previous step's image);
    * ``count``, ``result`` (last step's outputs), ``results`` (all), ``tools`` (names called),
      ``user`` (latest user message).
    """
    results = tool_results(request)
    ctx: dict[str, Any] = {"user": last_user_message(request)}
    for r in results:
        data = _loads(r.content)
        if isinstance(data, Mapping):
            ctx.update({k: v for k, v in data.items() if isinstance(k, str) and _scalar(v)})
    derived: dict[str, Any] = {
        "paths": Joined(find_paths(results)),
        "images": Joined(find_paths(results, "image")),
        "audios": Joined(find_paths(results, "audio")),
        "videos": Joined(find_paths(results, "video")),
        "models": Joined(find_models(results)),
        "tools": Joined(dict.fromkeys(r.name for r in results if r.name)),
        "result": "\n".join(_last_output(r) for r in last_tool_results(request)),
        "results": "\n".join(r.content for r in results),
    }
    newest_first = sorted(results, key=lambda r: -r.step)
    for key, kind in (("path", None), ("image", "image"), ("audio", "audio"), ("video", "video")):
        derived[key] = next(iter(find_paths(newest_first, kind)), None)
    derived["model"] = next(iter(find_models(newest_first)), None)
    derived["count"] = find_count(newest_first)
    ctx.update({k: v for k, v in derived.items() if v not in (None, "")})
    return ctx


_STEP_LINE = re.compile(r"^\[([A-Za-z][\w-]*)\] \w+ (?:ok|failed|skipped): ", re.M)


def _last_output(result: ToolResult) -> str:
    """What a result says; for a plan, what its last step said."""
    steps = plan_steps(result.content) if result.name == PLAN_TOOL else {}
    return list(steps.values())[-1] if steps else result.content


def plan_failures(content: str) -> list[str]:
    """A `run_plan` result's failed and skipped steps, as their errors say them."""
    found = []
    for line in content.splitlines():
        if m := re.match(r"^\[[A-Za-z][\w-]*\] (\w+) (failed|skipped): (.*)$", line):
            found.append(m.group(3) if m.group(2) == "failed" else f"{m.group(1)} skipped: {m.group(3)}")
    return found


def plan_steps(content: str) -> dict[str, str]:
    """A `run_plan` result split by step: {step id: what that step's tool said}. Read from the text because
    that is all a model is sent (the typed result, `PlanResult`, stays in the ToolMessage's artifact)."""
    marks = list(_STEP_LINE.finditer(content))
    ends = [m.start() for m in marks[1:]] + [len(content)]
    return {m.group(1): content[m.end() : end].strip() for m, end in zip(marks, ends, strict=True)}


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


class _Formatter(string.Formatter):
    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        try:
            return super().get_value(key, args, kwargs)
        except (KeyError, IndexError):
            raise PlanError(key) from None

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        try:
            return super().get_field(field_name, args, kwargs)
        except (KeyError, IndexError, AttributeError, TypeError):
            raise PlanError(field_name) from None


_FORMATTER = _Formatter()
_SOLE_FIELD = re.compile(r"^\{([^{}:!]+)\}$")


def render(template: Any, ctx: Mapping[str, Any], groups: Sequence[Any] = ()) -> Any:
    """Fill ``{name}`` templates in strings (recursively in dicts/lists).

    A string that is exactly one field (``"{count}"``) becomes the raw value, keeping its type.
    Raises `PlanError` naming a missing field.
    """
    if isinstance(template, str):
        if m := _SOLE_FIELD.match(template):
            value = _FORMATTER.get_field(m.group(1), groups, ctx)[0]
            return list(value) if isinstance(value, Joined) else value
        return _FORMATTER.vformat(template, groups, ctx)
    if isinstance(template, Mapping):
        return {k: render(v, ctx, groups) for k, v in template.items()}
    if isinstance(template, list | tuple):
        return [render(v, ctx, groups) for v in template]
    return template


# --------------------------------------------------------------------------- plans and rules


@dataclass(frozen=True)
class Plan:
    """Tool-call steps followed by a final answer (all may be templates or callables)."""

    steps: tuple[Turn, ...]
    answer: Turn
    on_missing: str = "I could not complete the request: the tool results contain no '{missing}'."

    @classmethod
    def of(cls, plan: Plan | PlanOnce | Sequence[Turn]) -> Plan | PlanOnce:
        """``[step, step, ..., answer]`` -> `Plan`."""
        if isinstance(plan, Plan | PlanOnce):
            return plan
        if isinstance(plan, str) or not plan:
            raise ValueError("a plan is a non-empty list: [step, ..., final answer]")
        return cls(tuple(plan[:-1]), plan[-1])

    def reply(
        self, request: Request, groups: Sequence[Any] = (), named: Mapping[str, Any] | None = None
    ) -> Reply:
        """The turn for this point of the conversation (derived from the request alone)."""
        k = step_index(request)
        turn = self.steps[k] if k < len(self.steps) else self.answer
        if callable(turn):  # computed turns are used as they are, not as templates
            return to_reply(turn, request)
        ctx = {**(named or {}), **result_context(request)}
        try:
            return self._render(to_reply(turn, request), ctx, groups)
        except PlanError as exc:
            return Reply(text=self.on_missing.format(missing=exc.args[0]))

    @staticmethod
    def _render(reply: Reply, ctx: Mapping[str, Any], groups: Sequence[Any]) -> Reply:
        if reply.tool_calls:
            calls = tuple(ToolCall(c.name, render(dict(c.args), ctx, groups), c.id) for c in reply.tool_calls)
            said = None if reply.text is None else str(render(reply.text, ctx, groups))
            return Reply(text=said, tool_calls=calls)
        if reply.pieces:
            return text([str(render(p, ctx, groups)) for p in reply.pieces])
        return Reply(text=str(render(reply.text or "", ctx, groups)))


@dataclass(frozen=True)
class PlanOnce:
    """How a good planner works: the whole task graph in one `run_plan` call when the request offers that
    tool (`planned`: ``[run_plan call, answer]``), else one turn per dependency layer (`layered`)."""

    planned: Plan
    layered: Plan

    def __init__(self, planned: Sequence[Turn], layered: Sequence[Turn]) -> None:
        object.__setattr__(self, "planned", Plan.of(planned))
        object.__setattr__(self, "layered", Plan.of(layered))

    def reply(
        self, request: Request, groups: Sequence[Any] = (), named: Mapping[str, Any] | None = None
    ) -> Reply:
        chosen = self.planned if PLAN_TOOL in offered_tools(request) else self.layered
        return chosen.reply(request, groups, named)


def plan_call(*steps: tuple[str, str, Mapping[str, Any]]) -> dict[str, Any]:
    """A `run_plan` tool call: ``plan_call(("s1", "text_to_image", {...}), ("s2", ..., {"image": "$s1"}))``."""
    return {
        "name": PLAN_TOOL,
        "args": {"steps": [{"id": i, "tool": t, "args": dict(a)} for i, t, a in steps]},
    }


@dataclass(frozen=True)
class Rule:
    """``on_user(pattern, plan)``: play ``plan`` when the latest user message matches."""

    pattern: re.Pattern[str]
    plan: Plan | PlanOnce

    def reply(self, request: Request) -> Reply | None:
        m = self.pattern.search(last_user_message(request))
        if m is None:
            return None
        return self.plan.reply(request, (m.group(0), *m.groups()), m.groupdict())


def echo_fallback(request: Request) -> Reply:
    """Default when nothing is scripted and no rule matches: say so, as a final answer."""
    return Reply(text=f"(stand-in) no scripted turn or rule matched: {last_user_message(request)!r}")


FallbackTurn = Callable[[Request], Turn] | Turn
