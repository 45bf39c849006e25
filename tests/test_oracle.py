"""The brute-force oracle (tests/oracle.py) against hand-computed answers, and the strategies
(tests/strategies.py) against their promises, so the engine property tests can trust both."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings

import modcfg
from modcfg import Configuration, Needs, Quantities
from modcfg.model import catalog_from_data

from . import oracle, strategies

TODAY = dt.date(2026, 1, 1)


def make(slots: dict[str, Any], **parts: Any) -> modcfg.Catalog:
    return catalog_from_data({"catalog": "test", "slots": slots, **parts})


WINDOW = {
    "frame": {"modules": {"pvc": {"price": "60.00"}, "oak": {"price": "120.00"}}},
    "glass": {"modules": {"double": {"price": "80.00"}, "triple": {"price": "140.00"}}},
}


# -- configurations and rules ---------------------------------------------------------------


def test_windows_has_1800_configurations() -> None:
    windows = modcfg.load_catalog("windows")
    assert oracle.count(windows) == 1800
    assert oracle.cheapest(windows) == Decimal("100.00")  # pvc + float + g1 + plain


def test_windows_delivery_date_keeps_fast_frames() -> None:
    # Frames ready within 7 days: pvc (5) and pine (7); 2 x 10 x 3 x 12.
    needs = Needs(deliver_by=TODAY + dt.timedelta(days=7), today=TODAY)
    assert oracle.count(modcfg.load_catalog("windows"), needs) == 720


def test_excludes_and_requires() -> None:
    excluding = make(WINDOW, rules=[{"id": "r", "excludes": ["frame.pvc", "glass.triple"]}])
    assert set(oracle.valid_configurations(excluding)) == {
        Configuration({"frame": "pvc", "glass": "double"}),
        Configuration({"frame": "oak", "glass": "double"}),
        Configuration({"frame": "oak", "glass": "triple"}),
    }
    both = make(
        WINDOW,
        rules=[
            {"id": "r", "excludes": ["frame.pvc", "glass.triple"]},
            {"id": "s", "requires": {"if": "frame.oak", "then": ["glass.triple"]}},
        ],
    )
    assert set(oracle.valid_configurations(both)) == {
        Configuration({"frame": "pvc", "glass": "double"}),
        Configuration({"frame": "oak", "glass": "triple"}),
    }


def test_requires_with_two_premises() -> None:
    slots = {**WINDOW, "grade": {"modules": {"g1": {}, "g2": {}}}}
    rule = {"id": "r", "requires": {"if": ["frame.oak", "glass.triple"], "then": ["grade.g2"]}}
    # Only oak + triple + g1 (one of 8) breaks the rule.
    assert oracle.count(make(slots, rules=[rule])) == 7


def test_requires_inside_a_multi_select_slot() -> None:
    slots = {"extras": {"cardinality": {"min": 0, "max": 2}, "modules": {"a": {}, "b": {}}}}
    rule = {"id": "r", "requires": {"if": "extras.a", "then": ["extras.b"]}}
    choices = {c["extras"] for c in oracle.valid_configurations(make(slots, rules=[rule]))}
    assert choices == {Quantities({}), Quantities({"b": 1}), Quantities({"a": 1, "b": 1})}


def test_at_most_one_of_counts_any_quantity_as_chosen() -> None:
    slots = {
        "frame": {"cardinality": "optional", "modules": {"oak": {}, "pvc": {}}},
        "extras": {
            "cardinality": {"min": 0, "max": 2},
            "modules": {"vent": {"max_quantity": 2}, "lock": {}},
        },
    }
    rule = {"id": "one", "at_most_one_of": ["frame.oak", "extras.vent", "extras.lock"]}
    assert oracle.count(make(slots)) == 3 * 5
    # no oak: any extras but vent with lock (4); oak: no extras (1)
    assert oracle.count(make(slots, rules=[rule])) == 2 * 4 + 1


def test_multi_select_slot_takes_quantity_vectors() -> None:
    slots = {
        "extras": {
            "cardinality": {"min": 0, "max": 2},
            "modules": {"a": {"max_quantity": 2}, "b": {}, "c": {}},
        }
    }
    choices = {c["extras"] for c in oracle.all_configurations(make(slots))}
    expected = [{}, {"a": 1}, {"b": 1}, {"c": 1}, {"a": 2}, {"a": 1, "b": 1}]
    expected += [{"a": 1, "c": 1}, {"b": 1, "c": 1}]
    assert choices == {Quantities(q) for q in expected}
    assert all(isinstance(choice, Quantities) for choice in choices)
    slots["extras"]["cardinality"] = {"min": 1, "max": 2}
    assert oracle.count(make(slots)) == 7


def test_optional_slot_may_stay_empty() -> None:
    slots = {"size": {"modules": {"s": {}, "m": {}}}}
    slots["color"] = {"cardinality": "optional", "modules": {"red": {}}}
    assert {c["color"] for c in oracle.all_configurations(make(slots))} == {None, "red"}


TABLE_SLOTS = {
    "size": {"modules": {"s": {}, "m": {}, "l": {}}},
    "color": {"cardinality": "optional", "modules": {"red": {}, "blue": {}}},
}
TABLE_ROWS = [["s", None], ["*", "red"]]


def test_table_allow_with_star_and_null() -> None:
    table = {"id": "t", "table": {"slots": ["size", "color"], "allow": TABLE_ROWS}}
    assert {
        (c["size"], c["color"])
        for c in oracle.valid_configurations(make(TABLE_SLOTS, rules=[table]))
    } == {
        ("s", None),
        ("s", "red"),
        ("m", "red"),
        ("l", "red"),
    }


def test_table_deny_and_star_matches_an_empty_slot() -> None:
    deny = {"id": "t", "table": {"slots": ["size", "color"], "deny": TABLE_ROWS}}
    assert oracle.count(make(TABLE_SLOTS, rules=[deny])) == 9 - 4
    star = {"id": "t", "table": {"slots": ["size", "color"], "deny": [["m", "*"]]}}
    assert oracle.count(make(TABLE_SLOTS, rules=[star])) == 9 - 3


def test_constraints_on_totals_and_attributes() -> None:
    slots = {
        "frame": {
            "modules": {"light": {"attributes": {"w": 2}}, "heavy": {"attributes": {"w": 7}}}
        },
        "extras": {
            "cardinality": {"min": 0, "max": 3},
            "modules": {"bar": {"max_quantity": 2, "attributes": {"w": 3}}, "pin": {}},
        },
    }
    # extras choices: {}, bar, pin, bar2, bar+pin, bar2+pin (w 0, 3, 0, 6, 3, 6).
    assert oracle.count(make(slots)) == 12
    limit = {"id": "c", "constraint": "total(w) <= 8"}
    # light (2) with every extras choice; heavy (7) with w 0 extras only.
    assert oracle.count(make(slots, rules=[limit])) == 6 + 2
    conditional = {"id": "c", "constraint": "extras.w <= 3", "when": "frame.heavy"}
    assert oracle.count(make(slots, rules=[conditional])) == 6 + 4
    quantities = {"id": "c", "constraint": "extras.bar + count(extras) >= 3"}
    # bar2 (2 + 2), bar+pin (1 + 2), bar2+pin (2 + 3) for both frames.
    assert oracle.count(make(slots, rules=[quantities])) == 6


def test_comparisons_with_an_empty_slot_are_false_except_not_equal() -> None:
    slots = {
        "size": {"modules": {"s": {}}},
        "finish": {
            "cardinality": "optional",
            "modules": {
                "matt": {"attributes": {"tone": "light"}},
                "gloss": {"attributes": {"tone": "dark"}},
            },
        },
    }
    equal = {"id": "c", "constraint": 'finish.tone == "light"'}
    assert oracle.count(make(slots, rules=[equal])) == 1
    different = {"id": "c", "constraint": 'finish.tone != "dark"'}
    assert {c["finish"] for c in oracle.valid_configurations(make(slots, rules=[different]))} == {
        None,
        "matt",
    }
    formula = {"id": "c", "formula": "finish.matt or finish.gloss"}
    assert oracle.count(make(slots, rules=[formula])) == 2


# -- needs ----------------------------------------------------------------------------------


def test_require_forbid_conditions() -> None:
    catalog = make(WINDOW)
    assert oracle.count(catalog, Needs(require=["glass.triple"])) == 2
    assert oracle.count(catalog, Needs(forbid=["frame.pvc", "glass.double"])) == 1
    assert oracle.count(catalog, Needs(conditions=["frame.oak -> glass.double"])) == 3


def test_region_rules_out_modules_that_omit_it() -> None:
    slots = {
        "frame": {
            "modules": {
                "local": {"attributes": {"regions": ["EU"]}},
                "nowhere": {"attributes": {"regions": []}},
                "anywhere": {},
            }
        }
    }
    catalog = make(slots)
    assert {c["frame"] for c in oracle.valid_configurations(catalog, Needs(region="EU"))} == {
        "local",
        "anywhere",
    }
    assert oracle.count(catalog, Needs(region="US")) == 1
    assert oracle.count(catalog) == 3


def test_delivery_date_adds_the_longest_service_lead_time() -> None:
    slots = {"frame": {"modules": {"slow": {"attributes": {"lead_time_days": 3}}, "fast": {}}}}
    services = {
        "delivery": {"mandatory": True, "lead_time_days": 1},
        "installation": {"lead_time_days": 2},
    }
    catalog = make(slots, services=services)

    def count(days: int, **extra: Any) -> int:
        deliver_by = TODAY + dt.timedelta(days=days)
        return oracle.count(catalog, Needs(deliver_by=deliver_by, today=TODAY, **extra))

    assert count(4) == 2  # 3 + 1 (mandatory delivery)
    assert count(4, services=["installation"]) == 1  # 3 + 2
    assert count(5, services=["installation"]) == 2
    assert count(1, services=["installation"]) == 0  # even "fast" needs 2 days


def test_budget_is_on_the_total() -> None:
    catalog = make(WINDOW, services={"delivery": {"price": "10.00", "mandatory": True}})
    # Totals: pvc+double 150, oak+double 210, pvc+triple 210, oak+triple 270.
    assert oracle.count(catalog, Needs(budget="209.99")) == 1
    assert oracle.count(catalog, Needs(budget="210.00")) == 3
    # At 2 units the delivery is charged once: 290, 410, 410, 530.
    assert oracle.count(catalog, Needs(budget="409.99", quantity=2)) == 1
    assert oracle.count(catalog, Needs(budget="410.00", quantity=2)) == 3


def test_purpose_preset_is_merged() -> None:
    purposes = {"warm": {"require": ["glass.triple"], "prefer": {"frame.oak": 2}}}
    catalog = make(WINDOW, purposes=purposes)
    needs = Needs(purpose="warm")
    assert oracle.count(catalog, needs) == 2
    assert oracle.top_k_keys(catalog, needs, 5) == [
        (Decimal("200.00"), 0),
        (Decimal("260.00"), -2),
    ]


def test_infeasible_needs_have_no_configuration() -> None:
    catalog = make(WINDOW, rules=[{"id": "r", "excludes": ["frame.pvc", "glass.triple"]}])
    needs = Needs(require=["frame.pvc", "glass.triple"])
    assert oracle.count(catalog, needs) == 0
    assert oracle.cheapest(catalog, needs) is None
    assert oracle.top_k_keys(catalog, needs, 5) == []


def test_is_valid_rejects_malformed_configurations() -> None:
    slots = {**WINDOW, "extras": {"cardinality": {"min": 0, "max": 2}, "modules": {"bar": {}}}}
    catalog = make(slots)
    good = {"frame": "oak", "glass": "triple", "extras": Quantities({"bar": 1})}
    assert oracle.is_valid(catalog, Configuration(good))
    assert not oracle.is_valid(catalog, Configuration({**good, "glass": None}))
    assert not oracle.is_valid(catalog, Configuration({**good, "glass": "quadruple"}))
    assert not oracle.is_valid(catalog, Configuration({**good, "extras": {"bar": 2}}))
    assert not oracle.is_valid(catalog, Configuration({**good, "extras": None}))
    assert not oracle.is_valid(catalog, Configuration({"frame": "oak", "glass": "triple"}))


# -- quotes ---------------------------------------------------------------------------------


def amounts(lines: list[oracle.Line]) -> list[tuple[str, str, Decimal]]:
    return [(line.kind, line.source, line.amount) for line in lines]


def test_quote_with_tier_surcharge_service_and_instalments() -> None:
    catalog = make(
        {
            "frame": {"modules": {"oak": {"price": "120.00"}}},
            "glass": {"modules": {"triple": {"price": "140.00"}}},
        },
        prices=[
            {"id": "oak-triple", "when": "frame.oak and glass.triple", "amount": "25.00"},
            {
                "id": "volume",
                "tiers": [
                    {"min_quantity": 3, "percent": "-5"},
                    {"min_quantity": 10, "percent": "-10"},
                ],
            },
        ],
        services={"installation": {"price": "45.00", "per": "unit"}},
        payment_terms={"instalments-12": {"instalments": 12, "apr": "9.9"}},
    )
    needs = Needs(quantity=4, services=["installation"], payment="instalments-12")
    configuration = Configuration({"frame": "oak", "glass": "triple"})
    lines = oracle.quote_lines(catalog, configuration, needs.resolve(catalog))
    # Goods 480 + 560 + 100 = 1140; tier -5 % = -57; principal 1263.00.
    # r = 9.9 / 1200 = 0.00825; 1263 r / (1 - 1.00825^-12) = 110.97903... -> 110.98;
    # 12 x 110.98 = 1331.76, so financing costs 68.76.
    assert amounts(lines) == [
        ("module", "frame.oak", Decimal("480.00")),
        ("module", "glass.triple", Decimal("560.00")),
        ("surcharge", "oak-triple", Decimal("100.00")),
        ("tier", "volume", Decimal("-57.00")),
        ("service", "installation", Decimal("180.00")),
        ("financing", "instalments-12", Decimal("68.76")),
    ]
    assert oracle.quote_total(catalog, configuration, needs.resolve(catalog)) == Decimal("1331.76")
    # Quantity 12 takes the 10+ tier: goods 3420, -342.00, + 540 service = 3618.00 principal.
    twelve = Needs(quantity=12, services=["installation"]).resolve(catalog)
    assert oracle.quote_total(catalog, configuration, twelve) == Decimal("3618.00")


def test_quote_with_bundle_frequency_and_cash_discount() -> None:
    catalog = make(
        {
            "base": {"modules": {"std": {"price": "10.00"}}},
            "extras": {
                "cardinality": {"min": 0, "max": 3},
                "modules": {
                    "bell": {"price": "2.50", "max_quantity": 2},
                    "light": {"price": "4.00"},
                },
            },
        },
        prices=[
            {"id": "loyal", "frequency": ["repeat"], "percent": "-10"},
            {"id": "set", "bundle": ["extras.bell", "extras.light"], "amount": "-1.00"},
        ],
        payment_terms={"pay-now": {"discount_percent": "3"}},
    )
    configuration = Configuration({"base": "std", "extras": {"bell": 2, "light": 1}})
    needs = Needs(quantity=3, frequency="repeat", payment="pay-now")
    # Goods 30 + 15 + 12 - 3 = 54.00; loyalty -5.40; 48.60 x 3 % = 1.458 -> 1.46.
    assert amounts(oracle.quote_lines(catalog, configuration, needs.resolve(catalog))) == [
        ("module", "base.std", Decimal("30.00")),
        ("module", "extras.bell", Decimal("15.00")),
        ("module", "extras.light", Decimal("12.00")),
        ("bundle", "set", Decimal("-3.00")),
        ("frequency", "loyal", Decimal("-5.40")),
        ("payment", "pay-now", Decimal("-1.46")),
    ]
    one_off = Needs(quantity=3, frequency="one-off").resolve(catalog)
    assert oracle.quote_total(catalog, configuration, one_off) == Decimal("54.00")


@pytest.mark.parametrize(
    ("price", "total"),
    [("10.50", "9.98"), ("10.70", "10.16")],  # 0.525 -> 0.52, 0.535 -> 0.54 (half-even)
)
def test_lines_round_half_even(price: str, total: str) -> None:
    catalog = make(
        {"item": {"modules": {"one": {"price": price}}}},
        payment_terms={"pay-now": {"discount_percent": "5"}},
    )
    resolved = Needs(payment="pay-now").resolve(catalog)
    assert oracle.quote_total(catalog, {"item": "one"}, resolved) == Decimal(total)


def test_rounding_follows_the_currency_minor_unit() -> None:
    catalog = make(
        {"item": {"modules": {"one": {"price": "1010"}}}},
        currency="JPY",
        prices=[{"id": "all", "tiers": [{"min_quantity": 1, "percent": "-5"}]}],
    )
    # -50.5 rounds half-even to -50 yen.
    assert amounts(oracle.quote_lines(catalog, {"item": "one"})) == [
        ("module", "item.one", Decimal("1010")),
        ("tier", "all", Decimal("-50")),
    ]


def test_interest_free_instalments_carry_the_rounding() -> None:
    catalog = make(
        {"item": {"modules": {"one": {"price": "100.00"}}}},
        payment_terms={"instalments-3-free": {"instalments": 3, "apr": "0"}},
    )
    resolved = Needs(payment="instalments-3-free").resolve(catalog)
    # 100 / 3 = 33.333... -> 33.33; 3 x 33.33 = 99.99.
    assert oracle.quote_lines(catalog, {"item": "one"}, resolved)[-1].amount == Decimal("-0.01")
    assert oracle.quote_total(catalog, {"item": "one"}, resolved) == Decimal("99.99")


def test_conditional_rule_on_an_attribute() -> None:
    slots = {
        "frame": {
            "modules": {"a": {"price": "5.00", "attributes": {"w": 6}}, "b": {"price": "6.00"}}
        }
    }
    catalog = make(slots, prices=[{"id": "heavy", "when": "frame.w >= 5", "amount": "2.50"}])
    assert oracle.quote_total(catalog, {"frame": "a"}) == Decimal("7.50")
    assert oracle.quote_total(catalog, {"frame": "b"}) == Decimal("6.00")


def test_two_percentage_discounts_never_lower_the_total_of_a_dearer_configuration() -> None:
    """Percentages apply to the running subtotal: with a -40 % tier and a -40 % loyalty line,
    1.01 and 1.02 both cost 0.37 (each on its own goods would give 0.21 and 0.20)."""
    catalog = make(
        {"item": {"modules": {"a": {"price": "1.01"}, "b": {"price": "1.02"}}}},
        prices=[
            {"id": "tier", "tiers": [{"min_quantity": 1, "percent": "-40"}]},
            {"id": "loyal", "frequency": ["one-off"], "percent": "-40"},
        ],
    )
    assert oracle.quote_total(catalog, {"item": "a"}) == Decimal("0.37")
    assert oracle.quote_total(catalog, {"item": "b"}) == Decimal("0.37")


# -- best -----------------------------------------------------------------------------------


def test_best_breaks_price_ties_by_preference() -> None:
    slots = {
        "color": {
            "modules": {
                "red": {"price": "5.00"},
                "blue": {"price": "5.00"},
                "green": {"price": "7.00"},
            }
        }
    }
    catalog = make(slots)
    needs = Needs(prefer={"color.blue": 2, "color.green": 1, "color.red and not color.blue": -1})
    assert oracle.preference_score(catalog, {"color": "red"}, needs.resolve(catalog)) == -1
    assert oracle.top_k_keys(catalog, needs, 2) == [(Decimal("5.00"), -2), (Decimal("5.00"), 1)]
    assert oracle.top_k_keys(catalog, needs, 5)[-1] == (Decimal("7.00"), -1)
    assert [row[2]["color"] for row in oracle.ranked(catalog, needs)] == ["blue", "red", "green"]


# -- the strategies -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(strategies.cases())
def test_generated_catalogs_are_small_and_needs_resolve(case: strategies.Case) -> None:
    assert strategies.configuration_space(case.catalog) <= strategies.MAX_CONFIGURATIONS
    assert modcfg.model.catalog_from_data(case.data) == case.catalog
    if case.needs is not None:
        case.needs.resolve(case.catalog)


def unit_price(catalog: modcfg.Catalog, configuration: Configuration) -> Decimal:
    goods = {"module", "surcharge", "discount", "bundle", "ladder"}
    return sum(
        (line.amount for line in oracle.quote_lines(catalog, configuration) if line.kind in goods),
        Decimal(0),
    )


@settings(max_examples=60, deadline=None)
@given(strategies.cases())
def test_generated_totals_never_decrease_with_the_unit_price(case: strategies.Case) -> None:
    """The promise engines rank by (docs/semantics.md), kept by the generated catalogs."""
    rows = sorted(
        (unit_price(case.catalog, configuration), total)
        for total, _, configuration in oracle.ranked(case.catalog, case.needs)
    )
    totals = [total for _, total in rows]
    assert totals == sorted(totals)
