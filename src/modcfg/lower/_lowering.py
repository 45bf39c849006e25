"""Lower a catalog's rules and prices, and a customer's needs, into a :class:`Problem`.

Each rule kind becomes constraints: a table rule its rows (a deny table the complement of
them), a requires/excludes rule the expression it stands for, and a constraint rule is
tabulated over the variables it reads, unless it is linear and wide (more than
``TABULATION_LIMIT`` combinations or ``LINEAR_TABLE_SLOTS`` slots), when it becomes a global
:class:`Resource`. Conditional prices become cost factors; needs restrict allowed values,
add constraints and score factors.

Invariants: a relation over one variable is never kept as a constraint (it clears allowed
values and records the first reason in ``unary_reasons``); every table is checked against the
problem's memory limit before it is built; the base problem is never changed in place by
``needs_problem`` (it works on a copy).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np

from .._errors import LimitExceeded, NeedsError
from .._memory import ENTRY_BYTES, check_memory, resolve_memory_limit, show_count
from .._reasons import Reason
from ..model import (
    Catalog,
    ConfigurationView,
    ConstraintRule,
    ExcludesRule,
    Expr,
    RequiresRule,
    ResolvedNeeds,
    TableRule,
    evaluate,
    parse,
    truthy,
)
from ..model._expr import BoolOp, Compare, Not, Ref
from ._problem import Constraint, Factor, Problem, SlotDomain, _scaled
from ._tabulate import _GRID_LIMIT, _linear, _linear_rows, _pair_rows, _resource, _Scope

__all__ = ["LINEAR_TABLE_SLOTS", "TABULATION_LIMIT", "compile_rules", "needs_problem"]

#: Largest product of domain sizes a rule may span before it must be linear (a resource).
TABULATION_LIMIT = 2_000_000
#: Linear rules over more slots than this are resources (global sums), never tables: a table
#: over many slots is large to build and ties every slot of it into one bag.
LINEAR_TABLE_SLOTS = 8


def _constraint_from_expr(
    helper: _Scope,
    problem: Problem,
    expr: Expr,
    source: str,
    describe: str,
) -> None:
    scope = helper.of(expr)
    if not scope:
        if not truthy(evaluate(expr, ConfigurationView(helper.catalog, {}))):
            problem.constraints.append(Constraint((), frozenset(), source))
        return
    width = helper.width(scope, problem.allowed)
    linear = isinstance(expr, Compare) and _linear(expr)
    if linear and (width > TABULATION_LIMIT or len(scope) > LINEAR_TABLE_SLOTS):
        assert isinstance(expr, Compare)  # (linear)
        problem.resources.append(_resource(helper, expr, source))
        return
    if width > TABULATION_LIMIT:
        raise LimitExceeded(
            f"{describe} spans {len(scope)} slots with {show_count(width)} combinations, "
            f"more than the {TABULATION_LIMIT:,} a rule is tabulated over; write it as a "
            "linear comparison (a resource) or split it into smaller rules",
            estimate=width,
            limit=TABULATION_LIMIT,
        )
    check_memory(
        width * len(scope) * ENTRY_BYTES,
        problem.memory_limit,
        f"{describe} (a table of {show_count(width)} rows over {len(scope)} slots)",
        "split it into smaller rules",
    )
    found = None
    if len(scope) >= 2 and isinstance(expr, Compare) and _linear(expr):
        if len(scope) > 2:
            resource = _resource(helper, expr, source)
            rows = _linear_rows(resource, scope, problem.allowed)
            problem.constraints.append(Constraint(scope, None, source, resource, rows=rows))
            return
        found = _pair_rows(helper, expr, scope, problem.allowed)
    if found is None:
        found = helper.rows(expr, scope, problem.allowed)
    if len(scope) == 1:
        var = scope[0]
        holds = set(found[:, 0].tolist())
        for value, ok in enumerate(problem.allowed[var]):
            if ok and value not in holds:
                problem.allowed[var][value] = False
                problem.unary_reasons.setdefault((var, value), source)
        return
    problem.constraints.append(Constraint(scope, source=source, rows=found))


def _ref_expr(ref: str) -> Expr:
    slot, module = ref.split(".")
    return Ref(slot, module)


def _table_constraint(helper: _Scope, rule: TableRule, limit: int) -> Constraint:
    scope_slots = rule.table.slots
    order = sorted(range(len(scope_slots)), key=lambda i: helper.index[scope_slots[i]])
    scope = tuple(helper.index[scope_slots[i]] for i in order)
    domains = [helper.domains[var] for var in scope]
    sizes = [len(domain.choices) for domain in domains]
    positions = [{choice: value for value, choice in enumerate(d.choices)} for d in domains]
    columns = list(zip(*rule.rows, strict=True)) if rule.rows else [()] * len(order)
    wild: list[tuple[int | slice, ...]] = []
    exact: np.ndarray
    if any("*" in column for column in columns):
        found: list[list[int]] = []  # rows without wildcards
        for row in rule.rows:
            cells = [row[i] for i in order]
            if "*" in cells:
                pairs = zip(cells, positions, strict=True)
                wild.append(tuple(slice(None) if c == "*" else index[c] for c, index in pairs))
            else:
                found.append([index[c] for c, index in zip(cells, positions, strict=True)])
        exact = np.asarray(found, dtype=np.int64).reshape(len(found), len(scope))
    else:  # the common case: one column at a time
        exact = np.asarray(
            [
                list(map(index.__getitem__, columns[i]))
                for i, index in zip(order, positions, strict=True)
            ],
            dtype=np.int64,
        ).T.reshape(len(rule.rows), len(scope))
    width = len(scope)
    if rule.allow:  # the rows written, and every row a wildcard stands for
        expanded = sum(_stands_for(where, sizes) for where in wild)
        check_memory(
            (len(exact) + expanded) * width * ENTRY_BYTES,
            limit,
            f"rule '{rule.id}' (a table over {width} slots whose wildcards stand for "
            f"{show_count(len(exact) + expanded)} rows)",
            "replace its wildcards by fewer, narrower rows",
        )
        parts = [exact, *(_expanded(where, sizes) for where in wild)]
        return Constraint(scope, source=rule.id, rows=_distinct_rows(np.concatenate(parts), sizes))
    # a deny table allows every other combination: its complement is tabulated, one Boolean
    # per combination and then the allowed rows (never over a wide scope: a clause over a
    # hundred slots is a one-row deny table)
    combinations = prod(sizes)
    if combinations > _GRID_LIMIT:
        raise LimitExceeded(
            f"rule '{rule.id}' (a deny table over {width} slots) allows the rest of their "
            f"{show_count(combinations)} combinations, more than the {_GRID_LIMIT:,} a deny "
            "table is tabulated over; write it as the rows it allows, or split it into tables "
            "over fewer slots",
            estimate=combinations,
            limit=_GRID_LIMIT,
        )
    check_memory(
        combinations * (1 + width * ENTRY_BYTES),
        limit,
        f"rule '{rule.id}' (a deny table over {width} slots, allowing the rest of their "
        f"{show_count(combinations)} combinations)",
        "write it as the rows it allows, or split it into tables over fewer slots",
    )
    grid = np.ones(sizes, dtype=bool)
    for where in wild:
        grid[where] = False
    if len(exact):
        grid[tuple(exact.T)] = False
    return Constraint(scope, source=rule.id, rows=np.argwhere(grid).astype(np.int64))


def _stands_for(where: tuple[int | slice, ...], sizes: Sequence[int]) -> int:
    """How many rows a table row with wildcards stands for."""
    return prod(size for cell, size in zip(where, sizes, strict=True) if isinstance(cell, slice))


def _expanded(where: tuple[int | slice, ...], sizes: Sequence[int]) -> np.ndarray:
    """The rows a table row with wildcards (``slice(None)`` cells) stands for."""
    free = [i for i, cell in enumerate(where) if isinstance(cell, slice)]
    grid = np.indices([sizes[i] for i in free], dtype=np.int64).reshape(len(free), -1).T
    rows = np.empty((len(grid), len(where)), dtype=np.int64)
    for i, cell in enumerate(where):
        if not isinstance(cell, slice):
            rows[:, i] = cell
    rows[:, free] = grid
    return rows


def _distinct_rows(rows: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """The distinct rows of ``rows`` (columns of the given domain sizes), sorted."""
    if prod(sizes) >= 1 << 62:
        distinct: np.ndarray = np.unique(rows, axis=0)
        return distinct
    codes = np.zeros(len(rows), dtype=np.int64)
    for column, size in enumerate(sizes):
        codes *= size
        codes += rows[:, column]
    _, first = np.unique(codes, return_index=True)
    return rows[first]


def compile_rules(
    catalog: Catalog, domains: tuple[SlotDomain, ...], *, memory_limit: int | None = None
) -> Problem:
    """The catalog's rules and price rules as a :class:`Problem` (no needs yet), every table
    checked against the memory limit (bytes; None: the default) before it is built."""
    limit = resolve_memory_limit(memory_limit)
    allowed = [[True] * len(d.choices) for d in domains]
    problem = Problem(catalog, domains, allowed, memory_limit=limit)
    if not catalog.rules and not catalog.prices:
        return problem
    helper = _Scope(catalog, domains)
    for rule in catalog.rules:
        if isinstance(rule, TableRule):
            constraint = _table_constraint(helper, rule, problem.memory_limit)
            if len(constraint.scope) == 1:
                var = constraint.scope[0]
                for value in range(len(domains[var].choices)):
                    if (value,) not in constraint.allowed:
                        problem.allowed[var][value] = False
                        problem.unary_reasons.setdefault((var, value), rule.id)
            else:
                problem.constraints.append(constraint)
            continue
        if isinstance(rule, RequiresRule):
            premises = [_ref_expr(ref) for ref in rule.requires.if_]
            consequences = [_ref_expr(ref) for ref in rule.requires.then]
            expr: Expr = BoolOp(
                "implies",
                (
                    premises[0] if len(premises) == 1 else BoolOp("and", tuple(premises)),
                    consequences[0]
                    if len(consequences) == 1
                    else BoolOp("or", tuple(consequences)),
                ),
            )
        elif isinstance(rule, ExcludesRule):
            expr = Not(BoolOp("and", tuple(_ref_expr(ref) for ref in rule.excludes)))
        elif isinstance(rule, ConstraintRule):
            expr = rule.expression
        else:  # pragma: no cover - the Rule union has four members
            raise TypeError(f"unknown rule kind {rule!r}")
        _constraint_from_expr(helper, problem, expr, rule.id, f"rule '{rule.id}'")
    for price_rule in catalog.prices:
        if price_rule.kind != "conditional" or price_rule.amount is None:
            continue
        condition = parse(price_rule.condition)
        amount = _scaled(price_rule.amount, catalog.decimals)
        factor = _factor(helper, problem, condition, amount, price_rule.id)
        if factor is not None:
            problem.cost_factors.append(factor)
    return problem


def _factor(
    helper: _Scope, problem: Problem, condition: Expr, amount: int, source: str
) -> Factor | None:
    scope = helper.of(condition)
    width = helper.full_width(scope)
    if width > TABULATION_LIMIT:
        raise LimitExceeded(
            f"'{source}' depends on {len(scope)} slots; give its condition fewer slots"
        )
    check_memory(
        _factor_bytes(width, len(scope)),
        problem.memory_limit,
        f"price rule '{source}' (a table of {show_count(width)} rows over {len(scope)} slots)",
        "give its condition fewer slots",
    )
    table = helper.table(condition, scope, amount)
    return Factor(scope, table, source) if table else None


def _exclude(problem: Problem, var: int, value: int, reason: Reason) -> None:
    """Record that a need excluded ``var``'s ``value``, under the source id of that need."""
    source = f"need: {reason.text}"
    problem.unary_reasons[(var, value)] = source
    problem.need_reasons[source] = reason


