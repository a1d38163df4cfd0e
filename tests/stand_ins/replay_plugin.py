"""Pytest fixtures replaying real recorded Hugging Face traffic (see ``tests/stand_ins/replay.py``).

Usage::

    def test_detects(replay):
        rec = replay("test_object_detection")          # or: with replay(...) as rec:
        client = InferenceClient(provider=rec.provider, token=rec.token)
        boxes = client.object_detection(rec.recorded_input_bytes(), model=rec.model)

``replay(*names, zero_shot="today")`` installs the replay for one or more cassettes (full file names or a unique
part of one) and returns a ``Replay``; it is uninstalled at the end of the ``with`` block or of the test.
A test in which any request went unanswered fails, even if the code under test swallowed the error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.stand_ins.replay import Replay, ZeroShotMode


class ReplayFactory(Protocol):
    """Signature of the ``replay`` fixture."""

    def __call__(self, *names: str, zero_shot: ZeroShotMode = "today") -> Replay: ...


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[ReplayFactory]:
    """Factory installing a cassette replay (HF_HOME in tmp_path, fake ``hf_`` token, caches cleared)."""
    opened: list[Replay] = []

    def factory(*names: str, zero_shot: ZeroShotMode = "today") -> Replay:
        home = tmp_path / f"hf_home_{len(opened)}"
        rec = Replay(names, home=home, zero_shot=zero_shot).start()
        opened.append(rec)
        return rec

    yield factory
    for rec in reversed(opened):
        rec.stop()
    unmatched = [line for rec in opened if not rec.reported for line in rec.unmatched]
    if unmatched:
        pytest.fail("requests not in the replayed cassettes:\n" + "\n".join(unmatched), pytrace=False)
