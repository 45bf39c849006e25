"""A customer's choice checked against the catalog before a session acts on it.

Every check raises :class:`~modcfg.NeedsError` saying what is wrong and what to give instead:
a slot or module named by something other than its id, an unknown one (with the closest id),
an empty required slot, a quantity that is not a whole number or out of the module's range.
"""

from __future__ import annotations

from .._errors import NeedsError, did_you_mean
from ..model import Catalog
from ._compute import _Choice

__all__ = ["check_slot", "checked_choice"]


def check_slot(catalog: Catalog, slot: object) -> None:
    """``slot`` names a slot of ``catalog``."""
    slots = catalog.slots
    if not isinstance(slot, str):
        raise NeedsError(
            f"a slot is named by its id, a string such as {next(iter(slots))!r}; got {slot!r}"
        )
    if slot not in slots:
        raise NeedsError(f"slot '{slot}' does not exist{did_you_mean(slot, slots)}")


def checked_choice(
    catalog: Catalog, slot: str, module: str | None, quantity: int | None
) -> _Choice:
    """The choice of ``quantity`` x ``module`` (None: the slot left empty) for ``slot``;
    ``quantity`` None: the module in any quantity of one or more (a single-choice slot's
    module is taken once: its choice says quantity 1)."""
    check_slot(catalog, slot)
    found = catalog.slots[slot]
    modules = found.modules
    if module is not None and not isinstance(module, str):
        raise NeedsError(
            f"a module of slot '{slot}' is named by its id, a string such as "
            f"{next(iter(modules))!r} (or None to leave the slot empty); got {module!r}"
        )
    if quantity is None:
        quantity = 1 if found.single or module is None else None
    elif isinstance(quantity, bool) or not isinstance(quantity, int):
        raise NeedsError(f"quantity {quantity!r} of '{slot}.{module}' is not a whole number")
    if module is None:
        if found.cardinality.min > 0:
            raise NeedsError(f"slot '{slot}' must be filled; choose one of {', '.join(modules)}")
    elif module not in modules:
        raise NeedsError(f"slot '{slot}' has no module '{module}'{did_you_mean(module, modules)}")
    else:
        # a multi-select slot also takes "none of this module" (quantity 0)
        low = 1 if found.cardinality.max == 1 else 0  # (a single-choice slot)
        limit = modules[module].max_quantity
        if quantity is not None and not low <= quantity <= limit:
            raise NeedsError(
                f"quantity {quantity} of '{slot}.{module}' is out of range {low}..{limit}"
            )
    return _Choice(slot, module, quantity)
