"""Read UVL feature models into catalogs.

Every feature becomes a slot with one module, ``selected``: choosing it selects the feature,
leaving the slot empty deselects it. The root is an ``exactly_one`` slot (always selected), every
other feature an ``optional`` slot, so a catalog configuration is exactly a feature-model
configuration: true/false for every feature, abstract ones included. The tree becomes small
formula rules, one per child or per group:

- optional child ``c`` of ``p``: ``c.selected -> p.selected``
- mandatory child: ``(c.selected -> p.selected) and (p.selected -> c.selected)``
- ``alternative``: ``c1.selected + c2.selected + c3.selected == p.selected``
- ``or``: ``(p.selected -> (c1.selected or c2.selected)) and ((c1.selected or c2.selected) ->
  p.selected)``
- a group cardinality ``[a..b]``: ``c1.selected + ... >= a * p.selected and c1.selected + ...
  <= b * p.selected``

Cross-tree constraints become formula rules (``!``, ``&``, ``|``, ``=>`` map to ``not``, ``and``,
``or``, ``->``; ``a <=> b`` to ``(a -> b) and (b -> a)``). Feature attributes become module
attributes; in equations ``F.attr`` reads the attribute of ``F`` (0 when ``F`` is deselected)
and ``sum(attr)`` becomes ``total(attr)``. Typed (Integer, Real, String) features, feature
cardinalities, imports and the aggregates ``avg``, ``len``, ``floor`` and ``ceil`` have no
catalog counterpart and raise :class:`~modcfg.CatalogError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._errors import CatalogError, did_you_mean
from ..model import DEFAULT_MAX_BYTES, Catalog, read_text
from ._common import SELECTED, IdMaker, Location, build_catalog
from ._uvl_syntax import (
    Aggregate,
    Arith,
    Binary,
    Compare,
    Constraint,
    Expr,
    Feature,
    Group,
    Model,
    Not,
    Number,
    Ref,
    Text,
    parse_uvl,
)

__all__ = ["read_uvl"]

_log = logging.getLogger(__name__)
_MAX_FORMULA = 200_000


def read_uvl(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Catalog:
    """Read a UVL feature model; its configurations are the feature model's configurations.

    Files larger than ``max_bytes`` are refused with a :class:`~modcfg.CatalogError`.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "sandwich.uvl").write_text(
    ...     "features\\n  Sandwich\\n    mandatory\\n      Bread\\n    optional\\n      Cheese\\n")
    >>> catalog = read_uvl(folder / "sandwich.uvl")
    >>> list(catalog.slots), [rule.id for rule in catalog.rules]
    (['Sandwich', 'Bread', 'Cheese'], ['Bread-mandatory', 'Cheese-optional'])
    """
    display = str(path)
    text = read_text(path, max_bytes=max_bytes)
    model = parse_uvl(text, display)
    return _Builder(model, display, text.splitlines()).build(Path(path).stem)


class _Builder:
    def __init__(self, model: Model, display: str, source: list[str]) -> None:
        self.model = model
        self.display = display
        self.source = source
        self.ids: dict[str, str] = {}
        self.features: dict[str, Feature] = {}
        self.attribute_ids: dict[str, str] = {}
        self._attribute_maker = IdMaker((SELECTED,))
        self._rule_ids = IdMaker()
        self.slots: dict[str, Any] = {}
        self.rules: list[dict[str, str]] = []
        self.lines: dict[Location, int] = {}

    def fail(self, message: str, line: int | None) -> CatalogError:
        return CatalogError(message, path=self.display, line=line)

    def build(self, stem: str) -> Catalog:
        model = self.model
        if model.imports:
            name, line = model.imports[0]
            raise self.fail(
                f"UVL imports ('{name}') are not supported; merge the imported model into "
                "this file",
                line,
            )
        if model.root is None:
            raise self.fail("the UVL model has no 'features' section", None)
        self._name_features(model.root)
        for feature in self._walk(model.root):
            self._add_slot(feature, root=feature is model.root)
        for feature in self._walk(model.root):
            for group in feature.groups:
                self._add_group(feature, group)
        constraints: list[tuple[Constraint, Feature | None]] = [
            (constraint, None) for constraint in model.constraints
        ]
        constraints += [
            (constraint, feature)
            for feature in self._walk(model.root)
            for constraint in feature.constraints
        ]
        for number, (constraint, owner) in enumerate(constraints, start=1):
            self._add_constraint(number, constraint, owner)
        data = {
            "catalog": model.namespace or stem or "uvl",
            "label": model.root.name,
            "description": "UVL feature model: each slot is a feature (selected or not)",
            "slots": self.slots,
            "rules": self.rules,
        }
        return build_catalog(data, path=self.display, lines=self.lines)

    # ---- features ---------------------------------------------------------------------------

    def _walk(self, feature: Feature) -> Iterator[Feature]:
        stack = [feature]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(
                child for group in reversed(current.groups) for child in reversed(group.children)
            )

    def _name_features(self, root: Feature) -> None:
        maker = IdMaker()
        for feature in self._walk(root):
            if feature.name in self.features:
                first = self.features[feature.name].line
                raise self.fail(
                    f"feature '{feature.name}' is declared twice (first on line {first}); "
                    "feature names must be unique",
                    feature.line,
                )
            if feature.type not in (None, "Boolean"):
                raise self.fail(
                    f"feature '{feature.name}' has type {feature.type}; only Boolean features "
                    "can be read into a catalog",
                    feature.line,
                )
            if feature.cardinality is not None:
                raise self.fail(
                    f"feature '{feature.name}' has a feature cardinality "
                    f"{feature.cardinality}; cloned features are not supported",
                    feature.line,
                )
            self.features[feature.name] = feature
            self.ids[feature.name] = maker.take(feature.name)

    def _attribute_id(self, key: str) -> str:
        if key not in self.attribute_ids:
            self.attribute_ids[key] = self._attribute_maker.take(key)
        return self.attribute_ids[key]

    def _attributes(self, feature: Feature) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in feature.attributes.items():
            converted = _attribute_value(value)
            if converted is None:
                _log.info("feature %r: attribute %r is nested; not read", feature.name, key)
                continue
            result[self._attribute_id(key)] = converted
        return result

    def _add_slot(self, feature: Feature, *, root: bool) -> None:
        slot_id = self.ids[feature.name]
        module = {"label": feature.name, "attributes": self._attributes(feature)}
        self.slots[slot_id] = {
            "label": feature.name,
            "cardinality": "exactly_one" if root else "optional",
            "modules": {SELECTED: module},
        }
        self.lines[("slots", slot_id)] = feature.line

    # ---- tree rules ---------------------------------------------------------------------------

    def _var(self, feature: Feature) -> str:
        return f"{self.ids[feature.name]}.{SELECTED}"

    def _rule(self, base: str, formula: str, message: str, line: int) -> None:
        rule_id = self._rule_ids.take(base)
        self.lines[("rules", len(self.rules))] = line
        self.rules.append({"id": rule_id, "formula": formula, "message": message})

    def _add_group(self, parent: Feature, group: Group) -> None:
        p = self._var(parent)
        children = group.children
        names = ", ".join(child.name for child in children)
        low, high = group.low, group.high if group.high is not None else len(children)
        kind = group.kind
        if kind == "cardinality":
            if low > high:
                raise self.fail(f"group cardinality [{low}..{high}] has min > max", group.line)
            high = min(high, len(children))
            if (low, high) == (1, 1):
                kind = "alternative"
            elif low == 1 and high == len(children):
                kind = "or"
            elif low == 0 and high == len(children):
                kind = "optional"
            elif low == high == len(children):
                kind = "mandatory"
        pid = self.ids[parent.name]
        if kind in ("optional", "mandatory"):
            for child in children:
                c = self._var(child)
                cid = self.ids[child.name]
                if kind == "optional":
                    formula, message = f"{c} -> {p}", f"{child.name} needs its parent {parent.name}"
                else:
                    formula = f"({c} -> {p}) and ({p} -> {c})"
                    message = f"{child.name} is mandatory in {parent.name}"
                self._rule(f"{cid}-{kind}", formula, message, child.line)
            return
        total = " + ".join(self._var(child) for child in children)
        if kind == "alternative":
            formula = f"{total} == {p}"
            message = f"{parent.name} takes exactly one of: {names}"
        elif kind == "or":
            any_child = " or ".join(self._var(child) for child in children)
            if len(children) > 1:
                any_child = f"({any_child})"
            formula = f"({p} -> {any_child}) and ({any_child} -> {p})"
            message = f"{parent.name} takes at least one of: {names}"
        else:
            parts = [f"{total} >= {_times(low, p)}"] if low else []
            parts.append(f"{total} <= {_times(high, p)}")
            formula = " and ".join(parts)
            message = f"{parent.name} takes {low} to {high} of: {names}"
        self._rule(
            f"{pid}-{kind if kind != 'cardinality' else 'group'}", formula, message, group.line
        )

    # ---- cross-tree constraints ---------------------------------------------------------------

    def _add_constraint(self, number: int, constraint: Constraint, owner: Feature | None) -> None:
        try:
            formula = self._bool(constraint.expr)
        except RecursionError:
            raise self.fail(
                "the constraint is nested too deeply (a long chain of operators nests too); "
                "split it into several constraints",
                constraint.line,
            ) from None
        source = ""
        if owner is None and 0 < constraint.line <= len(self.source):
            source = self.source[constraint.line - 1].strip()
        if source:
            message = f"constraint: {source}"
        elif owner is not None:
            message = f"a constraint of feature {owner.name}"
        else:  # pragma: no cover - a constraint always has a source line
            message = f"constraint {number}"
        self._rule(f"constraint-{number}", formula, message, constraint.line)

    def _feature_ref(self, ref: Ref) -> Feature | None:
        return self.features.get(".".join(ref.parts))

    def _bool(self, expr: Expr) -> str:
        match expr:
            case Ref():
                feature = self._feature_ref(expr)
                if feature is not None:
                    return self._var(feature)
                return self._attribute_ref(expr)
            case Not(operand):
                return f"not {self._bool(operand)}"
            case Binary("equiv", left, right):
                a, b = self._bool(left), self._bool(right)
                if 2 * (len(a) + len(b)) > _MAX_FORMULA:
                    raise self.fail(
                        "the constraint is too large once '<=>' is expanded", _line(expr)
                    )
                return f"(({a} -> {b}) and ({b} -> {a}))"
            case Binary(op, left, right):
                word = {"and": "and", "or": "or", "implies": "->"}[op]
                return f"({self._bool(left)} {word} {self._bool(right)})"
            case Compare(op, left, right, _):
                return f"({self._num(left)} {op} {self._num(right)})"
        raise self.fail("a number or text is used where a condition is expected", _line(expr))

    def _num(self, expr: Expr) -> str:
        match expr:
            case Number(value, _):
                text = format(value, "f")
                return f"(- {text[1:]})" if value < 0 else text
            case Text(value, _):
                return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            case Ref():
                feature = self._feature_ref(expr)
                return self._var(feature) if feature is not None else self._attribute_ref(expr)
            case Arith("/", _, _, line):
                raise self.fail("division is not supported in catalog constraints", line)
            case Arith(op, left, right, _):
                return f"({self._num(left)} {op} {self._num(right)})"
            case Aggregate(function, args, line):
                return self._aggregate(function, args, line)
        raise self.fail("a condition is used where a number is expected", _line(expr))

    def _attribute_ref(self, ref: Ref) -> str:
        owner = self.features.get(".".join(ref.parts[:-1])) if len(ref.parts) > 1 else None
        key = ref.parts[-1]
        if owner is None:
            name = ".".join(ref.parts)
            hint = did_you_mean(name, self.features)
            raise self.fail(f"'{name}' names no feature of this model{hint}", ref.line)
        if key not in owner.attributes:
            raise self.fail(f"feature '{owner.name}' has no attribute '{key}'", ref.line)
        return f"{self.ids[owner.name]}.{self._attribute_id(key)}"

    def _aggregate(self, function: str, args: tuple[Ref, ...], line: int) -> str:
        if function != "sum":
            raise self.fail(f"the aggregate {function}() is not supported; use sum()", line)
        key = ".".join(args[-1].parts)
        if len(args) == 1:
            if key not in self.attribute_ids:
                raise self.fail(f"no feature has an attribute '{key}'", line)
            return f"total({self.attribute_ids[key]})"
        scope = self._feature_ref(args[0])
        if scope is None:
            raise self.fail(f"'{'.'.join(args[0].parts)}' names no feature of this model", line)
        terms = [
            f"{self.ids[feature.name]}.{self._attribute_id(key)}"
            for feature in self._walk(scope)
            if isinstance(feature.attributes.get(key), Decimal)
        ]
        return f"({' + '.join(terms)})" if terms else "0"


def _times(factor: int, var: str) -> str:
    return var if factor == 1 else f"{factor} * {var}"


def _line(expr: Expr) -> int | None:
    if isinstance(expr, Not):
        return _line(expr.operand)
    if isinstance(expr, Binary):
        return _line(expr.left)
    return expr.line


def _attribute_value(value: Any) -> Any:
    """A UVL attribute value as a module attribute; None when it has no catalog counterpart."""
    if isinstance(value, bool | Decimal | str):
        return value
    if isinstance(value, list) and all(isinstance(item, bool | Decimal | str) for item in value):
        return tuple(str(item).lower() if isinstance(item, bool) else str(item) for item in value)
    return None
