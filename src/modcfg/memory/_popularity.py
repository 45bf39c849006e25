"""How often each module is ordered across all customers, counted as the orders come in.

Suggestions break ties in a customer's own history with the share of all orders of the catalog
that hold each module. Counting every stored order again after each write cost a storefront 2.2
s per 500 orders of a feature model of 1,850 features (every checkout is a write), so the counts
are kept and only the orders stored since are read and added. They are counted again from the
start when orders counted before are gone (a customer forgotten, a retention purge) and at least
every :data:`RECOUNT_SECONDS`.

Invariant: the shares are those of the orders stored when they were last looked at (at most
``POPULARITY_SECONDS`` ago, or since this memory last wrote).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ._schema import ORDERS

__all__ = ["POPULARITY_SECONDS", "RECOUNT_SECONDS", "Popularity"]

#: How long the popularity of modules among all customers is reused (other processes'
#: orders show after this long; this memory's own writes at once).
POPULARITY_SECONDS = 60.0
#: The longest the counts are added to before all orders are counted again.
RECOUNT_SECONDS = 600.0


@dataclass
class _Tally:
    """One catalog's counts: the orders counted (up to ``last_id``), and per (slot, module)
    how many hold it."""

    counted_at: float = field(default_factory=time.monotonic)
    checked_at: float = float("-inf")
    last_id: int = 0
    #: what the orders counted looked like: (count, newest recording time)
    fingerprint: tuple[int, Any] = (0, None)
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    shares: dict[str, dict[str, float]] = field(default_factory=dict)


def _held(text: str) -> Iterator[tuple[str, str]]:
    """The (slot, module) pairs an order's stored configuration holds."""
    for slot, choice in json.loads(text).items():
        if isinstance(choice, dict):
            yield from ((slot, module) for module, quantity in choice.items() if quantity)
        elif choice is not None:
            yield slot, choice


class Popularity:
    """The module shares of each catalog's orders, kept between calls (thread-safe)."""

    def __init__(self) -> None:
        self._tallies: dict[str, _Tally] = {}
        self._lock = threading.Lock()

    def stale(self) -> None:
        """Look at the orders again on the next call (this memory wrote)."""
        with self._lock:
            for tally in self._tallies.values():
                tally.checked_at = float("-inf")

    def shares(
        self, catalog: str, run: Callable[[Callable[[Any], Any]], Any]
    ) -> dict[str, dict[str, float]]:
        """``[slot][module]``: the share of the stored orders of ``catalog`` that hold the
        module; ``run(work)`` runs ``work(connection)`` in a transaction."""
        with self._lock:
            now = time.monotonic()
            tally = self._tallies.get(catalog)
            if tally is not None and now - tally.checked_at < POPULARITY_SECONDS:
                return tally.shares
            of_catalog = ORDERS.c.catalog == catalog
            if tally is not None and now - tally.counted_at < RECOUNT_SECONDS:
                before = sa.select(sa.func.count(), sa.func.max(ORDERS.c.recorded_at)).where(
                    of_catalog, ORDERS.c.order_id <= tally.last_id
                )
                found = run(lambda c: tuple(c.execute(before).one()))
                if found != tally.fingerprint:  # (orders counted before are gone)
                    tally = None
            else:
                tally = None
            if tally is None:
                tally = _Tally()
            newer = (
                sa.select(ORDERS.c.order_id, ORDERS.c.recorded_at, ORDERS.c.configuration)
                .where(of_catalog, ORDERS.c.order_id > tally.last_id)
                .order_by(ORDERS.c.order_id)
            )
            rows = run(lambda c: c.execute(newer).all())
            count, newest = tally.fingerprint
            for order_id, recorded_at, text in rows:
                tally.seen.update(_held(text))
                tally.last_id = order_id
                newest = recorded_at if newest is None else max(newest, recorded_at)
            if rows or tally.checked_at == float("-inf"):
                orders = count + len(rows)
                tally.fingerprint = (orders, newest)
                shares: dict[str, dict[str, float]] = {}
                for (slot, module), seen in tally.seen.items():
                    shares.setdefault(slot, {})[module] = seen / orders
                tally.shares = shares
            tally.checked_at = now
            self._tallies[catalog] = tally
            return tally.shares
