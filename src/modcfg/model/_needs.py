"""A customer's needs in the eight dimensions, and their resolution against a catalog.

:class:`Needs` is what a customer stated, validated on its own (types, ranges, expression
syntax) and frozen; it knows no catalog. :meth:`Needs.resolve` checks it against one catalog
and gives :class:`ResolvedNeeds`, in which every module reference and expression resolves in
that catalog, the purpose preset is merged in (the customer's own preference weights win),
the mandatory services offered in the region are added, and ``excluded`` maps every module a
need rules out on its own (region, delivery date, forbid) to the reason. Every problem is a
:class:`~modcfg.NeedsError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .._errors import CatalogError, NeedsError, did_you_mean
from .._reasons import Reason
from ._base import Money
from ._customization import DegreeBand, standard_of
from ._fields import Expressions, ModuleRefs, Preferences
from ._pricing import Frequency, PaymentTerm, Service
from ._production import module_ready_days
from ._validate import expression_problem, module_ref_problem

if TYPE_CHECKING:
    from ._catalog import Catalog
    from ._configuration import Configuration

__all__ = ["Needs", "ResolvedNeeds", "check_validity", "day"]


class Needs(BaseModel):
    """What one customer stated, in the eight need dimensions.

    - what: ``require`` / ``forbid`` modules (``"slot.module"``), ``conditions`` on attributes
      (``"glass.u_value <= 0.8"``);
    - when: ``deliver_by`` (a date; modules that cannot be through production by then drop
      out: their parts' lead times and stages, or their ``lead_time_days`` attribute);
      ``today`` fixes the reference date (default the real today) and dates the quote: a
      catalog outside its validity then refuses to quote; ``stock`` (part id -> units on
      hand) overrides the catalog's stock levels;
    - where: ``region`` (modules whose ``regions`` attribute omits it drop out);
    - why: ``purpose`` (a preset of the catalog's ``purposes``);
    - how many: ``quantity`` (units; selects quantity tiers);
    - what price: ``budget`` (the most the quote's total may be);
    - how to pay: ``payment`` (a payment term id such as ``"instalments-12"``);
    - how often: ``frequency`` (``one-off``, ``repeat``, ``subscription``: loyalty pricing).

    ``prefer`` weighs soft wishes: module references or conditions with integer weights
    (negative for dislikes). ``services`` asks for supplementary services by id. ``degree``
    keeps the configurations whose degree of customization lies in a band
    (``{"min": 1, "max": 3}``), measured from the purpose's standard or the catalog's.

    >>> Needs(require=["glass.triple"], budget="900", quantity=4).budget
    Decimal('900')
    >>> Needs(budget="-1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    modcfg.NeedsError: needs, budget: budget -1 is negative; give the most ... >= 0
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    require: ModuleRefs = ()
    forbid: ModuleRefs = ()
    conditions: Expressions = ()
    deliver_by: dt.date | None = None
    today: dt.date | None = None
    region: str | None = None
    purpose: str | None = None
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    budget: Money | None = None
    payment: str | None = None
    frequency: Frequency = "one-off"
    services: tuple[str, ...] = ()
    prefer: Preferences = Field(default_factory=dict)
    degree: DegreeBand | None = None
    stock: dict[str, int] = Field(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise needs_error_from_validation(exc) from None

    @field_validator("budget")
    @classmethod
    def _budget(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value < 0:
            raise ValueError(
                f"budget {value} is negative; give the most the customer will pay, >= 0"
            )
        return value

    @field_validator("stock")
    @classmethod
    def _stock(cls, value: dict[str, int]) -> dict[str, int]:
        for part, units in value.items():
            if units < 0:
                raise ValueError(f"part '{part}' has stock {units}; stock levels are >= 0")
        return value

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, source: str | None = None) -> Needs:
        """Build needs from a mapping read from a YAML/JSON file."""
        if not isinstance(data, Mapping):
            raise NeedsError(f"needs{_at(source)} must be a mapping of need dimensions")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise needs_error_from_validation(exc, source) from None

    def resolve(self, catalog: Catalog) -> ResolvedNeeds:
        """Check these needs against ``catalog`` and merge the purpose preset."""
        return resolve_needs(self, catalog)


def _at(source: str | None) -> str:
    return f" ({source})" if source else ""


def needs_error_from_validation(exc: ValidationError, source: str | None = None) -> NeedsError:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        known = ", ".join(Needs.model_fields)
        hint = did_you_mean(where, Needs.model_fields)
        message = f"'{where}' is not a need dimension{hint} (known: {known})"
    if not where:  # a check of the whole needs, whose message names the field itself
        prefix = "" if message.startswith("needs") else "needs: "
        return NeedsError(f"{prefix}{message}{_at(source)}")
    return NeedsError(f"needs, {where}: {message}{_at(source)}")


@dataclass(frozen=True)
class ResolvedNeeds:
    """Needs checked against one catalog, with the purpose preset merged in.

    ``excluded`` maps each module a need rules out alone (region, delivery date, forbid) to
    the :class:`~modcfg.Reason` why (``"pvc forbidden by the customer"``).
    """

    needs: Needs
    require: tuple[str, ...]
    forbid: tuple[str, ...]
    conditions: tuple[str, ...]
    excluded: Mapping[str, Reason] = field(default_factory=dict)
    services: tuple[Service, ...] = ()
    payment: PaymentTerm | None = None
    prefer: Mapping[str, int] = field(default_factory=dict)
    #: The standard the degree band is measured from (None without a band).
    standard: Configuration | None = None

    @property
    def quantity(self) -> int:
        return self.needs.quantity

    @property
    def budget(self) -> Decimal | None:
        return self.needs.budget


def day(date: dt.date) -> str:
    """A date as people read it: ``14 March 2027``."""
    return f"{date.day} {date:%B %Y}"


def check_validity(catalog: Catalog, needs: Needs | None) -> None:
    """Raise :class:`~modcfg.CatalogError` when ``needs.today`` is outside the catalog's
    validity dates (a quote dated then would use prices not in force)."""
    today = needs.today if needs is not None else None
    if today is None:
        return
    start, end = catalog.valid_from, catalog.valid_until
    if (start is not None and today < start) or (end is not None and today > end):
        window = f"from {start or 'any date'} until {end or 'further notice'}"
        raise CatalogError(
            f"catalog '{catalog.name}' version {catalog.version} is valid {window}, not on "
            f"{today}; quote with the version in force on {today} or move Needs(today=...) "
            "into the validity dates",
            where=("valid_until",) if end is not None and today > end else ("valid_from",),
        )


def resolve_needs(needs: Needs, catalog: Catalog) -> ResolvedNeeds:
    require, forbid = list(needs.require), list(needs.forbid)
    conditions, prefer = list(needs.conditions), dict(needs.prefer)
    if needs.purpose is not None:
        purpose = catalog.purposes.get(needs.purpose)
        if purpose is None:
            known = ", ".join(catalog.purposes) or "none"
            raise NeedsError(
                f"purpose '{needs.purpose}' is not offered by catalog '{catalog.name}'"
                f"{did_you_mean(needs.purpose, catalog.purposes)} (purposes: {known})"
            )
        require += [ref for ref in purpose.require if ref not in require]
        forbid += [ref for ref in purpose.forbid if ref not in forbid]
        conditions += [text for text in purpose.conditions if text not in conditions]
        prefer = {**purpose.prefer, **prefer}
    for kind, refs in (("require", require), ("forbid", forbid)):
        for ref in refs:
            problem = module_ref_problem(catalog, ref)
            if problem:
                raise NeedsError(f"needs, {kind}: {problem}")
    both = set(require) & set(forbid)
    if both:
        raise NeedsError(f"needs both require and forbid '{sorted(both)[0]}'; keep one of them")
    for kind, texts in (("conditions", conditions), ("prefer", list(prefer))):
        for text in texts:
            problem = expression_problem(catalog, text)
            if problem:
                raise NeedsError(f"needs, {kind}: {problem}")
    today = needs.today or dt.date.today()
    if needs.deliver_by is not None and needs.deliver_by < today:
        raise NeedsError(
            f"needs, deliver_by: {needs.deliver_by} is in the past (today is {today}); "
            "give a future date"
        )
    services = _services(needs, catalog)
    standard = None if needs.degree is None else standard_of(catalog, needs.purpose)
    payment = None
    if needs.payment is not None:
        payment = catalog.payment_terms.get(needs.payment)
        if payment is None:
            known = ", ".join(catalog.payment_terms) or "none"
            raise NeedsError(
                f"needs, payment: '{needs.payment}' is not a payment term of catalog "
                f"'{catalog.name}'{did_you_mean(needs.payment, catalog.payment_terms)} "
                f"(terms: {known})"
            )
    for part in needs.stock:
        if part not in catalog.parts:
            raise NeedsError(
                f"needs, stock: '{part}' is not a part of catalog '{catalog.name}'"
                f"{did_you_mean(part, catalog.parts)} (parts: {', '.join(catalog.parts) or 'none'})"
            )
    excluded: dict[str, Reason] = {}
    service_days = max((service.lead_time_days for service in services), default=0)
    for slot in catalog.slots.values():
        # a module of a multi-select slot is promised for its most units, so what is offered
        # is always delivered in time
        units = 1 if slot.single else 0
        for module in slot.modules.values():
            ref = f"{slot.id}.{module.id}"
            regions = module.attributes.get("regions")
            if (
                needs.region is not None
                and isinstance(regions, tuple)
                and needs.region not in regions
            ):
                text = f"{module.id} not available in region {needs.region}"
                excluded[ref] = Reason("need", text, need="region", slot=slot.id, module=module.id)
            elif needs.deliver_by is not None:
                most = needs.quantity * (units or module.max_quantity)
                days = module_ready_days(catalog, module, most, needs.stock)
                ready = today + dt.timedelta(days=days + service_days)
                if ready > needs.deliver_by:
                    text = f"{module.id} available from {day(ready)}, after {day(needs.deliver_by)}"
                    excluded[ref] = Reason(
                        "need", text, need="deliver_by", slot=slot.id, module=module.id
                    )
    for ref in forbid:
        if ref not in excluded:
            slot_id, _, module_id = ref.partition(".")
            text = f"{module_id} forbidden by the customer"
            excluded[ref] = Reason("need", text, need="forbid", slot=slot_id, module=module_id)
    return ResolvedNeeds(
        needs=needs,
        require=tuple(require),
        forbid=tuple(forbid),
        conditions=tuple(conditions),
        excluded=excluded,
        services=services,
        payment=payment,
        prefer=prefer,
        standard=standard,
    )


def _services(needs: Needs, catalog: Catalog) -> tuple[Service, ...]:
    chosen: list[Service] = []
    for service_id in needs.services:
        service = catalog.services.get(service_id)
        if service is None:
            known = ", ".join(catalog.services) or "none"
            raise NeedsError(
                f"needs, services: '{service_id}' is not a service of catalog '{catalog.name}'"
                f"{did_you_mean(service_id, catalog.services)} (services: {known})"
            )
        if needs.region is not None and service.regions and needs.region not in service.regions:
            raise NeedsError(
                f"needs, services: '{service_id}' is not offered in region {needs.region} "
                f"(only {', '.join(service.regions)})"
            )
        chosen.append(service)
    for service in catalog.services.values():
        offered = needs.region is None or not service.regions or needs.region in service.regions
        if service.mandatory and offered and service not in chosen:
            chosen.append(service)
    return tuple(chosen)
