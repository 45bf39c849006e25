"""The tables a session state reads off a compiled catalog: per slot, the values holding each
module and what a state lists for each module.

They are derived from the catalog's domains on first use and never change (a value two
threads race to compute is the same); :class:`~modcfg._compiled.CompiledCatalog` has them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from operator import itemgetter
from typing import Any

from .lower import SlotDomain
from .model import Catalog

__all__ = ["OptionEntry", "OptionTables"]

#: Per module of a slot, what a session state lists: the module, its one value (or -1:
#: several, one per quantity vector holding it), its values, and a getter of those values'
#: entries in a per-value list.
OptionEntry = tuple[str, int, list[int], Callable[[list[Any]], tuple[Any, ...]]]


def _getter(values: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """A function picking ``values``' entries of a list, as a tuple (one C call)."""
    if len(values) > 1:
        return itemgetter(*values)
    return lambda row: tuple(row[v] for v in values)


class OptionTables:
    """The session tables of a catalog's ``domains`` (see the module docstring)."""

    catalog: Catalog
    domains: tuple[SlotDomain, ...]

    @cached_property
    def module_values(self) -> list[dict[str, list[int]]]:
        """Per slot: module id -> the slot's values that contain it."""
        found = []
        for domain in self.domains:
            containing: dict[str, list[int]] = {
                m: [] for m in self.catalog.slots[domain.slot].modules
            }
            for value, units in enumerate(domain.units):
                for module in dict.fromkeys(m for m, _ in units):
                    containing[module].append(value)
            found.append(containing)
        return found

    @cached_property
    def option_rows(self) -> list[tuple[str, list[OptionEntry]]]:
        """Per slot, what a session state lists (see :data:`OptionEntry`)."""
        return [
            (
                domain.slot,
                [(m, v[0] if len(v) == 1 else -1, v, _getter(v)) for m, v in containing.items()],
            )
            for domain, containing in zip(self.domains, self.module_values, strict=True)
        ]

    @cached_property
    def option_entries(self) -> list[dict[str, OptionEntry]]:
        """Per slot, :attr:`option_rows`' entries by module."""
        return [{entry[0]: entry for entry in entries} for _, entries in self.option_rows]

    @cached_property
    def single_slots(self) -> list[bool]:
        """Per slot, whether it holds at most one module (one value per module)."""
        return [all(value >= 0 for _, value, _, _ in entries) for _, entries in self.option_rows]
