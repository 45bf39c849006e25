"""Compiling the engine's kernels with numba, on first use and cached on disk.

A *kernel* is a plain Python function over numpy arrays and integers (the passes of
:mod:`._kernels` and :mod:`._counting`, the bag builder of :mod:`._build_kernel`); :func:`jit`
compiles one. The same function also runs uncompiled where compiled code cannot (keys beyond
64 bits) and in the tests that compare both runs.

A kernel may call small functions marked with :func:`kernel_helper`: they stay plain Python
functions (so the uncompiled kernel calls them as they are) and are registered with numba
before the first kernel is compiled, so compiled kernels call compiled copies, specialised for
their argument types. numba is imported only then: importing the engine stays cheap. A helper
whose loops NumPy runs faster as whole-array operations has two forms
(:func:`plain_form`): the uncompiled kernel calls the NumPy one, compiled kernels the loops.

numba's disk cache is keyed by the kernel's source file, not by the files of the helpers it
calls: a helper lives in the module of the kernels that call it.

Loading numba and the cached kernels costs a new process about 0.4 s, more than a small
catalog's whole compile, count and first session state take as plain Python. So work is tiered,
as a virtual machine tiers its code: :func:`compiled_pays` lets a process run its first
:data:`PLAIN_BUDGET` bag rows plain (a plain pass costs about 25 µs a row, so the budget is
about what loading costs), and loads the compiled kernels once the process has spent that much
or is about to run one larger pass. Both tiers give the same results (the tests compare them).

Loading numba brings in its array functions, which import SciPy's linear algebra when SciPy is
installed (0.25-0.3 s here) only to learn whether ``np.dot`` may call BLAS. No kernel calls
BLAS, so :func:`jit` imports them with that import marked missing (:func:`_without_blas`).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

__all__ = ["PLAIN_BUDGET", "compiled_from_now", "compiled_pays", "jit", "kernel_helper"]

F = TypeVar("F", bound=Callable[..., Any])

_helpers: list[Callable[..., Any]] = []
#: (a helper's plain form, its kernel form): see :func:`plain_form`
_twins: list[tuple[Callable[..., Any], Callable[..., Any]]] = []
_registered = 0
_registered_twins = 0
_lock = threading.Lock()

#: Bag rows (summed over passes) a process runs as plain Python before loading compiled kernels.
PLAIN_BUDGET = 16_000
_plain_left = PLAIN_BUDGET


def _implemented_by(kernel_form: Callable[..., Any]) -> Callable[..., Any]:
    """numba's typing function of a helper's plain form: ``kernel_form``, whatever the
    argument types."""

    def typing(*args: Any, **kwargs: Any) -> Callable[..., Any]:
        return kernel_form

    return typing


def compiled_pays(rows: int) -> bool:
    """Whether a pass over ``rows`` bag rows runs compiled; when not, its rows are taken from
    the process's plain budget. Compiled once numba is loaded (loading it is what is saved)."""
    global _plain_left
    if "numba" in sys.modules:
        return True
    with _lock:
        if rows > _plain_left:
            _plain_left = 0
            return True
        _plain_left -= rows
    return False


def compiled_from_now() -> None:
    """Run every later pass compiled, whatever its size (the tests compare the tiers by
    asking for plain Python where they mean it)."""
    global _plain_left
    with _lock:
        _plain_left = 0


def kernel_helper(function: F) -> F:
    """Mark ``function`` as callable from compiled kernels (returns it unchanged)."""
    _helpers.append(function)
    return function


def plain_form(kernel_form: Callable[..., Any]) -> Callable[[F], F]:
    """Mark the decorated function as the plain-Python form of the helper ``kernel_form``
    (same arguments, same results): uncompiled kernels call it, and it may use any NumPy
    operation; compiled kernels call ``kernel_form`` in its place (its loops compiled)."""

    def mark(function: F) -> F:
        _twins.append((function, kernel_form))
        return function

    return mark


#: What numba's array functions import to learn whether BLAS is there (see :func:`_without_blas`).
_BLAS_MODULE = "scipy.linalg.cython_blas"


@contextmanager
def _without_blas() -> Iterator[None]:
    """SciPy's BLAS marked missing while numba's array functions are imported.

    ``numba.np.arraymath``, imported by a process's first compile or cache load, asks whether
    SciPy's BLAS is there so that ``np.dot`` on floats can call it (else a loop serves). With
    SciPy installed that imports all of ``scipy.linalg``: 0.25-0.3 s, a third of what a new
    process pays before its first compiled pass, and no kernel calls BLAS. ``None`` in
    ``sys.modules`` is the import system's own way to halt an import: the question is answered
    "no" at once, and the mark is removed as soon as the array functions are in. A process
    that has imported either already is left as it is. Only numba's dot product inside
    compiled code then loops for every caller in the process; numba's linear algebra checks
    for BLAS again when it is compiled, and finds it."""
    modules = cast(dict[str, Any], sys.modules)
    if "numba.np.arraymath" in modules or _BLAS_MODULE in modules:
        yield
        return
    modules[_BLAS_MODULE] = None
    try:
        yield
    finally:
        if modules.get(_BLAS_MODULE, _BLAS_MODULE) is None:
            del modules[_BLAS_MODULE]


def jit(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` compiled by numba (cached on disk where a cache location is writable)."""
    global _registered, _registered_twins
    with _lock, _without_blas():
        import numba.np.arraymath  # noqa: F401 (see _without_blas)
    from numba import njit
    from numba.extending import overload, register_jitable

    with _lock:
        for helper in _helpers[_registered:]:
            register_jitable(helper)
        _registered = len(_helpers)
        for plain, kernel_form in _twins[_registered_twins:]:
            overload(plain, strict=False)(_implemented_by(kernel_form))
        _registered_twins = len(_twins)
    compiled: Callable[..., Any]
    try:
        compiled = njit(cache=True, nogil=True, boundscheck=False)(function)
    except RuntimeError:  # no writable cache location: compile in each process
        compiled = njit(nogil=True, boundscheck=False)(function)
    return compiled
