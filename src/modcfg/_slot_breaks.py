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

from typing import TYPE_CHECKING, Any

from ._reasons import Reason, rule_reason
from .model import Configuration

if TYPE_CHECKING:
    from ._compiled import CompiledCatalog

__all__ = ["SlotBreaks"]


class SlotBreaks:
    """The rules ``configuration`` (valid for the catalog's slots) would break with one slot
    changed."""

    def __init__(self, compiled: CompiledCatalog, configuration: Configuration) -> None:
        problem = compiled.base
        self._compiled = compiled
        self._var = {slot: var for var, slot in enumerate(compiled.slots)}
        self._values = [
            domain.index_of(configuration[slot])
            for slot, domain in zip(compiled.slots, compiled.domains, strict=True)
        ]
        values = self._values
        #: per variable, the constraints over it
        self._over: list[list[int]] = [[] for _ in values]
        self._broken: set[int] = set()  # (constraints the configuration breaks as it is)
        for index, constraint in enumerate(problem.constraints):
            for var in constraint.scope:
                self._over[var].append(index)
            if not constraint.holds(tuple(values[var] for var in constraint.scope)):
                self._broken.add(index)
        self._excluded = [
            var for var, value in enumerate(values) if not problem.allowed[var][value]
        ]
        self._totals = [
            sum(resource.weights[var][value] for var, value in enumerate(values))
            for resource in problem.resources
        ]

    def breaks(self, slot: str, choice: Any) -> list[Reason]:
        """The rules broken with ``slot`` set to ``choice`` (NeedsError when the slot does not
        take it)."""
        compiled = self._compiled
        problem = compiled.base
        catalog = compiled.catalog
        var = self._var[slot]
        checked = Configuration.checked_choice(catalog.slots[slot], choice)
        value = compiled.domains[var].index_of(checked)
        values = self._values
        was, values[var] = values[var], value
        try:
            broken: list[Reason] = []
            for other in sorted({*self._excluded, var}):
                if not problem.allowed[other][values[other]]:
                    rule = problem.unary_reasons.get((other, values[other]))
                    broken.append(
                        Reason("rule", "?") if rule is None else rule_reason(catalog, rule)
                    )
            over = set(self._over[var])
            kept = {index for index in self._broken if index not in over}
            for index in self._over[var]:
                constraint = problem.constraints[index]
                if not constraint.holds(tuple(values[v] for v in constraint.scope)):
                    kept.add(index)
            broken += [rule_reason(catalog, problem.constraints[i].source) for i in sorted(kept)]
            for resource, total in zip(problem.resources, self._totals, strict=True):
                weights = resource.weights[var]
                if not resource.holds(total - weights[was] + weights[value]):
                    broken.append(rule_reason(catalog, resource.source))
        finally:
            values[var] = was
        unique: dict[str, Reason] = {}  # one reason per text, as violations() gives them
        for reason in broken:
            unique.setdefault(reason.text, reason)
        return list(unique.values())
