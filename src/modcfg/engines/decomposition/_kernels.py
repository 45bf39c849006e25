"""Compiled kernels for the passes over a tree's bag tuples.

Every bag's tuples are laid end to end in one flat layout (:class:`Flat`): tuple ``t`` of bag
``b`` is row ``start[b] + t`` of the query's arrays, and the separator keys a bag shares with its
parent are numbered from ``msg_start[b]`` in one message space. The passes are loops over that
layout, compiled with numba the first time they run (and cached on disk), so a pass over a tree
of a hundred small bags is one call rather than thousands of small array operations.

Counts are residues modulo primes below 2**31 (the caller turns them into exact integers by the
Chinese remainder theorem), or, when every count stays below 2**62, plain 64-bit integers: the
single "modulus" 0 means no reduction, and the ``*_exact`` passes keep one count per row. A
tuple is *alive* when its cheapest key is below ``big`` (:data:`BIG` for 64-bit keys): keys are
exact integers well below it, so "has a completion" needs no separate flag, and a residue that
happens to be zero is never mistaken for a zero count.

When keys do not fit in 64 bits (object arrays of Python integers), the same functions run as
plain Python: slower, equally exact.

The residue passes (``_up``, ``_down``, ``_marginals``) and Garner's reconstruction live in
:mod:`._residue_kernels`; this module holds the layout, the other kernels and the compiled set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from ._residue_kernels import _down, _garner, _marginals, _up

if TYPE_CHECKING:
    from ._tree import Tree

__all__ = ["BIG", "Flat", "Kernels", "flatten", "jit", "kernels"]

#: Stands for "no completion" (every key stays well below it).
BIG = 1 << 60


@dataclass(frozen=True)
class Flat:
    """The bags of a tree laid end to end (all arrays int64 unless noted).

    ``order``: bags in preorder. ``start`` (bags + 1): first row of each bag. ``msg_start``
    (bags + 1): first separator key of each bag. ``sep`` (rows): a tuple's separator key within
    its bag. ``edge_begin`` (bags + 1): a bag's child edges; ``edge_child``: the child of an edge;
    ``links[link_start[e] + i]``: the child's separator key matching the parent's tuple ``i``.
    ``var_bag``, ``var_col_start``, ``var_col``: per variable, the bag that introduces it and its
    value in each of that bag's tuples; ``val_start``: first slot of each variable's values in a
    flat array over every (variable, value). ``cost``: each tuple's unit cost.
    """

    order: np.ndarray
    start: np.ndarray
    msg_start: np.ndarray
    sep: np.ndarray
    edge_begin: np.ndarray
    edge_child: np.ndarray
    link_start: np.ndarray
    links: np.ndarray
    var_bag: np.ndarray
    var_col_start: np.ndarray
    var_col: np.ndarray
    val_start: np.ndarray
    cost: np.ndarray
    max_children: int

    @property
    def rows(self) -> int:
        return int(self.start[-1])

    @property
    def keys(self) -> int:
        return int(self.msg_start[-1])

    @property
    def values(self) -> int:
        return int(self.val_start[-1])

    def flat_allowed(self, allowed: list[list[bool]]) -> np.ndarray:
        """A problem's allowed values as one Boolean array indexed by ``val_start``."""
        return np.fromiter(chain.from_iterable(allowed), dtype=bool, count=self.values)


