"""What queries return, with views for notebooks: a stream of configurations, a list of
quotes, the exact distribution of totals and each module's share of the configurations.

Each has a row-capped, escaped ``_repr_html_`` (``_html.py``) and a ``to_pandas()`` (pandas
optional, ``_frames.py``) that keeps money as ``Decimal`` and counts as Python ints. A stream
stays lazy: its views read only the rows they show, and ``to_pandas()`` refuses, before
building anything, to take more rows than its limit.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from ._errors import LimitExceeded, NeedsError
from ._frames import data_frame
from ._html import html_table
from .model import Configuration
from .price import Quote

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["ROW_LIMIT", "ConfigurationStream", "ModuleShares", "PriceDistribution", "Quotes"]

#: Rows ``to_pandas()`` takes from a stream when not told ``limit=``.
ROW_LIMIT = 1_000_000


class ConfigurationStream(Iterator[Configuration]):
    """The lazy stream of :meth:`Configurator.configurations <modcfg.Configurator.configurations>`:
    an iterator of :class:`~modcfg.Configuration`, with :meth:`to_pandas` for the rows not read
    yet.

    >>> import modcfg
    >>> stream = modcfg.compile("windows").configurations(order="price")
    >>> dict(next(stream))
    {'frame': 'pvc', 'glass': 'float', 'grade': 'g1', 'picture': 'plain'}
    """

    __slots__ = ("_rows", "slots")

    def __init__(self, rows: Iterator[Configuration], slots: tuple[str, ...]) -> None:
        self._rows = rows
        #: The slot ids, in catalog order (the columns of :meth:`to_pandas`).
        self.slots = slots

    def __iter__(self) -> Iterator[Configuration]:
        # the rows themselves: a loop over the stream reads them without a call of __next__
        # per row, and reads the same rows as next() and to_pandas()
        return self._rows

    def __next__(self) -> Configuration:
        return next(self._rows)

    def close(self) -> None:
        """Stop the stream (as a generator's ``close``): its search ends and frees what it
        held."""
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()

    def to_pandas(self, limit: int | None = None) -> pd.DataFrame:
        """The configurations not read yet as a DataFrame, a column per slot (the module id,
        None for an empty optional slot, a :class:`~modcfg.Quantities` for a multi-select
        slot). ``limit``: take at most that many (the first ones); without it, at most
        :data:`ROW_LIMIT`, and :class:`~modcfg.LimitExceeded` when the stream holds more
        (pass ``limit=`` to take the first ones, or narrow the needs)."""
        cap = ROW_LIMIT if limit is None else limit
        rows = list(itertools.islice(self._rows, cap))
        if limit is None and len(rows) == cap and next(self._rows, None) is not None:
            raise LimitExceeded(
                f"the stream holds more than {ROW_LIMIT:,} configurations, too many for one "
                "DataFrame; pass to_pandas(limit=...) to take the first ones, narrow the needs, "
                "or write the stream with Configurator.to_parquet()",
                limit=ROW_LIMIT,
            )
        return data_frame(self.slots, ([row.get(slot) for slot in self.slots] for row in rows))

    def _repr_html_(self) -> str:
        return "<p>a lazy stream of configurations: iterate it, or call to_pandas(limit=...)</p>"


class Quotes(list[Quote]):
    """The quotes of :meth:`Configurator.best <modcfg.Configurator.best>`, best first: a plain
    list with a table view."""

    def to_pandas(self) -> pd.DataFrame:
        """One row per quote: its rank (1 = best), total, unit price, score and currency,
        then a column per slot."""
        slots = list(self[0].configuration) if self else []
        return data_frame(
            ["rank", "total", "unit_price", "score", "currency", *slots],
            (
                [rank, q.total, q.unit_price, q.score, q.currency, *q.configuration.values()]
                for rank, q in enumerate(self, 1)
            ),
            exact=["total", "unit_price"],
        )

    def _repr_html_(self) -> str:
        slots = list(self[0].configuration) if self else []
        return html_table(
            ["#", "total", *slots],
            (
                [rank, q.total, *map(_choice, q.configuration.values())]
                for rank, q in enumerate(self, 1)
            ),
            caption=f"{len(self)} quote{'s' if len(self) != 1 else ''}, best first",
            total_rows=len(self),
        )


def _choice(choice: object) -> str:
    if choice is None:
        return "-"
    if isinstance(choice, Mapping):
        return ", ".join(f"{m} x{q}" for m, q in choice.items()) or "-"
    return str(choice)


class PriceDistribution(Mapping[Decimal, int]):
    """Quote total -> the exact number of valid configurations with that total, by
    increasing total (:meth:`Configurator.price_distribution
    <modcfg.Configurator.price_distribution>`); the counts add up to the configurations'
    count. Immutable."""

    __slots__ = ("_counts", "catalog", "currency")

    def __init__(self, counts: Mapping[Decimal, int], *, currency: str, catalog: str) -> None:
        self._counts = dict(sorted(counts.items()))
        self.currency = currency
        #: The catalog's name (plots name it).
        self.catalog = catalog

    def __getitem__(self, total: Decimal) -> int:
        return self._counts[total]

    def __iter__(self) -> Iterator[Decimal]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    @property
    def count(self) -> int:
        """The number of configurations (every count added)."""
        return sum(self._counts.values())

    def quantile(self, fraction: Fraction | float) -> Decimal:
        """The smallest total that at least ``fraction`` (0..1) of the configurations cost no
        more than (``quantile(0.5)``: the median total).

        >>> import modcfg
        >>> modcfg.compile("windows").price_distribution().quantile(0.5)
        Decimal('275.00')
        """
        share = Fraction(fraction)
        if not 0 <= share <= 1:
            raise NeedsError(f"quantile({fraction!r}): give a fraction between 0 and 1")
        if not self._counts:
            raise NeedsError("no valid configuration, so no quantile; relax the needs")
        needed = share * self.count
        running = 0
        for total, count in self._counts.items():
            running += count
            if running >= needed:
                return total
        return next(reversed(self._counts))

    def __repr__(self) -> str:
        if not self._counts:
            return f"<PriceDistribution {self.catalog}: no configuration>"
        low, high = next(iter(self._counts)), next(reversed(self._counts))
        return (
            f"<PriceDistribution {self.catalog}: {self.count:,} configurations, "
            f"{len(self)} totals from {self.currency} {low} to {high}>"
        )

    def to_pandas(self) -> pd.DataFrame:
        """One row per total: ``total`` (Decimal) and ``count`` (int)."""
        return data_frame(["total", "count"], self._counts.items(), exact=["total", "count"])

    def plot(self, **options: object) -> Figure:
        """:func:`modcfg.plot.price_distribution` of this distribution."""
        from .plot import price_distribution

        return price_distribution(self, **options)  # type: ignore[arg-type]

    def _repr_html_(self) -> str:
        return html_table(
            ["total", "configurations"],
            self._counts.items(),
            caption=repr(self),
            total_rows=len(self),
        )


class ModuleShares(Mapping[str, Mapping[str, int]]):
    """``shares[slot][module]``: the exact number of valid configurations that include the
    module (:meth:`Configurator.module_shares <modcfg.Configurator.module_shares>`);
    :meth:`share` divides it by :attr:`total`. Immutable."""

    __slots__ = ("_counts", "catalog", "total")

    def __init__(self, counts: Mapping[str, Mapping[str, int]], *, total: int, catalog: str):
        self._counts = {slot: dict(modules) for slot, modules in counts.items()}
        #: The number of valid configurations.
        self.total = total
        self.catalog = catalog

    def __getitem__(self, slot: str) -> Mapping[str, int]:
        return self._counts[slot]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def share(self, slot: str, module: str) -> Fraction:
        """The exact share (0..1) of the valid configurations that include ``slot.module``
        (0 when there is none)."""
        count = self._counts[slot][module]
        return Fraction(count, self.total) if self.total else Fraction(0)

    def __repr__(self) -> str:
        modules = sum(map(len, self._counts.values()))
        return (
            f"<ModuleShares {self.catalog}: {modules} modules over {self.total:,} configurations>"
        )

    def _rows(self) -> Iterator[tuple[str, str, int, float]]:
        for slot, modules in self._counts.items():
            for module, count in modules.items():
                yield slot, module, count, float(self.share(slot, module))

    def to_pandas(self) -> pd.DataFrame:
        """One row per module: ``slot``, ``module``, ``count`` (int) and ``share`` (float)."""
        return data_frame(["slot", "module", "count", "share"], self._rows(), exact=["count"])

    def plot(self, **options: object) -> Figure:
        """:func:`modcfg.plot.module_shares` of these shares."""
        from .plot import module_shares

        return module_shares(self, **options)  # type: ignore[arg-type]

    def _repr_html_(self) -> str:
        rows = (
            (slot, module, count, f"{share:.1%}") for slot, module, count, share in self._rows()
        )
        return html_table(
            ["slot", "module", "configurations", "share"],
            rows,
            caption=repr(self),
            total_rows=sum(map(len, self._counts.values())),
        )
