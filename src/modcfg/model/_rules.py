"""Compatibility rules: requires, excludes, attribute constraints and at-most-one-of (tables
are in :mod:`._table_rule`, what every kind shares in :mod:`._rule_base`), and :data:`Rule`,
any of them.

Each rule kind is one class with a ``kind`` tag and the key that names it in a catalog file
(``RULE_KEYS``), and says three things about itself: what it means as one expression of the
expression language (``expression``, the meaning writers and other tools fall back on), what
it says in words (``in_words``), and what is wrong with it in a given catalog (``check``, for
what needs the slots and modules). How the engines lower a kind is not here: see
:mod:`modcfg.lower`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
)

from .._errors import CatalogError
from ._base import FrozenModel, as_validated
from ._expr import BoolOp, Expr, Not, Ref
from ._expr_parse import parse
from ._fields import check_ref, parse_expression
from ._rule_base import RuleBase, Where, fail, module_ref
from ._table_rule import TableRule
from ._validate import expression_problem, module_ref_problem

if TYPE_CHECKING:
    from ._catalog import Catalog

__all__ = [
    "RULE_KEYS",
    "RULE_KINDS",
    "AtMostOneOfRule",
    "ConstraintRule",
    "ExcludesRule",
    "RequiresRule",
    "Rule",
    "TableRule",
]

#: Where a catalog file's rule entry names its kind: key -> kind (``formula`` is a synonym).
RULE_KEYS = {
    "requires": "requires",
    "excludes": "excludes",
    "table": "table",
    "constraint": "constraint",
    "formula": "constraint",
    "at_most_one_of": "at_most_one_of",
}
#: Every rule kind, in the order the documentation presents them.
RULE_KINDS = tuple(dict.fromkeys(RULE_KEYS.values()))
#: One literal of a clause (see :meth:`ConstraintRule.clause`): slot, module, and whether the
#: module is chosen (True) or not.
ClauseLiteral = tuple[str, str, bool]


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
            check_ref(ref)
        return value


class RequiresRule(RuleBase):
    """If every module of ``if`` is chosen, at least one module of ``then`` must be.

    ``requires: {if: frame.oak, then: [glass.triple, glass.laminated]}``
    """

    kind: Literal["requires"] = "requires"
    requires: _Requires

    @property
    def refs(self) -> tuple[str, ...]:
        return (*self.requires.if_, *self.requires.then)

    @property
    def expression(self) -> Expr:
        """``if-modules -> then-modules``: ``frame.oak -> (glass.triple or glass.laminated)``."""
        premises = [module_ref(ref) for ref in self.requires.if_]
        consequences = [module_ref(ref) for ref in self.requires.then]
        return BoolOp(
            "implies",
            (
                premises[0] if len(premises) == 1 else BoolOp("and", tuple(premises)),
                consequences[0] if len(consequences) == 1 else BoolOp("or", tuple(consequences)),
            ),
        )

    def _says(self) -> str:
        premises = " and ".join(self.requires.if_)
        return f"{premises} requires {' or '.join(self.requires.then)}"

    def check(self, catalog: Catalog, where: Where) -> None:
        owner = self.owner
        for ref in self.refs:
            fail(module_ref_problem(catalog, ref), owner, where)
        conditions, consequences = self.requires.if_, self.requires.then
        circular = set(conditions) & set(consequences)
        if circular:
            raise CatalogError(
                f"{owner} is circular: '{sorted(circular)[0]}' requires itself; remove it from "
                "'then'",
                where=where,
            )
        single_conditions: dict[str, str] = {}
        for ref in conditions:
            slot = ref.split(".")[0]
            if not catalog.slots[slot].single:
                continue
            if slot in single_conditions:
                raise CatalogError(
                    f"{owner} can never apply: '{single_conditions[slot]}' and '{ref}' share the "
                    f"single slot '{slot}'; split it into two rules",
                    where=where,
                )
            single_conditions[slot] = ref
        then_slots = {ref.split(".")[0] for ref in consequences}
        for slot, ref in single_conditions.items():
            if then_slots == {slot}:
                raise CatalogError(
                    f"{owner} contradicts itself: '{ref}' requires {', '.join(consequences)} of "
                    f"the same single slot '{slot}', so '{ref}' could never be chosen; remove "
                    "the rule or forbid the module explicitly",
                    where=where,
                )


class ExcludesRule(RuleBase):
    """The listed modules are never all chosen together: ``excludes: [frame.pvc, glass.triple]``."""

    kind: Literal["excludes"] = "excludes"
    excludes: tuple[str, ...] = Field(min_length=2)

    @field_validator("excludes")
    @classmethod
    def _refs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for ref in value:
            check_ref(ref)
        if len(set(value)) != len(value):
            raise ValueError(
                f"lists a module twice ({', '.join(value)}); an exclusion needs distinct modules"
            )
        return value

    @property
    def refs(self) -> tuple[str, ...]:
        return self.excludes

    @property
    def expression(self) -> Expr:
        """``not (frame.pvc and glass.triple)``."""
        return Not(BoolOp("and", tuple(module_ref(ref) for ref in self.excludes)))

    def _says(self) -> str:
        return f"{', '.join(self.excludes)} are never chosen together"

    def check(self, catalog: Catalog, where: Where) -> None:
        owner = self.owner
        for ref in self.refs:
            fail(module_ref_problem(catalog, ref), owner, where)
        slots = {ref.split(".")[0] for ref in self.excludes}
        if len(slots) == 1 and catalog.slots[next(iter(slots))].single:
            raise CatalogError(
                f"{owner} excludes modules of the single slot '{next(iter(slots))}', which can "
                "never be chosen together anyway; remove the rule or name modules of other slots",
                where=where,
            )


class ConstraintRule(RuleBase):
    """An expression over modules and attributes that must hold, optionally only ``when`` another
    holds: ``constraint: "glass.thickness_mm >= 6"`` with ``when: "grade.g3"``.

    ``formula:`` is a synonym of ``constraint:`` for propositional rules over module references.
    """

    kind: Literal["constraint"] = "constraint"
    constraint: str = Field(validation_alias=AliasChoices("constraint", "formula"))
    when: str | None = None
    #: The expression of a clause made by :meth:`clause`, once asked for.
    _body: Expr | None = PrivateAttr(default=None)
    #: A clause made by :meth:`clause`: its literals (see :attr:`literals`).
    _literals: tuple[ClauseLiteral, ...] | None = PrivateAttr(default=None)

    @classmethod
    def clause(
        cls,
        rule_id: str,
        literals: Sequence[ClauseLiteral],
        *,
        message: str = "",
        text: str | None = None,
    ) -> ConstraintRule:
        """A disjunction of modules chosen or not, each literal ``(slot, module, chosen)``:
        what a feature model's clause says (``a.selected or not b.selected``). Readers make
        one per clause, tens of thousands for a large model, so the rule keeps its literals:
        its text is not parsed, its expression is built when first asked for, :meth:`check`
        only looks its modules up, and compiling reads the literals (see :attr:`literals`).

        ``text``, when the caller has it, is the rule's text (what it would be made from the
        literals otherwise: a reader makes each literal's text once).

        >>> rule = ConstraintRule.clause("c1", [("a", "on", True), ("b", "on", False)])
        >>> rule.constraint, rule.expression == parse(rule.constraint)
        ('a.on or not b.on', True)
        """
        if text is None:
            text = " or ".join(
                f"{slot}.{module}" if chosen else f"not {slot}.{module}"
                for slot, module, chosen in literals
            )
        # what model_construct sets, set directly: it costs 3.6 us a rule, most of a clause's
        # reading (tests/test_io.py compares both)
        fields = {"id": rule_id, "message": message, "kind": "constraint"}
        return as_validated(
            cls,
            {**fields, "constraint": text, "when": None},
            {"id", "message", "constraint"},
            {"_body": None, "_literals": tuple(literals)},
        )

    @property
    def literals(self) -> tuple[ClauseLiteral, ...] | None:
        """The ``(slot, module, chosen)`` literals of a rule made by :meth:`clause` (the rule
        holds when one holds: the module is chosen, or not), else None."""
        private = self.__pydantic_private__
        return None if private is None else private.get("_literals")

    def __eq__(self, other: object) -> bool:
        # equal by their fields: the expression a reader built is what parsing the text gives
        if not isinstance(other, ConstraintRule):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in type(self).model_fields)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in type(self).model_fields))

    @field_validator("constraint", "when")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_expression(value)
        return value

    @property
    def expression(self) -> Expr:
        """The rule as one expression (``when -> constraint``)."""
        body = self._body  # (read once: a private attribute is read through pydantic)
        if body is None:
            literals = self.literals
            if literals is None:
                body = parse(self.constraint)
            else:  # (built once, kept: explanations read it again)
                body = self._body = _disjunction(literals)
        if self.when is None:
            return body
        return BoolOp("implies", (parse(self.when), body))

    def _says(self) -> str:
        text = self.constraint
        return f"{text} when {self.when}" if self.when is not None else text

    def check(self, catalog: Catalog, where: Where) -> None:
        literals = self.literals
        if literals is not None:
            slots = catalog.slots
            if all(slot in slots and module in slots[slot].modules for slot, module, _ in literals):
                return  # (a clause of modules the catalog has: nothing else can be wrong)
        body = self._body
        fail(
            expression_problem(catalog, self.constraint if body is None else body),
            self.owner,
            where,
        )
        if self.when is not None:
            fail(expression_problem(catalog, self.when), self.owner, where)


def _disjunction(literals: Sequence[ClauseLiteral]) -> Expr:
    """The expression of a clause's ``(slot, module, chosen)`` literals."""
    terms: list[Expr] = [
        Ref(slot, module) if chosen else Not(Ref(slot, module)) for slot, module, chosen in literals
    ]
    return terms[0] if len(terms) == 1 else BoolOp("or", tuple(terms))


