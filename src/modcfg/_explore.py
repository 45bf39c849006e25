"""The exploring methods of :class:`~modcfg.Configurator` (a base class of it): the exact
distribution of quote totals over every valid configuration, each module's share of them, and
the configurator's notebook view.

Invariants: the distribution is computed by dynamic programming over unit costs (the engine
protocol's ``cost_distribution``; never by enumerating), each unit cost turned into its quote
total under the needs, so its counts add up to ``count(needs)`` exactly; the shares are the
per-module counts a session shows (exact, within any budget or global sums).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, cast

from ._compiled import CompiledCatalog, NeedsLike
from ._errors import LimitExceeded
from ._results import ModuleShares, PriceDistribution
from .model import Catalog, check_validity
from .model._catalog import modules_table

if TYPE_CHECKING:
    from ._configurator import Configurator

__all__ = ["ExploreMethods"]


class ExploreMethods:
    """Distributions over the valid configurations of :attr:`compiled`."""

    compiled: CompiledCatalog
    catalog: Catalog

    def price_distribution(
        self, needs: NeedsLike = None, *, time_limit: float | None = None
    ) -> PriceDistribution:
        """Quote total -> the exact number of valid configurations (for the needs) with that
        total, computed without enumerating them: by dynamic programming over the unit costs
        along the rule graph's tree decomposition (grids of partial costs over their common
        divisor, or sparse sums when those are too wide). The counts add up to
        :meth:`count`. ``time_limit`` (seconds) bounds the work (:class:`LimitExceeded` past it).

        >>> import modcfg
        >>> cfg = modcfg.compile("bicycle")
        >>> spread = cfg.price_distribution()
        >>> spread.count == cfg.count(), min(spread), max(spread)
        (True, Decimal('1344.00'), Decimal('5704.00'))
        """
        plan = self.compiled.plan(needs)
        if plan.resolved is not None:
            check_validity(self.catalog, plan.resolved.needs)
        costs: dict[int, int] | None = None
        closed = plan.closed_form
        if closed is not None:  # no rule ties the slots: slot by slot
            try:
                costs = closed.cost_distribution(plan.bounds, time_limit=time_limit)
            except LimitExceeded:
                costs = None  # too many distinct partial sums slot by slot: on grids instead
        if costs is None:
            costs = plan.query.cost_distribution(plan.bounds, time_limit=time_limit)
        totals: dict[Decimal, int] = {}
        for cost, count in costs.items():
            total = plan.total_of(cost)
            totals[total] = totals.get(total, 0) + count
        return PriceDistribution(totals, currency=self.catalog.currency, catalog=self.catalog.name)

    def module_shares(
        self, needs: NeedsLike = None, *, time_limit: float | None = None
    ) -> ModuleShares:
        """``shares[slot][module]``: the exact number of valid configurations (for the needs)
        that include each module, as a session's first state counts them, with the total
        (``shares.share(slot, module)`` is the fraction).

        >>> import modcfg
        >>> shares = modcfg.compile("windows").module_shares()
        >>> shares["frame"]["oak"], shares.total, shares.share("frame", "oak")
        (360, 1800, Fraction(1, 5))
        """
        plan = self.compiled.plan(needs)
        total = plan.count("auto", limit=None, time_limit=time_limit, progress=None)
        counts: dict[str, dict[str, int]]
        if total:
            cfg = cast("Configurator", self)
            state = cfg.session(needs, time_limit=time_limit).state()
            counts = {
                slot: {module: option.count for module, option in options.items()}
                for slot, options in state.items()
            }
        else:  # no configuration: no session to start
            counts = {
                slot.id: dict.fromkeys(slot.modules, 0) for slot in self.catalog.slots.values()
            }
        return ModuleShares(counts, total=total, catalog=self.catalog.name)

    def _repr_html_(self) -> str:
        """The configurator in a notebook: its summary, then the catalog's modules."""
        return modules_table(self.catalog, caption=repr(self))
