"""Declared caches: bounded, thread-safe memos that may be emptied at any time.

A :class:`Cache` keeps values computed from immutable data (plans of needs, trees, quote
lines, totals), so emptying it changes no answer, only the time of the next one. It is a
``dict`` (reads are plain dictionary reads); a write that would pass its ``limit`` empties it
first, under a lock, so it never holds more than ``limit`` entries. A :class:`WeighedCache`
bounds the sum of its values' weights instead (values of very different sizes), dropping the
oldest first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["Cache", "WeighedCache"]

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


class WeighedCache(dict[K, V]):
    """A memo whose entries' weights (``weigh(value)``) sum to at most ``limit``: a write
    drops the oldest entries until the new one fits, so no write frees the whole memo at
    once (freeing many large values takes time a request may not have).

    >>> cache: WeighedCache[str, list[int]] = WeighedCache(5, len)
    >>> cache["a"], cache["b"] = [1, 2], [3, 4]
    >>> cache["c"] = [5, 6]
    >>> sorted(cache), cache.weight
    (['b', 'c'], 4)
    """

    __slots__ = ("_lock", "_weigh", "limit", "weight")

    def __init__(self, limit: int, weigh: Callable[[V], int]) -> None:
        super().__init__()
        self.limit = limit
        self.weight = 0
        self._weigh = weigh
        self._lock = threading.Lock()

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            self._store(key, value)

    def _store(self, key: K, value: V) -> None:
        """Store ``value`` (the caller holds the lock)."""
        weight = self._weigh(value)
        if key in self:
            self.weight -= self._weigh(super().pop(key))
        if weight > self.limit:  # (it would not fit alone: not kept)
            return
        while self and self.weight + weight > self.limit:
            oldest = next(iter(self))
            self.weight -= self._weigh(super().pop(oldest))
        super().__setitem__(key, value)
        self.weight += weight

    def clear(self) -> None:
        with self._lock:
            super().clear()
            self.weight = 0

    def keep(self, key: K, value: V) -> V:
        """The value kept for ``key``: the one already there, else ``value`` (stored when it
        fits).

        >>> cache: WeighedCache[str, list[int]] = WeighedCache(3, len)
        >>> cache.keep("a", [1, 2]), cache.keep("a", [3]), cache.keep("b", [4, 5, 6, 7])
        ([1, 2], [1, 2], [4, 5, 6, 7])
        >>> sorted(cache)
        ['a']
        >>> cache.clear(); cache.weight
        0
        """
        with self._lock:
            found = self.get(key)
            if found is not None:
                return found
            self._store(key, value)
        return value
