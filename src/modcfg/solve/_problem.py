"""Compile a catalog (and a customer's needs) into a finite-domain problem over slot variables.

Every slot becomes one variable whose domain is the list of its local choices (a module, an
empty optional slot, or a quantity vector of a multi-select slot). Every rule becomes a
relation over the variables of its scope (tabulated once), except global linear constraints
such as ``total(weight_kg) <= 80``, which become *resources*: per-value integer weights whose
sum is compared with a bound. Prices become integer costs in the currency's minor unit.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import compress
from math import prod
from typing import NamedTuple

import numpy as np

from .._errors import CatalogError, LimitExceeded, NeedsError
from ..model import (
    Catalog,
    ConfigurationView,
    ConstraintRule,
    ExcludesRule,
    Expr,
    Quantities,
    RequiresRule,
    ResolvedNeeds,
    TableRule,
    evaluate,
    parse,
    truthy,
)
from ..model._configuration import Choice
from ..model._expr import Arith, BoolOp, Compare, Count, Neg, Not, Num, Ref, Total, children
from ._budget import (
    ENTRY_BYTES,
    check_memory,
    default_memory_limit,
    resolve_memory_limit,
    show_count,
)
from ._compiled import Tabulator

__all__ = [
    "TABULATION_LIMIT",
    "Constraint",
    "Factor",
    "Problem",
    "Resource",
    "SlotDomain",
    "build_domains",
    "compile_rules",
    "needs_problem",
]

#: Largest product of domain sizes a rule may span before it must be linear (a resource).
TABULATION_LIMIT = 2_000_000
#: Linear rules over more slots than this are resources (global sums), never tables: a table
#: over many slots is large to build and ties every slot of it into one bag.
LINEAR_TABLE_SLOTS = 8
#: Deny tables (and linear rules summed on a grid) span at most this many combinations.
_GRID_LIMIT = 1 << 22
#: Largest number of local choices of one multi-select slot.
DOMAIN_LIMIT = 100_000


class SlotDomain(NamedTuple):
    """The local choices of one slot, with what each choice contains."""

    slot: str
    choices: tuple[Choice, ...]
    units: tuple[tuple[tuple[str, int], ...], ...]
    cost: tuple[int, ...]

    def index_of(self, choice: Choice) -> int:
        return self.choices.index(choice)


class Constraint:
    """A relation: the allowed value-index tuples over ``scope`` (variable indexes, sorted).

    Built from a set of tuples (``allowed``) or from an integer array of distinct rows
    (``rows``); each form is derived from the other when first asked for. ``linear`` keeps the
    linear form of a tabulated sum constraint, for solvers that prefer it.
    """

    def __init__(
        self,
        scope: tuple[int, ...],
        allowed: frozenset[tuple[int, ...]] | None = None,
        source: str = "",
        linear: Resource | None = None,
        *,
        rows: np.ndarray | None = None,
    ) -> None:
        if allowed is None and rows is None:
            raise TypeError("a constraint needs its allowed tuples or rows")
        self.scope = scope
        self.source = source
        self.linear = linear
        self._allowed = allowed
        self._rows = rows
        self._supports: dict[tuple[int, int], dict[int, frozenset[int]]] = {}

    @property
    def allowed(self) -> frozenset[tuple[int, ...]]:
        """The allowed tuples as a set."""
        if self._allowed is None:
            assert self._rows is not None  # one of the two is given
            self._allowed = frozenset(map(tuple, self._rows.tolist()))
        return self._allowed

    @property
    def rows(self) -> np.ndarray:
        """The allowed tuples as an int64 array (one row each, columns in scope order)."""
        if self._rows is None:
            assert self._allowed is not None  # one of the two is given
            found = np.asarray(sorted(self._allowed), dtype=np.int64)
            self._rows = found.reshape(len(self._allowed), len(self.scope))
        return self._rows

    @property
    def size(self) -> int:
        """The number of allowed tuples."""
        return len(self._rows) if self._rows is not None else len(self.allowed)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Constraint):
            return NotImplemented
        return (self.scope, self.source, self.linear, self.allowed) == (
            other.scope,
            other.source,
            other.linear,
            other.allowed,
        )

    def __hash__(self) -> int:
        return hash((self.scope, self.source))

    def __repr__(self) -> str:
        return f"Constraint({self.scope}, {self.size} tuples, {self.source!r})"

    def supports(self, at: int, other: int) -> dict[int, frozenset[int]]:
        """For each value at scope position ``other``: the values at position ``at`` that the
        relation allows with it (memoised)."""
        found = self._supports.get((at, other))
        if found is None:
            grouped: dict[int, set[int]] = {}
            for t in self.allowed:
                grouped.setdefault(t[other], set()).add(t[at])
            found = self._supports[at, other] = {k: frozenset(v) for k, v in grouped.items()}
        return found


@dataclass(frozen=True)
class Factor:
    """An additive term over ``scope``: value-index tuple -> integer amount (missing: 0)."""

    scope: tuple[int, ...]
    table: Mapping[tuple[int, ...], int]
    source: str


@dataclass(frozen=True)
class Resource:
    """A global linear constraint ``sum of weights[var][value] (op) bound`` (integers)."""

    weights: tuple[tuple[int, ...], ...]
    op: str
    bound: int
    source: str

    def holds(self, total: int) -> bool:
        match self.op:
            case "<=":
                return total <= self.bound
            case "<":
                return total < self.bound
            case ">=":
                return total >= self.bound
            case ">":
                return total > self.bound
            case "==":
                return total == self.bound
            case _:
                return total != self.bound


@dataclass
class Problem:
    """A finite-domain problem: what every engine of modcfg solves."""

    catalog: Catalog
    domains: tuple[SlotDomain, ...]
    allowed: list[list[bool]]
    constraints: list[Constraint] = field(default_factory=list)
    cost_factors: list[Factor] = field(default_factory=list)
    score_factors: list[Factor] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    unary_reasons: dict[tuple[int, int], str] = field(default_factory=dict)
    #: Bytes any one step of building or querying this problem may allocate (see ``_budget``).
    memory_limit: int = field(default_factory=default_memory_limit)

    @property
    def size(self) -> int:
        return len(self.domains)

    def values(self, var: int) -> list[int]:
        """The value indexes of ``var`` that no unary rule or need has excluded."""
        row = self.allowed[var]
        return list(compress(range(len(row)), row))

    def with_allowed(self, var: int, row: list[bool]) -> Problem:
        """A copy with ``var``'s allowed values replaced by ``row`` (the other rows are shared:
        copy before changing them in place)."""
        allowed = list(self.allowed)
        allowed[var] = row
        return Problem(
            catalog=self.catalog,
            domains=self.domains,
            allowed=allowed,
            constraints=self.constraints,
            cost_factors=self.cost_factors,
            score_factors=self.score_factors,
            resources=self.resources,
            unary_reasons=self.unary_reasons,
            memory_limit=self.memory_limit,
        )

    def copy(self) -> Problem:
        return Problem(
            catalog=self.catalog,
            domains=self.domains,
            allowed=[list(row) for row in self.allowed],
            constraints=list(self.constraints),
            cost_factors=list(self.cost_factors),
            score_factors=list(self.score_factors),
            resources=list(self.resources),
            unary_reasons=dict(self.unary_reasons),
            memory_limit=self.memory_limit,
        )


def _scaled(amount: Decimal, decimals: int) -> int:
    """``amount`` in minor units (an exact integer, or CatalogError)."""
    numerator, denominator = amount.as_integer_ratio()
    scale: int = 10**decimals
    if denominator == 1:
        return numerator * scale  # (whole amounts; feature models' modules cost 0)
    units, rest = divmod(numerator * scale, denominator)
    if rest:
        raise CatalogError(f"amount {amount} has more than {decimals} decimals")
    return units


def _multi_choices(catalog: Catalog, slot_id: str) -> Iterator[Quantities]:
    slot = catalog.slots[slot_id]
    modules = list(slot.modules.values())
    ranges = [range(module.max_quantity + 1) for module in modules]
    size = prod(len(r) for r in ranges)
    if size > DOMAIN_LIMIT * 10:
        raise LimitExceeded(
            f"slot '{slot_id}' has {size} quantity combinations; split it into smaller slots "
            "or lower the modules' max_quantity"
        )
    for quantities in itertools.product(*ranges):
        if slot.cardinality.min <= sum(quantities) <= slot.cardinality.max:
            yield Quantities(
                {module.id: q for module, q in zip(modules, quantities, strict=True) if q}
            )


def build_domains(catalog: Catalog) -> tuple[SlotDomain, ...]:
    """The local choices of every slot, in catalog order."""
    domains = []
    decimals = catalog.decimals
    scale: int = 10**decimals
    for slot_id, slot in catalog.slots.items():
        modules, cardinality = slot.modules, slot.cardinality
        choices: tuple[Choice, ...]
        if cardinality.max == 1:  # single choice: a module, or none when optional
            choices = tuple(modules)
            units: tuple[tuple[tuple[str, int], ...], ...] = tuple([((m, 1),) for m in modules])
            cost = []
            for module in modules.values():  # (minor units, inline: the common whole case)
                numerator, denominator = module.price.as_integer_ratio()
                if denominator == 1:
                    cost.append(numerator * scale)
                else:
                    cost.append(_scaled(module.price, decimals))
            if cardinality.min == 0:
                choices += (None,)
                units += ((),)
                cost.append(0)
        else:
            price = {m: _scaled(module.price, decimals) for m, module in modules.items()}
            choices = tuple(_multi_choices(catalog, slot_id))
            units = tuple([_units(choice) for choice in choices])
            cost = [sum(price[m] * q for m, q in unit) for unit in units]
        if len(choices) > DOMAIN_LIMIT:
            raise LimitExceeded(
                f"slot '{slot_id}' has {len(choices)} local choices (limit {DOMAIN_LIMIT}); "
                "split it into smaller slots"
            )
        domains.append(SlotDomain(slot_id, choices, units, tuple(cost)))
    return tuple(domains)


def _units(choice: Choice) -> tuple[tuple[str, int], ...]:
    if choice is None:
        return ()
    if isinstance(choice, str):
        return ((choice, 1),)
    return tuple(choice.items())


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
                reason = resolved.excluded.get(f"{domain.slot}.{module}")
                if reason is not None and problem.allowed[var][value]:
                    problem.allowed[var][value] = False
                    problem.unary_reasons[(var, value)] = f"need: {module} {reason}"
    for ref in resolved.require:
        slot, module = ref.split(".")
        var = helper.index[slot]
        for value, units in enumerate(problem.domains[var].units):
            if problem.allowed[var][value] and all(m != module for m, _ in units):
                problem.allowed[var][value] = False
                problem.unary_reasons[(var, value)] = f"need: require {ref}"
    for text in resolved.conditions:
        try:
            _constraint_from_expr(
                helper, problem, parse(text), f"need: {text}", f"condition '{text}'"
            )
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
