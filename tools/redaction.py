"""The one redactor: what leaves the process (LangSmith traces, MCP and A2A results) without secrets.

Known secret values (the HF token, the OpenAI key, the MCP token...) go first, so no rule can leave a
partly redacted key behind; then langsmith's `DEFAULT_SECRET_RULES` and the shapes of the keys this project
handles, which those rules miss (`hf_...`, `sk-test-...`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from langsmith.anonymizer import DEFAULT_SECRET_RULES

REDACTED = "[redacted]"
SECRET_SHAPES = (re.compile(r"\bhf_[A-Za-z0-9]{16,}"), re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"))
MIN_SECRET = 8  # shorter "secrets" (a test's "x", an empty variable) would redact ordinary words


class Redactor:
    """A copy of a value (strings, mappings, lists, tuples) with secrets replaced; other values kept."""

    def __init__(self, secrets: Iterable[str]) -> None:
        exact = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)
        self.rules: list[tuple[re.Pattern[str], str]] = [
            *((re.compile(re.escape(secret)), REDACTED) for secret in exact),
            *((rule["pattern"], rule["replace"] or REDACTED) for rule in DEFAULT_SECRET_RULES),
            *((shape, REDACTED) for shape in SECRET_SHAPES),
        ]

    def text(self, value: str) -> str:
        """`value` with every secret in it replaced."""
        for pattern, replace in self.rules:
            value = pattern.sub(replace, value)
        return value

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {str(k): self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        return value
