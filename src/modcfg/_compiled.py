"""The compiled catalog: what :func:`modcfg.compile` produces, read by every layer above it.

A :class:`CompiledCatalog` holds the catalog lowered once: the slots' domains (every value a
slot can take, with its modules and unit cost), the base problem (the rules as tables, the
price rules as cost factors), the tree decomposition and its query, and the tables sessions
show (:mod:`._option_tables`). Its public attributes and methods are all that
:class:`~modcfg.Configurator`, sessions, streams, explanations and quotes use of it.

Invariants:

- Immutable after compile. Its data never changes; data derived from it (the tree, the base
  query, the session tables, the emptiness of the catalog) is computed once, on first use (a
  catalog whose slots nothing ties may never need a tree), and is the same whichever thread
  computes it.
- Its only mutable state is its declared caches (:class:`~modcfg._cache.Cache`): plans of
  needs (each with bounded memos of quote totals), trees for needs that tie slots the base
  tree keeps apart, the value indexes of sessions' choices, and quote lines. Each is bounded
  and thread-safe, holds values computed from the immutable data, and is emptied by
  :meth:`CompiledCatalog.clear_caches` (so emptying one changes no answer). Plans reach the
  catalog through a weak reference: the caches make no reference cycle.
- Variables are the catalog's slots in order: variable ``i`` is ``slots[i]``, and its value
  ``v`` is ``domains[i].choices[v]``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cached_property
from typing import Any

from ._cache import Cache, WeighedCache
from ._compile_limits import Deadline as _Deadline
from ._compile_limits import compile_wide, filled_in, refused_by_both
from ._errors import LimitExceeded
from ._option_tables import OptionTables
from ._plan import Plan, cost_bound, new_plan
from .engines import separable
from .engines._aside import AsideQuery, SavedAside
from .engines._aside_setup import set_aside, wide_clauses
from .engines.compiled import (
    COMPILE_SECONDS,
    Circuit,
    CompiledQuery,
    Encoding,
    NotCnfError,
    compile_problem,
)
from .engines.decomposition import (
    BagsTooLarge,
    FillStopped,
    Tree,
    TreeQuery,
    build_tree,
    decomposition_width,
)
from .lower import Problem, SlotDomain, build_domains, compile_rules, needs_problem
from .lower._propagation import Propagator
from .model import Catalog, Configuration, Needs, ResolvedNeeds
from .model._configuration import Choice
from .price._quote import LineCache

__all__ = ["CompiledCatalog", "Lowered", "NeedsLike", "as_needs"]

#: What compiling computes from a catalog: its domains, its base problem, the tree (None:
#: built on first use) and, for a catalog too entangled to decompose, the compiled engine's
#: circuit and encoding or the tree with wide clauses set aside; saved compiled catalogs hold
#: it.
Lowered = tuple[
    tuple[SlotDomain, ...],
    Problem,
    Tree | None,
    tuple[Circuit, Encoding] | SavedAside | None,
]
#: Needs as :class:`~modcfg.Needs`, as data (checked when used) or None (no needs).
NeedsLike = Needs | Mapping[str, Any] | None
#: The plan cache's key of no needs.
_NO_NEEDS = ("", date.min)
#: Plans (needs applied to the compiled catalog) kept: at most this many, and the passes
#: their queries hold within a quarter of the compiled catalog's memory limit (each plan of a
#: large catalog holds passes over its whole tree: 280 MB for the decision-making model).
PLAN_CACHE = 256
PLAN_MEMORY_SHARE = 4
#: Trees for needs whose conditions or preferences tie slots the base tree keeps apart.
TREE_CACHE = 64
#: Value indexes of sessions' choices, by (slot, module, quantity).
CHOICE_CACHE = 4096
#: Module lines of quotes, by (slot, module, units, quantity).
LINE_CACHE = 65_536
#: Compiling tries the tree decomposition within these limits first: its bags' value
#: combinations before rules, and rows (see CompiledCatalog._choose_engine). The largest
#: bags of the eCos feature models hold 2**33 combinations and 220,000 rows (two of 59 pass
#: 500,000 while they fill: e7t and cma28x); Fiasco's pass 5,000,000 rows, and the trial
#: refuses them after 0.2 s (0.4 s at 1,000,000 rows), where the compiled engine takes 0.04 s.
TRIAL_COMBINATIONS = 1 << 48
TRIAL_BAG_ROWS = 500_000
#: The widest bag, in value combinations before rules, a tree with wide clauses set aside may
#: have (a wider one is refused before it fills).
ASIDE_COMBINATIONS = 1 << 48
#: Seconds the compiled engine may take before a tree whose bags passed the trial's rows is
#: built within its full limits (one too wide to try gets the engine's full time). The
#: models it answers after such a trial take 0.03-0.07 s.
TRIAL_SECONDS = 0.5


def as_needs(needs: NeedsLike) -> Needs | None:
    """``needs`` as :class:`~modcfg.Needs` (checked when given as data), or None."""
    if needs is None or isinstance(needs, Needs):
        return needs
    return Needs.from_data(needs)


def _holds(units: int, quantity: int | None) -> bool:
    """Whether ``units`` of a module are a choice of ``quantity`` (None: one or more)."""
    return units > 0 if quantity is None else units == quantity


class CompiledCatalog(OptionTables):
    """One catalog compiled: domains, base problem, tree and session tables, and the caches
    built from them (see the module docstring for the invariants).

    ``memory_limit`` (bytes; None: half the machine's physical memory) bounds what compiling
    and every later query may allocate; ``time_limit`` (seconds; None: no limit) bounds the
    choice of engine (see ``_choose_engine``).
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        memory_limit: int | None = None,
        time_limit: float | None = None,
        lowered: Lowered | None = None,
    ) -> None:
        self.catalog = catalog
        if lowered is None:
            domains = build_domains(catalog)
            base = compile_rules(catalog, domains, memory_limit=memory_limit)
            lowered = (domains, base, None, None)
        self.domains: tuple[SlotDomain, ...] = lowered[0]
        #: The rules and price rules without any needs.
        self.base: Problem = lowered[1]
        #: The bytes compiling and any one query may allocate.
        self.memory_limit: int = self.base.memory_limit
        self.slots: tuple[str, ...] = tuple(catalog.slots)
        self.slot_index: dict[str, int] = {slot: index for index, slot in enumerate(self.slots)}
        #: Per slot, its choices by value index.
        self.choice_lists: list[tuple[Choice, ...]] = [domain.choices for domain in self.domains]
        # declared caches (see clear_caches)
        plan_limit = self.memory_limit // PLAN_MEMORY_SHARE
        least = plan_limit // PLAN_CACHE  # (so that it keeps PLAN_CACHE plans at most)
        self.plans: WeighedCache[tuple[str, date], Plan] = WeighedCache(
            plan_limit, lambda plan: max(plan.held, least)
        )
        self._plan_bytes: int | None = None
        self.trees: Cache[frozenset[tuple[int, ...]], Tree] = Cache(TREE_CACHE)
        self.choices: Cache[tuple[str, str | None, int | None], tuple[int, frozenset[int]]] = Cache(
            CHOICE_CACHE
        )
        #: Module lines of quotes (see :func:`modcfg.price.quote`'s ``lines_of``).
        self.quote_lines: LineCache = Cache(LINE_CACHE)
        # derived on first use
        self._tree: Tree | None = lowered[2]
        self._base_query: TreeQuery | None = None
        self._default_needs: ResolvedNeeds | None = None
        self._empty: bool | None = None
        self._tree_lock = threading.Lock()
        self._query_lock = threading.Lock()
        #: The query of the rules for a catalog too entangled to decompose: the compiled
        #: engine's, or the tree with wide clauses set aside (see ``_choose_engine``).
        self.wide_base: CompiledQuery | AsideQuery | None = None
        wide = lowered[3]  # what was saved with the catalog (see modcfg._artefact)
        if isinstance(wide, SavedAside):
            self.wide_base = wide.query(self.base)
        elif wide is not None:
            self.wide_base = CompiledQuery(self.base, *wide)
        elif not separable(self.base):
            # decompose now: a catalog too large to decompose fails here, not at a query
            deadline = None if time_limit is None else _Deadline(time_limit)
            try:
                self._choose_engine(deadline)
            except FillStopped as stopped:
                assert deadline is not None  # (only a deadline stops a fill)
                raise deadline.passed(f"while {stopped.what}") from None
        # else the tree (one bag per slot) is built when a query first needs it

    def _choose_engine(self, deadline: _Deadline | None = None) -> None:
        """Decompose the rules, or compile them into a decision-DNNF when the tree would be
        wide: the engine that answers queries on the base problem.

        A tree whose bags are small answers every query fastest, and most catalogs have
        one. Where the best decomposition found has a bag of more than
        :data:`TRIAL_COMBINATIONS` value combinations, or a bag that holds more than
        :data:`TRIAL_BAG_ROWS` consistent rows, building the tree would take seconds and
        gigabytes, while the compiled engine, which splits the rules into components as it
        assigns them, often takes a fraction of a second. So the tree is tried within those
        limits first, then the compiled engine (when no price rule spans several slots: it
        prices each slot alone): for :data:`TRIAL_SECONDS` when the bags passed the trial's
        rows as they filled, for its full time when a bag was too wide to fill at all. Only
        then is the tree built within its full limits, with min-fill's decomposition first
        when the trial's bags passed its rows as they filled (see ``docs/limits.md``).

        A catalog with clauses over many slots (or-groups of a feature model) has its widest
        ones set aside: the tree of its other rules within the full limits, counted by
        inclusion-exclusion over those clauses (:mod:`.engines._aside`). That is tried
        before the compiled engine when the trial's tree was too wide to fill (the engine
        would have its full time), else after its short try.

        ``deadline`` (compile's ``time_limit``) is checked between those steps, and the
        compiled engine searches no longer than the time left; filling a tree stops soon after
        it (:class:`~.engines.decomposition.FillStopped`)."""
        if self._tree is not None:  # a saved tree (see modcfg._artefact)
            self.base_query.count()
            return
        end = None if deadline is None else deadline.end
        try:
            self._tree = build_tree(
                self.base, bag_limit=TRIAL_BAG_ROWS, widest=TRIAL_COMBINATIONS, deadline=end
            )
            self.base_query.count()
            return
        except BagsTooLarge as wide:
            # bags that filled past the trial's rows may still fill within the full limits:
            # then the compiled engine has a short try; a tree too wide to fill has none
            filling = wide.filling
            seconds = TRIAL_SECONDS if filling else COMPILE_SECONDS
        except FillStopped:  # (a time limit, a LimitExceeded too: the caller says which)
            raise
        except LimitExceeded as refused:  # the memory limit: a larger bag limit cannot help
            self.wide_base = compile_wide(self.base, refused, deadline)
            return
        if not filling and self._set_aside(deadline):  # (before the compiled engine's 60 s)
            return
        stopped: LimitExceeded | None = None
        if not self.base.cost_factors:  # prices over several slots: only the tree ranks them
            try:
                if deadline is not None:
                    seconds = deadline.left(seconds, "before the compiled engine could start")
                self.wide_base = compile_problem(self.base, seconds=seconds)
                return
            except NotCnfError:
                pass
            except LimitExceeded as engine:
                stopped = engine
        if filling and self._set_aside(deadline):
            return
        try:
            if deadline is not None:
                deadline.left(None, "before the tree could be built within its full limits")
            if filling:  # the other heuristic's tree first: its bags may fill in a fraction
                self._tree = filled_in(self.base, end)
                if self._tree is None and deadline is not None:
                    deadline.left(None, "before min-degree's tree could be built")
            if self._tree is None:
                self._tree = build_tree(self.base, deadline=end)
            self.base_query.count()  # the tree within its full limits
        except LimitExceeded as refused:
            if stopped is None or isinstance(refused, FillStopped):
                raise
            raise refused_by_both(refused, stopped) from None

    def _set_aside(self, deadline: _Deadline | None) -> bool:
        """Whether the base problem's widest clauses, set aside, leave a tree within the full
        limits (then it answers queries, as :attr:`wide_base`)."""
        if not wide_clauses(self.base):
            return False
        if deadline is not None:
            deadline.left(None, "before wide clauses could be set aside")
        end = None if deadline is None else deadline.end
        try:  # (the first term is counted here; the others on the first count)
            aside = set_aside(self.base, widest=ASIDE_COMBINATIONS, deadline=end)
        except FillStopped:
            raise
        except LimitExceeded:  # the tree of the other rules is too wide too
            return False
        self.wide_base = aside
        return True

    def lowered(self) -> Lowered:
        """What compiling computed from the catalog (see :mod:`modcfg._artefact`): its
        domains, base problem, and its tree or, when the compiled engine answers for it, that
        engine's circuit and encoding, or the tree with wide clauses set aside."""
        wide = self.wide_base
        if isinstance(wide, AsideQuery):
            return self.domains, self.base, None, wide.saved()
        if wide is not None:
            return self.domains, self.base, None, (wide.circuit, wide.encoding)
        return self.domains, self.base, self.tree, None

    # -- derived on first use (pure: a value two threads race to compute is the same) ------

    @cached_property
    def propagator(self) -> Propagator:
        """The base problem's rules, ready to propagate restrictions (explanations)."""
        return Propagator(self.base)

    @property
    def tree(self) -> Tree:
        """The tree decomposition of the base problem."""
        tree = self._tree
        if tree is None:
            with self._tree_lock:
                tree = self._tree
                if tree is None:
                    tree = self._tree = build_tree(self.base)
        return tree

    @property
    def width(self) -> int:
        """The width of the base problem's tree decomposition (largest bag's slots - 1): the
        tree's, or for a catalog too entangled for one (answered by the compiled engine or
        with its widest clauses set aside) the decomposition's, never filled."""
        if self._tree is None and self.wide_base is not None:
            return decomposition_width(self.base)
        return self.tree.width

    @property
    def base_query(self) -> TreeQuery:
        """The decomposition query of the base problem (no needs)."""
        query = self._base_query
        if query is None:
            with self._query_lock:
                query = self._base_query
                if query is None:
                    query = self._base_query = TreeQuery(self.tree, self.base)
        return query

    @property
    def default_needs(self) -> ResolvedNeeds:
        """No needs: nothing restricted, but mandatory services still priced."""
        found = self._default_needs
        if found is None:
            found = self._default_needs = Needs().resolve(self.catalog)
        return found

    @property
    def empty(self) -> bool:
        """Whether the catalog has no valid configuration at all (its rules clash)."""
        found = self._empty
        if found is None:
            count = self.plan(None).count("auto", limit=None, time_limit=None, progress=None)
            found = self._empty = count == 0
        return found

    # -- needs and plans --------------------------------------------------------------------

    def resolve(self, needs: NeedsLike) -> ResolvedNeeds:
        """Check needs against the catalog (NeedsError when they do not fit)."""
        needs = as_needs(needs)
        return self.default_needs if needs is None else needs.resolve(self.catalog)

    def plan(self, needs: NeedsLike) -> Plan:
        """The needs applied to the compiled catalog (cached: sessions often share needs)."""
        if needs is None:
            key = _NO_NEEDS
        else:
            if not isinstance(needs, Needs):
                needs = Needs.from_data(needs)
            # resolving compares delivery dates with today when the needs do not say
            key = (needs.model_dump_json(), needs.today or date.today())
        plan = self.plans.get(key)
        if plan is None:
            resolved = self.resolve(needs)
            problem = self.base if needs is None else needs_problem(self.base, resolved)
            plan = self.plans.keep(key, new_plan(self, resolved, problem))
        return plan

    def plan_bytes(self) -> int:
        """The bytes the queries of one customer's needs hold (an estimate, computed once):
        the passes over the catalog's tree (its bag rows and keys, an upward and a downward
        count per modulus the tree's size may need), none for the compiled engine's."""
        if self._plan_bytes is None:
            wide = self.wide_base
            if wide is not None and not isinstance(wide, AsideQuery):
                self._plan_bytes = 0
            else:
                tree = wide.tree if isinstance(wide, AsideQuery) else self.tree
                self._plan_bytes = tree.pass_bytes(tree.bound_for(self.base))
        return self._plan_bytes

    def cost_bound(self, resolved: ResolvedNeeds, cheapest: int | None) -> int:
        """The largest unit cost (minor units) whose quote total fits the budget of
        ``resolved`` (``cheapest``: the lowest unit cost of a valid configuration, if known)."""
        return cost_bound(self.catalog, resolved, cheapest)

    def _extra_scopes(self, problem: Problem) -> list[tuple[int, ...]]:
        """The scopes of the rules and preferences ``problem`` adds to the base problem's."""
        if problem is self.base:
            return []
        base = self.tree.constraint_ids
        extra = [c.scope for c in problem.constraints if id(c) not in base]
        return extra + [f.scope for f in problem.score_factors]

    def holds_rules_of(self, problem: Problem) -> bool:
        """Whether the catalog's tree has a bag for every rule ``problem`` adds."""
        return self._holds(self._extra_scopes(problem))

    def _holds(self, scopes: list[tuple[int, ...]]) -> bool:
        tree = self.tree
        return all(tree.bag_containing(scope) is not None for scope in scopes)

    def tree_for(self, problem: Problem, deadline: float | None = None) -> Tree:
        """A tree for ``problem`` (the base problem with needs): the base tree when it holds
        every scope the needs add, else one built with those scopes as cliques (cached; its
        fill stops at ``deadline`` with :class:`~modcfg.engines.decomposition.FillStopped`)."""
        extra = self._extra_scopes(problem)
        if self._holds(extra):
            return self.tree
        key = frozenset(tuple(scope) for scope in extra)
        found = self.trees.get(key)
        if found is None:
            made = build_tree(
                self.base, extra_scopes=sorted(key), fill_in=self.tree.fill_in, deadline=deadline
            )
            found = self.trees.keep(key, made)
        return found

    # -- choices, configurations, texts -----------------------------------------------------

    def choice_values(
        self, slot: str, module: str | None, quantity: int | None
    ) -> tuple[int, frozenset[int]]:
        """The variable of ``slot`` and the values a choice of ``quantity`` x ``module``
        leaves it (``module`` None: the slot left empty; ``quantity`` None: the module in any
        quantity of one or more)."""
        key = (slot, module, quantity)
        found = self.choices.get(key)
        if found is None:
            var = self.slot_index[slot]
            domain = self.domains[var]
            if self.catalog.slots[slot].single:
                values = frozenset({domain.choices.index(module)})
            else:
                values = frozenset(
                    v
                    for v, units in enumerate(domain.units)
                    if _holds(dict(units).get(module or "", 0), quantity)
                )
            found = self.choices.keep(key, (var, values))
        return found

    def configuration(self, assignment: Sequence[int]) -> Configuration:
        """The configuration of a solution (a value index per slot)."""
        values = tuple(map(tuple.__getitem__, self.choice_lists, assignment))
        return Configuration.from_values(self.slots, values, self.slot_index)

    def rule_text(self, rule_id: str) -> str:
        """A rule id with the rule's message (``"pvc-no-triple: PVC frames ..."``), or the id
        alone for a rule without a message."""
        rule = self.catalog.rules_by_id.get(rule_id)
        return f"{rule_id}: {rule.describe()}" if rule is not None and rule.message else rule_id

    def clear_caches(self) -> None:
        """Empty every declared cache (plans with the needs they were built for, trees,
        choices' values, quote lines); answers stay the same."""
        for cache in (self.plans, self.trees, self.choices, self.quote_lines):
            cache.clear()
