"""Price rules, supplementary services, payment terms and purpose presets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ._base import FrozenModel, Id, Money, Percent, parse_ref, to_decimal
from ._customization import LadderStep, StandardChoices
from ._fields import Expressions, ModuleRefs, Preferences, parse_expression

__all__ = [
    "FREQUENCIES",
    "PRICE_RULE_KINDS",
    "SERVICE_KINDS",
    "Frequency",
    "PaymentTerm",
    "PriceRule",
    "Purpose",
    "Service",
    "Tier",
]

Frequency = Literal["one-off", "repeat", "subscription"]
FREQUENCIES: tuple[Frequency, ...] = ("one-off", "repeat", "subscription")
ServiceKind = Literal[
    "delivery", "installation", "repair", "calibration", "training", "financing", "other"
]
SERVICE_KINDS: tuple[str, ...] = ServiceKind.__args__  # type: ignore[attr-defined]
PriceRuleKind = Literal["conditional", "tiers", "frequency", "ladder"]
#: Every price-rule kind (the four forms of :class:`PriceRule`).
PRICE_RULE_KINDS: tuple[PriceRuleKind, ...] = ("conditional", "tiers", "frequency", "ladder")


class Tier(FrozenModel):
    """From ``min_quantity`` units on, the goods subtotal changes by ``percent`` (negative: off)."""

    min_quantity: int = Field(ge=1)
    percent: Percent


class PriceRule(FrozenModel):
    """A price rule, in one of four forms (exactly one per rule):

    - conditional surcharge or discount per unit: ``when: "frame.oak and glass.triple"`` (or
      ``bundle: [frame.oak, glass.triple]``, all chosen together) with a signed ``amount``;
    - quantity tiers: ``tiers: [{min_quantity: 10, percent: "-5"}, ...]``;
    - loyalty pricing by purchase frequency: ``frequency: [repeat, subscription]`` with a signed
      ``percent`` of the goods subtotal;
    - a price ladder by degree of customization: ``ladder: [{min_degree: 1, percent: "5"},
      {min_degree: 3, amount: "40.00"}]``, a surcharge per unit by degree band (see
      :mod:`modcfg.model._customization`).
    """

    id: Id
    message: str = ""
    when: str | None = None
    bundle: tuple[str, ...] | None = None
    amount: Money | None = None
    tiers: tuple[Tier, ...] | None = None
    frequency: tuple[Frequency, ...] | None = None
    percent: Percent | None = None
    ladder: tuple[LadderStep, ...] | None = None

    @field_validator("when")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_expression(value)
        return value

    @field_validator("bundle")
    @classmethod
    def _refs(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for ref in value or ():
            parse_ref(ref)
        if value is not None and len(value) < 2:
            raise ValueError("a bundle lists at least two modules")
        return value

    @model_validator(mode="after")
    def _one_form(self) -> PriceRule:
        conditional = self.when is not None or self.bundle is not None
        forms = [conditional, self.tiers is not None, self.frequency is not None]
        forms.append(self.ladder is not None)
        if sum(forms) != 1:
            raise ValueError(
                "a price rule has exactly one form: 'when'/'bundle' with 'amount', "
                "'tiers', 'frequency' with 'percent', or 'ladder'"
            )
        if self.ladder is not None:
            if self.amount is not None or self.percent is not None:
                raise ValueError("a ladder rule carries its amounts inside 'ladder' steps")
            if not self.ladder:
                raise ValueError("a ladder lists at least one step ({min_degree: 1, ...})")
        if self.when is not None and self.bundle is not None:
            raise ValueError("give either 'when' or 'bundle', not both")
        if conditional and (self.amount is None or self.percent is not None):
            raise ValueError(
                "a conditional price rule needs a signed 'amount' per unit "
                '(e.g. amount: "25.00" or "-30.00"), not a percent'
            )
        if self.frequency is not None and (self.percent is None or self.amount is not None):
            raise ValueError("a frequency price rule needs a 'percent' (e.g. percent: \"-5\")")
        if self.tiers is not None:
            if self.amount is not None or self.percent is not None:
                raise ValueError("a tier rule carries its percents inside 'tiers'")
            minimums = [tier.min_quantity for tier in self.tiers]
            if len(set(minimums)) != len(minimums):
                raise ValueError(f"two tiers start at the same quantity: {minimums}")
        return self

    @property
    def kind(self) -> PriceRuleKind:
        if self.tiers is not None:
            return "tiers"
        if self.frequency is not None:
            return "frequency"
        if self.ladder is not None:
            return "ladder"
        return "conditional"

    @property
    def condition(self) -> str:
        """The condition of a conditional rule as one expression."""
        if self.bundle is not None:
            return " and ".join(self.bundle)
        return self.when or "true"

    def tier_percent(self, quantity: int) -> Tier | None:
        """The tier that applies to ``quantity`` units, if any."""
        best: Tier | None = None
        for tier in self.tiers or ():
            if tier.min_quantity <= quantity and (
                best is None or tier.min_quantity > best.min_quantity
            ):
                best = tier
        return best

    def describe(self) -> str:
        return self.message or self.id


class Service(FrozenModel):
    """A supplementary service: delivery, installation, repair, calibration, training, financing.

    ``per: unit`` charges the price for every unit ordered, ``per: order`` once. ``mandatory``
    services are always on the quote (delivery, usually); others when the customer asks for them
    (``Needs(services=[...])``). ``regions`` limits where it is offered (empty: everywhere).
    """

    id: Id
    label: str = ""
    kind: ServiceKind = "other"
    price: Money = Decimal(0)
    per: Literal["unit", "order"] = "order"
    regions: tuple[str, ...] = ()
    mandatory: bool = False
    lead_time_days: int = Field(default=0, ge=0)

    @field_validator("price")
    @classmethod
    def _non_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError(f"price {value} is negative; a service price is >= 0")
        return value


class PaymentTerm(FrozenModel):
    """How the customer pays: at once (optionally with a cash discount) or in instalments.

    ``instalments: 12`` with ``apr: "9.9"`` (annual percentage rate) yields monthly payments by
    the annuity formula; the quote shows the per-instalment amount and the financing cost.
    """

    id: Id
    label: str = ""
    instalments: int = Field(default=1, ge=1, le=600)
    apr: Decimal = Field(default=Decimal(0), ge=0, le=100)
    discount_percent: Decimal = Field(default=Decimal(0), ge=0, le=100)

    @field_validator("apr", "discount_percent", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        return to_decimal(value, what="percentage")


class Purpose(FrozenModel):
    """A purpose preset (the customer's 'why'): needs merged in when ``Needs(purpose=...)``,
    and optionally its own ``standard`` configuration to measure customization from."""

    label: str = ""
    require: ModuleRefs = ()
    forbid: ModuleRefs = ()
    conditions: Expressions = ()
    prefer: Preferences = Field(default_factory=dict)
    standard: StandardChoices | None = None
