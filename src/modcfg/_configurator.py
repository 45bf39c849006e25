"""The compiled catalog: count, enumerate, price and find the best configurations."""

from __future__ import annotations

import gc
import itertools
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from math import prod
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._errors import InfeasibleError, LimitExceeded, NeedsError
from ._session import Session
from .model import (
    Catalog,
    Configuration,
    ConfigurationView,
    Needs,
    ResolvedNeeds,
    evaluate,
    load_catalog,
    parse,
    truthy,
)
from .model._configuration import Choice
from .price import Quote, from_minor_units, order_total, quote
from .price._quote import LineCache
from .solve import (
    Constraint,
    Problem,
    Tree,
    TreeQuery,
    build_domains,
    build_tree,
    compile_rules,
    needs_problem,
)
from .solve._independent import IndependentQuery, separable
from .solve._sums import solutions_within

if TYPE_CHECKING:
    from .explain import Finding, Restriction

__all__ = ["Configurator", "Engine", "NeedsLike", "Order", "Progress", "compile"]

Engine = Literal["auto", "decomposition", "cpsat"]
#: Up to this many solutions, enumeration expands them all at once (vectorised).
_MATERIALISE = 500_000
#: Expansion speed (configurations x slots per second) assumed, conservatively, when a time
#: limit must be honoured: an expansion cannot stop half-way, so a larger one walks instead.
_EXPANDED_PER_SECOND = 4_000_000
#: Rows turned into Python objects at a time when a materialised space is streamed (small:
#: the temporary rows die young instead of filling the collector's oldest generation).
_CHUNK = 1024
#: Plans (needs applied to the compiled catalog) kept per configurator.
_PLAN_CACHE = 256
#: Configurations made at a time by a stream (see ``Configurator.configurations``).
_BATCH = 1024
Order = Literal["price"] | None
NeedsLike = Needs | Mapping[str, Any] | None
#: ``progress(done, total)``: ``total`` is None when unknown.
Progress = Callable[[int, int | None], None]


_pauses = 0  # compilations running with the collector paused by them
_pause_lock = threading.Lock()


def _pause_collector() -> bool:
    """Pause Python's cyclic garbage collector while compiling; True when this call paused
    it (then :func:`_resume_collector` must follow, in a ``finally``).

    Compiling allocates many short-lived containers, all freed by reference counting; with
    the collector running, some of them are promoted to the oldest generation, and every few
    compilations trigger a full collection, which scans every object of the process (about
    100 ms once numba is loaded). Paused, only what the compiled catalog keeps is left for
    the collector. The collector is resumed when the last compilation that paused it ends,
    and left alone when the caller had already paused it.
    """
    global _pauses
    with _pause_lock:
        paused = gc.isenabled() or _pauses > 0
        if paused:
            gc.disable()
            _pauses += 1
    return paused


def _resume_collector() -> None:
    global _pauses
    with _pause_lock:
        _pauses -= 1
        if not _pauses:
            gc.enable()


def compile(
    catalog: Catalog | str | os.PathLike[str], *, memory_limit: int | None = None
) -> Configurator:
    """Compile a catalog into a reusable, thread-safe :class:`Configurator`.

    ``catalog`` is a :class:`Catalog`, or a file path or bundled name, which
    :func:`modcfg.load_catalog` loads first. ``memory_limit`` (bytes; None: half the
    machine's physical memory) bounds what compiling and every later query may allocate: each
    large table, bag and pass is estimated first, and one above the limit raises
    :class:`LimitExceeded` naming the rule or the slots at fault.

    >>> import modcfg
    >>> modcfg.compile(modcfg.load_catalog("credit_cards")).count()
    200
    >>> modcfg.compile("windows").count()
    1800
    >>> modcfg.compile("bicycle", memory_limit=10_000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    modcfg.LimitExceeded: rule ... would need about ..., above the memory limit of ...
    """
    if isinstance(catalog, str):
        catalog = load_catalog(catalog)
    elif isinstance(catalog, os.PathLike):
        catalog = load_catalog(Path(catalog))
    elif not isinstance(catalog, Catalog):
        raise TypeError(
            f"compile() takes a Catalog, a file path or a bundled catalog name, not "
            f"{type(catalog).__name__}; call modcfg.load_catalog(...) first (or "
            "modcfg.Catalog.model_validate(data) for catalog data)"
        )
    return Configurator(catalog, memory_limit=memory_limit)


