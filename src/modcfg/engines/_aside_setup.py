"""Setting wide clauses aside: which clauses, and the tree of the other rules (see
:mod:`._aside` for the counting by inclusion-exclusion over that tree)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..lower import Problem
from ..lower._problem import Constraint
from . import _aside
from ._aside import AsideQuery
from ._aside_terms import (
    ASIDE_MOST,
    clause_event,
    fewest,
    own_trees,
    terms_by_events,
    without,
)
from .decomposition import FillStopped, bag_combinations, build_tree, check_widest

__all__ = ["set_aside", "wide_clauses"]


def wide_clauses(problem: Problem) -> tuple[Constraint, ...]:
    """The clauses to set aside: the widest, at most :data:`ASIDE_MOST`, each over at least
    :data:`~._aside.ASIDE_SLOTS` slots (none when the problem has none)."""
    least = _aside.ASIDE_SLOTS  # (read where it is set)
    wide = [c for c in problem.constraints if c.clause is not None and len(c.scope) >= least]
    wide.sort(key=lambda c: -len(c.scope))
    return tuple(wide[:ASIDE_MOST])


def set_aside(
    problem: Problem,
    aside: Sequence[Constraint] | None = None,
    *,
    widest: int | None = None,
    deadline: float | None = None,
) -> AsideQuery:
    """The query of ``problem`` with the clauses ``aside`` (default: those of
    :func:`wide_clauses` that :func:`~._aside_terms.fewest` keeps out of the tree) set
    aside: the tree of its other rules, decomposed with min-fill within the full limits and,
    when given, ``widest`` value combinations a bag, which min-degree's decomposition must
    keep to as well (min-fill's takes seconds on a model whose width stays near 100; raises
    :class:`~modcfg.engines.decomposition.BagsTooLarge` or :class:`~modcfg.LimitExceeded` past
    them, as any tree). ``deadline`` (:func:`time.monotonic`) stops the tree's fill, and what
    follows it, with :class:`~modcfg.engines.decomposition.FillStopped`."""
    clauses = tuple(wide_clauses(problem) if aside is None else aside)
    relaxed = without(problem, clauses)
    found = None
    if widest is not None:  # min-degree's decomposition first: a fraction of min-fill's time
        found = check_widest(relaxed, widest)
    if aside is None and len(clauses) > 1:
        if found is None:
            found = bag_combinations(relaxed)
        clauses = fewest(problem, clauses, found)
        relaxed = without(problem, clauses)
    tree = build_tree(relaxed, fill_in=True, widest=widest, deadline=deadline)
    if deadline is not None and time.monotonic() > deadline:  # (before the first term's pass)
        raise FillStopped(len(tree.bags), len(tree.bags))
    events = [clause_event(clause) for clause in clauses]
    terms, sets = terms_by_events(relaxed, events)
    own = own_trees(tree, terms, sets)
    return AsideQuery(problem, tree, clauses, terms, events=events, own=own)
