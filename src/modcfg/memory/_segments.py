"""Segmentation: each customer placed by value to the firm and by fit of the catalog.

Value is the customer's yearly order value (their spend divided by the years their orders
span, at least one); fit is the share of their recorded needs that the catalog serves
without relaxation (needs that still leave a valid configuration; an order without needs
counts as served). Customers of high value (at or above the median) and high fit (at least
``fit_threshold``) are for *frequency* marketing (reward repeat orders of the standard
offer), of high value and low fit for *customised* marketing (worth tailoring), the rest for
*mass* marketing.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from .._errors import ModcfgError
from ..model import Needs
from ._profile import StoredOrder

if TYPE_CHECKING:
    import pandas as pd

    from .._configurator import Configurator

__all__ = ["FIT_THRESHOLD", "Quadrant", "Segment", "Segments", "segments"]

Quadrant = Literal["mass", "frequency", "customised"]
#: The share of served needs from which a customer counts as a good fit.
FIT_THRESHOLD = 0.75


@dataclass(frozen=True)
class Segment:
    """One customer's place: ``yearly_value`` (Decimal), ``orders``, ``orders_per_year``,
    ``fit`` (0..1) and the ``quadrant`` (``mass``, ``frequency`` or ``customised``)."""

    customer_id: str
    orders: int
    spent: Decimal
    yearly_value: Decimal
    orders_per_year: float
    fit: float
    quadrant: Quadrant


class Segments(list[Segment]):
    """The segments of every customer (a list of :class:`Segment`), with a table view."""

    def to_pandas(self) -> pd.DataFrame:
        """The segments as a pandas DataFrame, one row per customer (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ModcfgError("to_pandas() needs pandas: pip install pandas") from None
        columns = list(Segment.__dataclass_fields__)
        return pd.DataFrame([asdict(segment) for segment in self], columns=columns)


def _served(cfg: Configurator | None, needs: dict[str, Any] | None, catalog: str) -> bool:
    if needs is None or cfg is None or catalog != cfg.catalog.name:
        return True
    try:
        return cfg.count(Needs.model_validate(needs)) > 0
    except ModcfgError:  # needs that no longer fit the catalog are not served
        return False


def segments(
    orders: list[StoredOrder],
    cfg: Configurator | None = None,
    *,
    fit_threshold: float = FIT_THRESHOLD,
) -> Segments:
    """The segment of each customer of ``orders`` (oldest first), sorted by customer id."""
    by_customer: dict[str, list[StoredOrder]] = defaultdict(list)
    for order in orders:
        by_customer[order.customer_id].append(order)
    rows = []
    for customer_id in sorted(by_customer):
        mine = by_customer[customer_id]
        spent = sum((order.total for order in mine), Decimal(0))
        days = (mine[-1].recorded_at - mine[0].recorded_at).total_seconds() / 86400
        years = max(days / 365.25, 1.0)
        served = sum(_served(cfg, order.needs, order.catalog) for order in mine)
        yearly = (spent / Decimal(repr(years))).quantize(Decimal("0.01"))
        rows.append((customer_id, len(mine), spent, yearly, len(mine) / years, served / len(mine)))
    median = statistics.median(row[3] for row in rows) if rows else Decimal(0)
    result = Segments()
    for customer_id, count, spent, yearly, per_year, fit in rows:
        quadrant: Quadrant = "mass"
        if yearly >= median:
            quadrant = "frequency" if fit >= fit_threshold else "customised"
        result.append(
            Segment(customer_id, count, spent, yearly, round(per_year, 3), round(fit, 3), quadrant)
        )
    return result
