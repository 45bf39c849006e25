"""Field types that rules, price rules, purposes and needs share: module references,
expressions and weighted preferences, each checked when it is read.

A reference must be written ``slot.module`` and an expression must parse; whether the slot,
module or attribute exists is checked later, against the whole catalog (``_validate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from ._base import parse_ref
from ._expr import Expr
from ._expr_parse import ExpressionSyntaxError, parse

__all__ = [
    "MAX_PREFERENCE_WEIGHT",
    "Expressions",
    "ModuleRefs",
    "Preferences",
    "check_ref",
    "parse_expression",
]


def parse_expression(text: str) -> Expr:
    """Parse an expression for a pydantic validator (syntax errors become ValueError)."""
    try:
        return parse(text)
    except ExpressionSyntaxError as exc:
        raise ValueError(str(exc)) from None


def check_ref(value: str) -> str:
    """``value`` when it is written ``slot.module`` (else ValueError), for validators."""
    parse_ref(value)
    return value


def _check_refs(value: tuple[str, ...]) -> tuple[str, ...]:
    for ref in value:
        parse_ref(ref)
    return value


def _check_expressions(value: Iterable[str]) -> Any:
    for text in value:
        parse_expression(text)
    return value


def _one_or_many(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


#: Module references ("slot.module"); a single string stands for a one-element list.
ModuleRefs = Annotated[tuple[str, ...], BeforeValidator(_one_or_many), AfterValidator(_check_refs)]
#: Expressions of the expression language, each checked to parse.
Expressions = Annotated[tuple[str, ...], AfterValidator(_check_expressions)]
#: Weighted wishes: a module reference or condition -> an integer weight.
#: Preference weights are summed in 64-bit integers by the engine: each is bounded so that
#: any sum of a catalog's and a customer's weights stays exact.
MAX_PREFERENCE_WEIGHT = 10**9
Preferences = Annotated[
    dict[str, Annotated[int, Field(ge=-MAX_PREFERENCE_WEIGHT, le=MAX_PREFERENCE_WEIGHT)]],
    AfterValidator(_check_expressions),
]
