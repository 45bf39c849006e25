"""A customer's conditions answered over the catalog's own tree or circuit, in parts.

A rule the needs add (a condition such as ``a.selected -> not b.selected``) forbids a few
combinations of its slots' values, each a box (see
:func:`~modcfg.engines._aside_terms.need_events`). When the catalog's tree has no bag holding
its slots, or the catalog is compiled to a circuit, the rule would need a tree or a circuit
of its own: seconds on a large catalog (a tree of 1,270 features: 0.3-5.4 s, more than the
catalog's own compile; a circuit: as long as the catalog's). Instead the configurations
outside every box are split into disjoint parts (:func:`~modcfg.engines._aside_terms.outside`),
each the catalog's query with some values filtered, and every question is asked of each part:
counts and every option's count add up, an option's cheapest key is the least of the parts',
solutions come part after part, and in key order merged.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np

from .._errors import TimeLimitExceeded
from ..lower import Problem
from ._aside_terms import added_rules, need_events, outside
from ._protocol import Bounds, EngineQuery, Marginal, SumsView
from ._walks import Mixture, whole_weights
from .compiled import CountingOnly

if TYPE_CHECKING:
    from ._protocol import Allocate
    from ._walks import Block, Draws, Weights

__all__ = ["CIRCUIT_PARTS", "OverWhole", "PartsQuery", "parts_query"]

#: At most this many parts of a compiled catalog's circuit answer a customer's conditions:
#: each is two passes over the circuit for a session's state, milliseconds on a model whose
#: circuit compiles in seconds. The boxes of one rule (each a row of values it forbids) make
#: about two parts: (a, b) = (1, 2) and (1, 3) forbidden leave a not 1, or a = 1 and b
#: neither 2 nor 3.
CIRCUIT_PARTS = 64


def parts_query(
    base: Problem, problem: Problem, whole_of: Callable[[Problem], EngineQuery], *, most: int
) -> PartsQuery | None:
    """``problem`` (``base``'s rules and a few that a customer's needs add) as parts of the
    query ``whole_of`` makes of its value filters over ``base``'s rules; None when it changes
    other rules (price rules, preferences), or its rules forbid, or split into, more than
    ``most`` boxes or parts."""
    added = added_rules(problem, base)
    if added is None:
        return None
    whole = whole_of(replace(problem, constraints=base.constraints))
    events = need_events(problem, added, 0, most=most, most_with_known=most)
    if events is None:
        return None
    parts = outside(whole, events, most=most)
    return None if parts is None else PartsQuery(problem, whole, parts)


def _least(first: int | None, second: int | None) -> int | None:
    if first is None:
        return second
    return first if second is None else min(first, second)


class _PartsSums:
    """The parts' sums within bounds, added up (see :class:`~modcfg.engines.SumsView`)."""

    def __init__(self, views: list[SumsView]) -> None:
        self._views = views

    def count(self) -> int:
        return sum(view.count() for view in self._views)

    def cost_range(self) -> tuple[int, int] | None:
        ranges = [found for view in self._views if (found := view.cost_range()) is not None]
        if not ranges:
            return None
        return min(low for low, _ in ranges), max(high for _, high in ranges)

    def option(self, var: int, values: Sequence[int]) -> tuple[int, int | None]:
        number, cheapest = 0, None
        for view in self._views:
            more, cost = view.option(var, values)
            if more:
                number, cheapest = number + more, _least(cheapest, cost)
        return number, cheapest


class OverWhole(CountingOnly):
    """A query answered through the query of its rules without the ones set aside or added
    (``_whole``), whose keys it shares; ``_problem``: the problem it answers for."""

    _problem: Problem
    _whole: EngineQuery

    @property
    def problem(self) -> Problem:
        return self._problem

    @property
    def scale(self) -> int:
        return self._whole.scale

    def cost_of(self, key: int) -> int:
        return self._whole.cost_of(key)

    def score_of(self, key: int) -> int:
        return self._whole.score_of(key)


