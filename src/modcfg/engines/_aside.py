"""Wide clauses set aside: a tree of the other rules, counted by inclusion-exclusion.

Feature models write each or-group as one clause (``not parent or child_1 or ... or child_k``),
and a group of 99 children whose children the cross-tree constraints tie to the rest of the
model threads its chain through the whole tree decomposition: on a decision-making model of
366 features, four such clauses (32 to 99 literals) take min-fill's width from 23 to 42, past
what any bag can hold. A clause is ``not (every literal false)``, so for the clauses ``C_1 ..
C_k`` set aside and the other rules ``F``::

    #(F and C_1 and ... and C_k) = sum over S of (-1)^|S| #(F and every clause of S false)

and "every literal of a clause false" is a value filter on each of its slots: each of the
``2^k`` terms is the tree of ``F`` with more values filtered out, a pass over the same bags
(the inclusion-exclusion counting of the #SAT literature, here with few terms because few
clauses are set aside). Every option's count is the same signed sum of the terms' option
counts, and a customer's choice restricts every term.

Invariants: counts are exact Python ints (signed sums of exact counts); the tree is the one of
``F``, built once, and every term shares it, but for every option's counts over a large tree,
where the terms but the first get trees of their own, built once per catalog
(:class:`~._aside_terms.TermTrees`); the terms whose filters leave a slot no value are dropped
(they count nothing). What the signed sums cannot give (the cheapest configuration of
a priced catalog per option, price-ordered streams, sums and budgets) raises
:class:`~modcfg.engines.compiled.CompiledEngineError` naming the engine that can, as the
compiled engine does; plain enumeration walks the tree of ``F`` and keeps the solutions that
satisfy the clauses set aside.
"""

from __future__ import annotations

import heapq
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from .._arguments import deadline_after
from .._errors import TimeLimitExceeded
from ..lower import Problem
from ..lower._problem import Constraint
from ._aside_terms import (
    ASIDE_MOST,
    Event,
    Term,
    TermTrees,
    added_rules,
    clause_event,
    need_events,
    outside,
    own_trees,
    terms_by_events,
    without,
)
from ._parts import OverWhole
from ._protocol import Bounds, Marginal, holds_rules, only_assignment
from ._walks import Mixture, unit_costs, whole_weights
from .compiled import CompiledEngineError
from .decomposition import (
    Tree,
    TreeQuery,
    solution_blocks,
)

if TYPE_CHECKING:
    from ._protocol import Allocate
    from ._walks import Block, Draws, Weights

__all__ = ["ASIDE_MOST", "ASIDE_SLOTS", "AsideQuery", "SavedAside"]

#: A clause over at least this many slots may be set aside (feature models' or-groups; the
#: eCos models' clauses, which the tree handles well, have at most 14 literals).
ASIDE_SLOTS = 16
#: Solutions of the relaxed rules in a block of the walk that :meth:`AsideQuery.solutions`
#: filters.
_BLOCK = 1024

T = TypeVar("T")
#: Bag rows from which the terms run two at a time (below, a term's passes take milliseconds:
#: threads would cost more than they save).
_PARALLEL_ROWS = 100_000


def _cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class SavedAside:
    """What a saved compiled catalog keeps of an :class:`AsideQuery` (see
    :mod:`modcfg._artefact`): the tree of the other rules, the positions of the clauses set
    aside among the problem's rules, the terms' own trees (see
    :meth:`~._aside_terms.TermTrees.every_tree`; none when the terms have none) and the
    counts (the relaxed rules', then the catalog's), so that a loaded catalog counts, and
    shows its first state, without a pass or a build that the saved one had done."""

    tree: Tree
    positions: tuple[int, ...]
    own: tuple[tuple[int, Tree | None], ...]
    counts: tuple[int, int]

    def query(self, problem: Problem) -> AsideQuery:
        """The query of ``problem`` (the problem that was saved) over the saved tree."""
        aside = tuple(problem.constraints[position] for position in self.positions)
        events = [clause_event(clause) for clause in aside]
        terms, sets = terms_by_events(without(problem, aside), events)
        own = own_trees(self.tree, terms, sets)
        if own is not None:
            own.keep(self.own)
        return AsideQuery(
            problem, self.tree, aside, terms, events=events, own=own, counted=self.counts
        )


