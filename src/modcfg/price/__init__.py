"""Quote computation from a configuration and needs (internal layer)."""

from ._quote import (
    Quote,
    QuoteLine,
    from_minor_units,
    instalment_amount,
    order_total,
    preference_score,
    quote,
    unit_price,
)

__all__ = [
    "Quote",
    "QuoteLine",
    "from_minor_units",
    "instalment_amount",
    "order_total",
    "preference_score",
    "quote",
    "unit_price",
]
