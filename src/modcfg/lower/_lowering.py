"""What lowering functions build a :class:`Problem` with: :class:`Lowering`.

A lowering function (one per rule kind, price-rule kind and need, see ``_rules`` and
``_needs``) receives a :class:`Lowering` and one rule, and says what the rule means through it:
``require`` an expression, ``allow`` a relation given by its rows, ``exclude`` one value, or
add a ``cost`` or ``score`` factor. How an expression becomes rows, a global sum or cleared
values is decided here, once, for every kind:

- an expression over no slot holds or not (when not, an empty constraint makes the problem
  infeasible);
- a linear comparison too wide to tabulate (more than ``TABULATION_LIMIT`` combinations or
  ``LINEAR_TABLE_SLOTS`` slots) becomes a global :class:`Resource`;
- a disjunction of literals over more than two slots and ``CLAUSE_TABLE_LIMIT`` combinations
  (a clause of a feature model, a ``requires`` rule with many alternatives) becomes a clause
  constraint: one mask of values per slot (see ``_clauses``), whatever its width;
- anything else is tabulated over the allowed values of the slots it reads (a linear comparison
  from its weights, over two slots pairwise and over more on a grid of sums).

Invariants: a relation over one variable is never kept as a constraint (it clears allowed
values and records the first reason in ``unary_reasons``); every table is checked against the
problem's memory limit before it is built.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from .._errors import LimitExceeded
from .._memory import ENTRY_BYTES, check_memory, refuse, show_count
from ..model import ConfigurationView, Expr, evaluate, truthy
from ..model._expr import Compare
from ._clauses import clause_of
from ._problem import Constraint, Factor, Problem, clause_table
from ._tabulate import _linear, _linear_rows, _pair_rows, _resource, _Scope

__all__ = ["CLAUSE_TABLE_LIMIT", "LINEAR_TABLE_SLOTS", "TABULATION_LIMIT", "Lowering"]

#: Largest product of domain sizes a rule may span before it must be linear (a resource) or a
#: clause.
TABULATION_LIMIT = 2_000_000
#: Disjunctions over more combinations than this are clauses, not tables: a table ties its
#: whole scope into one bag of the decomposition, a clause only neighbouring literals.
CLAUSE_TABLE_LIMIT = 1 << 10
#: Linear rules over more slots than this are resources (global sums), never tables: a table
#: over many slots is large to build and ties every slot of it into one bag.
LINEAR_TABLE_SLOTS = 8
#: Per variable of a scope, a flag per value.
_Masks = tuple[tuple[bool, ...], ...]


class Lowering:
    """A problem being built (``problem``, changed in place) and the operations that add to it.

    ``source`` names what an addition comes from (a rule id, ``"need: ..."``): engines and
    explanations report it. ``what`` names it in errors (``"rule 'pvc-no-triple'"``).
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.catalog = problem.catalog
        self._holds: dict[tuple[int, str], tuple[bool, ...]] = {}
        self._literals: dict[tuple[int, str, bool], tuple[bool, ...]] = {}
        self._clause_tables: dict[
            tuple[_Masks, _Masks], tuple[np.ndarray, frozenset[tuple[int, ...]]]
        ] = {}

    @cached_property
    def scope(self) -> _Scope:
        """Finds the variables an expression reads and tabulates it over them."""
        return _Scope(self.catalog, self.problem.domains)

    def var(self, slot: str) -> int:
        """The variable of ``slot``."""
        return self.scope.index[slot]

    def require(self, expr: Expr, source: str, what: str) -> None:
        """Add that ``expr`` must hold (see the module docstring for the form it takes)."""
        helper, problem = self.scope, self.problem
        scope = helper.of(expr)
        if not scope:
            if not truthy(evaluate(expr, ConfigurationView(self.catalog, {}))):
                problem.constraints.append(Constraint((), frozenset(), source))
            return
        width = helper.width(scope, problem.allowed)
        wide = len(scope) > 2 or width > TABULATION_LIMIT  # (a pair's table ties no more)
        if wide and width > CLAUSE_TABLE_LIMIT and self._clause(expr, source):
            return
        linear = isinstance(expr, Compare) and _linear(expr)
        if linear and (width > TABULATION_LIMIT or len(scope) > LINEAR_TABLE_SLOTS):
            assert isinstance(expr, Compare)  # (linear)
            problem.resources.append(_resource(helper, expr, source))
            return
        if width > TABULATION_LIMIT:
            raise LimitExceeded(
                f"{what} spans {len(scope)} slots with {show_count(width)} combinations, "
                f"more than the {TABULATION_LIMIT:,} a rule is tabulated over; write it as a "
                "linear comparison (a resource) or split it into smaller rules",
                estimate=width,
                limit=TABULATION_LIMIT,
            )
        self._check_table(width, scope, what)
        found = None
        if len(scope) >= 2 and linear:
            assert isinstance(expr, Compare)  # (linear)
            if len(scope) > 2:
                resource = _resource(helper, expr, source)
                rows = _linear_rows(resource, scope, problem.allowed)
                problem.constraints.append(Constraint(scope, None, source, resource, rows=rows))
                return
            found = _pair_rows(helper, expr, scope, problem.allowed)
        if found is None:
            found = helper.rows(expr, scope, problem.allowed)
        self.allow(scope, found, source)

    def require_clause(
        self, literals: Sequence[tuple[str, str, bool]], source: str, what: str
    ) -> None:
        """Add that one of ``literals`` holds, each ``(slot, module, chosen)``: the module is
        chosen (in any quantity) or not. What :meth:`require` adds for the disjunction, read
        off the slots' values rather than tabulated from its expression (a feature model has
        tens of thousands of clauses)."""
        masks: dict[int, tuple[bool, ...]] = {}
        index = self.scope.index
        for slot, module, chosen in literals:
            var = index[slot]
            mask = self._literal(var, module, chosen=chosen)
            before = masks.get(var)
            masks[var] = mask if before is None else tuple(map(operator.or_, before, mask))
        if any(all(mask) for mask in masks.values()):
            return  # (it always holds)
        scope = tuple(sorted(masks))
        ordered = tuple([masks[var] for var in scope])
        allowed = self.problem.allowed
        width = self.scope.width(scope, allowed)
        if (len(scope) > 2 or width > TABULATION_LIMIT) and width > CLAUSE_TABLE_LIMIT:
            self.clause(scope, ordered, source)
            return
        self._check_table(width, scope, what)
        # clauses of a feature model come in few shapes: each shape's rows, as an array and as
        # a set, are made once (and only read: a constraint never changes its rows), so that
        # thousands of clauses do not each keep a set of their own for the collector to scan
        key = (tuple(tuple(allowed[var]) for var in scope), ordered)
        shape = self._clause_tables.get(key)
        if shape is None:
            rows = clause_table(*key)
            shape = self._clause_tables[key] = (rows, frozenset(map(tuple, rows.tolist())))
        self.allow(scope, shape[0], source, allowed=shape[1])

    def _check_table(self, width: int, scope: tuple[int, ...], what: str) -> None:
        """:class:`LimitExceeded` when a table of ``width`` rows over ``scope`` would pass the
        problem's memory limit."""
        estimate = width * len(scope) * ENTRY_BYTES
        if estimate > self.problem.memory_limit:  # (the words made only then)
            refuse(
                estimate,
                self.problem.memory_limit,
                f"{what} (a table of {show_count(width)} rows over {len(scope)} slots)",
                "split it into smaller rules",
            )

    def _literal(self, var: int, module: str, *, chosen: bool) -> tuple[bool, ...]:
        """Per value of ``var``: whether it satisfies the literal (``module`` chosen or not)."""
        key = (var, module, chosen)
        found = self._literals.get(key)
        if found is None:
            found = tuple(holds == chosen for holds in self._holding(var, module))
            self._literals[key] = found
        return found

    def _holding(self, var: int, module: str) -> tuple[bool, ...]:
        """Per value of ``var``: whether it holds ``module``."""
        key = (var, module)
        found = self._holds.get(key)
        if found is None:
            units = self.problem.domains[var].units
            found = self._holds[key] = tuple(any(m == module for m, _ in u) for u in units)
        return found

    def _clause(self, expr: Expr, source: str) -> bool:
        """Add ``expr`` as a clause when it is one (see ``_clauses``); False when it is not."""
        found = clause_of(self.scope, expr)
        if found is None:
            return False
        if isinstance(found, tuple):
            self.clause(*found, source)
        return True

    def clause(
        self, scope: tuple[int, ...], masks: tuple[tuple[bool, ...], ...], source: str
    ) -> None:
        """Add that some variable of ``scope`` (sorted) takes a value of its mask (per variable,
        one flag per value of its whole domain); over one variable, the others are excluded."""
        problem = self.problem
        if len(scope) == 1:
            for value, ok in enumerate(masks[0]):
                if problem.allowed[scope[0]][value] and not ok:
                    self.exclude(scope[0], value, source)
            return
        if not scope:
            problem.constraints.append(Constraint((), frozenset(), source))
            return
        problem.constraints.append(Constraint(scope, source=source, clause=masks))

    def allow(
        self,
        scope: tuple[int, ...],
        rows: np.ndarray,
        source: str,
        *,
        allowed: frozenset[tuple[int, ...]] | None = None,
    ) -> None:
        """Add that the variables of ``scope`` (sorted) take one of ``rows`` (an int64 array, one
        column per variable; ``allowed``: the same rows as a set, when known); over one
        variable, the values no row holds are excluded."""
        if len(scope) != 1:
            constraint = Constraint(scope, allowed, source=source, rows=rows)
            self.problem.constraints.append(constraint)
            return
        var = scope[0]
        holds = set(rows[:, 0].tolist())
        for value, ok in enumerate(self.problem.allowed[var]):
            if ok and value not in holds:
                self.exclude(var, value, source)

    def exclude(self, var: int, value: int, reason: str) -> None:
        """Exclude one value of one variable (the first reason given for it is kept)."""
        self.problem.allowed[var][value] = False
        self.problem.unary_reasons.setdefault((var, value), reason)

    def cost(self, condition: Expr, amount: int, source: str, what: str, fix: str) -> None:
        """Add ``amount`` (minor units) to the unit price where ``condition`` holds."""
        found = self._factor(condition, amount, source, what, fix)
        if found is not None:
            self.problem.cost_factors.append(found)

    def score(self, condition: Expr, weight: int, source: str, what: str, fix: str) -> None:
        """Add ``weight`` to the preference score where ``condition`` holds."""
        found = self._factor(condition, weight, source, what, fix)
        if found is not None:
            self.problem.score_factors.append(found)

    def _factor(
        self, condition: Expr, amount: int, source: str, what: str, fix: str
    ) -> Factor | None:
        helper = self.scope
        scope = helper.of(condition)
        width = helper.full_width(scope)
        if width > TABULATION_LIMIT:
            raise LimitExceeded(
                f"{what} depends on {len(scope)} slots with {show_count(width)} combinations, "
                f"more than the {TABULATION_LIMIT:,} it is tabulated over; {fix}",
                estimate=width,
                limit=TABULATION_LIMIT,
            )
        check_memory(
            _factor_bytes(width, len(scope)),
            self.problem.memory_limit,
            f"{what} (a table of {show_count(width)} rows over {len(scope)} slots)",
            fix,
        )
        table = helper.table(condition, scope, amount)
        return Factor(scope, table, source) if table else None


def _factor_bytes(rows: int, columns: int) -> int:
    """The bytes of a factor's table: per row a key tuple and a dictionary entry."""
    return rows * (columns + 12) * ENTRY_BYTES
