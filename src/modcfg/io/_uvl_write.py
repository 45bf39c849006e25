"""Write a catalog as a UVL feature model with the same number of configurations.

The tree: a root feature (an always-chosen slot with a single module, else an abstract feature
named after the catalog) with

- a single-module slot as one feature (``mandatory`` when it must be filled, else ``optional``),
  so a catalog read from UVL keeps its feature names;
- a single-choice slot with several modules as an abstract feature with an ``alternative`` group
  of its modules (``mandatory`` for exactly_one, ``optional`` for optional);
- a multi-select slot (every module at most once) as a mandatory abstract feature with a group
  cardinality ``[min..max]`` over its modules.

Rules become constraints: a rule whose expression (``Rule.expression``, whatever its kind) is
propositional over modules is written as that formula (``=>``, ``!``, ``&``, ``|``); tables,
and rules with arithmetic over modules, as the clauses of :class:`~._cnf.Encoder`. Module
attributes become feature attributes. Rules over numeric attributes raise
:class:`~modcfg.CatalogError` naming the rule.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from .._errors import CatalogError
from ..model import Catalog, Module, Slot
from ..model._expr import BoolOp, Expr, Not, Ref
from ..model._rules import Rule, TableRule
from ._cnf import Clause, Encoder, Unsupported

__all__ = ["uvl_text", "write_uvl"]

_STRICT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_INDENT = "    "
_KEYWORDS = frozenset({"constraint", "constraints", "true", "false"})


def write_uvl(catalog: Catalog, path: str | Path) -> None:
    """Write a catalog as a UVL feature model (see :func:`uvl_text`)."""
    Path(path).write_text(uvl_text(catalog), encoding="utf-8")


def uvl_text(catalog: Catalog) -> str:
    """The UVL text of a catalog.

    >>> from modcfg.model import Catalog
    >>> catalog = Catalog.model_validate({"catalog": "window", "slots": {
    ...     "frame": {"modules": {"oak": {}, "pvc": {}}}},
    ...     "rules": []})
    >>> print(uvl_text(catalog), end="")
    features
        "window" {abstract}
            mandatory
                "frame" {abstract}
                    alternative
                        "frame_oak"
                        "frame_pvc"
    """
    return _Writer(catalog).text()


def _quote(name: str) -> str:
    return f'"{name}"'


def _usable(label: str) -> bool:
    return bool(label.strip()) and not any(char in label for char in '".\r\n')


class _Writer:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.encoder = Encoder(catalog)
        self.names: dict[str, str] = {}
        self.slot_names: dict[str, str] = {}
        used: set[str] = set()

        def claim(preferred: str, fallback: str) -> str:
            name = preferred if _usable(preferred) and preferred not in used else fallback
            base, number = name, 1
            while name in used:
                number += 1
                name = f"{base}_{number}"
            used.add(name)
            return name

        self.root_slot = next(
            (
                slot
                for slot in catalog.slots.values()
                if slot.single and slot.cardinality.min == 1 and len(slot.modules) == 1
            ),
            None,
        )
        for slot in catalog.slots.values():
            self.slot_names[slot.id] = claim(slot.label, slot.id)
            for module_id in slot.modules:
                ref = f"{slot.id}.{module_id}"
                if len(slot.modules) == 1 and slot.single:
                    self.names[ref] = self.slot_names[slot.id]
                else:
                    self.names[ref] = claim(f"{slot.id}_{module_id}", f"{slot.id}_{module_id}")
        self.root_name = (
            self.slot_names[self.root_slot.id] if self.root_slot else claim(catalog.name, "root")
        )

    def text(self) -> str:
        constraints = self.constraints()
        lines = ["features"]
        root_module = next(iter(self.root_slot.modules.values())) if self.root_slot else None
        lines.append(_INDENT + _quote(self.root_name) + self.attributes(root_module))
        mandatory: list[str] = []
        optional: list[str] = []
        for slot in self.catalog.slots.values():
            if slot is self.root_slot:
                continue
            target = mandatory if slot.cardinality.min > 0 or not slot.single else optional
            target += self.slot_lines(slot)
        for keyword, block in (("mandatory", mandatory), ("optional", optional)):
            if block:
                lines.append(_INDENT * 2 + keyword)
                lines += [_INDENT * 3 + line for line in block]
        if constraints:
            lines.append("constraints")
            lines += [_INDENT + constraint for constraint in constraints]
        return "\n".join(lines) + "\n"

    def slot_lines(self, slot: Slot) -> list[str]:
        name = _quote(self.slot_names[slot.id])
        if len(slot.modules) == 1 and slot.single:
            return [name + self.attributes(next(iter(slot.modules.values())))]
        if slot.single:
            group = "alternative"
        else:
            count = len(slot.modules)
            group = f"[{slot.cardinality.min}..{min(slot.cardinality.max, count)}]"
        lines = [name + " {abstract}", _INDENT + group]
        for module_id, module in slot.modules.items():
            lines.append(
                _INDENT * 2 + _quote(self.names[f"{slot.id}.{module_id}"]) + self.attributes(module)
            )
        return lines

    def attributes(self, module: Module | None) -> str:
        if module is None:
            return " {abstract}"
        items: list[str] = []
        for key, value in module.attributes.items():
            if key == "abstract":
                if value is True:
                    items.insert(0, "abstract")
                continue
            text = _value(value)
            if text is not None and _usable(key):
                plain = _STRICT_ID.fullmatch(key) and key not in _KEYWORDS
                items.append(f"{key if plain else _quote(key)} {text}")
        if module.price and "price" not in module.attributes:
            items.append(f"price {format(module.price, 'f')}")
        return " {" + ", ".join(items) + "}" if items else ""

    # ---- constraints ----------------------------------------------------------------------------

    def constraints(self) -> list[str]:
        result: list[str] = []
        for slot in self.catalog.slots.values():
            if not slot.single:
                try:
                    self.encoder.slot_clauses(slot)
                except Unsupported as exc:
                    raise CatalogError(
                        f"slot '{slot.id}' cannot be written as UVL: {exc}",
                        where=("slots", slot.id),
                    ) from None
        for index, rule in enumerate(self.catalog.rules):
            try:
                result += self.rule(rule)
            except Unsupported as exc:
                raise CatalogError(
                    f"rule '{rule.id}' cannot be written as UVL: {exc}", where=("rules", index)
                ) from None
        return result

    def rule(self, rule: Rule) -> list[str]:
        if not isinstance(rule, TableRule):  # (a table's rows read better as clauses)
            formula = self.formula(rule.expression, outermost=True)
            if formula is not None:
                return [formula]
        return [self.clause(clause) for clause in self.encoder.rule_clauses(rule)]

    def literal(self, ref: str) -> str:
        return _quote(self.names[ref])

    def formula(self, expr: Expr, *, outermost: bool = False) -> str | None:
        """A propositional expression in UVL syntax (in parentheses unless ``outermost``);
        None when it needs clauses."""
        match expr:
            case Ref(slot, name) if name in self.catalog.slots[slot].modules:
                return self.literal(f"{slot}.{name}")
            case Not(operand):
                inner = self.formula(operand)
                return None if inner is None else f"!{inner}"
            case BoolOp(op, operands) if operands:
                parts = [self.formula(operand) for operand in operands]
                if any(part is None for part in parts):
                    return None
                symbol = {"and": " & ", "or": " | ", "implies": " => "}[op]
                joined = symbol.join(part for part in parts if part is not None)
                return joined if outermost or len(parts) == 1 else f"({joined})"
        return None

    def clause(self, clause: Clause) -> str:
        if not clause:
            return f"!{_quote(self.root_name)}"
        names = list(self.encoder.variables)
        return " | ".join(
            ("" if literal > 0 else "!") + self.literal(names[abs(literal) - 1])
            for literal in clause
        )


def _value(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return f"'{value}'" if "'" not in value and "\n" not in value else None
    if isinstance(value, tuple):
        items = [_value(item) for item in value]
        if any(item is None for item in items):
            return None
        return "[" + ", ".join(item for item in items if item is not None) + "]"
    return None
