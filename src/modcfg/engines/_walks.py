"""Random draws and blocks of solutions: what samples and feeds read from every engine.

Every engine's query answers :meth:`~._protocol.EngineQuery.draws` (random solutions, drawn
exactly in proportion to their weight: the product of their values' weights, all 1 for the
uniform distribution) and :meth:`~._protocol.EngineQuery.blocks` (every solution once, in
blocks of value indexes: what a feed is made of), each in its own way:

- the decomposition's tree: down its bags (:class:`~.decomposition._sample.Sampler`), and its
  compiled walk (:func:`~.decomposition.solution_blocks`);
- the compiled engine's circuit: down its nodes
  (:class:`~.compiled._sample.CircuitSampler`), and down them by index, a block of
  solutions at a time (:func:`~.compiled._walk.circuit_blocks`);
- disjoint parts of a tree or circuit (a customer's conditions, :mod:`._parts`): a part in
  proportion to its total weight (:class:`Mixture`), and the blocks of each part in turn;
- wide clauses set aside (:mod:`._aside`): the relaxed rules' draws and blocks, over the
  parts outside the customer's conditions, without the solutions that break a clause set
  aside (drawn again: rejection keeps the draws exact, every kept solution having had its
  weight's share of them). On the feature models whose or-groups are set aside almost every
  draw is kept: on the corpus's decision-making model, all but four in ten billion.

Invariants: a block holds at most ``size`` solutions, value indexes as int32 (variables x
solutions) and unit costs as int64, and the blocks hold every solution once, in a fixed
order; weights other than integers are made integers (:func:`whole_weights`) wherever draws
are split between parts, so that the split is exact.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from math import lcm
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ..lower import Problem

__all__ = [
    "Block",
    "Draws",
    "Kept",
    "Mixture",
    "Weights",
    "fresh_memory",
    "listed_blocks",
    "unit_costs",
    "whole_weights",
]

#: Per variable and value, a weight (None: all 1).
Weights = Sequence[Sequence[int]] | Sequence[Sequence[float]] | None
#: Value indexes (variables x solutions) and unit costs of a block of solutions.
Block = tuple[np.ndarray, np.ndarray]


class Draws(Protocol):
    """Random solutions of one query, in proportion to their weight."""

    @property
    def total(self) -> int | float:
        """The total weight of the solutions the draws come from, kept or not (exact with
        integer weights)."""
        ...

    def draw(self, rng: random.Random) -> list[int] | None:
        """One solution (a value index per variable), or None when there is none."""
        ...

    def keeps(self, assignment: Sequence[int]) -> bool:
        """Whether a drawn solution is one of the query's (else it is drawn again)."""
        ...


class _Sampler(Protocol):
    @property
    def total(self) -> int | float: ...

    def draw(self, rng: random.Random) -> list[int] | None: ...


class Kept:
    """The draws of a sampler that draws only the query's own solutions."""

    def __init__(self, sampler: _Sampler) -> None:
        self._sampler = sampler
        self.total = sampler.total

    def draw(self, rng: random.Random) -> list[int] | None:
        return self._sampler.draw(rng)

    def keeps(self, assignment: Sequence[int]) -> bool:
        return True


class Mixture:
    """Draws from disjoint parts (of integer weights): a part in proportion to its total,
    then a draw of it; ``keeps``: which drawn solutions are kept (None: all)."""

    def __init__(
        self, parts: list[Draws], keeps: Callable[[Sequence[int]], bool] | None = None
    ) -> None:
        self._parts = [part for part in parts if part.total]
        self.total = int(sum(part.total for part in self._parts))
        self._keeps = keeps

    def draw(self, rng: random.Random) -> list[int] | None:
        if not self.total:
            return None
        point = rng.randrange(self.total)
        for part in self._parts:
            if point < part.total:
                return part.draw(rng)
            point -= int(part.total)
        raise AssertionError("unreachable: the parts' totals add up to the total")

    def keeps(self, assignment: Sequence[int]) -> bool:
        return self._keeps is None or self._keeps(assignment)


def whole_weights(weights: Weights) -> list[list[int]] | None:
    """``weights`` times the least common multiple of their denominators: integers in the
    same proportions (a float is a fraction whose denominator is a power of two).

    >>> whole_weights([[1, 0.5], [0.25, 3]])
    [[4, 2], [1, 12]]
    """
    if weights is None:
        return None
    exact = [[Fraction(weight) for weight in row] for row in weights]
    scale = lcm(*(weight.denominator for row in exact for weight in row))
    return [[int(weight * scale) for weight in row] for row in exact]


class _Listing(Protocol):
    @property
    def problem(self) -> Problem: ...

    def solutions(self, *, deadline: float | None = None) -> Iterator[list[int]]: ...


def listed_blocks(query: _Listing, size: int) -> Iterator[Block]:
    """The solutions ``query`` lists one by one, gathered into blocks (an engine without a
    walk of its own in blocks)."""
    problem = query.problem
    solutions = query.solutions()
    while True:
        rows = list(itertools.islice(solutions, size))
        if not rows:
            return
        values = np.ascontiguousarray(
            np.asarray(rows, dtype=np.int32).reshape(len(rows), problem.size).T
        )
        yield values, unit_costs(problem, values)


def unit_costs(problem: Problem, values: np.ndarray) -> np.ndarray:
    """The unit cost (int64) of each solution of a block's value indexes (variables x rows)."""
    if problem.cost_factors:  # (price rules over several slots: priced one by one)
        from ._protocol import unit_cost

        rows = values.T.tolist()
        return np.asarray([unit_cost(problem, row) for row in rows], dtype=np.int64)
    cost = np.zeros(values.shape[1], dtype=np.int64)
    for var, domain in enumerate(problem.domains):
        if any(domain.cost):
            cost += np.asarray(domain.cost, dtype=np.int64)[values[var]]
    return cost


def fresh_memory(nbytes: int) -> Buffer:
    """A block's memory when its caller gives no ``allocate``: from numpy."""
    return np.empty(nbytes, dtype=np.uint8).data
