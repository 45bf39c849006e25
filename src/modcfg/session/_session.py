"""Interactive configuration: choose modules one at a time, with no dead ends.

A :class:`Session` keeps one customer's choices and needs. Its :meth:`Session.state` gives,
for every module of every slot, whether it is chosen, implied, available or excluded, with the
exact number of valid completions and the from-price of the cheapest one; every module shown
available extends to a complete valid configuration (the session refuses choices that would
not). ``why_not`` explains an excluded module in terms of the customer's own choices and needs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from .._arguments import deadline_after
from .._compiled import as_needs
from .._errors import InfeasibleError, LimitExceeded, NeedsError, TimeLimitExceeded
from .._streams import ordered
from ..explain import Explanation, explain_exclusion, infeasible_error
from ..model import Configuration, Needs, Quantities
from ..price import Quote, quote
from ._checks import check_slot, checked_choice
from ._compute import (
    _Choice,
    _History,
    _Query,
    _restriction,
    _Step,
    completions_with,
    compute_state,
    shown_possible,
)
from ._migrate import MigrationChange, migrate_session
from ._saved import (
    HISTORY_LIMIT,
    SavedSession,
    SavedStep,
    SigningKey,
    checked_document,
    load_step,
    parse_text,
)
from ._saving import SavedSessions
from ._state import Lazy, OptionState, SessionState
from ._suggested import NO_PICKS, suggesting, usual_of

if TYPE_CHECKING:
    from .._configurator import Configurator, NeedsLike
    from .._plan import Plan
    from ..memory import CustomerProfile

__all__ = ["OptionState", "Session", "SessionState"]


class Session(SavedSessions):
    """One customer's interactive configuration on a compiled catalog.

    >>> import modcfg
    >>> session = modcfg.compile(modcfg.load_catalog("windows")).session()
    >>> state = session.choose("frame", "oak")
    >>> state.count, state["glass"]["triple"].count, str(state["glass"]["triple"].from_price)
    (360, 36, '260.00')

    A session keeps the last :attr:`HISTORY_LIMIT` steps for :meth:`undo`; :meth:`to_json`
    saves it (optionally signed) and :meth:`from_json` restores it, checking the text as
    untrusted input. A ``customer`` profile adds suggestions (:attr:`SessionState.suggested`).
    """

    #: The most undo (and redo) steps a session keeps, and a saved session may carry.
    HISTORY_LIMIT: ClassVar[int] = HISTORY_LIMIT
    migration: tuple[MigrationChange, ...] = ()

    def __init__(
        self,
        cfg: Configurator,
        needs: NeedsLike = None,
        *,
        time_limit: float | None = None,
        customer: CustomerProfile | None = None,
    ) -> None:
        self._cfg = cfg
        self._usual = usual_of(cfg, customer)
        self._dismissed: frozenset[str] = frozenset()  # slots whose suggestion was dropped
        self._picks: Lazy[tuple[_Choice, ...]] = NO_PICKS  # the suggestions of the state
        self._time_limit = time_limit  # per state under budgets and global sums; complete()
        self._needs = as_needs(needs)
        self._choices: tuple[_Choice, ...] = ()
        self._undo: deque[_History] = deque(maxlen=HISTORY_LIMIT)  # the oldest step goes
        self._redo: deque[_History] = deque(maxlen=HISTORY_LIMIT)
        self._cache: SessionState | None = None
        self._plan_cache: Plan | None = None
        self._query_cache: tuple[Plan, tuple[_Choice, ...], _Query] | None = None
        if (self._needs is not None or cfg.compiled.empty) and not self._feasible():
            raise infeasible_error(cfg, self._plan().resolved)

    # -- state ------------------------------------------------------------------------------

    @property
    def needs(self) -> Needs | None:
        return self._needs

    @property
    def choices(self) -> dict[str, Any]:
        """The customer's choices: slot -> module, or {module: quantity (None: any)}."""
        result: dict[str, Any] = {}
        for choice in self._choices:
            if self._cfg.catalog.slots[choice.slot].single:
                result[choice.slot] = choice.module
            else:
                result.setdefault(choice.slot, {})[choice.module] = choice.quantity
        return result

    def _plan(self) -> Plan:
        if self._plan_cache is None:
            self._plan_cache = self._cfg.compiled.plan(self._needs)
        return self._plan_cache

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

    def _fresh_query(self, plan: Plan, choices: tuple[_Choice, ...]) -> _Query:
        """The plan's query with the choices applied, extending the last one when it can."""
        # no choices: shared by every session with these needs (built within the time limit)
        query: _Query = plan.session_query_by(deadline_after(self._time_limit))
        start = 0
        cached = self._query_cache
        if cached is not None and cached[0] is plan and cached[1] == choices[: len(cached[1])]:
            query, start = cached[2], len(cached[1])
        value_filter = self._cfg.compiled.choice_values
        for choice in choices[start:]:
            query = query.restricted(*value_filter(choice.slot, choice.module, choice.quantity))
        return query

    def state(self) -> SessionState:
        """Every module's status, completion count and from-price under the current choices.

        The state is a snapshot: it keeps answering for these choices after later changes.
        """
        if self._cache is None:
            step = _Step(
                self._cfg,
                self._needs,
                self._plan(),
                self._choices,
                self._query(),
                self._time_limit,
            )
            compute, suggested = partial(compute_state, step), None
            if self._usual.choices:  # a returning customer's suggestions, worked out lazily
                found = suggesting(compute, self._usual, step, self._dismissed, self._possible_in)
                self._picks, compute, suggested = found
            self._cache = SessionState.of(compute, self._cfg.catalog.currency, suggested)
        return self._cache

    def accept(self, slot: str | None = None) -> SessionState:
        """Make the suggestions (or ``slot``'s) choices, in one step :meth:`undo` takes back."""
        self.state()
        taken = [c for c in self._picks.get() if slot is None or c.slot == slot]
        if not taken:
            raise NeedsError(f"there is no suggestion{'' if slot is None else f' for {slot!r}'}")
        return self._apply(self._needs, (*self._choices, *taken), explain=None)

    def dismiss(self, slot: str | None = None) -> SessionState:
        """Drop the suggestions (or the one for ``slot``); the choices stay as they are."""
        self.state()
        if slot is not None:
            check_slot(self._cfg.catalog, slot)
        self._dismissed |= {c.slot for c in self._picks.get()} if slot is None else {slot}
        self._cache = None
        return self.state()

    # -- changes ----------------------------------------------------------------------------

    def _shown_available(self, choice: _Choice | None) -> bool:
        """Whether ``choice`` is known to be possible without a pass: the computed state shows
        it, or it is the first choice and the needs' own marginals (computed once for every
        session with these needs) give it completions."""
        if choice is None or choice.module is None:
            return False
        single = self._cfg.catalog.slots[choice.slot].single
        if not single and choice.quantity is not None:
            return False  # (an option's count is of the module in any quantity)
        shown = shown_possible(self._cache, choice, single=single)
        if shown is not None or not single:
            return bool(shown)
        plan = self._plan()
        if self._choices or plan.cost_bound is not None or plan.problem.resources:
            return False
        var = self._cfg.compiled.slot_index[choice.slot]
        values = self._cfg.compiled.module_values[var][choice.module]
        try:
            deadline = deadline_after(self._time_limit)
            marginals = plan.session_query.marginals(deadline=deadline)[var]
        except TimeLimitExceeded:  # (not within the time limit: a feasibility pass tells)
            return False
        return any(marginals[value][0] for value in values)

    def _possible_in(self, plan: Plan, choices: tuple[_Choice, ...]) -> bool:
        """Whether ``choices`` leave a valid configuration under the needs of ``plan``."""
        return self._completes(plan, self._fresh_query(plan, choices))

    def _feasible(self) -> bool:
        """Whether the current needs and choices leave a valid configuration."""
        return self._completes(self._plan(), self._query())

    def _completes(self, plan: Plan, query: _Query) -> bool:
        if not query.feasible():
            return False
        if plan.bounds.unbounded:
            return True
        return query.count_within(plan.bounds, time_limit=self._time_limit) > 0

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
                    str(explanation),
                    conflict=explanation.because,
                    rules=explanation.rules,
                    reasons=explanation.reasons,
                )
            raise InfeasibleError("these needs leave no valid configuration with your choices")
        self._undo.append((previous[0], previous[1]))
        self._redo.clear()
        self._cache = None
        return self.state()

    def choose(self, slot: str, module: str | None, quantity: int | None = None) -> SessionState:
        """Choose a module for a slot (``None``: leave an optional slot empty).

        In a single-choice slot, the module replaces the slot's earlier choice (the other
        modules of a chosen slot are excluded only by that choice: choosing one switches).
        In a multi-select slot, ``quantity`` units of the module (0: none); left out, any
        quantity of one or more, as its option counts: an option shown possible can be chosen.
        Raises :class:`InfeasibleError` with the explanation, and changes nothing, when the
        rules, the needs and the other choices exclude the module.
        """
        choice = checked_choice(self._cfg.catalog, slot, module, quantity)
        kept = self._choices
        if kept:  # this slot's earlier choice (of this module, in a multi-select slot) goes
            single = self._cfg.catalog.slots[slot].single
            kept = tuple(c for c in kept if c.slot != slot or (not single and c.module != module))
        return self._apply(self._needs, (*kept, choice), explain=choice)

    def unchoose(self, slot: str, module: str | None = None) -> SessionState:
        """Take back the choice of a slot (or of one module of a multi-select slot); with no
        such choice, nothing changes (no step to undo)."""
        check_slot(self._cfg.catalog, slot)
        kept = tuple(
            c
            for c in self._choices
            if c.slot != slot or (module is not None and c.module != module)
        )
        if kept == self._choices:
            return self.state()
        return self._apply(self._needs, kept, explain=None)

    def set_needs(self, needs: NeedsLike) -> SessionState:
        """Replace the needs (InfeasibleError, and no change, if they leave no completion)."""
        return self._apply(as_needs(needs), self._choices, explain=None)

    def undo(self) -> SessionState:
        """Go back one step (choose, unchoose, set_needs or complete).

        A session keeps the last :attr:`HISTORY_LIMIT` steps. Raises :class:`InfeasibleError`
        (and changes nothing) when the step no longer leaves a valid configuration (a
        restored session's history is checked as it is replayed).
        """
        return self._step_back(self._undo, self._redo, "undo")

    def redo(self) -> SessionState:
        """Redo the step undone last."""
        return self._step_back(self._redo, self._undo, "redo")

    def _step_back(
        self, source: deque[_History], target: deque[_History], what: str
    ) -> SessionState:
        if not source:
            raise NeedsError(f"nothing to {what}")
        current = (self._needs, self._choices)
        previous_plan = self._plan_cache
        needs, choices = source[-1]
        self._restore(needs, choices)
        if not self._feasible():
            self._restore(*current)
            self._plan_cache = previous_plan
            raise InfeasibleError(
                f"the step to {what} leaves no valid configuration in this catalog; "
                "make a new choice instead"
            )
        source.pop()
        target.append(current)
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
        preference score, then lowest total. The search stops at the session's time limit
        (:class:`LimitExceeded`, nothing changed).
        """
        if strategy not in ("cheapest", "preferred"):
            raise NeedsError(f"strategy '{strategy}' is unknown; use 'cheapest' or 'preferred'")
        plan = self._plan()
        query = self._query()
        limit = self._time_limit
        deadline = deadline_after(limit)
        best: Configuration | None = None
        found = ordered(self._cfg.compiled, plan, query, strategy=strategy, deadline=deadline)
        try:
            for configuration in found:
                best = configuration
                break
        except LimitExceeded:
            raise TimeLimitExceeded(
                f"finding the best completion passed the session's time limit of {limit:g} s; "
                "choose more first, or start the session with a larger time_limit="
            ) from None
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
            if plan.within_budget(assignment) and plan.holds_sums(assignment):
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
        if not solutions:  # pragma: no cover - the session never holds infeasible choices
            raise InfeasibleError("no valid configuration completes these choices")
        compiled = self._cfg.compiled
        return quote(
            compiled.catalog,
            compiled.configuration(solutions[0]),
            plan.resolved,
            lines_of=compiled.quote_lines,
        )

    def why_not(self, slot: str, module: str | None, *, quantity: int | None = None) -> Explanation:
        """A minimal set of the customer's choices and needs (with the rules involved) that
        excludes ``slot.module``; removing any one of them makes it possible again.

        For an option that is possible, the explanation says so (``available`` is true) with
        its number of completions and the total of the cheapest. The session's ``time_limit``
        bounds the solver's search for the explanation (:class:`~modcfg.LimitExceeded` past it).
        """
        option = _restriction(self._cfg, checked_choice(self._cfg.catalog, slot, module, quantity))
        completions, from_price = completions_with(self._plan(), self._query(), option)
        if completions:
            return Explanation(
                option.label,
                because=(),
                rules={},
                completions=completions,
                from_price=from_price,
                currency=self._cfg.catalog.currency,
            )
        # the slot's own choice goes last, so the deletion keeps it only when it alone excludes
        others = [_restriction(self._cfg, c) for c in self._choices if c.slot != slot]
        others += [_restriction(self._cfg, c) for c in self._choices if c.slot == slot]
        explanation = explain_exclusion(
            self._cfg, self._needs, others, option, time_limit=self._time_limit
        )
        if explanation is None:  # pragma: no cover - the engines agree
            return Explanation(option.label, because=(), rules={})
        return explanation

    def __repr__(self) -> str:
        chosen = []
        for choice in self._choices:
            if self._cfg.catalog.slots[choice.slot].single:
                chosen.append(f"{choice.slot}={choice.module or 'none'}")
            else:
                chosen.append(choice.label)
        text = f"<Session {self._cfg.catalog.name}: {', '.join(chosen) or 'no choices'}"
        state = self._cache
        if state is not None and state.computed:  # (counting here would cost a pass)
            text += f"; {state.count:,} completions"
        return text + ">"

    @classmethod
    def from_json(
        cls,
        cfg: Configurator,
        text: str | bytes,
        *,
        signing_key: SigningKey | None = None,
        time_limit: float | None = None,
    ) -> Session:
        """Restore a session saved by :meth:`to_json` (another version: see :attr:`migration`).

        The text is untrusted: every field is checked (NeedsError naming its path), texts
        over 4,000,000 characters, steps of more choices than one per module and per slot
        of the catalog (or than 2,048, when that is more) and histories longer than
        :attr:`HISTORY_LIMIT` steps are refused, and with ``signing_key`` (the keys it was
        signed with) a missing or wrong signature raises :class:`SignatureError` (without
        it, a signature is not checked). ``time_limit``: the restored session's, as
        :meth:`Configurator.session` takes it (a time limit is not saved).
        """
        return cls.from_dict(cfg, parse_text(text), signing_key=signing_key, time_limit=time_limit)

    @classmethod
    def from_dict(
        cls,
        cfg: Configurator,
        data: Mapping[str, Any],
        *,
        signing_key: SigningKey | None = None,
        time_limit: float | None = None,
    ) -> Session:
        """Restore a session saved by :meth:`to_dict` (checked as :meth:`from_json` says)."""
        saved = checked_document(cfg.catalog, data, signing_key=signing_key)
        if saved.version != cfg.catalog.version:
            return migrate_session(cls, cfg, saved, time_limit=time_limit)
        return cls(cfg, None, time_limit=time_limit).__restore_saved(saved)

    def __restore_saved(self, saved: SavedSession) -> Session:
        """Take the needs, choices and history of a checked saved session (a new session's
        own step of :meth:`from_dict`)."""
        needs, choices = self._load(saved, "")
        self._restore(needs, choices)
        if not self._feasible():
            raise NeedsError("the saved choices leave no valid configuration in this catalog")
        # (each history step is checked for a valid configuration when it is replayed)
        self._undo.extend(self._load(s, f"undo[{n}].") for n, s in enumerate(saved.undo))
        self._redo.extend(self._load(s, f"redo[{n}].") for n, s in enumerate(saved.redo))
        return self

    def _load(self, step: SavedStep, where: str) -> _History:
        """One saved step's needs and choices, checked against the catalog."""
        return load_step(self._cfg, partial(checked_choice, self._cfg.catalog), step, where)
