"""The compiled engine's :class:`~modcfg.engines.EngineQuery`: counts, per-option counts and
cheapest keys as passes over a smooth decision-DNNF.

A query is the circuit of the problem's rules (see :mod:`._compile`) and a weight of 0 or 1
per literal: the value filters of the problem (a customer's choices). A pass upwards gives the
count (the circuit is deterministic and decomposable, so sums and products are exact); a pass
downwards gives every literal's derivative, hence every option's count at once (Darwiche,
"A differential approach to inference in Bayesian networks", JACM 2003). The same two passes
over (min, +) give the cheapest key of every option.

Invariants: counts are Python ints; :meth:`CompiledQuery.restricted` shares the circuit and
changes weights only. What the circuit cannot answer (global sums, a budget, price rules
over several slots, ranked streams) raises :class:`CompiledEngineError` naming the engine that
can.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from ..._errors import TimeLimitExceeded
from ...lower import Problem
from .._protocol import EngineQuery, Marginal, score_bound
from .._walks import Kept, unit_costs, whole_weights
from ._cnf import Encoding
from ._compile import Circuit
from ._counting_only import CompiledEngineError, CountingOnly
from ._sample import CircuitSampler
from ._walk import circuit_blocks, rows_within

if TYPE_CHECKING:
    from .._parts import PartsQuery
    from .._protocol import Allocate
    from .._walks import Block, Draws, Weights

__all__ = ["CompiledEngineError", "CompiledQuery", "CountingOnly"]

#: Rows of the first block a stream of solutions walks, and of its largest.
_FIRST_ROWS = 64
_BLOCK_ROWS = 4096


def ranking(query: EngineQuery, *, deadline: float | None = None) -> EngineQuery:
    """A query that ranks ``query``'s solutions (``by_key``, ``worst_key``): ``query`` itself,
    or CP-SAT over its problem when its engine cannot (:meth:`CountingOnly.ranks`); a CP-SAT
    search stops at ``deadline`` (:func:`time.monotonic`)."""
    if isinstance(query, CountingOnly) and not query.ranks():
        from ..cpsat._query import CpSatQuery  # imports ortools only when needed

        return CpSatQuery(query.problem, deadline=deadline)
    return query


class CompiledQuery(CountingOnly):
    """One problem's solutions as weights over a shared circuit (see the module docstring)."""

    def __init__(
        self,
        problem: Problem,
        circuit: Circuit,
        encoding: Encoding,
        weights: tuple[list[int], bool] | None = None,
    ) -> None:
        """``weights``: what ``encoding.weights(problem.allowed)`` gives, when known."""
        self._problem = problem
        self.circuit = circuit
        self.encoding = encoding
        self._scale = 2 * score_bound(problem) + 1
        self._bound = score_bound(problem)
        self._weight, self._empty = weights or encoding.weights(problem.allowed)

    # -- the protocol's plain methods -------------------------------------------------------

    @property
    def problem(self) -> Problem:
        return self._problem

    @property
    def scale(self) -> int:
        return self._scale

    def cost_of(self, key: int) -> int:
        return (key + self._bound) // self._scale

    def score_of(self, key: int) -> int:
        return self.cost_of(key) * self._scale - key

    def with_problem(
        self, problem: Problem, *, deadline: float | None = None
    ) -> CompiledQuery | PartsQuery:
        """The query of ``problem``: this circuit when ``problem`` has the same rules (its
        value filters become weights) or those and a few conditions of a customer's needs
        (parts of this circuit, see :mod:`._parts`), else a new compile of its rules, which
        stops at ``deadline`` (:func:`time.monotonic`) as at its own limit."""
        same = len(problem.constraints) == len(self._problem.constraints) and all(
            a is b for a, b in zip(problem.constraints, self._problem.constraints, strict=True)
        )
        if same:
            return CompiledQuery(problem, self.circuit, self.encoding)
        from .._parts import CIRCUIT_PARTS, parts_query
        from . import COMPILE_SECONDS, compile_problem

        def whole_of(relaxed: Problem) -> CompiledQuery:
            return CompiledQuery(relaxed, self.circuit, self.encoding)

        # (conditions of a customer's needs: parts of this circuit)
        parts = parts_query(self._problem, problem, whole_of, most=CIRCUIT_PARTS)
        if parts is not None:
            return parts

        seconds = COMPILE_SECONDS
        if deadline is not None:
            seconds = min(seconds, deadline - time.monotonic())
            if seconds <= 0:
                raise TimeLimitExceeded(
                    "the time limit passed before the rules of these needs could be compiled; "
                    "raise time_limit="
                )
        return compile_problem(problem, seconds=seconds)

    def restricted(self, var: int, values: frozenset[int]) -> CompiledQuery:
        problem = self._problem.narrowed(var, values)
        before = self._weight, self._empty
        weights = self.encoding.narrowed_weights(before, var, problem.allowed[var])
        return CompiledQuery(problem, self.circuit, self.encoding, weights)

    def draws(self, weights: Weights) -> Draws:
        sampler = CircuitSampler(self._problem, self.circuit, self.encoding, whole_weights(weights))
        return Kept(sampler)

    def feasible(self) -> bool:
        return self.count() > 0

    def count(self) -> int:
        return 0 if self._empty else self._counts[-1]

    @cached_property
    def _counts(self) -> list[int]:
        """Per node, its weighted count (the upward pass)."""
        return self.circuit.totals(self._weight)

    @cached_property
    def _literal_counts(self) -> dict[int, int]:
        """Per literal, the number of solutions where it holds (the downward pass)."""
        counts = self._counts
        nodes = self.circuit.nodes
        outside = [0] * len(nodes)
        outside[-1] = 1
        found: dict[int, int] = {}
        for index in range(len(nodes) - 1, -1, -1):
            above = outside[index]
            if not above:
                continue
            kind, arg, children = nodes[index]
            if kind == "or":
                for child in children:
                    outside[child] += above
            elif kind == "and":
                # each child's outside is the product of its siblings: prefix x suffix
                suffix = [1] * (len(children) + 1)
                for position in range(len(children) - 1, -1, -1):
                    suffix[position] = suffix[position + 1] * counts[children[position]]
                prefix = above
                for position, child in enumerate(children):
                    outside[child] += prefix * suffix[position + 1]
                    prefix *= counts[child]
            elif kind in ("lit", "free"):
                lits = (arg,) if kind == "lit" else (arg, -arg)
                for lit in lits:
                    found[lit] = found.get(lit, 0) + above * self._weight[lit]
        return found

    def option_counts(self) -> list[list[int]]:
        """For every variable and value: the number of solutions where it holds."""
        counts = self._literal_counts
        total = self.count()
        result: list[list[int]] = []
        for var, literals in enumerate(self.encoding.literals):
            allowed = self._problem.allowed[var]
            result.append(
                [
                    0
                    if not allowed[value] or self._empty
                    else (counts.get(lit, 0) if lit else total)
                    for value, lit in enumerate(literals)
                ]
            )
        return result

    def supports(
        self, options: Sequence[tuple[int, int]], *, deadline: float | None = None
    ) -> list[list[int]]:
        """Which values are possible with each option, for all options in one pass up and
        one down over the circuit: a node's value is a bitmask over the options (a Python
        integer), bit ``k`` for the query restricted to ``options[k]``.

        Up: whether the node has a model under that restriction (literals by their weights,
        ``and`` the intersection, decisions the union). Down: whether the node is part of a
        model of the root: a child of an ``and`` where its parent is, a child of a decision
        where its parent is and it has a model. A node's down is within its up, so an
        ``and``'s siblings have models wherever it is reached. A value is possible with
        option ``k`` when its literal is reached and kept under bit ``k``: the Boolean form
        of :meth:`option_counts`, for every restriction at once."""
        full = (1 << len(options)) - 1
        held = [full if weight else 0 for weight in self._weight]  # (per literal)
        for bit, (var, value) in enumerate(options):
            for other, lit in enumerate(self.encoding.literals[var]):
                if lit and other != value:
                    held[lit] &= ~(1 << bit)
        nodes = self.circuit.nodes
        up: list[int] = []
        for kind, arg, children in nodes:
            if kind == "lit":
                up.append(held[arg])
            elif kind == "free":
                up.append(held[arg] | held[-arg])
            elif kind == "and":
                both = full
                for child in children:
                    both &= up[child]
                up.append(both)
            elif kind == "or":
                either = 0
                for child in children:
                    either |= up[child]
                up.append(either)
            else:
                up.append(0)
        down = [0] * len(nodes)
        down[-1] = 0 if self._empty else up[-1]
        reached: dict[int, int] = {}
        for index in range(len(nodes) - 1, -1, -1):
            above = down[index]
            if not above:
                continue
            kind, arg, children = nodes[index]
            if kind == "or":
                for child in children:
                    down[child] |= above & up[child]
            elif kind == "and":  # (above is within this node's up, so within each child's)
                for child in children:
                    down[child] |= above
            else:
                for lit in (arg,) if kind == "lit" else (arg, -arg):
                    reached[lit] = reached.get(lit, 0) | (above & held[lit])
        root = down[-1]
        return [
            [
                (reached.get(lit, 0) if lit else root) if allowed else 0
                for lit, allowed in zip(literals, self._problem.allowed[var], strict=True)
            ]
            for var, literals in enumerate(self.encoding.literals)
        ]

    def marginals(self, *, deadline: float | None = None) -> list[list[Marginal]]:
        # (two passes over the circuit, not interrupted: deadline is not read)
        keys = self._literal_keys
        best = self.best_key()
        result: list[list[Marginal]] = []
        for literals, counts in zip(self.encoding.literals, self.option_counts(), strict=True):
            result.append(
                [
                    (number, (keys.get(lit) if lit else best) if number else None)
                    for lit, number in zip(literals, counts, strict=True)
                ]
            )
        return result

    # -- keys: the same passes over (min, +) ------------------------------------------------

    @cached_property
    def _literal_cost(self) -> tuple[dict[int, int], int]:
        """Per literal the key it adds, and the keys of the slots of one value."""
        problem = self._problem
        if problem.cost_factors or problem.score_factors:
            rule = (problem.cost_factors or problem.score_factors)[0].source
            raise CompiledEngineError(
                f"the compiled engine prices each slot alone, and '{rule}' prices or scores "
                "several slots together: rank and price these needs with engine='cpsat'"
            )
        cost: dict[int, int] = {}
        offset = 0
        for var, literals in enumerate(self.encoding.literals):
            prices = problem.domains[var].cost
            if len(literals) == 1:
                offset += prices[0] * self._scale
            elif len(literals) == 2:
                cost[literals[0]] = prices[0] * self._scale
                cost[literals[1]] = prices[1] * self._scale
            else:
                for lit, price in zip(literals, prices, strict=True):
                    cost[lit] = price * self._scale
                    cost[-lit] = 0
        return cost, offset

    def _lit_key(self, lit: int) -> int | None:
        return self._literal_cost[0][lit] if self._weight[lit] else None

    @cached_property
    def _cheapest(self) -> list[int | None]:
        """Per node, the cheapest key of its part of a solution (None: no solution)."""
        return self._extreme_keys(min)

    @cached_property
    def _dearest(self) -> list[int | None]:
        """Per node, the largest key of its part of a solution (None: no solution)."""
        return self._extreme_keys(max)

    def _extreme_keys(self, pick: Callable[[list[int]], int]) -> list[int | None]:
        """Per node, ``pick`` (min or max) of the keys of its part of a solution: keys add up
        over an and-node's children, which share no variable, and an or-node's children are
        its alternatives (a free node: its variable's two literals)."""
        found: list[int | None] = []
        for kind, arg, children in self.circuit.nodes:
            if kind == "lit":
                found.append(self._lit_key(arg))
            elif kind == "free":
                options = [k for k in (self._lit_key(arg), self._lit_key(-arg)) if k is not None]
                found.append(pick(options) if options else None)
            elif kind == "and":
                total: int | None = 0
                for child in children:
                    part = found[child]
                    if part is None or total is None:
                        total = None
                        break
                    total += part
                found.append(total)
            elif kind == "or":
                parts = [key for key in (found[c] for c in children) if key is not None]
                found.append(pick(parts) if parts else None)
            else:
                found.append(None)
        return found

    @cached_property
    def _literal_keys(self) -> dict[int, int]:
        """Per literal, the cheapest key of a solution where it holds."""
        inside = self._cheapest
        nodes = self.circuit.nodes
        outside: list[int | None] = [None] * len(nodes)
        if self.count():
            outside[-1] = self._literal_cost[1]
        found: dict[int, int] = {}

        def lower(index: int, key: int) -> None:
            known = outside[index]
            if known is None or key < known:
                outside[index] = key

        for index in range(len(nodes) - 1, -1, -1):
            above = outside[index]
            own_best = inside[index]
            if above is None or own_best is None:
                continue
            kind, arg, children = nodes[index]
            if kind == "or":
                for child in children:
                    if inside[child] is not None:
                        lower(child, above)
            elif kind == "and":
                for child in children:
                    part = inside[child]
                    if part is not None:
                        lower(child, above + own_best - part)
            elif kind in ("lit", "free"):
                for lit in (arg,) if kind == "lit" else (arg, -arg):
                    own = self._lit_key(lit)
                    if own is not None and (lit not in found or above + own < found[lit]):
                        found[lit] = above + own
        return found

    def best_key(self) -> int | None:
        if not self.count():
            return None
        root = self._cheapest[-1]
        return None if root is None or self._empty else root + self._literal_cost[1]

    def worst_key(self) -> int | None:
        if not self.count():
            return None
        root = self._dearest[-1]
        return None if root is None or self._empty else root + self._literal_cost[1]

    # -- enumeration ------------------------------------------------------------------------

    def solutions(self, *, deadline: float | None = None) -> Iterator[list[int]]:
        # (a stream's first rows come at once; later blocks grow to a size that pays for the
        # walk's work per node)
        for values in self._walk(_BLOCK_ROWS, first=_FIRST_ROWS, deadline=deadline):
            yield from values.T.tolist()

    def blocks(self, size: int, *, allocate: Allocate | None = None) -> Iterator[Block]:
        for values in self._walk(size, allocate=allocate):
            yield values, unit_costs(self._problem, values)

    def _walk(
        self,
        size: int,
        *,
        first: int | None = None,
        allocate: Allocate | None = None,
        deadline: float | None = None,
    ) -> Iterator[np.ndarray]:
        """Every solution's value indexes, in blocks of ``size`` (the first of ``first``, each
        next twice as large up to ``size``; see :mod:`._walk`)."""
        if not self.count():
            return iter(())
        # (a feed asks for blocks of a million rows: the walk's work per node would hold
        # gigabytes of them at once)
        nodes = len(self.circuit.nodes)
        size = min(size, rows_within(self._problem.memory_limit, self._problem.size, nodes))
        return circuit_blocks(
            self.circuit,
            self._counts,
            self._weight,
            self.encoding.value_of(),
            self._problem.size,
            size,
            first=first,
            allocate=allocate,
            deadline=deadline,
        )

    def ranks(self) -> bool:
        """Whether every solution has one key (a catalog without prices or preferences: every
        feature model): the only order the engine lists them in."""
        problem = self._problem
        if problem.cost_factors or problem.score_factors:
            return False
        return self.best_key() == self.worst_key()

    def by_key(
        self, *, deadline: float | None = None, preference_first: bool = False
    ) -> Iterator[tuple[int, list[int]]]:
        """Every solution, in key order when they all have one key (see :meth:`ranks`); the
        engine does not rank others."""
        if not self.ranks():
            raise CompiledEngineError(
                "the compiled engine does not list configurations by price: use "
                "engine='cpsat' for ranked streams and best() on this catalog"
            )
        key = self.best_key()
        if key is None:
            return
        for assignment in self.solutions(deadline=deadline):
            yield key, assignment
