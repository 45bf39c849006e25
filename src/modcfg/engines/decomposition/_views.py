"""What a query hands the search methods, and where a relation the tree does not hold applies.

:class:`Kept` and :class:`Below` are a :class:`~._passes.TreeQuery`'s per-bag views as lists
(the search methods of :mod:`._search` walk them tuple by tuple); :class:`Upward` is its upward
pass; :func:`attach` applies a query's relations and factors that the tree does not hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ...lower._problem import Problem
from ._tree import Tree, tuple_projector

__all__ = ["Below", "Kept", "Upward", "attach"]


#: Room for a pass's counts: never cleared, since only the rows it writes are read (the tests
#: fill it with garbage to check that).
_room = np.empty_like


@dataclass(frozen=True)
class Upward:
    """A query's upward pass, its arrays not to be changed: per row, the completions of its
    subtree (``count``) and the cheapest key of them (``best``); per separator key, their sum
    and minimum (``msg_count``, ``msg_best``).

    After a session's choice only the bags on a path to the root are recounted, so ``count``
    may hold only the rows of the bags marked in ``fresh`` (its other rows are never written:
    their memory is never touched), and ``base``, a whole pass's counts, holds the rest.
    ``fresh`` is None when ``count`` holds every row (``base`` is then ``count``)."""

    count: np.ndarray
    best: np.ndarray
    msg_count: np.ndarray
    msg_best: np.ndarray
    base: np.ndarray
    fresh: np.ndarray | None = None

    def path_rows(self, path: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Room for the counts of the rows of ``path``'s bags, which a pass on from this one
        recounts (``start``: each bag's first row), holding this pass's recounted rows off the
        path, and which bags it holds (:attr:`base` holds the rest). Only the rows written are
        ever touched: a session's step copies no count of the bags it does not recount."""
        fresh = np.zeros(len(start) - 1, dtype=bool)
        fresh[path] = True
        room = _room(self.count)
        if self.fresh is not None:  # recounted before, not on this path: carried over
            for bag in np.flatnonzero(self.fresh & ~fresh).tolist():
                room[start[bag] : start[bag + 1]] = self.count[start[bag] : start[bag + 1]]
            fresh |= self.fresh
        return room, fresh


@dataclass(frozen=True)
class Kept:
    """Per bag, as lists for the search methods: the indexes of the tuples a query keeps
    (``live``), and their keys (``cost x scale - score``) and preference scores, aligned with
    ``live``."""

    live: list[list[int]]
    key: list[list[int]]
    score: list[list[int]]

    @classmethod
    def of(
        cls, live: Sequence[np.ndarray], keys: Sequence[np.ndarray], scores: Sequence[np.ndarray]
    ) -> Kept:
        """The views of per-bag kept tuples (``live``: their indexes), keys and scores."""
        return cls(
            [indexes.tolist() for indexes in live],
            [key[indexes].tolist() for key, indexes in zip(keys, live, strict=True)],
            [score[indexes].tolist() for score, indexes in zip(scores, live, strict=True)],
        )


@dataclass(frozen=True)
class Below:
    """Per bag and kept tuple (aligned with :attr:`Kept.live`): whether it has completions
    below it (``alive``)."""

    alive: list[list[bool]]

    @classmethod
    def of(cls, alive: Sequence[np.ndarray], live: Sequence[np.ndarray]) -> Below:
        """The views of per-bag flags (every tuple's) at the kept tuples (``live``: their
        indexes)."""
        return cls([a[i].tolist() for a, i in zip(alive, live, strict=True)])


def _scope_rows(
    tree: Tree, scope: Sequence[int], what: str
) -> tuple[slice, Callable[[tuple[int, ...]], tuple[int, ...]], list[tuple[int, ...]]]:
    """Where a relation or factor over ``scope`` that the tree does not hold is applied: the
    rows (in the flat layout) of the bag nearest the root that holds the scope, the function
    giving a tuple's values on the scope, and the bag's tuples."""
    index = tree.bag_containing(scope)
    if index is None:
        raise ValueError(f"{what} scope fits no bag; rebuild the tree")
    bag = tree.bags[index]
    start = tree.flat.start
    rows = slice(int(start[index]), int(start[index + 1]))
    return rows, tuple_projector([bag.vars.index(v) for v in scope]), bag.tuples


def attach(tree: Tree, problem: Problem, mask: np.ndarray) -> np.ndarray:
    """Apply ``problem``'s relations that ``tree`` does not hold to ``mask`` (which rows
    pass), each to the rows of the bag nearest the root that holds its scope, and return
    every row's preference score (its score factors, attached alike)."""
    base = tree.constraint_ids
    for constraint in problem.constraints:
        if id(constraint) in base:
            continue
        rows, key, tuples = _scope_rows(tree, constraint.scope, "constraint")
        holds = constraint.holds if constraint.clause else constraint.allowed.__contains__
        mask[rows] &= np.fromiter(map(holds, map(key, tuples)), dtype=bool, count=len(tuples))
    score = np.zeros(len(mask), dtype=np.int64)
    for factor in problem.score_factors:
        rows, key, tuples = _scope_rows(tree, factor.scope, "preference")
        table = factor.table
        score[rows] += np.fromiter(
            (table.get(key(t), 0) for t in tuples), dtype=np.int64, count=len(tuples)
        )
    return score
