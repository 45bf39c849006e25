"""Plans: one customer's needs applied to the compiled catalog, built and cached per
configurator, with the bound a budget puts on the unit cost and the engine a query runs on."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from .engines._closed_form import IndependentQuery, separable
from .engines.decomposition import Tree, TreeQuery, build_tree
from .lower import Constraint, Problem, needs_problem
from .model import Needs, ResolvedNeeds
from .price import from_minor_units, order_total

if TYPE_CHECKING:
    from ._configurator import Configurator, Engine, NeedsLike

#: Plans (needs applied to the compiled catalog) kept per configurator.
_PLAN_CACHE = 256


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


def plan_of(cfg: Configurator, needs: NeedsLike) -> _Plan:
    """The needs applied to the compiled catalog (cached: sessions often share needs)."""
    key: tuple[str, date] | None = None
    if needs is None:
        key = ("", date.min)
    elif isinstance(needs, Needs):
        # resolving compares delivery dates with today when the needs do not say
        key = (needs.model_dump_json(), needs.today or date.today())
    if key is not None:
        plan = cfg._plans.get(key)
        if plan is not None:
            return plan
    plan = new_plan(cfg, needs)
    if key is not None:
        with cfg._lock:
            if len(cfg._plans) >= _PLAN_CACHE:
                cfg._plans.clear()
            cfg._plans[key] = plan
    return plan


def new_plan(cfg: Configurator, needs: NeedsLike) -> _Plan:
    resolved = cfg.resolve(needs)
    problem = cfg._base if needs is None else needs_problem(cfg._base, resolved)

    owner = weakref.ref(cfg)  # (plans are cached there: no cycle back)

    def build_query() -> TreeQuery:
        # needs and choices only remove configurations: the count without them bounds
        # every later count, so the plan's query (and the sessions' ones) need fewer moduli
        owning = owner()
        assert owning is not None  # plans are reached only through their configurator
        count = owning._base_query.count()
        return TreeQuery(tree_for(owning, problem), problem, count_bound=count)

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
        plan = _Plan(resolved, problem, build_query, cost_bound(cfg, resolved, cheapest))
    return plan


def tree_for(cfg: Configurator, problem: Problem) -> Tree:
    if problem is cfg._base:
        return cfg._tree
    base = {id(c) for c in cfg._base.constraints}
    extra = [c.scope for c in problem.constraints if id(c) not in base]
    extra += [f.scope for f in problem.score_factors]
    if all(cfg._tree.bag_containing(scope) is not None for scope in extra):
        return cfg._tree
    key = frozenset(tuple(scope) for scope in extra)
    with cfg._lock:
        tree = cfg._trees.get(key)
        if tree is None:
            tree = build_tree(cfg._base, extra_scopes=sorted(key))
            if len(cfg._trees) > 64:
                cfg._trees.clear()
            cfg._trees[key] = tree
    return tree


def cost_bound(cfg: Configurator, resolved: ResolvedNeeds, cheapest: int | None) -> int:
    """The largest unit cost (minor units) whose quote total fits the budget
    (``cheapest``: the lowest unit cost of a valid configuration, when there is one)."""
    budget = resolved.budget
    assert budget is not None  # callers check
    catalog = cfg.catalog

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


def engine_of(plan: _Plan, engine: Engine, job: str) -> Literal["decomposition", "cpsat"]:
    if engine != "auto":
        return engine
    if plan.global_sums and job != "count":
        return "cpsat"
    return "decomposition"


def independent(plan: _Plan) -> bool:
    problem = plan.problem
    return not (problem.constraints or problem.resources or plan.cost_bound is not None)
