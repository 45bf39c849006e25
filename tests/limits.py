"""A memory ceiling for tests that feed hostile input: a regression fails instead of swapping."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Room the tests may take on top of what the process already holds.
HEADROOM = 3 * 1024**3


def _address_space() -> int:
    """The process's current virtual memory size in bytes (Linux), or 0 when unknown."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[0]) * resource.getpagesize()


@contextmanager
def memory_ceiling(headroom: int = HEADROOM) -> Iterator[None]:
    """Cap the address space at the current size plus ``headroom`` until the block ends."""
    current = _address_space()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if not current:
        yield
        return
    ceiling = current + headroom
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    if soft != resource.RLIM_INFINITY:
        ceiling = min(ceiling, soft)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