class PartsQuery(OverWhole):
    """``problem``'s solutions as the disjoint union of ``parts``, restrictions of ``whole``
    (the query of ``problem``'s value filters over the catalog's rules, without the rules
    the needs add). Every question goes to the parts; what an engine cannot answer (the
    compiled engine under a budget) its parts refuse in their own words."""

    def __init__(self, problem: Problem, whole: EngineQuery, parts: list[EngineQuery]) -> None:
        self._problem = problem
        self._whole = whole
        self.parts = parts
        self._count: int | None = None
        self._marginals: list[list[Marginal]] | None = None
        self.engine = getattr(whole, "engine", CountingOnly.engine)

    # -- the protocol's plain methods -------------------------------------------------------

    def restricted(self, var: int, values: frozenset[int]) -> PartsQuery:
        parts = [
            part.restricted(var, values)
            for part in self.parts
            if any(part.problem.kept(var, values))  # (a part left no value holds nothing)
        ]
        whole = self._whole.restricted(var, values)
        return PartsQuery(self._problem.narrowed(var, values), whole, parts)

    def feasible(self) -> bool:
        return any(part.feasible() for part in self.parts)

    def count(self) -> int:
        if self._count is None:
            self._count = sum(part.count() for part in self.parts)
        return self._count

    def option_counts(self) -> list[list[int]]:
        return [[number for number, _ in row] for row in self.marginals()]

    def supports(
        self, options: Sequence[tuple[int, int]], *, deadline: float | None = None
    ) -> list[list[int]]:
        """Which values are possible with each option: in some part (the parts' union)."""
        found = [[0] * len(row) for row in self._problem.allowed]
        for part in self.parts:
            for row, masks in zip(found, part.supports(options, deadline=deadline), strict=True):
                for value, mask in enumerate(masks):
                    row[value] |= mask
        return found

    def marginals(self, *, deadline: float | None = None) -> list[list[Marginal]]:
        """Every option's count (the sum of the parts') and cheapest key (the least of the
        parts' that hold it); ``deadline`` is read before each part."""
        if self._marginals is None:
            found: list[list[Marginal]] = [[(0, None)] * len(row) for row in self._problem.allowed]
            for part in self.parts:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeLimitExceeded(
                        "counting every option passed its time limit over the parts of the "
                        "needs' conditions; raise time_limit="
                    )
                for row, more in zip(found, part.marginals(deadline=deadline), strict=True):
                    for value, (number, key) in enumerate(more):
                        if number:
                            held, least = row[value]
                            row[value] = (held + number, _least(least, key))
            self._marginals = found
        return self._marginals

    def best_key(self) -> int | None:
        keys = [key for part in self.parts if (key := part.best_key()) is not None]
        return min(keys, default=None)

    def worst_key(self) -> int | None:
        keys = [key for part in self.parts if (key := part.worst_key()) is not None]
        return max(keys, default=None)

    def ranks(self) -> bool:
        """Whether every part ranks its solutions (see :meth:`CountingOnly.ranks`)."""
        return all(not isinstance(part, CountingOnly) or part.ranks() for part in self.parts)

    # -- enumeration ------------------------------------------------------------------------

    def solutions(self, *, deadline: float | None = None) -> Iterator[list[int]]:
        for part in self.parts:
            yield from part.solutions(deadline=deadline)

    def blocks(self, size: int, *, allocate: Allocate | None = None) -> Iterator[Block]:
        for part in self.parts:
            yield from part.blocks(size, allocate=allocate)

    def draws(self, weights: Weights) -> Draws:
        whole = whole_weights(weights)  # (a part is picked exactly by its total)
        return Mixture([part.draws(whole) for part in self.parts])

    def solution_array(self) -> tuple[np.ndarray, np.ndarray]:
        arrays = [part.solution_array() for part in self.parts]
        if not arrays:
            return np.zeros((0, self._problem.size), dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate([a for a, _ in arrays]), np.concatenate([c for _, c in arrays])

    def by_key(
        self, *, deadline: float | None = None, preference_first: bool = False
    ) -> Iterator[tuple[int, list[int]]]:
        """The parts' solutions in key order, merged."""
        return _merged(
            [
                part.by_key(deadline=deadline, preference_first=preference_first)
                for part in self.parts
            ]
        )

    # -- within global sums and a budget: the parts', added up or merged --------------------

    def count_within(self, bounds: Bounds, *, time_limit: float | None = None) -> int:
        return sum(part.count_within(bounds, time_limit=time_limit) for part in self.parts)

    def cost_distribution(
        self, bounds: Bounds, *, time_limit: float | None = None
    ) -> dict[int, int]:
        total: Counter[int] = Counter()
        for part in self.parts:
            total.update(part.cost_distribution(bounds, time_limit=time_limit))
        return dict(sorted(total.items()))

    def within(self, bounds: Bounds, *, time_limit: float | None = None) -> SumsView:
        return _PartsSums([part.within(bounds, time_limit=time_limit) for part in self.parts])

    def solutions_within(
        self, bounds: Bounds, *, time_limit: float | None = None
    ) -> Iterator[list[int]] | None:
        walks = [part.solutions_within(bounds, time_limit=time_limit) for part in self.parts]
        if any(walk is None for walk in walks):
            return None
        return itertools.chain.from_iterable(walk for walk in walks if walk is not None)

    def by_key_within(
        self, bounds: Bounds, *, deadline: float | None = None
    ) -> Iterator[tuple[int, list[int]]]:
        return _merged([part.by_key_within(bounds, deadline=deadline) for part in self.parts])


def _merged(walks: list[Iterator[tuple[int, list[int]]]]) -> Iterator[tuple[int, list[int]]]:
    """Walks in key order merged into one (one walk as it is)."""
    if len(walks) == 1:
        return walks[0]
    return heapq.merge(*walks, key=itemgetter(0))
