"""Parts, production stages and stock: what a module is made of and when it can be ready.

A catalog may list ``parts`` (each standard or differentiated, with a production ``stage``, a
``lead_time_days`` to procure or make it and a ``stock`` on hand) and ``stages`` (in production
order, each taking ``days``); a module lists the parts one unit of it needs (``parts: {part:
quantity}``). Everything here is optional: a catalog without parts reads as before.

The promise rule (``docs/semantics.md``, "Production") is one function, :func:`module_ready_days`:
a part is available at once when its stock covers the demand, else after its lead time; it then
passes through its stage and every later one; a module with parts is ready when its slowest part
is through the last stage, a module without parts after its ``lead_time_days`` attribute. The
rule reads one module at a time, which is what lets ``Needs(deliver_by=...)`` drop modules one by
one (the engines see an exclusion, never a new rule).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ._base import FrozenModel

if TYPE_CHECKING:
    from ._catalog import Catalog, Module

__all__ = ["Part", "PartKind", "Stage", "StockLevels", "module_ready_days", "stock_of"]

PartKind = Literal["standard", "differentiated"]
#: Stock on hand by part id: a mapping, or a callback asked for one part at a time.
StockLevels = Mapping[str, int] | Callable[[str], int]


class Part(FrozenModel):
    """A part of the bill of materials.

    ``kind``: ``standard`` parts are shared by many configurations and made ahead;
    ``differentiated`` ones make a configuration what it is and are added as late as possible.
    ``stage`` is the production stage that consumes the part (the first stage when omitted),
    ``lead_time_days`` how long procuring or making it takes when the stock does not cover the
    demand, ``stock`` the units on hand (``Needs(stock=...)`` overrides it).
    """

    id: str
    label: str = ""
    kind: PartKind = "standard"
    stage: str | None = None
    lead_time_days: int = Field(default=0, ge=0, le=100_000)
    stock: int = Field(default=0, ge=0)

    @property
    def title(self) -> str:
        return self.label or self.id


class Stage(FrozenModel):
    """A production stage; stages run in the catalog's order, each taking ``days``."""

    id: str
    label: str = ""
    days: int = Field(default=0, ge=0, le=100_000)

    @property
    def title(self) -> str:
        return self.label or self.id


def stock_of(catalog: Catalog, part: str, stock: StockLevels | None) -> int:
    """The units of ``part`` on hand: from ``stock`` when it knows the part, else the catalog."""
    if callable(stock):
        return int(stock(part))
    if stock is not None and part in stock:
        return int(stock[part])
    found = catalog.parts.get(part)
    return found.stock if found is not None else 0


def module_ready_days(
    catalog: Catalog, module: Module, units: int, stock: StockLevels | None
) -> int:
    """Days from today until ``units`` units of ``module`` are through production.

    A part whose stock covers ``units`` times its quantity waits 0 days, otherwise its lead
    time; it then takes its stage and every later stage. A module without parts is ready after
    its ``lead_time_days`` attribute (0 without one).
    """
    if not module.parts:
        value = module.attributes.get("lead_time_days")
        return int(value) if isinstance(value, Decimal) else 0
    tails = catalog.stage_tails
    ready = 0
    for part_id, per_unit in module.parts.items():
        part = catalog.parts[part_id]
        wait = 0 if stock_of(catalog, part_id, stock) >= per_unit * units else part.lead_time_days
        ready = max(ready, wait + tails[part.stage])
    return ready
