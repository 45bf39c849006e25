"""Global sums and budgets at scale: counts, session states and enumeration stay fast and exact
when a sum (``total(w) <= 100``) or a budget spans many slots."""

from __future__ import annotations

import itertools
import random
import time
from decimal import Decimal
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import modcfg
import modcfg.lower._lowering
from modcfg.engines.decomposition._sumdp import SumDP
from modcfg.model import catalog_from_data

from . import oracle, strategies
from .test_engine_properties import check_engine, expected
from .test_session import Reference

BOUND = 100
MODULES = 10


def _weight(slot: int, module: int) -> int:
    return (module * 7 + slot * 3) % 23


def _price(slot: int, module: int) -> Decimal:
    return Decimal((module * 37 + slot * 101 + slot * module * 13) % 997) + Decimal(
        (slot * 7 + module * 3) % 100
    ).scaleb(-2)


def _heavy(slots: int, rule: str = f"total(w) <= {BOUND}") -> modcfg.Catalog:
    """``slots`` slots of ten priced modules, each with an integer attribute ``w``."""
    return catalog_from_data(
        {
            "catalog": "heavy",
            "currency": "EUR",
            "slots": {
                f"s{i}": {
                    "modules": {
                        f"m{j}": {"price": str(_price(i, j)), "attributes": {"w": _weight(i, j)}}
                        for j in range(MODULES)
                    }
                }
                for i in range(slots)
            },
            "rules": [{"id": "weight", "constraint": rule}],
        }
    )


def _ways(slots: range, bound: int) -> list[int]:
    """An independent count: ways[s] = assignments of ``slots`` whose weights sum to ``s``."""
    ways = [1] + [0] * bound
    for i in slots:
        after = [0] * (bound + 1)
        for total, count in enumerate(ways):
            if count:
                for j in range(MODULES):
                    if total + _weight(i, j) <= bound:
                        after[total + _weight(i, j)] += count
        ways = after
    return ways


def _cheapest(slots: list[int], bound: int) -> list[Decimal | None]:
    """An independent minimum: cheapest[s] = the lowest price of ``slots`` weighing ``s``."""
    cheapest: list[Decimal | None] = [Decimal(0)] + [None] * bound
    for i in slots:
        after: list[Decimal | None] = [None] * (bound + 1)
        for total, price in enumerate(cheapest):
            if price is None:
                continue
            for j in range(MODULES):
                weight = total + _weight(i, j)
                if weight <= bound:
                    known = after[weight]
                    candidate = price + _price(i, j)
                    after[weight] = candidate if known is None else min(known, candidate)
        cheapest = after
    return cheapest


def test_the_independent_count_agrees_with_brute_force() -> None:
    brute = sum(
        1
        for combo in itertools.product(range(MODULES), repeat=4)
        if sum(_weight(i, j) for i, j in enumerate(combo)) <= 30
    )
    assert sum(_ways(range(4), 30)) == brute
    assert modcfg.compile(_heavy(4, "total(w) <= 30")).count() == brute


@pytest.mark.timeout(30)
@pytest.mark.parametrize("slots", [8, 60])
def test_count_under_a_sum_is_exact_and_fast(slots: int) -> None:
    cfg = modcfg.compile(_heavy(slots))
    started = time.monotonic()
    assert cfg.count() == sum(_ways(range(slots), BOUND))
    assert time.monotonic() - started < 10


@pytest.mark.timeout(30)
@pytest.mark.parametrize("slots", [8, 60])
def test_session_state_under_a_sum_is_exact_and_fast(slots: int) -> None:
    cfg = modcfg.compile(_heavy(slots))
    started = time.monotonic()
    state = cfg.session().state()
    assert state.count == sum(_ways(range(slots), BOUND))
    assert time.monotonic() - started < 10
    others = _ways(range(1, slots), BOUND)
    for j in range(MODULES):
        option = state["s0"][f"m{j}"]
        assert option.count == sum(others[: BOUND - _weight(0, j) + 1])
    cheapest = _cheapest(list(range(1, slots)), BOUND)
    for j in (0, 3, 9):
        fits = [p for p in cheapest[: BOUND - _weight(0, j) + 1] if p is not None]
        assert state["s0"][f"m{j}"].from_price == _price(0, j) + min(fits)


