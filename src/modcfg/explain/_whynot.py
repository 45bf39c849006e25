"""Why an option is excluded: the customer's own choices and needs that rule it out.

The explanation is a minimal set of needs and choices (every rule on), then a minimal set of
rules that, with those, exclude the option:

- the needs and choices are shrunk by deletion, each trial a feasibility pass of the engine
  that answers the session under the needs kept;
- the rules to shrink are those that propagation used to rule the option out
  (:mod:`modcfg.lower._propagation`); when it finds no such chain, a CP-SAT model of every
  rule (:class:`~..engines.cpsat._cores.ConflictModel`) narrows them to its core (one
  solve, not a minimal set: each deletion trial there would solve over every rule);
- they are shrunk by deletion in a CP-SAT model of those rules alone, each compiled on its
  own over the slots' whole domains, so that they exclude the option by themselves (the
  compiled catalog tabulates a rule over the values earlier rules left, so its tables also
  carry their effect).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from .._arguments import deadline_after
from .._errors import TimeLimitExceeded
from .._reasons import Reason
from ..engines.cpsat._cores import ConflictModel, Group
from ..lower import Problem, needs_problem
from ..model import Catalog, Needs
from ._conflict import NeedItem, keep_items, need_items
from ._rules import rule_group

if TYPE_CHECKING:
    from .._configurator import Configurator

__all__ = ["Explanation", "Restriction", "explain_exclusion", "rule_groups"]


@dataclass(frozen=True)
class Restriction:
    """A choice of the customer on one slot: the value indexes it leaves possible (and the
    slot and module chosen, when known)."""

    label: str
    var: int
    values: frozenset[int]
    slot: str | None = None
    module: str | None = None


@dataclass(frozen=True)
class Explanation:
    """Why an option is excluded: the choices and needs (``because``) and the catalog rules
    (``rules``: id -> message) that together leave no valid configuration with it;
    ``reasons`` holds the same choices, needs and rules as :class:`~modcfg.Reason` objects.

    For an option that is possible, ``available`` is true, ``because`` and ``rules`` are empty,
    and ``completions`` and ``from_price`` give its completions and the cheapest total.
    """

    option: str
    because: tuple[str, ...]
    rules: Mapping[str, str]
    completions: int = 0
    from_price: Decimal | None = None
    currency: str = ""
    reasons: tuple[Reason, ...] = ()

    @property
    def available(self) -> bool:
        """Whether the option is possible (nothing excludes it)."""
        return self.completions > 0

    def __str__(self) -> str:
        if self.available:
            noun = "completion" if self.completions == 1 else "completions"
            price = "" if self.from_price is None else f" from {self.currency} {self.from_price}"
            return f"{self.option} is available: {self.completions:,} {noun}{price}"
        causes = " and ".join(self.because) if self.because else "the catalog itself"
        text = f"{self.option} is not possible with {causes}"
        if self.rules:
            text += ": " + "; ".join(
                f"{message} ({rule_id})" if message != rule_id else rule_id
                for rule_id, message in self.rules.items()
            )
        return text


def rule_groups(problem: Problem, sources: Collection[str] | None = None) -> list[Group]:
    """One group per catalog rule of a (needs-free) problem (only the rules ``sources`` names,
    when given)."""
    groups: dict[str, Group] = {}
    for constraint in problem.constraints:
        if sources is not None and constraint.source not in sources:
            continue
        group = groups.setdefault(
            constraint.source, Group(("rule", constraint.source), within_allowed=True)
        )
        group.add(constraint)
    by_var: dict[tuple[str, int], set[int]] = {}
    for (var, value), source in problem.unary_reasons.items():
        if sources is not None and source not in sources:
            continue
        by_var.setdefault((source, var), set()).add(value)
    for (source, var), excluded in by_var.items():
        group = groups.setdefault(source, Group(("rule", source), within_allowed=True))
        everything = set(range(len(problem.domains[var].choices)))
        group.unary.append((var, frozenset(everything - excluded)))
    return list(groups.values())


def need_groups(
    cfg: Configurator, needs: Needs, kept: Collection[str] | None = None
) -> tuple[list[Group], dict[Hashable, Reason]]:
    """One group per hard need, and each need as a reason (in the customer's words).

    A degree band is measured from the standard of the needs' purpose, or without it (when
    ``kept``, the labels of the needs kept on, leaves the purpose out) from the catalog's:
    as :func:`keep_items` resolves the needs kept."""
    catalog: Catalog = cfg.catalog
    allowed = [[True] * len(d.choices) for d in cfg.compiled.domains]
    free = Problem(catalog, cfg.compiled.domains, allowed, memory_limit=cfg.memory_limit)
    groups: list[Group] = []
    reasons: dict[Hashable, Reason] = {}
    items = need_items(needs, catalog.currency)
    purposes = [item for item in items if item.field == "purpose"]
    if kept is not None:
        purposes = [item for item in purposes if item.label in kept]
    for item in items:
        key = ("need", item.label)
        reasons[key] = item.reason
        reference = purposes if item.field == "degree" else []
        groups.append(_need_group(cfg, free, needs, items, [item, *reference], key))
    return groups, reasons


def _need_group(
    cfg: Configurator,
    free: Problem,
    needs: Needs,
    items: list[NeedItem],
    kept: list[NeedItem],
    key: Hashable,
) -> Group:
    """The group of need ``kept[0]``; a degree band's ``kept`` holds the purpose whose
    standard it is measured from, if any (the purpose's own requirements are its group's)."""
    item = kept[0]
    group = Group(key)
    if item.field == "budget":
        resolved = cfg.resolve(keep_items(needs, items, [item]))
        if resolved is not None:
            group.cost_bound = cfg.compiled.cost_bound(resolved, None)
        return group
    alone = cfg.resolve(keep_items(needs, items, [item]))
    if alone is None:  # pragma: no cover - needs always resolve here
        return group
    if len(kept) > 1:
        measured = cfg.resolve(keep_items(needs, items, kept))
        if measured is not None:
            alone = replace(alone, standard=measured.standard)
    restricted = needs_problem(free, alone)
    for var, mask in enumerate(restricted.allowed):
        if not all(mask):
            group.unary.append((var, frozenset(v for v, ok in enumerate(mask) if ok)))
    for constraint in restricted.constraints:
        group.add(constraint)
    group.sums += restricted.resources  # a degree band over many slots is a global sum
    return group


def explain_exclusion(
    cfg: Configurator,
    needs: Needs | None,
    choices: Sequence[Restriction],
    option: Restriction,
    *,
    time_limit: float | None = None,
) -> Explanation | None:
    """Why ``option`` has no valid completion; None when it has one. The work stops after
    ``time_limit`` seconds in all (:class:`~modcfg.LimitExceeded`): the solver's searches stop
    at it, and no feasibility pass starts after it.

    The needs and choices are shrunk by deletion, in their order (needs first), each trial a
    feasibility pass of the engine that answers the session under the needs kept (every rule
    on). The rules are then those that propagation used to rule the option out (see
    :mod:`modcfg.lower._propagation`), shrunk in a model of those rules alone; the model of
    every rule is built only when propagation finds no such chain.
    """
    direct = _direct(cfg, choices, option)
    if direct is not None:
        return direct
    deadline = deadline_after(time_limit)
    items = [] if needs is None else need_items(needs, cfg.catalog.currency)
    kept = _fewest(cfg, needs, items, choices, option, deadline)
    if kept is None:
        return None
    kept_items, kept_choices = kept
    fixed: list[Group] = []
    because: list[Reason] = []
    if kept_items:
        assert needs is not None  # (items come from the needs)
        groups, reasons = need_groups(cfg, needs, [item.label for item in kept_items])
        by_key = {group.key: group for group in groups}
        for item in kept_items:
            fixed.append(by_key["need", item.label])
            because.append(reasons["need", item.label])
    fixed += [_choice_group(choice) for choice in kept_choices]
    fixed.append(_choice_group(option, "option"))
    because += [_choice_reason(choice) for choice in kept_choices]
    restrictions = [restriction for group in fixed for restriction in group.unary]
    used = cfg.compiled.propagator.conflict(restrictions)
    if used is None:  # no chain of forced inferences: the model of every rule narrows them
        rules = rule_groups(cfg.compiled.base)
        model = ConflictModel(cfg.compiled.base, [*rules, *fixed], time_limit=_left(deadline))
        keys = [group.key for group in rules]
        # (its core: the model of those rules alone shrinks it, each solve a fraction of one
        # over every rule)
        found = model.conflict_core(keys, fixed=[group.key for group in fixed]) or []
        used = _sources(found)
    involved = _exact_rules(cfg, used, fixed, _left(deadline))
    return _explanation(option, tuple(because), _messages(cfg, involved))


def _fewest(
    cfg: Configurator,
    needs: Needs | None,
    items: list[NeedItem],
    choices: Sequence[Restriction],
    option: Restriction,
    deadline: float | None,
) -> tuple[list[NeedItem], list[Restriction]] | None:
    """The needs and choices that exclude ``option``, shrunk by deletion in their order, in
    passes until none can go (a need such as a region is no plain restriction: without it a
    module may be gone, so a deletion can let one kept earlier go too); None when all of them
    together allow it."""

    trials = len(items) + len(choices) + 1

    def excluded(kept_items: list[NeedItem], kept_choices: Sequence[Restriction]) -> bool:
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitExceeded(
                f"why_not passed its time limit while narrowing your {trials - 1} needs and "
                "choices down to those that rule the option out; raise time_limit= (a "
                "session's time_limit)",
                estimate=trials,
            )
        plan = cfg.compiled.plan(None if needs is None else keep_items(needs, items, kept_items))
        query = plan.session_query_by(deadline).restricted(option.var, option.values)
        for choice in kept_choices:
            query = query.restricted(choice.var, choice.values)
        if plan.bounds.unbounded:
            return not query.feasible()
        return not query.count_within(plan.bounds, time_limit=_left(deadline))

    def split(kept: list[NeedItem | Restriction]) -> tuple[list[NeedItem], list[Restriction]]:
        return (
            [one for one in kept if isinstance(one, NeedItem)],
            [one for one in kept if isinstance(one, Restriction)],
        )

    kept: list[NeedItem | Restriction] = [*items, *choices]
    if not excluded(*split(kept)):
        return None
    again = True
    while again:  # needs are not all restrictions: without a region, a module may be gone
        again = kept_one = False
        for one in list(kept):
            trial = [other for other in kept if other is not one]
            if excluded(*split(trial)):
                kept = trial
                again = again or kept_one  # (one kept before it in this pass may go now)
            else:
                kept_one = True
    return split(kept)


def _exact_rules(
    cfg: Configurator, sources: Collection[str], fixed: Sequence[Group], time_limit: float | None
) -> list[Hashable]:
    """A minimal subset of the rules ``sources`` that with ``fixed`` leave nothing, each rule
    compiled on its own over the slots' whole domains (the compiled catalog's tables also
    carry the effect of the rules that pruned the domains before them; see
    :mod:`modcfg.explain._rules`), in a model of the variables they read."""
    by_id = cfg.catalog.rules_by_id
    base = cfg.compiled.base
    rules = [rule_group(cfg.catalog, cfg, by_id[source]) for source in sources if source in by_id]
    rules += rule_groups(base, {source for source in sources if source not in by_id})
    groups = [*rules, *fixed]
    if any(group.sums or group.cost_bound is not None for group in groups):
        model = ConflictModel(base, groups, time_limit=time_limit)
    else:  # (a model of the variables those few rules read)
        model = ConflictModel(base, groups, variables=_variables(groups), time_limit=time_limit)
    keys = [group.key for group in rules]
    return model.minimal_conflict(keys, fixed=[group.key for group in fixed]) or []


def _sources(keys: Sequence[Hashable]) -> set[str]:
    """The rule ids of rule groups' keys (``("rule", id)``)."""
    return {str(key[1]) for key in keys if isinstance(key, tuple)}


