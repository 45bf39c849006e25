"""What a configuration breaks with one of its slots changed, read off the rules over that slot.

Explaining why a suggestion differs from a customer's usual configuration asks, for every slot
that differs, which rules the suggestion would break with that slot set back to the usual
choice. A whole check per slot reads every rule: on a feature model of 1,850 features whose
suggestion changed 900 slots, 900 checks of 2,468 rules took 16 s. :class:`SlotBreaks` reads the
configuration and the rules once, then per change only the rules over the changed slot (and the
global sums, by the change of their totals).

Invariant: ``SlotBreaks(compiled, configuration).breaks(slot, choice)`` is what
:meth:`~modcfg.Configurator.violations` reports of the rules (kind ``"rule"``, one per text, in
the same order) for ``configuration`` with ``slot`` set to ``choice``, with no needs
(tests/test_slot_breaks.py compares both).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ._reasons import Reason, rule_reason
from .model import Configuration

if TYPE_CHECKING:
    from ._compiled import CompiledCatalog

__all__ = ["SlotBreaks"]


class SlotBreaks:
    """The rules ``configuration`` (a choice for every slot of the catalog) breaks as it is
    (:meth:`broken`, what :meth:`~modcfg.Configurator.violations` reports of the rules), and
    with one slot changed (:meth:`breaks`). Made per configuration, and not shared between
    threads: :meth:`breaks` changes one value while it reads."""

    def __init__(self, compiled: CompiledCatalog, configuration: Configuration) -> None:
        problem = compiled.base
        self._compiled = compiled
        self._var = {slot: var for var, slot in enumerate(compiled.slots)}
        self._values = [
            domain.index_of(configuration[slot])
            for slot, domain in zip(compiled.slots, compiled.domains, strict=True)
        ]
        values = self._values
        #: the constraints the configuration breaks as it is
        self._broken = {
            index
            for index, constraint in enumerate(problem.constraints)
            if not constraint.holds(tuple(values[var] for var in constraint.scope))
        }
        self._excluded = [
            var for var, value in enumerate(values) if not problem.allowed[var][value]
        ]
        self._totals = [
            sum(resource.weights[var][value] for var, value in enumerate(values))
            for resource in problem.resources
        ]

    @cached_property
    def _over(self) -> list[list[int]]:
        """Per variable, the constraints over it (made for the first change asked about)."""
        over: list[list[int]] = [[] for _ in self._values]
        for index, constraint in enumerate(self._compiled.base.constraints):
            for var in constraint.scope:
                over[var].append(index)
        return over

    def broken(self) -> list[Reason]:
        """The rules the configuration breaks, in the rules' order: value filters, then
        relations, then global sums (a reason per rule broken, texts repeated)."""
        sums = [
            r.holds(t) for r, t in zip(self._compiled.base.resources, self._totals, strict=True)
        ]
        return self._reasons(self._excluded, sorted(self._broken), sums)

    def breaks(self, slot: str, choice: Any) -> list[Reason]:
        """The rules broken with ``slot`` set to ``choice``, one per text (NeedsError when the
        slot does not take it)."""
        compiled = self._compiled
        problem = compiled.base
        var = self._var[slot]
        checked = Configuration.checked_choice(compiled.catalog.slots[slot], choice)
        value = compiled.domains[var].index_of(checked)
        values = self._values
        was, values[var] = values[var], value
        try:
            over = self._over[var]
            kept = self._broken - set(over)
            for index in over:
                constraint = problem.constraints[index]
                if not constraint.holds(tuple(values[v] for v in constraint.scope)):
                    kept.add(index)
            sums = [
                resource.holds(total - resource.weights[var][was] + resource.weights[var][value])
                for resource, total in zip(problem.resources, self._totals, strict=True)
            ]
            broken = self._reasons(sorted({*self._excluded, var}), sorted(kept), sums)
        finally:
            values[var] = was
        unique: dict[str, Reason] = {}  # one reason per text, as violations() gives them
        for reason in broken:
            unique.setdefault(reason.text, reason)
        return list(unique.values())

    def _reasons(
        self, excluded: Iterable[int], constraints: Iterable[int], sums: Sequence[bool]
    ) -> list[Reason]:
        """The reasons of the variables of ``excluded`` whose value a filter removed, of the
        ``constraints`` (indexes) and of the global sums that do not hold (``sums``: each
        one's verdict)."""
        problem = self._compiled.base
        catalog = self._compiled.catalog
        values = self._values
        broken: list[Reason] = []
        for var in excluded:
            if not problem.allowed[var][values[var]]:
                rule = problem.unary_reasons.get((var, values[var]))
                broken.append(Reason("rule", "?") if rule is None else rule_reason(catalog, rule))
        broken += [rule_reason(catalog, problem.constraints[i].source) for i in constraints]
        broken += [
            rule_reason(catalog, resource.source)
            for resource, holds in zip(problem.resources, sums, strict=True)
            if not holds
        ]
        return broken
