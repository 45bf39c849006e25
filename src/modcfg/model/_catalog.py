"""The catalog model: modules, slots, rules, prices, services, payment terms, presets.

A :class:`Catalog` is built only through validation (``Catalog(...)``,
``Catalog.model_validate`` or the loaders) and is frozen. One that exists is consistent: every
slot has at least one module and can be filled to its minimum, every rule, price rule and
purpose refers to slots, modules and attributes that exist (checked in :mod:`._validate`), ids
are unique, and amounts fit the currency's minor unit. A failure is a
:class:`~modcfg.CatalogError` whose ``where`` is the location path (``("rules", 3,
"excludes")``) that the loaders turn into a file and line. Derived views (``rules_by_id``,
``decimal_precision``, the price rules by kind) are computed once per catalog and cached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from .._errors import CatalogError, did_you_mean
from .._html import MAX_ROWS, html_table
from ._base import (
    _ID_RE,
    MAX_FRACTION_DIGITS,
    AttributeValue,
    FrozenModel,
    Id,
    Money,
    as_validated,
)
from ._configuration import Configuration
from ._customization import SlotKind, StandardChoices
from ._pricing import PaymentTerm, PriceRule, Purpose, Service
from ._production import Part, Stage
from ._rules import Rule

__all__ = ["Cardinality", "Catalog", "Module", "Slot", "modules_table"]

#: Minor units (digits after the decimal point) of common ISO 4217 currencies; others use 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "HUF": 2, "BHD": 3, "KWD": 3, "TND": 3}


def _with_ids(value: Any) -> Any:
    """Copy a ``{id: {...}}`` mapping, putting each key into its value as ``id``."""
    if isinstance(value, Mapping):
        return {
            key: ({"id": key, **item} if isinstance(item, Mapping) else item)
            for key, item in value.items()
        }
    return value


class Module(FrozenModel):
    """One pre-built building block: an id, a label, a price and typed attributes.

    ``max_quantity`` (default 1) bounds how many units of it a multi-select slot may take;
    ``cost`` (default 0) is what one unit costs the firm (the pricing optimiser's margins).
    ``parts`` is its bill of materials: the catalog's parts one unit needs, with quantities.
    """

    id: Id
    label: str = ""
    price: Money = Decimal(0)
    cost: Money = Decimal(0)
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    max_quantity: int = Field(default=1, ge=1, le=1000)
    parts: dict[Id, int] = Field(default_factory=dict)

    @field_validator("parts")
    @classmethod
    def _positive_parts(cls, value: dict[str, int]) -> dict[str, int]:
        for part, quantity in value.items():
            if not 1 <= quantity <= 1_000_000:
                raise ValueError(
                    f"part '{part}' has quantity {quantity}; give 1 to 1,000,000 units per "
                    "module unit (leave out a part the module does not need)"
                )
        return value

    @field_validator("cost")
    @classmethod
    def _cost_non_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError(f"cost {value} is negative; a module's cost to the firm is >= 0")
        return value

    @field_validator("price")
    @classmethod
    def _non_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError(
                f"price {value} is negative; module prices are >= 0 (model a reduction "
                "as a price rule with a negative amount)"
            )
        return value

    @property
    def title(self) -> str:
        return self.label or self.id


class Cardinality(FrozenModel):
    """How many units a slot takes: ``exactly_one`` (1..1), ``optional`` (0..1) or ``min..max``.

    Bounds count units: a module taken twice counts two.
    """

    min: int = Field(default=1, ge=0)
    max: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        if value == "exactly_one":
            return {"min": 1, "max": 1}
        if value == "optional":
            return {"min": 0, "max": 1}
        if isinstance(value, str):
            raise ValueError(
                f"cardinality {value!r} is unknown; use exactly_one, optional or {{min: 0, max: 3}}"
            )
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Cardinality:
        if self.min > self.max:
            raise ValueError(
                f"min {self.min} is greater than max {self.max}; swap them or raise max"
            )
        return self

    @property
    def kind(self) -> Literal["exactly_one", "optional", "many"]:
        if self.max == 1:
            return "exactly_one" if self.min == 1 else "optional"
        return "many"

    def __str__(self) -> str:
        return self.kind if self.kind != "many" else f"{self.min}..{self.max}"


class Slot(FrozenModel):
    """A choice point that modules fill, with a cardinality.

    ``kind`` says what the slot varies (``functional``: the product; ``cosmetic``: its
    presentation; ``adaptive``: settings changed after purchase) and ``degree_weight`` how
    much choosing other than the standard counts towards the degree of customization.
    """

    id: Id
    label: str = ""
    cardinality: Cardinality = Field(default_factory=Cardinality)
    kind: SlotKind = "functional"
    degree_weight: int = Field(default=1, ge=0, le=10**6)
    modules: dict[Id, Module]

    @field_validator("modules", mode="before")
    @classmethod
    def _module_ids(cls, value: Any) -> Any:
        return _with_ids(value)

    @field_validator("modules")
    @classmethod
    def _not_empty(cls, value: dict[str, Module]) -> dict[str, Module]:
        if not value:
            raise ValueError("the slot has no modules; add at least one or remove the slot")
        return value

    @model_validator(mode="after")
    def _fillable(self) -> Slot:
        capacity = sum(module.max_quantity for module in self.modules.values())
        if capacity < self.cardinality.min:
            raise ValueError(
                f"needs at least {self.cardinality.min} units but its modules offer only "
                f"{capacity}; lower min or raise the modules' max_quantity"
            )
        return self

    @classmethod
    def feature(cls, slot_id: str, label: str) -> Slot:
        """An optional slot of one module, ``selected``, both labelled ``label``: a feature of
        a feature model, as the DIMACS reader makes one per variable (thousands for a large
        model). Set as validation would set it, without validating: that took 12 us a slot,
        a third of reading a model of 1,850 features (tests/test_io.py compares both).

        >>> Slot.feature("x1", "Logging") == Slot.model_validate({"id": "x1", "label": "Logging",
        ...     "cardinality": "optional", "modules": {"selected": {"label": "Logging"}}})
        True
        """
        if not isinstance(slot_id, str) or not _ID_RE.fullmatch(slot_id):
            raise ValueError(f"{slot_id!r} is not a valid id")
        if not isinstance(label, str):
            raise ValueError(f"a label is text, not {type(label).__name__}")
        module = as_validated(
            Module,
            {
                "id": _SELECTED,
                "label": label,
                "price": Decimal(0),
                "cost": Decimal(0),
                "attributes": {},
                "max_quantity": 1,
                "parts": {},
            },
            {"id", "label"},
        )
        fields = {
            "id": slot_id,
            "label": label,
            "cardinality": _OPTIONAL,
            "kind": "functional",
            "degree_weight": 1,
            "modules": {_SELECTED: module},
        }
        return as_validated(cls, fields, {"id", "label", "cardinality", "modules"})

    @property
    def title(self) -> str:
        return self.label or self.id

    @property
    def single(self) -> bool:
        """True when the slot holds at most one unit (exactly_one or optional)."""
        return self.cardinality.max == 1


_SELECTED = "selected"
_OPTIONAL = Cardinality(min=0, max=1)  # (frozen: every feature shares it)


class Catalog(FrozenModel):
    """A product catalog: slots of modules, rules, price rules, services and payment terms.

    >>> catalog = Catalog.model_validate({"catalog": "tiny", "slots": {
    ...     "size": {"modules": {"s": {"price": "10"}, "m": {"price": "12"}}}}})
    >>> list(catalog.slots["size"].modules)
    ['s', 'm']
    """

    name: str = Field(alias="catalog", min_length=1)
    label: str = ""
    description: str = ""
    version: str = "1"
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    minor_unit: int | None = Field(default=None, ge=0, le=6)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    expected_count: int | None = Field(default=None, ge=0)
    slots: dict[Id, Slot]
    rules: tuple[Rule, ...] = ()
    prices: tuple[PriceRule, ...] = ()
    services: dict[Id, Service] = Field(default_factory=dict)
    payment_terms: dict[Id, PaymentTerm] = Field(default_factory=dict)
    purposes: dict[Id, Purpose] = Field(default_factory=dict)
    standard: StandardChoices | None = None
    parts: dict[Id, Part] = Field(default_factory=dict)
    stages: dict[Id, Stage] = Field(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise catalog_error_from_validation(exc) from None

    @field_validator("slots", "services", "payment_terms", "parts", "stages", mode="before")
    @classmethod
    def _keyed_ids(cls, value: Any) -> Any:
        return _with_ids(value)

    @field_validator("slots")
    @classmethod
    def _has_slots(cls, value: dict[str, Slot]) -> dict[str, Slot]:
        if not value:
            raise ValueError("the catalog has no slots; add at least one slot with modules")
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> Catalog:
        from ._validate import check_catalog

        check_catalog(self)
        return self

    @property
    def decimals(self) -> int:
        """Digits after the decimal point of the currency's minor unit."""
        if self.minor_unit is not None:
            return self.minor_unit
        return _MINOR_UNITS.get(self.currency, 2)

    @cached_property
    def decimal_precision(self) -> int:
        """Significant digits that keep every amount of this catalog's quotes exact.

        The default decimal context keeps 28 digits, so a total above 10**28 would lose its
        cents. A quote adds at most one line per module unit and price rule, times a quantity
        of at most 10**6, and applies percentages of at most 20 decimals: its exact amounts
        need the integer digits of the largest price, plus those of these counts, plus the
        decimals of the most precise amount and percentage. Quotes are computed in a local
        context of this precision (``decimal.localcontext``); the global context is untouched.

        >>> Catalog.model_validate({"catalog": "t", "slots": {
        ...     "s": {"modules": {"a": {"price": "1e29"}}}}}).decimal_precision
        74
        """
        amounts = [module.price for slot in self.slots.values() for module in slot.modules.values()]
        amounts += [rule.amount for rule in self.prices if rule.amount is not None]
        amounts += [s.amount for r in self.prices for s in r.ladder or () if s.amount is not None]
        amounts += [service.price for service in self.services.values()]
        integer = max((amount.adjusted() + 1 for amount in amounts if amount), default=1)
        fraction = max((_decimals(amount) for amount in amounts), default=0)
        units = sum(
            module.max_quantity for slot in self.slots.values() for module in slot.modules.values()
        )
        lines = units + len(self.prices) + len(self.services) + 2
        quantity_digits = 7  # Needs.quantity <= 10**6
        percent_digits = 4 + MAX_FRACTION_DIGITS  # a percentage <= 1000, 20 decimals
        return (
            max(integer, 1)
            + len(str(lines))
            + quantity_digits
            + max(fraction, self.decimals)
            + percent_digits
            + 10  # guard digits for the annuity's rate and division
        )

    @cached_property
    def stage_tails(self) -> dict[str | None, int]:
        """Days from the start of each stage to the end of production (``None``: the first
        stage, where parts without a stage are used)."""
        tails: dict[str | None, int] = {}
        remaining = sum(stage.days for stage in self.stages.values())
        tails[None] = remaining
        for stage in self.stages.values():
            tails[stage.id] = remaining
            remaining -= stage.days
        return tails

    @cached_property
    def has_lead_times(self) -> bool:
        """Whether any module has parts or a ``lead_time_days`` attribute."""
        return any(
            module.parts or "lead_time_days" in module.attributes
            for slot in self.slots.values()
            for module in slot.modules.values()
        )

    @cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    @cached_property
    def order_price_rules(self) -> tuple[PriceRule, ...]:
        """The price rules that act on the whole order (quantity tiers, frequency pricing)."""
        return tuple(rule for rule in self.prices if rule.kind in ("tiers", "frequency"))

    @cached_property
    def ladder_price_rules(self) -> tuple[PriceRule, ...]:
        """The price rules that add a surcharge per unit by degree of customization."""
        return tuple(rule for rule in self.prices if rule.kind == "ladder")

    @cached_property
    def standard_configuration(self) -> Configuration | None:
        """The catalog's standard configuration (None when it names none)."""
        if self.standard is None:
            return None
        return Configuration.validated(self, self.standard)

    @cached_property
    def conditional_price_rules(self) -> tuple[PriceRule, ...]:
        """The price rules that add an amount per unit when their condition holds."""
        return tuple(rule for rule in self.prices if rule.kind == "conditional")

    def module(self, ref: str) -> Module:
        """The module of a ``slot.module`` reference (KeyError when there is none).

        >>> import modcfg
        >>> modcfg.load_catalog("windows").module("frame.pvc").price
        Decimal('60.00')
        """
        slot, module = ref.split(".", 1)
        return self.slots[slot].modules[module]

    def module_refs(self) -> Iterator[str]:
        """Every module as ``slot.module``, in catalog order."""
        for slot in self.slots.values():
            for module in slot.modules:
                yield f"{slot.id}.{module}"

    @property
    def module_count(self) -> int:
        return sum(len(slot.modules) for slot in self.slots.values())

    def __repr__(self) -> str:
        return (
            f"<Catalog {self.name} {self.version}: {len(self.slots)} slots, "
            f"{self.module_count} modules, {len(self.rules)} rules>"
        )

    def _repr_html_(self, max_rows: int = MAX_ROWS) -> str:
        """The catalog as an HTML table for notebooks: a row per module (at most
        ``max_rows``) with its slot, label and price."""
        return modules_table(self, caption=repr(self), max_rows=max_rows)


def modules_table(catalog: Catalog, *, caption: str, max_rows: int = MAX_ROWS) -> str:
    """The HTML table of a catalog's modules (slot, module, label, price), at most
    ``max_rows`` rows, under ``caption``."""
    rows = (
        (slot.id, module_id, module.title, module.price)
        for slot in catalog.slots.values()
        for module_id, module in slot.modules.items()
    )
    return html_table(
        ["slot", "module", "label", f"price ({catalog.currency})"],
        rows,
        caption=caption,
        max_rows=max_rows,
        total_rows=catalog.module_count,
    )


def catalog_error_from_validation(exc: ValidationError, path: str | None = None) -> CatalogError:
    """Turn pydantic's first error into a CatalogError that names where and what."""
    errors = exc.errors(include_url=False)
    for error in errors:
        # a CatalogError is a ValueError, so pydantic wraps one raised by a validator: give
        # back the original, which already says where
        raised = error.get("ctx", {}).get("error")
        if isinstance(raised, CatalogError):
            return raised.located(path=path, line=None) if path else raised
    # a misspelt key also makes the right one "missing": name the misspelling first
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    where = tuple(part for part in error["loc"] if isinstance(part, str | int))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        missing = [str(e["loc"][-1]) for e in errors if e["type"] == "missing"]
        hint = did_you_mean(str(where[-1]), missing) if missing else ""
        hint = hint or "; check its spelling against docs/catalog-format.md"
        message = f"unknown key '{where[-1]}'{hint}"
    elif error["type"] == "missing":
        message = f"'{where[-1]}' is required here"
    return CatalogError(f"{_describe(where)}: {message}", path=path, where=where)


def _describe(where: tuple[str | int, ...]) -> str:
    """``('slots', 'frame', 'modules', 'oak')`` -> ``slot 'frame', module 'oak'``."""
    words: list[str] = []
    index = 0
    names = {"slots": "slot", "modules": "module", "services": "service"}
    names |= {"payment_terms": "payment term", "purposes": "purpose"}
    while index < len(where):
        part = where[index]
        following = where[index + 1] if index + 1 < len(where) else None
        if part in names and following is not None:
            words.append(f"{names[str(part)]} '{following}'")
            index += 2
        elif part in ("rules", "prices") and isinstance(following, int):
            words.append(f"{'rule' if part == 'rules' else 'price rule'} #{following + 1}")
            index += 2
        else:
            words.append(str(part))
            index += 1
    return ", ".join(words) if words else "catalog"


def _decimals(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
