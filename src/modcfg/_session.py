"""Interactive configuration: choose modules one at a time, with no dead ends.

A :class:`Session` keeps one customer's choices and needs. Its :meth:`Session.state` gives,
for every module of every slot, whether it is chosen, implied, available or excluded, with the
exact number of valid completions and the from-price of the cheapest one; every module shown
available extends to a complete valid configuration (the session refuses choices that would
not). ``why_not`` explains an excluded module in terms of the customer's own choices and needs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ._errors import InfeasibleError, NeedsError, did_you_mean
from ._state import OptionState, SessionState, StateData, option_state
from .explain import Explanation, Restriction, explain_exclusion
from .model import Configuration, Needs, Quantities
from .price import Quote, quote
from .solve import TreeQuery
from .solve._independent import IndependentQuery

if TYPE_CHECKING:
    from ._configurator import Configurator, NeedsLike, _Plan

__all__ = ["OptionState", "Session", "SessionState"]

_FORMAT = "modcfg-session/1"
#: What a session narrows with its choices (see ``_Plan.session_query``).
_Query = TreeQuery | IndependentQuery
_FORCED = "forced by your choices and needs"
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_KNOWN = partial(operator.is_not, None)  # a key that is not None
_REFUSED = "you chose none of it (unchoose to change)"
_REFUSED_STATE = option_state("excluded", 0, None, _REFUSED)  # immutable: shared


class _Choice(NamedTuple):
    slot: str
    module: str | None
    quantity: int

    @property
    def label(self) -> str:
        if self.module is None:
            return f"{self.slot}: none"
        suffix = f" x {self.quantity}" if self.quantity != 1 else ""
        return f"{self.slot}.{self.module}{suffix}"


class Session:
    """One customer's interactive configuration on a compiled catalog.

    >>> import modcfg
    >>> session = modcfg.compile(modcfg.load_catalog("windows")).session()
    >>> state = session.choose("frame", "oak")
    >>> state.count, state["glass"]["triple"].count, str(state["glass"]["triple"].from_price)
    (360, 36, '260.00')
    """

    def __init__(
        self, cfg: Configurator, needs: NeedsLike = None, *, time_limit: float | None = None
    ) -> None:
        self._cfg = cfg
        self._time_limit = time_limit  # per state computed under budgets and global sums
        self._needs = _as_needs(needs)
        self._choices: tuple[_Choice, ...] = ()
        self._undo: list[tuple[Needs | None, tuple[_Choice, ...]]] = []
        self._redo: list[tuple[Needs | None, tuple[_Choice, ...]]] = []
        self._cache: SessionState | None = None
        self._plan_cache: _Plan | None = None
        self._query_cache: tuple[_Plan, tuple[_Choice, ...], _Query] | None = None
        if (self._needs is not None or cfg._empty) and not self._feasible():
            raise self._cfg._infeasible(self._plan())

    # -- state ------------------------------------------------------------------------------

    @property
    def needs(self) -> Needs | None:
        return self._needs

    @property
    def choices(self) -> dict[str, Any]:
        """The customer's choices: slot -> module (or {module: quantity} for multi-select)."""
        result: dict[str, Any] = {}
        for choice in self._choices:
            if self._cfg.catalog.slots[choice.slot].single:
                result[choice.slot] = choice.module
            else:
                result.setdefault(choice.slot, {})[choice.module] = choice.quantity
        return result

    def _plan(self) -> _Plan:
        if self._plan_cache is None:
            self._plan_cache = self._cfg._plan(self._needs)
        return self._plan_cache

    def _restriction(self, choice: _Choice) -> Restriction:
        key = (choice.slot, choice.module, choice.quantity)
        found = self._cfg._restrictions.get(key)
        if found is None:
            found = self._cfg._restrictions[key] = self._new_restriction(choice)
        return found

    def _new_restriction(self, choice: _Choice) -> Restriction:
        cfg = self._cfg
        var = cfg._slot_index[choice.slot]
        domain = cfg._domains[var]
        if cfg.catalog.slots[choice.slot].single:
            values = frozenset({domain.choices.index(choice.module)})
        else:
            values = frozenset(
                v
                for v, units in enumerate(domain.units)
                if dict(units).get(choice.module or "", 0) == choice.quantity
            )
        return Restriction(choice.label, var, values)

    def _query(self, choices: tuple[_Choice, ...] | None = None) -> _Query:
        plan = self._plan()
        wanted = self._choices if choices is None else choices
        if self._query_cache is not None:
            cached_plan, cached_choices, cached = self._query_cache
            if cached_plan is plan and cached_choices == wanted:
                return cached
        query = self._fresh_query(plan, wanted)
        self._query_cache = (plan, wanted, query)
        return query

    def _fresh_query(self, plan: _Plan, choices: tuple[_Choice, ...]) -> _Query:
        """The plan's query with the choices applied, extending the last one when it can."""
        # no choices: shared by every session with these needs
        query: _Query = plan.session_query
        start = 0
        cached = self._query_cache
        if cached is not None and cached[0] is plan and cached[1] == choices[: len(cached[1])]:
            query, start = cached[2], len(cached[1])
        for choice in choices[start:]:
            restriction = self._restriction(choice)
            query = query.restricted(restriction.var, restriction.values)
        return query

    def state(self) -> SessionState:
        """Every module's status, completion count and from-price under the current choices."""
        if self._cache is None:
            self._cache = SessionState(self._compute_state, self._cfg.catalog.currency)
        return self._cache

    def _compute_state(self) -> StateData:
        cfg, plan = self._cfg, self._plan()
        query = self._query()
        budgeted = plan.cost_bound is not None or bool(plan.problem.resources)
        marginals = query.marginals()
        price_of = plan.total_of
        if budgeted:
            # global sums: exact per-option counts and cheapest costs within the bounds
            assert isinstance(query, TreeQuery)  # sessions narrow closed forms without budgets
            sums = query.within(
                plan.problem.resources, plan.cost_bound, time_limit=self._time_limit
            )
            total, costs = sums.count(), sums.cost_range()
        else:
            total, costs = query.count(), None
        picked: dict[str, set[str | None]] = {}
        refused: set[tuple[str, str | None]] = set()
        taken: dict[str, str] = {}
        single, index = cfg._single_slots, cfg._slot_index
        for c in self._choices:
            if c.quantity > 0:
                picked.setdefault(c.slot, set()).add(c.module)
            else:
                refused.add((c.slot, c.module))
            if single[index[c.slot]]:
                taken[c.slot] = c.label
        reasons: _Reasons | None = None  # made for the first option excluded by a rule
        price_of_key, known_price = plan.total_of_key, plan.key_totals.get
        entry_of = cfg._option_entries
        nothing: set[str | None] = set()
        options: dict[str, dict[str, OptionState]] = {}
        for var, (slot_id, entries) in enumerate(cfg._option_rows):
            marginal = marginals[var]
            chosen_here = picked.get(slot_id, nothing)
            chose_other: OptionState | None = None  # one state for every other module
            todo = entries
            if slot_id in taken:  # a single-choice slot: every other module is excluded
                chose_other = option_state(
                    "excluded", 0, None, f"you chose {taken[slot_id]} (unchoose to switch)"
                )
                row: dict[str, OptionState] = dict.fromkeys(map(_FIRST, entries), chose_other)
                entries_here = entry_of[var]
                todo = [entries_here[m] for m in chosen_here if m in entries_here]
            else:
                row = {}
                if single[var] and not budgeted and not chosen_here:  # the common case, lean
                    for module_id, value, values, _ in todo:
                        count, key = marginal[value]
                        if not count:
                            if reasons is None:
                                reasons = _Reasons(self, plan, query)
                            row[module_id] = option_state(
                                "excluded", 0, None, partial(reasons.explain, var, values)
                            )
                            continue
                        assert key is not None  # known when there are completions
                        cheapest = known_price(key)
                        if cheapest is None:
                            cheapest = price_of_key(key)
                        if count == total:
                            row[module_id] = option_state("implied", count, cheapest, _FORCED)
                        else:
                            row[module_id] = option_state("available", count, cheapest)
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
                        row[module_id] = option_state("chosen", 0, None)
                    elif (slot_id, module_id) in refused:
                        row[module_id] = _REFUSED_STATE
                    elif chose_other is not None:
                        row[module_id] = chose_other
                    else:
                        if reasons is None:
                            reasons = _Reasons(self, plan, query)
                        row[module_id] = option_state(
                            "excluded", 0, None, partial(reasons.explain, var, values)
                        )
                    continue
                if price is None and key is not None:  # (budgeted: from the spread)
                    price = known_price(key)
                    if price is None:
                        price = price_of_key(key)
                if module_id in chosen_here:
                    row[module_id] = option_state("chosen", count, price)
                elif count == total:
                    row[module_id] = option_state("implied", count, price, _FORCED)
                else:
                    row[module_id] = option_state("available", count, price)
            options[slot_id] = row
        if budgeted:
            price_range = None if costs is None else (price_of(costs[0]), price_of(costs[1]))
            return options, total, price_range
        return options, total, partial(_price_range, query, price_of)  # worked out when read

    # -- changes ----------------------------------------------------------------------------

    def _shown_available(self, choice: _Choice | None) -> bool:
        """Whether ``choice`` is known to be possible without a pass: the computed state shows
        it, or it is the first choice and the needs' own marginals (computed once for every
        session with these needs) give it completions."""
        if choice is None or choice.module is None:
            return False
        if not self._cfg.catalog.slots[choice.slot].single or choice.quantity != 1:
            return False
        state = self._cache
        if state is not None and state._data is not None:
            option = state[choice.slot].get(choice.module)
            return option is not None and option.status != "excluded" and option.count > 0
        plan = self._plan()
        if self._choices or plan.cost_bound is not None or plan.problem.resources:
            return False
        var = self._cfg._slot_index[choice.slot]
        values = self._cfg._module_values[var][choice.module]
        marginals = plan.session_query.marginals()[var]
        return any(marginals[value][0] for value in values)

    def _feasible(self) -> bool:
        """Whether the current needs and choices leave a valid configuration."""
        query, plan = self._query(), self._plan()
        if not query.feasible():
            return False
        if plan.cost_bound is None and not plan.problem.resources:
            return True
        assert isinstance(query, TreeQuery)  # sessions narrow closed forms without budgets
        return (
            query.count_within(plan.problem.resources, plan.cost_bound, time_limit=self._time_limit)
            > 0
        )

    def _apply(
        self, needs: Needs | None, choices: tuple[_Choice, ...], *, explain: _Choice | None
    ) -> SessionState:
        previous = (self._needs, self._choices, self._plan_cache)
        known = self._shown_available(explain) if needs is self._needs else False
        if needs is not self._needs:
            self._plan_cache = None
        self._needs, self._choices = needs, choices
        if not known and not self._feasible():
            self._needs, self._choices, self._plan_cache = previous
            if explain is not None:
                explanation = self.why_not(explain.slot, explain.module, quantity=explain.quantity)
                raise InfeasibleError(
                    str(explanation), conflict=explanation.because, rules=explanation.rules
                )
            raise InfeasibleError("these needs leave no valid configuration with your choices")
        self._undo.append((previous[0], previous[1]))
        self._redo.clear()
        self._cache = None
        return self.state()

    def _check(self, slot: str, module: str | None, quantity: int) -> _Choice:
        catalog = self._cfg.catalog
        found = catalog.slots.get(slot)
        if found is None:
            raise NeedsError(f"slot '{slot}' does not exist{did_you_mean(slot, catalog.slots)}")
        modules = found.modules
        if module is None:
            if found.cardinality.min > 0:
                raise NeedsError(
                    f"slot '{slot}' must be filled; choose one of {', '.join(modules)}"
                )
        elif module not in modules:
            raise NeedsError(
                f"slot '{slot}' has no module '{module}'{did_you_mean(module, modules)}"
            )
        else:
            # a multi-select slot also takes "none of this module" (quantity 0)
            low = 1 if found.cardinality.max == 1 else 0  # (a single-choice slot)
            limit = modules[module].max_quantity
            if not low <= quantity <= limit:
                raise NeedsError(
                    f"quantity {quantity} of '{slot}.{module}' is out of range {low}..{limit}"
                )
        return _Choice(slot, module, quantity)

    def choose(self, slot: str, module: str | None, quantity: int = 1) -> SessionState:
        """Choose a module for a slot (``None``: leave an optional slot empty).

        Raises :class:`InfeasibleError` with the explanation when the module is excluded.
        """
        choice = self._check(slot, module, quantity)
        kept = self._choices
        if kept:  # this slot's earlier choice (of this module, in a multi-select slot) goes
            single = self._cfg.catalog.slots[slot].single
            kept = tuple(c for c in kept if c.slot != slot or (not single and c.module != module))
        return self._apply(self._needs, (*kept, choice), explain=choice)

    def unchoose(self, slot: str, module: str | None = None) -> SessionState:
        """Take back the choice of a slot (or of one module of a multi-select slot)."""
        if slot not in self._cfg.catalog.slots:
            raise NeedsError(
                f"slot '{slot}' does not exist{did_you_mean(slot, self._cfg.catalog.slots)}"
            )
        kept = tuple(
            c
            for c in self._choices
            if c.slot != slot or (module is not None and c.module != module)
        )
        return self._apply(self._needs, kept, explain=None)

    def set_needs(self, needs: NeedsLike) -> SessionState:
        """Replace the needs (InfeasibleError, and no change, if they leave no completion)."""
        return self._apply(_as_needs(needs), self._choices, explain=None)

    def undo(self) -> SessionState:
        """Go back one step (choose, unchoose, set_needs or complete)."""
        if not self._undo:
            raise NeedsError("nothing to undo")
        self._redo.append((self._needs, self._choices))
        needs, choices = self._undo.pop()
        self._restore(needs, choices)
        return self.state()

    def redo(self) -> SessionState:
        """Redo the step undone last."""
        if not self._redo:
            raise NeedsError("nothing to redo")
        self._undo.append((self._needs, self._choices))
        needs, choices = self._redo.pop()
        self._restore(needs, choices)
        return self.state()

    def _restore(self, needs: Needs | None, choices: tuple[_Choice, ...]) -> None:
        if needs is not self._needs:
            self._plan_cache = None
        self._needs, self._choices = needs, choices
        self._cache = None

    # -- completion and explanation ---------------------------------------------------------

    def complete(self, strategy: Literal["cheapest", "preferred"] = "cheapest") -> Quote:
        """Fill every open slot with the best completion and return its quote.

        ``cheapest``: lowest total, then highest preference score; ``preferred``: highest
        preference score, then lowest total.
        """
        if strategy not in ("cheapest", "preferred"):
            raise NeedsError(f"strategy '{strategy}' is unknown; use 'cheapest' or 'preferred'")
        plan = self._plan()
        query = self._query()
        best: Configuration | None = None
        for configuration in self._cfg._ordered(plan, query, strategy=strategy):
            best = configuration
            break
        if best is None:  # pragma: no cover - the session never holds infeasible choices
            raise InfeasibleError("no completion exists")
        choices: list[_Choice] = []
        for slot, choice in best.items():
            if isinstance(choice, Quantities):
                modules = self._cfg.catalog.slots[slot].modules
                choices.extend(_Choice(slot, m, choice.get(m, 0)) for m in modules)
            else:
                choices.append(_Choice(slot, choice, 1))
        self._apply(self._needs, tuple(choices), explain=None)
        return self.quote()

    def quote(self) -> Quote:
        """The quote of the configuration once every slot is determined."""
        query = self._query()
        plan = self._plan()
        solutions = []
        for assignment in query.solutions():
            if self._cfg._within_budget(plan, assignment) and self._cfg._holds_sums(
                plan, assignment
            ):
                solutions.append(assignment)
                if len(solutions) > 1:
                    open_slots = [
                        s
                        for s, row in self.state().items()
                        if not any(o.status in ("chosen", "implied") for o in row.values())
                    ]
                    raise NeedsError(
                        "the configuration is not complete yet; choose "
                        + ", ".join(open_slots or ["the remaining modules"])
                        + " or call complete()"
                    )
        cfg = self._cfg
        return quote(
            cfg.catalog,
            cfg._to_configuration(solutions[0]),
            plan.resolved,
            lines_of=cfg._quote_lines,
        )

    def why_not(self, slot: str, module: str | None, *, quantity: int = 1) -> Explanation:
        """A minimal set of the customer's choices and needs (with the rules involved) that
        excludes ``slot.module``; removing any one of them makes it possible again."""
        option = self._restriction(self._check(slot, module, quantity))
        # the slot's own choice goes last, so the deletion keeps it only when it alone excludes
        others = [self._restriction(c) for c in self._choices if c.slot != slot]
        others += [self._restriction(c) for c in self._choices if c.slot == slot]
        explanation = explain_exclusion(self._cfg, self._needs, others, option)
        if explanation is None:
            raise NeedsError(f"{option.label} is possible: nothing excludes it")
        return explanation

    # -- serialisation ----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly dict that :meth:`from_json` restores exactly."""
        catalog = self._cfg.catalog

        def snapshot(needs: Needs | None, choices: tuple[_Choice, ...]) -> dict[str, Any]:
            return {
                "needs": None
                if needs is None
                else needs.model_dump(mode="json", exclude_defaults=True),
                "choices": [[c.slot, c.module, c.quantity] for c in choices],
            }

        return {
            "format": _FORMAT,
            "catalog": catalog.name,
            "version": catalog.version,
            **snapshot(self._needs, self._choices),
            "undo": [snapshot(*step) for step in self._undo],
            "redo": [snapshot(*step) for step in self._redo],
        }

    @classmethod
    def from_json(cls, cfg: Configurator, data: Mapping[str, Any]) -> Session:
        """Restore a session saved by :meth:`to_json` on the same catalog version."""
        catalog = cfg.catalog
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise NeedsError(f"not a saved session (expected format '{_FORMAT}')")
        if data.get("catalog") != catalog.name or data.get("version") != catalog.version:
            raise NeedsError(
                f"the session was saved for catalog '{data.get('catalog')}' version "
                f"{data.get('version')}, but this configurator has '{catalog.name}' version "
                f"{catalog.version}; start a new session or load that catalog version"
            )
        session = cls(cfg, None)

        def load(step: Mapping[str, Any]) -> tuple[Needs | None, tuple[_Choice, ...]]:
            needs = None if step.get("needs") is None else Needs.from_data(step["needs"])
            choices = tuple(session._check(s, m, int(q)) for s, m, q in step.get("choices", []))
            return needs, choices

        needs, choices = load(data)
        session._restore(needs, choices)
        if not session._feasible():
            raise NeedsError("the saved choices leave no valid configuration in this catalog")
        session._undo = [load(step) for step in data.get("undo", [])]
        session._redo = [load(step) for step in data.get("redo", [])]
        return session