class AtMostOneOfRule(RuleBase):
    """At most one of the listed modules is chosen (a module of a multi-select slot counts
    when some quantity of it is): ``at_most_one_of: [frame.oak, glass.triple, hardware.vent]``.
    """

    kind: Literal["at_most_one_of"] = "at_most_one_of"
    at_most_one_of: tuple[str, ...] = Field(min_length=2)

    @field_validator("at_most_one_of")
    @classmethod
    def _refs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for ref in value:
            check_ref(ref)
        if len(set(value)) != len(value):
            raise ValueError(f"lists a module twice ({', '.join(value)}); name each module once")
        return value

    @property
    def expression(self) -> Expr:
        """No two of them together: ``not (a and b) and not (a and c) and not (b and c)``."""
        refs = [module_ref(ref) for ref in self.at_most_one_of]
        return BoolOp("and", tuple(Not(BoolOp("and", pair)) for pair in combinations(refs, 2)))

    def _says(self) -> str:
        return f"at most one of {', '.join(self.at_most_one_of)} is chosen"

    def check(self, catalog: Catalog, where: Where) -> None:
        for ref in self.at_most_one_of:
            fail(module_ref_problem(catalog, ref), self.owner, where)


def _rule_kind(data: Any) -> str | None:
    if isinstance(data, dict):
        found = [key for key in RULE_KEYS if key in data]
        return RULE_KEYS[found[0]] if len(found) == 1 else None
    return getattr(data, "kind", None)


def _kinds_in_words() -> str:
    """``'requires', 'excludes', 'table', 'constraint' (or 'formula')``."""
    named = []
    for kind in RULE_KINDS:
        synonyms = [key for key, of in RULE_KEYS.items() if of == kind and key != kind]
        named.append(f"'{kind}'" + "".join(f" (or '{key}')" for key in synonyms))
    return ", ".join(named)


Rule = Annotated[
    Annotated[RequiresRule, Tag("requires")]
    | Annotated[ExcludesRule, Tag("excludes")]
    | Annotated[TableRule, Tag("table")]
    | Annotated[ConstraintRule, Tag("constraint")]
    | Annotated[AtMostOneOfRule, Tag("at_most_one_of")],
    Discriminator(
        _rule_kind,
        custom_error_type="rule_kind",
        custom_error_message=f"a rule needs exactly one of {_kinds_in_words()}",
    ),
]
