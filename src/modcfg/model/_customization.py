"""Customization degree, price ladders and the kinds of customization a slot serves.

A catalog may name its *standard* configuration (``standard:``, and one per purpose in
``purposes.<id>.standard``). The *degree* of a configuration is its weighted distance from a
standard: the sum of ``degree_weight`` (default 1) over the slots whose choice differs from
the standard's. A degree is a sum over slots, so the engines treat it like any other sum.

A *ladder* price rule (``ladder: [{min_degree: 1, percent: "5"}, {min_degree: 3, amount:
"40.00"}]``) splits degrees into bands at its steps' ``min_degree`` values (below the first
step: the standard band, when the first step starts above 0) and adds one surcharge per unit:
the step's ``amount``, or its ``percent`` of the standard configuration's module prices,
rounded half-even to the minor unit. Ladders always measure from the catalog's standard.

Slots say what they vary (``kind``): ``functional`` (the physical product), ``cosmetic``
(presentation: packaging, labels, names) or ``adaptive`` (settings the customer changes after
purchase). Invariants: a degree is a non-negative int; the bands of a ladder cover every
degree, each in exactly one band.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from .._errors import CatalogError, NeedsError
from ._base import FrozenModel, Money, Percent

if TYPE_CHECKING:
    from ._catalog import Catalog, Slot
    from ._configuration import Choice, Configuration
    from ._pricing import PriceRule

__all__ = [
    "SLOT_KINDS",
    "Band",
    "DegreeBand",
    "LadderStep",
    "SlotKind",
    "StandardChoices",
    "check_customization",
    "degree_of",
    "ladder_amount",
    "ladder_band",
    "ladder_bands",
    "slot_differs",
    "standard_of",
]

SlotKind = Literal["functional", "cosmetic", "adaptive"]
#: What a slot can vary: the product itself, its presentation, or its settings after purchase.
SLOT_KINDS: tuple[SlotKind, ...] = ("functional", "cosmetic", "adaptive")
#: A standard configuration as written: slot -> module id, ``{module: quantity}`` or empty.
StandardChoices = dict[str, str | dict[str, int] | None]


class LadderStep(FrozenModel):
    """From ``min_degree`` on, a surcharge per unit: ``amount``, or ``percent`` of the
    standard configuration's module prices (exactly one of the two)."""

    min_degree: int = Field(ge=0, le=10**9)
    amount: Money | None = None
    percent: Percent | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> LadderStep:
        if (self.amount is None) == (self.percent is None):
            raise ValueError(
                'a ladder step has either an amount (amount: "40.00") or a percent of the '
                'standard price (percent: "12"), not both or neither'
            )
        return self


class DegreeBand(FrozenModel):
    """A range of customization degrees, ``min`` to ``max`` inclusive (``max`` None: no top)."""

    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> DegreeBand:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"degree min {self.min} is above max {self.max}; swap them")
        return self

    def holds(self, degree: int) -> bool:
        return self.min <= degree and (self.max is None or degree <= self.max)

    @property
    def text(self) -> str:
        """The band as a need in the customer's terms (``"degree 1 to 3"``, ``"degree 2 or
        more"``)."""
        if self.max is None:
            return f"degree {self.min} or more"
        if self.max == self.min:
            return f"degree {self.min}"
        return f"degree {self.min} to {self.max}"


@dataclass(frozen=True)
class Band:
    """One band of a ladder: degrees ``low`` to ``high`` (inclusive; None: no top), its
    position (1-based) among ``of`` bands and its step (None: the standard band)."""

    low: int
    high: int | None
    number: int
    of: int
    step: LadderStep | None


def slot_differs(slot: Slot, choice: Choice, standard: Choice) -> bool:
    """Whether a slot's choice differs from the standard's (empty choices are equal)."""
    if slot.single:
        return choice != standard
    return _units(choice) != _units(standard)


def _units(choice: Choice) -> dict[str, int]:
    if isinstance(choice, Mapping):
        return {module: quantity for module, quantity in choice.items() if quantity}
    return {} if choice is None else {choice: 1}


