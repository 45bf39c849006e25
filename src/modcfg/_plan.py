"""Plans: one customer's needs applied to the compiled catalog, and the engine each query runs on.

A :class:`Plan` holds the lowered problem of one set of needs, the bound a budget puts on the
unit cost, and the engine queries built for them on first use. This module is the one place
that picks an engine: :meth:`Plan.engine_query` (and :attr:`Plan.session_query` for sessions)
returns the :class:`~.engines.EngineQuery` that fits the job; everything above calls the
protocol's methods only.

Plans are cached by the compiled catalog (see :meth:`CompiledCatalog.plan
<modcfg._compiled.CompiledCatalog.plan>`); a plan's memos of quote totals are declared caches
too. A plan reaches the compiled catalog through a weak reference, so a cached plan makes no
reference cycle with it.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from math import prod
from typing import TYPE_CHECKING, Literal

import numpy as np

from ._arguments import Engine, checked_engine, deadline_after
from ._cache import Cache
from ._errors import ModcfgError, TimeLimitExceeded
from ._tree_parts import TREE_PARTS, in_parts, tree_parts
from .engines import Bounds, EngineQuery, IndependentQuery, separable
from .engines._aside import AsideQuery
from .engines._parts import PartsQuery
from .engines._protocol import holds_sums, unit_cost
from .engines.compiled import CompiledQuery
from .engines.decomposition import FillStopped, TreeQuery
from .lower import Constraint, Problem
from .model import Catalog, ResolvedNeeds
from .price import from_minor_units, order_total

if TYPE_CHECKING:
    from ._compiled import CompiledCatalog

__all__ = ["Engine", "Job", "Plan", "cost_bound", "new_plan"]

#: What a query is for: counting, enumerating in any order, or by key (price).
Job = Literal["count", "enumerate", "rank"]
#: Quote totals a plan keeps per unit cost (and per key of its session query).
_TOTALS = 65_536
#: Held while a build stopped at its deadline goes on in the background (see Plan.build).
_FINISHING = threading.Lock()
#: Rules (tabulated) of at most this many rows are indexed by variable for explanations.
_INDEXED_RULE_ROWS = 20_000


@dataclass(frozen=True)
class Plan:
    """One customer's needs applied to the compiled catalog."""

    resolved: ResolvedNeeds | None
    problem: Problem
    #: The decomposition's query of these needs, its tree's fill stopping at a deadline
    #: (:func:`time.monotonic`; None: none) with :class:`~modcfg.LimitExceeded`.
    build_query: Callable[[float | None], TreeQuery] = field(compare=False, repr=False)
    cost_bound: int | None  # unit cost bound (minor units) from the budget
    # unit cost (minor units) -> quote total under these needs, filled as sessions ask
    totals: Cache[int, Decimal] = field(default_factory=lambda: Cache(_TOTALS), compare=False)
    # key of the session query -> quote total of its unit cost, filled as sessions ask
    key_totals: Cache[int, Decimal] = field(default_factory=lambda: Cache(_TOTALS), compare=False)
    #: The compiled engine's query of these needs (built on first use), for catalogs whose
    #: rules no tree decomposition with small bags fits; None: that engine only when asked.
    build_compiled: Callable[[float | None], EngineQuery] | None = field(
        default=None, compare=False, repr=False
    )
    #: The query of these needs as parts of the catalog's tree, when their conditions fit no
    #: bag of it (see :mod:`._tree_parts`); None: a tree of their own, or no such conditions.
    build_parts: Callable[[], EngineQuery | None] | None = field(
        default=None, compare=False, repr=False
    )
    #: The bytes its queries hold once built (an estimate: the passes over the catalog's
    #: tree, see :meth:`CompiledCatalog.plan_bytes <modcfg._compiled.CompiledCatalog.plan_bytes>`);
    #: what the compiled catalog's cache of plans weighs.
    held: int = field(default=0, compare=False)

    @cached_property
    def bounds(self) -> Bounds:
        """The needs' global sums and budget, as the engines' ``*_within`` methods take them."""
        return Bounds(tuple(self.problem.resources), self.cost_bound)

    @cached_property
    def query(self) -> EngineQuery:
        """The query of these needs (built on first use): the decomposition's, or the compiled
        engine's when the catalog is too entangled to decompose."""
        source = self._source()
        if source is None:
            parts = self.parts_query
            assert parts is not None  # (no source to build: the parts answer)
            return parts
        return self.compiled_query if source[0] == "compiled_query" else self.tree_query

    def _source(self) -> tuple[str, Callable[[float | None], EngineQuery]] | None:
        """Which query answers for these needs, and what builds it: the compiled engine's,
        or a tree's (the catalog's or one of their own); None: parts of the catalog's tree,
        which need no build (see :attr:`build_parts`)."""
        if self.build_compiled is not None:
            return "compiled_query", self.build_compiled
        if self.parts_query is not None:
            return None
        return "tree_query", self.build_query

    @cached_property
    def one_key(self) -> bool:
        """Whether every solution has one key: no price rule or preference, and every choice
        of a slot priced alike (an unpriced catalog: every feature model)."""
        problem = self.problem
        if problem.cost_factors or problem.score_factors:
            return False
        return all(len(set(domain.cost)) <= 1 for domain in problem.domains)

    @cached_property
    def parts_query(self) -> EngineQuery | None:
        """The query of these needs as parts of the catalog's tree (see :attr:`build_parts`)."""
        return None if self.build_parts is None else self.build_parts()

    @cached_property
    def compiled_query(self) -> EngineQuery:
        """The compiled engine's query of these needs (compiled here when the catalog was
        decomposed), or, for a catalog whose wide clauses are set aside, that query."""
        if self.build_compiled is not None:
            return self.build_compiled(None)
        from .engines.compiled import compile_problem

        return compile_problem(self.problem)

    @cached_property
    def tree_query(self) -> TreeQuery:
        """:attr:`query` as the decomposition's own type: what walks its tree (feeds,
        samples) read."""
        return self.build_query(None)

    def build(self, deadline: float | None) -> None:
        """Build :attr:`query` now, unless it is built, stopping at ``deadline``
        (:func:`time.monotonic`; None: no limit): needs whose rules tie slots that the
        catalog's tree keeps apart get a tree of their own, whose fill can take seconds on a
        large catalog. Past the deadline, :class:`~modcfg.TimeLimitExceeded`, and the build
        goes on in a background thread (one at a time in the process), so that the
        customer's next call finds it built instead of passing the same limit again."""
        source = self._source()
        if source is None:
            return
        name, build = source
        if deadline is None or name in self.__dict__:  # (cached_property keeps its value there)
            return
        finishing = self.finishing
        if finishing is not None:  # (wait for it rather than build it twice)
            finishing.join(max(deadline - time.monotonic(), 0.0))
            if name in self.__dict__:
                return
            if self.finishing is not None:
                raise TimeLimitExceeded(
                    "the tree these needs need is still being built, past the time limit: "
                    "ask again in a few seconds"
                )
        try:
            built = build(deadline)
        except FillStopped as stopped:
            then = "raise time_limit="
            if self._finish_later(name, build):
                then = "it goes on being built meanwhile: ask again in a few seconds"
            raise TimeLimitExceeded(
                f"preparing the engine for these needs passed the time limit while "
                f"{stopped.what}: their rules tie slots that the catalog's own tree keeps "
                f"apart, so they need a tree of their own; {then}"
            ) from None
        self.__dict__.setdefault(name, built)

    @property
    def finishing(self) -> threading.Thread | None:
        """The background build of :meth:`build`, while it runs."""
        thread: threading.Thread | None = self.__dict__.get("_finishing")
        return thread

    def _finish_later(self, name: str, build: Callable[[float | None], EngineQuery]) -> bool:
        """Go on building ``name`` without a deadline in a background thread, unless another
        build does (each may take seconds and hundreds of MB): whether one is going on."""
        if self.finishing is not None:
            return True
        if not _FINISHING.acquire(blocking=False):
            return False

        def run() -> None:
            try:
                self.__dict__.setdefault(name, build(None))
            except ModcfgError:  # (the next call builds it again, and says why it cannot)
                pass
            finally:
                self.__dict__.pop("_finishing", None)
                _FINISHING.release()

        thread = threading.Thread(target=run, name="modcfg-needs-build", daemon=True)
        self.__dict__["_finishing"] = thread
        thread.start()
        return True

    def session_query_by(self, deadline: float | None) -> EngineQuery:
        """:attr:`session_query`, built by ``deadline`` (see :meth:`build`)."""
        if self.closed_form is None or self.cost_bound is not None:
            self.build(deadline)
        return self.session_query

    @cached_property
    def closed_form(self) -> EngineQuery | None:
        """The closed forms of the needs' problem when nothing ties the slots."""
        return IndependentQuery(self.problem) if separable(self.problem) else None

    @cached_property
    def session_query(self) -> EngineQuery:
        """What sessions narrow with their choices: closed forms when nothing ties the slots
        and no budget bounds the total, else the decomposition query."""
        closed = self.closed_form
        if closed is not None and self.cost_bound is None:
            return closed
        return self.query

    @cached_property
    def rules_by_var(self) -> dict[int, list[Constraint]]:
        """Per variable, the rules (tabulated, of moderate size) whose scope holds it."""
        index: dict[int, list[Constraint]] = {}
        for constraint in self.problem.constraints:
            if constraint.size <= _INDEXED_RULE_ROWS:
                for var in constraint.scope:
                    index.setdefault(var, []).append(constraint)
        return index

    def constraints_of(self, var: int) -> list[Constraint]:
        """The rules (tabulated, of moderate size) whose scope holds ``var``."""
        return self.rules_by_var.get(var, [])

    @property
    def global_sums(self) -> bool:
        return bool(self.problem.resources)

    @property
    def independent(self) -> bool:
        """Whether every combination of the allowed values is valid (no rule, sum or budget)."""
        problem = self.problem
        return not (problem.constraints or problem.resources or self.cost_bound is not None)

    # -- engines ----------------------------------------------------------------------------

    def engine_of(self, engine: Engine, job: Job) -> Literal["decomposition", "cpsat", "compiled"]:
        """The engine that runs ``job``: the one asked for, else CP-SAT for searches under
        global sums, else the decomposition, or for a catalog too entangled to decompose the
        compiled engine (CP-SAT for what it cannot answer: sums, budgets, and ranked streams
        unless every configuration has one price and score, as a feature model's)."""
        asked = checked_engine(engine)
        if asked != "auto":
            return asked
        if self.global_sums and job != "count":
            return "cpsat"
        if self.build_compiled is not None:
            if (job == "rank" and not self.one_key) or not self.bounds.unbounded:
                return "cpsat"
            return "compiled"
        return "decomposition"

    def engine_query(
        self,
        engine: Engine,
        job: Job,
        *,
        limit: int | None = None,
        deadline: float | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> EngineQuery:
        """The query that answers ``job`` on ``engine`` (see :meth:`engine_of`): for CP-SAT a
        new search bounded by ``limit``, ``deadline`` and told of its ``progress``; for the
        decomposition the plan's query, or its closed forms for a ranked stream."""
        chosen = self.engine_of(engine, job)
        if chosen != "cpsat":
            self.build(deadline)
        if chosen == "cpsat":
            from .engines.cpsat._query import CpSatQuery  # imports ortools only when needed

            return CpSatQuery(self.problem, limit=limit, deadline=deadline, progress=progress)
        if chosen == "compiled":
            return self.compiled_query
        if job == "rank" and self.closed_form is not None:
            return self.closed_form
        return self.query

    @property
    def cheap_passes(self) -> bool:
        """Whether every option's counts of :attr:`query` and of its restrictions are
        compiled passes over a tree (the decomposition's, or a few parts of it), rather than
        a pass in Python over a circuit or the passes of the terms of clauses set aside."""
        query = self.query
        if isinstance(query, PartsQuery):
            return all(isinstance(part, TreeQuery) for part in query.parts)
        return isinstance(query, TreeQuery)

    @property
    def walks_in_blocks(self) -> bool:
        """Whether :meth:`solution_blocks` walks the space in bounded blocks (the
        decomposition's tree, its parts, the tree of rules whose widest clauses are set
        aside, the compiled engine's circuit) rather than listing its solutions one by one
        (CP-SAT, the closed forms)."""
        return _walks_in_blocks(self.query)

    def solution_blocks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every solution of the plan's query once: value indexes (variables x solutions)
        and unit costs, in blocks of at most ``size`` (see
        :meth:`~modcfg.engines.EngineQuery.blocks`). The budget and global sums are not
        applied."""
        return self.query.blocks(size)

    def count(
        self,
        engine: Engine,
        *,
        limit: int | None,
        time_limit: float | None,
        progress: Callable[[int, int | None], None] | None,
    ) -> int:
        """The number of valid configurations (see :meth:`modcfg.Configurator.count`)."""
        if self.engine_of(engine, "count") == "cpsat":  # by enumeration, told as it goes
            told = None if progress is None else (lambda done: progress(done, None))
            # the limit counts from now: loading OR-Tools and building the model take part of it
            deadline = deadline_after(time_limit)
            query = self.engine_query(
                "cpsat", "count", limit=limit, deadline=deadline, progress=told
            )
            try:
                return query.count_within(self.bounds)
            except TimeLimitExceeded:  # (the limit on configurations says its own words)
                raise TimeLimitExceeded(
                    f"the CP-SAT engine did not finish counting within time_limit={time_limit} s;"
                    " raise time_limit=, or count with the decomposition engine"
                ) from None
        if progress is not None:
            progress(0, 1)
        if time_limit is not None:  # (the needs' own tree, when they need one, counts in it)
            end = time.monotonic() + time_limit
            self.build(end)
            time_limit = max(end - time.monotonic(), 0.0)
        if self.engine_of(engine, "count") == "compiled":
            result = self.compiled_query.count_within(self.bounds, time_limit=time_limit)
        elif self.independent:
            result = prod(len(self.problem.values(var)) for var in range(self.problem.size))
        elif not self.bounds.unbounded:
            result = self.query.count_within(self.bounds, time_limit=time_limit)
        else:
            result = self.query.count()
        if progress is not None:
            progress(1, 1)
        return result

    # -- checks and totals ------------------------------------------------------------------

    def within_budget(self, assignment: Sequence[int]) -> bool:
        """Whether a solution's unit cost fits the budget's bound (true without a budget)."""
        return self.cost_bound is None or unit_cost(self.problem, assignment) <= self.cost_bound

    def holds_sums(self, assignment: Sequence[int]) -> bool:
        """Whether a solution meets every global sum of the needs' problem."""
        return holds_sums(self.problem.resources, assignment)

    def total_of(self, cost: int) -> Decimal:
        """The quote total of a unit cost (minor units) under these needs (memoised)."""
        total = self.totals.get(cost)
        if total is None:
            catalog = self.problem.catalog
            total = order_total(catalog, from_minor_units(catalog, cost), self.resolved)
            self.totals[cost] = total
        return total

    def total_of_key(self, key: int) -> Decimal:
        """:meth:`total_of` the unit cost of a key of :attr:`session_query` (memoised)."""
        total = self.key_totals.get(key)
        if total is None:
            total = self.key_totals[key] = self.total_of(self.session_query.cost_of(key))
        return total


def new_plan(compiled: CompiledCatalog, resolved: ResolvedNeeds | None, problem: Problem) -> Plan:
    """The plan of ``resolved`` needs, whose lowered problem is ``problem``."""
    owner = weakref.ref(compiled)  # (plans are cached there: no cycle back)

    def owning() -> CompiledCatalog:
        found = owner()
        if found is None:  # pragma: no cover - plans are reached through their catalog
            raise RuntimeError("the compiled catalog of this plan is gone")
        return found

    def build_query(deadline: float | None) -> TreeQuery:
        # needs and choices only remove configurations: the count without them bounds
        # every later count, so the plan's query (and the sessions' ones) need fewer moduli
        catalog = owning()
        count = catalog.base_query.count()
        if problem is catalog.base:  # no needs: the base query's filters, count, upward pass
            return catalog.base_query.bounded(count)
        return TreeQuery(catalog.tree_for(problem, deadline), problem, count_bound=count)

    build_compiled = None
    if compiled.wide_base is not None:
        base = compiled.wide_base

        def build_compiled(deadline: float | None) -> EngineQuery:
            return base.with_problem(problem, deadline=deadline)

    build_parts = None
    parted = in_parts(compiled, problem)
    if parted:

        def build_parts() -> EngineQuery | None:
            return tree_parts(owning(), problem)

    held = 0 if problem is compiled.base else compiled.plan_bytes()
    if parted:  # (the passes of the needs' query over the catalog's tree and of each part)
        held *= 1 + TREE_PARTS
    plan = Plan(
        resolved,
        problem,
        build_query,
        None,
        build_compiled=build_compiled,
        build_parts=build_parts,
        held=held,
    )
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
        bound = cost_bound(problem.catalog, resolved, cheapest)
        plan = _with_bound(plan, bound)
    return plan


def _with_bound(plan: Plan, bound: int) -> Plan:
    """``plan`` with a budget's unit cost ``bound``, keeping the queries it built to find the
    cheapest configuration (they do not depend on the bound)."""
    bounded = replace(plan, cost_bound=bound)
    for name in ("query", "compiled_query", "tree_query", "closed_form"):
        if name in plan.__dict__:  # (functools.cached_property keeps its value there)
            bounded.__dict__[name] = plan.__dict__[name]
    return bounded


def cost_bound(catalog: Catalog, resolved: ResolvedNeeds, cheapest: int | None) -> int:
    """The largest unit cost (minor units) whose quote total fits the budget
    (``cheapest``: the lowest unit cost of a valid configuration, when there is one)."""
    budget = resolved.budget
    if budget is None:
        raise ValueError("these needs have no budget")

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


def _walks_in_blocks(query: EngineQuery) -> bool:
    """See :attr:`Plan.walks_in_blocks`."""
    if isinstance(query, PartsQuery):
        return all(_walks_in_blocks(part) for part in query.parts)
    return isinstance(query, TreeQuery | AsideQuery | CompiledQuery)
