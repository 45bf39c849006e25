"""Compatibility rules: requires, excludes, table, and attribute constraints.

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
    model_validator,
)

from .._errors import CatalogError, did_you_mean
from ._base import FrozenModel, Id
from ._expr import BoolOp, Count, Expr, Not, Ref
from ._expr_parse import parse
from ._fields import check_ref, parse_expression
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
#: Where a rule sits in a catalog (``("rules", 3)``), for errors.
Where = tuple[str | int, ...]
#: One literal of a clause (see :meth:`ConstraintRule.clause`): slot, module, and whether the
#: module is chosen (True) or not.
ClauseLiteral = tuple[str, str, bool]


def _module_ref(ref: str) -> Ref:
    slot, module = ref.split(".")
    return Ref(slot, module)


def _fail(problem: str | None, owner: str, where: Where) -> None:
    if problem:
        raise CatalogError(f"{owner}: {problem}", where=where)


class _RuleBase(FrozenModel):
    """What every rule kind has: an id, a message, and the three things it says about itself
    (``expression``, ``in_words``, ``check``); a kind adds its ``kind`` tag and its fields."""

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

    @property
    def owner(self) -> str:
        """How errors name the rule: ``rule 'pvc-no-triple'``."""
        return f"rule '{self.id}'"

    def check(self, catalog: Catalog, where: Where) -> None:
        """Raise :class:`~modcfg.CatalogError` when the rule names something ``catalog`` does
        not have or can never apply in it (the shape of the rule alone is checked when it is
        read)."""


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


class RequiresRule(_RuleBase):
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
        premises = [_module_ref(ref) for ref in self.requires.if_]
        consequences = [_module_ref(ref) for ref in self.requires.then]
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
            _fail(module_ref_problem(catalog, ref), owner, where)
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


class ExcludesRule(_RuleBase):
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
        return Not(BoolOp("and", tuple(_module_ref(ref) for ref in self.excludes)))

    def _says(self) -> str:
        return f"{', '.join(self.excludes)} are never chosen together"

    def check(self, catalog: Catalog, where: Where) -> None:
        owner = self.owner
        for ref in self.refs:
            _fail(module_ref_problem(catalog, ref), owner, where)
        slots = {ref.split(".")[0] for ref in self.excludes}
        if len(slots) == 1 and catalog.slots[next(iter(slots))].single:
            raise CatalogError(
                f"{owner} excludes modules of the single slot '{next(iter(slots))}', which can "
                "never be chosen together anyway; remove the rule or name modules of other slots",
                where=where,
            )


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

    @classmethod
    def from_rows(
        cls,
        rule_id: str,
        slots: tuple[str, ...],
        rows: tuple[tuple[str | None, ...], ...],
        *,
        allow: bool,
        message: str = "",
    ) -> TableRule:
        """A table whose shape its maker has already checked in bulk (readers of large models):
        ``rule_id`` a valid id, ``slots`` distinct, every row one cell per slot. Its rows
        are not validated one by one again; :meth:`check` still runs when the catalog is built.
        """
        table = _Table.model_construct(
            slots=slots, allow=rows if allow else None, deny=None if allow else rows
        )
        return cls.model_construct(id=rule_id, message=message, table=table)

    @property
    def rows(self) -> tuple[tuple[str | None, ...], ...]:
        rows = self.table.allow if self.table.allow is not None else self.table.deny
        return rows or ()

    @property
    def allow(self) -> bool:
        return self.table.allow is not None

    @property
    def expression(self) -> Expr:
        """Some row matches (``allow``) or none does (``deny``); a row matches when every cell
        does: a module id when the slot holds it, ``"*"`` always, null when the slot is empty.
        """
        matches = []
        for row in self.rows:
            cells: list[Expr] = [
                Not(Count(slot)) if value is None else Ref(slot, value)
                for slot, value in zip(self.table.slots, row, strict=True)
                if value != "*"
            ]
            matches.append(cells[0] if len(cells) == 1 else BoolOp("and", tuple(cells)))
        matched = BoolOp("or", tuple(matches))
        return matched if self.allow else Not(matched)

    def _says(self) -> str:
        kind = "allowed" if self.allow else "forbidden"
        return f"a table of {len(self.rows)} {kind} combinations of {', '.join(self.table.slots)}"

    def check(self, catalog: Catalog, where: Where) -> None:
        owner = self.owner
        for slot_id in self.table.slots:
            slot = catalog.slots.get(slot_id)
            if slot is None:
                raise CatalogError(
                    f"{owner} names slot '{slot_id}', which does not exist"
                    f"{did_you_mean(slot_id, catalog.slots)}",
                    where=where,
                )
            if not slot.single:
                raise CatalogError(
                    f"{owner} covers slot '{slot_id}', which takes several modules; tables "
                    "cover single-choice slots (exactly_one or optional); use requires/excludes "
                    "instead",
                    where=where,
                )
        if self.allow and not self.rows:
            raise CatalogError(
                f"{owner} allows no row at all, so no configuration could ever be valid; add "
                "rows or remove the rule",
                where=where,
            )
        if self._cells_exist(catalog):
            return
        kind = "allow" if self.allow else "deny"
        for number, row in enumerate(self.rows, start=1):
            at_row = (*where, "table", kind, number - 1)
            for slot_id, value in zip(self.table.slots, row, strict=True):
                slot = catalog.slots[slot_id]
                if value is None:
                    if slot.cardinality.min > 0:
                        raise CatalogError(
                            f"{owner}, row {number}: null (empty) is not possible for slot "
                            f"'{slot_id}', which must be filled; use a module id or '*'",
                            where=where,
                        )
                elif value != "*" and value not in slot.modules:
                    raise CatalogError(
                        f"{owner}, row {number}: '{value}' is not a module of slot '{slot_id}'"
                        f"{did_you_mean(value, slot.modules)}",
                        where=at_row,
                    )

    def _cells_exist(self, catalog: Catalog) -> bool:
        """Whether every cell is a module of its slot, ``"*"``, or null where the slot may be
        empty: one set difference per column (the row-by-row walk only finds the first error)."""
        if not self.rows:
            return True
        for slot_id, column in zip(self.table.slots, zip(*self.rows, strict=True), strict=True):
            slot = catalog.slots[slot_id]
            allowed = (
                {*slot.modules, "*"} if slot.cardinality.min > 0 else {*slot.modules, "*", None}
            )
            if not allowed.issuperset(column):
                return False
        return True


class ConstraintRule(_RuleBase):
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
        cls, rule_id: str, literals: Sequence[ClauseLiteral], *, message: str = ""
    ) -> ConstraintRule:
        """A disjunction of modules chosen or not, each literal ``(slot, module, chosen)``:
        what a feature model's clause says (``a.selected or not b.selected``). Readers make
        one per clause, tens of thousands for a large model, so the rule keeps its literals:
        its text is not parsed, its expression is built when first asked for, :meth:`check`
        only looks its modules up, and compiling reads the literals (see :attr:`literals`).

        >>> rule = ConstraintRule.clause("c1", [("a", "on", True), ("b", "on", False)])
        >>> rule.constraint, rule.expression == parse(rule.constraint)
        ('a.on or not b.on', True)
        """
        text = " or ".join(
            f"{slot}.{module}" if chosen else f"not {slot}.{module}"
            for slot, module, chosen in literals
        )
        # what model_construct sets, set directly: it costs 3.6 us a rule, most of a clause's
        # reading (tests/test_io.py compares both)
        rule = cls.__new__(cls)
        fields = {"id": rule_id, "message": message, "kind": "constraint"}
        object.__setattr__(rule, "__dict__", {**fields, "constraint": text, "when": None})
        object.__setattr__(rule, "__pydantic_fields_set__", {"id", "message", "constraint"})
        object.__setattr__(rule, "__pydantic_extra__", None)
        private = {"_body": None, "_literals": tuple(literals)}
        object.__setattr__(rule, "__pydantic_private__", private)
        return rule

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
        _fail(
            expression_problem(catalog, self.constraint if body is None else body),
            self.owner,
            where,
        )
        if self.when is not None:
            _fail(expression_problem(catalog, self.when), self.owner, where)


def _disjunction(literals: Sequence[ClauseLiteral]) -> Expr:
    """The expression of a clause's ``(slot, module, chosen)`` literals."""
    terms: list[Expr] = [
        Ref(slot, module) if chosen else Not(Ref(slot, module)) for slot, module, chosen in literals
    ]
    return terms[0] if len(terms) == 1 else BoolOp("or", tuple(terms))


class AtMostOneOfRule(_RuleBase):
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
        refs = [_module_ref(ref) for ref in self.at_most_one_of]
        return BoolOp("and", tuple(Not(BoolOp("and", pair)) for pair in combinations(refs, 2)))

    def _says(self) -> str:
        return f"at most one of {', '.join(self.at_most_one_of)} is chosen"

    def check(self, catalog: Catalog, where: Where) -> None:
        for ref in self.at_most_one_of:
            _fail(module_ref_problem(catalog, ref), self.owner, where)


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
