"""What the engines that count rules but neither global sums nor budgets share: the compiled
engine's circuit, parts of it or of a tree (a customer's conditions), and the tree with wide
clauses set aside. :class:`CountingOnly` answers the protocol's ``*_within`` methods, every
solution at once, the blocks of a feed and the price distribution of a catalog whose
configurations all have one price; what they cannot answer raises :class:`CompiledEngineError`
naming the engine that can.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..._errors import LimitExceeded, ModcfgError
from ...lower import Problem
from .._protocol import Bounds, SumsView, one_cost, restricted_supports

if TYPE_CHECKING:
    from .._protocol import Allocate
    from .._walks import Block, Draws, Weights

__all__ = ["CompiledEngineError", "CountingOnly"]

#: Most solutions :meth:`CountingOnly.solution_array` materialises.
_ARRAY_LIMIT = 500_000


class CompiledEngineError(ModcfgError):
    """A question the compiled engine (for rules too entangled to decompose) cannot answer."""


class CountingOnly(ABC):
    """What an engine that counts rules but neither global sums nor budgets (the compiled
    engine, and the tree with clauses set aside) shares: the ``*_within`` methods (without
    bounds the plain methods; with bounds a :class:`CompiledEngineError` naming CP-SAT) and
    every solution at once, from its walk. ``engine`` names the engine in the messages; the
    abstract methods are each engine's own."""

    engine = "the compiled engine"

    @property
    @abstractmethod
    def problem(self) -> Problem:
        """The problem whose solutions this query answers for."""

    @abstractmethod
    def count(self) -> int:
        """The exact number of solutions."""

    @abstractmethod
    def solutions(self, *, deadline: float | None = None) -> Iterator[list[int]]:
        """Every solution once, as a value index per variable."""

    @abstractmethod
    def restricted(self, var: int, values: frozenset[int]) -> CountingOnly:
        """A new query with ``var`` limited to ``values`` (a customer's choice)."""

    @abstractmethod
    def option_counts(self) -> list[list[int]]:
        """For every variable and value: the number of solutions where it holds (what
        :meth:`marginals` gives without the cheapest keys, which this engine may not price)."""

    @abstractmethod
    def by_key(
        self, *, deadline: float | None = None, preference_first: bool = False
    ) -> Iterator[tuple[int, list[int]]]:
        """Solutions in key order, or :class:`CompiledEngineError` when the engine cannot."""

    @abstractmethod
    def cost_of(self, key: int) -> int:
        """The unit cost part of a key."""

    @abstractmethod
    def best_key(self) -> int | None:
        """The smallest key of any solution (None when there is none)."""

    @abstractmethod
    def worst_key(self) -> int | None:
        """The largest key of any solution (None when there is none)."""

    @abstractmethod
    def draws(self, weights: Weights) -> Draws:
        """Random solutions in proportion to their weight (see :mod:`.._walks`)."""

    def supports(
        self, options: Sequence[tuple[int, int]], *, deadline: float | None = None
    ) -> list[list[int]]:
        """Which values are possible with each option: the option counts of a query per
        option."""
        return restricted_supports(self, options, deadline)

    @abstractmethod
    def blocks(self, size: int, *, allocate: Allocate | None = None) -> Iterator[Block]:
        """Every solution once, in blocks of at most ``size`` (each engine walks its own)."""

    def ranks(self) -> bool:
        """Whether :meth:`by_key` and :meth:`worst_key` answer for these solutions (else
        CP-SAT ranks them: sessions complete and price with it)."""
        return True

    def solution_array(self) -> tuple[np.ndarray, np.ndarray]:
        number = self.count()
        if number > _ARRAY_LIMIT:
            raise LimitExceeded(
                f"{number:,} configurations are more than the {_ARRAY_LIMIT:,} listed at once",
                estimate=number,
                limit=_ARRAY_LIMIT,
            )
        for values, costs in self.blocks(max(number, 1)):  # (one block: all of them)
            return np.ascontiguousarray(values.T, dtype=np.int64), costs
        return np.zeros((0, self.problem.size), dtype=np.int64), np.zeros(0, dtype=np.int64)

    def _unbounded(self, bounds: Bounds, what: str) -> None:
        if not bounds.unbounded:
            raise CompiledEngineError(
                f"{self.engine} counts rules, not {what} under a budget or global sums: "
                "use engine='cpsat' for these needs"
            )

    def count_within(self, bounds: Bounds, *, time_limit: float | None = None) -> int:
        self._unbounded(bounds, "configurations")
        return self.count()

    def cost_distribution(
        self, bounds: Bounds, *, time_limit: float | None = None
    ) -> dict[int, int]:
        """All the configurations at one unit cost when they all have one (an unpriced
        feature model's); else :class:`CompiledEngineError`: the engine does not count them
        per price."""
        found = one_cost(self, bounds) if self.ranks() else None
        if found is not None:
            return found
        raise CompiledEngineError(
            f"{self.engine} does not tell the number of configurations per price: use "
            "engine='cpsat' with limit= for price distributions on this catalog"
        )

    def within(self, bounds: Bounds, *, time_limit: float | None = None) -> SumsView:
        self._unbounded(bounds, "options")
        raise CompiledEngineError("use engine='cpsat' for sums on this catalog")

    def solutions_within(
        self, bounds: Bounds, *, time_limit: float | None = None
    ) -> Iterator[list[int]] | None:
        return None

    def by_key_within(
        self, bounds: Bounds, *, deadline: float | None = None
    ) -> Iterator[tuple[int, list[int]]]:
        self._unbounded(bounds, "ranked configurations")
        return self.by_key(deadline=deadline)
