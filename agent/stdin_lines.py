"""Lines of a piped standard input, read so that a stop signal is never lost.

A signal's Python handler runs only when the main thread is back in Python code. One that arrives just
before a blocking `sys.stdin.readline()` enters its read (or reaches another thread of the process) leaves
the main thread waiting for a line that may never come: a chat piped from a program that keeps the pipe
open would not stop. Here the wait for data returns to Python at least every `POLL_SECONDS`, so a pending
handler runs within that time, and lines are cut from the raw bytes (a buffered reader could hold lines
that `select` does not see).
"""

from __future__ import annotations

import codecs
import os
import select
from typing import TextIO

POLL_SECONDS = 0.2  # the longest a noted stop signal waits for its handler while no input comes
CHUNK = 65536


class StdinLines:
    """`readline()` like a text stream's: a line with its newline, the last one without, "" at the end."""

    def __init__(self, stream: TextIO) -> None:
        self.fd = stream.fileno()
        self.decoder = codecs.getincrementaldecoder(stream.encoding or "utf-8")(errors="replace")
        self.pending = ""
        self.ended = False

    def readline(self) -> str:
        while "\n" not in self.pending and not self.ended:
            ready, _, _ = select.select([self.fd], [], [], POLL_SECONDS)
            if ready:
                chunk = os.read(self.fd, CHUNK)
                self.ended = not chunk
                self.pending += self.decoder.decode(chunk, final=self.ended)
        line, newline, self.pending = self.pending.partition("\n")
        return line + newline
