"""Parsing the expression language of :mod:`._expr` into its frozen dataclass nodes.

The grammar (documented in :mod:`._expr`) is lark LALR; the transformer runs inside the parser,
so no parse tree is built and nothing recurses, and long formulas parse in linear time. Results
are cached by text (expressions are immutable).

Invariants: :func:`parse` returns an :data:`~._expr.Expr` or raises
:class:`ExpressionSyntaxError` (with a 1-based column where known), never anything from lark.
Texts longer than :data:`MAX_EXPRESSION_LENGTH`, with more than :data:`MAX_EXPRESSION_NODES`
nodes or nested deeper than :data:`MAX_EXPRESSION_DEPTH`, raise :class:`ExpressionTooLarge`
before anything recurses over them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from .._grammars import cached_lark
from ._base import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS
from ._expr import Arith, BoolOp, Compare, Count, Expr, InList, Lit, Neg, Not, Num, Ref, Total

__all__ = [
    "MAX_EXPRESSION_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "MAX_EXPRESSION_NODES",
    "ExpressionSyntaxError",
    "ExpressionTooLarge",
    "parse",
]

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
    return cached_lark("expressions", _GRAMMAR, maybe_placeholders=True, transformer=_ToAst())


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
