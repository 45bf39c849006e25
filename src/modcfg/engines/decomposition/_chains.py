"""Clauses as chains of auxiliary variables, so that a wide clause never fills one bag.

A clause over ``n`` variables (some variable takes a value of its mask, see
:class:`~modcfg.lower.Constraint`) ties all ``n`` into one clique of the primal graph, hence
into one bag of ``prod(domains)`` rows. As in the standard decompositions of CNF into
constraint networks (and Tseitin's encoding), :func:`with_chains` replaces it by ``n - 1``
Boolean auxiliary variables ``a_i = a_{i-1} or x_i in mask_i`` and the final condition
``a_{n-1} or x_n in mask_n``: relations of at most three variables each, ``2 x 2 x domain``
rows, so the clause costs the decomposition a path, not a clique.

Invariants: every auxiliary variable is a function of the real ones (its value is forced by
its predecessor and its literal), so every solution of the problem extends to exactly one
solution of the chained problem: counts, per-option counts, cheapest keys and enumerations
over the real variables are unchanged. Auxiliary variables come after the real ones (indexes
from ``problem.size``), cost nothing and are never filtered; the tree reports only the real
ones (see :func:`._tree.build_tree`).
"""

from __future__ import annotations

import numpy as np

from ...lower._problem import Constraint, Problem, SlotDomain

__all__ = ["with_chains"]

#: The choices of an auxiliary variable (no module: a flag of the engine's own).
_FLAG = ("false", "true")


def with_chains(problem: Problem) -> Problem:
    """``problem`` with each clause constraint replaced by its chain (itself when none)."""
    if not any(c.clause is not None for c in problem.constraints):
        return problem
    domains = list(problem.domains)
    allowed = list(problem.allowed)
    constraints: list[Constraint] = []
    shared: dict[tuple[object, ...], np.ndarray] = {}

    def flag(source: str) -> int:
        domains.append(SlotDomain(f"({source}: link {len(domains)})", _FLAG, ((), ()), (0, 0)))
        allowed.append([True, True])
        return len(domains) - 1

    for constraint in problem.constraints:
        if constraint.clause is None:
            constraints.append(constraint)
            continue
        source = constraint.source
        literals = list(zip(constraint.scope, constraint.clause, strict=True))
        first, first_mask = literals[0]
        before = flag(source)
        constraints.append(
            _relation((first, before), _first_rows(first_mask), source, allowed, shared)
        )
        for var, mask in literals[1:-1]:
            after = flag(source)
            rows = _link_rows(mask)
            constraints.append(_relation((before, var, after), rows, source, allowed, shared))
            before = after
        last, last_mask = literals[-1]
        constraints.append(
            _relation((before, last), _last_rows(last_mask), source, allowed, shared)
        )
    return Problem(
        catalog=problem.catalog,
        domains=tuple(domains),
        allowed=allowed,
        constraints=constraints,
        cost_factors=problem.cost_factors,
        score_factors=problem.score_factors,
        resources=problem.resources,
        unary_reasons=problem.unary_reasons,
        need_reasons=problem.need_reasons,
        memory_limit=problem.memory_limit,
    )


def _first_rows(mask: tuple[bool, ...]) -> list[tuple[int, ...]]:
    """(x, a): ``a`` is whether ``x`` is in the mask."""
    return [(value, int(ok)) for value, ok in enumerate(mask)]


def _link_rows(mask: tuple[bool, ...]) -> list[tuple[int, ...]]:
    """(a, x, b): ``b`` is ``a`` or ``x`` in the mask."""
    return [(a, value, int(a or ok)) for a in (0, 1) for value, ok in enumerate(mask)]


def _last_rows(mask: tuple[bool, ...]) -> list[tuple[int, ...]]:
    """(a, x): ``a`` or ``x`` in the mask."""
    return [(a, value) for a in (0, 1) for value, ok in enumerate(mask) if a or ok]


def _relation(
    scope: tuple[int, ...],
    rows: list[tuple[int, ...]],
    source: str,
    allowed: list[list[bool]],
    shared: dict[tuple[object, ...], np.ndarray],
) -> Constraint:
    """A relation over its allowed rows, columns in the order of its sorted scope, rows
    sorted (``shared``: the arrays made so far, by rows, order and allowed values: a model's
    clauses repeat a few shapes)."""
    order = sorted(range(len(scope)), key=scope.__getitem__)
    masks = tuple(tuple(allowed[var]) for var in scope)
    key = (tuple(rows), tuple(order), masks)
    found = shared.get(key)
    if found is None:
        kept = sorted(
            tuple(row[i] for i in order)
            for row in rows
            if all(mask[value] for mask, value in zip(masks, row, strict=True))
        )
        found = np.asarray(kept, dtype=np.int64).reshape(len(kept), len(scope))
        found.flags.writeable = False
        shared[key] = found
    return Constraint(tuple(scope[i] for i in order), source=source, rows=found)
