"""Values no solution takes, found by propagation, and the rules left once fixed slots are read.

A feature model fixes many of its slots outright: the root feature is always chosen, its
mandatory children with it, and features whose parent a unit clause rules out are dead. The
lowering excludes the values a rule over one slot rules out, but a requires clause from the
root to a mandatory child only fixes the child once the root is known to be chosen, and every
clause through a fixed slot still ties it to the others in the primal graph. On a Soletta
model of 440 features, 84 slots had one value left after lowering and 168 after propagation;
the rules went from 1,640 to 717, the tree's rows from 66,675 to 20,184 and its width from 21
to 12.

:func:`simplified` propagates the rules as a SAT solver's unit propagation does: a clause
with one literal that can still hold forces it, and a small table keeps the values some row
still allows (arc consistency, once one of its variables has narrowed). Most tables of a
feature model are small clauses tabulated (every combination of their values but one): those
are read as the clause they are, a few bit operations a step. Then every rule is
conditioned on the slots left one value: a clause drops the literals that can no longer hold
and is gone when one must hold; a table keeps the rows that agree with the values left,
without the fixed slots' columns, and is gone when it allows every combination of what is
left. A slot fixed in every rule is then tied to none, and the decomposition puts it in the
one-row bag of fixed slots.

Invariants: propagation removes only values that no solution takes (it is sound), so every
count, per-option count, cheapest key and enumeration over the problem's variables is
unchanged (a removed value counts zero, as it did). Variables keep their indexes. Large
tables are conditioned but do not propagate; sums (rules with a linear form) and cost and
preference factors are left as they are. The problem is returned unchanged when propagation
finds that no solution exists (the passes count its zero as they always did), and when less
than :data:`_WORTH` of the rules read a fixed variable: the decomposition then reads the graph
it always read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import compress
from math import prod
from typing import NamedTuple

import numpy as np

from ...lower import _lowering
from ...lower._problem import Constraint, Problem, clause_table, missing_combination

__all__ = ["simplified"]

#: Tables of at most this many rows that are not clauses propagate (each narrowing of their
#: scope reads their rows).
_TABLE_ROWS = 64

#: The share of the rules that must read a fixed variable for the problem to be conditioned.
#: Below it, the graph would be the problem's own but for some edges, and the elimination
#: heuristics' ties make the tree better or worse by chance: on the eCos models (2-3 % of the
#: rules read one) from 0.7 to 3 times the time to compile, on a Fiasco model (32 %) 1.2
#: times, on five models with 18-27 % within 5 %. On the models where half the rules or more
#: read one (Soletta, Android 6, uCLinux, two finance models), the tree is smaller: Soletta
#: compiles in half the time, a decision-making model in two thirds.
_WORTH = 0.4

#: Tables of more rows are not read as clauses (a tabulated clause has at most
#: ``CLAUSE_TABLE_LIMIT`` rows).
_CLAUSE_ROWS = _lowering.CLAUSE_TABLE_LIMIT


class _Conflict(Exception):
    """Propagation left a variable no value: the problem has no solution."""


class _Reading(NamedTuple):
    """A rule as propagation reads it, but its scope: either a clause (per position, the bit
    mask of the values that satisfy it; for a tabulated clause, the values its rows hold:
    ``within``) or the ``rows`` of a small table; neither for a rule that does not propagate.
    Rules of one shape share one reading."""

    masks: tuple[int, ...] | None
    within: tuple[int, ...] | None
    rows: list[tuple[int, ...]] | None


_NOTHING = _Reading(None, None, None)


def simplified(problem: Problem) -> Problem:
    """``problem`` with the values propagation rules out removed and its rules conditioned on
    the variables left one value (``problem`` itself when propagation finds that nothing is a
    solution, or when less than :data:`_WORTH` of the rules read a fixed variable)."""
    domains = [_bits(row) for row in problem.allowed]
    if not all(domains):  # (a slot with no value: nothing is a solution)
        return problem
    before = list(domains)
    constraints = problem.constraints
    readings = _Reader().readings(constraints)
    try:
        _propagate(constraints, readings, domains, [(1 << len(row)) - 1 for row in problem.allowed])
    except _Conflict:
        return problem
    fixed = [mask & (mask - 1) == 0 for mask in domains]
    touched = sum(1 for constraint in constraints if any(fixed[v] for v in constraint.scope))
    if touched < _WORTH * len(constraints):
        return problem
    sizes = [len(row) for row in problem.allowed]
    shapes: dict[tuple[object, ...], np.ndarray] = {}
    kept: list[Constraint] = []
    for constraint, reading in zip(constraints, readings, strict=True):
        found = _conditioned(constraint, reading, domains, fixed, shapes, sizes)
        if found is not None:
            kept.append(found)
    allowed = list(problem.allowed)
    for var, (now, then) in enumerate(zip(domains, before, strict=True)):
        if now != then:
            allowed[var] = [bool(now >> value & 1) for value in range(len(allowed[var]))]
    return replace(problem, allowed=allowed, constraints=kept)


def _bits(flags: Sequence[bool]) -> int:
    """The bit mask of the values whose flag is set."""
    mask = 0
    for value in compress(range(len(flags)), flags):
        mask |= 1 << value
    return mask


def _flags(mask: int, size: int) -> tuple[bool, ...]:
    return tuple(bool(mask >> value & 1) for value in range(size))


class _Reader:
    """Rules of constraints; a feature model's tables share a few row arrays (one per shape
    of clause, see ``Lowering.require_clause``), so each array is read once."""

    def __init__(self) -> None:
        #: per row array (by identity: they live as long as the reader), its reading
        self._tables: dict[int, _Reading] = {}
        self._clauses: dict[tuple[tuple[bool, ...], ...], _Reading] = {}

    def readings(self, constraints: Sequence[Constraint]) -> list[_Reading]:
        return [self._reading(constraint) for constraint in constraints]

    def _reading(self, constraint: Constraint) -> _Reading:
        clause = constraint.clause
        if clause is not None:
            found = self._clauses.get(clause)
            if found is None:
                found = self._clauses[clause] = _Reading(tuple(map(_bits, clause)), None, None)
            return found
        if constraint.linear is not None or not constraint.scope:
            return _NOTHING
        rows = constraint.rows
        found = self._tables.get(id(rows))
        if found is None:
            found = self._tables[id(rows)] = _read_rows(rows)
        return found


def _read_rows(rows: np.ndarray) -> _Reading:
    """A table's reading: a tabulated clause when the rows hold every combination
    of the values they hold but one (its masks, and the values held); else its rows, when
    few; else nothing."""
    if len(rows) > _CLAUSE_ROWS:
        return _NOTHING
    columns = rows.T.tolist()
    values = [set(column) for column in columns]
    missing = missing_combination(columns, values)
    if missing is not None:  # every combination of the values it holds but one
        within = tuple(sum(1 << value for value in held) for held in values)
        masks = tuple(w & ~(1 << m) for w, m in zip(within, missing, strict=True))
        return _Reading(masks, within, None)
    if len(rows) <= _TABLE_ROWS:
        return _Reading(None, None, [tuple(row) for row in rows.tolist()])
    return _NOTHING


def _propagate(
    constraints: list[Constraint], readings: list[_Reading], domains: list[int], full: list[int]
) -> None:
    """Narrow ``domains`` (bit masks, in place; ``full``: every value of each variable) to a
    fixpoint of the rules; :class:`_Conflict` when a variable is left no value."""
    watching: list[list[int]] = [[] for _ in domains]
    for index, (constraint, reading) in enumerate(zip(constraints, readings, strict=True)):
        if reading is _NOTHING:
            continue
        if reading.within is not None:  # a tabulated clause's columns hold only these values
            for var, within in zip(constraint.scope, reading.within, strict=True):
                _narrow(domains, var, domains[var] & within)
        for var in constraint.scope:
            watching[var].append(index)
    # every clause, and the tables of which a variable has narrowed or has one value (a table
    # is read once one of its variables narrows)
    queue = [
        index
        for index, (constraint, reading) in enumerate(zip(constraints, readings, strict=True))
        if reading.masks is not None
        or (
            reading.rows is not None
            and any(_settled(domains[v], full[v]) for v in constraint.scope)
        )
    ]
    queued = [False] * len(readings)
    for index in queue:
        queued[index] = True
    done = [False] * len(readings)
    while queue:
        index = queue.pop()
        queued[index] = False
        scope = constraints[index].scope
        masks, _, rows = readings[index]
        if masks is not None:
            narrowed = _unit(scope, masks, domains)
            if narrowed is None:
                done[index] = True  # (it holds whatever the values left)
                continue
        else:
            assert rows is not None  # (a small table)
            narrowed = _supported(scope, rows, domains)
        for var, mask in narrowed:
            _narrow(domains, var, mask)
            for other in watching[var]:
                if not queued[other] and not done[other]:
                    queued[other] = True
                    queue.append(other)


def _settled(domain: int, full: int) -> bool:
    """Whether a variable has lost values, or has one."""
    return domain != full or not domain & (domain - 1)


def _narrow(domains: list[int], var: int, mask: int) -> None:
    if not mask:
        raise _Conflict
    domains[var] = mask


def _unit(
    scope: tuple[int, ...], masks: tuple[int, ...], domains: list[int]
) -> list[tuple[int, int]] | None:
    """A clause's narrowing: its one literal that can still hold, forced (or none); None when
    it holds whatever the values left."""
    open_at = -1
    for position, var in enumerate(scope):
        domain = domains[var]
        mask = masks[position]
        if not domain & ~mask:
            return None  # (every value left satisfies it)
        if domain & mask:
            if open_at >= 0:
                return []  # (two literals may still hold)
            open_at = position
    if open_at < 0:
        return [(scope[0], 0)]  # (no literal can hold)
    var = scope[open_at]
    return [(var, domains[var] & masks[open_at])]


def _supported(
    scope: tuple[int, ...], rows: list[tuple[int, ...]], domains: list[int]
) -> list[tuple[int, int]]:
    """A table's narrowing: each variable to the values of the rows every variable allows."""
    here = [domains[var] for var in scope]
    support = [0] * len(scope)
    for row in rows:
        if all(mask >> value & 1 for mask, value in zip(here, row, strict=True)):
            for position, value in enumerate(row):
                support[position] |= 1 << value
    return [
        (var, support[position])
        for position, var in enumerate(scope)
        if support[position] != here[position]
    ]


