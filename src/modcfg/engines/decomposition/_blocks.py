"""A query's solutions in blocks of columns, written by one compiled walk (no object per row).

:func:`solution_blocks` walks the tree depth first, bags in preorder, like an odometer: the
last bag's tuple moves fastest, and a bag's candidates are the tuples alive under the query
whose key matches the tuple its parent chose. Every candidate has completions below it, so the
walk never meets a dead end, and each solution is written once, as one entry in each variable's
column of a block (``variables x rows``, int32), with its unit cost.

The walk's state (the chosen candidate of every bag) lives in arrays between two calls of the
kernel, so a block is filled, handed over, and the walk goes on where it stopped: memory is one
block, whatever the size of the space. The solutions come in the order of
:meth:`TreeQuery.solutions`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ._jit import jit, kernel_helper

if TYPE_CHECKING:
    from ._passes import TreeQuery

__all__ = ["solution_blocks"]


class Walk(NamedTuple):
    """The tree laid out for the walk, by position in preorder (``p``).

    Candidates of position ``p`` are ``cand[cand_start[p] + group_start[group_off[p] + g] :
    cand_start[p] + group_start[group_off[p] + g + 1]]`` (bag rows), where the group ``g`` is
    ``child_group[child_off[p] + r]`` for the row ``r`` its parent (``parent[p]``) chose. A row
    ``r`` of position ``p`` sets ``var_of[k] = values[value_off[p] + r * width[p] + col_of[k]]``
    for ``k`` in ``owned_start[p]:owned_start[p + 1]``, and costs ``cost[cost_off[p] + r]``.
    """

    parent: np.ndarray
    cand: np.ndarray
    cand_start: np.ndarray
    group_start: np.ndarray
    group_off: np.ndarray
    child_group: np.ndarray
    child_off: np.ndarray
    values: np.ndarray
    value_off: np.ndarray
    width: np.ndarray
    owned_start: np.ndarray
    var_of: np.ndarray
    col_of: np.ndarray
    cost: np.ndarray
    cost_off: np.ndarray


class State(NamedTuple):
    """Where the walk stands: per position the chosen candidate (an index into ``cand``), the
    end of its candidates and the cost so far; the current values; ``phase[0]`` is 0 before
    the first solution, 1 while walking, 2 when every solution was written."""

    chosen: np.ndarray
    end: np.ndarray
    cost: np.ndarray
    current: np.ndarray
    phase: np.ndarray


@kernel_helper
def _set(walk: Walk, state: State, p: int) -> None:
    """Position ``p`` takes its chosen candidate: its variables' values and the cost so far."""
    row = walk.cand[state.chosen[p]]
    for k in range(walk.owned_start[p], walk.owned_start[p + 1]):
        state.current[walk.var_of[k]] = walk.values[
            walk.value_off[p] + row * walk.width[p] + walk.col_of[k]
        ]
    before = state.cost[p - 1] if p > 0 else 0
    state.cost[p] = before + walk.cost[walk.cost_off[p] + row]


@kernel_helper
def _descend(walk: Walk, state: State, start: int) -> None:
    """Positions ``start``.. take the first candidate their parent's choice leaves them."""
    for p in range(start, walk.parent.shape[0]):
        q = walk.parent[p]
        group = walk.child_group[walk.child_off[p] + walk.cand[state.chosen[q]]] if q >= 0 else 0
        base = walk.cand_start[p]
        state.chosen[p] = base + walk.group_start[walk.group_off[p] + group]
        state.end[p] = base + walk.group_start[walk.group_off[p] + group + 1]
        _set(walk, state, p)


def _fill(walk: Walk, state: State, out: np.ndarray, out_cost: np.ndarray) -> int:
    """Write the next solutions into ``out`` (variables x rows) and ``out_cost``, up to the
    block's size; the number written (fewer only when the walk ends)."""
    n = walk.parent.shape[0]
    size = out_cost.shape[0]
    n_vars = out.shape[0]
    if state.phase[0] == 2:
        return 0
    if state.phase[0] == 0:
        _descend(walk, state, 0)
        state.phase[0] = 1
    written = 0
    while written < size:
        for v in range(n_vars):
            out[v, written] = state.current[v]
        out_cost[written] = state.cost[n - 1]
        written += 1
        # the odometer: the last position that has a next candidate moves on
        p = n - 1
        while p >= 0:
            state.chosen[p] += 1
            if state.chosen[p] < state.end[p]:
                break
            p -= 1
        if p < 0:
            state.phase[0] = 2
            return written
        _set(walk, state, p)
        _descend(walk, state, p + 1)
    return written