@pytest.mark.timeout(30)
def test_configurations_under_a_sum_over_sixty_slots_are_fast() -> None:
    cfg = modcfg.compile(_heavy(60))
    found = list(cfg.configurations(limit=5))
    assert len(found) == len(set(found)) == 5
    for configuration in found:
        assert cfg.violations(configuration) == []


@pytest.mark.timeout(30)
def test_a_linear_rule_over_twenty_five_slots_compiles_fast() -> None:
    terms = " + ".join(f"s{i}.w" for i in range(25))
    cfg = modcfg.compile(_heavy(25, f"{terms} <= {BOUND}"))
    assert cfg.count() == sum(_ways(range(25), BOUND))
    assert len(list(cfg.configurations(limit=5))) == 5


@pytest.mark.timeout(30)
def test_bicycle_session_with_a_budget_is_fast() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("bicycle"))
    needs = modcfg.Needs(budget="3000")
    started = time.monotonic()
    state = cfg.session(needs).state()
    assert state.count == cfg.count(needs)
    assert time.monotonic() - started < 10
    option = state["frame"]["road-alu"]
    road = modcfg.Needs(budget="3000", require=["frame.road-alu"])
    assert option.count == cfg.count(road)
    assert option.from_price == cfg.best(road, k=1)[0].total


def test_a_session_with_a_sum_honours_its_time_limit() -> None:
    cfg = modcfg.compile(_heavy(60))
    session = cfg.session(time_limit=0.0)
    with pytest.raises(modcfg.LimitExceeded, match="time_limit"):
        session.state().count  # noqa: B018 - reading the state computes it


def _check_session(case: strategies.Case, cfg: modcfg.Configurator) -> None:
    """Every option's count and from-price, the count and the price range of a session's
    first state are the oracle's."""
    rows = oracle.ranked(case.catalog, case.needs)
    if not rows:
        return  # (the session refuses needs that admit nothing: tested elsewhere)
    state = cfg.session(case.needs).state()
    assert state.count == len(rows)
    totals = [total for total, _, _ in rows]
    assert state.price_range == (min(totals), max(totals))
    with_ref: dict[str, list[Decimal]] = {}
    for total, _, configuration in rows:
        for ref in configuration.refs():
            with_ref.setdefault(ref, []).append(total)
    for slot, options in state.items():
        for module, option in options.items():
            found = with_ref.get(f"{slot}.{module}", [])
            assert option.count == len(found), f"{slot}.{module}"
            if found:
                assert option.from_price == min(found), f"{slot}.{module}"


def test_each_key_of_a_child_keeps_its_own_room() -> None:
    """Under a budget, the distribution outside a bag is cut to the room its key leaves: two
    keys of one child with the same neighbours but different rooms each get their own cut (a
    product cut for the tighter key and reused for the other undercounted grade.m0: 5 of 8)."""
    modules = {"m0": {"price": "7.00"}, "m1": {"price": "3.05"}}
    data = {
        "catalog": "rooms",
        "currency": "EUR",
        "slots": {
            "frame": {
                "modules": {"m0": {"price": "0.00", "attributes": {"w": 6}}},
                "cardinality": {"min": 0, "max": 2},
            },
            "glass": {"modules": {"m0": {"price": "0.00"}, "m1": {"price": "3.50"}}},
            "kit": {
                "modules": {
                    "m0": {"price": "4.25"},
                    "m1": {"price": "15.00", "attributes": {"lead_time_days": 11}},
                    "m2": {"price": "0.00"},
                }
            },
            "grade": {"modules": {"m0": {"price": "14.60"}, "m1": {"price": "12.80"}}},
            "finish": {
                "modules": {"m0": {"price": "1.05"}},
                "cardinality": {"min": 0, "max": 2},
            },
            "trim": {
                "modules": {**modules, "m2": {"price": "8.60", "attributes": {"w": 7}}},
                "cardinality": {"min": 1, "max": 2},
            },
        },
        "prices": [
            {"id": "grade-frame", "amount": "-3.25", "when": "grade.m1 + frame.w <= 0"},
            {"id": "glass-frame", "amount": "9.70", "when": "(glass.m1) -> (frame.m0)"},
            {"id": "loyalty", "frequency": ["repeat"], "percent": "-1.9"},
        ],
        "services": {
            "delivery": {"kind": "delivery", "price": "10.00", "per": "unit", "mandatory": True}
        },
    }
    needs = modcfg.Needs(
        conditions=["(kit.m1 <= trim.w) and (count(glass) >= kit.lead_time_days)"],
        quantity=36,
        budget=Decimal("1213.06"),
        frequency="repeat",
    )
    catalog = catalog_from_data(data)
    _check_session(strategies.Case(data, catalog, needs), modcfg.compile(catalog))


