"""Tabulate expressions over slot variables, and read linear comparisons as weights.

``_Scope`` finds the variables an expression reads and tabulates it over them (the value-index
tuples where it holds, through the compiled ``Tabulator``). A linear comparison (``_linear``:
sums, differences and constant multiples of references, counts, totals and numbers) is read as
per-value integer weights and a bound (a :class:`Resource`, scaled to whole numbers); over a
few slots its allowed tuples are summed on a grid or enumerated with bound pruning.

Invariants: scopes are sorted variable indexes; rows are int64 arrays with one column per scope
variable, in scope order, holding only allowed values; weights read off an expression equal
those found by evaluating it with one slot chosen at a time.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from math import prod

import numpy as np

from .._errors import CatalogError
from ..model import Catalog, ConfigurationView, Expr, evaluate
from ..model._configuration import Choice
from ..model._expr import Arith, BoolOp, Compare, Count, Neg, Not, Num, Ref, Total, children
from ._grids import Tabulator
from ._problem import Resource, SlotDomain

__all__: list[str] = []

#: Deny tables (and linear rules summed on a grid) span at most this many combinations.
_GRID_LIMIT = 1 << 22


class _Scope:
    """Tabulates expressions over the variables they read."""

    def __init__(self, catalog: Catalog, domains: Sequence[SlotDomain]) -> None:
        self.catalog = catalog
        self.domains = domains
        self.index = {domain.slot: i for i, domain in enumerate(domains)}
        self.tabulator = Tabulator(catalog, {domain.slot: domain for domain in domains})

    def of(self, expr: Expr) -> tuple[int, ...]:
        """The variables ``expr`` reads (sorted)."""
        found: set[int] = set()
        index = self.index
        stack = [expr]
        while stack:  # a walk over the expression (the common nodes first)
            node = stack.pop()
            if type(node) is Ref or type(node) is Count:
                found.add(index[node.slot])
            elif type(node) is BoolOp:
                stack.extend(node.operands)
            elif type(node) is Not:
                stack.append(node.operand)
            elif isinstance(node, Total):
                found.update(self._holding(node.attribute))
            else:
                stack.extend(children(node))
        return tuple(sorted(found))

    def _holding(self, attribute: str) -> list[int]:
        """The variables whose slot has a module with ``attribute``."""
        return [
            self.index[slot_id]
            for slot_id, slot in self.catalog.slots.items()
            if any(attribute in m.attributes for m in slot.modules.values())
        ]

    def width(self, scope: Sequence[int], allowed: Sequence[Sequence[bool]]) -> int:
        return prod(sum(allowed[var]) for var in scope)

    def full_width(self, scope: Sequence[int]) -> int:
        """The number of combinations of every choice of ``scope``'s slots."""
        return prod(len(self.domains[var].choices) for var in scope)

    def rows(
        self, expr: Expr, scope: Sequence[int], allowed: Sequence[Sequence[bool]] | None = None
    ) -> np.ndarray:
        """The value tuples over ``scope`` where ``expr`` holds (only allowed values, when
        ``allowed`` is given), in lexicographic order, as an int64 array."""
        slots = [self.domains[var].slot for var in scope]
        masks = None if allowed is None else [allowed[var] for var in scope]
        return self.tabulator.rows(expr, slots, masks)

    def table(self, expr: Expr, scope: Sequence[int], amount: int) -> dict[tuple[int, ...], int]:
        """``amount`` for every value tuple over ``scope`` where ``expr`` holds."""
        return dict.fromkeys(map(tuple, self.rows(expr, scope).tolist()), amount)


def _linear(expr: Expr) -> bool:
    """True when ``expr`` is a comparison of two linear numeric sides."""
    if not isinstance(expr, Compare) or expr.op not in ("<=", "<", ">=", ">", "==", "!="):
        return False
    return _linear_side(expr.left) and _linear_side(expr.right)


def _linear_side(expr: Expr) -> bool:
    match expr:
        case Num() | Total() | Count() | Ref():
            return True
        case Neg(operand):
            return _linear_side(operand)
        case Arith("*", left, right):  # linear when one factor is a constant
            return (_constant(left) and _linear_side(right)) or (
                _constant(right) and _linear_side(left)
            )
        case Arith(_, left, right):
            return _linear_side(left) and _linear_side(right)
    return False