def _conditioned(
    constraint: Constraint,
    reading: _Reading,
    domains: list[int],
    fixed: list[bool],
    shapes: dict[tuple[object, ...], np.ndarray],
    sizes: list[int],
) -> Constraint | None:
    """``constraint`` over the values left, without its fixed variables; None when it holds
    whatever they are (``constraint`` itself when nothing changes)."""
    scope = constraint.scope
    masks, within, rows = reading
    if masks is not None:
        live = []
        for position, var in enumerate(scope):
            domain = domains[var]
            if not domain & ~masks[position]:
                return None
            if domain & masks[position]:
                live.append(position)
        if not live or (
            len(live) == len(scope) and (within is None or not _narrower(scope, within, domains))
        ):
            return constraint  # (unchanged, or no literal left: the passes count the zero)
        return _clause(
            constraint.source,
            [(scope[p], masks[p]) for p in live],
            domains,
            sizes,
            shapes,
        )
    if constraint.linear is not None or not scope:
        return constraint
    if rows is not None:
        return _small_table(constraint, rows, domains, fixed, shapes)
    return _table(constraint, domains, fixed, sizes)


def _narrower(scope: tuple[int, ...], within: tuple[int, ...], domains: list[int]) -> bool:
    """Whether some variable of a tabulated clause has fewer values left than its rows hold."""
    return any(domains[var] != w for var, w in zip(scope, within, strict=True))