def _price_range(
    query: _Query, price_of: Callable[[int], Decimal]
) -> tuple[Decimal, Decimal] | None:
    """The totals of the cheapest and the dearest completion (None when there is none)."""
    cheapest, dearest = query.best_key(), query.worst_key()
    if cheapest is None or dearest is None:
        return None
    return price_of(query.cost_of(cheapest)), price_of(query.cost_of(dearest))


class _Reasons:
    """Why excluded modules are excluded, in the customer's terms: worked out for one state
    when first asked (the state keeps what it needs, so later changes do not affect it)."""

    def __init__(self, session: Session, plan: _Plan, query: _Query) -> None:
        self._cfg = session._cfg
        self._plan = plan
        self._problem = query.problem
        self._restrictions = [session._restriction(choice) for choice in session._choices]
        self._needs = bool(session._needs)
        # per (rule, variable, choice): the variable's values the rule allows with the choice
        self._compatible: dict[tuple[int, int, int], set[int]] = {}

    def explain(self, var: int, values: list[int]) -> str:
        for value in values:
            reason = self._problem.unary_reasons.get((var, value))
            if reason is not None:
                if reason.startswith("need: "):
                    return reason.removeprefix("need: ")
                return self._cfg._rule_text(reason)
        direct = self._direct_conflict(var, set(values))
        if direct is not None:
            return direct
        if self._restrictions:
            return "not possible with your choices and needs (see why_not)"
        if self._needs:
            return "not possible with these needs (see why_not)"
        return "never possible (see why_not)"

    def _direct_conflict(self, var: int, values: set[int]) -> str | None:
        """A rule that alone forbids the option with one of the customer's choices."""
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
                if values_with.isdisjoint(values):
                    rule = self._cfg._rule_text(constraint.source)
                    return f"conflicts with your choice {restriction.label} ({rule})"
        return None


def _as_needs(needs: NeedsLike) -> Needs | None:
    if needs is None or isinstance(needs, Needs):
        return needs
    return Needs.from_data(needs)
