"""The terms of rules set aside: the boxes of combinations each rule forbids (its *events*)
and the signed value filters that inclusion-exclusion over them makes (see
:mod:`modcfg.engines._aside`).

A clause forbids one box (every literal false). A small rule that a customer's needs add (a
condition over a few slots) forbids a few combinations of its slots' values, each a box of
one row; the boxes of one rule are disjoint, so the terms that would take two of them filter
some slot down to nothing and are dropped, and inclusion-exclusion over the boxes counts the
rule's rows exactly.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import replace
from math import prod
from typing import Protocol, Self, TypeVar

from .._errors import LimitExceeded
from ..lower import Problem
from ..lower._problem import Constraint
from .decomposition import FillStopped, Tree, bag_combinations, build_tree

__all__ = [
    "ASIDE_MOST",
    "NEED_COMBINATIONS",
    "NEED_EVENTS",
    "OWN_TREE_ROWS",
    "Event",
    "Term",
    "TermTrees",
    "added_rules",
    "clause_event",
    "fewest",
    "need_events",
    "outside",
    "own_trees",
    "same_rules",
    "terms_by_events",
    "without",
]

#: At most this many rules are set aside (each clause one event; with a customer's needs,
#: at most this many events in all): 2**6 = 64 terms, each a pass over the tree.
ASIDE_MOST = 6
Term = tuple[int, Problem]  # (sign, the relaxed rules with some clauses' literals false)
#: A box of combinations a rule set aside forbids: per variable of the rule, the values in it.
Event = tuple[tuple[int, tuple[bool, ...]], ...]
#: A rule a customer's needs add is set aside (next to the wide clauses) when its slots'
#: allowed values make at most this many combinations (each forbidden one is an event).
NEED_COMBINATIONS = 64
#: At most this many events of a customer's needs join those of the catalog: each doubles
#: the terms, so every step's passes. On the decision-making model (8 terms, 956,000 bag
#: rows), one condition set aside gives a first state in 0.5 s and steps of 1.8 s, where a
#: tree of its own takes 4.3 s to build and its steps 0.3-1.2 s; with three conditions, the
#: 64 terms take 5.7 s a step, against 6.3 s to build a tree once and 0.2-1.5 s a step.
NEED_EVENTS = 1
#: The terms get trees of their own (see :class:`TermTrees`) when the relaxed rules' tree has
#: at least this many bag rows.
OWN_TREE_ROWS = 100_000


def without(problem: Problem, aside: tuple[Constraint, ...]) -> Problem:
    """``problem`` without the clauses ``aside``."""
    kept = {id(c) for c in aside}
    return replace(problem, constraints=[c for c in problem.constraints if id(c) not in kept])


def same_rules(problem: Problem, other: Problem) -> bool:
    """Whether ``problem`` has ``other``'s rules, price rules and preferences (the same
    objects: needs change value filters only)."""
    pairs = (
        (problem.constraints, other.constraints),
        (problem.cost_factors, other.cost_factors),
        (problem.score_factors, other.score_factors),
    )
    return all(
        len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs, strict=True))
        for mine, theirs in pairs
    )


def added_rules(problem: Problem, other: Problem) -> tuple[Constraint, ...] | None:
    """The rules ``problem`` adds to ``other``'s (the same objects first, as needs add
    theirs), when its price rules and preferences are ``other``'s; None otherwise."""
    known = len(other.constraints)
    if len(problem.constraints) < known:
        return None
    base = replace(problem, constraints=problem.constraints[:known])
    if not same_rules(base, other):
        return None
    return tuple(problem.constraints[known:])


def clause_event(clause: Constraint) -> Event:
    """The one box of combinations a clause forbids: every literal false."""
    assert clause.clause is not None  # (set_aside takes clauses)
    return tuple(
        (var, tuple(not ok for ok in mask))
        for var, mask in zip(clause.scope, clause.clause, strict=True)
    )


