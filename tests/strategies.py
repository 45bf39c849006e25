"""Hypothesis strategies: random small catalogs and customer needs with brute-force answers.

- :func:`catalog_data` draws a catalog as plain data in the file format (what a YAML file holds);
  :func:`catalogs` validates it into a :class:`modcfg.Catalog`.
- :func:`needs` draws one customer's :class:`modcfg.Needs` for a catalog.
- :func:`cases` draws a :class:`Case`: the data, its catalog and needs (or ``None``), with a repr
  that shows the data, so a falsifying example can be pasted into a test.
- :func:`conditions` draws a boolean expression of the expression language over a catalog.

Every catalog has at most ``MAX_CONFIGURATIONS`` configurations before rules, so
``tests/oracle.py`` can enumerate them. Generated catalogs always pass catalog validation and
generated needs always resolve against their catalog; some needs admit no configuration.

Prices, amounts and service prices are multiples of 5 minor units, tier and frequency percentages
stay within +-25 %, and at most one tier line and one frequency line apply to a quote. That keeps
the promise of docs/semantics.md that the total never decreases when the unit price grows: two
percentage discounts rounded separately break it by a cent when unit prices differ by less than
5 minor units (G = 1.01 -> 0.21 but G = 1.02 -> 0.20 with two -40 % lines).

Generation is kept to few draws (a module is one integer), because every hypothesis draw costs
tens of microseconds and the property tests draw thousands of catalogs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from math import prod
from typing import Any

from hypothesis import strategies as st

import modcfg
from modcfg.model import catalog_from_data

__all__ = [
    "FREQUENCIES",
    "MAX_CONFIGURATIONS",
    "REGIONS",
    "RULE_MAKERS",
    "TODAY",
    "Case",
    "cases",
    "catalog_data",
    "catalogs",
    "choose_drawn",
    "conditions",
    "configuration_space",
    "contradictory_catalog_data",
    "examples",
    "needs",
    "options_of",
]

#: The reference date of every generated need (``Needs.today``).
TODAY = dt.date(2026, 1, 1)
#: Upper bound on the number of configurations of a generated catalog, before its rules.
MAX_CONFIGURATIONS = 2_000
REGIONS = ("EU", "US", "UK")
FREQUENCIES = ("one-off", "repeat", "subscription")
COLORS = ("red", "blue", "green")
# Ids with inner hyphens and underscores on purpose: engines must not mangle them.
SLOT_IDS = ("frame", "glass", "extra-kit", "grade", "finish_2", "trim")
MODULE_IDS = ("m0", "m1", "m-2", "m3", "m_4")
SERVICES = (
    ("delivery", "delivery"),
    ("installation", "installation"),
    ("training-day", "training"),
)
# Currencies and their minor units: mostly 2 decimals, sometimes none.
CURRENCIES = (("EUR", 2), ("EUR", 2), ("USD", 2), ("JPY", 0))


def examples(n: int) -> int:
    """Hypothesis examples for a costly property test: ``n`` in CI (``CI`` set), where every
    property runs in full, and a quarter (at least 25) in a local ``make test``, so the
    default suite keeps within its time."""
    return n if os.environ.get("CI") else max(25, n // 4)


PAY_NOW_DISCOUNTS = ("2", "3", "0.5", "5")
APRS = ("9.9", "4.5", "12", "19.99")
INSTALMENTS = (12, 3, 6, 24)


# -- drawing helpers ------------------------------------------------------------------------


def _pick(draw: st.DrawFn, items: tuple[Any, ...] | list[Any]) -> Any:
    """One of ``items`` (shrinks toward the first)."""
    return items[draw(st.integers(0, len(items) - 1))]


def _chance(draw: st.DrawFn, numerator: int, denominator: int) -> bool:
    """True with probability numerator/denominator (shrinks toward False)."""
    return draw(st.integers(0, denominator - 1)) >= denominator - numerator


def _some(
    draw: st.DrawFn, items: tuple[Any, ...] | list[Any], max_size: int, min_size: int = 0
) -> list[Any]:
    """Up to ``max_size`` distinct items."""
    indices = st.integers(0, len(items) - 1)
    chosen = draw(st.lists(indices, min_size=min_size, max_size=max_size, unique=True))
    return [items[index] for index in chosen]


def _digits(code: int, radices: tuple[int, ...]) -> list[int]:
    digits = []
    for radix in radices:
        code, digit = divmod(code, radix)
        digits.append(digit)
    return digits


def _money(steps: int, decimals: int) -> str:
    """``steps`` x 5 minor units as a money string: ``_money(25, 2) == "1.25"``."""
    return f"{Decimal(steps * 5).scaleb(-decimals):f}"


def _percent(tenths: int) -> str:
    """A percentage with at most one decimal: ``_percent(-75) == "-7.5"``."""
    return f"{Decimal(tenths).scaleb(-1).normalize():f}"


def _regions(mask: int) -> list[str]:
    return [region for bit, region in enumerate(REGIONS) if mask >> bit & 1]


# -- sizes ----------------------------------------------------------------------------------


def _quantity_vectors(minimum: int, maximum: int, max_quantities: list[int]) -> int:
    """How many quantity vectors a multi-select slot admits (units between min and max)."""
    ways = {0: 1}
    for limit in max_quantities:
        following: dict[int, int] = {}
        for units, number in ways.items():
            for quantity in range(limit + 1):
                following[units + quantity] = following.get(units + quantity, 0) + number
        ways = following
    return sum(number for units, number in ways.items() if minimum <= units <= maximum)


def _choices(kind: str, minimum: int, maximum: int, max_quantities: list[int]) -> int:
    if kind == "many":
        return _quantity_vectors(minimum, maximum, max_quantities)
    return len(max_quantities) + (kind == "optional")


def configuration_space(catalog: modcfg.Catalog) -> int:
    """The number of configurations of ``catalog`` when its rules are ignored."""
    return prod(
        _choices(
            slot.cardinality.kind,
            slot.cardinality.min,
            slot.cardinality.max,
            [module.max_quantity for module in slot.modules.values()],
        )
        for slot in catalog.slots.values()
    )


# -- expressions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    """What expressions over one catalog may name, with the largest value of each term."""

    catalog: modcfg.Catalog
    refs: tuple[str, ...]
    terms: tuple[tuple[str, int], ...]
    total_w: int | None
    text_slots: tuple[str, ...]
    list_slots: tuple[str, ...]

    @classmethod
    def of(cls, catalog: modcfg.Catalog) -> _Vocabulary:
        terms: list[tuple[str, int]] = []
        total_w: int | None = None
        text_slots, list_slots = [], []
        for slot in catalog.slots.values():
            units = slot.cardinality.max
            attributes = [module.attributes for module in slot.modules.values()]
            for name in ("w", "lead_time_days"):
                values = [int(a[name]) for a in attributes if isinstance(a.get(name), Decimal)]
                if values:
                    terms.append((f"{slot.id}.{name}", max(values) * units))
                    if name == "w":
                        total_w = (total_w or 0) + max(values) * units
            terms.append((f"count({slot.id})", units))
            terms.extend(
                (f"{slot.id}.{module.id}", module.max_quantity) for module in slot.modules.values()
            )
            if slot.single and any(isinstance(a.get("color"), str) for a in attributes):
                text_slots.append(slot.id)
            if slot.single and any(isinstance(a.get("regions"), tuple) for a in attributes):
                list_slots.append(slot.id)
        if total_w is not None:
            terms.append(("total(w)", total_w))
        return cls(
            catalog,
            tuple(catalog.module_refs()),
            tuple(terms),
            total_w,
            tuple(text_slots),
            tuple(list_slots),
        )


def _atom(draw: st.DrawFn, words: _Vocabulary) -> str:
    """One comparison, membership test or module reference."""
    kinds = ["module", "compare", "compare", "sum", "terms"]
    kinds += ["total"] if words.total_w is not None else []
    kinds += ["text"] if words.text_slots else []
    kinds += ["list"] if words.list_slots else []
    kind = _pick(draw, kinds)
    if kind == "module":
        ref = _pick(draw, words.refs)
        return f"not {ref}" if _chance(draw, 1, 3) else ref
    if kind == "total":
        return f"total(w) <= {draw(st.integers(0, words.total_w or 0))}"
    if kind == "compare":
        term, bound = _pick(draw, words.terms)
        operator = _pick(draw, ("<=", ">=", "<", ">", "==", "!="))
        if _chance(draw, 1, 4):
            return f"2 * {term} {operator} {draw(st.integers(0, 2 * bound))}"
        return f"{term} {operator} {draw(st.integers(0, bound))}"
    if kind in ("sum", "terms"):
        (left, left_bound), (right, right_bound) = (
            _pick(draw, words.terms),
            _pick(draw, words.terms),
        )
        if kind == "terms":
            return f"{left} {_pick(draw, ('<=', '>=', '==', '!='))} {right}"
        if _chance(draw, 1, 2):
            return f"{left} - {right} >= {draw(st.integers(-right_bound, left_bound))}"
        return f"{left} + {right} <= {draw(st.integers(0, left_bound + right_bound))}"
    if kind == "text":
        slot = _pick(draw, words.text_slots)
        colors = _some(draw, COLORS, 2, min_size=1)
        if len(colors) == 2:
            return f'{slot}.color in ("{colors[0]}", "{colors[1]}")'
        return f'{slot}.color {_pick(draw, ("==", "!="))} "{colors[0]}"'
    return f'"{_pick(draw, REGIONS)}" in {_pick(draw, words.list_slots)}.regions'


def _condition(draw: st.DrawFn, words: _Vocabulary) -> str:
    first = _atom(draw, words)
    shape = _pick(draw, ("atom", "atom", "not", "and", "or", "->"))
    if shape == "atom":
        return first
    if shape == "not":
        return f"not ({first})"
    return f"({first}) {shape} ({_atom(draw, words)})"


def implications(catalog: modcfg.Catalog) -> st.SearchStrategy[str]:
    """``a.x -> b.y`` or ``a.x -> not b.y`` between two modules of ``catalog``: over two
    slots, a condition that forbids one combination of theirs (or several, in larger slots)."""
    refs = [f"{slot}.{module}" for slot, found in catalog.slots.items() for module in found.modules]
    return st.builds(
        "{} -> {}{}".format,
        st.sampled_from(refs),
        st.sampled_from(["", "not "]),
        st.sampled_from(refs),
    )


@st.composite
def conditions(draw: st.DrawFn, catalog: modcfg.Catalog) -> str:
    """A boolean expression over ``catalog``: an atom, its negation, or two atoms combined."""
    return _condition(draw, _Vocabulary.of(catalog))


def _propositional(draw: st.DrawFn, words: _Vocabulary) -> str:
    """A formula over module references only (``formula:`` rules)."""
    if len(words.refs) < 2:
        return f"not {words.refs[0]}"
    refs = _some(draw, words.refs, 3, min_size=2)
    shape = _pick(draw, ("->", "or", "not-and", "at-most"))
    if shape == "->":
        return f"{refs[0]} -> ({' or '.join(refs[1:])})"
    if shape == "or":
        return " or ".join(refs)
    if shape == "not-and":
        return f"not ({' and '.join(refs)})"
    return f"{' + '.join(refs)} <= {len(refs) - 1}"


# -- rules ----------------------------------------------------------------------------------


def _slot_of(ref: str) -> str:
    return ref.split(".")[0]


def _spans_slots(catalog: modcfg.Catalog, refs: list[str]) -> bool:
    """False when every reference names a module of one single-choice slot."""
    slots = {_slot_of(ref) for ref in refs}
    return len(slots) > 1 or not catalog.slots[next(iter(slots))].single


def _requires(draw: st.DrawFn, words: _Vocabulary) -> dict[str, Any] | None:
    catalog, refs = words.catalog, words.refs
    first = _pick(draw, refs)
    premises = [first]
    single = catalog.slots[_slot_of(first)].single
    companions = [
        ref for ref in refs if ref != first and not (single and _slot_of(ref) == _slot_of(first))
    ]
    if companions and _chance(draw, 1, 3):
        premises.append(_pick(draw, companions))
    candidates = [ref for ref in refs if ref not in premises]
    if not candidates:
        return None
    then = _some(draw, candidates, 3, min_size=1)
    # `then` modules all in the single slot of an `if` module could never hold (the validator
    # rejects it); in a multi-select slot "m0 needs m1 alongside" is fine.
    then_slots = {_slot_of(ref) for ref in then}
    single_premises = {_slot_of(r) for r in premises if catalog.slots[_slot_of(r)].single}
    if len(then_slots) == 1 and then_slots <= single_premises:
        others = [ref for ref in candidates if _slot_of(ref) not in then_slots]
        if not others:
            return None
        then.append(_pick(draw, others))
    return {"requires": {"if": premises[0] if len(premises) == 1 else premises, "then": then}}


def _excludes(draw: st.DrawFn, words: _Vocabulary) -> dict[str, Any] | None:
    if len(words.refs) < 2:
        return None
    chosen = _some(draw, words.refs, 3, min_size=2)
    if not _spans_slots(words.catalog, chosen):
        others = [ref for ref in words.refs if _slot_of(ref) != _slot_of(chosen[0])]
        if not others:
            return None
        chosen[-1] = _pick(draw, others)
    return {"excludes": chosen}


def _table(draw: st.DrawFn, words: _Vocabulary) -> dict[str, Any] | None:
    singles = [slot for slot in words.catalog.slots.values() if slot.single]
    if not singles:
        return None
    slots = _some(draw, singles, 3, min_size=min(2, len(singles)))
    options = [
        [*slot.modules, "*", *([None] if slot.cardinality.min == 0 else [])] for slot in slots
    ]
    rows = [[_pick(draw, values) for values in options] for _ in range(draw(st.integers(1, 4)))]
    kind = "deny" if _chance(draw, 1, 2) else "allow"
    return {"table": {"slots": [slot.id for slot in slots], kind: rows}}


def _constraint(draw: st.DrawFn, words: _Vocabulary) -> dict[str, Any]:
    form = _pick(draw, ("constraint", "constraint", "when", "formula"))
    if form == "formula":
        return {"formula": _propositional(draw, words)}
    rule = {"constraint": _condition(draw, words)}
    if form == "when":
        rule["when"] = _atom(draw, words)
    return rule


def _at_most_one_of(draw: st.DrawFn, words: _Vocabulary) -> dict[str, Any] | None:
    if len(words.refs) < 2:
        return None
    return {"at_most_one_of": _some(draw, words.refs, 4, min_size=2)}


#: Rule kind -> how to draw a rule of that kind (None when the catalog cannot have one).
RULE_MAKERS: dict[str, Callable[[st.DrawFn, _Vocabulary], dict[str, Any] | None]] = {
    "requires": _requires,
    "excludes": _excludes,
    "table": _table,
    "constraint": _constraint,
    "at_most_one_of": _at_most_one_of,
}


def _makers(rule_kinds: Sequence[str] | None) -> list[Callable[..., dict[str, Any] | None]]:
    return [RULE_MAKERS[kind] for kind in rule_kinds or RULE_MAKERS]


# -- catalogs -------------------------------------------------------------------------------

# A module is one integer: its digits (least significant first) are the price in steps of 5
# minor units (> 300: free), w (> 9: none), lead_time_days (< 16: none), color (< 3: none),
# regions (< 16: none, else a mask, possibly empty), a label, max_quantity 2 (digit 2).
_MODULE_RADICES = (401, 13, 32, 6, 24, 2, 3)
_MODULE_CODES = st.integers(0, prod(_MODULE_RADICES) - 1)


def _module(code: int, decimals: int, *, many: bool) -> dict[str, Any]:
    """Decode one module (code 0: a free module with ``w: 0``)."""
    price, w, lead, color, regions, labelled, quantity = _digits(code, _MODULE_RADICES)
    module: dict[str, Any] = {"price": _money(price if price <= 300 else 0, decimals)}
    attributes: dict[str, Any] = {}
    if w <= 9:
        attributes["w"] = w
    if lead >= 16:
        attributes["lead_time_days"] = lead - 16
    if color >= 3:
        attributes["color"] = COLORS[color - 3]
    if regions >= 16:
        attributes["regions"] = _regions(regions - 16)
    if attributes:
        module["attributes"] = attributes
    if labelled:
        module["label"] = "A module"
    if many and quantity == 2:
        module["max_quantity"] = 2
    return module


def _max_quantity(code: int, kind: str) -> int:
    return int(_module(code, 0, many=kind == "many").get("max_quantity", 1))


def _slots(draw: st.DrawFn, decimals: int, max_configurations: int) -> dict[str, Any]:
    shapes: list[tuple[str, int, int, list[int]]] = []
    for _ in range(draw(st.integers(1, len(SLOT_IDS)))):
        kind = _pick(draw, ("exactly_one", "exactly_one", "optional", "many"))
        codes = [draw(_MODULE_CODES) for _ in range(draw(st.integers(1, len(MODULE_IDS))))]
        minimum, maximum = (_pick(draw, (0, 1)), _pick(draw, (2, 3))) if kind == "many" else (0, 1)
        shapes.append((kind, int(kind == "exactly_one") or minimum, maximum, codes))

    def sizes() -> list[int]:
        return [
            _choices(kind, low, high, [_max_quantity(code, kind) for code in codes])
            for kind, low, high, codes in shapes
        ]

    # Drop modules from the widest slot (the last slot when none has two) until the catalog
    # is small enough to enumerate.
    while prod(space := sizes()) > max_configurations:
        shrinkable = [index for index, shape in enumerate(shapes) if len(shape[3]) > 1]
        if shrinkable:
            shapes[max(shrinkable, key=space.__getitem__)][3].pop()
        elif len(shapes) > 1:
            shapes.pop()
        else:
            break
    slots: dict[str, Any] = {}
    for slot_id, (kind, minimum, maximum, codes) in zip(SLOT_IDS, shapes, strict=False):
        many = kind == "many"
        modules = {
            module_id: _module(code, decimals, many=many)
            for module_id, code in zip(MODULE_IDS, codes, strict=False)
        }
        slot: dict[str, Any] = {"modules": modules}
        if many:
            slot["cardinality"] = {"min": minimum, "max": maximum}
        elif kind == "optional" or _chance(draw, 1, 2):
            slot["cardinality"] = kind  # exactly_one is also the default
        slots[slot_id] = slot
    return slots


def _price_rules(draw: st.DrawFn, words: _Vocabulary, decimals: int) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 3))):
        steps = draw(st.integers(1, 200))
        rule: dict[str, Any] = {
            "amount": _money(-steps // 3 if _chance(draw, 1, 3) else steps, decimals)
        }
        if len(words.refs) >= 2 and _chance(draw, 1, 3):
            bundle = _some(draw, words.refs, 3, min_size=2)
            if _spans_slots(words.catalog, bundle):
                rule["bundle"] = bundle
        if "bundle" not in rule:
            rule["when"] = _condition(draw, words)
        rules.append(rule)
    if _chance(draw, 1, 2):
        starts = draw(st.lists(st.integers(2, 50), min_size=1, max_size=3, unique=True))
        rules.append(
            {
                "tiers": [
                    {"min_quantity": n, "percent": _percent(draw(st.integers(-250, 250)))}
                    for n in starts
                ]
            }
        )
    # Frequency rules list disjoint frequencies, so at most one applies to a quote.
    unlisted = list(FREQUENCIES)
    for _ in range(draw(st.integers(0, 2))):
        listed = _some(draw, unlisted, 3, min_size=1) if unlisted else []
        if listed:
            unlisted = [frequency for frequency in unlisted if frequency not in listed]
            rules.append({"frequency": listed, "percent": _percent(draw(st.integers(-250, 250)))})
    if len(rules) > 1 and _chance(draw, 1, 2):
        rules.reverse()
    for rule in rules:
        if _chance(draw, 1, 4):
            rule["message"] = "A price rule"
    return [{"id": f"price-{number}", **rule} for number, rule in enumerate(rules)]


# A service is one integer: price steps, per unit, mandatory, regions (> 6: none, else a
# non-empty mask), lead_time_days.
_SERVICE_RADICES = (201, 2, 2, 12, 6)
_SERVICE_CODES = st.integers(0, prod(_SERVICE_RADICES) - 1)


def _services(draw: st.DrawFn, decimals: int) -> dict[str, Any]:
    services: dict[str, Any] = {}
    for service_id, kind in _some(draw, SERVICES, 3):
        price, per_unit, mandatory, regions, lead = _digits(draw(_SERVICE_CODES), _SERVICE_RADICES)
        service: dict[str, Any] = {
            "kind": kind,
            "price": _money(price, decimals),
            "per": "unit" if per_unit else "order",
        }
        if mandatory:
            service["mandatory"] = True
        if regions <= 6:
            service["regions"] = _regions(regions + 1)
        if lead:
            service["lead_time_days"] = lead
        services[service_id] = service
    return services


_TERM_RADICES = (2, 4, 2, 4, 4, 2, 4)
_TERM_CODES = st.integers(0, prod(_TERM_RADICES) - 1)


def _payment_terms(draw: st.DrawFn) -> dict[str, Any]:
    """Pay now with a cash discount, instalments with an APR, instalments free of interest."""
    now, discount, financed, count, apr, free, free_count = _digits(
        draw(_TERM_CODES), _TERM_RADICES
    )
    terms: dict[str, Any] = {}
    if now:
        terms["pay-now"] = {"discount_percent": PAY_NOW_DISCOUNTS[discount]}
    if financed:
        number = INSTALMENTS[count]
        terms[f"instalments-{number}"] = {"instalments": number, "apr": APRS[apr]}
    if free:
        number = INSTALMENTS[free_count]
        terms[f"instalments-{number}-free"] = {"instalments": number, "apr": "0"}
    return terms


def _preferences(draw: st.DrawFn, words: _Vocabulary) -> dict[str, int]:
    prefer: dict[str, int] = {}
    for _ in range(draw(st.integers(0, 3))):
        key = _pick(draw, words.refs) if _chance(draw, 1, 2) else _condition(draw, words)
        prefer[key] = draw(st.integers(-3, 3))
    return prefer


def _purposes(draw: st.DrawFn, words: _Vocabulary) -> dict[str, Any]:
    if not _chance(draw, 1, 3):
        return {}
    require = _some(draw, words.refs, 1)
    forbid = [ref for ref in _some(draw, words.refs, 1) if ref not in require]
    purpose: dict[str, Any] = {"label": "A purpose", "require": require, "forbid": forbid}
    purpose["conditions"] = [_condition(draw, words)] if _chance(draw, 1, 3) else []
    purpose["prefer"] = _preferences(draw, words)
    return {"everyday": purpose}


def _customization(draw: st.DrawFn, data: dict[str, Any], catalog: modcfg.Catalog) -> None:
    """Half the time: slot kinds and degree weights, a standard configuration and, a third of
    those times, a price ladder (amount steps, multiples of 5 minor units, so the totals keep
    the promise above; percent steps are drawn by the pricing tests alone)."""
    if not _chance(draw, 1, 2):
        return
    from tests import oracle  # (the slots' local choices)

    decimals = catalog.decimals
    standard: dict[str, Any] = {}
    for slot_id, slot in catalog.slots.items():
        kind, weight = _digits(draw(st.integers(0, 11)), (3, 4))
        data["slots"][slot_id]["kind"] = ("functional", "cosmetic", "adaptive")[kind]
        if weight != 1:
            data["slots"][slot_id]["degree_weight"] = weight
        choice = _pick(draw, oracle.slot_choices(slot))
        standard[slot_id] = dict(choice) if isinstance(choice, Mapping) else choice
    data["standard"] = standard
    if "purposes" in data and _chance(draw, 1, 2):
        data["purposes"]["everyday"]["standard"] = {
            slot_id: (dict(c) if isinstance(c, Mapping) else c)
            for slot_id, slot in catalog.slots.items()
            for c in [_pick(draw, oracle.slot_choices(slot))]
        }
    if _chance(draw, 1, 3):
        starts = draw(st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True))
        steps = [
            {"min_degree": start, "amount": _money(draw(st.integers(-20, 100)), decimals)}
            for start in starts
        ]
        data.setdefault("prices", []).append({"id": "ladder", "ladder": steps})


@st.composite
def catalog_data(
    draw: st.DrawFn,
    max_configurations: int = MAX_CONFIGURATIONS,
    *,
    independent: bool = False,
    rule_kinds: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A random small catalog as plain data (``catalog_from_data`` validates it).

    Every rule kind, all three price-rule forms, services and payment terms appear.
    ``max_configurations`` (at least 3) bounds the configurations before rules.
    ``independent``: no rule and no conditional price rule, so nothing ties the slots (order
    price rules, services, payment terms and purposes still appear). ``rule_kinds``: draw
    rules of these kinds only (default: every kind of ``RULE_MAKERS``).
    """
    currency, decimals = _pick(draw, CURRENCIES)
    data: dict[str, Any] = {
        "catalog": "random",
        "currency": currency,
        "slots": _slots(draw, decimals, max_configurations),
    }
    # Rules and expressions are drawn against the validated slots.
    words = _Vocabulary.of(catalog_from_data(data))
    makers = _makers(rule_kinds)
    rules = []
    for _ in range(0 if independent else draw(st.integers(0, 4))):
        rule = _pick(draw, makers)(draw, words)
        if rule is not None:
            if _chance(draw, 1, 4):
                rule["message"] = "A rule"
            rules.append({"id": f"rule-{len(rules)}", **rule})
    parts = {
        "rules": rules,
        "prices": [
            rule
            for rule in _price_rules(draw, words, decimals)
            if not (independent and "amount" in rule)
        ],
        "services": _services(draw, decimals),
        "payment_terms": _payment_terms(draw),
        "purposes": _purposes(draw, words),
    }
    data.update({key: value for key, value in parts.items() if value})
    if _chance(draw, 1, 3):
        production(draw, data)
    _customization(draw, data, catalog_from_data(data))
    return data


