"""Whole orders, and catalog versions compared.

This package owns :class:`Order` (several lines of one catalog with rules across them,
answered through a product catalog of one copy per line), its quotes and sessions, saved
orders and their migration to a new catalog version, and :func:`diff_catalogs`. It sits above
the :class:`~modcfg.Configurator`, which it compiles product catalogs with.
"""

from ._diff import CatalogDiff, diff_catalogs
from ._order import LineQuote, Order, OrderLine, OrderQuote, OrderRule
from ._session import OrderSession, OrderState

__all__ = [
    "CatalogDiff",
    "LineQuote",
    "Order",
    "OrderLine",
    "OrderQuote",
    "OrderRule",
    "OrderSession",
    "OrderState",
    "diff_catalogs",
]
