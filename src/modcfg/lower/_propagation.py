"""Propagation with reasons: the rules a chain of forced inferences uses to rule something out.

Most options a customer cannot take are excluded by a short chain of inferences, each forced by
one rule: a choice leaves a slot one value through a rule, which leaves another slot one value
through another rule, until some rule has no value left (a feature model's requires and excludes
clauses, its alternative groups). Propagating restrictions over the rules, as a SAT solver's
unit propagation does, finds such a chain without a search, and the rules it used are a small
set that, with the restrictions, leaves no configuration: an explanation can then be shrunk to a
minimal one over those rules alone, not over the whole catalog.

A clause narrows its one remaining literal's variable; a table of at most :data:`TABLE_ROWS`
rows narrows each variable of its scope to the values some row still allows (arc consistency);
a rule that removes values of one slot narrows it. Sums and larger tables are not propagated.

Invariants: propagation is sound (a conflict it reports follows from the restrictions and the
rules it names) and incomplete (when it reports none, the restrictions may still leave nothing:
callers then ask a solver). Domains are bit masks (bit ``v`` set: value ``v`` still possible).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from math import prod

from ._problem import Problem

__all__ = ["TABLE_ROWS", "Propagator"]

#: The largest table propagated (each narrowing of its scope reads its rows).
TABLE_ROWS = 4096
#: The most combinations of a table's slots whose forbidden ones :meth:`Propagator.implied`
#: propagates one by one (the tables that forbid fewer than they allow are clauses already).
_FORBIDDEN_TRIED = 64

#: A propagator: per rule, its source, scope, and either a clause (per scope position the mask
#: of the values that satisfy it) or a table (its rows).
_Rule = tuple[str, tuple[int, ...], tuple[int, ...] | None, list[tuple[int, ...]] | None]


def _values(mask: int) -> list[int]:
    """The values of a bit mask."""
    return [value for value in range(mask.bit_length()) if mask >> value & 1]


def _mask(values: Iterable[int]) -> int:
    mask = 0
    for value in values:
        mask |= 1 << value
    return mask


class Propagator:
    """The rules of a problem, ready to propagate restrictions (built once per problem)."""

    def __init__(self, problem: Problem) -> None:
        self.full = [(1 << len(domain.choices)) - 1 for domain in problem.domains]
        #: per variable, the values the rules on one slot removed (tables say nothing of them)
        self.outside = [_mask(v for v, ok in enumerate(row) if not ok) for row in problem.allowed]
        rules: list[_Rule] = []
        #: sources with a constraint not propagated (a sum, a larger table)
        self.unpropagated: set[str] = set()
        #: each source's rules (none for a table that forbids nothing the rules on one slot
        #: left)
        self.of_source: dict[str, list[int]] = {}
        for constraint in problem.constraints:
            self.of_source.setdefault(constraint.source, [])
            if constraint.clause is not None:
                masks = tuple(_mask(v for v, ok in enumerate(m) if ok) for m in constraint.clause)
                rules.append((constraint.source, constraint.scope, masks, None))
            elif constraint.linear is None and constraint.size <= TABLE_ROWS:
                rules += self._table(constraint.source, constraint.scope, constraint.allowed)
            else:
                self.unpropagated.add(constraint.source)
        excluded: dict[tuple[str, int], int] = {}
        for (var, value), source in problem.unary_reasons.items():
            excluded[source, var] = excluded.get((source, var), 0) | 1 << value
        for (source, var), mask in excluded.items():
            rules.append((source, (var,), (self.full[var] & ~mask,), None))
        self.rules = rules
        #: each rule's source (what ``conflict(..., ignoring=)`` compares)
        self.sources = [source for source, _, _, _ in rules]
        for index, source in enumerate(self.sources):
            self.of_source.setdefault(source, []).append(index)
        #: rules over no slot that hold for no configuration (a formula rule ``false``)
        self.false = [
            index
            for index, (_, scope, clause, rows) in enumerate(rules)
            if not scope and (clause is not None or () not in (rows or []))
        ]
        #: the variables of rules on one slot: they narrow from the start of every propagation
        self.single = [scope[0] for _, scope, _, _ in rules if len(scope) == 1]
        self.watching: list[list[int]] = [[] for _ in problem.domains]
        for index, (_, scope, _, _) in enumerate(rules):
            for var in scope:
                self.watching[var].append(index)

    def _table(
        self, source: str, scope: tuple[int, ...], allowed: frozenset[tuple[int, ...]]
    ) -> list[_Rule]:
        """A table as rules: one clause per combination of allowed values it forbids when it
        forbids fewer than it allows (a small clause tabulated forbids one), else the table.

        A table is tabulated over the values the rules on one slot left: it binds only while
        its variables take those values (the rule that removed a value is the one blamed).
        """
        values = [self._kept(var) for var in scope]
        if prod(map(len, values)) - len(allowed) > len(allowed):
            return [(source, scope, None, sorted(allowed))]
        return [
            (
                source,
                scope,
                tuple(self.full[v] & ~(1 << x) for v, x in zip(scope, row, strict=True)),
                None,
            )
            for row in itertools.product(*values)
            if row not in allowed
        ]

    def _kept(self, var: int) -> list[int]:
        """The values of ``var`` the rules on one slot left."""
        return _values(self.full[var] & ~self.outside[var])

    def implied(self, source: str) -> bool:
        """Whether propagation shows that the other rules imply rule ``source`` (over two
        slots or more): each combination of values the rules on one slot left that it
        forbids, given to the other rules, leaves some slot no value. True is exact
        (propagation is sound); False may be a rule implied all the same: a count tells."""
        if source in self.unpropagated or source not in self.of_source:
            return False
        for index in self.of_source[source]:
            _, scope, clause, rows = self.rules[index]
            if len(scope) < 2:
                return False
            if clause is not None:  # breaking it: every position outside its mask
                breaking = [
                    (var, frozenset(_values(self.full[var] & ~mask & ~self.outside[var])))
                    for var, mask in zip(scope, clause, strict=True)
                ]
                if not all(values for _, values in breaking):
                    continue  # (no combination left breaks it)
                forbidden = [breaking]
            else:  # a table that forbids more than it allows: each combination it forbids
                assert rows is not None  # (a rule is a clause or a table)
                values = [self._kept(var) for var in scope]
                if prod(map(len, values)) > _FORBIDDEN_TRIED:
                    return False
                allowed = set(rows)
                forbidden = [
                    [(var, frozenset({value})) for var, value in zip(scope, row, strict=True)]
                    for row in itertools.product(*values)
                    if row not in allowed
                ]
            if any(
                self.conflict(restrictions, ignoring=source) is None for restrictions in forbidden
            ):
                return False
        return True

    def conflict(
        self, restrictions: Sequence[tuple[int, frozenset[int]]], *, ignoring: str | None = None
    ) -> set[str] | None:
        """The sources of the rules propagation used to find ``restrictions`` (variable,
        values kept) leave no configuration; None when it finds no conflict. The rules of the
        source ``ignoring`` take no part (does the rest imply that one?)."""
        false = [index for index in self.false if self.sources[index] != ignoring]
        if false:
            return {self.sources[false[0]]}
        domains = list(self.full)
        because: dict[int, list[int]] = {}  # per variable narrowed: the rules that narrowed it
        queue: list[int] = []
        for var, values in restrictions:
            narrowed = domains[var] & _mask(values)
            if narrowed != domains[var]:
                domains[var] = narrowed
                queue.append(var)
            if not narrowed:
                return set()  # (the restrictions clash among themselves)
        queue += self.single
        queued = set(queue)
        while queue:
            var = queue.pop()
            queued.discard(var)
            for index in self.watching[var]:
                if ignoring is not None and self.sources[index] == ignoring:
                    continue
                changed = self._narrow(index, domains)
                if changed is None:
                    return self._sources(index, because)
                for other in changed:
                    because.setdefault(other, []).append(index)
                    if other not in queued:
                        queued.add(other)
                        queue.append(other)
        return None

    def _narrow(self, index: int, domains: list[int]) -> list[int] | None:
        """Narrow the domains of rule ``index``'s scope; the variables it changed, or None
        when it leaves one of them no value."""
        _, scope, clause, rows = self.rules[index]
        changed: list[int] = []
        if clause is not None:
            open_at = [i for i, var in enumerate(scope) if domains[var] & clause[i]]
            if not open_at:
                return None
            if len(open_at) == 1:
                var = scope[open_at[0]]
                narrowed = domains[var] & clause[open_at[0]]
                if narrowed != domains[var]:
                    domains[var] = narrowed
                    changed.append(var)
            return changed
        assert rows is not None  # (a rule is a clause or a table)
        outside = self.outside
        supported = [outside[var] for var in scope]  # (a value removed: no row binds it)
        for row in rows:
            if all(domains[var] >> value & 1 for var, value in zip(scope, row, strict=True)):
                for position, value in enumerate(row):
                    supported[position] |= 1 << value
        loose = [position for position, var in enumerate(scope) if domains[var] & outside[var]]
        for position in range(len(scope)):
            if any(other != position for other in loose):  # another takes a removed value
                supported[position] = self.full[scope[position]]
        for position, var in enumerate(scope):
            narrowed = domains[var] & supported[position]
            if not narrowed:
                return None
            if narrowed != domains[var]:
                domains[var] = narrowed
                changed.append(var)
        return changed

    def _sources(self, failed: int, because: dict[int, list[int]]) -> set[str]:
        """The sources of rule ``failed`` and of every rule that narrowed, directly or through
        others, a variable of its scope (a superset of the rules the chain needs)."""
        used: set[int] = set()
        stack = [failed]
        while stack:
            index = stack.pop()
            if index in used:
                continue
            used.add(index)
            for var in self.rules[index][1]:
                stack.extend(because.get(var, ()))
        return {self.rules[index][0] for index in used}
