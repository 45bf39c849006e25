"""The public configurator: count, enumerate, price and find the best configurations.

A :class:`Configurator` is the user's handle on a compiled catalog: its public methods check
their arguments, apply the needs through a plan (``_plan.py``) and call the engine protocol;
what compiling produced lives in :attr:`Configurator.compiled`, a
:class:`~modcfg._compiled.CompiledCatalog`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ._arguments import checked_count, checked_seconds, deadline_after
from ._compiled import CompiledCatalog, NeedsLike
from ._configuration_methods import ConfigurationMethods
from ._errors import NeedsError, TimeLimitExceeded
from ._explore import ExploreMethods
from ._feed_methods import FeedMethods
from ._plan import Engine
from ._ranking import Blend, Rank, blended_best, pareto_front, preferred_best
from ._results import ConfigurationStream, Quotes
from ._streams import collect_best, configurations, time_up
from ._variety import WALK_LIMIT, Variety, projected_count
from .model import (
    Catalog,
    ResolvedNeeds,
    check_validity,
    load_catalog,
)
from .price import Quote

if TYPE_CHECKING:
    from .explain import Finding
    from .memory import CustomerProfile
    from .session._session import Session

__all__ = ["Configurator", "Engine", "NeedsLike", "Order", "Progress", "Rank", "compile"]

#: Seconds :meth:`Configurator.check` spends by default looking for redundant rules (it counts
#: the catalog once without each rule: minutes for a feature model of thousands of clauses).
REDUNDANCY_SECONDS = 10.0

Order = Literal["price"] | None
#: ``progress(done, total)``: ``total`` is None when unknown.
Progress = Callable[[int, int | None], None]


def compile(
    catalog: Catalog | str | os.PathLike[str],
    *,
    memory_limit: int | None = None,
    time_limit: float | None = None,
) -> Configurator:
    """Compile a catalog into a reusable, thread-safe :class:`Configurator`.

    ``catalog`` is a :class:`Catalog`, or a file path or bundled name, which
    :func:`modcfg.load_catalog` loads first. ``memory_limit`` (bytes; None: half the
    machine's physical memory) bounds what compiling and every later query may allocate: each
    large table, bag and pass is estimated first, and one above the limit raises
    :class:`LimitExceeded` naming the rule or the slots at fault. ``time_limit`` (seconds;
    None: no limit) bounds the search for an engine on a catalog whose rules tie many slots
    (see ``docs/limits.md``): past it, :class:`LimitExceeded`. Queries take limits of their
    own.

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
    checked_seconds("time_limit", time_limit)
    return Configurator(catalog, memory_limit=memory_limit, time_limit=time_limit)


def _recompiled(catalog: Catalog, memory_limit: int) -> Configurator:
    """A pickled configurator, compiled again (see :meth:`Configurator.__reduce__`)."""
    return Configurator(catalog, memory_limit=memory_limit)


class Configurator(ConfigurationMethods, FeedMethods, ExploreMethods):
    """A compiled catalog. Immutable (besides bounded caches of what it has answered, see
    :meth:`clear_caches`); one instance serves many threads and sessions.

    >>> import modcfg
    >>> cfg = modcfg.compile(modcfg.load_catalog("windows"))
    >>> cfg
    <Configurator windows: 4 slots, 30 modules, 1800 configurations>
    >>> cheapest = cfg.best(k=1)[0]
    >>> cheapest.total, dict(cheapest.configuration)
    (Decimal('100.00'), {'frame': 'pvc', 'glass': 'float', 'grade': 'g1', 'picture': 'plain'})
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        memory_limit: int | None = None,
        time_limit: float | None = None,
        compiled: CompiledCatalog | None = None,
    ) -> None:
        #: What compiling produced (domains, rules as tables, tree, caches): see
        #: :class:`~modcfg._compiled.CompiledCatalog`.
        self.compiled = compiled or CompiledCatalog(
            catalog, memory_limit=memory_limit, time_limit=time_limit
        )
        self.catalog = catalog
        #: The bytes compiling and any one query may allocate (see :func:`compile`).
        self.memory_limit = self.compiled.memory_limit

    def __reduce__(self) -> tuple[Callable[..., Configurator], tuple[Catalog, int]]:
        """A configurator travels (pickle, a Dask scatter) as its catalog and memory limit,
        and is compiled again where it arrives."""
        return _recompiled, (self.catalog, self.memory_limit)

    # -- description ------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """The width of the catalog's tree decomposition (largest bag's slots - 1), also for
        a catalog too entangled for one tree, whose decomposition is then not filled."""
        return self.compiled.width

    def __repr__(self) -> str:
        count = self.count() if not self.compiled.base.resources else "?"
        return (
            f"<Configurator {self.catalog.name}: {len(self.compiled.slots)} slots, "
            f"{self.catalog.module_count} modules, {count} configurations>"
        )

    # -- needs ------------------------------------------------------------------------------

    def resolve(self, needs: NeedsLike) -> ResolvedNeeds:
        """Check needs against this catalog (NeedsError when they do not fit)."""
        return self.compiled.resolve(needs)

    def clear_caches(self) -> None:
        """Empty the caches this configurator fills as it answers: plans of needs (with the
        needs they were built for), trees, choices and quote lines.

        Answers stay the same; the next calls for each set of needs take the time of the
        first. Every cache is bounded anyway; call this to drop what customers' needs left
        behind (a server forgetting a customer, say) or to free memory after a burst.
        """
        self.compiled.clear_caches()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save this compiled catalog to ``path``, for :func:`modcfg.load_compiled` to load
        without compiling again (in this modcfg version; see :mod:`modcfg._artefact`).
        Returns the path written.

        A catalog whose widest clauses are set aside (see ``docs/limits.md``) is saved with
        its count and its terms' trees, built now if no session has built them yet, so that
        the catalog loaded counts and shows a first state without building them again."""
        from ._artefact import save_compiled

        return save_compiled(self, path)

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
        checked_seconds("time_limit", time_limit)
        checked_count("limit", limit, 0)
        plan = self.compiled.plan(needs)
        return plan.count(engine, limit=limit, time_limit=time_limit, progress=progress)

    def configurations(
        self,
        needs: NeedsLike = None,
        *,
        order: Order = None,
        limit: int | None = None,
        engine: Engine = "auto",
        time_limit: float | None = None,
        progress: Progress | None = None,
    ) -> ConfigurationStream:
        """A lazy stream of valid configurations (each once; ``to_pandas()`` tabulates it).

        ``order="price"`` yields them by non-decreasing total (equal totals in a fixed
        order); ``limit`` stops the stream after that many; ``time_limit`` (seconds, counted
        from the call) raises :class:`LimitExceeded` when passed, whether the search or the
        caller's loop spent the time; ``progress(done, total)`` is told every 1,024.
        """
        checked_seconds("time_limit", time_limit)
        checked_count("limit", limit, 0)
        stream = configurations(
            self.compiled,
            needs,
            order=order,
            limit=limit,
            engine=engine,
            time_limit=time_limit,
            progress=progress,
        )
        return ConfigurationStream(stream, self.compiled.slots)

    def check(
        self,
        *,
        dead_modules: Literal["error", "warning"] = "error",
        time_limit: float | None = REDUNDANCY_SECONDS,
    ) -> list[Finding]:
        """Check the catalog for what its owner should fix or look at, errors first.

        Errors: no valid configuration at all (naming a minimal set of contradicting rules),
        a wrong ``expected_count``, dead modules (in no valid configuration). Warnings: slots
        whose choice is always forced, rules implied by the others, price rules that never
        apply. Information: core modules (in every configuration). Pass
        ``dead_modules="warning"`` for a model imported from another tool (UVL, DIMACS,
        XCSP), whose dead modules belong to the source model (``modcfg check`` does so for
        files in those formats).

        Looking for redundant rules counts the catalog once without each rule: it stops after
        ``time_limit`` seconds (None: never), and an information finding
        (``redundancy-not-checked``) says how many rules it looked at. A catalog too
        entangled to decompose is not searched for them.

        >>> import modcfg
        >>> [str(f) for f in modcfg.compile("windows_pro").check() if f.severity == "error"]
        []
        """
        from .explain import lint

        if dead_modules not in ("error", "warning"):
            raise NeedsError(f"dead_modules={dead_modules!r} is unknown; use 'error' or 'warning'")
        checked_seconds("time_limit", time_limit)
        return lint(self, dead_modules=dead_modules, time_limit=time_limit)

    def session(
        self,
        needs: NeedsLike = None,
        *,
        time_limit: float | None = None,
        customer: CustomerProfile | None = None,
    ) -> Session:
        """Start an interactive :class:`Session` for one customer.

        Raises :class:`InfeasibleError` (with the clash and relaxations) when the needs leave
        no valid configuration. ``time_limit`` (seconds) bounds each state's work under a
        budget or global sums, or over the terms of wide clauses set aside (read between
        passes over the tree), building a tree the needs' conditions need, and the search of
        :meth:`Session.complete`: past it, :class:`LimitExceeded`. ``customer`` (a returning
        customer's :class:`~modcfg.memory.CustomerProfile`) pre-fills their usual as
        retractable suggestions (``state.suggested``, ``session.accept()``,
        ``session.dismiss()``), never as their choices, and orders each slot's options by the
        weights learned from their orders.
        """
        checked_seconds("time_limit", time_limit)
        return _session_class()(self, needs, time_limit=time_limit, customer=customer)

    def best(
        self,
        needs: NeedsLike = None,
        k: int = 10,
        *,
        rank: Rank = "price",
        engine: Engine = "auto",
        time_limit: float | None = None,
        progress: Progress | None = None,
    ) -> Quotes:
        """The ``k`` best valid configurations as quotes (a list with ``to_pandas()``).
        ``rank="price"``: cheapest total first, then the highest preference score;
        ``rank="preference"``: highest preference score (the summed weights of the needs'
        ``prefer`` entries a configuration satisfies) first, then the cheapest;
        ``rank=Blend(price=1, preference=10)``: highest ``preference x score - price x
        total`` first, then the cheapest. Equal ones come in a fixed order. Raises
        :class:`InfeasibleError` when there is none, :class:`LimitExceeded` when
        ``time_limit`` (seconds) passes first; ``progress(found,
        k)`` is told of each quote (for ``rank="price"``).

        >>> import modcfg
        >>> cfg = modcfg.compile("windows")
        >>> needs = modcfg.Needs(prefer={"frame.oak": 3, "glass.triple": 2})
        >>> [(q.total, q.score) for q in cfg.best(needs, k=2, rank="preference")]
        [(Decimal('260.00'), 5), (Decimal('275.00'), 5)]
        """
        if not isinstance(k, bool) and isinstance(k, int) and k < 1:
            raise NeedsError(f"k={k} asks for no configuration; give k >= 1")
        checked_count("k", k, 1)
        checked_seconds("time_limit", time_limit)
        if not (rank in ("price", "preference") or isinstance(rank, Blend)):
            raise NeedsError(
                f"rank={rank!r} is unknown; use 'price', 'preference' or modcfg.Blend(...)"
            )
        deadline = deadline_after(time_limit)
        plan = self.compiled.plan(needs)
        if plan.resolved is not None:
            check_validity(self.catalog, plan.resolved.needs)
        quotes: list[Quote] = []
        try:
            if rank == "preference":
                quotes = preferred_best(self.compiled, plan, k, engine, deadline)
            elif isinstance(rank, Blend):
                quotes = blended_best(self.compiled, plan, k, rank, engine, deadline)
            else:
                collect_best(self.compiled, plan, k, engine, deadline, quotes, progress)
        except TimeLimitExceeded as error:  # (other limits say their own words)
            if deadline is None:
                raise
            done = f"{len(quotes)} of k={k} quotes"
            raise time_up("the search for the best", time_limit, done, fewer="k=") from error
        if not quotes:
            from .explain import infeasible_error

            raise infeasible_error(self, plan.resolved)
        if rank == "price":
            quotes.sort(key=lambda q: (q.total, -q.score))
        return Quotes(quotes[:k])

    def pareto(
        self,
        needs: NeedsLike = None,
        *,
        engine: Engine = "auto",
        time_limit: float | None = None,
    ) -> list[Quote]:
        """The configurations no other beats on both price and preference score, cheapest
        first (one per point of the front: a dearer one scores higher). Empty when no
        configuration is valid; :class:`LimitExceeded` when ``time_limit`` passes first.

        >>> import modcfg
        >>> cfg = modcfg.compile("windows")
        >>> front = cfg.pareto(modcfg.Needs(prefer={"frame.oak": 3, "glass.triple": 2}))
        >>> [(q.total, q.score) for q in front]
        [(Decimal('100.00'), 0), (Decimal('160.00'), 3), (Decimal('260.00'), 5)]
        """
        deadline = deadline_after(time_limit)
        plan = self.compiled.plan(needs)
        try:
            return pareto_front(self.compiled, plan, engine, deadline)
        except TimeLimitExceeded as error:  # (other limits say their own words)
            if deadline is None:
                raise
            raise time_up("the Pareto front", time_limit, "part of the walk") from error

    def variety(
        self,
        needs: NeedsLike = None,
        *,
        limit: int | None = WALK_LIMIT,
        time_limit: float | None = None,
    ) -> Variety:
        """Exact counts of the distinct physical products (functional slots), presented
        products (functional and cosmetic slots) and customer-visible configurations (every
        slot) among the valid configurations for the needs. Counting distinct products may
        walk them: ``limit`` and ``time_limit`` (seconds) bound the walk
        (:class:`LimitExceeded` past either)."""
        checked_seconds("time_limit", time_limit)
        checked_count("limit", limit, 0)
        plan = self.compiled.plan(needs)
        total = plan.count("auto", limit=None, time_limit=time_limit, progress=None)
        kinds = [self.catalog.slots[slot].kind for slot in self.compiled.slots]
        physical = [var for var, kind in enumerate(kinds) if kind == "functional"]
        shown = [var for var, kind in enumerate(kinds) if kind != "adaptive"]
        counts = [
            projected_count(plan, kept, total, limit=limit, time_limit=time_limit)
            for kept in (physical, shown)
        ]
        return Variety(physical=counts[0], presented=counts[1], configurations=total)


@cache
def _session_class() -> type[Session]:
    """The session class, imported with the first session: sessions (and the explanations
    they show) are never loaded by a count, a listing or a quote."""
    from .session._session import Session

    return Session
