"""The steps of a `run_plan` call's arguments, each as soon as its object is complete in the stream.

`StepScanner.feed` takes the arguments' JSON text in any fragments (as an LLM streams them) and returns the
step objects of the top-level `"steps"` array completed by that fragment, parsed. It reads each character
once (strings and escapes included) and never looks back further than the current step object.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

_STEPS_KEY = re.compile(r'\s*"steps"\s*:\s*$')


class StepScanner:
    """An incremental reader of `{"steps": [{...}, {...}, ...]}`."""

    def __init__(self) -> None:
        self.text = ""
        self._at = 0  # next character to read
        self._depth = 0  # nesting of objects and arrays
        self._in_string = self._escaped = False
        self._key_from = 0  # where the current top-level member starts
        self._in_steps = False  # inside the top-level "steps" array
        self._step_from: int | None = None  # where the current step object starts

    def feed(self, fragment: str) -> list[Any]:
        """Read `fragment`; the step objects it completed, parsed (an unparsable one is left out)."""
        self.text += fragment
        done: list[Any] = []
        text = self.text
        for at in range(self._at, len(text)):
            char = text[at]
            if self._in_string:
                if self._escaped:
                    self._escaped = False
                elif char == "\\":
                    self._escaped = True
                elif char == '"':
                    self._in_string = False
            elif char == '"':
                self._in_string = True
            elif char in "{[":
                self._opened(char, at)
            elif char in "}]":
                self._depth -= 1
                if self._in_steps and self._depth == 2 and char == "}" and self._step_from is not None:
                    with contextlib.suppress(ValueError):  # the call's own check refuses it
                        done.append(json.loads(text[self._step_from : at + 1]))
                    self._step_from = None
                elif self._depth == 1:
                    self._in_steps = False
            elif char == "," and self._depth == 1:
                self._key_from = at + 1
        self._at = len(text)
        return done

    def _opened(self, char: str, at: int) -> None:
        if self._depth == 0:
            self._key_from = at + 1
        elif self._depth == 1 and char == "[":
            self._in_steps = bool(_STEPS_KEY.match(self.text[self._key_from : at]))
        elif self._depth == 2 and self._in_steps and char == "{":
            self._step_from = at
        self._depth += 1