def degree_of(
    catalog: Catalog, configuration: Mapping[str, Choice], standard: Configuration
) -> int:
    """The weighted number of slots whose choice differs from ``standard``."""
    return sum(
        slot.degree_weight
        for slot_id, slot in catalog.slots.items()
        if slot.degree_weight and slot_differs(slot, configuration.get(slot_id), standard[slot_id])
    )


def standard_of(catalog: Catalog, purpose: str | None = None) -> Configuration:
    """The standard of ``purpose`` (its own, else the catalog's); NeedsError when none."""
    if purpose is not None and purpose in catalog.purposes:
        found = catalog.purposes[purpose].standard
        if found is not None:
            return _configuration(catalog, found)
    if catalog.standard is None:
        raise NeedsError(
            f"catalog '{catalog.name}' names no standard configuration, so no degree of "
            "customization can be measured; add 'standard: {slot: module, ...}' to the catalog"
        )
    return catalog.standard_configuration  # type: ignore[return-value]


def _configuration(catalog: Catalog, choices: Mapping[str, Any]) -> Configuration:
    from ._configuration import Configuration

    return Configuration.validated(catalog, choices)


def ladder_bands(rule: PriceRule) -> list[Band]:
    """The bands of a ladder rule, lowest degrees first."""
    steps = sorted(rule.ladder or (), key=lambda step: step.min_degree)
    bands: list[tuple[int, LadderStep | None]] = []
    if not steps or steps[0].min_degree > 0:
        bands.append((0, None))
    bands += [(step.min_degree, step) for step in steps]
    highs: list[int | None] = [low - 1 for low, _ in bands[1:]]
    highs.append(None)
    return [
        Band(low, high, number, len(bands), step)
        for number, ((low, step), high) in enumerate(zip(bands, highs, strict=True), 1)
    ]


def ladder_band(rule: PriceRule, degree: int) -> Band:
    """The band of ``degree`` in a ladder rule."""
    return next(b for b in ladder_bands(rule) if b.high is None or degree <= b.high)


def ladder_amount(catalog: Catalog, step: LadderStep) -> Decimal:
    """A step's surcharge per unit: its amount, or its percent of the standard configuration's
    module prices rounded half-even to the minor unit."""
    if step.amount is not None:
        return step.amount
    standard = catalog.standard_configuration
    if standard is None or step.percent is None:  # pragma: no cover - validation requires them
        return Decimal(0)
    context = decimal.Context(prec=catalog.decimal_precision, rounding=ROUND_HALF_EVEN)
    with decimal.localcontext(context):
        base = sum(
            (catalog.slots[s].modules[m].price * units for s, m, units in standard.units()),
            Decimal(0),
        )
        return (base * step.percent / 100).quantize(
            Decimal(1).scaleb(-catalog.decimals), rounding=ROUND_HALF_EVEN
        )


def check_customization(catalog: Catalog) -> None:
    """Standards name valid choices; a ladder needs the catalog's standard and distinct steps."""
    places: list[tuple[tuple[str | int, ...], StandardChoices]] = []
    if catalog.standard is not None:
        places.append((("standard",), catalog.standard))
    for purpose_id, purpose in catalog.purposes.items():
        if purpose.standard is not None:
            places.append((("purposes", purpose_id, "standard"), purpose.standard))
    for where, choices in places:
        try:
            _configuration(catalog, choices)
        except NeedsError as error:
            text = str(error).replace("configuration", "the standard configuration", 1)
            raise CatalogError(f"{' '.join(map(str, where[:2]))}: {text}", where=where) from None
    for index, rule in enumerate(catalog.prices):
        if rule.ladder is None:
            continue
        where = ("prices", index)
        if catalog.standard is None:
            raise CatalogError(
                f"price rule '{rule.id}' is a ladder by degree of customization, but the catalog "
                "names no standard configuration to measure it from; add 'standard: {slot: "
                "module, ...}'",
                where=where,
            )
        starts = [step.min_degree for step in rule.ladder]
        if len(set(starts)) != len(starts):
            raise CatalogError(
                f"price rule '{rule.id}': two ladder steps start at the same degree {starts}; "
                "give each step its own min_degree",
                where=where,
            )
