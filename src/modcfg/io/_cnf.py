"""A catalog as clauses over one Boolean variable per module, for the DIMACS and UVL writers.

Variable ``i`` (1-based, catalog order) is true when module ``i`` is chosen. Slots give
exactly-one or at-most-one clauses; a table gives a clause per dead end of the trie of its rows;
every other rule is encoded from its expression (``Rule.expression``, whatever its kind): lowered
to Boolean variables and linear comparisons over them (``a.x + b.x == p.x``), then expanded
variable by variable (Shannon expansion with three-valued evaluation, so a branch stops as soon
as the formula is decided) and the clauses are simplified by subsumption and self-subsuming
resolution; an expression that reads attributes is tabulated over its slots instead. A requires
or excludes rule comes out as its one clause.

Numeric attributes, ``total()`` and multi-select quantities have no Boolean counterpart: they
raise :class:`Unsupported`, which the writers turn into a :class:`~modcfg.CatalogError` naming
the rule.

>>> from modcfg.model import Catalog
>>> catalog = Catalog.model_validate({"catalog": "t", "slots": {
...     "a": {"cardinality": "optional", "modules": {"x": {}}},
...     "b": {"cardinality": "optional", "modules": {"x": {}}}},
...     "rules": [{"id": "r", "formula": "a.x + b.x == 1"}]})
>>> encoder = Encoder(catalog)
>>> encoder.rule_clauses(catalog.rules[0])
[(-1, -2), (1, 2)]
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import combinations, product
from math import prod

from ..model import Catalog, ConfigurationView, Quantities, Slot
from ..model._configuration import Choice
from ..model._expr import (
    Arith,
    BoolOp,
    Compare,
    Count,
    Expr,
    InList,
    Lit,
    Neg,
    Not,
    Num,
    Ref,
    Total,
    evaluate,
    refs,
    truthy,
)
from ..model._rules import Rule, TableRule
from ._boolean import (
    And,
    Clause,
    Const,
    Node,
    Or,
    Unsupported,
    Var,
    conjunction,
    disjunction,
    expand,
    linear,
    negate,
    simplify,
)

__all__ = ["Clause", "Encoder", "Unsupported", "simplify"]

_TABULATE_LIMIT = 100_000
_Value = str | None | frozenset[str]


# ---- the catalog ------------------------------------------------------------------------------


class Encoder:
    """Numbers the modules of a catalog and turns its slots and rules into clauses."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.variables: dict[str, int] = {}
        for ref in catalog.module_refs():
            self.variables[ref] = len(self.variables) + 1

    def slot_clauses(self, slot: Slot) -> list[Clause]:
        """Exactly one (or at most one) module of a single slot; the min..max of a multi-select."""
        variables = [self.variables[f"{slot.id}.{module}"] for module in slot.modules]
        if slot.single:
            clauses: list[Clause] = [(-a, -b) for a, b in combinations(variables, 2)]
            if slot.cardinality.min == 1:
                clauses.insert(0, tuple(variables))
            return clauses
        if any(module.max_quantity > 1 for module in slot.modules.values()):
            raise Unsupported(
                "it takes a module more than once (max_quantity above 1), which Boolean "
                "variables cannot express"
            )
        terms = dict.fromkeys(variables, Decimal(1))
        low, high = slot.cardinality.min, slot.cardinality.max
        node = conjunction(
            (linear(">=", terms, Decimal(-low)), linear("<=", terms, Decimal(-high)))
        )
        return self._node_clauses(node)

    def rule_clauses(self, rule: Rule) -> list[Clause]:
        """The clauses of one rule; raises :class:`Unsupported` when it has none."""
        try:
            return self._rule_clauses(rule)
        except RecursionError:
            raise Unsupported("it is too large to turn into clauses") from None

    def _rule_clauses(self, rule: Rule) -> list[Clause]:
        if isinstance(rule, TableRule):  # its rows, as a trie, give fewer clauses
            return list(self._table_clauses(rule))
        return self.expression_clauses(rule.expression)

    def expression_clauses(self, expr: Expr) -> list[Clause]:
        """The clauses of an expression: as a Boolean formula, else tabulated over its slots."""
        try:
            return self._node_clauses(self.lower(expr))
        except Unsupported as exc:
            return self._tabulated(expr, exc)

    def _node_clauses(self, node: Node) -> list[Clause]:
        if isinstance(node, And):
            return simplify([c for operand in node.operands for c in self._node_clauses(operand)])
        written = _written_clause(node)
        if written is not None:
            return written
        return simplify(expand(node))

    def _tabulated(self, expr: Expr, reason: Unsupported) -> list[Clause]:
        """Clauses of any expression over few slots, by evaluating every combination of choices.

        An attribute of a single-choice slot is a function of its choice, so a rule such as
        ``glass.thickness_mm >= 6 if grade.g3`` is a table over ``glass`` and ``grade``.
        """
        scope: dict[str, None] = {}
        for node in refs(expr):
            if isinstance(node, Total):
                for slot in self.catalog.slots.values():
                    if any(
                        isinstance(module.attributes.get(node.attribute), Decimal)
                        for module in slot.modules.values()
                    ):
                        scope[slot.id] = None
            else:
                scope[node.slot] = None
        domains = [self._values(self.catalog.slots[slot_id]) for slot_id in scope]
        size = prod(len(domain) for domain in domains)
        if size > _TABULATE_LIMIT:
            raise Unsupported(
                f"{reason}; as a table over {', '.join(scope)} it would have {size} rows"
            )
        rows = [
            combination
            for combination in product(*domains)
            if truthy(evaluate(expr, ConfigurationView(self.catalog, _choices(scope, combination))))
        ]
        if not rows:
            return [()]
        return simplify(list(self._trie(tuple(scope), rows, 0, [])))

    def _values(self, slot: Slot) -> list[_Value]:
        """Every choice of a slot: a module id, None (empty) or a set of modules (multi-select)."""
        if slot.single:
            return [*slot.modules, *([None] if slot.cardinality.min == 0 else [])]
        self.slot_clauses(slot)  # raises for quantities above 1
        modules = list(slot.modules)
        if 2 ** len(modules) > _TABULATE_LIMIT:
            raise Unsupported(f"slot '{slot.id}' has too many modules to tabulate its choices")
        low, high = slot.cardinality.min, slot.cardinality.max
        return [
            frozenset(chosen)
            for size in range(low, min(high, len(modules)) + 1)
            for chosen in combinations(modules, size)
        ]

    # ---- tables -----------------------------------------------------------------------------

    def _not_value(self, slot_id: str, value: _Value) -> list[int]:
        """Literals of ``slot != value`` (an empty slot's negation: one of its modules)."""
        modules = self.catalog.slots[slot_id].modules
        if value is None:
            return [self.variables[f"{slot_id}.{module}"] for module in modules]
        if isinstance(value, frozenset):
            return [
                self.variables[f"{slot_id}.{module}"] * (-1 if module in value else 1)
                for module in modules
            ]
        return [-self.variables[f"{slot_id}.{value}"]]

    def _table_clauses(self, rule: TableRule) -> Iterator[Clause]:
        slots = rule.table.slots
        rows = rule.rows
        if not rule.allow:
            for row in rows:
                literals = [
                    literal
                    for slot_id, value in zip(slots, row, strict=True)
                    if value != "*"
                    for literal in self._not_value(slot_id, value)
                ]
                yield tuple(literals)
            return
        yield from self._trie(slots, list(rows), 0, [])

    def _trie(
        self, slots: tuple[str, ...], rows: list[tuple[_Value, ...]], depth: int, path: list[int]
    ) -> Iterator[Clause]:
        """Clauses forbidding every combination outside ``rows`` (``"*"`` matches anything)."""
        while depth < len(slots) and all(row[depth] == "*" for row in rows):
            depth += 1
        if depth == len(slots):
            return
        slot = self.catalog.slots[slots[depth]]
        branches = {
            value: [row for row in rows if row[depth] == value or row[depth] == "*"]
            for value in self._values(slot)
        }
        dead = [value for value, matching in branches.items() if not matching]
        alive = [value for value, matching in branches.items() if matching]
        if dead and slot.single and None not in alive and len(alive) < len(dead):
            # "one of the alive modules" forbids every dead value (and the empty slot) at once
            yield (*path, *(self.variables[f"{slot.id}.{value}"] for value in alive))
        else:
            for value in dead:
                yield (*path, *self._not_value(slot.id, value))
        for value in alive:
            literals = self._not_value(slot.id, value)
            yield from self._trie(slots, branches[value], depth + 1, [*path, *literals])

    # ---- formulas -----------------------------------------------------------------------------

    def lower(self, expr: Expr) -> Node:
        """An expression as a Boolean formula over module variables."""
        match expr:
            case Lit(value) if isinstance(value, bool):
                return Const(value)
            case Num(value):
                return Const(value != 0)
            case Ref(slot, name) if name in self.catalog.slots[slot].modules:
                return Var(self._module_var(slot, name))
            case Not(operand):
                return negate(self.lower(operand))
            case BoolOp("and", operands):
                return conjunction(self.lower(operand) for operand in operands)
            case BoolOp("or", operands):
                return disjunction(self.lower(operand) for operand in operands)
            case BoolOp(_, (condition, consequence)):
                return disjunction((negate(self.lower(condition)), self.lower(consequence)))
            case Compare(op, left, right):
                terms, constant = self._difference(left, right)
                return linear(op, terms, constant)
            case InList(item, options, attribute_list) if not attribute_list:
                return disjunction(self.lower(Compare("==", item, option)) for option in options)
            case Arith() | Neg() | Count():
                terms, constant = self._sum(expr)
                return linear("!=", terms, constant)
        raise Unsupported(f"'{_show(expr)}' reads attributes or text, which clauses cannot express")

    def _module_var(self, slot_id: str, module: str) -> int:
        slot = self.catalog.slots[slot_id]
        if slot.modules[module].max_quantity > 1:
            raise Unsupported(
                f"'{slot_id}.{module}' can be taken more than once, which Boolean variables "
                "cannot express"
            )
        return self.variables[f"{slot_id}.{module}"]

    def _difference(self, left: Expr, right: Expr) -> tuple[dict[int, Decimal], Decimal]:
        left_terms, left_constant = self._sum(left)
        right_terms, right_constant = self._sum(right)
        for var, coef in right_terms.items():
            left_terms[var] = left_terms.get(var, Decimal(0)) - coef
        return left_terms, left_constant - right_constant

    def _sum(self, expr: Expr) -> tuple[dict[int, Decimal], Decimal]:
        """A numeric expression as ``{variable: coefficient}`` plus a constant."""
        match expr:
            case Num(value):
                return {}, value
            case Lit(value) if isinstance(value, bool):
                return {}, Decimal(int(value))
            case Ref(slot, name) if name in self.catalog.slots[slot].modules:
                return {self._module_var(slot, name): Decimal(1)}, Decimal(0)
            case Count(slot):
                modules = self.catalog.slots[slot].modules
                return {self._module_var(slot, module): Decimal(1) for module in modules}, Decimal(
                    0
                )
            case Neg(operand):
                terms, constant = self._sum(operand)
                return {var: -coef for var, coef in terms.items()}, -constant
            case Arith("+" | "-", left, right):
                terms, constant = self._sum(right)
                sign = 1 if expr.op == "+" else -1
                left_terms, left_constant = self._sum(left)
                for var, coef in terms.items():
                    left_terms[var] = left_terms.get(var, Decimal(0)) + sign * coef
                return left_terms, left_constant + sign * constant
            case Arith("*", left, right):
                (a_terms, a_constant), (b_terms, b_constant) = self._sum(left), self._sum(right)
                if a_terms and b_terms:
                    raise Unsupported(f"'{_show(expr)}' multiplies two references")
                factor, (terms, constant) = (
                    (a_constant, (b_terms, b_constant))
                    if not a_terms
                    else (b_constant, (a_terms, a_constant))
                )
                return {var: coef * factor for var, coef in terms.items()}, constant * factor
        raise Unsupported(f"'{_show(expr)}' reads attributes or text, which clauses cannot express")