@dataclass(frozen=True)
class _Plan:
    """One customer's needs applied to the compiled catalog."""

    resolved: ResolvedNeeds | None
    problem: Problem
    build_query: Callable[[], TreeQuery] = field(compare=False, repr=False)
    cost_bound: int | None  # unit cost bound (minor units) from the budget
    # unit cost (minor units) -> quote total under these needs, filled as sessions ask
    totals: dict[int, Decimal] = field(default_factory=dict, compare=False)
    # key of the session query -> quote total of its unit cost, filled as sessions ask
    key_totals: dict[int, Decimal] = field(default_factory=dict, compare=False)
    _by_var: dict[int, list[Constraint]] = field(default_factory=dict, compare=False)

    @cached_property
    def query(self) -> TreeQuery:
        """The decomposition query of these needs (built on first use)."""
        return self.build_query()

    @cached_property
    def closed_form(self) -> IndependentQuery | None:
        """The closed forms of the needs' problem when nothing ties the slots."""
        return IndependentQuery(self.problem) if separable(self.problem) else None

    @cached_property
    def session_query(self) -> TreeQuery | IndependentQuery:
        """What sessions narrow with their choices: closed forms when nothing ties the slots
        and no budget bounds the total, else the decomposition query."""
        closed = self.closed_form
        if closed is not None and self.cost_bound is None:
            return closed
        return self.query

    def total_of(self, cost: int) -> Decimal:
        """The quote total of a unit cost (minor units) under these needs (memoised)."""
        total = self.totals.get(cost)
        if total is None:
            catalog = self.problem.catalog
            total = self.totals[cost] = order_total(
                catalog, from_minor_units(catalog, cost), self.resolved
            )
        return total

    def total_of_key(self, key: int) -> Decimal:
        """:meth:`total_of` the unit cost of a key of :attr:`session_query` (memoised)."""
        total = self.key_totals.get(key)
        if total is None:
            total = self.key_totals[key] = self.total_of(self.session_query.cost_of(key))
        return total

    def constraints_of(self, var: int) -> list[Constraint]:
        """The rules (tabulated, of moderate size) whose scope holds ``var``."""
        if not self._by_var and self.problem.constraints:
            index: dict[int, list[Constraint]] = {}
            for constraint in self.problem.constraints:
                if constraint.size <= 20_000:
                    for scope_var in constraint.scope:
                        index.setdefault(scope_var, []).append(constraint)
            index.setdefault(-1, [])  # built, even when no rule qualifies
            self._by_var.update(index)
        return self._by_var.get(var, [])

    @property
    def global_sums(self) -> bool:
        return bool(self.problem.resources)


