"""A query's solutions in blocks of columns, written by one compiled walk (no object per row).

:func:`solution_blocks` walks the tree depth first like an odometer, fixing the bags in an
order that puts each after its parent: the last bag's tuple moves fastest, and a bag's
candidates are the tuples alive under the query whose key matches the tuple its parent chose.
Every candidate has completions below it, so the walk never meets a dead end, and each
solution is written once, as one entry in each variable's column of a block (``variables x
rows``, int32), with its unit cost. A column is written a run at a time, when its variable's
value changes (most moves change a few bags only). The order of the bags is picked to keep
most moves short (see :func:`_walk_order`); the order of the solutions is fixed for a query.

The walk's state (the chosen candidate of every bag) lives in arrays between two calls of the
kernel, so a block is filled, handed over, and the walk goes on where it stopped: memory is one
block, whatever the size of the space.
"""

from __future__ import annotations

import heapq
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._walks import fresh_memory
from ._jit import jit, kernel_helper

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ._passes import TreeQuery
    from ._tree import Tree

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
    end of its candidates and the cost so far; the current values and, per variable, the row
    of the block where its current value began (``since``); ``phase[0]`` is 0 before the
    first solution, 1 while walking, 2 when every solution was written."""

    chosen: np.ndarray
    end: np.ndarray
    cost: np.ndarray
    current: np.ndarray
    since: np.ndarray
    phase: np.ndarray


@kernel_helper
def _take(p: int, row: int, written: int, walk: Walk, state: State, out: np.ndarray) -> None:
    """Position ``p`` takes its bag's row ``row`` at block row ``written``: each variable it
    owns whose value changes ends its run (the rows since its last change get the old value),
    and the cost so far adds the row's."""
    values, value_off, width, owned_start, var_of, col_of, cost_of, cost_off = walk[7:]
    _, _, cost, current, since, _ = state
    for k in range(owned_start[p], owned_start[p + 1]):
        var = var_of[k]
        value = values[value_off[p] + row * width[p] + col_of[k]]
        if value != current[var]:
            for r in range(since[var], written):
                out[var, r] = current[var]
            since[var] = written
            current[var] = value
    cost[p] = (cost[p - 1] if p > 0 else 0) + cost_of[cost_off[p] + row]


def _fill(walk: Walk, state: State, out: np.ndarray, out_cost: np.ndarray) -> int:
    """Write the next solutions into ``out`` (variables x rows) and ``out_cost``, up to the
    block's size; the number written (fewer only when the walk ends).

    A variable's column is written a run at a time: when its value changes, the rows since the
    last change get the old value. Most moves of the walk change a few bags only, so most
    columns are long runs, written as contiguous slices rather than one entry per row (a row
    written across all columns touches as many cache lines as there are variables).

    A position taking a row (:func:`_take`) is one compiled helper, called at the two places
    the walk moves (the batch rates of ``benchmarks/feed.py`` are those of the step written
    out in both places).
    """
    parent, cand, cand_start, group_start, group_off, child_group, child_off = walk[:7]
    chosen, end, cost, current, since, phase = state
    n = parent.shape[0]
    size = out_cost.shape[0]
    if phase[0] == 2:
        return 0
    since[:] = 0
    start = 0 if phase[0] == 0 else n  # where positions take their first candidate
    phase[0] = 1
    written = 0
    while True:
        # positions start.. take the first candidate their parent's choice leaves them
        for p in range(start, n):
            q = parent[p]
            group = child_group[child_off[p] + cand[chosen[q]]] if q >= 0 else 0
            base = cand_start[p]
            chosen[p] = base + group_start[group_off[p] + group]
            end[p] = base + group_start[group_off[p] + group + 1]
            _take(p, cand[chosen[p]], written, walk, state, out)
        if written == size:
            break
        out_cost[written] = cost[n - 1]
        written += 1
        # the odometer: the last position that has a next candidate moves on
        p = n - 1
        while p >= 0:
            chosen[p] += 1
            if chosen[p] < end[p]:
                break
            p -= 1
        if p < 0:
            phase[0] = 2
            break
        _take(p, cand[chosen[p]], written, walk, state, out)
        start = p + 1
    # each column's last run; a value changed for the next block's first row starts there
    for var in range(out.shape[0]):
        out[var, since[var] : written] = current[var]
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
    # (cast as they are joined: no whole copy in the parts' type, then another)
    joined: np.ndarray = np.concatenate(parts, dtype=dtype) if parts else np.zeros(0, dtype)
    return joined, offsets


def _walk_order(query: TreeQuery, alive: list[np.ndarray], live: list[list[int]]) -> list[int]:
    """The bags in the order the walk fixes them: each after its parent, and among the bags
    whose parent is fixed, the one with the fewest candidates per parent's choice first.

    The walk's last bags move fastest and every move resets the bags after it: bags that
    their parent's choice (nearly) forces are best fixed early, and those with many
    candidates last, so that most rows change one bag rather than all the forced ones."""
    bags = query.tree.bags
    branching = {}
    for index in query.tree.preorder:
        groups = max(len(bags[index].sep_starts), 1)
        branching[index] = int(np.count_nonzero(alive[index][live[index]])) / groups
    root = query.tree.preorder[0]
    ready = [(branching[root], root)]
    order: list[int] = []
    while ready:
        _, index = heapq.heappop(ready)
        order.append(index)
        for child in bags[index].children:
            heapq.heappush(ready, (branching[child], child))
    return order