PART_IDS = ("p0", "p1", "p2", "p3")


def production(draw: st.DrawFn, data: dict[str, Any]) -> None:
    """Give the catalog stages, parts and stock, and some modules a bill of materials."""
    stages = {f"s{i}": {"days": draw(st.integers(0, 3))} for i in range(draw(st.integers(0, 3)))}
    parts: dict[str, Any] = {}
    for part_id in PART_IDS[: draw(st.integers(1, len(PART_IDS)))]:
        part: dict[str, Any] = {
            "lead_time_days": draw(st.integers(0, 12)),
            "stock": draw(st.integers(0, 40)),
        }
        if stages and _chance(draw, 2, 3):
            part["stage"] = _pick(draw, list(stages))
        if _chance(draw, 1, 2):
            part["kind"] = "differentiated"
        parts[part_id] = part
    for slot in data["slots"].values():
        for module in slot["modules"].values():
            if _chance(draw, 1, 2):
                used = _some(draw, list(parts), 2)
                module["parts"] = {part: draw(st.integers(1, 3)) for part in used}
    data["parts"] = parts
    if stages:
        data["stages"] = stages


def catalogs(
    max_configurations: int = MAX_CONFIGURATIONS,
    *,
    independent: bool = False,
    rule_kinds: Sequence[str] | None = None,
) -> st.SearchStrategy[modcfg.Catalog]:
    """A random small catalog, validated (the options of :func:`catalog_data`)."""
    drawn = catalog_data(max_configurations, independent=independent, rule_kinds=rule_kinds)
    return drawn.map(catalog_from_data)


