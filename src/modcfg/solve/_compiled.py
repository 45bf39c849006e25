"""Expressions compiled into closures over value-index tuples, for fast tabulation.

Each reference reads a table precomputed per value of its slot with the model's own
:class:`~modcfg.model.ConfigurationView`, so compiled expressions mean exactly what
:func:`~modcfg.model.evaluate` means; only the per-combination work is cheaper.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from ..model import Catalog, ConfigurationView, Expr
from ..model._expr import (
    Arith,
    BoolOp,
    Compare,
    Count,
    InList,
    Lit,
    Neg,
    Not,
    Num,
    Ref,
    Total,
    Value,
    compare,
    number,
    same,
    truthy,
)

if TYPE_CHECKING:
    from ._problem import SlotDomain

__all__ = ["compile_expression"]

Compiled = Callable[[tuple[int, ...]], Value]


def compile_expression(
    expr: Expr, catalog: Catalog, domains: Sequence[SlotDomain], scope: Sequence[int]
) -> Compiled:
    """A function of the value indexes of ``scope`` (in order) that evaluates ``expr``."""
    position = {domains[var].slot: i for i, var in enumerate(scope)}

    def per_value(slot: str, read: Callable[[ConfigurationView], Value]) -> list[Value]:
        domain = next(d for d in domains if d.slot == slot)
        return [read(ConfigurationView(catalog, {slot: choice})) for choice in domain.choices]

    def build(node: Expr) -> Compiled:
        match node:
            case Num(value) | Lit(value):
                constant: Value = value
                return lambda _t: constant
            case Ref(slot, name):
                table = per_value(slot, lambda view: view.ref(slot, name))
                at = position[slot]
                return lambda t: table[t[at]]
            case Count(slot):
                table = per_value(slot, lambda view: view.count(slot))
                at = position[slot]
                return lambda t: table[t[at]]
            case Total(attribute):
                parts = [
                    (position[slot], per_value(slot, lambda view: view.total(attribute)))
                    for slot in position
                ]
                return lambda t: sum((number(table[t[at]]) for at, table in parts), Decimal(0))
            case Not(operand):
                inner = build(operand)
                return lambda t: not truthy(inner(t))
            case Neg(operand):
                inner = build(operand)
                return lambda t: -number(inner(t))
            case BoolOp("and", operands):
                parts_and = [build(operand) for operand in operands]
                return lambda t: all(truthy(part(t)) for part in parts_and)
            case BoolOp("or", operands):
                parts_or = [build(operand) for operand in operands]
                return lambda t: any(truthy(part(t)) for part in parts_or)
            case BoolOp(_, (condition, consequence)):
                premise, conclusion = build(condition), build(consequence)
                return lambda t: not truthy(premise(t)) or truthy(conclusion(t))
            case Compare(op, left, right):
                a, b = build(left), build(right)
                return lambda t: compare(op, a(t), b(t))
            case InList(item, options, attribute_list):
                subject = build(item)
                candidates = [build(option) for option in options]
                if attribute_list:
                    container = candidates[0]

                    def member(t: tuple[int, ...]) -> Value:
                        found = container(t)
                        return isinstance(found, tuple) and subject(t) in found

                    return member
                return lambda t: any(same(subject(t), option(t)) for option in candidates)
            case Arith(op, left, right):
                a, b = build(left), build(right)
                if op == "+":
                    return lambda t: number(a(t)) + number(b(t))
                if op == "-":
                    return lambda t: number(a(t)) - number(b(t))
                return lambda t: number(a(t)) * number(b(t))
        raise TypeError(f"not an expression: {node!r}")  # pragma: no cover

    return build(expr)
