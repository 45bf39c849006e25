"""The passes over a tree's flat layout, compiled or plain: :func:`kernels` gives them all.

A pass is a loop over the rows of every bag in the flat layout of :mod:`._layout`, compiled with
numba the first time it runs (and cached on disk, see :mod:`._jit`), so a pass over a tree of a
hundred small bags is one call rather than thousands of small array operations. When keys do not
fit in 64 bits (object arrays of Python integers), the same functions run as plain Python:
slower, equally exact.

This module holds the passes that do not count: the value filter :func:`_mask`, the
early-stopping feasibility pass :func:`_alive` and the largest key :func:`_worst`. The counting
passes are in :mod:`._counting` and :mod:`._path_counting` (a session step's upward pass),
Garner's reconstruction of exact counts in :mod:`._residues`.
A row is *alive* when its cheapest key is below ``big`` (:data:`BIG` for 64-bit keys): keys are
exact integers well below it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._counting import _down, _marginals, _up
from ._jit import jit
from ._layout import Columns, Layout
from ._path_counting import _up_path
from ._residues import _garner

__all__ = ["BIG", "Kernels", "kernels"]

#: Stands for "no completion" (every key stays well below it).
BIG = 1 << 60


def _mask(columns: Columns, allowed: np.ndarray, mask: np.ndarray) -> None:
    """``mask[row] = False`` where a variable read in the row's bag takes a value that
    ``allowed`` (indexed like ``columns.val_start``) does not allow."""
    var_bag, var_col_start, var_col, val_start, start = columns
    for v in range(var_bag.shape[0]):
        b = var_bag[v]
        s = start[b]
        cs = var_col_start[v]
        vs = val_start[v]
        for i in range(start[b + 1] - s):
            if not allowed[vs + var_col[cs + i]]:
                mask[s + i] = False


def _alive(layout: Layout, mask: np.ndarray, msg_alive: np.ndarray) -> bool:
    """Whether any solution exists: an upward pass of "has a completion" flags alone. A row
    whose separator key is already known to have one is skipped, and a bag with a single
    key (the root's children: the whole of a component) stops at its first live row."""
    order, start, msg_start, sep, edge_begin, edge_child, link_start, links = layout
    for oi in range(order.shape[0] - 1, -1, -1):
        b = order[oi]
        s = start[b]
        ms = msg_start[b]
        me = msg_start[b + 1]
        for k in range(ms, me):
            msg_alive[k] = False
        single = me - ms == 1
        e0 = edge_begin[b]
        e1 = edge_begin[b + 1]
        for t in range(s, start[b + 1]):
            if not mask[t]:
                continue
            k = ms + sep[t]
            if msg_alive[k]:
                continue
            live = True
            for ed in range(e0, e1):
                if not msg_alive[msg_start[edge_child[ed]] + links[link_start[ed] + t - s]]:
                    live = False
                    break
            if live:
                msg_alive[k] = True
                if single:
                    break
    return bool(msg_alive[msg_start[order[0]]])


def _worst(
    layout: Layout, key: np.ndarray, up_best: np.ndarray, msg_worst: np.ndarray, big: int
) -> None:
    """The largest key of a completion, per separator key (a max-plus upward pass over the
    rows that have a completion, ``up_best < big``)."""
    order, start, msg_start, sep, edge_begin, edge_child, link_start, links = layout
    for oi in range(order.shape[0] - 1, -1, -1):
        b = order[oi]
        s = start[b]
        ms = msg_start[b]
        for k in range(ms, msg_start[b + 1]):
            msg_worst[k] = -big
        for t in range(s, start[b + 1]):
            if up_best[t] >= big:
                continue
            worst = key[t]
            for ed in range(edge_begin[b], edge_begin[b + 1]):
                worst += msg_worst[msg_start[edge_child[ed]] + links[link_start[ed] + t - s]]
            k = ms + sep[t]
            if worst > msg_worst[k]:
                msg_worst[k] = worst


@dataclass(frozen=True)
class Kernels:
    """The passes, compiled (int64 keys) or plain Python (keys as Python integers)."""

    mask: Callable[..., None]
    alive: Callable[..., bool]
    up: Callable[..., None]
    up_path: Callable[..., None]
    down: Callable[..., None]
    marginals: Callable[..., None]
    worst: Callable[..., None]
    garner: Callable[..., None]


_FUNCTIONS = (_mask, _alive, _up, _up_path, _down, _marginals, _worst, _garner)
_PLAIN = Kernels(*_FUNCTIONS)
_compiled: Kernels | None = None
_lock = threading.Lock()


def kernels(*, compiled: bool = True) -> Kernels:
    """The kernels; compiled ones are built (or loaded from numba's disk cache) on first use."""
    global _compiled
    if not compiled:
        return _PLAIN
    if _compiled is None:
        with _lock:
            if _compiled is None:
                _compiled = Kernels(*(jit(f) for f in _FUNCTIONS))
    return _compiled
