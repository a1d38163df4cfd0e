"""Small text helpers shared by the tools and the renderers: shortening and "a"/"an"."""

from __future__ import annotations


def shorten(text: str, limit: int, *, counted: bool = False) -> str:
    """`text` cut to at most `limit` characters, ending in "…" (with how much was cut when `counted`)."""
    if len(text) <= limit:
        return text
    if counted:
        keep = max(0, limit - 40)  # room for the note
        return text[:keep] + f" … [{len(text) - keep} characters cut]"
    return text[: max(0, limit - 1)] + "…"


def quoted(value: str, limit: int = 120) -> str:
    """A value quoted for an error message, cut short: the model should not read its own megabytes back."""
    return f"'{shorten(value, limit)}'"


def with_article(word: str) -> str:
    """'an image', 'a video'."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
