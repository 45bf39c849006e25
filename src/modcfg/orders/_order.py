"""Whole orders: several lines of one catalog, each a configuration in a quantity, with rules
across the lines, one quote, one bill of materials and one delivery date.

An :class:`Order` is immutable. Its lines may be partly chosen (``choices``, a partial
configuration): counting, best-k and sessions fill the rest. It is answered through the product
catalog of ``_product.py`` (one copy of the catalog per line), compiled once per order; needs
given to an order apply to every line (``require``, ``forbid``, ``conditions`` and ``prefer``
line by line; budget, delivery date, region, services and payment to the whole order).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError, model_validator

from .._errors import NeedsError, TimeLimitExceeded, did_you_mean
from ..model import Configuration, Needs, expression_problem, parse
from ..model._base import FrozenModel
from ..price import BillOfMaterials, QuoteLine, bill_of_materials, order_lines, quote
from ..session._migrate import MigrationChange
from ._product import AUXILIARY, SEPARATOR, line_slot, product_catalog, spread, to_text

if TYPE_CHECKING:
    from .._configurator import Configurator, NeedsLike
    from ..price import Quote
    from ._session import OrderSession

__all__ = ["LineQuote", "Order", "OrderLine", "OrderQuote", "OrderRule"]

_LINE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*")
#: Quote line kinds that are the goods of one line (the rest are the order's).
_GOODS = ("module", "surcharge", "discount", "bundle")


@dataclass(frozen=True)
class OrderLine:
    """One line of an order: a name (``kitchen``), a quantity and the choices made so far (a
    partial configuration, slot -> module or {module: quantity})."""

    name: str
    quantity: int = 1
    choices: Mapping[str, Any] = field(default_factory=dict)


class OrderRule(FrozenModel):
    """A rule across an order's lines, in the catalog's expression language.

    - ``same: frame``: every line takes the same choice in the slot;
    - ``distinct: glass`` with ``at_most: 2``: at most that many different modules in the slot
      over all lines;
    - ``constraint: "total(weight_kg) <= 900"`` (optional ``when``): over the whole order, a
      module or a numeric attribute is summed over the lines times their quantities
      (``glass.triple >= 4``: at least four triple-glazed units).
    """

    id: str
    message: str = ""
    constraint: str | None = None
    when: str | None = None
    same: str | None = None
    distinct: str | None = None
    at_most: int | None = Field(default=None, ge=1, le=1000)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            raise NeedsError(f"order rule, {where}: {message}" if where else message) from None

    @model_validator(mode="after")
    def _one_form(self) -> OrderRule:
        forms = [self.constraint is not None, self.same is not None, self.distinct is not None]
        if sum(forms) != 1 or (self.distinct is None) != (self.at_most is None):
            raise ValueError(
                f"order rule '{self.id}' needs exactly one of 'constraint', 'same' or "
                "'distinct' with 'at_most'"
            )
        return self


@dataclass(frozen=True)
class LineQuote:
    """One line of an order's quote: its goods lines (modules and surcharges, times the line's
    quantity) and their sum."""

    name: str
    quantity: int
    configuration: Configuration
    lines: tuple[QuoteLine, ...]
    subtotal: Decimal


@dataclass(frozen=True)
class OrderQuote:
    """An order priced: per-line quotes, then the order's own lines (quantity tiers over every
    line's units, services, payment); ``total`` is the exact sum of all of them."""

    currency: str
    lines: tuple[LineQuote, ...]
    order_lines: tuple[QuoteLine, ...]
    total: Decimal
    units: int
    delivery_date: dt.date
    score: int = 0

    @property
    def configurations(self) -> dict[str, Configuration]:
        return {line.name: line.configuration for line in self.lines}

    def __str__(self) -> str:
        rows = []
        for line in self.lines:
            rows.append(f"{line.name} x{line.quantity}: {line.subtotal:>10}")
        rows += [f"{line.label}: {line.amount:>10}  {line.reason}" for line in self.order_lines]
        rows.append(f"total {self.currency} {self.total}, delivery {self.delivery_date}")
        return "\n".join(rows)