@st.composite
def contradictory_catalog_data(
    draw: st.DrawFn, max_configurations: int = 24, max_rules: int = 12
) -> dict[str, Any]:
    """A random small catalog (as data) whose rules most often leave no configuration.

    Rules are added to a :func:`catalog_data` catalog until brute force finds no valid
    configuration or ``max_rules`` are there; callers ``assume`` the result is empty.
    """
    from tests import oracle  # (brute force decides when to stop adding rules)

    data = draw(catalog_data(max_configurations))
    words = _Vocabulary.of(catalog_from_data(data))
    rules = list(data.get("rules", []))
    makers = _makers(None)
    while len(rules) < max_rules and oracle.count(catalog_from_data({**data, "rules": rules})):
        rule = _pick(draw, makers)(draw, words)
        if rule is not None:
            if _chance(draw, 1, 2):
                rule["message"] = f"Message of rule {len(rules)}"
            rules.append({"id": f"rule-{len(rules)}", **rule})
    return {**data, "rules": rules}


# -- needs ----------------------------------------------------------------------------------


def _budget_scale(catalog: modcfg.Catalog, quantity: int) -> Decimal:
    """A rough upper end of the totals of ``catalog`` at ``quantity`` units."""
    unit = sum(
        (max(m.price for m in slot.modules.values()) * slot.cardinality.max)
        for slot in catalog.slots.values()
    )
    unit += sum(
        (rule.amount for rule in catalog.prices if rule.amount is not None and rule.amount > 0),
        Decimal(0),
    )
    services = sum((service.price for service in catalog.services.values()), Decimal(0))
    return (unit + services) * quantity


