"""A customer's conditions on a compiled catalog, answered over the catalog's own circuit.

A rule the needs add (a condition such as ``a.selected -> not b.selected``) forbids a few
combinations of its slots' values, each a box (see
:func:`~modcfg.engines._aside_terms.need_events`). Compiling the rules again with it would
take as long as the catalog's own compile (seconds on the financial-services models).
Instead the configurations outside every box are split into disjoint parts
(:func:`~modcfg.engines._aside_terms.outside`), each the catalog's circuit with some values
filtered, and every question is asked of each part: counts and every option's count add up,
an option's cheapest key is the least of the parts', solutions come part after part.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from functools import cached_property

from ..._errors import TimeLimitExceeded
from ...lower import Problem
from .._aside_terms import added_rules, need_events, outside
from .._protocol import Marginal
from ._query import CompiledQuery, CountingOnly, by_one_key

__all__ = ["PARTS_MOST", "PartsQuery", "parts_query"]

#: At most this many parts: each is two passes over the circuit for a session's state
#: (milliseconds each on a model whose circuit compiles in seconds), so up to 64 parts stay
#: well under one compile. The boxes of one rule (each a forbidden row of its values) make
#: two parts of one: (a, b) = (1, 2) and (1, 3) forbidden leave a != 1, or a = 1 and b not 2
#: or 3.
PARTS_MOST = 64


def parts_query(base: CompiledQuery, problem: Problem) -> PartsQuery | None:
    """The query of ``problem``, the rules of ``base`` and a few that a customer's needs add,
    as parts of ``base``'s circuit; None when ``problem`` changes other rules, or its rules
    make more parts than :data:`PARTS_MOST`."""
    added = added_rules(problem, base.problem)
    if added is None:
        return None
    events = need_events(problem, added, 0, most=PARTS_MOST, most_with_known=PARTS_MOST)
    if events is None:
        return None
    relaxed = replace(problem, constraints=base.problem.constraints)
    whole = CompiledQuery(relaxed, base.circuit, base.encoding)
    parts = outside(whole, events, most=PARTS_MOST)
    return None if parts is None else PartsQuery(problem, whole, parts)


class PartsQuery(CountingOnly):
    """``problem``'s solutions as the disjoint union of ``parts``, restrictions of ``whole``
    (the query of ``problem``'s value filters over the catalog's circuit, without the rules
    the needs add)."""

    def __init__(self, problem: Problem, whole: CompiledQuery, parts: list[CompiledQuery]) -> None:
        self._problem = problem
        self._whole = whole
        self._parts = parts
        self._marginals: list[list[Marginal]] | None = None

    # -- the protocol's plain methods -------------------------------------------------------

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

    def with_problem(
        self, problem: Problem, *, deadline: float | None = None
    ) -> CompiledQuery | PartsQuery:
        """As :meth:`CompiledQuery.with_problem` of the catalog's circuit."""
        if problem is self._problem:
            return self
        return self._whole.with_problem(problem, deadline=deadline)

    def restricted(self, var: int, values: frozenset[int]) -> PartsQuery:
        row = [keep and value in values for value, keep in enumerate(self._problem.allowed[var])]
        parts = [
            part.restricted(var, values)
            for part in self._parts
            if any(keep and value in values for value, keep in enumerate(part.problem.allowed[var]))
        ]
        whole = self._whole.restricted(var, values)
        return PartsQuery(self._problem.with_allowed(var, row), whole, parts)

    def feasible(self) -> bool:
        return any(part.feasible() for part in self._parts)

    def count(self) -> int:
        return self._count

    @cached_property
    def _count(self) -> int:
        return sum(part.count() for part in self._parts)

    def option_counts(self) -> list[list[int]]:
        return [[number for number, _ in row] for row in self.marginals()]

    def marginals(self, *, deadline: float | None = None) -> list[list[Marginal]]:
        """Every option's count (the sum of the parts') and cheapest key (the least of the
        parts' that hold it); ``deadline`` is read before each part."""
        if self._marginals is None:
            found: list[list[Marginal]] = [[(0, None)] * len(row) for row in self._problem.allowed]
            for part in self._parts:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeLimitExceeded(
                        "counting every option passed its time limit over the parts of the "
                        "needs' conditions; raise time_limit="
                    )
                for row, more in zip(found, part.marginals(), strict=True):
                    for value, (number, key) in enumerate(more):
                        if number:
                            held, least = row[value]
                            if key is None or (least is not None and least < key):
                                key = least
                            row[value] = (held + number, key)
            self._marginals = found
        return self._marginals

    # -- keys and enumeration ---------------------------------------------------------------

    def best_key(self) -> int | None:
        keys = [key for part in self._parts if (key := part.best_key()) is not None]
        return min(keys, default=None)

    def worst_key(self) -> int | None:
        keys = [key for part in self._parts if (key := part.worst_key()) is not None]
        return max(keys, default=None)

    def ranks(self) -> bool:
        """Whether every solution has one key (see :meth:`CompiledQuery.ranks`)."""
        return all(part.ranks() for part in self._parts) and self.best_key() == self.worst_key()

    def solutions(self, *, deadline: float | None = None) -> Iterator[list[int]]:
        for part in self._parts:
            yield from part.solutions(deadline=deadline)

    def by_key(
        self, *, deadline: float | None = None, preference_first: bool = False
    ) -> Iterator[tuple[int, list[int]]]:
        """Every solution, in key order when they all have one key (see :meth:`ranks`)."""
        return by_one_key(self, deadline)
