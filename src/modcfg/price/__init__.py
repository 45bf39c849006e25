"""Pricing: a configuration and a customer's needs turned into a :class:`Quote`.

The engines search over integer unit costs in minor units; they turn a budget into a bound on
that cost with :func:`order_total` and :func:`from_minor_units`, and price what they found
with :func:`quote`. Every amount here is exact ``Decimal`` arithmetic in a local context sized
for the catalog; the caller's decimal context is never changed. Bills of materials, delivery
dates and production plans (:func:`bill_of_materials`) come from the catalog's parts, stages
and stock.
"""

from ._production import (
    BillOfMaterials,
    BomLine,
    PathStep,
    ProductionStep,
    bill_of_materials,
    ready_days,
)
from ._quote import (
    LineCache,
    Quote,
    QuoteLine,
    from_minor_units,
    instalment_amount,
    order_lines,
    order_total,
    preference_score,
    quote,
    to_minor_units,
    total_factor,
)

__all__ = [
    "BillOfMaterials",
    "BomLine",
    "LineCache",
    "PathStep",
    "ProductionStep",
    "Quote",
    "QuoteLine",
    "bill_of_materials",
    "from_minor_units",
    "instalment_amount",
    "order_lines",
    "order_total",
    "preference_score",
    "quote",
    "ready_days",
    "to_minor_units",
    "total_factor",
]
