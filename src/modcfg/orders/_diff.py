"""What changed between two versions of a catalog: modules, prices, rules, parts and counts.

:func:`diff_catalogs` compares by ids: a module is ``slot.module``, a rule or price rule its id
(changed when any of its fields differs). Counts are exact (each catalog is compiled).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .._configurator import compile as compile_catalog
from ..model import Catalog

__all__ = ["CatalogDiff", "diff_catalogs"]


@dataclass(frozen=True)
class CatalogDiff:
    """The changes from ``old`` to ``new`` (each tuple in catalog order)."""

    old: Catalog
    new: Catalog
    added: tuple[str, ...]
    retired: tuple[str, ...]
    repriced: tuple[tuple[str, Decimal, Decimal], ...]
    rules_added: tuple[str, ...]
    rules_removed: tuple[str, ...]
    rules_changed: tuple[str, ...]
    count_before: int
    count_after: int

    @property
    def unchanged(self) -> bool:
        return not (
            self.added
            or self.retired
            or self.repriced
            or self.rules_added
            or self.rules_removed
            or self.rules_changed
        )

    def lines(self) -> list[str]:
        """The changes as lines of text, one per change, then the counts."""
        old, new = self.old, self.new
        out = [f"{old.name} {old.version} -> {new.name} {new.version}"]
        if (old.valid_from, old.valid_until) != (new.valid_from, new.valid_until):
            out.append(
                f"validity: {old.valid_from} .. {old.valid_until} -> "
                f"{new.valid_from} .. {new.valid_until}"
            )
        out += [f"added    {ref}" for ref in self.added]
        out += [f"retired  {ref}" for ref in self.retired]
        out += [f"repriced {ref}: {a} -> {b}" for ref, a, b in self.repriced]
        out += [f"rule added   {rule}" for rule in self.rules_added]
        out += [f"rule removed {rule}" for rule in self.rules_removed]
        out += [f"rule changed {rule}" for rule in self.rules_changed]
        out.append(f"configurations: {self.count_before:,} -> {self.count_after:,}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def diff_catalogs(old: Catalog, new: Catalog) -> CatalogDiff:
    """The changes from catalog ``old`` to ``new``.

    >>> import modcfg
    >>> base = modcfg.load_catalog("windows")
    >>> print(modcfg.diff_catalogs(base, base))
    windows 2026.1 -> windows 2026.1
    configurations: 1,800 -> 1,800
    """
    before, after = list(old.module_refs()), list(new.module_refs())
    kept = [ref for ref in after if ref in set(before)]
    repriced = tuple(
        (ref, old.module(ref).price, new.module(ref).price)
        for ref in kept
        if old.module(ref).price != new.module(ref).price
    )
    old_rules = {rule.id: rule for rule in (*old.rules, *old.prices)}
    new_rules = {rule.id: rule for rule in (*new.rules, *new.prices)}
    return CatalogDiff(
        old=old,
        new=new,
        added=tuple(ref for ref in after if ref not in set(before)),
        retired=tuple(ref for ref in before if ref not in set(after)),
        repriced=repriced,
        rules_added=tuple(rule for rule in new_rules if rule not in old_rules),
        rules_removed=tuple(rule for rule in old_rules if rule not in new_rules),
        rules_changed=tuple(
            rule
            for rule in new_rules
            if rule in old_rules and new_rules[rule].model_dump() != old_rules[rule].model_dump()
        ),
        count_before=compile_catalog(old).count(),
        count_after=compile_catalog(new).count(),
    )
