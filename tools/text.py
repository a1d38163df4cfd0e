"""Small text helpers shared by the tools and the renderers: shortening, "a"/"an", and the one sentence a
pydantic validation error becomes."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping

from pydantic import ValidationError

MAX_PROBLEMS = 3  # validation problems named in one sentence; the rest are counted


def shorten(text: str, limit: int, *, counted: bool = False) -> str:
    """`text` cut to at most `limit` characters, ending in "…" (with how much was cut when `counted`)."""
    if len(text) <= limit:
        return text
    if counted:
        keep = max(0, limit - 40)  # room for the note
        return text[:keep] + f" … [{len(text) - keep} characters cut]"
    return text[: max(0, limit - 1)] + "…"


def one_line(text: object, limit: int = 200) -> str:
    """`text` (any object, as `str`) on one line, whitespace runs squeezed, cut to `limit` characters."""
    return shorten(" ".join(str(text).split()), limit)


def quoted(value: str, limit: int = 120) -> str:
    """A value quoted for an error message, cut short: the model should not read its own megabytes back."""
    return f"'{shorten(value, limit)}'"


def with_article(word: str) -> str:
    """'an image', 'a video'."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _problems(
    error: ValidationError, names: Mapping[str, str], skip: Collection[str]
) -> Iterator[tuple[str, str]]:
    """(where, rule) for each problem of `error` whose top-level field is not in `skip`; never the value
    itself (it may be large or hostile), only the length of one too long or too short."""
    for problem in error.errors(include_url=False):
        loc = problem["loc"]
        if loc and str(loc[0]) in skip:
            continue
        where = names.get(str(loc[0]), str(loc[0])) if len(loc) == 1 else ".".join(map(str, loc))
        value, size = problem.get("input"), ""
        if ("too_long" in problem["type"] or "too_short" in problem["type"]) and isinstance(
            value, str | list | dict
        ):
            size = f" (it has {len(value):,})"
        yield where or "arguments", f"{problem['msg']}{size}"


def problems(
    error: ValidationError,
    *,
    most: int = MAX_PROBLEMS,
    skip: Collection[str] = (),
    names: Mapping[str, str] | None = None,
) -> str:
    """What `error` refuses as one clause, `field: rule; field: rule (and 2 more)`; '' when every problem
    is about a field in `skip`. `names` renames top-level fields (say, to their variables)."""
    listed = [f"{where}: {rule}" for where, rule in _problems(error, names or {}, skip)]
    more = f" (and {len(listed) - most} more)" if len(listed) > most else ""
    return "; ".join(listed[:most]) + more


def invalid_arguments(name: str, error: ValidationError, *, skip: Collection[str] = ()) -> str:
    """`name refused its arguments: prompt: Field required.`"""
    return f"{name} refused its arguments: {problems(error, skip=skip)}."


def invalid_setting(error: ValidationError, variable: str) -> str:
    """`HUGGINGGPT_TIMEOUT is invalid: Input should be a valid number.` (`variable`: as the user sets it,
    `Settings.variable(error)`)."""
    rule = next((rule for _, rule in _problems(error, {}, ())), "refused")
    return f"{variable} is invalid: {rule}."
