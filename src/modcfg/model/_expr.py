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

>>> parse('glass.thickness_mm >= 6 and not frame.pvc')
BoolOp(op='and', operands=(Compare(op='>=', left=Ref(slot='glass', name='thickness_mm'), \
right=Num(value=Decimal('6'))), Not(operand=Ref(slot='frame', name='pvc'))))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal, Protocol

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

__all__ = [
    "Arith",
    "BoolOp",
    "Compare",
    "Count",
    "Env",
    "Expr",
    "ExpressionSyntaxError",
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
    "parse",
    "refs",
    "same",
    "truthy",
    "walk",
]

Value = Decimal | bool | str | tuple[str, ...] | None

_GRAMMAR = r"""
?start: implication
?implication: disjunction
    | disjunction ("->" | "implies") implication -> implies
?disjunction: conjunction
    | disjunction ("or" | "|") conjunction -> or_
?conjunction: negation
    | conjunction ("and" | "&") negation -> and_
?negation: comparison
    | ("not" | "!") negation -> not_
?comparison: sum
    | sum COMPOP sum -> compare
    | sum "in" "(" [sum ("," sum)*] ")" -> in_list
    | sum "in" sum -> in_attr
?sum: product
    | sum PLUS product -> arith
    | sum MINUS product -> arith
?product: unary
    | product TIMES unary -> arith
?unary: atom
    | MINUS unary -> neg
?atom: NUMBER -> number
    | ESCAPED_STRING -> string
    | "true" -> true
    | "false" -> false
    | "total" "(" NAME ")" -> total
    | "count" "(" NAME ")" -> count
    | NAME "." NAME -> ref
    | "(" implication ")"

COMPOP: "==" | "!=" | "<=" | ">=" | "<" | ">"
PLUS: "+"
MINUS: "-"
TIMES: "*"
NAME: /[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*/
NUMBER: /\d+(\.\d+)?/
%import common.ESCAPED_STRING
%import common.WS
%ignore WS
"""


class ExpressionSyntaxError(ValueError):
    """An expression does not parse; ``column`` is 1-based."""

    def __init__(self, message: str, column: int | None) -> None:
        self.column = column
        super().__init__(message)


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


@v_args(inline=True)
class _ToAst(Transformer[Token, Expr]):
    def number(self, token: Token) -> Expr:
        return Num(Decimal(str(token)))

    def string(self, token: Token) -> Expr:
        return Lit(str(token)[1:-1].replace('\\"', '"'))

    def true(self) -> Expr:
        return Lit(value=True)

    def false(self) -> Expr:
        return Lit(value=False)

    def total(self, name: Token) -> Expr:
        return Total(str(name))

    def count(self, name: Token) -> Expr:
        return Count(str(name))

    def ref(self, slot: Token, name: Token) -> Expr:
        return Ref(str(slot), str(name))

    def implies(self, left: Expr, right: Expr) -> Expr:
        return BoolOp("implies", (left, right))

    def or_(self, left: Expr, right: Expr) -> Expr:
        if isinstance(left, BoolOp) and left.op == "or":
            return BoolOp("or", (*left.operands, right))
        return BoolOp("or", (left, right))

    def and_(self, left: Expr, right: Expr) -> Expr:
        if isinstance(left, BoolOp) and left.op == "and":
            return BoolOp("and", (*left.operands, right))
        return BoolOp("and", (left, right))

    def not_(self, operand: Expr) -> Expr:
        return Not(operand)

    def compare(self, left: Expr, op: Token, right: Expr) -> Expr:
        return Compare(str(op), left, right)  # type: ignore[arg-type]

    def in_list(self, item: Expr, *options: Expr | None) -> Expr:
        return InList(item, tuple(option for option in options if option is not None))

    def in_attr(self, item: Expr, container: Expr) -> Expr:
        return InList(item, (container,), attribute_list=True)

    def arith(self, left: Expr, op: Token, right: Expr) -> Expr:
        return Arith(str(op), left, right)  # type: ignore[arg-type]

    def neg(self, _minus: Token, operand: Expr) -> Expr:
        return Neg(operand)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The transformer runs inside the LALR parser: no tree is built and nothing recurses,
    # so long formulas (thousands of operands) parse in linear time.
    return Lark(_GRAMMAR, parser="lalr", maybe_placeholders=True, transformer=_ToAst())


@lru_cache(maxsize=4096)
def parse(text: str) -> Expr:
    """Parse an expression; raise :class:`ExpressionSyntaxError` saying where it fails."""
    try:
        tree = _parser().parse(text)
    except UnexpectedEOF:
        raise ExpressionSyntaxError(
            f"expression {text!r} ends too early; is an operand or ')' missing?", len(text)
        ) from None
    except UnexpectedCharacters as exc:
        raise ExpressionSyntaxError(
            f"expression {text!r} has an unexpected character at column {exc.column}: "
            f"{text[exc.column - 1 : exc.column + 9]!r}",
            exc.column,
        ) from None
    except UnexpectedInput as exc:
        column = getattr(exc, "column", None)
        token = getattr(exc, "token", "")
        if getattr(token, "type", None) == "$END":
            raise ExpressionSyntaxError(
                f"expression {text!r} ends too early; is an operand or ')' missing?", len(text)
            ) from None
        raise ExpressionSyntaxError(
            f"expression {text!r} does not parse at column {column}: unexpected {str(token)!r}",
            column if isinstance(column, int) and column > 0 else None,
        ) from None
    except LarkError as exc:  # pragma: no cover - lark's other errors carry no position
        raise ExpressionSyntaxError(f"expression {text!r} does not parse: {exc}", None) from None
    result = tree
    if isinstance(result, Token) or not isinstance(result, _NODES):  # pragma: no cover
        raise ExpressionSyntaxError(f"expression {text!r} is not an expression", None)
    return result


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
    """Yield ``expr`` and every sub-expression, depth first."""
    yield expr
    for child in children(expr):
        yield from walk(child)


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
