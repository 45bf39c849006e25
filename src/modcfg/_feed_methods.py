"""The feed and sample methods of :class:`~modcfg.Configurator` (a base class of it): Arrow
batches, Parquet files and exactly counted partitions (``_feeds.py``), random and covering
samples (``_sampling.py``). Each method checks its arguments and delegates; pyarrow is imported
only by the methods that write feeds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from ._compiled import CompiledCatalog, NeedsLike
from .model import Configuration

if TYPE_CHECKING:
    import pyarrow as pa

    from ._configurator import Configurator
    from ._feeds import Partition
    from ._sampling import Covering

__all__ = ["FeedMethods"]

Order = Literal["price"] | None
_WHOLE: dict[str, Any] = {"limit": None, "time_limit": None, "progress": None}


class FeedMethods:
    """Feeds and samples of the compiled catalog :attr:`compiled`."""

    compiled: CompiledCatalog

    def batches(
        self,
        needs: NeedsLike = None,
        *,
        size: int = 65_536,
        order: Order = None,
        partition: Partition | None = None,
        price_column: str | None = "price",
        time_limit: float | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The valid configurations as Arrow record batches of at most ``size`` rows (needs
        the ``feed`` extra: pyarrow), made by the engine without a Python object per row.

        A column per slot (dictionary-encoded: int32 codes into the slot's module ids, ``a*2+b``
        for a multi-select slot's quantities, null for an empty optional slot), then the quote
        total in minor units (int64) named ``price_column`` (None: no price column). The rows
        are the configurations of :meth:`configurations`, each once; ``order="price"`` sorts
        them by total (the whole space is held while sorted); ``partition`` (from
        :meth:`partitions`) yields that partition's rows only. Once ``time_limit`` seconds
        have passed since the first batch was asked for, the feed raises
        :class:`TimeLimitExceeded` at its next block (saying how many rows it made).
        """
        from ._feeds import batches

        return batches(
            self.compiled,
            needs,
            size=size,
            order=order,
            partition=partition,
            price_column=price_column,
            time_limit=time_limit,
        )

    def partitions(
        self, needs: NeedsLike = None, *, rows: int = 1_000_000, time_limit: float | None = None
    ) -> list[Partition]:
        """The valid configurations split into partitions of at most ``rows`` each, each
        partition's size exact; without a budget or global sums, more than 100,000
        partitions raise :class:`LimitExceeded` at once (saying the least ``rows`` that could
        do), and ``time_limit`` (seconds) bounds the split.

        A partition fixes a few slots to one value (it may join several such prefixes); the
        partitions are disjoint, cover every configuration, and are the same on every machine
        for the same catalog and needs, so each can be enumerated and written on its own
        (``batches(partition=...)``, ``to_parquet(partition=...)``) and redone after a failure.

        >>> import modcfg
        >>> cfg = modcfg.compile("windows")
        >>> parts = cfg.partitions(rows=500)
        >>> sum(part.rows for part in parts) == cfg.count(), max(part.rows for part in parts)
        (True, 450)
        """
        from ._feeds import partitions

        return partitions(self.compiled, needs, rows=rows, time_limit=time_limit)

    def to_parquet(
        self,
        path: str | os.PathLike[str],
        needs: NeedsLike = None,
        *,
        order: Order = None,
        partition: Partition | None = None,
        price_column: str | None = "price",
        compression: str = "zstd",
        time_limit: float | None = None,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> int:
        """Write the feed of :meth:`batches` to one Parquet file (needs the ``feed`` extra) and
        return the number of rows written. The file appears whole or not at all: it is
        written beside ``path`` and renamed when complete, and past ``time_limit`` seconds
        nothing is written and :class:`TimeLimitExceeded` says how far it got.
        ``progress(written, rows)`` follows it after each batch (``rows``: the feed's exact
        number of rows, None under a budget or global sums, which the rows are filtered by).
        """
        from ._feeds import write_parquet

        return write_parquet(
            self.compiled,
            Path(path),
            needs,
            order=order,
            partition=partition,
            price_column=price_column,
            compression=compression,
            time_limit=time_limit,
            progress=progress,
        )

    def sample(
        self,
        n: int,
        *,
        needs: NeedsLike = None,
        seed: int | None = None,
        weights: Mapping[str, float | int | Decimal | Fraction] | None = None,
        time_limit: float | None = None,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> list[Configuration]:
        """``n`` random valid configurations (for the needs, when given), drawn independently:
        uniformly, or with ``weights`` (``"slot.module"`` -> weight >= 0; unlisted modules
        weigh 1) in proportion to the product of the chosen modules' weights.

        Draws are exact (uniform ones follow exact integer counts; integer weights too) and
        each takes time linear in the slots; the same ``seed`` gives the same sample. Under a
        budget or global sums a draw outside them is drawn again. ``time_limit`` (seconds)
        and ``progress(drawn, n)`` bound and follow a long draw; a sample too large to hold
        within the compiled catalog's memory limit raises :class:`LimitExceeded` before any
        draw (write a large sample as a feed instead).

        >>> import modcfg
        >>> cfg = modcfg.compile("windows")
        >>> picks = cfg.sample(3, seed=7)
        >>> len(picks), picks == cfg.sample(3, seed=7), all(not cfg.violations(c) for c in picks)
        (3, True, True)
        """
        from ._sampling import sample

        plan = self.compiled.plan(needs)
        bounded = plan.problem.resources or plan.cost_bound is not None
        if not plan.query.feasible() or (bounded and not plan.count("auto", **_WHOLE)):
            from .explain import infeasible_error

            raise infeasible_error(cast("Configurator", self), plan.resolved)
        return sample(
            self.compiled,
            n,
            needs,
            seed=seed,
            weights=weights,
            time_limit=time_limit,
            progress=progress,
        )

    def covering(
        self, needs: NeedsLike = None, *, strength: int = 2, time_limit: float | None = None
    ) -> Covering:
        """A t-wise covering sample for test suites: valid configurations such that every
        combination of values of any ``strength`` slots (pairs by default) that some valid
        configuration has appears in at least one of them; ``.coverage`` reports the share
        covered (all of them: 1.0). A strength with too many combinations to cover raises
        :class:`LimitExceeded` at once; ``time_limit`` (seconds) bounds the work.

        >>> import modcfg
        >>> pairs = modcfg.compile("windows").covering()
        >>> pairs.coverage, pairs.possible, len(pairs.configurations) < 1800
        (1.0, 311, True)
        """
        from ._sampling import covering

        return covering(self.compiled, needs, strength=strength, time_limit=time_limit)