def _constant(expr: Expr) -> bool:
    match expr:
        case Num():
            return True
        case Neg(operand):
            return _constant(operand)
        case Arith(_, left, right):
            return _constant(left) and _constant(right)
    return False


def _linear_terms(
    scope_helper: _Scope, expr: Expr
) -> tuple[dict[int, list[Decimal]], Decimal] | None:
    """``expr`` as per-value weights of the slots it reads plus a constant, read off sums
    and differences of module references and counts (what evaluating it with one slot
    chosen at a time gives); None for other forms."""
    if type(expr) is Num:
        return {}, expr.value
    if type(expr) is Ref or type(expr) is Count:
        var = scope_helper.index[expr.slot]
        domain = scope_helper.domains[var]
        if isinstance(expr, Count):
            row = [Decimal(sum(q for _, q in units)) for units in domain.units]
        elif expr.name in scope_helper.catalog.slots[expr.slot].modules:
            name = expr.name
            row = [Decimal(sum([q for m, q in units if m == name])) for units in domain.units]
        else:  # an attribute: what each choice alone reads (as rules are tabulated)
            row = scope_helper.tabulator.values(expr, expr.slot).tolist()
            if not all(type(value) is Decimal for value in row):
                return None  # not a number for some choice: evaluated instead
        return {var: row}, Decimal(0)
    if type(expr) is Neg:
        inner = _linear_terms(scope_helper, expr.operand)
        if inner is None:
            return None
        return {var: [-w for w in row] for var, row in inner[0].items()}, -inner[1]
    if type(expr) is Arith:
        left = _linear_terms(scope_helper, expr.left)
        right = _linear_terms(scope_helper, expr.right)
        if left is None or right is None:
            return None
        if expr.op == "*":  # linear when one factor is a constant
            if left[0] and right[0]:
                return None
            factor, (rows, constant) = (left[1], right) if not left[0] else (right[1], left)
            return {v: [factor * w for w in row] for v, row in rows.items()}, factor * constant
        sign = 1 if expr.op == "+" else -1
        rows = dict(left[0])
        for var, row in right[0].items():
            mine = rows.get(var)
            rows[var] = (
                [sign * w for w in row]
                if mine is None
                else [a + sign * b for a, b in zip(mine, row, strict=True)]
            )
        return rows, left[1] + sign * right[1]
    return None


def _resource(scope_helper: _Scope, expr: Compare, source: str) -> Resource:
    """Split ``left op right`` into per-value weights of ``left - right`` and a bound."""
    catalog, domains = scope_helper.catalog, scope_helper.domains
    difference = Arith("-", expr.left, expr.right)

    def value(config: Mapping[str, Choice]) -> Decimal:
        # a slot the mapping leaves out reads as empty (no module, no quantity)
        result = evaluate(difference, ConfigurationView(catalog, config))
        if not isinstance(result, Decimal):  # pragma: no cover - linear sides are numeric
            raise CatalogError(f"rule '{source}': '{expr}' is not numeric")
        return result

    terms = _linear_terms(scope_helper, difference)
    if terms is not None:  # per-value weights read off the expression
        raw, base = terms
    else:
        base = value({})
        raw = {}  # only the slots the rule reads weigh anything
        for var in scope_helper.of(expr):
            slot = domains[var].slot
            raw[var] = [value({slot: choice}) - base for choice in domains[var].choices]
    numbers = [base, *(w for row in raw.values() for w in row)]
    exponents = [n.as_tuple().exponent for n in numbers]
    scale = max([0, *(-e for e in exponents if isinstance(e, int))])
    weights = tuple(
        tuple(int(w.scaleb(scale)) for w in raw[var]) if var in raw else (0,) * len(domain.choices)
        for var, domain in enumerate(domains)
    )
    # sum(weights) + base (op) 0  <=>  sum(weights) (op) -base
    return Resource(weights, expr.op, int((-base).scaleb(scale)), source)