def _left(deadline: float | None) -> float | None:
    """The seconds left until ``deadline`` (None: no limit)."""
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def _variables(groups: Sequence[Group]) -> set[int]:
    """The variables the restrictions of ``groups`` read."""
    found: set[int] = set()
    for group in groups:
        found.update(var for var, _ in group.unary)
        for scope, _ in (*group.tables, *group.clauses):
            found.update(scope)
    return found


def _choice_group(choice: Restriction, kind: str = "choice") -> Group:
    return Group((kind, choice.label), unary=[(choice.var, choice.values)])


def _messages(cfg: Configurator, involved: Sequence[Hashable]) -> dict[str, str]:
    """Rule id -> its message, for the groups ``involved`` (keyed ``("rule", id)``)."""
    messages: dict[str, str] = {}
    for involved_key in involved:
        rule_id = str(involved_key[1]) if isinstance(involved_key, tuple) else str(involved_key)
        rule = cfg.catalog.rules_by_id.get(rule_id)
        messages[rule_id] = rule.describe() if rule is not None else rule_id
    return messages


def _direct(
    cfg: Configurator, choices: Sequence[Restriction], option: Restriction
) -> Explanation | None:
    """The explanation, without a solver, when one choice of another slot and one rule over
    just the two slots rule the option out (a feature model's "excludes" or "requires"
    clause, the common case); None otherwise. The one choice is a minimal cause when the
    catalog alone allows the option, and the one rule a minimal set of rules (the choice and
    the option, on two slots, clash through no rule at all)."""
    base = cfg.compiled.base
    for choice in choices:
        if choice.var == option.var:
            continue  # (another module of the chosen slot: left to the solver's order)
        for constraint in base.constraints:
            scope = constraint.scope
            if len(scope) != 2 or {scope[0], scope[1]} != {choice.var, option.var}:
                continue
            first, second = (choice, option) if scope[0] == choice.var else (option, choice)
            if any(constraint.holds((a, b)) for a in first.values for b in second.values):
                continue
            alone = cfg.compiled.plan(None).session_query.restricted(option.var, option.values)
            if not alone.feasible():
                return None  # (the catalog itself rules it out)
            rule = cfg.catalog.rules_by_id.get(constraint.source)
            message = rule.describe() if rule is not None else constraint.source
            return _explanation(option, (_choice_reason(choice),), {constraint.source: message})
    return None


def _choice_reason(choice: Restriction) -> Reason:
    text = f"your choice {choice.label}"
    return Reason("choice", text, slot=choice.slot, module=choice.module)


def _explanation(
    option: Restriction, because: tuple[Reason, ...], messages: dict[str, str]
) -> Explanation:
    return Explanation(
        option=option.label,
        because=tuple(reason.text for reason in because),
        rules=messages,
        reasons=because
        + tuple(Reason("rule", text, rule=rule_id) for rule_id, text in messages.items()),
    )
