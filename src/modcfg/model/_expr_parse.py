"""Parsing the expression language of :mod:`._expr` into its frozen dataclass nodes.

The grammar (documented in :mod:`._expr`) is lark LALR (:mod:`._expr_grammar`, imported with
the first expression parsed: catalogs without expressions never load lark); the transformer
runs inside the parser, so no parse tree is built and nothing recurses, and long formulas parse
in linear time. Results are cached by text (expressions are immutable). A disjunction of
(negated) references, the clause of a feature model that a catalog may hold thousands of, is
read by a regular expression into the same nodes, without the parser.

Invariants: :func:`parse` returns an :data:`~._expr.Expr` or raises
:class:`ExpressionSyntaxError` (with a 1-based column where known), never anything from lark.
Texts longer than :data:`MAX_EXPRESSION_LENGTH`, with more than :data:`MAX_EXPRESSION_NODES`
nodes or nested deeper than :data:`MAX_EXPRESSION_DEPTH`, raise :class:`ExpressionTooLarge`
before anything recurses over them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from ._expr import BoolOp, Expr, Not, Ref

__all__ = [
    "MAX_EXPRESSION_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "MAX_EXPRESSION_NODES",
    "ExpressionSyntaxError",
    "ExpressionTooLarge",
    "parse",
]


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
#: A disjunction of module references, each possibly negated (``a.x or not b.y``): what a
#: feature model's clauses are, thousands to a catalog, read without the parser (:func:`_clause`).
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*"
_LITERAL = re.compile(rf"(not\s+)?({_NAME})\.({_NAME})")
_OR = re.compile(r"\s+or\s+")
#: The grammar's words: a text naming one of them as a slot or attribute goes to the parser.
_KEYWORDS = frozenset({"not", "or", "and", "in", "implies", "true", "false", "total", "count"})


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
    found = _clause(text)
    if found is not None:
        return found
    from ._expr_grammar import parse_parts  # lark is imported with the first expression

    result = parse_parts(text)
    if not isinstance(result, _Part):  # pragma: no cover - every rule yields a part
        raise ExpressionSyntaxError(f"expression {shown(text)} is not an expression", None)
    return result.close()


def _clause(text: str) -> Expr | None:
    """``text`` as the parser reads it when it is a disjunction of (negated) references, read
    by a regular expression (a parse by the grammar took 0.4 ms per clause: 2.7 s of reading a
    catalog of 6,867 of them); None for any other text."""
    literals: list[Expr] = []
    for part in _OR.split(text.strip()):
        match = _LITERAL.fullmatch(part)
        if match is None:
            return None
        negated, slot, name = match.groups()
        if slot in _KEYWORDS or name in _KEYWORDS:
            return None
        ref = Ref(slot, name)
        literals.append(Not(ref) if negated else ref)
    if len(literals) == 1:
        return literals[0]
    size = 1 + len(literals) + sum(isinstance(literal, Not) for literal in literals)
    _check(3 if size > 1 + len(literals) else 2, size)
    return BoolOp("or", tuple(literals))


def shown(text: str) -> str:
    """The expression quoted for a message, shortened when long."""
    return repr(text) if len(text) <= 200 else repr(f"{text[:120]} ... {text[-40:]}")
