"""Cross-reference checks of a catalog: every mistake names the rule, the reference and a fix.

:func:`check_catalog` runs once, when a :class:`~modcfg.Catalog` is validated and each field has
passed its own checks; it raises a :class:`~modcfg.CatalogError` with the location path
(``where``) of the first problem. Once it has passed, every expression of the catalog is linear
(one side of ``*`` is a constant) and reads only slots, modules and attributes that exist, no
name is both a module and an attribute of one slot, and every attribute an expression reads
holds one kind of value. :func:`module_ref_problem` and :func:`expression_problem` give a
problem as text (None when there is none), so needs, purposes and rules word theirs the same
way.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from .._errors import CatalogError, did_you_mean
from ._customization import check_customization
from ._expr import Arith, Count, Expr, Ref, Total, refs, walk
from ._expr_parse import parse

if TYPE_CHECKING:
    from ._catalog import Catalog

__all__ = ["attribute_kind", "check_catalog", "expression_problem", "module_ref_problem"]


def module_ref_problem(catalog: Catalog, ref: str) -> str | None:
    """Why ``slot.module`` names no module of the catalog, with a close match; None if it does."""
    slot_id, _, module_id = ref.partition(".")
    slot = catalog.slots.get(slot_id)
    if slot is None:
        hint = did_you_mean(ref, catalog.module_refs()) or did_you_mean(slot_id, catalog.slots)
        return f"'{ref}' names slot '{slot_id}', which does not exist{hint}"
    if module_id not in slot.modules:
        hint = did_you_mean(module_id, slot.modules)
        if hint:
            hint = f"; did you mean '{slot_id}.{hint.split(chr(39))[1]}'?"
        else:
            hint = f" (its modules: {', '.join(slot.modules)})"
        return f"'{ref}' refers to module '{module_id}', which slot '{slot_id}' does not have{hint}"
    return None


def attribute_kind(catalog: Catalog, attribute: str, slots: Iterable[str] | None = None) -> str:
    """``"number"``, ``"text"``, ``"flag"``, ``"list"``, ``"mixed"`` or ``"none"``."""
    kinds = set()
    for slot_id in slots if slots is not None else catalog.slots:
        for module in catalog.slots[slot_id].modules.values():
            value = module.attributes.get(attribute)
            if value is None:
                continue
            kinds.add(
                "flag"
                if isinstance(value, bool)
                else "number"
                if isinstance(value, Decimal)
                else "text"
                if isinstance(value, str)
                else "list"
            )
    if not kinds:
        return "none"
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _all_attributes(catalog: Catalog) -> set[str]:
    return {
        name
        for slot in catalog.slots.values()
        for module in slot.modules.values()
        for name in module.attributes
    }


def expression_problem(catalog: Catalog, text: str | Expr) -> str | None:
    """Why an expression (its text, or the expression when already parsed) cannot be
    evaluated against this catalog; None when it can."""
    expr: Expr = parse(text) if isinstance(text, str) else text
    for node in walk(expr):  # one pass: every reference, and every product of two
        if isinstance(node, Count):
            if node.slot not in catalog.slots:
                hint = did_you_mean(node.slot, catalog.slots)
                return f"count({node.slot}) names an unknown slot{hint}"
        elif isinstance(node, Total):
            if attribute_kind(catalog, node.attribute) != "number":
                known = sorted(_all_attributes(catalog))
                return (
                    f"total({node.attribute}) needs a numeric attribute '{node.attribute}' on "
                    f"some module{did_you_mean(node.attribute, known)}"
                )
        elif isinstance(node, Ref):
            problem = _ref_problem(catalog, node)
            if problem:
                return problem
        elif (
            isinstance(node, Arith)
            and node.op == "*"
            and any(True for _ in refs(node.left))
            and any(True for _ in refs(node.right))
        ):
            return (
                f"'{text}' multiplies two references; one side of '*' must be a constant "
                "so the constraint stays linear"
            )
    return None


def _ref_problem(catalog: Catalog, node: Ref) -> str | None:
    slot = catalog.slots.get(node.slot)
    if slot is None:
        return (
            f"'{node}' names slot '{node.slot}', which does not exist"
            f"{did_you_mean(node.slot, catalog.slots)}"
        )
    attributes = {name for module in slot.modules.values() for name in module.attributes}
    if node.name in slot.modules:
        if node.name in attributes:
            return (
                f"'{node}' is ambiguous: '{node.name}' is both a module and an attribute of "
                f"slot '{node.slot}'; rename one of them"
            )
        return None
    if node.name in attributes:
        kind = attribute_kind(catalog, node.name, [node.slot])
        if kind == "mixed":
            return (
                f"attribute '{node}' mixes numbers and text across modules; give every module "
                "the same kind of value"
            )
        if kind in ("text", "list", "flag") and not slot.single:
            return (
                f"attribute '{node}' is {kind} but slot '{node.slot}' takes several modules; "
                "only numeric attributes can be summed over a multi-select slot"
            )
        return None
    return (
        f"'{node}' is neither a module nor an attribute of slot '{node.slot}'"
        f"{did_you_mean(node.name, [*slot.modules, *attributes])}"
    )


def check_catalog(catalog: Catalog) -> None:
    """Raise :class:`CatalogError` on the first broken reference or self-contradiction."""
    if catalog.valid_from and catalog.valid_until and catalog.valid_from > catalog.valid_until:
        raise CatalogError(
            f"valid_from {catalog.valid_from} is after valid_until {catalog.valid_until}; "
            "swap the dates",
            where=("valid_from",),
        )
    _check_names(catalog)
    _check_parts(catalog)
    seen: dict[str, str] = {}
    for index, rule in enumerate(catalog.rules):
        where = ("rules", index)
        if rule.id in seen:
            raise CatalogError(
                f"rule id '{rule.id}' is used twice; rule and price-rule ids must be unique",
                where=where,
            )
        seen[rule.id] = "rule"
        rule.check(catalog, where)
    for index, price_rule in enumerate(catalog.prices):
        where = ("prices", index)
        if price_rule.id in seen:
            raise CatalogError(
                f"price rule id '{price_rule.id}' is already used by a {seen[price_rule.id]}; "
                "rule and price-rule ids must be unique",
                where=where,
            )
        seen[price_rule.id] = "price rule"
        for ref in price_rule.bundle or ():
            _fail_ref(catalog, ref, f"price rule '{price_rule.id}'", where)
        if price_rule.when is not None:
            _fail_expression(catalog, price_rule.when, f"price rule '{price_rule.id}'", where)
    for purpose_id, purpose in catalog.purposes.items():
        place: tuple[str | int, ...] = ("purposes", purpose_id)
        for ref in (*purpose.require, *purpose.forbid):
            _fail_ref(catalog, ref, f"purpose '{purpose_id}'", place)
        for text in purpose.conditions:
            _fail_expression(catalog, text, f"purpose '{purpose_id}'", place)
        for key in purpose.prefer:
            _fail_expression(catalog, key, f"purpose '{purpose_id}' preference", place)
    check_customization(catalog)


def _check_precision(
    catalog: Catalog, amount: Decimal, owner: str, where: tuple[str | int, ...]
) -> None:
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > catalog.decimals:
        raise CatalogError(
            f"{owner}: amount {amount} has more decimals than {catalog.currency}'s minor unit "
            f"({catalog.decimals}); round it to {catalog.decimals} decimals",
            where=where,
        )


def _check_names(catalog: Catalog) -> None:
    for index, price_rule in enumerate(catalog.prices):
        if price_rule.amount is not None:
            _check_precision(
                catalog, price_rule.amount, f"price rule '{price_rule.id}'", ("prices", index)
            )
    for service_id, service in catalog.services.items():
        _check_precision(
            catalog, service.price, f"service '{service_id}'", ("services", service_id)
        )
    for slot_id, slot in catalog.slots.items():
        for module_id, module in slot.modules.items():
            _check_precision(
                catalog,
                module.price,
                f"slot '{slot_id}', module '{module_id}'",
                ("slots", slot_id, "modules", module_id, "price"),
            )
            if module.max_quantity > slot.cardinality.max:
                raise CatalogError(
                    f"slot '{slot_id}', module '{module_id}': max_quantity "
                    f"{module.max_quantity} exceeds the slot's max {slot.cardinality.max}; "
                    "lower it or raise the slot's max",
                    where=("slots", slot_id, "modules", module_id, "max_quantity"),
                )


def _check_parts(catalog: Catalog) -> None:
    for part_id, part in catalog.parts.items():
        if part.stage is not None and part.stage not in catalog.stages:
            known = ", ".join(catalog.stages) or "none: add a 'stages' section"
            raise CatalogError(
                f"part '{part_id}': stage '{part.stage}' does not exist"
                f"{did_you_mean(part.stage, catalog.stages)} (stages: {known})",
                where=("parts", part_id, "stage"),
            )
    for slot_id, slot in catalog.slots.items():
        for module_id, module in slot.modules.items():
            for part_id in module.parts:
                if part_id not in catalog.parts:
                    known = ", ".join(catalog.parts) or "none: add a 'parts' section"
                    raise CatalogError(
                        f"slot '{slot_id}', module '{module_id}': part '{part_id}' is not in "
                        f"the catalog's parts{did_you_mean(part_id, catalog.parts)} "
                        f"(parts: {known})",
                        where=("slots", slot_id, "modules", module_id, "parts", part_id),
                    )


def _fail_ref(catalog: Catalog, ref: str, owner: str, where: tuple[str | int, ...]) -> None:
    problem = module_ref_problem(catalog, ref)
    if problem:
        raise CatalogError(f"{owner}: {problem}", where=where)


def _fail_expression(catalog: Catalog, text: str, owner: str, where: tuple[str | int, ...]) -> None:
    problem = expression_problem(catalog, text)
    if problem:
        raise CatalogError(f"{owner}: {problem}", where=where)
