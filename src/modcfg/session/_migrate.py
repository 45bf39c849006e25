"""Saved choices carried over to a new catalog version, with every change listed.

:func:`migrate_choices` replays saved choices in their order on the new version: a choice whose
slot is gone is dropped; a choice whose module is retired, or that no longer leaves a valid
configuration with the choices kept before it, is replaced by the nearest module of its slot
that does (the most attribute values in common with the old module, then the closest price,
then the closest id), or dropped when none does. Every replacement and drop is a
:class:`MigrationChange`; the result always leaves a valid configuration (``feasible`` says so).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._errors import InfeasibleError, NeedsError
from ..model import Catalog, Needs, Slot

if TYPE_CHECKING:
    from .._configurator import Configurator
    from ._saved import SavedSession
    from ._session import Session

__all__ = ["MigrationChange", "SavedChoice", "choosing", "migrate_choices", "migrate_session"]

#: A choice as saved: slot, module (None: the slot left empty), quantity (None: any quantity
#: of one or more).
SavedChoice = tuple[str, str | None, int | None]


@dataclass(frozen=True)
class MigrationChange:
    """One change made to a saved session or order to fit a new catalog version.

    ``kind`` is ``"replaced"`` (``old`` became ``new``), ``"dropped"`` (``old`` is no longer
    chosen) or ``"history"`` (the undo and redo steps were not carried over); ``line`` names
    the order line, when the change is in an order.
    """

    kind: str
    slot: str | None
    old: str | None
    new: str | None
    reason: str
    line: str | None = None

    def __str__(self) -> str:
        where = f"{self.line}: " if self.line else ""
        if self.kind == "replaced":
            return f"{where}{self.slot}: {self.old} -> {self.new} ({self.reason})"
        if self.kind == "dropped":
            return f"{where}{self.slot}: {self.old} dropped ({self.reason})"
        return f"{where}{self.reason}"


def _units(slot: Slot, module: str, quantity: int | None) -> int | None:
    """The quantity of ``module`` replacing a saved choice of ``quantity``: one in a
    single-choice slot, else the saved quantity within the module's limit (None, any
    quantity, stays so)."""
    if slot.single:
        return 1
    return quantity if quantity is None else min(quantity, slot.modules[module].max_quantity)


def _nearest(
    catalog: Catalog, slot: str, old: str, old_catalog: Catalog | None, candidates: Sequence[str]
) -> list[str]:
    """``candidates`` ordered by closeness to module ``old`` (as it was, when known)."""
    modules = catalog.slots[slot].modules
    before = None
    if old_catalog is not None and slot in old_catalog.slots:
        before = old_catalog.slots[slot].modules.get(old)
    if before is None:
        before = modules.get(old)

    def distance(candidate: str) -> tuple[int, object, float]:
        module = modules[candidate]
        if before is None:
            return (0, 0, -difflib.SequenceMatcher(None, old, candidate).ratio())
        common = sum(module.attributes.get(k) == v for k, v in before.attributes.items())
        return (-common, abs(module.price - before.price), -_likeness(old, candidate))

    return sorted(candidates, key=distance)


def _likeness(old: str, new: str) -> float:
    return difflib.SequenceMatcher(None, old, new).ratio()


def migrate_choices(
    catalog: Catalog,
    saved: Sequence[SavedChoice],
    feasible: Callable[[tuple[SavedChoice, ...]], bool],
    *,
    old_catalog: Catalog | None = None,
    line: str | None = None,
) -> tuple[tuple[SavedChoice, ...], tuple[MigrationChange, ...]]:
    """The saved ``(slot, module, quantity)`` choices made valid on ``catalog``, and the
    changes; ``feasible(choices)`` says whether choices leave a valid configuration."""
    kept: list[SavedChoice] = []
    changes: list[MigrationChange] = []
    for slot, module, quantity in saved:
        found = catalog.slots.get(slot)
        if found is None:
            changes.append(
                MigrationChange("dropped", slot, module, None, "the slot was removed", line)
            )
            continue
        if module is None:
            if feasible((*kept, (slot, None, quantity))):
                kept.append((slot, None, quantity))
            else:
                changes.append(
                    MigrationChange("dropped", slot, "none", None, "must be filled", line)
                )
            continue
        taken = {chosen for kept_slot, chosen, _ in kept if kept_slot == slot}
        if module in found.modules:
            limit = found.modules[module].max_quantity
            choice = (slot, module, quantity if quantity is None else min(quantity, limit))
            if feasible((*kept, choice)):
                kept.append(choice)
                if choice[2] != quantity:
                    reason = f"at most {limit} units now"
                    changes.append(
                        MigrationChange(
                            "replaced",
                            slot,
                            f"{module} x{quantity}",
                            f"{module} x{limit}",
                            reason,
                            line,
                        )
                    )
                continue
            reason = "no longer valid with the other choices"
        else:
            reason = "the module was retired"
        others = [m for m in found.modules if m != module and m not in taken]
        for candidate in _nearest(catalog, slot, module, old_catalog, others):
            units = _units(found, candidate, quantity)
            choice = (slot, candidate, units)
            if feasible((*kept, choice)):
                kept.append(choice)
                changes.append(
                    MigrationChange(
                        "replaced", slot, module, candidate, f"{reason}; nearest valid", line
                    )
                )
                break
        else:
            changes.append(
                MigrationChange("dropped", slot, module, None, f"{reason}; nothing fits", line)
            )
    return tuple(kept), tuple(changes)


def choosing(session: Session) -> Callable[[tuple[SavedChoice, ...]], bool]:
    """The ``feasible`` of :func:`migrate_choices` for a session that takes the choices as
    they are kept: the last choice is made in ``session`` when it leaves a valid configuration
    (one undo step each), refused otherwise."""

    def feasible(choices: tuple[SavedChoice, ...]) -> bool:
        slot, module, quantity = choices[-1]
        try:
            session.choose(slot, module, quantity)
        except (InfeasibleError, NeedsError):
            return False
        return True

    return feasible


def migrate_session(
    cls: type[Session], cfg: Configurator, saved: SavedSession, *, time_limit: float | None
) -> Session:
    """A session saved on another version of ``cfg``'s catalog, migrated: its needs, then its
    current choices as :func:`migrate_choices` keeps them; the old history is dropped. It
    gets ``time_limit`` (see :meth:`Configurator.session`)."""
    needs = None if saved.needs is None else Needs.from_data(saved.needs.data())
    if needs is not None:
        cfg.resolve(needs)
    session = cls(cfg, needs, time_limit=time_limit)  # InfeasibleError: the needs leave nothing
    choices = [(slot, module, quantity) for slot, module, quantity in saved.choices]
    _, changes = migrate_choices(cfg.catalog, choices, choosing(session))
    if saved.undo or saved.redo:
        steps = len(saved.undo) + len(saved.redo)
        text = f"the history of version {saved.version} ({steps} steps) was dropped"
        changes += (MigrationChange("history", None, None, None, text),)
    session.migration = changes
    return session