def _needs(draw: st.DrawFn, catalog: modcfg.Catalog) -> modcfg.Needs:
    words = _Vocabulary.of(catalog)
    refs = words.refs
    purpose = None
    purpose_require: tuple[str, ...] = ()
    purpose_forbid: tuple[str, ...] = ()
    if catalog.purposes and _chance(draw, 1, 2):
        purpose = _pick(draw, list(catalog.purposes))
        purpose_require = catalog.purposes[purpose].require
        purpose_forbid = catalog.purposes[purpose].forbid
    allowed = [ref for ref in refs if ref not in purpose_forbid]
    require = _some(draw, allowed, 2) if allowed and _chance(draw, 1, 2) else []
    allowed = [ref for ref in refs if ref not in require and ref not in purpose_require]
    forbid = _some(draw, allowed, 2) if allowed and _chance(draw, 1, 2) else []
    region = _pick(draw, REGIONS) if _chance(draw, 1, 2) else None
    offered = [
        service_id
        for service_id, service in catalog.services.items()
        if region is None or not service.regions or region in service.regions
    ]
    quantity = draw(st.integers(1, 60))
    budget = None
    if _chance(draw, 1, 3):
        share = Decimal(draw(st.integers(10, 120))) / 100
        minor = Decimal(1).scaleb(-catalog.decimals)
        budget = str((_budget_scale(catalog, quantity) * share).quantize(minor))
    deliver_by = TODAY + dt.timedelta(draw(st.integers(0, 20))) if _chance(draw, 1, 3) else None
    return modcfg.Needs(
        require=require,
        forbid=forbid,
        conditions=[_condition(draw, words) for _ in range(_pick(draw, (0, 0, 1, 1, 2)))],
        region=region,
        deliver_by=deliver_by,
        today=TODAY,
        purpose=purpose,
        quantity=quantity,
        budget=budget,
        payment=_pick(draw, [None, *catalog.payment_terms]),
        frequency=_pick(draw, FREQUENCIES),
        services=_some(draw, offered, 2) if offered else [],
        prefer=_preferences(draw, words),
        stock={part: draw(st.integers(0, 40)) for part in catalog.parts if _chance(draw, 1, 3)},
        degree=_degree_band(draw, catalog, purpose),
    )


