"""Bills of materials, delivery dates and production plans of configurations.

:func:`bill_of_materials` aggregates the parts of one or more configurations, each ordered in
some quantity: every part's demand is the sum over the configurations' modules of (units of the
module) x (the part's quantity per unit) x (the quantity ordered). A part is available at once
when its stock covers that whole demand, else after its lead time; from there it passes through
its stage and every later one. The delivery date is today plus the slowest of these (the
critical path), or of the lead times of modules without parts, plus the longest lead time of
the needed services. The plan lists the stages in production order; the postponement point is
the first stage that uses a differentiated part or at which the configurations' parts differ:
everything before it can be made to stock, everything from it on is made to order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ..model import Catalog, Configuration, StockLevels, day, stock_of

__all__ = [
    "BillOfMaterials",
    "BomLine",
    "PathStep",
    "ProductionStep",
    "bill_of_materials",
    "ready_days",
]


@dataclass(frozen=True)
class BomLine:
    """One part of a bill of materials: the demand of every configuration, and its stock."""

    part: str
    label: str
    kind: Literal["standard", "differentiated"]
    stage: str | None
    quantity: int
    stock: int
    lead_time_days: int
    modules: tuple[str, ...]

    @property
    def short(self) -> int:
        """Units the stock does not cover (to procure or make)."""
        return max(0, self.quantity - self.stock)

    @property
    def wait_days(self) -> int:
        """Days before the part is on hand: 0 from stock, else its lead time."""
        return 0 if self.short == 0 else self.lead_time_days


@dataclass(frozen=True)
class PathStep:
    """One step of the critical path: a part or module waited for, a stage, or a service."""

    kind: Literal["part", "module", "stage", "service"]
    id: str
    days: int
    reason: str

    def __str__(self) -> str:
        days = "1 day" if self.days == 1 else f"{self.days} days"
        return f"{self.kind} {self.id}: {days} ({self.reason})"


@dataclass(frozen=True)
class ProductionStep:
    """A stage of the production plan, with its dates and parts.

    ``made_to`` is ``"stock"`` before the postponement point and ``"order"`` from it on.
    """

    stage: str
    label: str
    days: int
    start: dt.date
    end: dt.date
    parts: tuple[str, ...]
    made_to: Literal["stock", "order"]

    def __str__(self) -> str:
        parts = ", ".join(self.parts) or "no parts"
        return f"{self.stage:10} {day(self.start)} - {day(self.end)}  to {self.made_to}: {parts}"


@dataclass(frozen=True)
class BillOfMaterials:
    """Parts, critical path, delivery date and production plan of configurations in quantities.

    ``lines`` come in catalog part order; ``ready_days`` counts from ``today`` to the end of
    production, ``delivery_date`` adds the services' lead time; ``postponement_point`` is the
    first made-to-order stage (None when nothing differs and no part is differentiated).
    """

    items: tuple[tuple[Configuration, int], ...]
    lines: tuple[BomLine, ...]
    critical_path: tuple[PathStep, ...]
    today: dt.date
    ready_days: int
    delivery_date: dt.date
    plan: tuple[ProductionStep, ...]
    postponement_point: str | None

    def __getitem__(self, part: str) -> BomLine:
        for line in self.lines:
            if line.part == part:
                return line
        raise KeyError(part)

    def __str__(self) -> str:
        width = max([4, *(len(line.part) for line in self.lines)])
        rows = [f"{'part':{width}} {'kind':14} {'qty':>5} {'stock':>5} {'short':>5}"]
        rows += [
            f"{line.part:{width}} {line.kind:14} {line.quantity:>5} {line.stock:>5} {line.short:>5}"
            for line in self.lines
        ]
        return "\n".join(rows)


def bill_of_materials(
    catalog: Catalog,
    items: Sequence[tuple[Configuration, int]],
    *,
    today: dt.date,
    stock: StockLevels | None = None,
    service_days: int = 0,
) -> BillOfMaterials:
    """The bill of materials of ``(configuration, quantity)`` items of one catalog."""
    demand: dict[str, int] = {}
    users: dict[str, dict[str, None]] = {}
    waits: list[PathStep] = []
    for configuration, quantity in items:
        for slot, module_id, units in configuration.units():
            module = catalog.slots[slot].modules[module_id]
            if not module.parts:
                lead = module.attributes.get("lead_time_days")
                if isinstance(lead, Decimal) and lead > 0:
                    text = f"lead time of {slot}.{module_id}"
                    waits.append(PathStep("module", f"{slot}.{module_id}", int(lead), text))
            for part, per_unit in module.parts.items():
                demand[part] = demand.get(part, 0) + per_unit * units * quantity
                users.setdefault(part, {})[f"{slot}.{module_id}"] = None
    lines = tuple(
        BomLine(
            part=part.id,
            label=part.title,
            kind=part.kind,
            stage=part.stage,
            quantity=demand[part.id],
            stock=stock_of(catalog, part.id, stock),
            lead_time_days=part.lead_time_days,
            modules=tuple(users[part.id]),
        )
        for part in catalog.parts.values()
        if part.id in demand
    )
    path = _critical_path(catalog, lines, waits)
    ready = sum(step.days for step in path)
    if service_days:
        path += (PathStep("service", "services", service_days, "the longest service"),)
    plan, point = _plan(catalog, items, lines, today)
    return BillOfMaterials(
        items=tuple(items),
        lines=lines,
        critical_path=path,
        today=today,
        ready_days=ready,
        delivery_date=today + dt.timedelta(days=ready + service_days),
        plan=plan,
        postponement_point=point,
    )


def ready_days(
    catalog: Catalog, configuration: Configuration, quantity: int, stock: StockLevels | None
) -> int:
    """Days from today to the end of production of ``quantity`` of ``configuration``: the
    length of the critical path of its bill of materials (computed without building it)."""
    if not catalog.has_lead_times:
        return 0
    demand: dict[str, int] = {}
    longest = 0
    for slot, module_id, units in configuration.units():
        module = catalog.slots[slot].modules[module_id]
        if not module.parts:
            lead = module.attributes.get("lead_time_days")
            if isinstance(lead, Decimal):
                longest = max(longest, int(lead))
        for part, per_unit in module.parts.items():
            demand[part] = demand.get(part, 0) + per_unit * units * quantity
    tails = catalog.stage_tails
    for part_id, needed in demand.items():
        found = catalog.parts[part_id]
        wait = 0 if stock_of(catalog, part_id, stock) >= needed else found.lead_time_days
        longest = max(longest, wait + tails[found.stage])
    return longest


def _critical_path(
    catalog: Catalog, lines: Sequence[BomLine], waits: Sequence[PathStep]
) -> tuple[PathStep, ...]:
    """The slowest chain: a wait (part or module lead time) then the stages it goes through."""
    tails = catalog.stage_tails
    best: tuple[PathStep, ...] = ()
    longest = -1
    for step in waits:
        if step.days > longest:
            best, longest = (step,), step.days
    for line in lines:
        total = line.wait_days + tails[line.stage]
        if total <= longest:
            continue
        reason = (
            f"{line.short} of {line.quantity} not in stock"
            if line.short
            else f"{line.quantity} from stock"
        )
        steps = [PathStep("part", line.part, line.wait_days, reason)]
        started = line.stage is None
        for stage in catalog.stages.values():
            started = started or stage.id == line.stage
            if started:
                steps.append(PathStep("stage", stage.id, stage.days, stage.title))
        best, longest = tuple(steps), total
    return best


def _plan(
    catalog: Catalog,
    items: Sequence[tuple[Configuration, int]],
    lines: Sequence[BomLine],
    today: dt.date,
) -> tuple[tuple[ProductionStep, ...], str | None]:
    first = next(iter(catalog.stages), None)
    per_stage: dict[str, list[BomLine]] = {stage: [] for stage in catalog.stages}
    for line in lines:
        stage = line.stage or first
        if stage is not None:
            per_stage[stage].append(line)
    start = today
    point: str | None = None
    steps: list[ProductionStep] = []
    started = False
    for step in catalog.stages.values():
        used = per_stage[step.id]
        # production starts at the first stage that takes a part (earlier ones have no work)
        started = started or bool(used)
        if not started:
            continue
        # a stage starts when the previous one ends and its own parts are on hand
        waited = max((line.wait_days for line in used), default=0)
        start = max(start, today + dt.timedelta(days=waited))
        if point is None and (
            any(line.kind == "differentiated" for line in used)
            or _differ(catalog, items, step.id, first)
        ):
            point = step.id
        end = start + dt.timedelta(days=step.days)
        steps.append(
            ProductionStep(
                stage=step.id,
                label=step.title,
                days=step.days,
                start=start,
                end=end,
                parts=tuple(line.part for line in used),
                made_to="stock" if point is None else "order",
            )
        )
        start = end
    return tuple(steps), point


def _differ(
    catalog: Catalog,
    items: Sequence[tuple[Configuration, int]],
    stage: str,
    first: str | None,
) -> bool:
    """Whether the configurations use different parts (per unit) at ``stage``."""
    seen: set[tuple[tuple[str, int], ...]] = set()
    for configuration, _ in items:
        used: dict[str, int] = {}
        for slot, module_id, units in configuration.units():
            for part, per_unit in catalog.slots[slot].modules[module_id].parts.items():
                if (catalog.parts[part].stage or first) == stage:
                    used[part] = used.get(part, 0) + per_unit * units
        seen.add(tuple(sorted(used.items())))
    return len(seen) > 1