@settings(max_examples=200, deadline=None)
@given(strategies.cases())
def test_session_states_match_the_oracle(case: strategies.Case) -> None:
    _check_session(case, modcfg.compile(case.catalog))


@settings(max_examples=200, deadline=None)
@given(strategies.cases())
def test_linear_rules_as_global_sums_match_the_oracle(case: strategies.Case) -> None:
    """With every linear rule over two slots or more lowered to a global sum (as rules over
    many slots are), counts, streams, best and session states are still the oracle's (the
    automatic choice orders by price with CP-SAT under global sums: checked elsewhere)."""
    with mock.patch.object(modcfg.lower._lowering, "LINEAR_TABLE_SLOTS", 1):
        cfg = modcfg.compile(case.catalog)
        answers = expected(case)
        check_engine(case, cfg, "decomposition", answers)
        assert cfg.count(case.needs) == len(answers.valid)
        found = list(cfg.configurations(case.needs))
        assert len(found) == len(set(found))
        assert set(found) == set(answers.valid)
        _check_session(case, cfg)


def _grids_refuse(self: SumDP) -> None:
    raise modcfg.LimitExceeded("the grids of partial sums are refused (test)")


@settings(
    max_examples=strategies.examples(100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=strategies.cases(2_000), data=st.data())
def test_budgets_past_the_grids_list_their_configurations(
    monkeypatch: pytest.MonkeyPatch, drawn: strategies.Case, data: st.DataObject
) -> None:
    """When the grids of partial sums would take too much work (here: always), a session
    under a budget lists the configurations within it, cheapest first: the oracle's count,
    per-option counts and from-prices, step after step. With other totals than the budget
    the grids' refusal stands."""
    unbounded = (drawn.needs or modcfg.Needs()).model_copy(update={"budget": None})
    totals = Reference(strategies.Case(drawn.data, drawn.catalog, unbounded)).totals
    assume(totals)
    budget = data.draw(st.sampled_from(sorted(set(totals))))  # some configuration's total
    case = strategies.Case(
        drawn.data, drawn.catalog, unbounded.model_copy(update={"budget": budget})
    )
    monkeypatch.setattr(SumDP, "up", _grids_refuse)
    cfg = modcfg.compile(case.catalog)
    if cfg.compiled.plan(case.needs).bounds.resources:
        with pytest.raises(modcfg.LimitExceeded):
            cfg.session(case.needs).state().count  # noqa: B018
        return
    reference = Reference(case)
    session = cfg.session(case.needs)
    reference.check(session.state(), session.choices)
    for _ in range(data.draw(st.integers(0, 2))):
        state = session.state()
        options = [
            (slot, module)
            for slot in state
            for module, option in state[slot].items()
            if option.status == "available" and case.catalog.slots[slot].single
        ]
        if not options:
            break
        session.choose(*data.draw(st.sampled_from(options)))
        reference.check(session.state(), session.choices)


def _cent_chain() -> modcfg.Configurator:
    """Twenty slots of ten cent-priced modules, each module 0 excluding the next slot's."""
    data = _heavy(20).model_dump(mode="json")
    data["rules"] = [{"id": f"r{i}", "excludes": [f"s{i}.m0", f"s{i + 1}.m0"]} for i in range(19)]
    return modcfg.compile(catalog_from_data(data))


def test_a_tight_budget_over_cent_prices_lists_its_configurations() -> None:
    """The chain of cent prices under a budget twenty euros above the cheapest
    configuration: over 8,000 partial sums per key, yet 7 configurations fit, so the count
    and a session's state list them (the grids, refused here, are never asked)."""
    cfg = _cent_chain()
    cheapest = cfg.best(k=1)[0].total
    needs = modcfg.Needs(budget=cheapest + Decimal("20.00"))
    with mock.patch.object(SumDP, "up", _grids_refuse):
        state = cfg.session(needs).state()
        counted = cfg.count(needs)
    listed = sorted(q.total for q in cfg.best(needs, k=1000))
    assert state.count == counted == len(listed) == 7
    assert state.price_range == (listed[0], listed[-1]) == (cheapest, listed[-1])


def test_a_listing_past_its_time_limit_says_so() -> None:
    """The list keeps to the time limit, and says which limit stopped it and how to raise it."""
    cfg = _cent_chain()
    needs = modcfg.Needs(budget=cfg.best(k=1)[0].total + Decimal("20.00"))
    plan = cfg.compiled.plan(needs)
    with pytest.raises(modcfg.LimitExceeded, match="raise time_limit="):
        plan.session_query.within(plan.bounds, time_limit=1e-9).count()


def cent_pairs_data() -> dict[str, object]:
    """Twenty slots of six modules priced in cents (1.00 to 997.99) and about twenty rules
    each excluding a module of one slot with a module of another: a budget a quarter above
    the cheapest leaves too many partial sums to count and too many configurations to list."""
    draw = random.Random(1)
    slots = {
        f"s{i}": {
            "modules": {
                f"m{j}": {"price": f"{draw.randint(100, 99799) / 100:.2f}"} for j in range(6)
            }
        }
        for i in range(20)
    }
    pairs = ((draw.randrange(20), draw.randrange(20)) for _ in range(20))
    rules = [  # (each rule's modules drawn after its pair)
        {"id": f"r{k}", "constraint": f"s{a}.m{draw.randrange(6)} -> not s{b}.m{draw.randrange(6)}"}
        for k, (a, b) in enumerate(pairs)
        if a != b
    ]
    return {"catalog": "cents", "slots": slots, "rules": rules}


def test_configurations_under_a_budget_too_wide_to_guide_come_cheapest_first() -> None:
    """Cent prices over twenty slots and a budget a quarter above the cheapest configuration:
    the partial sums are too many to guide a walk and the configurations within it too many
    to list, so an unordered stream walks them cheapest first (every one within the budget
    comes before any beyond it) instead of trying every configuration against it, which
    passed any time limit before finding one."""
    cfg = modcfg.compile(catalog_from_data(cent_pairs_data()))
    cheapest = cfg.best(k=1)[0].total
    budget = (cheapest * Decimal("1.25")).quantize(Decimal("0.01"))
    needs = modcfg.Needs(budget=budget)
    plan = cfg.compiled.plan(needs)
    assert plan.query.solutions_within(plan.bounds, time_limit=30) is None  # (unguided)
    with pytest.raises(modcfg.LimitExceeded, match="too many distinct partial sums"):
        cfg.count(needs)
    started = time.monotonic()
    found = list(cfg.configurations(needs, limit=300, time_limit=30))
    assert time.monotonic() - started < 10
    totals = [cfg.price(configuration).total for configuration in found]
    assert len({str(configuration) for configuration in found}) == len(found) == 300
    assert all(total <= budget for total in totals)
    assert sorted(totals)[:10] == [q.total for q in cfg.best(needs, k=10)]
