"""The state of a session's step: every module's status, count, from-price and reason.

:func:`compute_state` works out, for the needs and choices a :class:`_Step` captured, the
data of a :class:`~modcfg.SessionState` (and :class:`_Reasons` why excluded modules are
excluded); the choices' restrictions of the solver's values are memoised here too.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from functools import cached_property, lru_cache, partial
from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple

from .._arguments import deadline_after
from .._reasons import Reason, conflict_reason, rule_reason, rule_text
from ..engines import EngineQuery, Marginal
from ..engines.compiled import ranking
from ..explain import Restriction
from ..model import Needs
from ._state import LazyReason, OptionState, SessionState, StateData

if TYPE_CHECKING:
    from .._configurator import Configurator
    from .._plan import Plan
    from ..lower import Constraint, Problem


#: What a session narrows with its choices (see ``Plan.session_query``).
_Query = EngineQuery
_FORCED = Reason("forced", "forced by your choices and needs")
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_KNOWN = partial(operator.is_not, None)  # a key that is not None
_REFUSED = "you chose none of it (unchoose to change)"
_WITH_CHOICES = Reason("combined", "not possible with your choices and needs (see why_not)")
_WITH_NEEDS = Reason("combined", "not possible with these needs (see why_not)")
_NEVER = Reason("combined", "never possible (see why_not)")


class _Choice(NamedTuple):
    slot: str
    module: str | None
    quantity: int | None  # None: any quantity of one or more (a multi-select slot's module)

    @property
    def label(self) -> str:
        if self.module is None:
            return f"{self.slot}: none"
        suffix = f" x {self.quantity}" if self.quantity not in (None, 1) else ""
        return f"{self.slot}.{self.module}{suffix}"


def shown_possible(state: SessionState | None, choice: _Choice, *, single: bool) -> bool | None:
    """Whether the computed ``state`` shows ``choice`` possible (None: no computed state): its
    option has completions, unless it is a multi-select module chosen before (then counted
    under its earlier quantity). ``single``: whether its slot is single-choice."""
    if state is None or not state.computed or choice.module is None:
        return None
    option = state[choice.slot].get(choice.module)
    if option is None or option.count == 0:
        return False
    return option.status != "excluded" and (single or option.status != "chosen")


#: A step of the history: the needs and the choices then.
_History = tuple[Needs | None, tuple[_Choice, ...]]


class _Step(NamedTuple):
    """What a returned state answers for, captured when it is returned: later choices, undo
    or other threads do not change it."""

    cfg: Configurator
    needs: Needs | None
    plan: Plan
    choices: tuple[_Choice, ...]
    query: _Query  # the plan's query narrowed by the choices (its passes run when asked)
    time_limit: float | None  # seconds for the state's passes (see Session)


def compute_state(step: _Step) -> StateData:
    """The options, count and price range of ``step`` (a SessionState asks when first read)."""
    cfg, plan = step.cfg, step.plan
    query = step.query
    budgeted = not plan.bounds.unbounded
    # (the time limit is read between the parts of the work that has parts)
    marginals = query.marginals(deadline=deadline_after(step.time_limit))
    price_of = plan.total_of
    if budgeted:
        # global sums: exact per-option counts and cheapest costs within the bounds
        sums = query.within(plan.bounds, time_limit=step.time_limit)
        total, costs = sums.count(), sums.cost_range()
    else:
        total, costs = query.count(), None
    picked: dict[str, set[str | None]] = {}
    refused: set[tuple[str, str | None]] = set()
    taken: dict[str, _Choice] = {}
    single, index = cfg.compiled.single_slots, cfg.compiled.slot_index
    for c in step.choices:
        if c.quantity != 0:
            picked.setdefault(c.slot, set()).add(c.module)
        else:
            refused.add((c.slot, c.module))
        if single[index[c.slot]]:
            taken[c.slot] = c
    reasons: _Reasons | None = None  # made for the first option excluded by a rule
    price_of_key, known_price = plan.total_of_key, plan.key_totals.get
    entry_of = cfg.compiled.option_entries
    nothing: set[str | None] = set()
    options: dict[str, dict[str, OptionState]] = {}
    # available options with the same completions and cheapest one look alike:
    # they share one (immutable) state
    shown: dict[Marginal, OptionState] = {}
    for var, (slot_id, entries) in enumerate(cfg.compiled.option_rows):
        marginal = marginals[var]
        chosen_here = picked.get(slot_id, nothing)
        chose_other: OptionState | None = None  # one state for every other module
        todo = entries
        if slot_id in taken:  # a single-choice slot: every other module is excluded
            chose_other = _switch_state(taken[slot_id])
            row: dict[str, OptionState] = dict.fromkeys(map(_FIRST, entries), chose_other)
            entries_here = entry_of[var]
            todo = [entries_here[m] for m in chosen_here if m in entries_here]
        else:
            row = {}
            if single[var] and not budgeted and not chosen_here:  # the common case, lean
                for module_id, value, values, _ in todo:
                    entry = marginal[value]
                    alike = shown.get(entry)
                    if alike is not None:
                        row[module_id] = alike
                        continue
                    count, key = entry
                    if not count:
                        if reasons is None:
                            reasons = _Reasons(step)
                        row[module_id] = OptionState(
                            "excluded", 0, None, LazyReason(reasons.explain, var, values)
                        )
                        continue
                    assert key is not None  # known when there are completions
                    cheapest = known_price(key)
                    if cheapest is None:
                        cheapest = price_of_key(key)
                    if count == total:
                        row[module_id] = OptionState("implied", count, cheapest, _FORCED)
                    else:
                        row[module_id] = shown[entry] = OptionState("available", count, cheapest)
                options[slot_id] = row
                continue
        counts: list[int] | None = None
        keys: list[int | None] = []
        for module_id, value, values, pick in todo:
            if value >= 0:
                count, key = marginal[value]
            else:  # a multi-select module: one value per quantity vector holding it
                if counts is None:
                    counts, keys = list(map(_FIRST, marginal)), list(map(_SECOND, marginal))
                count = sum(pick(counts))
                key = min(filter(_KNOWN, pick(keys)), default=None)
            price: Decimal | None = None
            if count and budgeted:  # the count and from-price within the budget
                count, cheapest_cost = sums.option(var, values)
                price = None if cheapest_cost is None else price_of(cheapest_cost)
            if not count:
                if module_id in chosen_here:
                    row[module_id] = OptionState("chosen", 0, None)
                elif (slot_id, module_id) in refused:
                    refusal = Reason("choice", _REFUSED, slot=slot_id, module=module_id)
                    row[module_id] = OptionState("excluded", 0, None, refusal)
                elif chose_other is not None:
                    row[module_id] = chose_other
                else:
                    if reasons is None:
                        reasons = _Reasons(step)
                    row[module_id] = OptionState(
                        "excluded", 0, None, LazyReason(reasons.explain, var, values)
                    )
                continue
            if price is None and key is not None:  # (budgeted: from the spread)
                price = known_price(key)
                if price is None:
                    price = price_of_key(key)
            if module_id in chosen_here:
                row[module_id] = OptionState("chosen", count, price)
            elif count == total:
                row[module_id] = OptionState("implied", count, price, _FORCED)
            else:
                row[module_id] = OptionState("available", count, price)
        options[slot_id] = row
    if budgeted:
        price_range = None if costs is None else (price_of(costs[0]), price_of(costs[1]))
        return options, total, price_range
    return options, total, partial(_price_range, query, price_of)  # worked out when read


@lru_cache(maxsize=4096)
def _switch_state(choice: _Choice) -> OptionState:
    """The state of the other modules of a single-choice slot once ``choice`` is made (the
    same at every step: one shared state)."""
    text = f"you chose {choice.label} (choosing this one switches)"
    return OptionState(
        "excluded", 0, None, Reason("choice", text, slot=choice.slot, module=choice.module)
    )


def _price_range(
    query: _Query, price_of: Callable[[int], Decimal]
) -> tuple[Decimal, Decimal] | None:
    """The totals of the cheapest and the dearest completion (None when there is none)."""
    cheapest = query.best_key()
    if cheapest is None:
        return None
    ranked = ranking(query)  # (CP-SAT's when the engine only finds the cheapest)
    dearest = ranked.worst_key()
    if dearest is None:  # pragma: no cover - a query with a cheapest completion has a dearest
        return None
    return price_of(query.cost_of(cheapest)), price_of(ranked.cost_of(dearest))


class _Reasons:
    """Why excluded modules are excluded, in the customer's terms: worked out for one state's
    step when first asked."""

    def __init__(self, step: _Step) -> None:
        self._step = step
        self._catalog = step.cfg.catalog
        self._plan = step.plan
        self._needs = bool(step.needs)
        # per (rule, variable, choice): the variable's values the rule allows with the choice
        self._compatible: dict[tuple[int, int, int], set[int]] = {}
        # the rules' reasons made so far: many options share one
        self._rules: dict[str, Reason] = {}
        # per rule (by identity): whether others narrowed its slots (see _pruned_by_others)
        self._pruned: dict[int, bool] = {}

    @cached_property
    def _problem(self) -> Problem:
        return self._step.query.problem

    @cached_property
    def _restrictions(self) -> list[Restriction]:
        step = self._step
        return [_restriction(step.cfg, choice) for choice in step.choices]

    def explain(self, var: int, values: list[int]) -> Reason:
        problem = self._problem
        for value in values:
            source = problem.unary_reasons.get((var, value))
            if source is not None:
                need = problem.need_reasons.get(source)
                return need if need is not None else self._rule(source)
        direct = self._direct_conflict(var, set(values))
        if direct is not None:
            return direct
        if self._restrictions:
            return _WITH_CHOICES
        return _WITH_NEEDS if self._needs else _NEVER

    def _rule(self, rule_id: str) -> Reason:
        made = self._rules.get(rule_id)
        if made is None:
            made = self._rules[rule_id] = rule_reason(self._catalog, rule_id)
        return made

    def _direct_conflict(self, var: int, values: set[int]) -> Reason | None:
        """A rule (or need) that alone forbids the option with one of the customer's choices."""
        # the query's problem shares the plan's rules (choices only narrow values)
        for constraint in self._plan.constraints_of(var):
            scope = constraint.scope
            for number, restriction in enumerate(self._restrictions):
                if restriction.var == var or restriction.var not in scope:
                    continue
                key = (id(constraint), var, number)
                values_with = self._compatible.get(key)
                if values_with is None:
                    supports = constraint.supports(scope.index(var), scope.index(restriction.var))
                    values_with = self._compatible[key] = set().union(
                        *(supports.get(r, ()) for r in restriction.values)
                    )
                if values_with.isdisjoint(values) and not self._pruned_by_others(constraint):
                    return self._conflict(restriction, constraint.source)
        return None

    @cached_property
    def _excluders(self) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
        """Per variable: the rules that excluded some of its values outright when the
        catalog was compiled, and those rules and the needs."""
        by_rules: dict[int, set[str]] = {}
        for (var, _), source in self._step.cfg.compiled.base.unary_reasons.items():
            by_rules.setdefault(var, set()).add(source)
        with_needs: dict[int, set[str]] = {}
        for (var, _), source in self._problem.unary_reasons.items():
            with_needs.setdefault(var, set()).add(source)
        return by_rules, with_needs

    def _pruned_by_others(self, constraint: Constraint) -> bool:
        """Whether other rules (or, for a need's table, other needs too) excluded values of
        the rule's slots outright before it was tabulated. Its table then holds only the
        rows left over their values, so it may forbid what the rule alone allows (a total
        over slots that another rule narrowed): the option is not said to conflict with a
        choice under that rule alone."""
        found = self._pruned.get(id(constraint))
        if found is None:
            by_rules, with_needs = self._excluders
            need = constraint.source in self._problem.need_reasons
            excluders = with_needs if need else by_rules
            found = self._pruned[id(constraint)] = any(
                excluders.get(var, set()) - {constraint.source} for var in constraint.scope
            )
        return found

    def _conflict(self, choice: Restriction, source: str) -> Reason:
        """The option conflicts with ``choice`` under the rule or need ``source``."""
        label, slot, module = choice.label, choice.slot, choice.module
        need = self._problem.need_reasons.get(source)
        if need is not None:
            return conflict_reason(label, slot, module, f"need: {need.text}", need=need.need)
        return conflict_reason(label, slot, module, rule_text(self._catalog, source), rule=source)


def _restriction(cfg: Configurator, choice: _Choice) -> Restriction:
    """The value indexes a choice leaves its slot (memoised by the compiled catalog)."""
    var, values = cfg.compiled.choice_values(choice.slot, choice.module, choice.quantity)
    return Restriction(choice.label, var, values, slot=choice.slot, module=choice.module)


def completions_with(plan: Plan, query: _Query, option: Restriction) -> tuple[int, Decimal | None]:
    """The completions of ``query`` (a session's choices under ``plan``) with ``option``,
    and the total of the cheapest."""
    query = query.restricted(option.var, option.values)
    if not plan.bounds.unbounded:
        spread = query.cost_distribution(plan.bounds)
        if not spread:
            return 0, None
        return sum(spread.values()), plan.total_of(min(spread))
    key = query.best_key()
    if key is None:
        return 0, None
    return query.count(), plan.total_of(query.cost_of(key))
