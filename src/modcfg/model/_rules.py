"""Compatibility rules: requires, excludes, table, and attribute constraints."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from ._base import FrozenModel, Id, parse_ref
from ._expr import BoolOp, Expr, ExpressionSyntaxError, parse

__all__ = [
    "ConstraintRule",
    "ExcludesRule",
    "Expressions",
    "ModuleRefs",
    "Preferences",
    "RequiresRule",
    "Rule",
    "TableRule",
    "parse_expression",
]

_RULE_KINDS = ("requires", "excludes", "table", "constraint", "formula")


def parse_expression(text: str) -> Expr:
    """Parse an expression for a pydantic validator (syntax errors become ValueError)."""
    try:
        return parse(text)
    except ExpressionSyntaxError as exc:
        raise ValueError(str(exc)) from None


def _check_ref(value: str) -> str:
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


class _RuleBase(FrozenModel):
    id: Id
    message: str = ""

    def describe(self) -> str:
        """The human message used in explanations (the rule id when none was given)."""
        return self.message or self.id

    def in_words(self) -> str:
        """The rule in words: its message, else what it says (``frame.oak requires
        glass.triple``)."""
        return self.message or self._says()

    def _says(self) -> str:
        return self.id


class _Requires(FrozenModel):
    if_: tuple[str, ...] = Field(alias="if", min_length=1)
    then: tuple[str, ...] = Field(min_length=1)

    @field_validator("if_", "then", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("if_", "then")
    @classmethod
    def _refs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for ref in value:
            _check_ref(ref)
        return value


class RequiresRule(_RuleBase):
    """If every module of ``if`` is chosen, at least one module of ``then`` must be.

    ``requires: {if: frame.oak, then: [glass.triple, glass.laminated]}``
    """

    kind: Literal["requires"] = "requires"
    requires: _Requires

    @property
    def refs(self) -> tuple[str, ...]:
        return (*self.requires.if_, *self.requires.then)

    def _says(self) -> str:
        premises = " and ".join(self.requires.if_)
        return f"{premises} requires {' or '.join(self.requires.then)}"


class ExcludesRule(_RuleBase):
    """The listed modules are never all chosen together: ``excludes: [frame.pvc, glass.triple]``."""

    kind: Literal["excludes"] = "excludes"
    excludes: tuple[str, ...] = Field(min_length=2)

    @field_validator("excludes")
    @classmethod
    def _refs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for ref in value:
            _check_ref(ref)
        if len(set(value)) != len(value):
            raise ValueError(
                f"lists a module twice ({', '.join(value)}); an exclusion needs distinct modules"
            )
        return value

    @property
    def refs(self) -> tuple[str, ...]:
        return self.excludes

    def _says(self) -> str:
        return f"{', '.join(self.excludes)} are never chosen together"


class _Table(FrozenModel):
    slots: tuple[str, ...] = Field(min_length=1)
    allow: tuple[tuple[str | None, ...], ...] | None = None
    deny: tuple[tuple[str | None, ...], ...] | None = None

    @model_validator(mode="after")
    def _shape(self) -> _Table:
        if (self.allow is None) == (self.deny is None):
            raise ValueError("a table has either 'allow' rows or 'deny' rows (exactly one)")
        if len(set(self.slots)) != len(self.slots):
            raise ValueError(f"a table names each slot once, got {list(self.slots)}")
        rows = self.allow if self.allow is not None else (self.deny or ())
        for number, row in enumerate(rows, start=1):
            if len(row) != len(self.slots):
                raise ValueError(
                    f"row {number} {list(row)} has {len(row)} values but the table has "
                    f"{len(self.slots)} slots {list(self.slots)}; give one value per slot "
                    "('*' for any, null for an empty optional slot)"
                )
        return self


class TableRule(_RuleBase):
    """Allowed (or forbidden) combinations over several slots, like an SAP variant table.

    Row values are module ids, ``"*"`` (any) or ``null`` (an empty optional slot).
    """

    kind: Literal["table"] = "table"
    table: _Table

    @property
    def rows(self) -> tuple[tuple[str | None, ...], ...]:
        rows = self.table.allow if self.table.allow is not None else self.table.deny
        return rows or ()

    @property
    def allow(self) -> bool:
        return self.table.allow is not None

    def _says(self) -> str:
        kind = "allowed" if self.allow else "forbidden"
        return f"a table of {len(self.rows)} {kind} combinations of {', '.join(self.table.slots)}"


class ConstraintRule(_RuleBase):
    """An expression over modules and attributes that must hold, optionally only ``when`` another
    holds: ``constraint: "glass.thickness_mm >= 6"`` with ``when: "grade.g3"``.

    ``formula:`` is a synonym of ``constraint:`` for propositional rules over module references.
    """

    kind: Literal["constraint"] = "constraint"
    constraint: str = Field(validation_alias=AliasChoices("constraint", "formula"))
    when: str | None = None

    @field_validator("constraint", "when")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_expression(value)
        return value

    @property
    def expression(self) -> Expr:
        """The rule as one expression (``when -> constraint``)."""
        body = parse(self.constraint)
        if self.when is None:
            return body
        return BoolOp("implies", (parse(self.when), body))

    def _says(self) -> str:
        text = self.constraint
        return f"{text} when {self.when}" if self.when is not None else text


def _rule_kind(data: Any) -> str | None:
    if isinstance(data, dict):
        found = [kind for kind in _RULE_KINDS if kind in data]
        if len(found) == 1:
            return "constraint" if found[0] == "formula" else found[0]
        return None
    return getattr(data, "kind", None)


Rule = Annotated[
    Annotated[RequiresRule, Tag("requires")]
    | Annotated[ExcludesRule, Tag("excludes")]
    | Annotated[TableRule, Tag("table")]
    | Annotated[ConstraintRule, Tag("constraint")],
    Discriminator(
        _rule_kind,
        custom_error_type="rule_kind",
        custom_error_message=(
            "a rule needs exactly one of 'requires', 'excludes', 'table', 'constraint' "
            "(or 'formula')"
        ),
    ),
]
