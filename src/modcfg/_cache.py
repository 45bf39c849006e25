"""Declared caches: bounded, thread-safe memos that may be emptied at any time.

A :class:`Cache` keeps values computed from immutable data (plans of needs, trees, quote
lines, totals), so emptying it changes no answer, only the time of the next one. It is a
``dict`` (reads are plain dictionary reads); a write that would pass its ``limit`` empties it
first, under a lock, so it never holds more than ``limit`` entries.
"""

from __future__ import annotations

import threading
from typing import TypeVar

__all__ = ["Cache"]

K = TypeVar("K")
V = TypeVar("V")


class Cache(dict[K, V]):
    """A memo of at most ``limit`` entries, emptied whole when full (see the module).

    >>> cache: Cache[str, int] = Cache(2)
    >>> cache["a"], cache["b"] = 1, 2
    >>> cache["c"] = 3
    >>> dict(cache)
    {'c': 3}
    """

    __slots__ = ("_lock", "limit")

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self._lock = threading.Lock()

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            if len(self) >= self.limit and key not in self:
                self.clear()
            super().__setitem__(key, value)

    def keep(self, key: K, value: V) -> V:
        """The value kept for ``key``: the one already there, else ``value`` (stored)."""
        with self._lock:
            found = self.get(key)
            if found is not None:
                return found
            if len(self) >= self.limit:
                self.clear()
            super().__setitem__(key, value)
        return value
