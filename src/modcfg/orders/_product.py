"""An order as one catalog: a copy of the catalog per line, plus the order's rules.

The order's lines are few (a house has a dozen windows in a few kinds), so an order is
configured as the product of one copy of the catalog per line: slot ``frame`` of line
``kitchen`` becomes slot ``kitchen__frame``, every rule is copied per line, module prices and
part quantities are multiplied by the line's quantity (so the product's unit price is the
order's goods subtotal), and the order-level pricing is rewritten for the order's total units
(the quantity tier in force, per-unit services charged once for all units). Cross-line rules
become ordinary rules of the product. Counting, best-k, budgets, promise dates and sessions
with no dead ends then come from the engines unchanged.

Invariants: the product's valid configurations are exactly the tuples of line configurations
that keep every catalog rule on each line and every order rule; its quote total for one of
them (with quantity 1) is the order's total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from .._errors import NeedsError
from ..model import (
    Arith,
    BoolOp,
    Catalog,
    Compare,
    ConstraintRule,
    Count,
    Expr,
    InList,
    Lit,
    Neg,
    Not,
    Num,
    Ref,
    Total,
    catalog_from_data,
    catalog_to_data,
    parse,
)

__all__ = ["SEPARATOR", "line_slot", "product_catalog", "spread", "to_text"]

SEPARATOR = "__"
#: Slots the product adds for the order's own rules start with this (line names cannot).
AUXILIARY = "_"


def line_slot(line: str, slot: str) -> str:
    """The product's slot of ``slot`` on ``line``."""
    return f"{line}{SEPARATOR}{slot}"


def _weighted(node: Expr, weight: int) -> Expr:
    return node if weight == 1 else Arith("*", Num(Decimal(weight)), node)


def _sum(terms: Sequence[Expr]) -> Expr:
    if not terms:
        return Num(Decimal(0))
    total = terms[0]
    for term in terms[1:]:
        total = Arith("+", total, term)
    return total


def _is_text(catalog: Catalog, slot: str, name: str) -> bool:
    return any(
        isinstance(module.attributes.get(name), str | tuple)
        for module in catalog.slots[slot].modules.values()
    )


def spread(expr: Expr, catalog: Catalog, weights: Mapping[str, int], owner: str) -> Expr:
    """``expr`` over the lines of ``weights`` (line -> quantity): a module or numeric
    attribute of a slot is the weighted sum over the lines; ``total`` and ``count`` likewise.
    With one line of weight 1 this is a plain renaming (text attributes allowed)."""

    def go(node: Expr) -> Expr:
        match node:
            case Ref(slot, name):
                if len(weights) == 1 and _is_text(catalog, slot, name):
                    return Ref(line_slot(next(iter(weights)), slot), name)
                if _is_text(catalog, slot, name):
                    raise NeedsError(
                        f"{owner}: '{slot}.{name}' is text; a rule over the whole order sums "
                        "over its lines, so it reads modules and numbers only (use 'same: "
                        f"{slot}' for the same choice on every line)"
                    )
                return _sum(
                    [_weighted(Ref(line_slot(line, slot), name), q) for line, q in weights.items()]
                )
            case Total(attribute):
                slots = [
                    slot.id
                    for slot in catalog.slots.values()
                    if any(
                        isinstance(m.attributes.get(attribute), Decimal)
                        for m in slot.modules.values()
                    )
                ]
                return _sum(
                    [
                        _weighted(Ref(line_slot(line, slot), attribute), q)
                        for line, q in weights.items()
                        for slot in slots
                    ]
                )
            case Count(slot):
                return _sum(
                    [_weighted(Count(line_slot(line, slot)), q) for line, q in weights.items()]
                )
            case Not(operand):
                return Not(go(operand))
            case Neg(operand):
                return Neg(go(operand))
            case BoolOp(op, operands):
                return BoolOp(op, tuple(go(operand) for operand in operands))
            case Compare(op, left, right):
                return Compare(op, go(left), go(right))
            case InList(item, options, attribute_list):
                return InList(go(item), tuple(go(option) for option in options), attribute_list)
            case Arith(op, left, right):
                return Arith(op, go(left), go(right))
        return node

    return go(expr)


def to_text(expr: Expr) -> str:
    """An expression as text that :func:`~modcfg.model.parse` reads back to the same meaning."""
    match expr:
        case Num(value):
            return f"{value:f}"
        case Lit(value):
            if isinstance(value, bool):
                return "true" if value else "false"
            return '"' + value + '"'
        case Ref(slot, name):
            return f"{slot}.{name}"
        case Total(attribute):
            return f"total({attribute})"
        case Count(slot):
            return f"count({slot})"
        case Not(operand):
            return f"(not {to_text(operand)})"
        case Neg(operand):
            return f"(0 - {to_text(operand)})"
        case BoolOp(op, operands):
            joint = " -> " if op == "implies" else f" {op} "
            return "(" + joint.join(to_text(operand) for operand in operands) + ")"
        case Compare(op, left, right) | Arith(op, left, right):
            return f"({to_text(left)} {op} {to_text(right)})"
        case InList(item, options, attribute_list):
            if attribute_list:
                return f"({to_text(item)} in {to_text(options[0])})"
            return f"({to_text(item)} in ({', '.join(to_text(o) for o in options)}))"
    raise TypeError(f"not an expression: {expr!r}")  # pragma: no cover


