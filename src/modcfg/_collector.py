"""Pausing Python's cyclic garbage collector while compiling catalogs and making configurations."""

from __future__ import annotations

import gc
import threading

_pauses = 0  # compilations running with the collector paused by them
_pause_lock = threading.Lock()


def pause_collector() -> bool:
    """Pause Python's cyclic garbage collector while compiling; True when this call paused
    it (then :func:`resume_collector` must follow, in a ``finally``).

    Compiling allocates many short-lived containers, all freed by reference counting; with
    the collector running, some of them are promoted to the oldest generation, and every few
    compilations trigger a full collection, which scans every object of the process (about
    100 ms once numba is loaded). Paused, only what the compiled catalog keeps is left for
    the collector. The collector is resumed when the last compilation that paused it ends,
    and left alone when the caller had already paused it.
    """
    global _pauses
    with _pause_lock:
        paused = gc.isenabled() or _pauses > 0
        if paused:
            gc.disable()
            _pauses += 1
    return paused


def resume_collector() -> None:
    global _pauses
    with _pause_lock:
        _pauses -= 1
        if not _pauses:
            gc.enable()
