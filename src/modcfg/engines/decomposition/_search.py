"""Walking a query's tree for solutions: every one, all at once as arrays, or by key.

Every walk follows only tuples with completions below them (from the query's upward pass),
so it never meets a dead end.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from ..._errors import TimeLimitExceeded
from .._protocol import ranked_within, restricted_supports
from .._walks import Kept
from ._blocks import solution_blocks
from ._sample import Sampler

if TYPE_CHECKING:
    from .._protocol import Allocate
    from .._walks import Block, Draws, Weights
    from ._passes import TreeQuery

__all__ = ["Walks", "by_key", "solution_array", "solutions", "up_to_key"]

#: Search steps between two readings of the clock (a step takes microseconds).
_CHECK_EVERY = 64


@dataclass(frozen=True)
class _Walk:
    """What the walks read, per bag in preorder (position ``pos``): the rows with completions
    below them, grouped by the key they share with the parent, in row order or, ranked,
    cheapest completion first (ties in row order); the parent's position; and where to find,
    for a row of the parent, the key it shares with this bag. Built from the tree's flat
    layout in a few array operations over every row at once: no tuple of values is made for
    a row the walk does not reach.

    ``rows`` holds every bag's grouped rows (each a row index within its bag); the group of
    separator key ``k`` (numbered in the layout's message space) is
    ``rows[start[k]:start[k + 1]]``; bag ``pos``'s key for row ``i`` of its parent is
    ``key_base[pos] + links[link_base[pos] + i]`` (the root's one group: ``key_base[0]``)."""

    order: list[int]
    first_row: list[int]  # per position: its bag's first row in the flat layout
    parent_pos: list[int]
    rows: list[int]
    start: list[int]
    key_base: list[int]
    link_base: list[int]
    links: np.ndarray

    @classmethod
    def of(cls, query: TreeQuery, *, ranked: bool) -> _Walk:
        flat = query.tree.flat
        order, row_start, msg_start, sep, _, edge_child, link_start, links = flat.layout
        valid = np.flatnonzero(query.alive_rows())
        bag_of = np.repeat(np.arange(len(row_start) - 1), np.diff(row_start))[valid]
        keys = msg_start[bag_of] + sep[valid]  # ascending: bags in order, rows by key
        if ranked:
            cheapest = query.cheapest_below()[valid]
            if cheapest.dtype == object:  # keys beyond 64 bits: a stable sort of ints
                key_list, values = keys.tolist(), cheapest.tolist()
                by = sorted(range(len(valid)), key=lambda i: (key_list[i], values[i]))
                sorted_at = np.asarray(by, dtype=np.int64)
            else:
                sorted_at = np.lexsort((cheapest, keys))
            valid, bag_of = valid[sorted_at], bag_of[sorted_at]
        counts = np.bincount(keys, minlength=flat.keys)
        edge_of = np.full(len(row_start) - 1, -1, dtype=np.int64)
        edge_of[edge_child] = np.arange(len(edge_child))
        bag_order = order.tolist()
        position_of = {index: pos for pos, index in enumerate(bag_order)}
        bags = query.tree.bags
        return cls(
            order=bag_order,
            first_row=row_start[order].tolist(),
            parent_pos=[position_of.get(bags[index].parent, -1) for index in bag_order],
            rows=(valid - row_start[bag_of]).tolist(),
            start=[0, *np.cumsum(counts).tolist()],
            key_base=msg_start[order].tolist(),
            link_base=[int(link_start[e]) if e >= 0 else 0 for e in edge_of[order].tolist()],
            links=links,
        )

    def span(self, pos: int, chosen: Sequence[int]) -> tuple[int, int]:
        """The range, in ``rows``, of the rows of bag ``pos`` that go with the rows ``chosen``
        at the positions before it."""
        key = self.key_base[pos]
        if pos:
            key += self.links.item(self.link_base[pos] + chosen[self.parent_pos[pos]])
        start = self.start
        return start[key], start[key + 1]


def _assignment(query: TreeQuery, order: Sequence[int], chosen: Sequence[int]) -> list[int]:
    """The rows ``chosen`` of the bags in ``order`` -> value index per variable."""
    values = [0] * query.problem.size
    bags = query.tree.bags
    for index, row in zip(order, chosen, strict=True):
        bag = bags[index]
        if bag.owned:
            taken = bag.values[row].tolist()
            for p in bag.owned:
                values[bag.vars[p]] = taken[p]
    return values


def solutions(query: TreeQuery, *, deadline: float | None = None) -> Iterator[list[int]]:
    """Every solution once, as a value index per variable, without dead ends.

    ``deadline`` (a :func:`time.monotonic` value) raises :class:`LimitExceeded` once passed.
    """
    if not query.count():
        return
    walk = _Walk.of(query, ranked=False)
    n = len(walk.order)
    chosen = [0] * n
    spans = [list(walk.span(0, chosen))]  # per depth: the next candidate and the end
    steps = 0
    while spans:
        steps += 1
        if deadline is not None and not steps % _CHECK_EVERY and time.monotonic() > deadline:
            raise TimeLimitExceeded(f"the enumeration passed its deadline after {steps} steps")
        depth = len(spans) - 1
        at = spans[-1]
        if at[0] == at[1]:
            spans.pop()
            continue
        chosen[depth] = walk.rows[at[0]]
        at[0] += 1
        if depth + 1 == n:
            yield _assignment(query, walk.order, chosen)
            continue
        spans.append(list(walk.span(depth + 1, chosen)))


def up_to_key(
    query: TreeQuery, bound: int, *, deadline: float | None = None
) -> Iterator[tuple[int, list[int]]]:
    """Every solution whose key is at most ``bound``, with its key, depth first.

    The walk takes each bag's rows cheapest completion first. A row's bound, the cheapest key
    of any completion of the prefix it ends, is worked out as in :func:`by_key` (the first
    row of a bag keeps its parent's bound; the others add their difference in cheapest
    completion to it). Bounds never fall along a bag's rows, so the first row past ``bound``
    ends the bag. Each row entered has a solution within ``bound`` below it: no dead end,
    and the memory of one path (where :func:`by_key` keeps a frontier that grows with every
    solution). ``deadline`` (a :func:`time.monotonic` value) raises :class:`LimitExceeded`
    once passed.
    """
    if not query.count():
        return
    walk = _Walk.of(query, ranked=True)
    best = query.cheapest_below()
    first_row = walk.first_row
    rows, span = walk.rows, walk.span
    n = len(walk.order)
    chosen = [0] * n
    # per depth: the next candidate, the end, and the bound of the prefix before it less
    # the cheapest completion of the bag's first candidate (its bound is then that plus
    # the candidate's cheapest completion)
    low, high = span(0, chosen)
    frames = [[low, high, 0]]
    steps = 0
    while frames:
        steps += 1
        if deadline is not None and not steps % _CHECK_EVERY and time.monotonic() > deadline:
            raise TimeLimitExceeded(
                f"the search within a bound passed its deadline after {steps} steps"
            )
        depth = len(frames) - 1
        at = frames[-1]
        if at[0] == at[1]:
            frames.pop()
            continue
        row = rows[at[0]]
        key = at[2] + best.item(first_row[depth] + row)
        if key > bound:  # (so are the bag's later rows)
            frames.pop()
            continue
        at[0] += 1
        chosen[depth] = row
        if depth + 1 == n:
            yield key, _assignment(query, walk.order, chosen)
            continue
        low, high = span(depth + 1, chosen)
        frames.append([low, high, key - best.item(first_row[depth + 1] + rows[low])])


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
    walk = _Walk.of(query, ranked=True)
    best = query.cheapest_below()
    first_row = walk.first_row

    def cheapest(pos: int, row: int) -> int:
        found: int = best.item(first_row[pos] + row)
        return found

    rows, span = walk.rows, walk.span
    n = len(walk.order)
    first = rows[span(0, ())[0]]
    # (bound, ranks, chosen): ranks identify an entry, so chosen is never compared
    heap: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = [
        (cheapest(0, first), (0,), (first,))
    ]
    steps = 0
    while heap:
        f, popped_ranks, popped = heapq.heappop(heap)
        ranks, chosen = list(popped_ranks), list(popped)
        pos = len(chosen) - 1
        low = high = -1
        # down to a solution: each first child would be the next entry popped (see above),
        # so it is taken without the heap; only the siblings passed on the way are pushed
        while True:
            steps += 1
            if deadline is not None and not steps % _CHECK_EVERY and time.monotonic() > deadline:
                raise TimeLimitExceeded(
                    f"the ordered search passed its deadline after {steps} steps"
                )
            rank = ranks[-1]
            if low < 0:  # (a popped entry: its bag's range; a descent carries it)
                low, high = span(pos, chosen)
            if low + rank + 1 < high:
                sibling = rows[low + rank + 1]
                f_sibling = f - cheapest(pos, chosen[-1]) + cheapest(pos, sibling)
                heapq.heappush(heap, (f_sibling, (*ranks[:-1], rank + 1), (*chosen[:-1], sibling)))
            if pos + 1 == n:
                break
            pos += 1
            low, high = span(pos, chosen)
            chosen.append(rows[low])
            ranks.append(0)
        yield f, _assignment(query, walk.order, chosen)


class Walks:
    """The walks of this module as :class:`~._passes.TreeQuery`'s methods (the engine
    protocol's enumeration and ordered streams)."""

    def solutions(self, *, deadline: float | None = None) -> Iterator[list[int]]:
        """Every solution once, as a value index per variable, without dead ends;
        :class:`~modcfg.LimitExceeded` once ``deadline`` (:func:`time.monotonic`) passes."""
        return solutions(cast("TreeQuery", self), deadline=deadline)

    def solution_array(self) -> tuple[np.ndarray, np.ndarray]:
        """Every solution at once: value indexes (solutions x variables) and unit costs."""
        return solution_array(cast("TreeQuery", self))

    def option_counts(self) -> list[list[int]]:
        """For every variable and value: its completions (its marginals' counts)."""
        return [[count for count, _ in row] for row in cast("TreeQuery", self).marginals()]

    def supports(
        self, options: Sequence[tuple[int, int]], *, deadline: float | None = None
    ) -> list[list[int]]:
        """Which values are possible with each option: a pass per option."""
        return restricted_supports(cast("TreeQuery", self), options, deadline)

    def blocks(self, size: int, *, allocate: Allocate | None = None) -> Iterator[Block]:
        """Every solution once, in blocks of the compiled walk (see
        :func:`._blocks.solution_blocks`)."""
        query = cast("TreeQuery", self)
        if allocate is None:
            return solution_blocks(query, size)
        return solution_blocks(query, size, allocate=allocate)

    def draws(self, weights: Weights) -> Draws:
        """Random solutions, drawn down the tree (see :class:`._sample.Sampler`)."""
        return Kept(Sampler(cast("TreeQuery", self), weights))

    def by_key(
        self, *, deadline: float | None = None, preference_first: bool = False
    ) -> Iterator[tuple[int, list[int]]]:
        """Every solution once, in non-decreasing key (unit price, then -score) order, ties
        in a fixed order (``preference_first``: highest score first, then the lowest cost);
        :class:`~modcfg.LimitExceeded` once ``deadline`` passes."""
        query = cast("TreeQuery", self)
        if preference_first:
            query = type(query)(query.tree, query.problem, preference_first=True)
        return by_key(query, deadline=deadline)

    def up_to_key(
        self, bound: int, *, deadline: float | None = None
    ) -> Iterator[tuple[int, list[int]]]:
        """Every solution whose key is at most ``bound``, with its key (depth first: memory
        for one path); :class:`~modcfg.LimitExceeded` once ``deadline`` passes."""
        return up_to_key(cast("TreeQuery", self), bound, deadline=deadline)

    #: :meth:`by_key` within global sums and a unit-cost bound (the engines' shared filter)
    by_key_within = ranked_within