def _getter(values: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """A function picking ``values``' entries of a list, as a tuple (one C call)."""
    if len(values) > 1:
        return itemgetter(*values)
    return lambda row: tuple(row[v] for v in values)


class Configurator:
    """A compiled catalog. Immutable; one instance serves many threads and sessions.

    >>> import modcfg
    >>> cfg = modcfg.compile(modcfg.load_catalog("windows"))
    >>> cfg
    <Configurator windows: 4 slots, 30 modules, 1800 configurations>
    >>> cheapest = cfg.best(k=1)[0]
    >>> cheapest.total, dict(cheapest.configuration)
    (Decimal('100.00'), {'frame': 'pvc', 'glass': 'float', 'grade': 'g1', 'picture': 'plain'})
    """

    def __init__(self, catalog: Catalog, *, memory_limit: int | None = None) -> None:
        paused = _pause_collector()  # (plain calls: a context manager costs more)
        try:
            self._compile(catalog, memory_limit)
        finally:
            if paused:
                _resume_collector()

    def _compile(self, catalog: Catalog, memory_limit: int | None) -> None:
        self.catalog = catalog
        self._domains = build_domains(catalog)
        self._base = compile_rules(catalog, self._domains, memory_limit=memory_limit)
        #: The bytes compiling and any one query may allocate (see :func:`compile`).
        self.memory_limit = self._base.memory_limit
        self._slots = tuple(catalog.slots)
        self._slot_index = {slot: index for index, slot in enumerate(self._slots)}
        self._choice_lists = [domain.choices for domain in self._domains]
        self._quote_lines: LineCache = {}  # module lines of quotes (see price.quote)
        self._trees: dict[frozenset[tuple[int, ...]], Tree] = {}
        # sessions' choices as value restrictions, by (slot, module, quantity): few, and every
        # session step reads them (filled by the sessions)
        self._restrictions: dict[tuple[str, str | None, int], Restriction] = {}
        self._plans: dict[tuple[str, date], _Plan] = {}
        self._lock = threading.Lock()
        if not separable(self._base):
            # decompose now: a catalog too large to decompose fails here, not at a query
            self._base_query.count()
        # else the tree (one bag per slot) is built when a query first needs it

    @cached_property
    def _default_needs(self) -> ResolvedNeeds:
        """No needs: nothing restricted, but mandatory services still priced."""
        return Needs().resolve(self.catalog)

    @cached_property
    def _module_values(self) -> list[dict[str, list[int]]]:
        """Per slot: module id -> the slot's local choices that contain it."""
        found = []
        for domain in self._domains:
            containing: dict[str, list[int]] = {
                m: [] for m in self.catalog.slots[domain.slot].modules
            }
            for value, units in enumerate(domain.units):
                for module in dict.fromkeys(m for m, _ in units):
                    containing[module].append(value)
            found.append(containing)
        return found

    @cached_property
    def _option_rows(
        self,
    ) -> list[tuple[str, list[tuple[str, int, list[int], Callable[[list[Any]], tuple[Any, ...]]]]]]:
        """Per slot, what a session state lists: module, its one value (or -1: several, one
        per quantity vector holding it), its values, and a getter of those values' entries."""
        return [
            (
                domain.slot,
                [(m, v[0] if len(v) == 1 else -1, v, _getter(v)) for m, v in containing.items()],
            )
            for domain, containing in zip(self._domains, self._module_values, strict=True)
        ]

    @cached_property
    def _tree(self) -> Tree:
        paused = _pause_collector()
        try:
            return build_tree(self._base)
        finally:
            if paused:
                _resume_collector()

    @cached_property
    def _option_entries(
        self,
    ) -> list[dict[str, tuple[str, int, list[int], Callable[[list[Any]], tuple[Any, ...]]]]]:
        """Per slot, :attr:`_option_rows`' entries by module."""
        return [{entry[0]: entry for entry in entries} for _, entries in self._option_rows]

    @cached_property
    def _single_slots(self) -> list[bool]:
        """Per slot, whether it holds at most one module (one value per module)."""
        return [all(value >= 0 for _, value, _, _ in entries) for _, entries in self._option_rows]

    @cached_property
    def _empty(self) -> bool:
        """Whether the catalog has no valid configuration at all (its rules clash)."""
        return self.count() == 0

    @cached_property
    def _base_query(self) -> TreeQuery:
        return TreeQuery(self._tree, self._base)

    # -- description ------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """The width of the tree decomposition (bag size - 1)."""
        return self._tree.width

    def __repr__(self) -> str:
        count = self.count() if not self._base.resources else "?"
        return (
            f"<Configurator {self.catalog.name}: {len(self._slots)} slots, "
            f"{self.catalog.module_count} modules, {count} configurations>"
        )

    # -- needs ------------------------------------------------------------------------------

    def resolve(self, needs: NeedsLike) -> ResolvedNeeds:
        """Check needs against this catalog (NeedsError when they do not fit)."""
        if needs is None:
            return self._default_needs
        if not isinstance(needs, Needs):
            needs = Needs.from_data(needs)
        return needs.resolve(self.catalog)

    def _plan(self, needs: NeedsLike) -> _Plan:
        """The needs applied to the compiled catalog (cached: sessions often share needs)."""
        key: tuple[str, date] | None = None
        if needs is None:
            key = ("", date.min)
        elif isinstance(needs, Needs):
            # resolving compares delivery dates with today when the needs do not say
            key = (needs.model_dump_json(), needs.today or date.today())
        if key is not None:
            plan = self._plans.get(key)
            if plan is not None:
                return plan
        plan = self._new_plan(needs)
        if key is not None:
            with self._lock:
                if len(self._plans) >= _PLAN_CACHE:
                    self._plans.clear()
                self._plans[key] = plan
        return plan

    def _new_plan(self, needs: NeedsLike) -> _Plan:
        resolved = self.resolve(needs)
        problem = self._base if needs is None else needs_problem(self._base, resolved)

        owner = weakref.ref(self)  # (plans are cached here: no cycle back)

        def build_query() -> TreeQuery:
            # needs and choices only remove configurations: the count without them bounds
            # every later count, so the plan's query (and the sessions' ones) need fewer moduli
            cfg = owner()
            assert cfg is not None  # plans are reached only through their configurator
            count = cfg._base_query.count()
            return TreeQuery(cfg._tree_for(problem), problem, count_bound=count)

        plan = _Plan(resolved, problem, build_query, None)
        if resolved is not None and resolved.budget is not None:
            cheapest: int | None
            if separable(problem):  # the cheapest choice of every slot, no tree needed
                costs = [
                    min((domain.cost[v] for v in problem.values(var)), default=None)
                    for var, domain in enumerate(problem.domains)
                ]
                cheapest = None if None in costs else sum(c for c in costs if c is not None)
            else:
                best = plan.query.best_key()
                cheapest = None if best is None else plan.query.cost_of(best)
            plan = _Plan(resolved, problem, build_query, self._cost_bound(resolved, cheapest))
        return plan

    def _tree_for(self, problem: Problem) -> Tree:
        if problem is self._base:
            return self._tree
        base = {id(c) for c in self._base.constraints}
        extra = [c.scope for c in problem.constraints if id(c) not in base]
        extra += [f.scope for f in problem.score_factors]
        if all(self._tree.bag_containing(scope) is not None for scope in extra):
            return self._tree
        key = frozenset(tuple(scope) for scope in extra)
        with self._lock:
            tree = self._trees.get(key)
            if tree is None:
                tree = build_tree(self._base, extra_scopes=sorted(key))
                if len(self._trees) > 64:
                    self._trees.clear()
                self._trees[key] = tree
        return tree

    def _cost_bound(self, resolved: ResolvedNeeds, cheapest: int | None) -> int:
        """The largest unit cost (minor units) whose quote total fits the budget
        (``cheapest``: the lowest unit cost of a valid configuration, when there is one)."""
        budget = resolved.budget
        assert budget is not None  # callers check
        catalog = self.catalog

        def fits(units: int) -> bool:
            return order_total(catalog, from_minor_units(catalog, units), resolved) <= budget

        low = -(10**15) if cheapest is None else cheapest - 1
        if not fits(low + 1):
            return low
        step = 1
        while fits(low + step):
            low += step
            step *= 2
            if step > 10**30:
                return low + step
        high = low + step  # fits(low) and not fits(high)
        while high - low > 1:
            middle = (low + high) // 2
            if fits(middle):
                low = middle
            else:
                high = middle
        return low

    # -- queries ----------------------------------------------------------------------------

    def _engine(self, plan: _Plan, engine: Engine, job: str) -> Literal["decomposition", "cpsat"]:
        if engine != "auto":
            return engine
        if plan.global_sums and job != "count":
            return "cpsat"
        return "decomposition"

    def count(
        self,
        needs: NeedsLike = None,
        *,
        engine: Engine = "auto",
        time_limit: float | None = None,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> int:
        """The exact number of valid configurations (for the needs, when given).

        ``engine="cpsat"`` counts by enumeration, so it takes ``limit``/``time_limit``; the
        decomposition engine counts in passes over the tree, linear in the slots: with a budget
        or totals over many slots, those passes run over capped sums and read ``time_limit``.
        """
        plan = self._plan(needs)
        if self._engine(plan, engine, "count") == "cpsat":
            from .solve._cpsat import CpSatEngine  # imports ortools only when needed

            solver = CpSatEngine(plan.problem, cost_bound=plan.cost_bound, scale=plan.query.scale)
            found = solver.solutions(
                limit=limit, time_limit=time_limit, progress=_adapt(progress, None)
            )
            return len(found)
        if progress is not None:
            progress(0, 1)
        if self._independent(plan):
            result = prod(len(plan.problem.values(var)) for var in range(plan.problem.size))
        elif plan.problem.resources or plan.cost_bound is not None:
            result = plan.query.count_within(
                plan.problem.resources, plan.cost_bound, time_limit=time_limit
            )
        else:
            result = plan.query.count()
        if progress is not None:
            progress(1, 1)
        return result

    def _to_configuration(self, assignment: list[int]) -> Configuration:
        values = tuple(map(tuple.__getitem__, self._choice_lists, assignment))
        return Configuration._from_values(self._slots, values, self._slot_index)

    def _holds_sums(self, plan: _Plan, assignment: list[int]) -> bool:
        for resource in plan.problem.resources:
            total = sum(resource.weights[var][value] for var, value in enumerate(assignment))
            if not resource.holds(total):
                return False
        return True

    def _within_budget(self, plan: _Plan, assignment: list[int]) -> bool:
        if plan.cost_bound is None:
            return True
        problem = plan.problem
        cost = sum(problem.domains[var].cost[value] for var, value in enumerate(assignment))
        for factor in problem.cost_factors:
            cost += factor.table.get(tuple(assignment[v] for v in factor.scope), 0)
        return cost <= plan.cost_bound

    def configurations(
        self,
        needs: NeedsLike = None,
        *,
        order: Order = None,
        limit: int | None = None,
        engine: Engine = "auto",
        time_limit: float | None = None,
        progress: Progress | None = None,
    ) -> Iterator[Configuration]:
        """A lazy stream of valid configurations (each once).

        ``order="price"`` yields them by non-decreasing total (equal totals in a fixed
        order); ``limit`` stops the stream after that many; ``time_limit`` (seconds, counted
        from the call) raises :class:`LimitExceeded` when passed, whether the search or the
        caller's loop spent the time; ``progress(done, total)`` is told every 1,024.
        """
        if order not in (None, "price"):
            raise NeedsError(f"order={order!r} is unknown; use order=None or order='price'")
        if limit is not None and limit < 0:
            raise NeedsError(f"limit={limit} is negative; give limit >= 0 (or None for all)")
        plan = self._plan(needs)
        deadline = None if time_limit is None else time.monotonic() + time_limit
        total = None
        if progress is not None and not plan.problem.resources and plan.cost_bound is None:
            total = plan.query.count()
        make, slots, index = Configuration._from_values, self._slots, self._slot_index
        rows: Iterator[tuple[Choice, ...]]
        size = _BATCH  # configurations made at a time (searches start small, see below)
        if order is None and engine != "cpsat" and self._independent(plan):
            # no rule ties the slots: every combination of the allowed choices is valid
            problem = plan.problem
            rows = itertools.product(
                *(
                    [choices[v] for v in problem.values(var)]
                    for var, choices in enumerate(self._choice_lists)
                )
            )
        elif (
            order is None
            and self._engine(plan, engine, "enumerate") != "cpsat"
            and self._materialises(plan, deadline)
        ):
            rows = self._choice_rows(plan)  # the whole (moderate) space, vectorised
        else:
            stream = self._assignments(plan, order=order, engine=engine, deadline=deadline)
            rows = (tuple(map(tuple.__getitem__, self._choice_lists, a)) for a in stream)
            size = 1  # the first ones come at once: batches of 1, 1, 2, 4, ... up to _BATCH
        # made in batches with the collector paused: made one by one, a long stream triggers
        # a collection every few hundred configurations (which all survive), and now and then
        # a full one over the whole process, costing several times the making; the collector
        # runs whenever the stream yields
        rows = iter(rows)
        produced, reported = 0, 0
        while limit is None or produced < limit:
            wanted = size if limit is None else min(size, limit - produced)
            paused = _pause_collector()
            try:
                batch = [make(slots, values, index) for values in itertools.islice(rows, wanted)]
            except LimitExceeded as error:
                if deadline is None:
                    raise
                # the search passed the deadline
                raise _time_up(
                    "the enumeration", time_limit, f"{produced} configurations"
                ) from error
            finally:
                if paused:
                    _resume_collector()
            if deadline is None:
                yield from batch
            else:  # the caller's loop counts too: read the clock before each one
                for done, configuration in enumerate(batch, produced):
                    if time.monotonic() > deadline:
                        raise _time_up("the enumeration", time_limit, f"{done} configurations")
                    yield configuration
            produced += len(batch)
            if produced - reported >= _BATCH:
                reported = produced
                if progress is not None:
                    progress(produced, total)
            if len(batch) < wanted:
                return
            size = min(produced, _BATCH)  # 1, 1, 2, 4, ...: reports fall on multiples of it

    def _assignments(
        self, plan: _Plan, *, order: Order, engine: Engine, deadline: float | None
    ) -> Iterator[list[int]]:
        """Valid assignments (``order="price"``: by key); every search reads ``deadline``
        (a :func:`time.monotonic` value) and raises :class:`LimitExceeded` once it passes."""
        if (
            order is None
            and engine != "cpsat"
            and (plan.global_sums or plan.cost_bound is not None)
        ):
            # guided by the sums' distributions: only into choices that still fit the bounds
            problem, query = plan.problem, plan.query
            time_limit = None if deadline is None else max(0.0, deadline - time.monotonic())
            guided = solutions_within(
                query, problem.resources, plan.cost_bound, time_limit=time_limit
            )
            if guided is None and problem.resources:  # too wide with the budget: without it
                guided = solutions_within(query, problem.resources, None, time_limit=time_limit)
            for assignment in query.solutions() if guided is None else guided:
                if self._within_budget(plan, assignment) and self._holds_sums(plan, assignment):
                    yield assignment
            return
        if self._engine(plan, engine, "enumerate") == "cpsat":
            from .solve._cpsat import CpSatEngine  # imports ortools only when needed

            solver = CpSatEngine(plan.problem, cost_bound=plan.cost_bound, scale=plan.query.scale)
            time_limit = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if order == "price":
                for _, assignment in solver.by_key(time_limit=time_limit):
                    yield assignment
            else:
                yield from solver.solutions(limit=None, time_limit=time_limit)
            return
        if order == "price":
            closed = plan.closed_form
            ranked = plan.query.by_key(deadline=deadline) if closed is None else closed.by_key()
            for _, assignment in ranked:
                if not self._within_budget(plan, assignment):
                    return
                if self._holds_sums(plan, assignment):
                    yield assignment
            return
        if self._independent(plan):
            values = [plan.problem.values(var) for var in range(plan.problem.size)]
            for combo in itertools.product(*values):
                yield list(combo)
            return
        query = plan.query
        if self._materialises(plan, deadline):
            kept = self._solution_rows(plan)
            for start in range(0, len(kept), _CHUNK):  # bounded lists, not one huge one
                rows: list[list[int]] = kept[start : start + _CHUNK].tolist()
                yield from rows
            return
        for assignment in query.solutions(deadline=deadline):
            if self._within_budget(plan, assignment) and self._holds_sums(plan, assignment):
                yield assignment

    def _materialises(self, plan: _Plan, deadline: float | None) -> bool:
        """Whether to expand the whole space at once (vectorised): when it is moderate, and
        small enough to be expanded well within the deadline, if any."""
        size = plan.query.count()
        if size > _MATERIALISE:
            return False
        if deadline is None:
            return True
        return size * len(self._slots) <= _EXPANDED_PER_SECOND * (deadline - time.monotonic())

    def _solution_rows(self, plan: _Plan) -> np.ndarray:
        """Every valid configuration at once, as value indexes (configurations x slots)."""
        solutions, cost = plan.query.solution_array()
        keep = np.ones(len(cost), dtype=bool)
        if plan.cost_bound is not None:
            keep &= cost <= plan.cost_bound
        for resource in plan.problem.resources:
            totals = np.zeros(len(cost), dtype=np.int64)
            for var in range(plan.problem.size):
                weights = np.asarray(resource.weights[var], dtype=np.int64)
                totals += weights[solutions[:, var]]
            keep &= np.fromiter((resource.holds(int(t)) for t in totals), dtype=bool)
        kept: np.ndarray = solutions[keep]
        return kept

    def _choice_rows(self, plan: _Plan) -> Iterator[tuple[Choice, ...]]:
        """:meth:`_solution_rows` turned into the slots' choices, a chunk at a time."""
        kept = self._solution_rows(plan)
        columns = []
        for choices in self._choice_lists:
            column = np.empty(len(choices), dtype=object)
            for value, choice in enumerate(choices):
                column[value] = choice  # one by one: choices are never split into items
            columns.append(column)
        for start in range(0, len(kept), _CHUNK):
            block = kept[start : start + _CHUNK]
            table = np.empty(block.shape, dtype=object)
            for var, column in enumerate(columns):
                table[:, var] = column[block[:, var]]
            yield from map(tuple, table.tolist())

    def _independent(self, plan: _Plan) -> bool:
        problem = plan.problem
        return not (problem.constraints or problem.resources or plan.cost_bound is not None)

    def _ordered(
        self,
        plan: _Plan,
        query: TreeQuery | IndependentQuery,
        *,
        strategy: Literal["cheapest", "preferred"],
    ) -> Iterator[Configuration]:
        """Valid configurations of ``query`` (needs and choices applied), best first."""
        ranked: Iterator[tuple[int, list[int]]]
        if isinstance(query, IndependentQuery):
            ranked = query.by_key(preference_first=strategy == "preferred")
        elif strategy == "preferred":
            ranked = TreeQuery(query.tree, query.problem, preference_first=True).by_key()
        else:
            ranked = query.by_key()
        for _, assignment in ranked:
            if strategy == "cheapest" and not self._within_budget(plan, assignment):
                return
            if self._within_budget(plan, assignment) and self._holds_sums(plan, assignment):
                yield self._to_configuration(assignment)

    def _infeasible(self, plan: _Plan) -> InfeasibleError:
        from .explain import infeasible_error

        return infeasible_error(self, plan.resolved)

    def check(self, *, dead_modules: Literal["error", "warning"] = "error") -> list[Finding]:
        """Check the catalog for what its owner should fix or look at, errors first.

        Errors: no valid configuration at all (naming a minimal set of contradicting rules),
        a wrong ``expected_count``, dead modules (in no valid configuration). Warnings: slots
        whose choice is always forced, rules implied by the others, price rules that never
        apply. Information: core modules (in every configuration). Pass
        ``dead_modules="warning"`` for a model imported from another tool (UVL, DIMACS,
        XCSP), whose dead modules belong to the source model (``modcfg check`` does so for
        files in those formats).

        >>> import modcfg
        >>> [str(f) for f in modcfg.compile("windows_pro").check() if f.severity == "error"]
        []
        """
        from .explain import lint

        return lint(self, dead_modules=dead_modules)

    def session(self, needs: NeedsLike = None, *, time_limit: float | None = None) -> Session:
        """Start an interactive :class:`Session` for one customer.

        Raises :class:`InfeasibleError` (with the clash and relaxations) when the needs leave
        no valid configuration. ``time_limit`` (seconds) bounds each state's work under a
        budget or global sums: past it, :class:`LimitExceeded`.
        """
        return Session(self, needs, time_limit=time_limit)

    def price(self, configuration: Mapping[str, Any], needs: NeedsLike = None) -> Quote:
        """The quote of one configuration for the needs (InfeasibleError if it breaks a rule)."""
        resolved = self.resolve(needs)
        chosen = Configuration.validated(self.catalog, configuration)
        broken = self.violations(chosen, resolved, include_budget=False)
        if broken:
            raise InfeasibleError(
                "this configuration is not valid: " + "; ".join(broken), rules=broken
            )
        return quote(self.catalog, chosen, resolved, lines_of=self._quote_lines)

    def violations(
        self,
        configuration: Mapping[str, Any],
        needs: NeedsLike | ResolvedNeeds = None,
        *,
        include_budget: bool = True,
    ) -> list[str]:
        """What a configuration breaks: rule ids with messages, and unmet needs."""
        chosen = Configuration.validated(self.catalog, configuration)
        resolved = needs if isinstance(needs, ResolvedNeeds) else self.resolve(needs)
        view = ConfigurationView(self.catalog, chosen)
        problem = self._base
        broken: list[str] = []
        assignment = [
            domain.index_of(chosen[slot])
            for slot, domain in zip(self._slots, self._domains, strict=True)
        ]
        for var, value in enumerate(assignment):
            if not problem.allowed[var][value]:
                rule = problem.unary_reasons.get((var, value), "?")
                broken.append(self._rule_text(rule))
        for constraint in problem.constraints:
            if tuple(assignment[v] for v in constraint.scope) not in constraint.allowed:
                broken.append(self._rule_text(constraint.source))
        for resource in problem.resources:
            total = sum(resource.weights[var][value] for var, value in enumerate(assignment))
            if not resource.holds(total):
                broken.append(self._rule_text(resource.source))
        if resolved is not None:
            refs = chosen.refs()
            broken += [f"need: require {ref}" for ref in resolved.require if ref not in refs]
            broken += [
                f"need: {ref.split('.', 1)[1]} {resolved.excluded[ref]}"
                for ref in sorted(refs)
                if ref in resolved.excluded
            ]
            broken += [
                f"need: {text}"
                for text in resolved.conditions
                if not truthy(evaluate(parse(text), view))
            ]
            if include_budget and resolved.budget is not None:
                price = quote(self.catalog, chosen, resolved, lines_of=self._quote_lines).total
                if price > resolved.budget:
                    broken.append(f"need: budget {resolved.budget} (total {price})")
        return list(dict.fromkeys(broken))

    def _rule_text(self, rule_id: str) -> str:
        rule = self.catalog.rules_by_id.get(rule_id)
        return f"{rule_id}: {rule.describe()}" if rule is not None and rule.message else rule_id

    def best(
        self,
        needs: NeedsLike = None,
        k: int = 10,
        *,
        engine: Engine = "auto",
        time_limit: float | None = None,
        progress: Progress | None = None,
    ) -> list[Quote]:
        """The ``k`` best valid configurations as quotes: cheapest total first, then the
        highest preference score (equal ones in a fixed order). Raises
        :class:`InfeasibleError` when there is none, :class:`LimitExceeded` when
        ``time_limit`` (seconds) passes first; ``progress(found, k)`` is told of each quote."""
        if k < 1:
            raise NeedsError(f"k={k} asks for no configuration; give k >= 1")
        deadline = None if time_limit is None else time.monotonic() + time_limit
        plan = self._plan(needs)
        quotes: list[Quote] = []
        try:
            self._collect_best(plan, k, engine, deadline, quotes, progress)
        except LimitExceeded as error:
            if deadline is None:
                raise
            done = f"{len(quotes)} of k={k} quotes"
            raise _time_up("the search for the best", time_limit, done, fewer="k=") from error
        if not quotes:
            raise self._infeasible(plan)
        quotes.sort(key=lambda q: (q.total, -q.score))
        return quotes[:k]

    def _collect_best(
        self,
        plan: _Plan,
        k: int,
        engine: Engine,
        deadline: float | None,
        quotes: list[Quote],
        progress: Progress | None,
    ) -> None:
        """Append to ``quotes`` the configurations, by key, that may be among the ``k`` best."""
        resolved = plan.resolved
        # no configuration scores above every positive preference weight
        top_score = sum(max(weight, 0) for weight in resolved.prefer.values()) if resolved else 0
        kth: Quote | None = None
        for assignment in self._assignments(plan, order="price", engine=engine, deadline=deadline):
            if deadline is not None and time.monotonic() > deadline:
                raise LimitExceeded("the deadline passed")
            result = quote(
                self.catalog,
                self._to_configuration(assignment),
                resolved,
                lines_of=self._quote_lines,
            )
            if kth is not None and (
                result.total > kth.total
                or result.unit_price == kth.unit_price
                or kth.score >= top_score
            ):
                # later ones cost more, or cost the same with no higher score (none can score
                # higher than the k-th when it has every positive preference)
                return
            quotes.append(result)
            if len(quotes) <= k and progress is not None:
                progress(len(quotes), k)
            if len(quotes) == k:
                kth = result


def _time_up(
    what: str, time_limit: float | None, done: str, *, fewer: str = "limit="
) -> LimitExceeded:
    """The error of a call that passed its ``time_limit``, saying what it had done."""
    return LimitExceeded(
        f"{what} passed time_limit={time_limit} s after {done}; raise time_limit=, or ask "
        f"for fewer with {fewer}"
    )


def _adapt(progress: Progress | None, total: int | None) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda done: progress(done, total)