def need_events(
    problem: Problem,
    added: Sequence[Constraint],
    known: int,
    *,
    most: int | None = None,
    most_with_known: int | None = None,
) -> list[Event] | None:
    """The events of the rules a customer's needs ``added`` (conditions over a few slots),
    when there are at most ``most`` (None: :data:`NEED_EVENTS`), and ``most_with_known``
    (None: :data:`ASIDE_MOST`) with the ``known`` ones: a clause's box, or each combination
    of the allowed values a small rule forbids (disjoint boxes of one row each, so
    inclusion-exclusion over them counts the rule's rows exactly); None when there are more
    (the problem then gets a tree of its own)."""
    most = NEED_EVENTS if most is None else most
    most_with_known = ASIDE_MOST if most_with_known is None else most_with_known
    events: list[Event] = []
    for rule in added:
        if rule.clause is not None:
            events.append(clause_event(rule))
        else:
            values = [[v for v, ok in enumerate(problem.allowed[var]) if ok] for var in rule.scope]
            if prod(map(len, values)) > NEED_COMBINATIONS:
                return None
            for row in itertools.product(*values):
                if not rule.holds(row):
                    events.append(
                        tuple(
                            (var, tuple(v == value for v in range(len(problem.allowed[var]))))
                            for var, value in zip(rule.scope, row, strict=True)
                        )
                    )
        if len(events) > most or known + len(events) > most_with_known:
            return None
    return events


class _Restricting(Protocol):
    """A query whose solutions can be restricted to some values of a variable."""

    @property
    def problem(self) -> Problem: ...

    def restricted(self, var: int, values: frozenset[int]) -> Self: ...


Q = TypeVar("Q", bound=_Restricting)


def outside(query: Q, events: Sequence[Event], *, most: int | None = None) -> list[Q] | None:
    """``query``'s solutions outside every one of ``events`` as disjoint restrictions of it
    (per event, each part split by the event's variables in turn: outside the first, or
    inside it and outside the second, and so on; a part already outside an event stays
    whole); None when that makes more than ``most`` parts."""
    parts = [query]
    for event in events:
        split = []
        for part in parts:
            inside = part
            for var, mask in event:
                allowed = inside.problem.allowed[var]
                out = [v for v, ok in enumerate(allowed) if ok and not mask[v]]
                if out:
                    split.append(inside.restricted(var, frozenset(out)))
                kept = [v for v, ok in enumerate(allowed) if ok and mask[v]]
                if not kept:
                    break
                inside = inside.restricted(var, frozenset(kept))
        if most is not None and len(split) > most:
            return None
        parts = split
    return parts


def terms_by_events(
    relaxed: Problem, events: Sequence[Event]
) -> tuple[list[Term], list[tuple[int, ...]]]:
    """The signed terms: for each set of ``events`` (the boxes of combinations the rules set
    aside forbid), ``relaxed`` with its values filtered to their intersection (the sets that
    leave a slot no value are dropped: they count nothing, two boxes of one rule among them);
    the first is ``relaxed`` itself. With them, the positions in ``events`` of each term's
    events."""
    terms: list[Term] = [(1, relaxed)]
    sets: list[tuple[int, ...]] = [()]
    for size in range(1, len(events) + 1):
        for chosen in itertools.combinations(range(len(events)), size):
            rows = [list(row) for row in relaxed.allowed]
            for event in chosen:
                for var, mask in events[event]:
                    rows[var] = [keep and ok for keep, ok in zip(rows[var], mask, strict=True)]
            if all(map(any, rows)):
                terms.append(((-1) ** size, replace(relaxed, allowed=rows)))
                sets.append(chosen)
    return terms, sets


