"""Compiling the engine's kernels with numba, on first use and cached on disk.

A *kernel* is a plain Python function over numpy arrays and integers (the passes of
:mod:`._kernels` and :mod:`._counting`, the bag builder of :mod:`._build_kernel`); :func:`jit`
compiles one. The same function also runs uncompiled where compiled code cannot (keys beyond
64 bits) and in the tests that compare both runs.

A kernel may call small functions marked with :func:`kernel_helper`: they stay plain Python
functions (so the uncompiled kernel calls them as they are) and are registered with numba
before the first kernel is compiled, so compiled kernels call compiled copies, specialised for
their argument types. numba is imported only then: importing the engine stays cheap.

numba's disk cache is keyed by the kernel's source file, not by the files of the helpers it
calls: a helper lives in the module of the kernels that call it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["jit", "kernel_helper"]

F = TypeVar("F", bound=Callable[..., Any])

_helpers: list[Callable[..., Any]] = []
_registered = 0
_lock = threading.Lock()


def kernel_helper(function: F) -> F:
    """Mark ``function`` as callable from compiled kernels (returns it unchanged)."""
    _helpers.append(function)
    return function


def jit(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` compiled by numba (cached on disk where a cache location is writable)."""
    global _registered
    from numba import njit
    from numba.extending import register_jitable

    with _lock:
        for helper in _helpers[_registered:]:
            register_jitable(helper)
        _registered = len(_helpers)
    compiled: Callable[..., Any]
    try:
        compiled = njit(cache=True, nogil=True, boundscheck=False)(function)
    except RuntimeError:  # no writable cache location: compile in each process
        compiled = njit(nogil=True, boundscheck=False)(function)
    return compiled