def _clause(
    source: str,
    literals: list[tuple[int, int]],
    domains: list[int],
    sizes: list[int],
    shapes: dict[tuple[object, ...], np.ndarray],
) -> Constraint:
    """The clause of ``literals`` (variable, mask of the values that satisfy it) over the
    values left, as the lowering writes one: a table when small (its rows made once per
    shape), else a clause."""
    scope = tuple(var for var, _ in literals)
    flags = tuple(_flags(mask, sizes[var]) for var, mask in literals)
    width = prod(domains[var].bit_count() for var in scope)
    if len(scope) > 2 and width > _lowering.CLAUSE_TABLE_LIMIT:
        return Constraint(scope, source=source, clause=flags)
    allowed = tuple(_flags(domains[var], sizes[var]) for var in scope)
    key = (allowed, flags)
    rows = shapes.get(key)
    if rows is None:
        rows = shapes[key] = clause_table(allowed, flags)
        rows.flags.writeable = False
    return Constraint(scope, source=source, rows=rows)


def _small_table(
    constraint: Constraint,
    rows: list[tuple[int, ...]],
    domains: list[int],
    fixed: list[bool],
    shapes: dict[tuple[object, ...], np.ndarray],
) -> Constraint | None:
    """:func:`_table` for a table propagation read (plain Python: a few rows)."""
    scope = constraint.scope
    kept = [
        row
        for row in rows
        if all(domains[var] >> value & 1 for var, value in zip(scope, row, strict=True))
    ]
    live = [position for position, var in enumerate(scope) if not fixed[var]]
    if (len(live) == len(scope) and len(kept) == len(rows)) or not kept:
        return constraint  # (unchanged, or allowing nothing: the passes count the zero)
    if not live:
        return None
    projected = tuple(sorted({tuple(row[p] for p in live) for row in kept}))
    if len(projected) == _combinations(scope, live, domains):
        return None
    key = (len(live), projected)
    found = shapes.get(key)
    if found is None:
        found = np.asarray(projected, dtype=np.int64).reshape(len(projected), len(live))
        found.flags.writeable = False
        shapes[key] = found
    return Constraint(tuple(scope[p] for p in live), source=constraint.source, rows=found)


