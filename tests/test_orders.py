"""Whole orders against brute force: every tuple of line configurations is enumerated with the
oracle, the order's rules are judged here from their definition (``same``: equal choices;
``distinct``: at most N different modules; ``constraint``: evaluated with every module and
number summed over the lines times their quantities), and count, best and sessions must agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.model import ConfigurationView, ConstraintRule, evaluate, parse, truthy

from . import oracle, strategies

ORDERS = settings(max_examples=40, deadline=None)
SLOW_ORDERS = settings(max_examples=200, deadline=None)


def number(value: object) -> Decimal:
    if isinstance(value, bool):
        return Decimal(int(value))
    return value if isinstance(value, Decimal) else Decimal(0)


class _OrderView:
    """An expression environment over a whole order: sums over the lines times quantities."""

    def __init__(self, views: Sequence[tuple[ConfigurationView, int]]) -> None:
        self.views = views

    def ref(self, slot: str, name: str) -> Decimal:
        return sum((number(v.ref(slot, name)) * q for v, q in self.views), Decimal(0))

    def total(self, attribute: str) -> Decimal:
        return sum((v.total(attribute) * q for v, q in self.views), Decimal(0))

    def count(self, slot: str) -> Decimal:
        return sum((v.count(slot) * q for v, q in self.views), Decimal(0))


def _keeps(
    catalog: modcfg.Catalog,
    rule: modcfg.OrderRule,
    lines: Sequence[tuple[modcfg.Configuration, int]],
) -> bool:
    if rule.same is not None:
        return len({repr(configuration.get(rule.same)) for configuration, _ in lines}) == 1
    if rule.distinct is not None:
        used = set()
        for configuration, _ in lines:
            used |= set(oracle.chosen_modules({rule.distinct: configuration.get(rule.distinct)}))
        return len(used) <= (rule.at_most or 0)
    view = _OrderView([(ConfigurationView(catalog, c), q) for c, q in lines])
    assert rule.constraint is not None
    if rule.when is not None and not truthy(evaluate(parse(rule.when), view)):
        return True
    return truthy(evaluate(parse(rule.constraint), view))


def brute_force(
    catalog: modcfg.Catalog, quantities: Sequence[int], rules: Sequence[modcfg.OrderRule]
) -> list[tuple[modcfg.Configuration, ...]]:
    valid = oracle.valid_configurations(catalog)
    return [
        combo
        for combo in itertools.product(valid, repeat=len(quantities))
        if all(_keeps(catalog, rule, list(zip(combo, quantities, strict=True))) for rule in rules)
    ]


@st.composite
def orders(draw: st.DrawFn) -> tuple[modcfg.Catalog, list[int], list[modcfg.OrderRule]]:
    catalog = draw(strategies.catalogs(10))
    # price ladders measure one configuration's degree: orders refuse them (see product_catalog)
    kept = tuple(rule for rule in catalog.prices if rule.kind != "ladder")
    catalog = catalog.model_copy(update={"prices": kept})
    quantities = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3))
    slots = list(catalog.slots)
    rules: list[modcfg.OrderRule] = []
    for number_ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["same", "distinct", "total", "count"]))
        if kind == "total" and not any(
            "w" in module.attributes
            for s in catalog.slots.values()
            for module in s.modules.values()
        ):
            kind = "count"
        slot = draw(st.sampled_from(slots))
        rule_id = f"r{number_}"
        if kind == "same":
            rules.append(modcfg.OrderRule(id=rule_id, same=slot))
        elif kind == "distinct":
            at_most = draw(st.integers(1, 2))
            rules.append(modcfg.OrderRule(id=rule_id, distinct=slot, at_most=at_most))
        elif kind == "total":
            bound = draw(st.integers(0, 60))
            rules.append(modcfg.OrderRule(id=rule_id, constraint=f"total(w) <= {bound}"))
        else:
            module = draw(st.sampled_from(list(catalog.slots[slot].modules)))
            least = draw(st.integers(0, 6))
            text = f"{slot}.{module} >= {least}"
            rules.append(modcfg.OrderRule(id=rule_id, constraint=text))
    return catalog, quantities, rules


def _order(
    catalog: modcfg.Catalog, quantities: Sequence[int], rules: Sequence[modcfg.OrderRule]
) -> modcfg.Order:
    lines = [modcfg.OrderLine(f"line{i}", q) for i, q in enumerate(quantities)]
    return modcfg.Order(modcfg.compile(catalog), lines, rules)


def _check_order(drawn: tuple[modcfg.Catalog, list[int], list[modcfg.OrderRule]]) -> None:
    catalog, quantities, rules = drawn
    order = _order(catalog, quantities, rules)
    expected = brute_force(catalog, quantities, rules)
    assert order.count() == len(expected)
    if not expected:
        with pytest.raises(modcfg.InfeasibleError):
            order.best(k=1)
        return
    names = [line.name for line in order.lines]
    totals = sorted(order.priced(dict(zip(names, combo, strict=True))).total for combo in expected)
    best = order.best(k=1)[0]
    assert best.total == totals[0]
    assert best.total == order.product.best(order.product_needs(None), k=1)[0].total
    assert best.total == best.lines[0].subtotal + sum(
        (line.subtotal for line in best.lines[1:]), Decimal(0)
    ) + sum((line.amount for line in best.order_lines), Decimal(0))
    chosen = [best.configurations[name] for name in names]
    assert tuple(chosen) in set(expected)
    if len(quantities) == 1:  # one line: the order's quote is the catalog's quote
        resolved = modcfg.Needs(quantity=quantities[0]).resolve(catalog)
        assert best.total == oracle.quote_total(catalog, chosen[0], resolved)


@ORDERS
@given(orders())
def test_orders_with_cross_line_rules_against_brute_force(
    drawn: tuple[modcfg.Catalog, list[int], list[modcfg.OrderRule]],
) -> None:
    _check_order(drawn)


def test_two_distinct_rules_on_one_slot_keep_the_tightest() -> None:
    catalog = modcfg.Catalog.model_validate(
        {"catalog": "t", "slots": {"frame": {"modules": {"oak": {}, "pvc": {}}}}}
    )
    rules = [
        modcfg.OrderRule(id="one-frame", distinct="frame", at_most=1),
        modcfg.OrderRule(id="two-frames", distinct="frame", at_most=2),
    ]
    _check_order((catalog, [1, 1], rules))
    assert _order(catalog, [1, 1], rules).count() == 2  # both oak, or both pvc


@pytest.mark.slow
@SLOW_ORDERS
@given(orders())
def test_orders_with_cross_line_rules_against_brute_force_long(
    drawn: tuple[modcfg.Catalog, list[int], list[modcfg.OrderRule]],
) -> None:
    _check_order(drawn)


@ORDERS
@given(orders(), st.randoms(use_true_random=False))
def test_order_sessions_have_no_dead_ends(
    drawn: tuple[modcfg.Catalog, list[int], list[modcfg.OrderRule]], rnd: object
) -> None:
    catalog, quantities, rules = drawn
    expected = brute_force(catalog, quantities, rules)
    if not expected:
        return
    order = _order(catalog, quantities, rules)
    session = order.session()
    for line in order.lines:
        for slot_id, slot in catalog.slots.items():
            if not slot.single:
                continue
            options = session.state()[line.name][slot_id]
            available = [m for m, o in options.items() if o.status == "available"]
            if not available:
                continue
            module = rnd.choice(available)  # type: ignore[attr-defined]
            state = session.choose(line.name, slot_id, module)
            assert state.count > 0
            names = [entry.name for entry in order.lines]
            index = names.index(line.name)
            assert state.count == sum(
                1 for combo in expected if _matches(combo, index, session.choices, names)
            )
    quote = session.complete()
    chosen = tuple(quote.configurations[line.name] for line in order.lines)
    assert chosen in set(expected)


def _matches(
    combo: Sequence[modcfg.Configuration],
    _: int,
    choices: Mapping[str, Mapping[str, object]],
    names: Sequence[str],
) -> bool:
    return all(
        combo[names.index(line)].get(slot) == module
        for line, line_choices in choices.items()
        for slot, module in line_choices.items()
    )


def test_order_mistakes_are_needs_errors() -> None:
    cfg = modcfg.compile("windows")
    with pytest.raises(modcfg.NeedsError, match="at least one line"):
        modcfg.Order(cfg, [])
    with pytest.raises(modcfg.NeedsError, match="appears twice"):
        modcfg.Order(cfg, [modcfg.OrderLine("a"), modcfg.OrderLine("a")])
    with pytest.raises(modcfg.NeedsError, match="did you mean 'frame'"):
        modcfg.Order(cfg, [modcfg.OrderLine("a")], [modcfg.OrderRule(id="x", same="frme")])
    with pytest.raises(modcfg.NeedsError, match="exactly one of"):
        modcfg.OrderRule(id="x", same="frame", distinct="glass", at_most=1)
    two = [modcfg.OrderLine("a"), modcfg.OrderLine("b")]
    with pytest.raises(modcfg.NeedsError, match="is text"):
        modcfg.Order(cfg, two, [modcfg.OrderRule(id="wood", constraint='frame.material == "wood"')])
    with pytest.raises(modcfg.NeedsError, match="numeric attribute 'wieght'"):
        modcfg.Order(cfg, two, [modcfg.OrderRule(id="w", constraint="total(wieght) <= 3")])
    order = modcfg.Order(cfg, two)
    with pytest.raises(modcfg.NeedsError, match="not complete"):
        order.quote()
    with pytest.raises(modcfg.NeedsError, match=r"Needs\.quantity"):
        order.count(modcfg.Needs(quantity=3))


def test_an_order_refuses_a_catalog_priced_by_a_ladder() -> None:
    catalog = modcfg.model.catalog_from_data(
        {
            "catalog": "laddered",
            "standard": {"size": "s"},
            "slots": {"size": {"modules": {"s": {"price": "10"}, "m": {"price": "12"}}}},
            "prices": [{"id": "custom", "ladder": [{"min_degree": 1, "amount": "5"}]}],
        }
    )
    with pytest.raises(modcfg.NeedsError, match="custom"):
        _order(catalog, [2], []).count()


def test_an_order_of_a_feature_model_keeps_its_clauses(tmp_path: Any) -> None:
    """Each line of an order of a feature model holds its clauses as clauses (renamed, not
    written as text and parsed back): counted as brute force counts pairs of configurations
    that agree on the slot the order rule names."""
    model = tmp_path / "chain.dimacs"  # x1 -> x2 -> ... -> x8, and x3 or x6
    model.write_text("p cnf 8 8\n" + "".join(f"-{v} {v + 1} 0\n" for v in range(1, 8)) + "3 6 0\n")
    cfg = modcfg.compile(modcfg.load_catalog(model))
    order = modcfg.Order(
        cfg,
        [modcfg.OrderLine("a", 1, {}), modcfg.OrderLine("b", 2, {})],
        [modcfg.OrderRule(id="same-x4", same="x4")],
    )
    clauses = [rule for rule in order.product.catalog.rules if rule.id.startswith("a__")]
    assert clauses
    assert all(isinstance(rule, ConstraintRule) and rule.literals for rule in clauses)
    valid = list(cfg.configurations())
    pairs = sum(1 for one, two in itertools.product(valid, valid) if one["x4"] == two["x4"])
    assert order.count() == pairs


def test_an_order_compiles_within_its_time_limit() -> None:
    """Rules across the lines of a large catalog can make the product's compile long: an
    order takes a time limit for it, and says which limit passed."""
    cfg = modcfg.compile("windows_pro")
    lines = [modcfg.OrderLine("a", 1, {}), modcfg.OrderLine("b", 2, {})]
    rules = [modcfg.OrderRule(id="one-frame", same="frame")]
    with pytest.raises(modcfg.TimeLimitExceeded, match=r"Order\(time_limit=1e-09\)"):
        modcfg.Order(cfg, lines, rules, time_limit=1e-9).count()
    assert (
        modcfg.Order(cfg, lines, rules, time_limit=60).count()
        == modcfg.Order(cfg, lines, rules).count()
    )