def _degree_band(
    draw: st.DrawFn, catalog: modcfg.Catalog, purpose: str | None
) -> dict[str, int] | None:
    """A band of degrees of customization, a third of the times a standard exists."""
    has_standard = catalog.standard is not None or (
        purpose is not None and catalog.purposes[purpose].standard is not None
    )
    if not has_standard or not _chance(draw, 1, 3):
        return None
    low, width = _digits(draw(st.integers(0, 19)), (4, 5))
    return {"min": low} if width == 4 else {"min": low, "max": low + width}


@st.composite
def needs(draw: st.DrawFn, catalog: modcfg.Catalog) -> modcfg.Needs:
    """One customer's needs for ``catalog`` in every dimension; they always resolve.

    require/forbid, conditions, region, deliver_by (``today`` is :data:`TODAY`), quantity
    1..60, budget, payment, frequency, services, purpose and weighted preferences.
    """
    return _needs(draw, catalog)


@dataclass(frozen=True)
class Case:
    """A generated catalog (as data and validated) and needs for it (``None``: no needs)."""

    data: dict[str, Any]
    catalog: modcfg.Catalog
    needs: modcfg.Needs | None

    def __repr__(self) -> str:
        needs = None if self.needs is None else self.needs.model_dump(exclude_defaults=True)
        return f"Case(data={json.dumps(self.data)}, needs={needs!r})"


