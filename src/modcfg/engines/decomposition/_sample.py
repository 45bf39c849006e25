"""Random solutions of a query, drawn exactly in proportion to their weight.

A solution's weight is the product of its values' weights (all 1: the uniform distribution).
One upward pass gives each tuple the total weight of its subtree's completions; a draw then goes
down the tree in preorder, and in each bag picks one of the tuples its parent's choice leaves,
in proportion to that total. The probability of a solution is the product of those picks, which
telescopes to its weight over the total weight: exact, and O(bags x log tuples) per draw.

Integer weights (the uniform case included) are summed as Python integers, so the draws are
exactly proportional at any size; other weights as floats, each bag's totals scaled to at most
1 (a common factor of a bag's tuples changes no pick).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from math import prod
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._passes import TreeQuery

__all__ = ["Sampler"]

Weight = int | float


class Sampler:
    """Draws solutions of one query (``weights[var][value]``: None for all 1)."""

    def __init__(self, query: TreeQuery, weights: Sequence[Sequence[Weight]] | None = None) -> None:
        tree = query.tree
        bags, order = tree.bags, tree.preorder
        position = {index: p for p, index in enumerate(order)}
        self._parent = [position.get(bags[index].parent, -1) for index in order]
        self._exact = weights is None or all(isinstance(w, int) for row in weights for w in row)
        self._size = query.problem.size
        # per position in preorder: cumulative tuple weights, first row of each parent key,
        # the variables the bag sets (variable, column), its tuples, the parent's key ids
        self._cumulative: list[list[Weight]] = [[] for _ in order]
        self._starts: list[list[int]] = [[] for _ in order]
        self._owned = [[(bags[i].vars[c], c) for c in bags[i].owned] for i in order]
        self._values = [bags[i].values for i in order]
        self._child_group = [np.zeros(0, dtype=np.int64) for _ in order]
        alive, live = query.alive_tuples(), query.kept.live
        totals: dict[int, np.ndarray] = {}
        for index in reversed(order):
            bag = bags[index]
            keep = np.zeros(len(bag.sep_ids), dtype=bool)
            keep[np.asarray(live[index], dtype=np.int64)] = True
            keep &= alive[index]
            weight = self._weights(keep, bag.values, bag.vars, bag.owned, weights)
            for j, child in enumerate(bag.children):
                weight = weight * totals.pop(child)[bag.child_index[j]]
                self._child_group[position[child]] = bag.child_index[j]
            if not self._exact and len(weight) and weight.max() > 0:
                weight = weight / weight.max()
            starts = [int(s) for s in bag.sep_starts] or [0]
            # the total weight of each key the bag shares with its parent
            totals[index] = np.add.reduceat(weight, starts) if len(weight) else weight
            self._cumulative[position[index]] = list(accumulate(weight.tolist()))
            self._starts[position[index]] = [*starts, len(weight)]
        roots = [p for p, parent in enumerate(self._parent) if parent < 0]
        #: The total weight of the solutions: exact with integer weights (with others, only
        #: whether it is 0 is meaningful, each bag's totals being scaled).
        last = [self._cumulative[p][-1] if self._cumulative[p] else 0 for p in roots]
        self.total: Weight = prod(last)

    def _weights(
        self,
        keep: np.ndarray,
        values: np.ndarray,
        variables: tuple[int, ...],
        owned: tuple[int, ...],
        weights: Sequence[Sequence[Weight]] | None,
    ) -> np.ndarray:
        """The weight of each tuple of a bag from the values it sets (0 where not kept)."""
        dtype: type = object if self._exact else np.float64
        weight: np.ndarray = keep.astype(np.int64).astype(dtype)
        if weights is not None:
            for column in owned:
                table: np.ndarray = np.empty(len(weights[variables[column]]), dtype=dtype)
                table[:] = list(weights[variables[column]])
                weight = weight * table[values[:, column]]
        return weight

    def draw(self, rng: random.Random) -> list[int] | None:
        """One solution (a value index per variable), or None when there is none."""
        chosen = [0] * len(self._parent)
        values = [0] * self._size
        for p, parent in enumerate(self._parent):
            group = 0 if parent < 0 else int(self._child_group[p][chosen[parent]])
            low, high = self._starts[p][group], self._starts[p][group + 1]
            cumulative = self._cumulative[p]
            base = cumulative[low - 1] if low else 0
            total = cumulative[high - 1] - base if high > low else 0
            if not total > 0:
                return None
            if self._exact:
                point: Weight = base + rng.randrange(int(total))
            else:
                point = base + rng.random() * total
            row = min(bisect_right(cumulative, point, low, high), high - 1)
            chosen[p] = row
            tuple_values = self._values[p][row]
            for var, column in self._owned[p]:
                values[var] = int(tuple_values[column])
        return values