def _int64(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _costs(parts: list[np.ndarray]) -> np.ndarray:
    """Every tuple's cost: int64, or Python integers when a bag's costs exceed 64 bits."""
    if any(part.dtype == object for part in parts):
        return np.concatenate([part.astype(object) for part in parts])
    return _concat(parts)


def flatten(tree: Tree) -> Flat:
    """The flat layout of ``tree`` (its bags must be materialised)."""
    bags = tree.bags
    sizes = [len(bag.values) for bag in bags]
    start = _int64([0, *np.cumsum(sizes).tolist()])
    msg_start = _int64([0, *np.cumsum([len(bag.sep_starts) for bag in bags]).tolist()])
    edge_begin, edge_child, link_start, links = [0], [], [], []
    offset = 0
    for bag, size in zip(bags, sizes, strict=True):
        for child, link in zip(bag.children, bag.child_index, strict=True):
            edge_child.append(child)
            link_start.append(offset)
            links.append(link)
            offset += size
        edge_begin.append(len(edge_child))
    var_col_start, var_col = [], []
    offset = 0
    for index, position in tree.owner:
        var_col_start.append(offset)
        var_col.append(bags[index].values[:, position])
        offset += sizes[index]
    domains = [len(row) for row in tree.problem.allowed]
    return Flat(
        order=_int64(tree.preorder),
        start=start,
        msg_start=msg_start,
        sep=_concat([bag.sep_ids for bag in bags]),
        edge_begin=_int64(edge_begin),
        edge_child=_int64(edge_child),
        link_start=_int64(link_start),
        links=_concat(links),
        var_bag=_int64([index for index, _ in tree.owner]),
        var_col_start=_int64(var_col_start),
        var_col=_concat(var_col),
        val_start=_int64([0, *np.cumsum(domains).tolist()]),
        cost=_costs([bag.cost_array for bag in bags]),
        max_children=max((len(bag.children) for bag in bags), default=0),
    )


# -- the kernels (plain Python; compiled on first use) ------------------------------------------
# (the residue passes and _garner are in ._residue_kernels)


def _mask(
    var_bag: np.ndarray,
    var_col_start: np.ndarray,
    var_col: np.ndarray,
    val_start: np.ndarray,
    start: np.ndarray,
    allowed: np.ndarray,
    mask: np.ndarray,
) -> None:
    """mask[row] = every variable a row's bag introduces takes an allowed value."""
    for v in range(var_bag.shape[0]):
        b = var_bag[v]
        s = start[b]
        cs = var_col_start[v]
        vs = val_start[v]
        for i in range(start[b + 1] - s):
            if not allowed[vs + var_col[cs + i]]:
                mask[s + i] = False


def _alive(
    order: np.ndarray,
    start: np.ndarray,
    msg_start: np.ndarray,
    edge_begin: np.ndarray,
    edge_child: np.ndarray,
    link_start: np.ndarray,
    links: np.ndarray,
    sep: np.ndarray,
    mask: np.ndarray,
    msg_alive: np.ndarray,
) -> bool:
    """Whether any solution exists: an upward pass of "has a completion" flags alone. A row
    whose separator key is already known to have one is skipped, and a bag with a single
    key (the root's children: the whole of a component) stops at its first live row."""
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
    order: np.ndarray,
    start: np.ndarray,
    msg_start: np.ndarray,
    edge_begin: np.ndarray,
    edge_child: np.ndarray,
    link_start: np.ndarray,
    links: np.ndarray,
    sep: np.ndarray,
    key: np.ndarray,
    up_best: np.ndarray,
    msg_worst: np.ndarray,
    big: int,
) -> None:
    """The largest key of a completion, per separator key (a max-plus upward pass)."""
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


# -- the same passes for exact 64-bit counts (every count below 2**62: no residues) ----------
# One count per row instead of a row of residues: half the work of the general passes.


def _up_exact(
    order: np.ndarray,
    start: np.ndarray,
    msg_start: np.ndarray,
    edge_begin: np.ndarray,
    edge_child: np.ndarray,
    link_start: np.ndarray,
    links: np.ndarray,
    sep: np.ndarray,
    mask: np.ndarray,
    key: np.ndarray,
    up_count: np.ndarray,
    up_best: np.ndarray,
    msg_count: np.ndarray,
    msg_best: np.ndarray,
    big: int,
) -> None:
    """:func:`_up` with one exact count per row and per separator key."""
    for oi in range(order.shape[0] - 1, -1, -1):
        b = order[oi]
        s = start[b]
        ms = msg_start[b]
        for k in range(ms, msg_start[b + 1]):
            msg_best[k] = big
            msg_count[k] = 0
        e0 = edge_begin[b]
        e1 = edge_begin[b + 1]
        for t in range(s, start[b + 1]):
            best = big
            count = 0
            if mask[t]:
                best = key[t]
                count = 1
                for ed in range(e0, e1):
                    m = msg_start[edge_child[ed]] + links[link_start[ed] + t - s]
                    below = msg_best[m]
                    if below >= big:
                        best = big
                        break
                    best += below
                    count *= msg_count[m]
            up_best[t] = best
            if best < big:
                up_count[t] = count
                k = ms + sep[t]
                if best < msg_best[k]:
                    msg_best[k] = best
                msg_count[k] += count
            else:
                up_count[t] = 0