class Order:
    """An order of several lines of one compiled catalog, with rules across the lines.

    >>> import modcfg
    >>> cfg = modcfg.compile("windows")
    >>> order = modcfg.Order(cfg, [modcfg.OrderLine("kitchen", 2), modcfg.OrderLine("hall", 1)],
    ...                      rules=[modcfg.OrderRule(id="one-frame", same="frame")])
    >>> order.count() == sum(cfg.count(modcfg.Needs(require=[f"frame.{f}"])) ** 2
    ...                      for f in cfg.catalog.slots["frame"].modules)
    True
    """

    def __init__(
        self,
        cfg: Configurator,
        lines: Iterable[OrderLine],
        rules: Iterable[OrderRule] = (),
        *,
        time_limit: float | None = None,
    ) -> None:
        self.cfg = cfg
        self.lines = tuple(lines)
        self.rules = tuple(rules)
        #: Seconds compiling the order's product catalog may take (None: no limit): rules
        #: across the lines of a large catalog can make it a long compile.
        self.time_limit = time_limit
        #: What restoring an order saved on another catalog version changed (empty when
        #: nothing changed).
        self.migration: tuple[MigrationChange, ...] = ()
        self._check()

    def _check(self) -> None:
        if not self.lines:
            raise NeedsError("an order needs at least one line: add OrderLine(name, quantity)")
        if len(self.lines) > 64:
            raise NeedsError(f"an order has at most 64 lines, not {len(self.lines)}")
        names = [line.name for line in self.lines]
        for line in self.lines:
            if not isinstance(line.name, str) or not _LINE_NAME.fullmatch(line.name):
                raise NeedsError(
                    f"order line name {line.name!r} must be letters and digits with single "
                    "hyphens (kitchen, bedroom-2)"
                )
            if names.count(line.name) > 1:
                raise NeedsError(
                    f"order line '{line.name}' appears twice; give lines distinct names"
                )
            if isinstance(line.quantity, bool) or not 1 <= line.quantity <= 1_000_000:
                raise NeedsError(
                    f"order line '{line.name}': quantity {line.quantity!r} is not 1..1,000,000"
                )
            for slot in line.choices:
                if slot not in self.catalog.slots:
                    raise NeedsError(
                        f"order line '{line.name}': slot '{slot}' does not exist"
                        f"{did_you_mean(slot, self.catalog.slots)}"
                    )
        for rule in self.rules:
            for named in (rule.same, rule.distinct):
                if named is not None and named not in self.catalog.slots:
                    raise NeedsError(
                        f"order rule '{rule.id}': slot '{named}' does not exist"
                        f"{did_you_mean(named, self.catalog.slots)}"
                    )
            if rule.constraint is not None:
                for written in (rule.constraint, rule.when or "true"):
                    found = expression_problem(self.catalog, written)
                    if found:
                        raise NeedsError(f"order rule '{rule.id}': {found}")
        self._rule_data()  # (reads every rule: a text attribute summed over lines is refused)

    @property
    def catalog(self) -> Any:
        return self.cfg.catalog

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    def __repr__(self) -> str:
        lines = ", ".join(f"{line.name} x{line.quantity}" for line in self.lines)
        return f"<Order {self.catalog.name}: {lines}>"

    # -- the product catalog ----------------------------------------------------------------

    def _rule_data(self) -> list[dict[str, Any]]:
        """The order's rules as rules of the product catalog (file data)."""
        weights = {line.name: line.quantity for line in self.lines}
        out: list[dict[str, Any]] = []
        for rule in self.rules:
            head = {
                "id": f"{AUXILIARY}order{SEPARATOR}{rule.id}",
                "message": rule.message or rule.id,
            }
            if rule.constraint is not None:
                owner = f"order rule '{rule.id}'"
                data = {
                    **head,
                    "constraint": to_text(
                        spread(parse(rule.constraint), self.catalog, weights, owner)
                    ),
                }
                if rule.when is not None:
                    data["when"] = to_text(spread(parse(rule.when), self.catalog, weights, owner))
                out.append(data)
            elif rule.same is not None:
                first, *others = self.lines
                for other in others:
                    mine, theirs = (
                        line_slot(first.name, rule.same),
                        line_slot(other.name, rule.same),
                    )
                    text = " and ".join(
                        f"{mine}.{m} == {theirs}.{m}" for m in self.catalog.slots[rule.same].modules
                    )
                    out.append(
                        {**head, "id": f"{head['id']}{SEPARATOR}{other.name}", "constraint": text}
                    )
            else:
                assert rule.distinct is not None  # (the validator: one form)
                aux = f"{AUXILIARY}{rule.distinct}"
                for module in self.catalog.slots[rule.distinct].modules:
                    used = [
                        f"{line_slot(line.name, rule.distinct)}.{module}" for line in self.lines
                    ]
                    out.append(
                        {
                            **head,
                            "id": f"{head['id']}{SEPARATOR}{module}",
                            "requires": {"if": [f"{aux}.{module}"], "then": used},
                        }
                    )
                    for number, ref in enumerate(used):
                        out.append(
                            {
                                **head,
                                "id": f"{head['id']}{SEPARATOR}{module}{SEPARATOR}{number}",
                                "requires": {"if": [ref], "then": [f"{aux}.{module}"]},
                            }
                        )
        return out

    @cached_property
    def product(self) -> Configurator:
        """The compiled product catalog (one copy of the catalog per line)."""
        from .._configurator import Configurator

        lines = [(line.name, line.quantity) for line in self.lines]
        # one auxiliary slot per slot kept distinct: several rules on it keep the tightest
        most: dict[str, int] = {}
        for rule in self.rules:
            if rule.distinct is not None and rule.at_most is not None:
                most[rule.distinct] = min(rule.at_most, most.get(rule.distinct, rule.at_most))
        extra = {
            f"{AUXILIARY}{slot}": {
                "cardinality": {"min": 0, "max": at_most},
                "modules": {m: {} for m in self.catalog.slots[slot].modules},
            }
            for slot, at_most in most.items()
        }
        catalog = product_catalog(self.catalog, lines, self._rule_data(), extra)
        try:
            return Configurator(
                catalog, memory_limit=self.cfg.memory_limit, time_limit=self.time_limit
            )
        except TimeLimitExceeded as stopped:
            raise TimeLimitExceeded(
                f"compiling the order's {len(lines)} lines passed Order(time_limit="
                f"{self.time_limit:g}) s ({stopped}); raise it, or order fewer lines"
            ) from None

    def product_needs(self, needs: NeedsLike = None) -> Needs:
        """``needs`` for the whole order as needs of the product catalog."""
        base = needs if isinstance(needs, Needs) else Needs.from_data(needs or {})
        if base.quantity != 1:
            raise NeedsError(
                "an order's quantities are its lines' quantities; leave Needs.quantity at 1"
            )
        resolved = self.cfg.resolve(base)
        require: list[str] = []
        conditions: list[str] = []
        prefer: dict[str, int] = {}
        forbid = [f"{line_slot(line.name, ref)}" for line in self.lines for ref in resolved.forbid]
        for line in self.lines:
            one = {line.name: 1}
            require += [line_slot(line.name, ref) for ref in resolved.require]
            conditions += [
                to_text(spread(parse(t), self.catalog, one, "needs")) for t in resolved.conditions
            ]
            for text, weight in resolved.prefer.items():
                prefer[to_text(spread(parse(text), self.catalog, one, "needs"))] = weight
            for slot, choice in line.choices.items():
                product_slot = line_slot(line.name, slot)
                if isinstance(choice, str):
                    require.append(f"{product_slot}.{choice}")
                elif choice is None:
                    conditions.append(f"count({product_slot}) == 0")
                elif isinstance(choice, Mapping):
                    for module in self.catalog.slots[slot].modules:
                        conditions.append(
                            f"{product_slot}.{module} == {int(choice.get(module, 0))}"
                        )
                else:
                    raise NeedsError(
                        f"order line '{line.name}', slot '{slot}': {choice!r} is not a choice"
                    )
        data = base.model_dump(exclude_defaults=True, exclude={"purpose", "prefer"})
        data.update(require=require, forbid=forbid, conditions=conditions, prefer=prefer)
        return Needs.from_data(data)

    # -- queries ----------------------------------------------------------------------------

    def count(self, needs: NeedsLike = None, **options: Any) -> int:
        """The exact number of ways to complete the order's lines under its rules and needs."""
        return self.product.count(self.product_needs(needs), **options)

    def best(self, needs: NeedsLike = None, k: int = 10, **options: Any) -> list[OrderQuote]:
        """The ``k`` best completions of the order, cheapest total first, as order quotes."""
        product_needs = self.product_needs(needs)
        quotes = self.product.best(product_needs, k, **options)
        return [self.priced(self.split(q.configuration), needs, q.score) for q in quotes]

    def split(self, configuration: Mapping[str, Any]) -> dict[str, Configuration]:
        """A product configuration as one configuration per line."""
        out: dict[str, Configuration] = {}
        for line in self.lines:
            prefix = f"{line.name}{SEPARATOR}"
            choices = {
                slot[len(prefix) :]: choice
                for slot, choice in configuration.items()
                if slot.startswith(prefix)
            }
            out[line.name] = Configuration.validated(self.catalog, choices)
        return out

    def joined(self, configurations: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """Line configurations as one product configuration (auxiliary slots filled)."""
        joined: dict[str, Any] = {}
        for line in self.lines:
            for slot, choice in configurations[line.name].items():
                joined[line_slot(line.name, slot)] = (
                    dict(choice) if isinstance(choice, Mapping) else choice
                )
        for rule in self.rules:
            if rule.distinct is not None:
                used = {}
                for line in self.lines:
                    for module in _modules_of(configurations[line.name].get(rule.distinct)):
                        used[module] = 1
                joined[f"{AUXILIARY}{rule.distinct}"] = used
        return joined

    def completed(self) -> dict[str, Configuration]:
        """The lines' configurations when every line is completely chosen (NeedsError else)."""
        try:
            return {
                line.name: Configuration.validated(self.catalog, line.choices)
                for line in self.lines
            }
        except NeedsError as exc:
            raise NeedsError(f"the order is not complete: {exc}; use best() or session()") from None

    def quote(self, needs: NeedsLike = None) -> OrderQuote:
        """The quote of a completely chosen order (InfeasibleError when it breaks a rule)."""
        configurations = self.completed()
        product_needs = self.product_needs(needs)
        found = self.product.price(self.joined(configurations), product_needs)
        return self.priced(configurations, needs, found.score)

    def session(self, needs: NeedsLike = None) -> OrderSession:
        """An interactive session over the whole order: line by line, with no dead ends."""
        from ._session import OrderSession

        return OrderSession(self, needs)

    def bill_of_materials(self, needs: NeedsLike = None) -> BillOfMaterials:
        """The bill of materials of a completely chosen order (all lines together)."""
        configurations = self.completed()
        resolved = self.cfg.resolve(needs)
        days = max((s.lead_time_days for s in resolved.services), default=0)
        items = [(configurations[line.name], line.quantity) for line in self.lines]
        today = resolved.needs.today or dt.date.today()
        return bill_of_materials(
            self.catalog, items, today=today, stock=resolved.needs.stock, service_days=days
        )

    def priced(
        self, configurations: Mapping[str, Configuration], needs: NeedsLike = None, score: int = 0
    ) -> OrderQuote:
        """The quote of line configurations (line name -> configuration) known to be valid for
        this order; :meth:`quote` checks them first."""
        base = needs if isinstance(needs, Needs) else Needs.from_data(needs or {})
        line_quotes: list[LineQuote] = []
        for line in self.lines:
            plain = Needs(today=base.today, quantity=line.quantity).resolve(self.catalog)
            priced: Quote = quote(self.catalog, configurations[line.name], plain)
            goods = tuple(q for q in priced.lines if q.kind in _GOODS)
            subtotal = sum((q.amount for q in goods), Decimal(0))
            line_quotes.append(
                LineQuote(line.name, line.quantity, configurations[line.name], goods, subtotal)
            )
        goods_total = sum((line.subtotal for line in line_quotes), Decimal(0))
        whole = self.cfg.resolve(base.model_copy(update={"quantity": self.units}))
        extra = tuple(order_lines(self.catalog, goods_total, whole))
        items = [(configurations[line.name], line.quantity) for line in self.lines]
        today = base.today or dt.date.today()
        days = max((s.lead_time_days for s in whole.services), default=0)
        bom = bill_of_materials(
            self.catalog, items, today=today, stock=base.stock, service_days=days
        )
        return OrderQuote(
            currency=self.catalog.currency,
            lines=tuple(line_quotes),
            order_lines=extra,
            total=goods_total + sum((q.amount for q in extra), Decimal(0)),
            units=self.units,
            delivery_date=bom.delivery_date,
            score=score,
        )

    # -- saving -----------------------------------------------------------------------------

    def with_choices(self, choices: Mapping[str, Mapping[str, Any]]) -> Order:
        """A copy of this order whose lines take ``choices`` (line name -> configuration)."""
        lines = [
            OrderLine(line.name, line.quantity, choices.get(line.name, line.choices))
            for line in self.lines
        ]
        return Order(self.cfg, lines, self.rules)

    def to_json(self) -> str:
        """The order as JSON text (lines, choices, rules, catalog name and version)."""
        return json.dumps(
            {
                "format": "modcfg-order/1",
                "catalog": self.catalog.name,
                "version": self.catalog.version,
                "lines": [
                    {"name": line.name, "quantity": line.quantity, "choices": _plain(line.choices)}
                    for line in self.lines
                ],
                "rules": [rule.model_dump(exclude_defaults=True) for rule in self.rules],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, cfg: Configurator, text: str | bytes) -> Order:
        """Restore an order saved by :meth:`to_json`; one saved on another version of the
        catalog migrates line by line (see :attr:`migration`)."""
        from ._saving import order_from_json

        return order_from_json(cls, cfg, text)


def _modules_of(choice: Any) -> Sequence[str]:
    if choice is None:
        return ()
    if isinstance(choice, str):
        return (choice,)
    return [module for module, quantity in choice.items() if quantity]


def _plain(choices: Mapping[str, Any]) -> dict[str, Any]:
    return {slot: dict(c) if isinstance(c, Mapping) else c for slot, c in choices.items()}
