"""The small, safe expression language of attribute constraints, conditions and preferences.

Expressions are parsed with a lark LALR grammar (never ``eval``) into frozen dataclasses.

Grammar, loosest binding first::

    a -> b            implication (also: a implies b)
    a or b, a | b     disjunction
    a and b, a & b    conjunction
    not a, !a         negation
    x == y  x != y  x < y  x <= y  x > y  x >= y
    x in ("a", "b")   membership in a list of values
    "EU" in frame.regions   membership in a list attribute
    x + y, x - y, 2 * x     linear arithmetic (multiplication needs a constant side)
    slot.module       quantity of that module in the slot (0 or 1 for single-choice slots);
                      as a condition: the module is chosen
    slot.attribute    numeric: sum of the attribute over the slot's chosen modules (x quantity);
                      text/list: the chosen module's value (none when the slot is empty)
    total(attr)       sum of a numeric attribute over every slot
    count(slot)       number of units chosen in a slot
    12, 0.8, "wood", true, false

Ids may contain hyphens, so write spaces around a minus sign: ``a.x - 2``.

This module holds the nodes, their traversal and the evaluator; parsing (the grammar, the size
limits and the syntax errors) is in :mod:`._expr_parse`, which builds these nodes.

>>> from ._expr_parse import parse
>>> parse('glass.thickness_mm >= 6 and not frame.pvc')
BoolOp(op='and', operands=(Compare(op='>=', left=Ref(slot='glass', name='thickness_mm'), \
right=Num(value=Decimal('6'))), Not(operand=Ref(slot='frame', name='pvc'))))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

__all__ = [
    "Arith",
    "BoolOp",
    "Compare",
    "Count",
    "Env",
    "Expr",
    "InList",
    "Lit",
    "Neg",
    "Not",
    "Num",
    "Ref",
    "Total",
    "Value",
    "children",
    "compare",
    "evaluate",
    "number",
    "refs",
    "same",
    "truthy",
    "walk",
]

Value = Decimal | bool | str | tuple[str, ...] | None


@dataclass(frozen=True)
class Num:
    value: Decimal


@dataclass(frozen=True)
class Lit:
    value: str | bool


@dataclass(frozen=True)
class Ref:
    slot: str
    name: str

    def __str__(self) -> str:
        return f"{self.slot}.{self.name}"


@dataclass(frozen=True)
class Total:
    attribute: str


@dataclass(frozen=True)
class Count:
    slot: str


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class BoolOp:
    op: Literal["and", "or", "implies"]
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Compare:
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr


@dataclass(frozen=True)
class InList:
    item: Expr
    options: tuple[Expr, ...]
    attribute_list: bool = False


@dataclass(frozen=True)
class Arith:
    op: Literal["+", "-", "*"]
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg:
    operand: Expr


Expr = Num | Lit | Ref | Total | Count | Not | BoolOp | Compare | InList | Arith | Neg
_NODES = (Num, Lit, Ref, Total, Count, Not, BoolOp, Compare, InList, Arith, Neg)


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``."""
    match expr:
        case Not(operand) | Neg(operand):
            return (operand,)
        case BoolOp(_, operands):
            return operands
        case Compare(_, left, right) | Arith(_, left, right):
            return (left, right)
        case InList(item, options, _):
            return (item, *options)
    return ()


def walk(expr: Expr) -> Iterator[Expr]:
    """Yield ``expr`` and every sub-expression, depth first (parents before children, children
    in order)."""
    stack = [expr]  # (a stack, not nested generators: one step per node, at any depth)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def refs(expr: Expr) -> Iterator[Ref | Total | Count]:
    """Yield the references (``slot.name``, ``total(..)``, ``count(..)``) of an expression."""
    for node in walk(expr):
        if isinstance(node, Ref | Total | Count):
            yield node


class Env(Protocol):
    """What an expression reads from a (partial or full) configuration."""

    def ref(self, slot: str, name: str) -> Value:
        """Module quantity (as Decimal) or attribute value of the slot's choice."""

    def total(self, attribute: str) -> Decimal:
        """Sum of a numeric attribute over every chosen module (x quantity)."""

    def count(self, slot: str) -> Decimal:
        """Number of units chosen in the slot."""


def truthy(value: Value) -> bool:
    """A value read as a condition: non-zero numbers, true, non-empty text and lists."""
    if isinstance(value, Decimal):
        return value != 0
    return bool(value)


def number(value: Value) -> Decimal:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        return value
    return Decimal(0)


def compare(op: str, left: Value, right: Value) -> bool:
    if op == "==":
        return same(left, right)
    if op == "!=":
        return not same(left, right)
    if (
        left is None
        or right is None
        or isinstance(left, str | tuple) != isinstance(right, str | tuple)
    ):
        return False
    if isinstance(left, str | tuple) and isinstance(right, str | tuple):
        return False
    a, b = number(left), number(right)
    match op:
        case "<":
            return a < b
        case "<=":
            return a <= b
        case ">":
            return a > b
        case _:
            return a >= b


def same(left: Value, right: Value) -> bool:
    if isinstance(left, Decimal | bool) and isinstance(right, Decimal | bool):
        return number(left) == number(right)
    return left == right


def evaluate(expr: Expr, env: Env) -> Value:
    """Evaluate an expression against a configuration view.

    Numbers are ``Decimal``; comparisons with a missing value (an empty slot's text attribute)
    are false, except ``!=``.
    """
    match expr:
        case Num(value):
            return value
        case Lit(value):
            return value
        case Ref(slot, name):
            return env.ref(slot, name)
        case Total(attribute):
            return env.total(attribute)
        case Count(slot):
            return env.count(slot)
        case Not(operand):
            return not truthy(evaluate(operand, env))
        case Neg(operand):
            return -number(evaluate(operand, env))
        case BoolOp("and", operands):
            return all(truthy(evaluate(operand, env)) for operand in operands)
        case BoolOp("or", operands):
            return any(truthy(evaluate(operand, env)) for operand in operands)
        case BoolOp(_, (condition, consequence)):
            return not truthy(evaluate(condition, env)) or truthy(evaluate(consequence, env))
        case Compare(op, left, right):
            return compare(op, evaluate(left, env), evaluate(right, env))
        case InList(item, options, attribute_list):
            found = evaluate(item, env)
            if attribute_list:
                container = evaluate(options[0], env)
                return isinstance(container, tuple) and found in container
            return any(same(found, evaluate(option, env)) for option in options)
        case Arith(op, left, right):
            a, b = number(evaluate(left, env)), number(evaluate(right, env))
            return a + b if op == "+" else a - b if op == "-" else a * b
    raise TypeError(f"not an expression: {expr!r}")  # pragma: no cover