def _factor_bytes(rows: int, columns: int) -> int:
    """The bytes of a factor's table: per row a key tuple and a dictionary entry."""
    return rows * (columns + 12) * ENTRY_BYTES


def needs_problem(base: Problem, resolved: ResolvedNeeds) -> Problem:
    """``base`` restricted by a customer's hard needs, with their preferences as score factors.

    The budget is not applied here: it bounds the quote total, which engines handle through the
    unit price (see ``docs/semantics.md``).
    """
    problem = base.copy()
    catalog = problem.catalog
    helper = _Scope(catalog, problem.domains)
    for var, domain in enumerate(problem.domains):
        for value, units in enumerate(domain.units):
            for module, _ in units:
                excluded = resolved.excluded.get(f"{domain.slot}.{module}")
                if excluded is not None and problem.allowed[var][value]:
                    problem.allowed[var][value] = False
                    _exclude(problem, var, value, excluded)
    for ref in resolved.require:
        slot, module = ref.split(".")
        var = helper.index[slot]
        reason = Reason("need", f"require {ref}", need="require", slot=slot, module=module)
        for value, units in enumerate(problem.domains[var].units):
            if problem.allowed[var][value] and all(m != module for m, _ in units):
                problem.allowed[var][value] = False
                _exclude(problem, var, value, reason)
    for text in resolved.conditions:
        source = f"need: {text}"
        problem.need_reasons[source] = Reason("need", text, need="conditions")
        try:
            _constraint_from_expr(helper, problem, parse(text), source, f"condition '{text}'")
        except LimitExceeded as exc:
            raise NeedsError(str(exc)) from None
    for text, weight in resolved.prefer.items():
        if weight == 0:
            continue
        expr = parse(text)
        scope = helper.of(expr)
        width = helper.full_width(scope)
        if width > TABULATION_LIMIT:
            raise NeedsError(f"preference '{text}' spans too many slots; name fewer slots")
        check_memory(
            _factor_bytes(width, len(scope)),
            problem.memory_limit,
            f"preference '{text}' (a table of {show_count(width)} rows over {len(scope)} slots)",
            "name fewer slots",
        )
        table = helper.table(expr, scope, weight)
        if table:
            problem.score_factors.append(Factor(scope, table, f"prefer: {text}"))
    return problem