class AsideQuery(OverWhole):
    """``problem``'s solutions as the signed sum of ``terms`` (each a problem of the relaxed
    rules, the first with no clause false) over ``tree``, the tree of the relaxed rules (see
    the module docstring and :func:`set_aside`).

    Only the first term's query is kept (its passes serve enumeration and a session's next
    step); the others are counted at most two at a time (see :meth:`_over_terms`) and
    dropped, so a query holds the passes of three terms at most, whatever their number.
    ``events``: the boxes of combinations the rules ``aside`` forbid (the terms' filters, and
    what enumeration keeps solutions out of), the last ``needs`` of them those of rules a
    customer's needs add. ``whole``: that first query, when known (a
    restriction of the last one); ``bound``: the count of the relaxed rules without needs or
    choices, which bounds every term's counts, intermediate ones too (as
    :class:`~modcfg.engines.decomposition.TreeQuery`'s ``count_bound``); None: the first
    term's count, for the query of the catalog itself. ``own``: the trees of the catalog's
    terms, when they get their own (see :class:`~._aside_terms.TermTrees`; every option's
    counts build them, a plain count uses those built), and ``indices`` each term's index
    among the catalog's (a customer's choices drop the terms they leave nothing).
    ``counted``: the relaxed rules' count and ``problem``'s, when a saved catalog kept them
    (the bound and the count then need no pass).
    """

    engine = "with wide clauses set aside, the engine"
    _whole: TreeQuery

    def __init__(
        self,
        problem: Problem,
        tree: Tree,
        aside: tuple[Constraint, ...],
        terms: list[Term],
        *,
        events: Sequence[Event],
        needs: int = 0,
        whole: TreeQuery | None = None,
        bound: int | None = None,
        own: TermTrees | None = None,
        indices: tuple[int, ...] | None = None,
        counted: tuple[int, int] | None = None,
    ) -> None:
        self._problem = problem
        self.tree = tree
        self.aside = aside
        self._events = tuple(events)
        self._needs = needs  # (the last events: those of rules the customer's needs add)
        self._terms = terms
        self._own = own
        self._indices = tuple(range(len(terms))) if indices is None else indices
        if counted is not None:  # (saved with the catalog: no pass to count again)
            bound = counted[0]
            whole = TreeQuery(tree, terms[0][1], count_bound=bound, count=bound)
        elif whole is None:
            whole = TreeQuery(tree, terms[0][1], count_bound=bound)
        self._whole = whole
        self._bound = bound if bound is not None else whole.count()
        self._count: int | None = None if counted is None else counted[1]
        self._option_counts: list[list[int]] | None = None
        self._marginals: list[list[Marginal]] | None = None

    def saved(self) -> SavedAside:
        """What a saved compiled catalog keeps of this query (see :class:`SavedAside`): the
        terms' own trees are built now where they were not yet."""
        where = {id(c): i for i, c in enumerate(self._problem.constraints)}
        own = () if self._own is None else self._own.every_tree()
        counts = (self._bound, self.count())
        return SavedAside(self.tree, tuple(where[id(c)] for c in self.aside), own, counts)

    def _term_query(self, position: int, *, build: bool, deadline: float | None) -> TreeQuery:
        """The query of the term at ``position``: over its own tree when it has one (see
        :class:`~._aside_terms.TermTrees`; built now when ``build``), else the relaxed tree."""
        own = self._own and self._own.tree(self._indices[position], deadline, build=build)
        return TreeQuery(own or self.tree, self._terms[position][1], count_bound=self._bound)

    # -- the protocol's plain methods (problem, scale, keys: see OverWhole) ------------------

    def with_problem(self, problem: Problem, *, deadline: float | None = None) -> AsideQuery:
        """The query of ``problem`` over this tree when ``problem`` has the same rules and
        price rules (its value filters restrict every term), or those rules and a few more
        that a customer's needs add (each joins the rules set aside, see
        :func:`~modcfg.engines._aside_terms.need_events`), else ``problem`` set aside anew
        (its tree's fill stops at ``deadline``, see :func:`set_aside`)."""
        if problem is self._problem:
            return self
        added = added_rules(problem, self._problem)
        events = None if added is None else need_events(problem, added, len(self._events))
        if added is None or events is None:
            from ._aside_setup import set_aside  # (which makes this module's queries)

            return set_aside(problem, deadline=deadline)
        relaxed = replace(problem, constraints=self._terms[0][1].constraints)
        terms, sets = terms_by_events(relaxed, [*self._events, *events])
        aside, needs = (*self.aside, *added), len(events)
        events = [*self._events, *events]
        own = self._own  # (the terms of the catalog's events keep their trees)
        indices = None if own is None else tuple(map(own.index_of, sets))
        return AsideQuery(
            problem,
            self.tree,
            aside,
            terms,
            events=events,
            needs=needs,
            bound=self._bound,
            own=own,
            indices=indices,
        )

    def restricted(self, var: int, values: frozenset[int]) -> AsideQuery:
        terms = [(sign, problem.narrowed(var, values)) for sign, problem in self._terms]
        kept = [0] + [i for i in range(1, len(terms)) if all(map(any, terms[i][1].allowed))]
        return AsideQuery(
            self._problem.narrowed(var, values),
            self.tree,
            self.aside,
            [terms[i] for i in kept],
            events=self._events,
            needs=self._needs,
            whole=self._whole.restricted(var, values),
            bound=self._bound,
            own=self._own,
            indices=tuple(self._indices[i] for i in kept),
        )

    def feasible(self) -> bool:
        """Whether any solution exists, without the terms' passes where one pass tells: none
        when the relaxed rules have none (a pass of flags), some when the first block of
        their solutions holds one that satisfies the clauses set aside; else the count (at
        once over :data:`_PARALLEL_ROWS` rows or more: a walk's layout costs more than the
        terms' passes there, 0.85-1.9 s against 0.1-0.4 s on the decision-making model). A
        complete configuration (one value left to every variable) is checked rule by rule."""
        if self._count is not None or self._settled is not None:
            return self.count() > 0
        if not self._whole.feasible():
            return False
        if self.tree.flat.rows < _PARALLEL_ROWS:
            block = next(solution_blocks(self._whole, _BLOCK), None)
            if block is not None and bool(self.holding(block[0]).any()):
                return True
        return self.count() > 0

    def count(self) -> int:
        return self._counted(None)

    @cached_property
    def _settled(self) -> int | None:
        """The count when the value filters alone settle it, without the terms: 0 when they
        leave a slot no value; when they leave each slot one (a complete configuration, as a
        storefront restores one for its quote), whether it breaks no rule; else None."""
        if not all(map(any, self._problem.allowed)):
            return 0
        only = self._only
        return None if only is None else int(holds_rules(self._problem, only))

    @cached_property
    def _only(self) -> list[int] | None:
        """The one assignment the value filters leave, when they leave each slot one value."""
        return only_assignment(self._problem)

    def _counted(self, deadline: float | None) -> int:
        """The count (computed once), the terms counted :meth:`at once <_over_terms>`;
        :class:`~modcfg.LimitExceeded` when ``deadline`` (:func:`time.monotonic`) passes
        before a term starts."""
        if self._count is None and self._settled is not None:
            self._count = self._settled
        if self._count is None:
            terms = self._over_terms(TreeQuery.count, deadline, "counting", build=False)
            self._count = sum(sign * found for sign, found in terms)
        return self._count

    def _over_terms(
        self, work: Callable[[TreeQuery], T], deadline: float | None, doing: str, *, build: bool
    ) -> list[tuple[int, T]]:
        """``work`` on the query of every term, with its sign (the first term's query is
        kept, with its passes; ``build``: the others' own trees are built if need be, see
        :meth:`_term_query`); past ``deadline`` (:func:`time.monotonic`; None: none) before
        a term starts, :class:`~modcfg.LimitExceeded` saying how far ``doing`` got.

        The passes run compiled without holding the interpreter, so terms run two at a time
        on a machine with two cores or more, when the tree has :data:`_PARALLEL_ROWS` rows or
        more and the passes of two terms fit in the memory limit together (each term's query
        holds its passes until its work is done). The first term's passes run next to the
        others' rather than before them (a step then waits for the longest of the two
        threads, not for the first term and then for the others)."""
        terms = range(len(self._terms))
        started: list[int] = []

        def in_time(done: int) -> None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeLimitExceeded(
                    f"{doing} passed its time limit after {done} of "
                    f"{len(self._terms)} terms of the clauses set aside; raise time_limit=",
                    estimate=len(self._terms),
                    limit=done,
                )

        def run(term: int) -> tuple[int, T]:
            in_time(len(started))
            started.append(1)
            if not term:
                return 1, work(self._whole)
            query = self._term_query(term, build=build, deadline=deadline)
            in_time(len(started) - 1)  # (building the term's own tree takes time too)
            return self._terms[term][0], work(query)

        if self._at_once() == 1 or len(terms) < 2:
            return [run(term) for term in terms]
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(run, terms))

    def _at_once(self) -> int:
        """How many terms run at once (see :meth:`_over_terms`)."""
        if self.tree.flat.rows < _PARALLEL_ROWS or _cores() < 2:
            return 1
        two = 2 * self.tree.pass_bytes(self._bound)
        return 2 if two <= self._problem.memory_limit else 1

    def best_key(self) -> int | None:
        if not self.count():
            return None
        same = self._same_key
        if same is not None:
            return same
        for key, _ in self.by_key():
            return key
        return None  # pragma: no cover - a positive count has a solution

    def worst_key(self) -> int | None:
        if not self.count():
            return None
        same = self._same_key
        if same is None:
            raise CompiledEngineError(
                "with wide clauses set aside, the engine finds the cheapest configurations, "
                "not the most expensive: rank these needs with engine='cpsat'"
            )
        return same

    def ranks(self) -> bool:
        return self._same_key is not None

    @cached_property
    def _same_key(self) -> int | None:
        """The key every solution has, when the relaxed rules give all theirs one key (an
        unpriced catalog: every feature model), else None."""
        best = self._whole.best_key()
        return best if best is not None and best == self._whole.worst_key() else None

    def marginals(self, *, deadline: float | None = None) -> list[list[Marginal]]:
        """Every option's count (see :meth:`option_counts`) and its cheapest key, the one
        key of every solution (computed once; ``deadline`` is read before each term)."""
        if self._marginals is None:
            self._marginals = self._priced(self._counts_by(deadline))
        return self._marginals

    def _priced(self, counts: list[list[int]]) -> list[list[Marginal]]:
        """``counts`` with the key of every solution (a feature model's: all equal)."""
        if not self.count():
            return [[(0, None)] * len(row) for row in counts]
        key = self._same_key
        if key is None:
            raise CompiledEngineError(
                "with wide clauses set aside, the engine counts every option but does not "
                "price them (a catalog priced per slot with clauses over "
                f"{ASIDE_SLOTS} slots or more): show from-prices with engine='cpsat'"
            )
        return [[(number, key if number else None) for number in row] for row in counts]

    def option_counts(self) -> list[list[int]]:
        return self._counts_by(None)

    def _counts_by(self, deadline: float | None) -> list[list[int]]:
        """Every option's count, the signed sum of the terms' (computed once; their passes
        give the count too: a variable's option counts add up to it, so no term is counted
        apart; the first term's upward pass among them, not before them); ``deadline`` is
        read before each term."""
        if self._option_counts is not None:
            return self._option_counts
        if self._count == 0:
            self._option_counts = [[0] * len(row) for row in self._problem.allowed]
            return self._option_counts
        marginals = TreeQuery.marginals
        terms = self._over_terms(marginals, deadline, "counting every option", build=True)
        totals = [[0] * len(row) for row in self._problem.allowed]
        for sign, found in terms:
            for total, part in zip(totals, found, strict=True):
                for value, (number, _) in enumerate(part):
                    total[value] += sign * number
        if self._count is None and totals:
            self._count = sum(totals[0])
        self._option_counts = totals
        return totals

    # -- enumeration: the relaxed rules' solutions that satisfy the clauses set aside ------

    def holds(self, assignment: Sequence[int]) -> bool:
        """Whether ``assignment`` satisfies every clause set aside."""
        return bool(self.holding(np.asarray(assignment)[:, None])[0])

    def holding(self, block: np.ndarray) -> np.ndarray:
        """Which columns of ``block`` (variables x solutions) satisfy every rule set aside:
        those in none of their events (the combinations that break them)."""
        keep = np.ones(block.shape[1], dtype=bool)
        for event in self._events:
            broken = np.ones(block.shape[1], dtype=bool)
            for var, mask in event:
                broken &= np.asarray(mask, dtype=bool)[block[var]]
            keep &= ~broken
        return keep

    def relaxed_parts(self) -> list[TreeQuery]:
        """The first term's query split into disjoint parts outside the events of the
        customer's needs (each event's slots in turn: the first outside it, or inside it and
        the next outside, and so on), so that a walk never passes the configurations they
        rule out: a condition on slots the walk fixes early would leave whole subtrees of
        them before the first that keeps it. Without such events, the query itself."""
        parts = outside(self._whole, self._events[len(self._events) - self._needs :])
        assert parts is not None  # (no most: every part)
        return parts

    def solutions(self, *, deadline: float | None = None) -> Iterator[list[int]]:
        """The solutions of :meth:`blocks`, one by one."""
        for values, _ in self.blocks(_BLOCK, deadline=deadline):
            yield from values.T.tolist()

    def blocks(
        self, size: int, *, allocate: Allocate | None = None, deadline: float | None = None
    ) -> Iterator[Block]:
        """The relaxed rules' solutions, walked in blocks (per part outside the needs'
        events, see :meth:`relaxed_parts`), without those that break a rule set aside; the
        walk stops once every solution is found (the relaxed ones left all break one)."""
        left = self.count()
        if not left:
            return
        only = self._only
        if only is not None:  # (a complete configuration: no walk's layout to build)
            values = np.asarray(only, dtype=np.int64).reshape(-1, 1)
            yield values, unit_costs(self._problem, values)
            return
        for part in self.relaxed_parts():
            for values, cost in part.blocks(size, allocate=allocate):
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeLimitExceeded("the enumeration passed its time limit; raise it")
                keep = self.holding(values)
                left -= int(keep.sum())
                if keep.any():
                    yield (values, cost) if keep.all() else (values[:, keep], cost[keep])
                if not left:
                    return

    def draws(self, weights: Weights) -> Draws:
        """Draws of the relaxed rules (per part, as :meth:`blocks` walks), those that break
        a rule set aside drawn again (see :mod:`._walks`)."""
        whole = whole_weights(weights)
        return Mixture([part.draws(whole) for part in self.relaxed_parts()], self.holds)

    def by_key(
        self, *, deadline: float | None = None, preference_first: bool = False
    ) -> Iterator[tuple[int, list[int]]]:
        """The relaxed rules' solutions in key order (the parts outside the needs' events
        merged) that satisfy the rules set aside (a price-ordered walk passes the others)."""
        walks = [
            part.by_key(deadline=deadline, preference_first=preference_first)
            for part in self.relaxed_parts()
        ]
        merged = walks[0] if len(walks) == 1 else heapq.merge(*walks, key=itemgetter(0))
        for key, assignment in merged:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeLimitExceeded("the enumeration passed its time limit; raise time_limit=")
            if self.holds(assignment):
                yield key, assignment

    # -- global sums and budgets: none (see CountingOnly) ----------------------------------

    def count_within(self, bounds: Bounds, *, time_limit: float | None = None) -> int:
        self._unbounded(bounds, "configurations")
        return self._counted(deadline_after(time_limit))
