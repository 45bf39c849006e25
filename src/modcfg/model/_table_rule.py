"""Table rules: allowed (or forbidden) combinations over several slots, given as rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from .._errors import CatalogError, did_you_mean
from ._base import FrozenModel
from ._expr import BoolOp, Count, Expr, Not, Ref
from ._rule_base import RuleBase, Where

if TYPE_CHECKING:
    from ._catalog import Catalog

__all__ = ["TableRule"]


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


class TableRule(RuleBase):
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