@st.composite
def cases(
    draw: st.DrawFn,
    max_configurations: int = MAX_CONFIGURATIONS,
    *,
    independent: bool = False,
    rule_kinds: Sequence[str] | None = None,
) -> Case:
    """A random catalog and, three times in four, one customer's needs for it
    (``independent``, ``rule_kinds``: see :func:`catalog_data`)."""
    data = draw(catalog_data(max_configurations, independent=independent, rule_kinds=rule_kinds))
    catalog = catalog_from_data(data)
    return Case(data, catalog, None if _chance(draw, 1, 4) else _needs(draw, catalog))


@st.composite
def hub_cases(draw: st.DrawFn) -> Case:
    """A catalog shaped like a feature model's core: a few *hub* slots tied together, and leaf
    slots each tied by a rule to one or two hub slots (so the decomposition has a hub bag with
    many children whose separators are small), with needs three times in four."""
    hubs = draw(st.integers(3, 4))
    leaves = draw(st.integers(3, 7))
    slots: dict[str, Any] = {}
    for i in range(hubs + leaves):
        name = f"h{i}" if i < hubs else f"l{i - hubs}"
        modules = draw(st.integers(2, 3 if i < hubs else 2))
        slots[name] = {
            "modules": {
                f"m{m}": {"price": _money(draw(st.integers(0, 9)), 2)} for m in range(modules)
            }
        }
    rules: list[dict[str, Any]] = []
    for i in range(hubs):  # a ring of exclusions ties the hub into one bag
        rules.append({"id": f"hub-{i}", "excludes": [f"h{i}.m0", f"h{(i + 1) % hubs}.m1"]})
    for leaf in range(leaves):
        tied = sorted(draw(st.sets(st.integers(0, hubs - 1), min_size=1, max_size=2)))
        for j, hub in enumerate(tied):
            module = draw(st.integers(0, 1))
            if draw(st.booleans()):
                rule: dict[str, Any] = {"excludes": [f"l{leaf}.m{module}", f"h{hub}.m{j}"]}
            else:
                rule = {"requires": {"if": f"l{leaf}.m{module}", "then": [f"h{hub}.m{j}"]}}
            rules.append({"id": f"leaf-{leaf}-{hub}", **rule})
    data = {"catalog": "hub", "currency": "EUR", "slots": slots, "rules": rules}
    catalog = catalog_from_data(data)
    return Case(data, catalog, None if _chance(draw, 1, 4) else _needs(draw, catalog))