class TermTrees:
    """Per term but the first, a tree of the term's own rules, built at the first request and
    kept for every query restricted from the catalog's.

    A term filters out the values its clauses' literals need (an or-group's parent selected,
    its children all left out): the tree of the relaxed rules holds every row those filters
    then skip, at each pass. Decomposed apart, with those values gone, a term's bags hold
    far fewer rows: on the decision-making model (a relaxed tree of 871,000 rows), the seven
    other terms' trees hold 15,000 to 259,000 rows and their passes take a quarter of the
    time (a session step 0.39-0.41 s instead of 0.82-1.02 s, see ``docs/limits.md``), for
    1.9 s of building once. Their rows in all stay within the relaxed tree's, and their
    entries within what the memory limit leaves beside it (two built at once may pass that
    by one tree's): a tree past either, or past a limit of its own, is not kept, and its
    term is counted over the relaxed tree; one stopped by a deadline is built again at the
    next request.
    """

    def __init__(
        self, terms: Sequence[Term], tree: Tree, sets: Sequence[tuple[int, ...]] = ()
    ) -> None:
        self._problems = [problem for _, problem in terms]
        self._of_set = {chosen: index for index, chosen in enumerate(sets)}
        self._rows_left = tree.flat.rows
        self._bytes_left = tree.problem.memory_limit - tree.entry_bytes
        self._trees: dict[int, Tree | None] = {}
        self._locks = [threading.Lock() for _ in terms]
        self._held = threading.Lock()  # (the rows and bytes left)

    def index_of(self, chosen: tuple[int, ...]) -> int:
        """The index of the term of the events at positions ``chosen`` (the catalog's events
        first, as every query made from the catalog's lists them), -1 for none of them: a
        term with a customer's condition among its events, or without a tree of its own."""
        return self._of_set.get(chosen, -1)

    def tree(self, index: int, deadline: float | None, *, build: bool = True) -> Tree | None:
        """The tree of term ``index`` (None: none of its own, or ``index`` -1), built if need
        be when ``build``; a build that ``deadline`` (:func:`time.monotonic`) stops gives
        None this time."""
        if index < 0:
            return None
        if not build:
            return self._trees.get(index)
        with self._locks[index]:
            if index in self._trees:
                return self._trees[index]
            problem = replace(self._problems[index], memory_limit=max(0, self._bytes_left))
            try:
                tree: Tree | None = build_tree(problem, fill_in=True, deadline=deadline)
            except FillStopped:
                return None
            except LimitExceeded:  # (bags too large, the memory limit: the relaxed tree serves)
                tree = None
            tree = self._trees[index] = self._within(tree)
            return tree

    def _within(self, tree: Tree | None) -> Tree | None:
        """``tree`` when its rows and bytes fit in what is left (then taken from it), else
        None: its term is counted over the relaxed tree."""
        if tree is None:
            return None
        rows, size = tree.flat.rows, tree.entry_bytes
        with self._held:
            if rows > self._rows_left or size > self._bytes_left:
                return None
            self._rows_left -= rows
            self._bytes_left -= size
        return tree

    def every_tree(self) -> tuple[tuple[int, Tree | None], ...]:
        """Every term's tree, built now where none was yet (None: the term is counted over
        the relaxed tree), by index: what a saved compiled catalog keeps (see
        :meth:`keep`)."""
        return tuple((index, self.tree(index, None)) for index in range(1, len(self._locks)))

    def keep(self, trees: Sequence[tuple[int, Tree | None]]) -> None:
        """Hold ``trees`` (from :meth:`every_tree`, over the same terms and relaxed tree) as
        the terms' own, within the rows and bytes left as :meth:`tree` holds a build."""
        for index, tree in trees:
            with self._locks[index]:
                self._trees[index] = self._within(tree)


def own_trees(tree: Tree, terms: list[Term], sets: Sequence[tuple[int, ...]]) -> TermTrees | None:
    """The own trees of ``terms`` (of the events at positions ``sets``) over ``tree`` (the
    relaxed rules'), when it has :data:`OWN_TREE_ROWS` bag rows or more."""
    return TermTrees(terms, tree, sets) if tree.flat.rows >= OWN_TREE_ROWS else None


def fewest(
    problem: Problem, clauses: tuple[Constraint, ...], found: list[int]
) -> tuple[Constraint, ...]:
    """The clauses of ``clauses`` (two or more) to set aside (``found``: each bag's value
    combinations with all of them aside, see :func:`bag_combinations`): each, narrowest
    first, goes back into the tree when the decomposition then has no wider bag and at most
    twice the value combinations in all (before rules) of the tree with every clause aside,
    however many went back before it. A pass then costs at most twice as much, and there are
    at most half as many terms: on the decision-making model, its 84-literal or-group goes
    back without widening the tree (956,000 bag rows, against 943,000 with it aside), and 8
    terms remain of 16.
    The decompositions compared are min-degree's, without filling (0.01 s a try there; the
    tree is then built with min-fill). One clause at least stays aside (the tree with every
    clause was refused already)."""
    chosen = list(clauses)
    widest, total = max(found), sum(found)  # (of every clause aside: the bound stays theirs)
    for clause in sorted(clauses, key=lambda c: len(c.scope)):
        if len(chosen) == 1:
            break
        trial = tuple(c for c in chosen if c is not clause)
        found = bag_combinations(without(problem, trial))
        if max(found) <= widest and sum(found) <= 2 * total:
            chosen = list(trial)
    return tuple(chosen)
