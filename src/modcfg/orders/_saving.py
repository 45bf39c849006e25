"""Saved orders: read back, checked, and migrated to the catalog version in force.

A saved order names its catalog and version. On the same version its lines come back as they
were; on another version each line's choices migrate as a saved session's do (retired modules
and choices the new rules refuse are replaced by the nearest valid module, or dropped), with
the rules of the other lines applied, and :attr:`Order.migration` lists every change.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .._errors import NeedsError
from ..session._migrate import MigrationChange, SavedChoice, choosing, migrate_choices
from ..session._session import Session
from ._product import line_slot

if TYPE_CHECKING:
    from .._configurator import Configurator
    from ._order import Order

__all__ = ["order_from_json"]

MAX_TEXT = 4_000_000


def _saved_choices(choices: dict[str, Any]) -> list[tuple[str, str | None, int]]:
    out: list[tuple[str, str | None, int]] = []
    for slot, choice in choices.items():
        if isinstance(choice, dict):
            out += [(slot, module, int(quantity)) for module, quantity in choice.items()]
        else:
            out.append((slot, choice, 1))
    return out


def order_from_json(cls: type[Order], cfg: Configurator, text: str | bytes) -> Order:
    from ._order import OrderLine, OrderRule

    if len(text) > MAX_TEXT:
        raise NeedsError(f"a saved order has at most {MAX_TEXT:,} characters")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NeedsError(f"the saved order is not JSON text: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != "modcfg-order/1":
        raise NeedsError("the text is not a saved order (format modcfg-order/1)")
    if data.get("catalog") != cfg.catalog.name:
        raise NeedsError(
            f"the order was saved for catalog '{data.get('catalog')}', but this configurator "
            f"has '{cfg.catalog.name}'"
        )
    try:
        rules = [OrderRule(**rule) for rule in data.get("rules", [])]
        lines = [
            OrderLine(str(line["name"]), int(line["quantity"]), dict(line.get("choices", {})))
            for line in data["lines"]
        ]
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise NeedsError(f"the saved order is malformed: {exc}") from None
    if data.get("version") == cfg.catalog.version:
        return cls(cfg, lines, rules)
    return _migrated(cls, cfg, lines, rules, str(data.get("version")))


def _migrated(
    cls: type[Order], cfg: Configurator, lines: list[Any], rules: list[Any], version: str
) -> Order:
    """The order's lines migrated one after the other, each under the rules of the order."""
    from ._order import OrderLine

    open_order = cls(cfg, [OrderLine(line.name, line.quantity) for line in lines], rules)
    session = Session(open_order.product, open_order.product_needs(None))
    kept: list[SavedChoice] = []
    feasible = choosing(session)
    changes: list[MigrationChange] = []
    for line in lines:
        saved = [
            (line_slot(line.name, slot), module, quantity)
            for slot, module, quantity in _saved_choices(dict(line.choices))
        ]
        line_kept, line_changes = migrate_choices(
            open_order.product.catalog, saved, feasible, line=line.name
        )
        kept += line_kept
        prefix = f"{line.name}__"
        changes += [
            MigrationChange(
                c.kind, (c.slot or "").removeprefix(prefix) or None, c.old, c.new, c.reason, c.line
            )
            for c in line_changes
        ]
    chosen: dict[str, dict[str, Any]] = {line.name: {} for line in lines}
    for product_slot, module, quantity in kept:
        name, _, slot = product_slot.partition("__")
        if cfg.catalog.slots[slot].single:
            chosen[name][slot] = module
        elif module is not None:
            chosen[name].setdefault(slot, {})[module] = quantity
    order = cls(
        cfg, [OrderLine(line.name, line.quantity, chosen[line.name]) for line in lines], rules
    )
    order.migration = (*changes,)
    return order
