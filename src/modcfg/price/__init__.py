"""Quote computation from a configuration and needs (internal layer)."""

from ._quote import (
    LineCache,
    Quote,
    QuoteLine,
    from_minor_units,
    instalment_amount,
    order_total,
    preference_score,
    quote,
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
]