_compiled: list[Callable[..., int]] = []


def _kernel() -> Callable[..., int]:
    """The compiled :func:`_fill` (compiled on first use)."""
    if not _compiled:
        _compiled.append(jit(_fill))
    return _compiled[0]


def _concat(parts: list[np.ndarray], dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """``parts`` end to end, and each one's offset."""
    sizes = np.array([len(part) for part in parts], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    joined: np.ndarray = np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)
    return joined, offsets


def _layout(query: TreeQuery) -> Walk:
    """The walk's layout of ``query``'s tree, keeping the tuples alive under the query."""
    tree = query.tree
    bags, order = tree.bags, tree.preorder
    position = {index: p for p, index in enumerate(order)}
    alive = query.alive_tuples()
    live = query.kept.live
    parent = np.array([position.get(bags[i].parent, -1) for i in order], dtype=np.int64)
    cands, groups, child_groups, values, costs = [], [], [], [], []
    owned_start, var_of, col_of, width = [0], [], [], []
    for index in order:
        bag = bags[index]
        keep = np.zeros(len(bag.sep_ids), dtype=bool)
        keep[np.asarray(live[index], dtype=np.int64)] = True
        rows = np.flatnonzero(keep & alive[index])
        n_groups = len(bag.sep_starts) if len(bag.sep_starts) else 1
        cands.append(rows)
        groups.append(np.searchsorted(bag.sep_ids[rows], np.arange(n_groups + 1)))
        if bag.parent >= 0:
            parent_bag = bags[bag.parent]
            child_groups.append(parent_bag.child_index[parent_bag.children.index(index)])
        else:
            child_groups.append(np.zeros(0, dtype=np.int64))
        values.append(np.ascontiguousarray(bag.values, dtype=np.int32).ravel())
        width.append(len(bag.vars))
        costs.append(np.asarray(bag.cost_array, dtype=np.int64))
    owned: dict[int, list[tuple[int, int]]] = {}
    for var, (index, column) in enumerate(tree.owner):
        owned.setdefault(position[index], []).append((var, column))
    for p in range(len(order)):
        for var, column in owned.get(p, []):
            var_of.append(var)
            col_of.append(column)
        owned_start.append(len(var_of))
    cand, cand_start = _concat(cands, np.int64)
    group_start, group_off = _concat(groups, np.int64)
    child_group, child_off = _concat(child_groups, np.int64)
    flat_values, value_off = _concat(values, np.int32)
    cost, cost_off = _concat(costs, np.int64)
    return Walk(
        parent,
        cand,
        cand_start,
        group_start,
        group_off,
        child_group,
        child_off,
        flat_values,
        value_off,
        np.array(width, dtype=np.int64),
        np.array(owned_start, dtype=np.int64),
        np.array(var_of, dtype=np.int64),
        np.array(col_of, dtype=np.int64),
        cost,
        cost_off,
    )


def solution_blocks(query: TreeQuery, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every solution of ``query`` once, in blocks of at most ``size``: value indexes
    (variables x rows, int32) and unit costs (int64), in the order of ``query.solutions()``."""
    n_vars = query.problem.size
    if not query.count():
        return
    walk = _layout(query)
    n = len(walk.parent)
    state = State(
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(max(n_vars, 1), dtype=np.int32),
        np.zeros(1, dtype=np.int64),
    )
    fill = _kernel()
    while state.phase[0] != 2:
        out = np.empty((n_vars, size), dtype=np.int32)
        out_cost = np.empty(size, dtype=np.int64)
        written = fill(walk, state, out, out_cost)
        if written:
            yield out[:, :written], out_cost[:written]
