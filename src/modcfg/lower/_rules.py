"""One lowering function per rule kind and per price-rule kind, found by kind in a registry.

``RULE_LOWERINGS[rule.kind]`` says what a catalog rule means for the engines, through the
operations of :class:`~._lowering.Lowering`; ``PRICE_RULE_LOWERINGS[price_rule.kind]`` does the
same for price rules. :func:`compile_rules` runs them over a catalog, in catalog order;
:func:`lower_each_rule` lowers each rule as if it were the catalog's only one. A new
kind registers its function here with ``@lowers_rule("kind")`` and touches nothing else of
this package.

- ``requires``, ``excludes`` and ``constraint`` rules say what their expression says (for
  requires and excludes, a clause over module references);
- an ``at_most_one_of`` rule is one relation per pair of the slots it names (no modules of
  both chosen) and one per slot naming several of its modules, never a table over them all;
- a ``table`` rule is its rows: ``allow`` rows with their wildcards expanded, ``deny`` rows by
  their complement (tabulated on a grid when it spans few combinations, else one clause per
  denied row when there are at most ``DENY_CLAUSES``: a clause over a hundred slots is a
  one-row deny table);
- a ``conditional`` price rule is a cost factor over the slots its condition reads; a
  ``ladder`` rule one cost factor over the slots with a degree weight (``_degree``); ``tiers``
  and ``frequency`` rules act on the order's subtotal when a quote is made, so they add
  nothing to the problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from math import prod
from typing import Any, TypeVar

import numpy as np

from .._errors import LimitExceeded
from .._memory import ENTRY_BYTES, check_memory, resolve_memory_limit, show_count
from ..model import (
    AtMostOneOfRule,
    Catalog,
    ConstraintRule,
    ExcludesRule,
    PriceRule,
    RequiresRule,
    Rule,
    TableRule,
    parse,
)
from ..model._expr import BoolOp, Expr, Not, Ref
from . import _lowering
from ._degree import lower_ladder
from ._lowering import Lowering
from ._problem import Constraint, Problem, Resource, SlotDomain, _scaled
from ._tabulate import _GRID_LIMIT

__all__ = [
    "PRICE_RULE_LOWERINGS",
    "RULE_LOWERINGS",
    "LoweredRule",
    "compile_rules",
    "lower_each_rule",
    "lowers_price_rule",
    "lowers_rule",
]

#: Deny tables over many combinations with at most this many rows are clauses, one per row;
#: with more rows they are the genuinely large tables they look like.
DENY_CLAUSES = 256

#: A rule's lowering: what the rule means, added to the problem being built.
RuleLowering = Callable[[Lowering, Any], None]
_Lowered = TypeVar("_Lowered", bound=RuleLowering)

#: Rule kind -> its lowering.
RULE_LOWERINGS: dict[str, RuleLowering] = {}
#: Price-rule kind -> its lowering.
PRICE_RULE_LOWERINGS: dict[str, RuleLowering] = {}


def _registrar(registry: dict[str, RuleLowering], *kinds: str) -> Callable[[_Lowered], _Lowered]:
    def register(function: _Lowered) -> _Lowered:
        for kind in kinds:
            registry[kind] = function
        return function

    return register


def lowers_rule(*kinds: str) -> Callable[[_Lowered], _Lowered]:
    """Register the decorated function as the lowering of rules of these kinds."""
    return _registrar(RULE_LOWERINGS, *kinds)


def lowers_price_rule(*kinds: str) -> Callable[[_Lowered], _Lowered]:
    """Register the decorated function as the lowering of price rules of these kinds."""
    return _registrar(PRICE_RULE_LOWERINGS, *kinds)


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
    lowering = Lowering(problem)
    for rule in catalog.rules:
        RULE_LOWERINGS[rule.kind](lowering, rule)
    for price_rule in catalog.prices:
        PRICE_RULE_LOWERINGS[price_rule.kind](lowering, price_rule)
    return problem


@dataclass(frozen=True)
class LoweredRule:
    """What one rule says on its own over the slots' whole domains: per variable whose values
    it narrows, the values it keeps; its relations; its global sums."""

    kept: dict[int, frozenset[int]]
    constraints: list[Constraint]
    resources: list[Resource]


def lower_each_rule(
    catalog: Catalog,
    domains: tuple[SlotDomain, ...],
    *,
    rules: Sequence[Rule] | None = None,
    memory_limit: int | None = None,
) -> Iterator[tuple[Rule, LoweredRule | LimitExceeded]]:
    """Each rule of ``catalog`` (or each of ``rules``, rules of it), in order, lowered as
    :func:`compile_rules` lowers a catalog of that rule alone (or the limit it passes).

    The rules share one problem, whose domains are made whole again after each rule, and one
    lowering (the slots' index and literal tables): a problem of its own per rule cost every
    rule a pass over every slot, 8 s for the 6,867 clauses of a feature model of 1,404
    features, where explaining needs that clash with its rules reads them all."""
    limit = resolve_memory_limit(memory_limit)
    problem = Problem(
        catalog, domains, [[True] * len(d.choices) for d in domains], memory_limit=limit
    )
    lowering = Lowering(problem)
    for rule in catalog.rules if rules is None else rules:
        found: LoweredRule | LimitExceeded
        try:
            RULE_LOWERINGS[rule.kind](lowering, rule)
        except LimitExceeded as refused:
            found = refused
        else:
            narrowed = {var for var, _ in problem.unary_reasons}
            kept = {
                var: frozenset(v for v, ok in enumerate(problem.allowed[var]) if ok)
                for var in narrowed
            }
            found = LoweredRule(kept, problem.constraints, problem.resources)
        for var, value in problem.unary_reasons:  # (whole again for the next rule)
            problem.allowed[var][value] = True
        problem.unary_reasons.clear()
        problem.constraints, problem.resources = [], []
        yield rule, found


# -- rules ------------------------------------------------------------------------------------


@lowers_rule("requires", "excludes", "constraint")
def _lower_expression(
    lowering: Lowering, rule: RequiresRule | ExcludesRule | ConstraintRule
) -> None:
    literals = rule.literals if type(rule) is ConstraintRule else None
    if literals is not None:  # a clause (a feature model's), read off its literals
        lowering.require_clause(literals, rule.id, f"rule '{rule.id}'")
        return
    lowering.require(rule.expression, rule.id, f"rule '{rule.id}'")


@lowers_rule("at_most_one_of")
def _lower_at_most_one_of(lowering: Lowering, rule: AtMostOneOfRule) -> None:
    what = f"rule '{rule.id}'"
    by_slot: dict[str, list[Expr]] = {}
    for ref in rule.at_most_one_of:
        slot, module = ref.split(".")
        by_slot.setdefault(slot, []).append(Ref(slot, module))
    for refs in by_slot.values():
        if len(refs) > 1:  # (a multi-select slot may take several of them)
            pairs = [Not(BoolOp("and", pair)) for pair in combinations(refs, 2)]
            lowering.require(BoolOp("and", tuple(pairs)), rule.id, what)
    for first, second in combinations(by_slot.values(), 2):
        either = [BoolOp("or", tuple(first)), BoolOp("or", tuple(second))]
        lowering.require(Not(BoolOp("and", tuple(either))), rule.id, what)


@lowers_rule("table")
def _lower_table(lowering: Lowering, rule: TableRule) -> None:
    index, domains = lowering.scope.index, lowering.problem.domains
    scope_slots = rule.table.slots
    order = sorted(range(len(scope_slots)), key=lambda i: index[scope_slots[i]])
    scope = tuple(index[scope_slots[i]] for i in order)
    sizes = [len(domains[var].choices) for var in scope]
    positions = [
        {choice: value for value, choice in enumerate(domains[var].choices)} for var in scope
    ]
    columns = list(zip(*rule.rows, strict=True)) if rule.rows else [()] * len(order)
    wild: list[tuple[int | slice, ...]] = []
    exact: np.ndarray
    if any("*" in column for column in columns):
        found: list[list[int]] = []  # rows without wildcards
        for row in rule.rows:
            cells = [row[i] for i in order]
            if "*" in cells:
                pairs = zip(cells, positions, strict=True)
                wild.append(tuple(slice(None) if c == "*" else at[c] for c, at in pairs))
            else:
                found.append([at[c] for c, at in zip(cells, positions, strict=True)])
        exact = np.asarray(found, dtype=np.int64).reshape(len(found), len(scope))
    else:  # the common case: one column at a time
        exact = np.asarray(
            [list(map(at.__getitem__, columns[i])) for i, at in zip(order, positions, strict=True)],
            dtype=np.int64,
        ).T.reshape(len(rule.rows), len(scope))
    limit = lowering.problem.memory_limit
    if (
        not rule.allow
        and prod(sizes) > _lowering.CLAUSE_TABLE_LIMIT
        and len(rule.rows) <= DENY_CLAUSES
        and len(scope) > 2
    ):
        _deny_clauses(lowering, rule.id, scope, exact, wild, sizes)
        return
    if rule.allow:
        rows = _allowed_rows(rule.id, exact, wild, sizes, limit)
    else:
        rows = _denied_complement(rule.id, exact, wild, sizes, limit)
    lowering.allow(scope, rows, rule.id)


def _deny_clauses(
    lowering: Lowering,
    rule_id: str,
    scope: tuple[int, ...],
    exact: np.ndarray,
    wild: list[tuple[int | slice, ...]],
    sizes: Sequence[int],
) -> None:
    """Each denied row as a clause: some slot it names takes another value."""
    denied: list[tuple[int | slice, ...]] = [tuple(row) for row in exact.tolist()]
    for row in [*denied, *wild]:
        named = [i for i, cell in enumerate(row) if not isinstance(cell, slice)]
        masks = []
        for i in named:
            mask = [True] * sizes[i]
            mask[row[i]] = False  # type: ignore[index]  # (named: not a wildcard)
            masks.append(tuple(mask))
        lowering.clause(tuple(scope[i] for i in named), tuple(masks), rule_id)


def _allowed_rows(
    rule_id: str,
    exact: np.ndarray,
    wild: list[tuple[int | slice, ...]],
    sizes: Sequence[int],
    limit: int,
) -> np.ndarray:
    """The rows written, and every row a wildcard stands for (distinct, sorted)."""
    width = len(sizes)
    expanded = sum(_stands_for(where, sizes) for where in wild)
    check_memory(
        (len(exact) + expanded) * width * ENTRY_BYTES,
        limit,
        f"rule '{rule_id}' (a table over {width} slots whose wildcards stand for "
        f"{show_count(len(exact) + expanded)} rows)",
        "replace its wildcards by fewer, narrower rows",
    )
    parts = [exact, *(_expanded(where, sizes) for where in wild)]
    return _distinct_rows(np.concatenate(parts), sizes)


def _denied_complement(
    rule_id: str,
    exact: np.ndarray,
    wild: list[tuple[int | slice, ...]],
    sizes: Sequence[int],
    limit: int,
) -> np.ndarray:
    """Every combination no row matches: one Boolean per combination, then its rows."""
    width = len(sizes)
    combinations = prod(sizes)
    if combinations > _GRID_LIMIT:
        raise LimitExceeded(
            f"rule '{rule_id}' (a deny table over {width} slots) allows the rest of their "
            f"{show_count(combinations)} combinations, more than the {_GRID_LIMIT:,} a deny "
            "table is tabulated over; write it as the rows it allows, or split it into tables "
            "over fewer slots",
            estimate=combinations,
            limit=_GRID_LIMIT,
        )
    check_memory(
        combinations * (1 + width * ENTRY_BYTES),
        limit,
        f"rule '{rule_id}' (a deny table over {width} slots, allowing the rest of their "
        f"{show_count(combinations)} combinations)",
        "write it as the rows it allows, or split it into tables over fewer slots",
    )
    grid = np.ones(sizes, dtype=bool)
    for where in wild:
        grid[where] = False
    if len(exact):
        grid[tuple(exact.T)] = False
    return np.argwhere(grid).astype(np.int64)


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


# -- price rules ------------------------------------------------------------------------------


@lowers_price_rule("conditional")
def _lower_conditional(lowering: Lowering, rule: PriceRule) -> None:
    if rule.amount is None:  # pragma: no cover - validation requires the amount
        return
    amount = _scaled(rule.amount, lowering.catalog.decimals)
    what, fix = f"price rule '{rule.id}'", "give its condition fewer slots"
    lowering.cost(parse(rule.condition), amount, rule.id, what, fix)


@lowers_price_rule("tiers", "frequency")
def _lower_order_price_rule(lowering: Lowering, rule: PriceRule) -> None:
    """Tiers and frequency pricing change the order's subtotal, not the unit price."""


@lowers_price_rule("ladder")
def _lower_ladder(lowering: Lowering, rule: PriceRule) -> None:
    """A surcharge per unit by degree band of customization."""
    lower_ladder(lowering, rule)
