"""An opt-in pause of Python's cyclic garbage collector, for applications that keep millions
of configurations.

modcfg never switches the collector off by itself. Python's collector runs a full collection
over every object of the process whenever enough new objects have survived since the last
one; code that keeps every configuration of a large stream (``list(cfg.configurations())``)
makes those objects survive, and in a process with a large heap (numba and the other
libraries modcfg loads make one) each full collection costs tens to hundreds of
milliseconds. :func:`collector_paused` lets the application decide to defer them for a block,
and :func:`freeze_start_up` lets a server (``modcfg serve``) take what its start-up made out of
those collections.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "freeze_start_up"]

_pauses = 0  # blocks running with the collector paused by them
_pause_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the ``with`` block.

    For an application that builds many long-lived objects at once, such as every
    configuration of a large catalog; the objects are freed as usual (by reference counting)
    and the collector resumes when the last paused block of any thread ends. A collector the
    caller had already disabled stays disabled. The pause is process-wide: keep the block to
    the work that needs it.

    >>> import gc, modcfg
    >>> cfg = modcfg.compile("windows_pro")
    >>> with modcfg.collector_paused():
    ...     every = list(cfg.configurations())
    >>> len(every), gc.isenabled()
    (25433, True)
    """
    global _pauses
    with _pause_lock:
        paused = gc.isenabled() or _pauses > 0
        if paused:
            gc.disable()
            _pauses += 1
    try:
        yield
    finally:
        if paused:
            with _pause_lock:
                _pauses -= 1
                if not _pauses:
                    gc.enable()


def freeze_start_up() -> None:
    """Take every object the process holds now out of the collector's full passes
    (``gc.freeze()``): for a server whose start-up is done, since its modules, compiled
    catalogs and their first states live as long as it does. ``modcfg serve`` calls it once
    its app is built; the library itself never does."""
    gc.freeze()
