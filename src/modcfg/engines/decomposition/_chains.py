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

from dataclasses import replace

import numpy as np

from ...lower._problem import Constraint, Problem, SlotDomain, missing_combination

__all__ = ["with_chains"]

#: Cliques of pairwise exclusions from this many literals become at-most-one chains.
_CLIQUE = 4

#: The choices of an auxiliary variable (no module: a flag of the engine's own).
_FLAG = ("false", "true")


def with_chains(problem: Problem) -> Problem:
    """``problem`` with each clause constraint, and each clique of pairwise exclusions, replaced
    by its chain (``problem`` itself when it has neither)."""
    clauses = [c for c in problem.constraints if c.clause is not None]
    excluded = _exclusions(problem)
    cliques = _cliques(excluded)
    if not clauses and not cliques:
        return problem
    domains = list(problem.domains)
    allowed = list(problem.allowed)
    covered = {id(excluded[a, b]) for clique in cliques for a, b in _pairs(clique)}
    constraints = [c for c in problem.constraints if c.clause is None and id(c) not in covered]
    shared: dict[tuple[object, ...], np.ndarray] = {}

    def flag(source: str) -> int:
        domains.append(SlotDomain(f"({source}: link {len(domains)})", _FLAG, ((), ()), (0, 0)))
        allowed.append([True, True])
        return len(domains) - 1

    def chain(literals: list[tuple[int, tuple[bool, ...]]], source: str, *, most: bool) -> None:
        """Some literal holds (``most=False``: a clause) or at most one does (``most``)."""
        first, first_mask = literals[0]
        before = flag(source)
        rows = _first_rows(first_mask)
        constraints.append(_relation((first, before), rows, source, allowed, shared))
        for var, mask in literals[1:-1]:
            after = flag(source)
            rows = _link_rows(mask, most=most)
            constraints.append(_relation((before, var, after), rows, source, allowed, shared))
            before = after
        last, last_mask = literals[-1]
        rows = _last_rows(last_mask, most=most)
        constraints.append(_relation((before, last), rows, source, allowed, shared))

    for constraint in clauses:
        assert constraint.clause is not None  # (the clauses)
        literals = list(zip(constraint.scope, constraint.clause, strict=True))
        chain(literals, constraint.source, most=False)
    for clique in cliques:
        source = excluded[clique[0], clique[1]].source
        literals = [(var, _only(value, len(domains[var].choices))) for var, value in clique]
        chain(literals, source, most=True)
    return replace(problem, domains=tuple(domains), allowed=allowed, constraints=constraints)


Literal = tuple[int, int]  # (variable, value)


def _exclusions(problem: Problem) -> dict[tuple[Literal, Literal], Constraint]:
    """The relations over two variables that forbid one pair of their allowed values, by the
    pair of literals they forbid (both orders). A feature model's pairs share a few row arrays
    (one per shape of clause), so each array is read once per pair of allowed values."""
    found: dict[tuple[Literal, Literal], Constraint] = {}
    missing_of: dict[tuple[int, tuple[bool, ...], tuple[bool, ...]], tuple[int, ...] | None] = {}
    allowed = problem.allowed
    for constraint in problem.constraints:
        if len(constraint.scope) != 2 or constraint.clause is not None:
            continue
        a, b = constraint.scope
        rows = constraint.rows  # (alive as long as the problem: its identity is a key)
        key = (id(rows), tuple(allowed[a]), tuple(allowed[b]))
        if key in missing_of:
            missing = missing_of[key]
        else:
            values = [problem.values(a), problem.values(b)]
            missing = missing_of[key] = missing_combination(rows.T.tolist(), values)
        if missing is not None:
            x, y = missing
            found[(a, x), (b, y)] = found[(b, y), (a, x)] = constraint
    return found


def _cliques(excluded: dict[tuple[Literal, Literal], Constraint]) -> list[list[Literal]]:
    """Greedy cliques (at least :data:`_CLIQUE` literals) of the graph of excluded pairs, each
    pair in at most one: the at-most-one groups (alternatives) of a model written pairwise."""
    neighbours: dict[Literal, set[Literal]] = {}
    for first, second in excluded:
        neighbours.setdefault(first, set()).add(second)
    cliques: list[list[Literal]] = []
    for start in sorted(neighbours, key=lambda node: (-len(neighbours[node]), node)):
        if len(neighbours[start]) < _CLIQUE - 1:
            continue
        clique = [start]
        common = set(neighbours[start])
        for node in sorted(common, key=lambda node: (-len(neighbours[node]), node)):
            if node in common:
                clique.append(node)
                common &= neighbours[node]
        if len(clique) >= _CLIQUE:
            clique.sort()
            cliques.append(clique)
            for first, second in _pairs(clique):
                neighbours[first].discard(second)
                neighbours[second].discard(first)
    return cliques


def _pairs(clique: list[Literal]) -> list[tuple[Literal, Literal]]:
    return [(a, b) for i, a in enumerate(clique) for b in clique[i + 1 :]]


def _only(value: int, size: int) -> tuple[bool, ...]:
    return tuple(v == value for v in range(size))


def _first_rows(mask: tuple[bool, ...]) -> list[tuple[int, ...]]:
    """(x, a): ``a`` is whether ``x`` is in the mask."""
    return [(value, int(ok)) for value, ok in enumerate(mask)]


def _link_rows(mask: tuple[bool, ...], *, most: bool) -> list[tuple[int, ...]]:
    """(a, x, b): ``b`` is ``a`` or ``x`` in the mask (``most``: not both)."""
    return [
        (a, value, int(a or ok))
        for a in (0, 1)
        for value, ok in enumerate(mask)
        if not (most and a and ok)
    ]


def _last_rows(mask: tuple[bool, ...], *, most: bool) -> list[tuple[int, ...]]:
    """(a, x): ``a`` or ``x`` in the mask (``most``: not both)."""
    return [
        (a, value)
        for a in (0, 1)
        for value, ok in enumerate(mask)
        if (not (a and ok) if most else a or ok)
    ]


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
