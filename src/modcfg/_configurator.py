"""The compiled catalog: count, enumerate, price and find the best configurations."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from functools import cached_property
from math import prod
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._collector import pause_collector, resume_collector
from ._errors import InfeasibleError, LimitExceeded, NeedsError
from ._plan import _Plan as _Plan  # (re-exported: sessions name it from here)
from ._plan import cost_bound, engine_of, independent, plan_of
from ._reasons import Reason, rule_reason
from ._streams import collect_best, configurations, ordered, time_up
from .engines._closed_form import IndependentQuery, separable
from .engines.decomposition import Tree, TreeQuery, build_tree
from .lower import build_domains, compile_rules
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
from .price import Quote, quote
from .price._quote import LineCache
from .session._session import Session

if TYPE_CHECKING:
    from .explain import Finding, Restriction

__all__ = ["Configurator", "Engine", "NeedsLike", "Order", "Progress", "compile"]

Engine = Literal["auto", "decomposition", "cpsat"]
Order = Literal["price"] | None
NeedsLike = Needs | Mapping[str, Any] | None
#: ``progress(done, total)``: ``total`` is None when unknown.
Progress = Callable[[int, int | None], None]


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
        paused = pause_collector()  # (plain calls: a context manager costs more)
        try:
            self._compile(catalog, memory_limit)
        finally:
            if paused:
                resume_collector()

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
        paused = pause_collector()
        try:
            return build_tree(self._base)
        finally:
            if paused:
                resume_collector()

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
        return plan_of(self, needs)

    def _cost_bound(self, resolved: ResolvedNeeds, cheapest: int | None) -> int:
        """The largest unit cost (minor units) whose quote total fits the budget
        (``cheapest``: the lowest unit cost of a valid configuration, when there is one)."""
        return cost_bound(self, resolved, cheapest)

    # -- queries ----------------------------------------------------------------------------

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
        if engine_of(plan, engine, "count") == "cpsat":
            from .engines.cpsat._engine import CpSatEngine  # imports ortools only when needed

            solver = CpSatEngine(plan.problem, cost_bound=plan.cost_bound, scale=plan.query.scale)
            found = solver.solutions(
                limit=limit, time_limit=time_limit, progress=_adapt(progress, None)
            )
            return len(found)
        if progress is not None:
            progress(0, 1)
        if independent(plan):
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
        return configurations(
            self,
            needs,
            order=order,
            limit=limit,
            engine=engine,
            time_limit=time_limit,
            progress=progress,
        )

    def _ordered(
        self,
        plan: _Plan,
        query: TreeQuery | IndependentQuery,
        *,
        strategy: Literal["cheapest", "preferred"],
    ) -> Iterator[Configuration]:
        """Valid configurations of ``query`` (needs and choices applied), best first."""
        return ordered(self, plan, query, strategy=strategy)

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
                "this configuration is not valid: " + "; ".join(map(str, broken)),
                rules=dict.fromkeys(reason.rule for reason in broken if reason.rule is not None),
                reasons=broken,
            )
        return quote(self.catalog, chosen, resolved, lines_of=self._quote_lines)

    def violations(
        self,
        configuration: Mapping[str, Any],
        needs: NeedsLike | ResolvedNeeds = None,
        *,
        include_budget: bool = True,
    ) -> list[Reason]:
        """What a configuration breaks, as :class:`Reason` objects: the rules (kind ``"rule"``,
        printed ``"rule-id: message"``, or the id of a rule without a message), then the unmet
        needs (kind ``"need"``, printed ``"need: require glass.triple"``), one per text; empty
        when the configuration is valid for the needs.

        >>> import modcfg
        >>> cfg = modcfg.compile("windows_pro")
        >>> [str(reason) for reason in cfg.violations({"frame": "pvc", "glass": "triple",
        ...     "grade": "g1", "picture": "plain", "size": "small", "hardware": {}})]
        ['pvc-double-only: The 70 mm PVC profile is too shallow for triple glazing']
        """
        catalog = self.catalog
        chosen = Configuration.validated(catalog, configuration)
        resolved = needs if isinstance(needs, ResolvedNeeds) else self.resolve(needs)
        view = ConfigurationView(catalog, chosen)
        problem = self._base
        broken: list[Reason] = []
        assignment = [
            domain.index_of(chosen[slot])
            for slot, domain in zip(self._slots, self._domains, strict=True)
        ]
        for var, value in enumerate(assignment):
            if not problem.allowed[var][value]:
                rule = problem.unary_reasons.get((var, value))
                broken.append(Reason("rule", "?") if rule is None else rule_reason(catalog, rule))
        for constraint in problem.constraints:
            if tuple(assignment[v] for v in constraint.scope) not in constraint.allowed:
                broken.append(rule_reason(catalog, constraint.source))
        for resource in problem.resources:
            total = sum(resource.weights[var][value] for var, value in enumerate(assignment))
            if not resource.holds(total):
                broken.append(rule_reason(catalog, resource.source))
        if resolved is not None:
            refs = chosen.refs()
            for ref in resolved.require:
                if ref not in refs:
                    slot, _, module = ref.partition(".")
                    text = f"need: require {ref}"
                    broken.append(Reason("need", text, need="require", slot=slot, module=module))
            for ref in sorted(refs):
                excluded = resolved.excluded.get(ref)
                if excluded is not None:
                    broken.append(replace(excluded, text=f"need: {excluded.text}"))
            broken += [
                Reason("need", f"need: {text}", need="conditions")
                for text in resolved.conditions
                if not truthy(evaluate(parse(text), view))
            ]
            if include_budget and resolved.budget is not None:
                price = quote(catalog, chosen, resolved, lines_of=self._quote_lines).total
                if price > resolved.budget:
                    text = f"need: budget {resolved.budget} (total {price})"
                    broken.append(Reason("need", text, need="budget"))
        unique: dict[str, Reason] = {}  # one reason per text, as printed
        for reason in broken:
            unique.setdefault(reason.text, reason)
        return list(unique.values())

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
            collect_best(self, plan, k, engine, deadline, quotes, progress)
        except LimitExceeded as error:
            if deadline is None:
                raise
            done = f"{len(quotes)} of k={k} quotes"
            raise time_up("the search for the best", time_limit, done, fewer="k=") from error
        if not quotes:
            raise self._infeasible(plan)
        quotes.sort(key=lambda q: (q.total, -q.score))
        return quotes[:k]


def _adapt(progress: Progress | None, total: int | None) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda done: progress(done, total)
