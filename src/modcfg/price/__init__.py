"""Pricing: a configuration and a customer's needs turned into a :class:`Quote`.

The engines search over integer unit costs in minor units; they turn a budget into a bound on
that cost with :func:`order_total` and :func:`from_minor_units`, and price what they found
with :func:`quote`. Every amount here is exact ``Decimal`` arithmetic in a local context sized
for the catalog; the caller's decimal context is never changed.
"""

from ._quote import (
    LineCache,
    Quote,
    QuoteLine,
    from_minor_units,
    instalment_amount,
    order_total,
    preference_score,
    quote,
    total_factor,
)

__all__ = [
    "LineCache",
    "Quote",
    "QuoteLine",
    "from_minor_units",
    "instalment_amount",
    "order_total",
    "preference_score",
    "quote",
    "total_factor",
]