def _table(
    constraint: Constraint, domains: list[int], fixed: list[bool], sizes: list[int]
) -> Constraint | None:
    """A table's rows over the values left, without its fixed variables' columns."""
    scope = constraint.scope
    rows = constraint.rows
    keep = np.ones(len(rows), dtype=bool)
    for position, var in enumerate(scope):
        if domains[var] != (1 << sizes[var]) - 1:
            left = np.asarray(_flags(domains[var], sizes[var]), dtype=bool)
            keep &= left[rows[:, position]]
    live = [position for position, var in enumerate(scope) if not fixed[var]]
    if len(live) == len(scope) and keep.all():
        return constraint
    if not keep.any():  # (a large table propagation did not read: its zero is counted)
        return constraint
    if not live:
        return None
    kept = rows[keep][:, live]
    if len(live) < len(scope):
        kept = np.unique(kept, axis=0)
    if len(kept) == _combinations(scope, live, domains):
        return None
    kept.flags.writeable = False
    return Constraint(tuple(scope[p] for p in live), source=constraint.source, rows=kept)


def _combinations(scope: tuple[int, ...], live: list[int], domains: list[int]) -> int:
    """The combinations of the values left of ``scope``'s variables at positions ``live``."""
    return prod(domains[scope[position]].bit_count() for position in live)