def _written_clause(node: Node) -> list[Clause] | None:
    """A formula that is already one clause (``not a or b``, a requires or excludes rule), with
    its literals in the order written; None for any other formula."""
    if isinstance(node, Var):
        return [(node.index if node.positive else -node.index,)]
    if not isinstance(node, Or) or not all(isinstance(part, Var) for part in node.operands):
        return None
    literals = dict.fromkeys(
        part.index if part.positive else -part.index
        for part in node.operands
        if isinstance(part, Var)
    )
    if any(-literal in literals for literal in literals):
        return []  # always true
    return [tuple(literals)]


def _show(expr: Expr) -> str:
    match expr:
        case Ref(slot, name):
            return f"{slot}.{name}"
        case Num(value):
            return str(value)
        case Lit(value):
            return repr(value)
        case Arith(op, left, right):
            return f"{_show(left)} {op} {_show(right)}"
        case Compare(op, left, right):
            return f"{_show(left)} {op} {_show(right)}"
        case Total(attribute):
            return f"total({attribute})"
        case Count(slot):
            return f"count({slot})"
    return type(expr).__name__.lower()


def _choices(slots: dict[str, None], combination: tuple[_Value, ...]) -> dict[str, Choice]:
    """A partial configuration for the evaluator: subsets become quantities of 1."""
    return {
        slot_id: Quantities(dict.fromkeys(value, 1)) if isinstance(value, frozenset) else value
        for slot_id, value in zip(slots, combination, strict=True)
    }
