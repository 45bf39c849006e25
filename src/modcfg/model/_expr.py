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

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal, Protocol

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from ._base import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS

__all__ = [
    "Arith",
    "BoolOp",
    "Compare",
    "Count",
    "Env",
    "Expr",
    "ExpressionSyntaxError",
    "ExpressionTooLarge",
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
    | "(" implication ")" -> group

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


#: Limits that keep hostile or generated expressions cheap: longer texts, more nodes or deeper
#: nesting (operators and parentheses) fail with :class:`ExpressionTooLarge` before anything
#: recurses over the expression.
MAX_EXPRESSION_LENGTH = 1_000_000
MAX_EXPRESSION_NODES = 50_000
MAX_EXPRESSION_DEPTH = 200


_WORD = re.compile(r"[A-Za-z0-9_.\-]+")


class ExpressionTooLarge(ExpressionSyntaxError):
    """An expression exceeds a size limit (length, node count or nesting depth)."""


@dataclass(slots=True)
class _Part:
    """A parsed piece with its nesting depth and node count.

    An ``and``/``or`` chain stays open (``operands`` is a list that grows in place, and ``expr``
    is stale) until something else uses it, so a chain of n operands is built in O(n) rather
    than O(n**2).
    """

    expr: Expr
    depth: int
    size: int
    op: Literal["and", "or"] = "or"
    operands: list[Expr] | None = None

    def close(self) -> Expr:
        if self.operands is not None:
            self.expr = BoolOp(self.op, tuple(self.operands))
            self.operands = None
        return self.expr


def _node(expr: Expr, *parts: _Part) -> _Part:
    depth = 1 + max((part.depth for part in parts), default=0)
    size = 1 + sum(part.size for part in parts)
    _check(depth, size)
    return _Part(expr, depth, size)


def _check(depth: int, size: int) -> None:
    if depth > MAX_EXPRESSION_DEPTH:
        raise ExpressionTooLarge(
            f"expression is nested more than {MAX_EXPRESSION_DEPTH} levels deep (operators and "
            "parentheses); split it into several rules",
            None,
        )
    if size > MAX_EXPRESSION_NODES:
        raise ExpressionTooLarge(
            f"expression has more than {MAX_EXPRESSION_NODES} operands and operators; "
            "split it into several rules or use a table",
            None,
        )


@v_args(inline=True)
class _ToAst(Transformer[Token, _Part]):
    def number(self, token: Token) -> _Part:
        text = str(token)
        integer = len(text.split(".", 1)[0].lstrip("0"))
        fraction = len(text.split(".", 1)[1]) if "." in text else 0
        if integer > MAX_INTEGER_DIGITS or fraction > MAX_FRACTION_DIGITS:
            raise ExpressionTooLarge(
                f"the number {text[:20]}... has too many digits: at most {MAX_INTEGER_DIGITS} "
                f"before the point and {MAX_FRACTION_DIGITS} after",
                None,
            )
        return _node(Num(Decimal(text)))

    def string(self, token: Token) -> _Part:
        return _node(Lit(str(token)[1:-1].replace('\\"', '"')))

    def true(self) -> _Part:
        return _node(Lit(value=True))

    def false(self) -> _Part:
        return _node(Lit(value=False))

    def total(self, name: Token) -> _Part:
        return _node(Total(str(name)))

    def count(self, name: Token) -> _Part:
        return _node(Count(str(name)))

    def ref(self, slot: Token, name: Token) -> _Part:
        return _node(Ref(str(slot), str(name)))

    def group(self, inner: _Part) -> _Part:
        depth = inner.depth + 1
        _check(depth, inner.size)
        return _Part(inner.close(), depth, inner.size)

    def implies(self, left: _Part, right: _Part) -> _Part:
        return _node(BoolOp("implies", (left.close(), right.close())), left, right)

    def or_(self, left: _Part, right: _Part) -> _Part:
        return self._chain("or", left, right)

    def and_(self, left: _Part, right: _Part) -> _Part:
        return self._chain("and", left, right)

    @staticmethod
    def _chain(op: Literal["and", "or"], left: _Part, right: _Part) -> _Part:
        """Append to an open chain of the same operator, or start one (flattening nested ones)."""
        if left.operands is None or left.op != op:
            first = left.close()
            flat = isinstance(first, BoolOp) and first.op == op
            operands = list(first.operands) if isinstance(first, BoolOp) and flat else [first]
            depth = left.depth if flat else left.depth + 1
            left = _Part(first, depth, left.size + (0 if flat else 1), op, operands)
        operands = left.operands if left.operands is not None else []
        operands.append(right.close())
        left.depth = max(left.depth, right.depth + 1)
        left.size += right.size
        _check(left.depth, left.size)
        return left

    def not_(self, operand: _Part) -> _Part:
        return _node(Not(operand.close()), operand)

    def compare(self, left: _Part, op: Token, right: _Part) -> _Part:
        return _node(Compare(str(op), left.close(), right.close()), left, right)  # type: ignore[arg-type]

    def in_list(self, item: _Part, *options: _Part | None) -> _Part:
        given = [option for option in options if option is not None]
        return _node(InList(item.close(), tuple(option.close() for option in given)), item, *given)

    def in_attr(self, item: _Part, container: _Part) -> _Part:
        return _node(
            InList(item.close(), (container.close(),), attribute_list=True), item, container
        )

    def arith(self, left: _Part, op: Token, right: _Part) -> _Part:
        return _node(Arith(str(op), left.close(), right.close()), left, right)  # type: ignore[arg-type]

    def neg(self, _minus: Token, operand: _Part) -> _Part:
        return _node(Neg(operand.close()), operand)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The transformer runs inside the LALR parser: no tree is built and nothing recurses,
    # so long formulas (thousands of operands) parse in linear time.
    return Lark(_GRAMMAR, parser="lalr", maybe_placeholders=True, transformer=_ToAst())


@lru_cache(maxsize=4096)
def parse(text: str) -> Expr:
    """Parse an expression; raise :class:`ExpressionSyntaxError` saying where it fails.

    Expressions longer than :data:`MAX_EXPRESSION_LENGTH` characters, with more than
    :data:`MAX_EXPRESSION_NODES` nodes or nested deeper than :data:`MAX_EXPRESSION_DEPTH` raise
    :class:`ExpressionTooLarge`.
    """
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionTooLarge(
            f"expression is {len(text)} characters long, more than the {MAX_EXPRESSION_LENGTH} "
            "allowed; split it into several rules",
            None,
        )
    # a cheap bound before parsing: every operand is a word, and so is every other operator
    if len(_WORD.findall(text)) > 2 * MAX_EXPRESSION_NODES:
        _check(0, MAX_EXPRESSION_NODES + 1)
    try:
        result = _parser().parse(text)
    except UnexpectedEOF:
        raise ExpressionSyntaxError(
            f"expression {_shown(text)} ends too early; is an operand or ')' missing?", len(text)
        ) from None
    except UnexpectedCharacters as exc:
        raise ExpressionSyntaxError(
            f"expression {_shown(text)} has an unexpected character at column {exc.column}: "
            f"{text[exc.column - 1 : exc.column + 9]!r}",
            exc.column,
        ) from None
    except UnexpectedInput as exc:
        column = getattr(exc, "column", None)
        token = getattr(exc, "token", "")
        if getattr(token, "type", None) == "$END":
            raise ExpressionSyntaxError(
                f"expression {_shown(text)} ends too early; is an operand or ')' missing?",
                len(text),
            ) from None
        raise ExpressionSyntaxError(
            f"expression {_shown(text)} does not parse at column {column}: "
            f"unexpected {str(token)[:40]!r}",
            column if isinstance(column, int) and column > 0 else None,
        ) from None
    except LarkError as exc:  # pragma: no cover - lark's other errors carry no position
        raise ExpressionSyntaxError(
            f"expression {_shown(text)} does not parse: {exc}", None
        ) from None
    if not isinstance(result, _Part):  # pragma: no cover - every rule yields a part
        raise ExpressionSyntaxError(f"expression {_shown(text)} is not an expression", None)
    return result.close()


def _shown(text: str) -> str:
    """The expression quoted for a message, shortened when long."""
    return repr(text) if len(text) <= 200 else repr(f"{text[:120]} ... {text[-40:]}")


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