def _pair_rows(
    helper: _Scope, expr: Compare, scope: tuple[int, ...], allowed: Sequence[Sequence[bool]]
) -> np.ndarray | None:
    """The allowed value pairs of a linear comparison over two slots (``a.weight +
    b.weight <= 27``), from per-value weights read off the expression; None when they are not
    (then the rule is tabulated like any other)."""
    terms = _linear_terms(helper, Arith("-", expr.left, expr.right))
    if terms is None:
        return None
    raw, base = terms
    first, second = scope
    zero = Decimal(0)
    left = [w + base for w in raw.get(first) or [zero] * len(allowed[first])]
    right = raw.get(second) or [zero] * len(allowed[second])
    holds = _OPERATORS[expr.op]
    kept = [b for b, ok in enumerate(allowed[second]) if ok]
    found = [
        (a, b)
        for a, ok in enumerate(allowed[first])
        if ok
        for b in kept
        if holds(left[a] + right[b], zero)
    ]
    return np.asarray(found, dtype=np.int64).reshape(len(found), 2)


_OPERATORS = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}


def _linear_rows(
    resource: Resource, scope: Sequence[int], allowed: Sequence[Sequence[bool]]
) -> np.ndarray:
    """The value tuples over ``scope`` whose weights satisfy the resource, as an int64 array:
    summed over the whole grid of allowed values when it is small and the sums fit in 64 bits,
    else enumerated with bound pruning."""
    values = [[v for v, ok in enumerate(allowed[var]) if ok] for var in scope]
    largest = sum(
        max((abs(resource.weights[var][v]) for v in vs), default=0)
        for var, vs in zip(scope, values, strict=True)
    )
    if prod(len(vs) for vs in values) <= _GRID_LIMIT and largest + abs(resource.bound) < 1 << 62:
        total = np.zeros([1] * len(scope), dtype=np.int64)
        for axis, (var, vs) in enumerate(zip(scope, values, strict=True)):
            shape = [1] * len(scope)
            shape[axis] = len(vs)
            weights = np.asarray([resource.weights[var][v] for v in vs], dtype=np.int64)
            total = total + weights.reshape(shape)
        holds = _OPERATORS[resource.op](total, resource.bound)
        at = np.argwhere(holds)
        columns = [np.asarray(vs, dtype=np.int64)[at[:, axis]] for axis, vs in enumerate(values)]
        return np.stack(columns, axis=1).reshape(len(at), len(scope))
    found = list(_linear_tuples(resource, scope, allowed))
    return np.asarray(found, dtype=np.int64).reshape(len(found), len(scope))


def _linear_tuples(
    resource: Resource, scope: Sequence[int], allowed: Sequence[Sequence[bool]]
) -> Iterator[tuple[int, ...]]:
    """The value tuples over ``scope`` whose weights satisfy the resource, pruned by bounds."""
    options = [
        sorted(
            ((value, resource.weights[var][value]) for value, ok in enumerate(allowed[var]) if ok),
            key=lambda item: item[1],
        )
        for var in scope
    ]
    low = [0] * (len(scope) + 1)
    high = [0] * (len(scope) + 1)
    for i in range(len(scope) - 1, -1, -1):
        weights = [w for _, w in options[i]] or [0]
        low[i] = low[i + 1] + min(weights)
        high[i] = high[i + 1] + max(weights)
    op = resource.op
    partial: list[int] = []

    def extend(depth: int, total: int) -> Iterator[tuple[int, ...]]:
        if depth == len(scope):
            if resource.holds(total):
                yield tuple(partial)
            return
        for value, weight in options[depth]:
            reach_low = total + weight + low[depth + 1]
            if op in ("<=", "<") and not resource.holds(reach_low):
                break  # options are sorted by weight: the rest only add more
            if op in (">=", ">") and not resource.holds(total + weight + high[depth + 1]):
                continue
            partial.append(value)
            yield from extend(depth + 1, total + weight)
            partial.pop()

    try:
        yield from extend(0, 0)
    finally:
        # the recursive closure refers to itself through this name: cleared, it is freed at
        # once instead of by a collection
        extend = None  # type: ignore[assignment]
