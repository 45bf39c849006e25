"""Which catalog rules contradict: a minimal set of rules that together leave nothing.

Every rule becomes a switchable group of a CP-SAT model
(:class:`~..engines.cpsat._cores.ConflictModel`), compiled on its own over the slots' whole
domains, so that a group holds exactly what its rule says (the compiled catalog tabulates a rule
after earlier rules have pruned the domains, so its tables also carry their effect). CP-SAT's
assumption core narrows the rules, deletion makes the set minimal: the rules found leave no
configuration, and dropping any one of them leaves some. The result is checked once with the
decomposition engine; should the two engines disagree, a deletion over the engine's own counts
decides.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._errors import LimitExceeded
from .._reasons import Reason
from ..engines import Bounds
from ..engines.cpsat._cores import ConflictModel, Group
from ..engines.decomposition import TreeQuery, build_tree
from ..lower import LoweredRule, Problem, compile_rules, lower_each_rule
from ..model import Catalog, Needs, Rule

if TYPE_CHECKING:
    from .._configurator import Configurator

__all__ = ["RuleConflict", "rule_conflict", "rule_group", "rule_text", "rules_behind_needs"]


@dataclass(frozen=True)
class RuleConflict:
    """Catalog rules that together leave no configuration: their ids and their texts."""

    rules: tuple[str, ...]
    texts: tuple[str, ...]

    def reasons(self) -> tuple[Reason, ...]:
        """The rules as reasons, each with its text."""
        return tuple(
            Reason("rule", text, rule=rule)
            for rule, text in zip(self.rules, self.texts, strict=True)
        )

    def __str__(self) -> str:
        quoted = [f"'{rule}'" for rule in self.rules]
        texts = "; ".join(self.texts)
        if len(quoted) == 1:
            return f"rule {quoted[0]} leaves no configuration: {texts}; remove or relax it"
        names = ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
        return (
            f"rules {names} together leave no configuration: {texts}; remove or relax one of them"
        )


def rule_text(rule: Rule) -> str:
    """A rule in words: its message, else what it says (``frame.oak requires glass.triple``)."""
    return rule.in_words()


def rule_group(catalog: Catalog, cfg: Configurator, rule: Rule) -> Group:
    """The group of one rule, compiled on its own (every value of every slot possible)."""
    lowered = lower_each_rule(catalog, cfg.compiled.domains, rules=(rule,))
    return _group(cfg, rule, next(lowered)[1])


def _group(cfg: Configurator, rule: Rule, lowered: LoweredRule | LimitExceeded) -> Group:
    """The group of ``rule`` from its lowering on its own (:func:`lower_each_rule`)."""
    group = Group(("rule", rule.id))
    if isinstance(lowered, LimitExceeded):
        # too wide over the whole domains: use the rule as the catalog compiled it
        part = _compiled_part(cfg.compiled.base, rule.id)
        kept = {
            var: frozenset(v for v, ok in enumerate(mask) if ok)
            for var, mask in enumerate(part.allowed)
            if not all(mask)
        }
        lowered = LoweredRule(kept, part.constraints, part.resources)
    group.unary.extend(sorted(lowered.kept.items()))
    for constraint in lowered.constraints:
        if constraint.source == rule.id:
            group.add(constraint)
    group.sums.extend(r for r in lowered.resources if r.source == rule.id)
    return group


def _with_rules(catalog: Catalog, rules: tuple[Rule, ...]) -> Catalog:
    """``catalog`` with only ``rules`` and no price rules (what is cached from it dropped)."""
    copy = catalog.model_copy(update={"rules": rules, "prices": ()})
    for key in [key for key in vars(copy) if key not in type(copy).model_fields]:
        del copy.__dict__[key]  # cached properties computed from the original rules
    return copy


def _compiled_part(base: Problem, rule_id: str) -> Problem:
    """What the compiled catalog keeps of one rule."""
    part = Problem(base.catalog, base.domains, [[True] * len(d.choices) for d in base.domains])
    for (var, value), source in base.unary_reasons.items():
        if source == rule_id:
            part.allowed[var][value] = False
    part.constraints = [c for c in base.constraints if c.source == rule_id]
    part.resources = [r for r in base.resources if r.source == rule_id]
    return part


def rule_groups(cfg: Configurator) -> list[Group]:
    """One switchable group per catalog rule, each exactly as the rule reads."""
    return [
        _group(cfg, rule, lowered)
        for rule, lowered in lower_each_rule(cfg.catalog, cfg.compiled.domains)
    ]


def _conflict_of(cfg: Configurator, rule_ids: Sequence[str]) -> RuleConflict:
    by_id = cfg.catalog.rules_by_id
    return RuleConflict(tuple(rule_ids), tuple(rule_text(by_id[rule_id]) for rule_id in rule_ids))


def _empty_with(cfg: Configurator, rule_ids: Sequence[str]) -> bool | None:
    """Whether the catalog with only these rules has no configuration (decomposition engine);
    None when those rules are too wide to compile without the others."""
    kept = set(rule_ids)
    catalog = _with_rules(cfg.catalog, tuple(r for r in cfg.catalog.rules if r.id in kept))
    try:
        problem = compile_rules(catalog, cfg.compiled.domains)
    except LimitExceeded:
        return None
    query = TreeQuery(build_tree(problem), problem)
    if problem.resources:
        return query.count_within(Bounds(tuple(problem.resources))) == 0
    return query.count() == 0


def rule_conflict(cfg: Configurator) -> RuleConflict | None:
    """A minimal set of rules that leave no configuration; None when the catalog has one."""
    groups = rule_groups(cfg)
    keys: list[Hashable] = [group.key for group in groups]
    model = ConflictModel(cfg.compiled.base, groups)
    found = model.minimal_conflict(keys)
    rule_ids = [str(key[1]) for key in found or () if isinstance(key, tuple)]
    if found is not None and rule_ids and _empty_with(cfg, rule_ids) is not False:
        return _conflict_of(cfg, rule_ids)
    # the engines disagree (or CP-SAT found the rules consistent): delete with the engine
    rule_ids = [rule.id for rule in cfg.catalog.rules]
    if not _empty_with(cfg, rule_ids):
        return None
    for rule_id in list(rule_ids):
        trial = [other for other in rule_ids if other != rule_id]
        if _empty_with(cfg, trial):
            rule_ids = trial
    return _conflict_of(cfg, rule_ids)


def rules_behind_needs(
    cfg: Configurator, needs: Needs, need_labels: Sequence[str]
) -> RuleConflict | None:
    """A minimal set of rules that, with the needs labelled ``need_labels``, leave nothing.

    Empty when those needs clash on their own; None when it is not known (the rules could not
    be found to clash with the needs).
    """
    from ._whynot import need_groups

    groups = rule_groups(cfg)
    wanted = set(need_labels)
    more, reasons = need_groups(cfg, needs, wanted)
    fixed = [key for key, reason in reasons.items() if reason.text in wanted]
    model = ConflictModel(cfg.compiled.base, [*groups, *more])
    found = model.minimal_conflict([group.key for group in groups], fixed=fixed)
    if found is None:
        return None
    return _conflict_of(cfg, [str(key[1]) for key in found if isinstance(key, tuple)])