def _down_exact(
    order: np.ndarray,
    start: np.ndarray,
    msg_start: np.ndarray,
    edge_begin: np.ndarray,
    edge_child: np.ndarray,
    link_start: np.ndarray,
    links: np.ndarray,
    sep: np.ndarray,
    up_best: np.ndarray,
    msg_count: np.ndarray,
    msg_best: np.ndarray,
    down_count: np.ndarray,
    down_best: np.ndarray,
    dmsg_count: np.ndarray,
    dmsg_best: np.ndarray,
    prefix: np.ndarray,
    big: int,
) -> None:
    """:func:`_down` with one exact count per row and per separator key."""
    for k in range(dmsg_best.shape[0]):
        dmsg_best[k] = big
        dmsg_count[k] = 0
    root = order[0]
    for t in range(start[root], start[root + 1]):
        down_best[t] = 0
        down_count[t] = 1
    for oi in range(order.shape[0]):
        b = order[oi]
        e0 = edge_begin[b]
        e1 = edge_begin[b + 1]
        if e0 == e1:
            continue
        s = start[b]
        for t in range(s, start[b + 1]):
            if up_best[t] >= big or down_best[t] >= big:
                continue
            total = up_best[t] + down_best[t]
            if e1 - e0 == 1:
                m = msg_start[edge_child[e0]] + links[link_start[e0] + t - s]
                outside = total - msg_best[m]
                if outside < dmsg_best[m]:
                    dmsg_best[m] = outside
                dmsg_count[m] += down_count[t]
                continue
            if e1 - e0 == 2:  # (common) each child's outside is the other's count
                m = msg_start[edge_child[e0]] + links[link_start[e0] + t - s]
                n = msg_start[edge_child[e0 + 1]] + links[link_start[e0 + 1] + t - s]
                outside = total - msg_best[m]
                if outside < dmsg_best[m]:
                    dmsg_best[m] = outside
                outside = total - msg_best[n]
                if outside < dmsg_best[n]:
                    dmsg_best[n] = outside
                dmsg_count[m] += down_count[t] * msg_count[n]
                dmsg_count[n] += down_count[t] * msg_count[m]
                continue
            prefix[0] = down_count[t]
            for i in range(e1 - e0):
                m = msg_start[edge_child[e0 + i]] + links[link_start[e0 + i] + t - s]
                prefix[i + 1] = prefix[i] * msg_count[m]
            suffix = 1
            for i in range(e1 - e0 - 1, -1, -1):
                m = msg_start[edge_child[e0 + i]] + links[link_start[e0 + i] + t - s]
                outside = total - msg_best[m]
                if outside < dmsg_best[m]:
                    dmsg_best[m] = outside
                dmsg_count[m] += prefix[i] * suffix
                suffix *= msg_count[m]
        for ed in range(e0, e1):
            c = edge_child[ed]
            cms = msg_start[c]
            for ct in range(start[c], start[c + 1]):
                k = cms + sep[ct]
                down_best[ct] = dmsg_best[k]
                down_count[ct] = dmsg_count[k]


def _marginals_exact(
    var_bag: np.ndarray,
    var_col_start: np.ndarray,
    var_col: np.ndarray,
    val_start: np.ndarray,
    start: np.ndarray,
    up_count: np.ndarray,
    up_best: np.ndarray,
    down_count: np.ndarray,
    down_best: np.ndarray,
    out_count: np.ndarray,
    out_best: np.ndarray,
    big: int,
) -> None:
    """:func:`_marginals` with one exact count per row and per value; a bag's rows are read
    once for all the variables it introduces."""
    for x in range(out_best.shape[0]):
        out_best[x] = big
        out_count[x] = 0
    by_bag = np.argsort(var_bag, kind="mergesort")
    n = by_bag.shape[0]
    first = 0
    while first < n:
        b = var_bag[by_bag[first]]
        last = first + 1
        while last < n and var_bag[by_bag[last]] == b:
            last += 1
        s = start[b]
        for i in range(start[b + 1] - s):
            t = s + i
            if up_best[t] >= big or down_best[t] >= big:
                continue
            best = up_best[t] + down_best[t]
            count = up_count[t] * down_count[t]
            for j in range(first, last):
                v = by_bag[j]
                x = val_start[v] + var_col[var_col_start[v] + i]
                if best < out_best[x]:
                    out_best[x] = best
                out_count[x] += count
        first = last


@dataclass(frozen=True)
class Kernels:
    """The passes, compiled (int64 keys) or plain Python (keys as Python integers)."""

    mask: Callable[..., None]
    alive: Callable[..., bool]
    up: Callable[..., None]
    down: Callable[..., None]
    marginals: Callable[..., None]
    worst: Callable[..., None]
    garner: Callable[..., None]
    up_exact: Callable[..., None]
    down_exact: Callable[..., None]
    marginals_exact: Callable[..., None]


_FUNCTIONS = (
    _mask,
    _alive,
    _up,
    _down,
    _marginals,
    _worst,
    _garner,
    _up_exact,
    _down_exact,
    _marginals_exact,
)
_PLAIN = Kernels(*_FUNCTIONS)
_compiled: Kernels | None = None
_lock = threading.Lock()


def jit(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` compiled by numba (cached on disk where a cache location is writable)."""
    from numba import njit

    compiled_function: Callable[..., Any]
    try:
        compiled_function = njit(cache=True, nogil=True, boundscheck=False)(function)
    except RuntimeError:  # no writable cache location: compile in each process
        compiled_function = njit(nogil=True, boundscheck=False)(function)
    return compiled_function


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
