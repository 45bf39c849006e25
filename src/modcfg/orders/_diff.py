"""What changed between two versions of a catalog: modules, prices, rules, parts and counts.

:func:`diff_catalogs` compares modules by ids (``slot.module``). Rules and price rules equal
under one id are unchanged; the others are paired by what they say first (every field but
their id and message): a pair under two ids is the same rule *renamed*, under one id a rule
whose message changed. The rules left are paired by id (changed), else added or removed.
Models whose rule ids are positions (a DIMACS file's ``clause-12``) thus show the clauses
really added and removed, not every clause after the first change. Counts are exact (each
catalog is compiled).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .._configurator import compile as compile_catalog
from ..model import Catalog
from ..model._pricing import PriceRule
from ..model._rules import Rule

__all__ = ["CatalogDiff", "diff_catalogs"]

#: Renamed rules listed one a line up to this many (more: one line with the first few).
_LISTED_RENAMES = 20


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
    #: (old id, new id) of the rules kept under another id, in the new catalog's order
    rules_renamed: tuple[tuple[str, str], ...] = field(default=())

    @property
    def unchanged(self) -> bool:
        return not (
            self.added
            or self.retired
            or self.repriced
            or self.rules_added
            or self.rules_removed
            or self.rules_changed
            or self.rules_renamed
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
        renamed = self.rules_renamed
        if len(renamed) <= _LISTED_RENAMES:
            out += [f"rule renamed {a} -> {b}" for a, b in renamed]
        else:  # (a model numbering its rules by position: every later rule moves)
            first = ", ".join(f"{a} -> {b}" for a, b in renamed[:3])
            out.append(f"rules renamed: {len(renamed):,}, unchanged under new ids ({first}, ...)")
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
    was, now = set(before), set(after)  # (made once: a set per module took minutes at 10^4)
    kept = [ref for ref in after if ref in was]
    repriced = tuple(
        (ref, old.module(ref).price, new.module(ref).price)
        for ref in kept
        if old.module(ref).price != new.module(ref).price
    )
    added, removed, changed, renamed = _rule_changes(
        (*old.rules, *old.prices), (*new.rules, *new.prices)
    )
    return CatalogDiff(
        old=old,
        new=new,
        added=tuple(ref for ref in after if ref not in was),
        retired=tuple(ref for ref in before if ref not in now),
        repriced=repriced,
        rules_added=added,
        rules_removed=removed,
        rules_changed=changed,
        rules_renamed=renamed,
        count_before=compile_catalog(old).count(),
        count_after=compile_catalog(new).count(),
    )


def _content(rule: Rule | PriceRule) -> str:
    """What a rule says: every field but its id and message (a DIMACS clause's message
    names its position too)."""
    return json.dumps(rule.model_dump(mode="json", exclude={"id", "message"}), sort_keys=True)


def _rule_changes(
    old: Sequence[Rule | PriceRule], new: Sequence[Rule | PriceRule]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The ids of the rules added, removed and changed, and the (old, new) ids of the rules
    renamed, from the ``old`` rules to the ``new`` ones (see the module docstring): rules
    equal under one id are kept; the others are paired by content first (the same id when it
    can), then by id."""
    old_by_id = {rule.id: rule for rule in old}
    kept = {
        rule.id
        for rule in new
        if rule.id in old_by_id and rule.model_dump() == old_by_id[rule.id].model_dump()
    }
    saying: defaultdict[str, list[str]] = defaultdict(list)  # content -> old ids left
    for rule in old:
        if rule.id not in kept:
            saying[_content(rule)].append(rule.id)
    paired: set[str] = set()  # the old ids paired with a new rule
    changed: set[str] = set()
    renamed: list[tuple[str, str]] = []
    unpaired = []
    for rule in new:
        if rule.id in kept:
            continue
        ids = saying.get(_content(rule))
        if not ids:
            unpaired.append(rule)
            continue
        old_id = rule.id if rule.id in ids else ids[0]
        ids.remove(old_id)
        paired.add(old_id)
        if old_id == rule.id:
            changed.add(rule.id)  # (its message only)
        else:
            renamed.append((old_id, rule.id))
    added = []
    for rule in unpaired:
        if rule.id in old_by_id and rule.id not in paired:
            paired.add(rule.id)
            changed.add(rule.id)
        else:
            added.append(rule.id)
    removed = [rule.id for rule in old if rule.id not in kept and rule.id not in paired]
    in_order = tuple(rule.id for rule in new if rule.id in changed)
    return tuple(added), tuple(removed), in_order, tuple(renamed)