def _ref(line: str, ref: str) -> str:
    slot, _, module = ref.partition(".")
    return f"{line_slot(line, slot)}.{module}"


def _line_rule(catalog: Catalog, line: str, rule: dict[str, Any]) -> dict[str, Any]:
    copy = dict(rule)
    copy["id"] = f"{line}{SEPARATOR}{rule['id']}"
    if "message" in rule:
        copy["message"] = f"{line}: {rule['message']}"
    if "table" in rule:
        copy["table"] = {
            **rule["table"],
            "slots": [line_slot(line, s) for s in rule["table"]["slots"]],
        }
    if "requires" in rule:
        copy["requires"] = {
            key: [_ref(line, r) for r in refs] for key, refs in rule["requires"].items()
        }
    for key in ("excludes", "at_most_one_of", "bundle"):
        if key in rule:
            copy[key] = [_ref(line, r) for r in rule[key]]
    for key in ("constraint", "when"):
        if key in rule:
            copy[key] = to_text(
                spread(parse(rule[key]), catalog, {line: 1}, f"rule '{rule['id']}'")
            )
    return copy


def _line_clause(line: str, rule: ConstraintRule) -> ConstraintRule:
    """A line's copy of a clause rule (a feature model's, read off its literals): the clause of
    the line's slots, made without writing its expression as text and parsing it back (a
    product of three lines of a model of 6,867 clauses parsed 41,000 texts twice, in 25 s)."""
    literals = rule.literals
    assert literals is not None  # (a clause rule)
    return ConstraintRule.clause(
        f"{line}{SEPARATOR}{rule.id}",
        [(line_slot(line, slot), module, chosen) for slot, module, chosen in literals],
        message=f"{line}: {rule.message}" if rule.message else "",
    )


def product_catalog(
    catalog: Catalog,
    lines: Sequence[tuple[str, int]],
    order_rules: Sequence[dict[str, Any]],
    order_slots: Mapping[str, Any],
) -> Catalog:
    """The catalog of an order of ``lines`` (name, quantity), with the order's rules and the
    slots they add (file data over the product's slots, see ``_order.py``)."""
    data = catalog_to_data(catalog)
    units = sum(quantity for _, quantity in lines)
    slots: dict[str, Any] = {}
    for line, quantity in lines:
        for slot_id, slot in data["slots"].items():
            copy = dict(slot)
            modules = {}
            for module_id, module in slot["modules"].items():
                price = catalog.slots[slot_id].modules[module_id].price * quantity
                parts = {
                    part: per_unit * quantity for part, per_unit in module.get("parts", {}).items()
                }
                modules[module_id] = {
                    **module,
                    "price": str(price),
                    **({"parts": parts} if parts else {}),
                }
            copy["modules"] = modules
            slots[line_slot(line, slot_id)] = copy
    ladders = [rule.id for rule in catalog.prices if rule.kind == "ladder"]
    if ladders:
        raise NeedsError(
            f"catalog {catalog.name!r} prices by degree of customization (price rule "
            f"{ladders[0]!r}, a ladder), which whole orders do not support yet: quote each "
            "configuration on its own with Configurator.price, or order from a catalog without "
            "ladder rules"
        )
    rules: list[Any] = [
        _line_clause(line, rule)
        if isinstance(rule, ConstraintRule) and rule.literals is not None
        else _line_rule(catalog, line, dumped)
        for line, _ in lines
        for rule, dumped in zip(catalog.rules, data.get("rules", []), strict=True)
    ]
    prices: list[dict[str, Any]] = []
    for rule in data.get("prices", []):
        if "tiers" in rule:
            tier = {r.id: r for r in catalog.prices}[rule["id"]].tier_percent(units)
            if tier is not None:
                prices.append(
                    {
                        **{k: v for k, v in rule.items() if k != "tiers"},
                        "tiers": [{"min_quantity": 1, "percent": str(tier.percent)}],
                    }
                )
        elif "amount" in rule:
            for line, quantity in lines:
                copy = _line_rule(catalog, line, rule)
                copy["amount"] = str(Decimal(rule["amount"]) * quantity)
                prices.append(copy)
        else:
            prices.append(rule)
    services = {}
    for service_id, service in data.get("services", {}).items():
        if service.get("per") == "unit":
            service = {
                **service,
                "per": "order",
                "price": str(Decimal(service.get("price", "0")) * units),
            }
        services[service_id] = service
    for key in ("purposes", "expected_count"):
        data.pop(key, None)
    standard = data.pop("standard", None)
    if standard is not None:  # each line's standard is the catalog's
        data["standard"] = {
            line_slot(line, slot): choice for line, _ in lines for slot, choice in standard.items()
        }
    slots.update(order_slots)
    data.update(slots=slots, rules=rules + list(order_rules), prices=prices, services=services)
    return catalog_from_data(data)