def choose_drawn(
    session: modcfg.Session, catalog: modcfg.Catalog, data: st.DataObject, times: int
) -> None:
    """Make up to ``times`` choices in ``session``, each drawn by ``data`` among the modules of
    single slots its state shows available (a multi-select module is available when some
    quantity of it is: those are left out)."""
    for _ in range(times):
        options = [
            (slot, module)
            for slot, module, option in options_of(session.state())
            if option.status == "available" and catalog.slots[slot].single
        ]
        if options:
            session.choose(*data.draw(st.sampled_from(options)))


def options_of(state: modcfg.SessionState) -> list[tuple[str, str | None, modcfg.OptionState]]:
    """Every option a session state shows: its slot, its module (None: the slot left empty)
    and its state."""
    return [(slot, module, option) for slot in state for module, option in state[slot].items()]


@st.composite
def graphs(draw: st.DrawFn, max_nodes: int = 24) -> dict[int, set[int]]:
    """A random undirected graph as each node's neighbour set: nodes ``0..n-1``, sometimes
    disconnected, sparse or dense (a constraint graph's cliques are drawn as well as edges)."""
    n = draw(st.integers(1, max_nodes))
    graph: dict[int, set[int]] = {node: set() for node in range(n)}
    density = draw(st.sampled_from((1, 2, 4, 8)))
    for _ in range(draw(st.integers(0, density * n))):
        size = draw(st.integers(min(2, n), min(4, n)))
        clique = draw(st.lists(st.integers(0, n - 1), min_size=size, max_size=size, unique=True))
        for a in clique:
            graph[a].update(b for b in clique if b != a)
    return graph
