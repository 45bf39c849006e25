"""A customer's profile, learned from their stored orders: the usual and the weights.

The usual is, slot by slot, the module the customer's orders chose most, each order weighing
by its recency (an order :data:`HALF_LIFE` orders older counts half), so a changed routine
wins once repeated. Weights are those recency-weighted shares (per slot, summing to 1 over
the choices seen). Pure data and arithmetic: no database, no catalog.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["HALF_LIFE", "CustomerProfile", "StoredOrder", "build_profile"]

#: How many orders back an order's weight halves.
HALF_LIFE = 8.0


@dataclass(frozen=True)
class StoredOrder:
    """One stored order: the configuration as plain JSON data (slot -> module id, None, or
    {module: quantity}), the needs as their JSON fields, the total as Decimal."""

    order_id: int
    customer_id: str
    recorded_at: dt.datetime
    catalog: str
    catalog_version: str
    configuration: dict[str, Any]
    needs: dict[str, Any] | None
    currency: str
    total: Decimal
    quantity: int
    payment: str | None
    line_count: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (time as ISO text, total as a decimal string)."""
        return {
            "order_id": self.order_id,
            "recorded_at": self.recorded_at.isoformat(),
            "catalog": self.catalog,
            "catalog_version": self.catalog_version,
            "configuration": self.configuration,
            "needs": self.needs,
            "currency": self.currency,
            "total": str(self.total),
            "quantity": self.quantity,
            "payment": self.payment,
        }


@dataclass(frozen=True)
class CustomerProfile:
    """What a customer's orders say about them.

    ``usual`` is the routine configuration (slot -> module id, None or {module: quantity});
    ``weights[slot][module]`` how strongly they prefer each module they chose (recency-weighted
    shares, summing to 1 per slot); ``quantity`` the typical quantity (the median);
    ``payment`` the payment term they use most (None when never given); ``days_between``
    the mean days between orders (None with one order); ``catalog_version`` the version of
    their latest order's catalog.
    """

    customer_id: str
    orders: int
    usual: dict[str, Any]
    weights: dict[str, dict[str, float]] = field(default_factory=dict)
    quantity: int = 1
    payment: str | None = None
    days_between: float | None = None
    catalog: str = ""
    catalog_version: str = ""
    currency: str = ""
    spent: Decimal = Decimal(0)
    last_order: dt.datetime | None = None

    @property
    def orders_per_year(self) -> float | None:
        """The purchase frequency (None with a single order, or all on one day)."""
        if not self.days_between:
            return None
        return 365.25 / self.days_between

    def weight(self, slot: str, module: str) -> float:
        """The learned weight of ``slot.module`` (0 when never chosen)."""
        return self.weights.get(slot, {}).get(module, 0.0)


def _key(choice: Any) -> Any:
    """A hashable key for a slot's choice (multi-select choices as sorted pairs)."""
    if isinstance(choice, Mapping):
        return tuple(sorted((m, q) for m, q in choice.items() if q))
    return choice


def _choice(key: Any) -> Any:
    return dict(key) if isinstance(key, tuple) else key


def build_profile(customer_id: str, orders: list[StoredOrder]) -> CustomerProfile:
    """The profile of ``orders`` (oldest first, at least one)."""
    newest = len(orders) - 1
    tallies: dict[str, Counter[Any]] = {}
    module_weights: dict[str, Counter[str]] = {}
    for position, order in enumerate(orders):
        weight = 0.5 ** ((newest - position) / HALF_LIFE)
        for slot, choice in order.configuration.items():
            tallies.setdefault(slot, Counter())[_key(choice)] += weight
            modules = module_weights.setdefault(slot, Counter())
            if isinstance(choice, Mapping):
                for module, quantity in choice.items():
                    if quantity:
                        modules[module] += weight
            elif choice is not None:
                modules[choice] += weight
    usual = {}
    for slot, tally in tallies.items():
        # the most weight wins; ties go to the choice of the newest order
        latest = _key(orders[-1].configuration.get(slot))
        usual[slot] = _choice(max(tally, key=lambda key: (tally[key], key == latest)))
    weights = {}
    for slot, modules in module_weights.items():
        total = sum(modules.values())
        if total:
            weights[slot] = {
                module: round(value / total, 6) for module, value in modules.most_common()
            }
    payments = Counter(order.payment for order in orders if order.payment)
    currencies = Counter(order.currency for order in orders)
    currency = currencies.most_common(1)[0][0]
    first, last = orders[0].recorded_at, orders[-1].recorded_at
    days = (last - first).total_seconds() / 86400 / newest if newest else None
    return CustomerProfile(
        customer_id=customer_id,
        orders=len(orders),
        usual=usual,
        weights=weights,
        quantity=int(statistics.median_low(order.quantity for order in orders)),
        payment=payments.most_common(1)[0][0] if payments else None,
        days_between=days,
        catalog=orders[-1].catalog,
        catalog_version=orders[-1].catalog_version,
        currency=currency,
        spent=sum((order.total for order in orders if order.currency == currency), Decimal(0)),
        last_order=last,
    )