#: Each query's layout, made once: a plan's query is reused by every feed of its needs, and
#: making the layout costs as much as walking a few hundred thousand rows of a large model.
_layouts: weakref.WeakKeyDictionary[TreeQuery, Walk] = weakref.WeakKeyDictionary()


def _layout(query: TreeQuery) -> Walk:
    """The walk's layout of ``query``'s tree, keeping the tuples alive under the query (made
    once per query; a layout is only read)."""
    walk = _layouts.get(query)
    if walk is None:
        walk = _layouts[query] = _make_layout(query)
    return walk


class _BagArrays(NamedTuple):
    """What the walk reads of every bag of a tree, whatever the query: its rows' values
    (int32), unit costs and groups under the parent's rows, each end to end in bag order,
    with each bag's offset."""

    values: np.ndarray
    value_off: np.ndarray
    cost: np.ndarray
    cost_off: np.ndarray
    child_group: np.ndarray
    child_off: np.ndarray


#: Each tree's bag arrays, made once (by the tree's id; dropped with the tree): the
#: queries of a tree's sessions and feeds share them. On the decision-making model their
#: values are 88 MB, whose copy was 0.25 s of every step.
_bag_arrays: dict[int, _BagArrays] = {}
_bag_arrays_lock = threading.Lock()


def _arrays_of(tree: Tree) -> _BagArrays:
    found = _bag_arrays.get(id(tree))
    if found is not None:
        return found
    made = _make_bag_arrays(tree)
    with _bag_arrays_lock:
        found = _bag_arrays.get(id(tree))
        if found is None:
            found = _bag_arrays[id(tree)] = made
            weakref.finalize(tree, _bag_arrays.pop, id(tree), None)
    return found


def _make_bag_arrays(tree: Tree) -> _BagArrays:
    bags = tree.bags
    child_groups = []
    for index, bag in enumerate(bags):
        if bag.parent >= 0:
            parent_bag = bags[bag.parent]
            child_groups.append(parent_bag.child_index[parent_bag.children.index(index)])
        else:
            child_groups.append(np.zeros(0, dtype=np.int64))
    # (cast to int32 as they are joined)
    values, value_off = _concat([bag.values.reshape(-1) for bag in bags], np.int32)
    cost, cost_off = _concat([np.asarray(bag.cost_array, dtype=np.int64) for bag in bags], np.int64)
    child_group, child_off = _concat(child_groups, np.int64)
    return _BagArrays(values, value_off, cost, cost_off, child_group, child_off)


def _make_layout(query: TreeQuery) -> Walk:
    tree = query.tree
    bags = tree.bags
    alive = query.alive_tuples()
    live = query.kept.live
    order = _walk_order(query, alive, live)
    position = {index: p for p, index in enumerate(order)}
    parent = np.array([position.get(bags[i].parent, -1) for i in order], dtype=np.int64)
    cands, groups = [], []
    owned_start, var_of, col_of, width = [0], [], [], []
    for index in order:
        bag = bags[index]
        keep = np.zeros(len(bag.sep_ids), dtype=bool)
        keep[np.asarray(live[index], dtype=np.int64)] = True
        rows = np.flatnonzero(keep & alive[index])
        n_groups = len(bag.sep_starts) if len(bag.sep_starts) else 1
        cands.append(rows)
        groups.append(np.searchsorted(bag.sep_ids[rows], np.arange(n_groups + 1)))
        width.append(len(bag.vars))
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
    arrays = _arrays_of(tree)  # (the tree's, by bag: the offsets in walk order)
    by_position = np.array(order, dtype=np.int64)
    return Walk(
        parent,
        cand,
        cand_start,
        group_start,
        group_off,
        arrays.child_group,
        arrays.child_off[by_position],
        arrays.values,
        arrays.value_off[by_position],
        np.array(width, dtype=np.int64),
        np.array(owned_start, dtype=np.int64),
        np.array(var_of, dtype=np.int64),
        np.array(col_of, dtype=np.int64),
        arrays.cost,
        arrays.cost_off[by_position],
    )


def solution_blocks(
    query: TreeQuery, size: int, *, allocate: Callable[[int], Buffer] = fresh_memory
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every solution of ``query`` once, in blocks of at most ``size``: value indexes
    (variables x rows, int32) and unit costs (int64), in a fixed order.

    ``allocate(nbytes)`` gives each block's memory for the value indexes (a writable buffer):
    a caller that hands the blocks on without copying them (to Arrow) can draw them from a
    pool that reuses freed memory, rather than have the system map and clear new pages for
    every block.
    """
    n_vars = query.problem.size
    left = query.count()
    if not left:
        return
    walk = _layout(query)
    n = len(walk.parent)
    state = State(
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(max(n_vars, 1), dtype=np.int32),
        np.zeros(max(n_vars, 1), dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )
    fill = _kernel()
    while state.phase[0] != 2 and left > 0:
        rows = min(size, left)
        memory = allocate(n_vars * rows * 4)
        view = memoryview(memory)
        out = np.frombuffer(view, dtype=np.int32, count=n_vars * rows).reshape(n_vars, rows)
        out_cost = np.empty(rows, dtype=np.int64)
        written = fill(walk, state, out, out_cost)
        left -= written
        if written:
            yield out[:, :written], out_cost[:written]
