"""Catalog lint: what a catalog owner should look at before customers do.

Findings: dead modules (in no valid configuration), core modules (in all of them), slots whose
choice is always forced, redundant rules (implied by the others), price rules that can never
apply, and a wrong ``expected_count``. Dead modules, an empty catalog and a wrong expected count
are errors; the rest are warnings or notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..model import Needs
from ..solve import TreeQuery, build_tree

if TYPE_CHECKING:
    from .._configurator import Configurator

__all__ = ["Finding", "lint"]

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Finding:
    """One lint finding: its severity, a stable code, where (slot, module or rule id), what."""

    severity: Severity
    code: str
    where: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "code": self.code,
            "where": self.where,
            "message": self.message,
        }


def lint(cfg: Configurator) -> list[Finding]:
    """Every finding for the compiled catalog, errors first."""
    catalog = cfg.catalog
    findings: list[Finding] = []
    total = cfg.count()
    if catalog.expected_count is not None and catalog.expected_count != total:
        findings.append(
            Finding(
                "error",
                "expected-count",
                catalog.name,
                f"the catalog states expected_count {catalog.expected_count} but has {total} "
                "valid configurations; fix the rules or the stated count",
            )
        )
    if total == 0:
        findings.append(
            Finding(
                "error",
                "empty",
                catalog.name,
                "no configuration is valid; the rules contradict each other",
            )
        )
        return findings
    marginals = cfg._base_query.marginals()
    for var, (slot_id, slot) in enumerate(catalog.slots.items()):
        counts = {
            module: sum(marginals[var][v][0] for v in cfg._module_values[var][module])
            for module in slot.modules
        }
        for module, count in counts.items():
            if count == 0:
                findings.append(
                    Finding(
                        "error",
                        "dead-module",
                        f"{slot_id}.{module}",
                        "is in no valid configuration; remove it or relax the rules that "
                        "exclude it",
                    )
                )
            elif count == total and len(slot.modules) > 1:
                findings.append(
                    Finding(
                        "note",
                        "core-module",
                        f"{slot_id}.{module}",
                        "is in every valid configuration",
                    )
                )
        alive = [module for module, count in counts.items() if count]
        if slot.single and len(slot.modules) > 1 and len(alive) == 1 and counts[alive[0]] == total:
            findings.append(
                Finding(
                    "warning",
                    "forced-slot",
                    slot_id,
                    f"the choice is always forced to '{alive[0]}'; the customer has nothing to "
                    "choose here",
                )
            )
    findings.extend(_redundant_rules(cfg))
    for rule in catalog.conditional_price_rules:
        if cfg.count(Needs(conditions=[rule.condition])) == 0:
            findings.append(
                Finding(
                    "warning",
                    "price-rule-never-applies",
                    rule.id,
                    f"its condition '{rule.condition}' holds in no valid configuration",
                )
            )
    order = {"error": 0, "warning": 1, "note": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def _redundant_rules(cfg: Configurator) -> list[Finding]:
    """Rules implied by the others: dropping one leaves the number of configurations as is.

    Each candidate is checked exactly, by counting the catalog without it (one tree
    decomposition per rule). Rules that act on one slot alone are reported as dead modules
    instead.
    """
    base = cfg._base
    total = cfg.count()
    unary = set(base.unary_reasons.values())
    sources = list(dict.fromkeys(c.source for c in base.constraints))
    found = []
    for source in sources:
        if source in unary:
            continue
        without = base.copy()
        without.constraints = [c for c in base.constraints if c.source != source]
        if TreeQuery(build_tree(without), without).count() == total:
            found.append(
                Finding(
                    "warning",
                    "redundant-rule",
                    source,
                    "is implied by the other rules; removing it changes nothing",
                )
            )
    return found
