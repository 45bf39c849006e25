"""Walking a query's tree for solutions: every one, all at once as arrays, or by key.

Every walk follows only tuples with completions below them (from the query's upward pass),
so it never meets a dead end.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..._errors import LimitExceeded
from ._tree import Key

if TYPE_CHECKING:
    from ._passes import TreeQuery

__all__ = ["by_key", "solution_array", "solutions"]

#: Search steps between two readings of the clock (a step takes microseconds).
_CHECK_EVERY = 64


def _candidates(query: TreeQuery, *, ranked: bool) -> list[dict[Key, list[int]]]:
    """Per bag: separator key -> live tuple positions with completions (ranked: by best)."""
    result: list[dict[Key, list[int]]] = []
    for index, bag in enumerate(query.tree.bags):
        groups: dict[Key, list[int]] = {}
        sep = bag.sep
        counts = query.below.alive[index]
        for i, ti in enumerate(query.kept.live[index]):
            if counts[i]:
                groups.setdefault(sep(bag.tuples[ti]), []).append(i)
        if ranked:
            bests = query.below.best[index]
            for positions in groups.values():
                positions.sort(key=bests.__getitem__)
        result.append(groups)
    return result


def _assignment(query: TreeQuery, chosen: Sequence[int]) -> list[int]:
    """Chosen live positions (in preorder) -> value index per variable."""
    values = [0] * query.problem.size
    bags = query.tree.bags
    live = query.kept.live
    for index, i in zip(query.tree.preorder, chosen, strict=True):
        bag = bags[index]
        t = bag.tuples[live[index][i]]
        for p in bag.owned:
            values[bag.vars[p]] = t[p]
    return values


def _walk(
    query: TreeQuery,
) -> tuple[
    list[int], list[int], list[Callable[[tuple[int, ...]], Key]], list[list[tuple[int, ...]]]
]:
    """The bags in preorder, each one's parent position in that order, the function giving
    the key a tuple of the parent shares with it, and its live tuples."""
    order = query.tree.preorder
    bags = query.tree.bags
    position_of = {index: pos for pos, index in enumerate(order)}
    parent_pos = [position_of.get(bags[index].parent, -1) for index in order]
    key_of: list[Callable[[tuple[int, ...]], Key]] = []
    for index in order:
        bag = bags[index]
        if bag.parent < 0:
            key_of.append(bag.sep)
        else:
            parent = bags[bag.parent]
            key_of.append(parent.child_keys[parent.children.index(index)])
    live = query.kept.live
    tuples_at = [[bags[index].tuples[ti] for ti in live[index]] for index in order]
    return order, parent_pos, key_of, tuples_at


def solutions(query: TreeQuery, *, deadline: float | None = None) -> Iterator[list[int]]:
    """Every solution once, as a value index per variable, without dead ends.

    ``deadline`` (a :func:`time.monotonic` value) raises :class:`LimitExceeded` once passed.
    """
    if not query.count():
        return
    groups = _candidates(query, ranked=False)
    order, parent_pos, key_of, tuples_at = _walk(query)
    n = len(order)
    chosen = [0] * n
    iterators: list[Iterator[int]] = [iter(groups[order[0]].get((), []))]
    steps = 0
    while iterators:
        steps += 1
        if deadline is not None and not steps % _CHECK_EVERY and time.monotonic() > deadline:
            raise LimitExceeded(f"the enumeration passed its deadline after {steps} steps")
        depth = len(iterators) - 1
        i = next(iterators[-1], None)
        if i is None:
            iterators.pop()
            continue
        chosen[depth] = i
        if depth + 1 == n:
            yield _assignment(query, chosen)
            continue
        nxt = depth + 1
        parent_t = tuples_at[parent_pos[nxt]][chosen[parent_pos[nxt]]]
        iterators.append(iter(groups[order[nxt]].get(key_of[nxt](parent_t), [])))


def solution_array(query: TreeQuery) -> tuple[np.ndarray, np.ndarray]:
    """Every solution at once: value indexes (solutions x variables) and unit costs.

    A vectorised expansion down the tree: each step repeats the current rows once per
    matching tuple of the next bag. Only the bags whose children are still to come are
    carried along; the full rows are put together at the end by walking the steps back.
    """
    bags = query.tree.bags
    order = query.tree.preorder
    n_vars = query.problem.size
    if not query.count():
        return np.zeros((0, n_vars), dtype=np.int32), np.zeros(0, dtype=np.int64)
    alive = query.alive_tuples()
    pending = {index: len(bags[index].children) for index in order}
    frontier: dict[int, np.ndarray] = {0: np.zeros(1, dtype=np.int32)}
    cost = np.zeros(1, dtype=np.int64)
    steps: list[tuple[int, np.ndarray, np.ndarray]] = []  # bag, picked, row -> previous row
    for index in order[1:]:
        bag = bags[index]
        parent = bags[bag.parent]
        j = parent.children.index(index)
        keys = parent.child_index[j][frontier[bag.parent]]
        valid = np.flatnonzero(alive[index])
        per_key = np.bincount(bag.sep_ids[valid], minlength=len(bag.sep_starts))
        offsets = np.concatenate(([0], np.cumsum(per_key)[:-1]))
        repeats = per_key[keys]
        total = int(repeats.sum())
        starts = np.repeat(offsets[keys], repeats)
        within = np.arange(total) - np.repeat(np.cumsum(repeats) - repeats, repeats)
        picked = valid[starts + within].astype(np.int32)
        back = np.repeat(np.arange(len(repeats), dtype=np.int32), repeats)
        cost = cost[back] + bag.cost_array[picked]
        pending[bag.parent] -= 1
        if not pending[bag.parent]:
            del frontier[bag.parent]
        frontier = {other: column[back] for other, column in frontier.items()}
        if bag.children:
            frontier[index] = picked
        steps.append((index, picked, back))
    values = np.zeros((len(cost), n_vars), dtype=np.int32)
    owned: dict[int, list[tuple[int, int]]] = {}
    for var, (index, position) in enumerate(query.tree.owner):
        owned.setdefault(index, []).append((var, position))
    rows = np.arange(len(cost), dtype=np.int32)
    for index, picked, back in reversed(steps):
        tuples = picked[rows]
        for var, position in owned.get(index, ()):
            values[:, var] = bags[index].values[tuples, position]
        rows = back[rows]
    return values, cost


def by_key(query: TreeQuery, *, deadline: float | None = None) -> Iterator[tuple[int, list[int]]]:
    """Every solution once, by non-decreasing key (unit price, then -score); solutions of
    equal keys by the lexicographic order of their rank vectors (per bag in preorder, the
    rank of its tuple among the candidates its parent's tuple leaves, cheapest first).

    A best-first search over partial solutions (a prefix of the preorder). An entry's bound is
    the cheapest key of any completion of its prefix, exact since every candidate has a
    completion; an entry stands for its last tuple and that tuple's later siblings, so each
    prefix is pushed once, by its previous sibling (the root's first tuple starts the heap).
    Entries are ordered by (bound, rank vector): a prefix's first child is its immediate
    successor in that order, so after each pop the search goes straight down to a solution
    without the heap, pushing the next sibling of each tuple it takes, and ties never widen
    the frontier: one pop and at most n pushes per solution (n bags).
    ``deadline`` (a :func:`time.monotonic` value) raises :class:`LimitExceeded` once passed.
    """
    if not query.count():
        return
    groups = _candidates(query, ranked=True)
    order, parent_pos, key_of, tuples_at = _walk(query)
    bests = [query.below.best[index] for index in order]
    n = len(order)

    def candidates(pos: int, chosen: Sequence[int]) -> list[int]:
        if pos == 0:
            return groups[order[0]].get((), [])
        parent = parent_pos[pos]
        parent_t = tuples_at[parent][chosen[parent]]
        return groups[order[pos]].get(key_of[pos](parent_t), [])

    root = candidates(0, ())
    # (bound, ranks, chosen): ranks identify an entry, so chosen is never compared
    heap: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = [
        (bests[0][root[0]], (0,), (root[0],))
    ]
    steps = 0
    while heap:
        f, popped_ranks, popped = heapq.heappop(heap)
        ranks, chosen = list(popped_ranks), list(popped)
        pos = len(chosen) - 1
        # down to a solution: each first child would be the next entry popped (see above),
        # so it is taken without the heap; only the siblings passed on the way are pushed
        while True:
            steps += 1
            if deadline is not None and not steps % _CHECK_EVERY and time.monotonic() > deadline:
                raise LimitExceeded(f"the ordered search passed its deadline after {steps} steps")
            rank = ranks[-1]
            options = candidates(pos, chosen)
            if rank + 1 < len(options):
                sibling = options[rank + 1]
                f_sibling = f - bests[pos][options[rank]] + bests[pos][sibling]
                heapq.heappush(heap, (f_sibling, (*ranks[:-1], rank + 1), (*chosen[:-1], sibling)))
            if pos + 1 == n:
                break
            chosen.append(candidates(pos + 1, chosen)[0])
            ranks.append(0)
            pos += 1
        yield f, _assignment(query, chosen)
