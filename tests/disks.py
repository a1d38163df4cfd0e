"""A real small filesystem for the tests of local write failures: a tmpfs mounted where a test asks.

`small_disk(folder)` mounts a 64 kB tmpfs (`size=` for more) on `folder` (made if missing) and unmounts
it after the test; `fill()` then writes zeros until the kernel answers ENOSPC, so the next write fails as
on a full disk.
`readonly=True` mounts it read-only (EROFS). Mounting needs root (CAP_SYS_ADMIN): elsewhere the tests that
use it are skipped, saying so.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class SmallDisk:
    path: Path

    def fill(self) -> None:
        """Use up every free block (the filler is hidden, so listings of the folder stay comparable)."""
        with (self.path / ".filler").open("ab", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise

    def names(self) -> list[str]:
        """What the folder holds, the filler left out."""
        return sorted(
            p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.name != ".filler"
        )


def _mount(folder: Path, readonly: bool, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (a real full disk) needs root (CAP_SYS_ADMIN)")
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0777" + (",ro" if readonly else "")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")


@pytest.fixture
def small_disk() -> Iterator[Callable[..., SmallDisk]]:
    """Mounts small filesystems on request; unmounts them all after the test."""
    mounted: list[Path] = []

    def mount(folder: Path, readonly: bool = False, size: str = "64k") -> SmallDisk:
        _mount(folder, readonly, size)
        mounted.append(folder)
        return SmallDisk(folder)

    try:
        yield mount
    finally:
        for folder in reversed(mounted):
            subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)
