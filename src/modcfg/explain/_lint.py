"""Catalog checks: what a catalog owner should look at before customers do.

Findings: dead modules (in no valid configuration), core modules (in all of them), slots whose
choice is always forced, redundant rules (implied by the others), price rules that can never
apply, and a wrong ``expected_count``. An empty catalog (it names a minimal set of
contradicting rules) and a wrong expected count are errors; dead modules are errors too,
except in models imported from other tools, where they belong to the source model and are
warnings; the rest are warnings or information.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .._arguments import deadline_after
from .._errors import LimitExceeded, TimeLimitExceeded
from ..engines.compiled import CountingOnly
from ..engines.decomposition import TreeQuery, build_tree
from ..model import Needs
from ._rules import rule_conflict

if TYPE_CHECKING:
    from .._configurator import Configurator

__all__ = ["Finding", "Severity", "lint"]

Severity = Literal["error", "warning", "info"]
_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One finding of :meth:`modcfg.Configurator.check`.

    ``severity``: ``"error"`` (the catalog is wrong), ``"warning"`` (worth a look) or
    ``"info"``; ``code`` a stable name (``"dead-module"``, ``"redundant-rule"``, ...);
    ``slot``, ``module`` and ``rule`` the ids it is about, where relevant (``module`` with its
    ``slot``; ``rule`` may name a price rule); ``message`` what is wrong and what to do.

    >>> finding = Finding("error", "dead-module", "is in no valid configuration",
    ...                   slot="frame", module="oak")
    >>> finding.where, str(finding)
    ('frame.oak', 'error [dead-module] frame.oak: is in no valid configuration')
    """

    severity: Severity
    code: str
    message: str
    slot: str | None = None
    module: str | None = None
    rule: str | None = None

    @property
    def where(self) -> str:
        """What the finding is about: ``slot.module``, a slot or rule id, or ``"catalog"``."""
        if self.module is not None:
            return f"{self.slot}.{self.module}"
        return self.slot or self.rule or "catalog"

    def __str__(self) -> str:
        return f"{self.severity} [{self.code}] {self.where}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """The finding as plain data (what ``modcfg check --format json`` prints)."""
        found = {
            "severity": self.severity,
            "code": self.code,
            "where": self.where,
            "message": self.message,
        }
        ids = {"slot": self.slot, "module": self.module, "rule": self.rule}
        found.update({key: value for key, value in ids.items() if value is not None})
        return found


def lint(
    cfg: Configurator,
    *,
    dead_modules: Severity = "error",
    time_limit: float | None = None,
) -> list[Finding]:
    """Every finding for the compiled catalog, errors first (see :meth:`Configurator.check`);
    ``time_limit`` bounds the search for redundant rules (None: every rule)."""
    catalog = cfg.catalog
    findings: list[Finding] = []
    total = cfg.count()
    if catalog.expected_count is not None and catalog.expected_count != total:
        findings.append(
            Finding(
                "error",
                "expected-count",
                f"the catalog states expected_count {catalog.expected_count} but has {total} "
                "valid configurations; fix the rules or the stated count",
            )
        )
    if total == 0:
        contradiction = rule_conflict(cfg)
        findings.append(
            Finding(
                "error",
                "empty",
                "no configuration is valid; "
                + (str(contradiction) if contradiction else "the rules contradict each other"),
            )
        )
        return findings
    options = _option_counts(cfg)
    for var, (slot_id, slot) in enumerate(catalog.slots.items()):
        counts = {
            module: sum(options[var][v] for v in cfg.compiled.module_values[var][module])
            for module in slot.modules
        }
        for module, count in counts.items():
            if count == 0:
                findings.append(
                    Finding(
                        dead_modules,
                        "dead-module",
                        "is in no valid configuration; remove it or relax the rules that "
                        "exclude it",
                        slot=slot_id,
                        module=module,
                    )
                )
            elif count == total and len(slot.modules) > 1:
                findings.append(
                    Finding(
                        "info",
                        "core-module",
                        "is in every valid configuration",
                        slot=slot_id,
                        module=module,
                    )
                )
        alive = [module for module, count in counts.items() if count]
        if slot.single and len(slot.modules) > 1 and len(alive) == 1 and counts[alive[0]] == total:
            findings.append(
                Finding(
                    "warning",
                    "forced-slot",
                    f"the choice is always forced to '{alive[0]}'; the customer has nothing to "
                    "choose here",
                    slot=slot_id,
                )
            )
    deadline = deadline_after(time_limit)
    findings.extend(_redundant_rules(cfg, deadline, time_limit))
    for rule in catalog.conditional_price_rules:
        if cfg.count(Needs(conditions=[rule.condition])) == 0:
            findings.append(
                Finding(
                    "warning",
                    "price-rule-never-applies",
                    f"its condition '{rule.condition}' holds in no valid configuration",
                    rule=rule.id,
                )
            )
    return sorted(findings, key=lambda f: _ORDER[f.severity])


def _option_counts(cfg: Configurator) -> list[list[int]]:
    """Per slot and value, the configurations holding it, from the engine that answers for
    the catalog (the tree, or for a catalog too entangled to decompose, the compiled engine
    or the tree with wide clauses set aside)."""
    query = cfg.compiled.plan(None).query
    if isinstance(query, CountingOnly):
        return query.option_counts()
    return [[number for number, _ in row] for row in query.marginals()]


def _redundant_rules(
    cfg: Configurator, deadline: float | None, time_limit: float | None
) -> list[Finding]:
    """Rules implied by the others: dropping one leaves the number of configurations as is.

    Each candidate is checked exactly, until ``deadline`` (:func:`time.monotonic`), first by
    propagation (``Propagator.implied``: under a millisecond a rule of a feature model, and
    it settles a quarter to three quarters of them), then, for the rules it leaves open, by
    counting the catalog without the rule (one tree decomposition per rule); an information
    finding says how many were left. Rules that act on one slot alone are reported as dead
    modules instead. A catalog too entangled to decompose is not searched: the tree without
    one rule would be as wide as the catalog's.
    """
    if cfg.compiled.wide_base is not None:
        return [
            Finding(
                "info",
                "redundancy-not-checked",
                "redundant rules were not looked for: the rules tie too many slots together "
                "to count the catalog once without each rule",
            )
        ]
    base = cfg.compiled.base
    total = cfg.count()
    unary = set(base.unary_reasons.values())
    rules = [s for s in dict.fromkeys(c.source for c in base.constraints) if s not in unary]
    redundant: dict[str, bool] = {}  # per rule checked so far
    open_rules = []
    for source in rules:  # propagation first: it settles most, at once
        if deadline is not None and time.monotonic() > deadline:
            break
        if cfg.compiled.propagator.implied(source):
            redundant[source] = True
        else:
            open_rules.append(source)
    for source in open_rules:
        if deadline is not None and time.monotonic() > deadline:
            break
        without = base.copy()
        without.constraints = [c for c in base.constraints if c.source != source]
        try:
            tree = build_tree(without, deadline=deadline)  # (its fill stops at the deadline)
            redundant[source] = TreeQuery(tree, without).count() == total
        except TimeLimitExceeded:  # (this rule is left unchecked, as the ones after it)
            break
        except LimitExceeded:  # (without this rule the tree is too large: not redundant-checked)
            redundant[source] = False
    found = [
        Finding(
            "warning",
            "redundant-rule",
            "is implied by the other rules; removing it changes nothing",
            rule=source,
        )
        for source in rules
        if redundant.get(source)
    ]
    if len(redundant) < len(rules):
        found.append(
            Finding(
                "info",
                "redundancy-not-checked",
                f"looked for redundant rules among {len(redundant):,} of the {len(rules):,} "
                f"rules over two slots or more within {time_limit:g} s; give check() a larger "
                "time_limit= (--time-limit on the command line) to look at every rule",
            )
        )
    return found
