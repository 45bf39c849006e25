"""The lark grammar of expressions and the transformer that builds their nodes as it parses.

Imported by :func:`._expr_parse.parse` on the first expression it parses, so that a process
that reads catalogs without expressions (a DIMACS model's clauses are rules of literals) never
loads lark. :func:`parse_parts` turns lark's errors into
:class:`~._expr_parse.ExpressionSyntaxError` with a 1-based column where known.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Literal

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from .._grammars import cached_lark
from ._base import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS
from ._expr import Arith, BoolOp, Compare, Count, InList, Lit, Neg, Not, Num, Ref, Total
from ._expr_parse import ExpressionSyntaxError, ExpressionTooLarge, _check, _node, _Part, shown

__all__ = ["parse_parts"]

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


def parse_parts(text: str) -> object:
    """The parsed ``text`` (a part whose expression is closed by the caller)."""
    try:
        return _parser().parse(text)
    except UnexpectedEOF:
        raise ExpressionSyntaxError(
            f"expression {shown(text)} ends too early; is an operand or ')' missing?", len(text)
        ) from None
    except UnexpectedCharacters as exc:
        raise ExpressionSyntaxError(
            f"expression {shown(text)} has an unexpected character at column {exc.column}: "
            f"{text[exc.column - 1 : exc.column + 9]!r}",
            exc.column,
        ) from None
    except UnexpectedInput as exc:
        column = getattr(exc, "column", None)
        token = getattr(exc, "token", "")
        if getattr(token, "type", None) == "$END":
            raise ExpressionSyntaxError(
                f"expression {shown(text)} ends too early; is an operand or ')' missing?",
                len(text),
            ) from None
        raise ExpressionSyntaxError(
            f"expression {shown(text)} does not parse at column {column}: "
            f"unexpected {str(token)[:40]!r}",
            column if isinstance(column, int) and column > 0 else None,
        ) from None
    except LarkError as exc:  # pragma: no cover - lark's other errors carry no position
        raise ExpressionSyntaxError(
            f"expression {shown(text)} does not parse: {exc}", None
        ) from None
