"""The finite-domain translation every peer starts from.

A catalog becomes one variable per slot whose values are the slot's choices (a module id,
``None`` for an empty optional slot, or a quantity vector of a multi-select slot), one table
per rule (the rule tabulated over the product of its scope's choices), and one cost table per
conditional price rule. Prices are integers in the currency's minor unit (cents), exact.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property

from modcfg import Catalog, Needs, Quantities
from modcfg.model import (
    ConfigurationView,
    ExcludesRule,
    RequiresRule,
    ResolvedNeeds,
    Rule,
    Slot,
    TableRule,
    evaluate,
    parse,
    truthy,
)
from modcfg.model._expr import Count, Expr, Ref, Total, walk

from ._errors import TooLarge, Unsupported

__all__ = ["Choice", "CostTable", "Literal", "Problem", "Query", "Table", "Variable"]

Choice = str | None | Quantities
#: A literal of a clause: (variable, value, positive).
Literal = tuple[int, int, bool]
#: The most combinations one rule may be tabulated over.
MAX_TABLE = 1_000_000
#: The most choices a multi-select slot may expand to.
MAX_CHOICES = 5_000


@dataclass(frozen=True)
class Variable:
    """One slot as a finite-domain variable."""

    slot: str
    values: tuple[Choice, ...]
    prices: tuple[int, ...]

    def chooses(self, value: int, module: str) -> bool:
        """True when ``value`` takes at least one unit of ``module``."""
        return _chooses(self.values[value], module)

    def modules(self, value: int) -> tuple[str, ...]:
        choice = self.values[value]
        if choice is None:
            return ()
        if isinstance(choice, str):
            return (choice,)
        return tuple(choice)


@dataclass(frozen=True, eq=False)
class Table:
    """A rule tabulated over its scope: allowed value tuples (the forbidden ones on demand).

    ``sizes`` are the domain sizes of the scope's variables. ``clause`` is the rule as one
    clause when it is a requires/excludes rule over single-choice slots (solvers with clauses
    use it natively).
    """

    rule: str
    scope: tuple[int, ...]
    allowed: frozenset[tuple[int, ...]]
    sizes: tuple[int, ...]
    clause: tuple[Literal, ...] | None = None

    @property
    def size(self) -> int:
        """The number of value tuples of the scope."""
        return math.prod(self.sizes)

    @property
    def forbidden_size(self) -> int:
        return self.size - len(self.allowed)

    @cached_property
    def forbidden(self) -> frozenset[tuple[int, ...]]:
        """The value tuples the rule forbids (built on first use: a wide table with few
        allowed rows forbids almost all of its product)."""
        allowed = self.allowed
        product = itertools.product(*(range(size) for size in self.sizes))
        return frozenset(row for row in product if row not in allowed)


@dataclass(frozen=True)
class CostTable:
    """A conditional price rule tabulated over its scope: amount per matching value tuple."""

    rule: str
    scope: tuple[int, ...]
    amounts: Mapping[tuple[int, ...], int]


@dataclass(frozen=True)
class Query:
    """Allowed values per variable and an optional bound on the unit price (minor units)."""

    domains: tuple[tuple[int, ...], ...]
    max_price: int | None = None

    def space(self) -> int:
        """Size of the search space a full scan walks."""
        return math.prod(len(domain) for domain in self.domains)


def _chooses(choice: Choice, module: str) -> bool:
    if choice is None:
        return False
    if isinstance(choice, str):
        return choice == module
    return module in choice


def _expand(slot: Slot) -> list[Choice]:
    """Every choice of a slot: its modules (and None when optional), or quantity vectors."""
    if slot.single:
        return [*slot.modules, *([None] if slot.cardinality.min == 0 else [])]
    modules = list(slot.modules.values())
    ranges = [range(module.max_quantity + 1) for module in modules]
    if math.prod(len(r) for r in ranges) > 50 * MAX_CHOICES:
        raise TooLarge(f"slot '{slot.id}' has too many quantity vectors to expand")
    choices: list[Choice] = []
    for quantities in itertools.product(*ranges):
        if slot.cardinality.min <= sum(quantities) <= slot.cardinality.max:
            choices.append(Quantities({m.id: q for m, q in zip(modules, quantities, strict=True)}))
    if len(choices) > MAX_CHOICES:
        raise TooLarge(f"slot '{slot.id}' expands to {len(choices)} choices")
    return choices


Predicate = Callable[[dict[str, Choice]], bool]


def _split(ref: str) -> tuple[str, str]:
    slot, module = ref.split(".", 1)
    return slot, module


def _requires(conditions: list[tuple[str, str]], options: list[tuple[str, str]]) -> Predicate:
    def holds(choices: dict[str, Choice]) -> bool:
        if all(_chooses(choices[s], m) for s, m in conditions):
            return any(_chooses(choices[s], m) for s, m in options)
        return True

    return holds


def _excludes(together: list[tuple[str, str]]) -> Predicate:
    return lambda choices: not all(_chooses(choices[s], m) for s, m in together)


def _matches(
    slots: tuple[str, ...], rows: tuple[tuple[str | None, ...], ...], *, allow: bool
) -> Predicate:
    def holds(choices: dict[str, Choice]) -> bool:
        matched = any(
            all(want == "*" or choices[s] == want for s, want in zip(slots, row, strict=True))
            for row in rows
        )
        return matched == allow

    return holds


def _canonical(choice: object) -> object:
    if isinstance(choice, Mapping):
        return frozenset((module, q) for module, q in choice.items() if q)
    return choice


class Problem:
    """A catalog translated into variables, tables and cost tables."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.scale = 10**catalog.decimals
        self.variables = tuple(self._variable(slot) for slot in catalog.slots.values())
        self.index = {variable.slot: number for number, variable in enumerate(self.variables)}
        self._lookup = [
            {_canonical(choice): value for value, choice in enumerate(variable.values)}
            for variable in self.variables
        ]
        self.tables = tuple(self._table(rule) for rule in catalog.rules)
        costs: list[CostTable] = []
        self.constant = 0
        for price_rule in catalog.prices:
            if price_rule.kind != "conditional" or price_rule.amount is None:
                continue
            amount = self._cents(price_rule.amount)
            expression = parse(price_rule.condition)
            scope = self._scope(expression)
            if not scope:
                if truthy(evaluate(expression, ConfigurationView(catalog, {}))):
                    self.constant += amount
                continue
            holds = self._tabulate(price_rule.id, scope, self._predicate(expression))
            costs.append(CostTable(price_rule.id, scope, dict.fromkeys(holds[0], amount)))
        self.costs = tuple(costs)

    # -- translation ---------------------------------------------------------------------------

    def _cents(self, amount: Decimal) -> int:
        return int(amount * self.scale)

    def _variable(self, slot: Slot) -> Variable:
        values = _expand(slot)
        prices = []
        for choice in values:
            units = {choice: 1} if isinstance(choice, str) else dict(choice or {})
            prices.append(sum(self._cents(slot.modules[m].price) * q for m, q in units.items()))
        return Variable(slot.id, tuple(values), tuple(prices))

    def _scope(self, expression: Expr) -> tuple[int, ...]:
        slots: set[str] = set()
        for node in walk(expression):
            if isinstance(node, Ref | Count):
                slots.add(node.slot)
            elif isinstance(node, Total):
                slots.update(
                    slot.id
                    for slot in self.catalog.slots.values()
                    if any(node.attribute in module.attributes for module in slot.modules.values())
                )
        return tuple(sorted(self.index[slot] for slot in slots))

    def _predicate(self, expression: Expr) -> Predicate:
        catalog = self.catalog
        return lambda choices: truthy(evaluate(expression, ConfigurationView(catalog, choices)))

    def _sizes(self, rule: str, scope: tuple[int, ...]) -> tuple[int, ...]:
        sizes = tuple(len(self.variables[v].values) for v in scope)
        if math.prod(sizes) > MAX_TABLE:
            raise TooLarge(f"rule '{rule}' spans {math.prod(sizes):.2e} combinations")
        return sizes

    def _tabulate(
        self, rule: str, scope: tuple[int, ...], predicate: Predicate
    ) -> tuple[frozenset[tuple[int, ...]], frozenset[tuple[int, ...]]]:
        variables = [self.variables[v] for v in scope]
        sizes = self._sizes(rule, scope)
        allowed: set[tuple[int, ...]] = set()
        forbidden: set[tuple[int, ...]] = set()
        for row in itertools.product(*(range(size) for size in sizes)):
            choices = {
                var.slot: var.values[value] for var, value in zip(variables, row, strict=True)
            }
            (allowed if predicate(choices) else forbidden).add(row)
        return frozenset(allowed), frozenset(forbidden)

    def _rows(self, rule: TableRule, scope: tuple[int, ...]) -> frozenset[tuple[int, ...]]:
        """The value tuples a table rule's rows match (wildcards expanded), straight from the
        rows: a large table is never checked row by row against its whole product."""
        place = {self.variables[v].slot: position for position, v in enumerate(scope)}
        columns = [place[slot] for slot in rule.table.slots]
        variables = [self.variables[v] for v in scope]
        matched: set[tuple[int, ...]] = set()
        for row in rule.rows:
            options: list[tuple[int, ...]] = [()] * len(scope)
            for column, want in zip(columns, row, strict=True):
                values = variables[column].values
                options[column] = tuple(
                    j for j, choice in enumerate(values) if want == "*" or choice == want
                )
            matched.update(itertools.product(*options))
        return frozenset(matched)

    def _table(self, rule: Rule) -> Table:
        if isinstance(rule, TableRule):
            scope = tuple(sorted(self.index[slot] for slot in rule.table.slots))
            sizes = self._sizes(rule.id, scope)
            matched = self._rows(rule, scope)
            if not rule.allow:
                product = itertools.product(*(range(size) for size in sizes))
                matched = frozenset(row for row in product if row not in matched)
            return Table(rule.id, scope, matched, sizes)
        if isinstance(rule, RequiresRule | ExcludesRule):  # a clause, for the SAT peers
            clause: tuple[Literal, ...] | None = None
            if isinstance(rule, RequiresRule):
                conditions = [_split(ref) for ref in rule.requires.if_]
                options = [_split(ref) for ref in rule.requires.then]
                slots = {slot for slot, _ in conditions + options}
                predicate = _requires(conditions, options)
                literals = [(s, m, False) for s, m in conditions]
                clause = self._clause(literals + [(s, m, True) for s, m in options])
            else:
                together = [_split(ref) for ref in rule.excludes]
                slots = {slot for slot, _ in together}
                predicate = _excludes(together)
                clause = self._clause([(s, m, False) for s, m in together])
            scope = tuple(sorted(self.index[slot] for slot in slots))
            allowed, _ = self._tabulate(rule.id, scope, predicate)
            return Table(rule.id, scope, allowed, self._sizes(rule.id, scope), clause)
        # every other kind: what its expression says
        expression = rule.expression
        scope = self._scope(expression)
        allowed, _ = self._tabulate(rule.id, scope, self._predicate(expression))
        return Table(rule.id, scope, allowed, self._sizes(rule.id, scope))

    def _clause(self, refs: list[tuple[str, str, bool]]) -> tuple[Literal, ...] | None:
        literals: list[Literal] = []
        for slot, module, positive in refs:
            variable = self.variables[self.index[slot]]
            if not self.catalog.slots[slot].single:
                return None
            literals.append((self.index[slot], variable.values.index(module), positive))
        return tuple(literals)

    # -- queries -------------------------------------------------------------------------------

    def query(self, needs: Needs | None = None, picks: Mapping[str, str] | None = None) -> Query:
        """The allowed values and price bound of the configurations that satisfy ``needs`` and
        take every module of ``picks`` (slot -> module)."""
        resolved = (needs or Needs()).resolve(self.catalog)
        if resolved.conditions:
            raise Unsupported("needs with conditions")
        required: dict[int, list[str]] = {}
        for ref in (*resolved.require, *(f"{s}.{m}" for s, m in (picks or {}).items())):
            slot, module = ref.split(".", 1)
            required.setdefault(self.index[slot], []).append(module)
        domains = []
        for number, variable in enumerate(self.variables):
            domains.append(
                tuple(
                    value
                    for value in range(len(variable.values))
                    if not any(
                        f"{variable.slot}.{m}" in resolved.excluded for m in variable.modules(value)
                    )
                    and all(variable.chooses(value, m) for m in required.get(number, ()))
                )
            )
        max_price = None if resolved.budget is None else self.unit_bound(resolved)
        return Query(tuple(domains), max_price)

    def price(self, assignment: Sequence[int]) -> int:
        """Unit price of a full assignment, in minor units."""
        total = self.constant
        for variable, value in zip(self.variables, assignment, strict=True):
            total += variable.prices[value]
        for cost in self.costs:
            total += cost.amounts.get(tuple(assignment[v] for v in cost.scope), 0)
        return total

    def assignment(self, configuration: Mapping[str, object]) -> tuple[int, ...]:
        """The value indices of a configuration (slot -> module id, None or quantities)."""
        return tuple(
            lookup[_canonical(configuration.get(variable.slot))]
            for variable, lookup in zip(self.variables, self._lookup, strict=True)
        )

    def options(self, assignments: Iterator[tuple[int, int, int]]) -> dict[tuple[str, str], int]:
        """Sum per-value completion counts ``(variable, value, count)`` into per-module counts."""
        counts: dict[tuple[str, str], int] = {}
        for number, value, count in assignments:
            variable = self.variables[number]
            for module in variable.modules(value):
                key = (variable.slot, module)
                counts[key] = counts.get(key, 0) + count
        return counts

    # -- quotes --------------------------------------------------------------------------------

    def total(self, needs: Needs | ResolvedNeeds | None, unit: int) -> Decimal:
        """The quote total of a configuration with unit price ``unit`` (docs/semantics.md)."""
        resolved = (
            needs if isinstance(needs, ResolvedNeeds) else (needs or Needs()).resolve(self.catalog)
        )
        step = Decimal(1).scaleb(-self.catalog.decimals)

        def rounded(amount: Decimal) -> Decimal:
            return amount.quantize(step, rounding=ROUND_HALF_EVEN)

        quantity = resolved.quantity
        goods = Decimal(unit).scaleb(-self.catalog.decimals) * quantity
        lines = [goods]
        for rule in self.catalog.prices:
            if rule.kind == "tiers":
                tier = rule.tier_percent(quantity)
                if tier is not None:
                    lines.append(rounded(goods * tier.percent / 100))
            elif rule.percent is not None and resolved.needs.frequency in (rule.frequency or ()):
                lines.append(rounded(goods * rule.percent / 100))
        for service in resolved.services:
            lines.append(service.price * (quantity if service.per == "unit" else 1))
        payment = resolved.payment
        if payment is not None:
            if payment.discount_percent:
                lines.append(-rounded(sum(lines, Decimal(0)) * payment.discount_percent / 100))
            if payment.instalments > 1:
                principal = sum(lines, Decimal(0))
                n, rate = payment.instalments, payment.apr / 1200
                if rate:
                    instalment = rounded(principal * rate / (1 - (1 + rate) ** -n))
                else:
                    instalment = rounded(principal / n)
                return instalment * n
        return sum(lines, Decimal(0))

    def unit_bound(self, resolved: ResolvedNeeds) -> int:
        """The largest unit price whose total fits the budget (the total grows with it)."""
        budget = resolved.budget
        low = self.constant + sum(min(v.prices) for v in self.variables)
        high = self.constant + sum(max(v.prices) for v in self.variables)
        for cost in self.costs:
            low += min([0, *cost.amounts.values()])
            high += max([0, *cost.amounts.values()])
        if budget is None or self.total(resolved, high) <= budget:
            return high
        if self.total(resolved, low) > budget:
            return low - 1
        while high - low > 1:
            middle = (low + high) // 2
            if self.total(resolved, middle) <= budget:
                low = middle
            else:
                high = middle
        return low
