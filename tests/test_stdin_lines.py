"""The CLI's piped input (agent/stdin_lines.py): lines as a text stream gives them, and a stop signal that
does not interrupt the wait itself (it reached another thread, or came just before the read) still stops it."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from hugginggpt.agent.stdin_lines import StdinLines


@pytest.fixture
def pipe() -> Iterator[tuple[Any, int]]:
    read_end, write_end = os.pipe()
    stream = open(read_end, encoding="utf-8")  # noqa: SIM115  # closed below
    try:
        yield stream, write_end
    finally:
        stream.close()
        with contextlib.suppress(OSError):  # a test may have closed it (end of input)
            os.close(write_end)


def test_lines_come_as_a_text_stream_gives_them(pipe: tuple[Any, int]) -> None:
    stream, write_end = pipe
    lines = StdinLines(stream)
    sheep = "🐑".encode()
    os.write(write_end, b"draw a sheep\nhow many " + sheep[:2])  # a character cut between two reads
    assert lines.readline() == "draw a sheep\n"
    os.write(write_end, sheep[2:] + b"?\nlast, no newline")
    os.close(write_end)
    assert lines.readline() == "how many 🐑?\n"
    assert lines.readline() == "last, no newline"
    assert lines.readline() == "" and lines.readline() == ""


class Stop(Exception):
    pass


def test_a_signal_caught_by_another_thread_still_ends_the_wait(pipe: tuple[Any, int]) -> None:
    """The C-level handler runs in the thread the signal reached; the main thread's blocking read is not
    interrupted, so a plain `readline()` would wait for the next line (here: the one written after 20 s)."""
    stream, write_end = pipe
    lines = StdinLines(stream)
    parked = threading.Event()
    bystander = threading.Thread(target=parked.wait, daemon=True)
    bystander.start()

    def stop(signum: int, frame: Any) -> None:
        raise Stop

    late: list[str] = []

    def late_line() -> None:  # 20 s: far beyond the 0.2 s the wait may take to notice the signal
        late.append("written")
        os.write(write_end, b"a line nobody should wait for\n")

    timers = [
        threading.Timer(0.3, signal.pthread_kill, (bystander.ident, signal.SIGUSR1)),
        threading.Timer(20, late_line),
    ]
    previous = signal.signal(signal.SIGUSR1, stop)
    try:
        for timer in timers:
            timer.start()
        with pytest.raises(Stop):
            lines.readline()
        assert not late, "the stop waited for the next line"
    finally:
        signal.signal(signal.SIGUSR1, previous)
        for timer in timers:
            timer.cancel()
        parked.set()
