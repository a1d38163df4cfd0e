"""A thread pool that belongs to one object: made on first use, shut when its owner closes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class OwnedPool:
    """`get()` makes the pool on first use (again after `close`); `close()` shuts it: queued work is
    cancelled, running work finishes, idle threads end."""

    def __init__(self, workers: Callable[[], int], prefix: str) -> None:
        self.workers, self.prefix = workers, prefix
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def get(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers(), thread_name_prefix=self.prefix)
            return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
