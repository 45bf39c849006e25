"""Bills of materials, delivery dates, stock and promise dates, and catalog validity.

The aggregation and the delivery date are checked against sums written here from
docs/semantics.md ("Production") on random catalogs with parts; the promise dates (deliver_by
with parts and stock) are part of every case of tests/test_engine_properties.py, whose oracle
reads parts and stock the same way.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import modcfg

from . import oracle, strategies

TODAY = strategies.TODAY


@st.composite
def _catalog_with_parts(draw: st.DrawFn) -> modcfg.Catalog:
    data = draw(strategies.catalog_data(60))
    if "parts" not in data:
        strategies.production(draw, data)
    return modcfg.model.catalog_from_data(data)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_bill_of_materials_against_hand_sums(data: st.DataObject) -> None:
    catalog = data.draw(_catalog_with_parts())
    valid = oracle.valid_configurations(catalog)
    if not valid:
        return
    items = [
        (data.draw(st.sampled_from(valid)), data.draw(st.integers(1, 12)))
        for _ in range(data.draw(st.integers(1, 3)))
    ]
    stock = {part: data.draw(st.integers(0, 30)) for part in catalog.parts}
    bom = modcfg.price.bill_of_materials(catalog, items, today=TODAY, stock=stock)
    demand: dict[str, int] = {}
    for configuration, quantity in items:
        for ref, units in oracle.chosen_modules(configuration).items():
            for part, per_unit in catalog.module(ref).parts.items():
                demand[part] = demand.get(part, 0) + per_unit * units * quantity
    assert {line.part: line.quantity for line in bom.lines} == demand
    stages = list(catalog.stages)
    longest = 0
    for configuration, _ in items:
        for ref in oracle.chosen_modules(configuration):
            module = catalog.module(ref)
            if not module.parts:
                longest = max(longest, int(oracle.ready_days(catalog, module, 1, {})))
    for part_id, needed in demand.items():
        part = catalog.parts[part_id]
        wait = 0 if stock[part_id] >= needed else part.lead_time_days
        start = 0 if part.stage is None else stages.index(part.stage)
        tail = sum(catalog.stages[stage].days for stage in stages[start:])
        longest = max(longest, wait + tail)
    assert bom.ready_days == longest == sum(step.days for step in bom.critical_path)
    assert bom.delivery_date == TODAY + dt.timedelta(days=longest)
    if len(items) == 1:
        configuration, quantity = items[0]
        needs = modcfg.Needs(today=TODAY, quantity=quantity, stock=stock)
        resolved = needs.resolve(catalog)
        service_days = max((service.lead_time_days for service in resolved.services), default=0)
        delivery = modcfg.price.quote(catalog, configuration, resolved).delivery_date
        assert delivery == bom.delivery_date + dt.timedelta(days=service_days)
    if bom.plan:
        assert bom.plan[-1].end <= bom.delivery_date
        made_to = [step.made_to for step in bom.plan]
        assert made_to == sorted(made_to, key=("stock", "order").index)


def test_windows_pro_promise_dates_and_available_from() -> None:
    cfg = modcfg.compile("windows_pro")
    today = dt.date(2026, 11, 2)
    # alu-wood profile is out of stock (21 days to make): not by 20 November
    needs = modcfg.Needs(today=today, deliver_by="2026-11-20")
    session = cfg.session(needs)
    option = session.state()["frame"]["alu-wood"]
    assert option.status != "available"
    assert "available from 2 December 2026" in str(option.reason)
    assert session.state()["frame"]["pvc"].status == "available"
    # stock decides: with alu-wood profile on hand it can be promised
    stocked = modcfg.Needs(today=today, deliver_by="2026-11-20", stock={"alu-wood-profile": 500})
    assert cfg.session(stocked).state()["frame"]["alu-wood"].status == "available"
    # a large order empties the oak profile stock (30 m, 6 m a window)
    assert cfg.count(modcfg.Needs(today=today, deliver_by="2026-11-20", require=["frame.oak"]))
    late = modcfg.Needs(today=today, deliver_by="2026-11-20", require=["frame.oak"], quantity=6)
    assert cfg.count(late) == 0


def test_validity_dates_are_enforced_when_quoting() -> None:
    cfg = modcfg.compile("windows_pro")
    window = {
        "frame": "pvc",
        "glass": "double",
        "grade": "g1",
        "picture": "plain",
        "size": "small",
        "hardware": {},
    }
    assert cfg.price(window, modcfg.Needs(today="2026-06-01")).total > 0
    for late in ("2029-01-01", "2026-01-01"):
        with pytest.raises(modcfg.CatalogError, match=r"valid from 2026-03-01 until 2027-02-28"):
            cfg.price(window, modcfg.Needs(today=late))
        with pytest.raises(modcfg.CatalogError, match=late):
            cfg.best(modcfg.Needs(today=late), k=1)


def test_production_mistakes_are_catalog_and_needs_errors() -> None:
    base = {"catalog": "t", "slots": {"s": {"modules": {"a": {"parts": {"bolt": 1}}}}}}
    with pytest.raises(modcfg.CatalogError, match="part 'bolt' is not in the catalog's parts"):
        modcfg.model.catalog_from_data(base)
    with pytest.raises(modcfg.CatalogError, match="stage 'paint' does not exist"):
        modcfg.model.catalog_from_data({**base, "parts": {"bolt": {"stage": "paint"}}})
    catalog = modcfg.model.catalog_from_data({**base, "parts": {"bolt": {"stock": 3}}})
    with pytest.raises(modcfg.NeedsError, match=r"'blot' is not a part.*did you mean 'bolt'"):
        modcfg.Needs(stock={"blot": 2}).resolve(catalog)
    with pytest.raises(modcfg.NeedsError, match="stock"):
        modcfg.Needs(stock={"bolt": -1})
    cfg = modcfg.compile(catalog)
    with pytest.raises(modcfg.NeedsError, match="quantity"):
        cfg.bill_of_materials({"s": "a"}, 0)
    assert cfg.bill_of_materials({"s": "a"}, 2, stock=lambda part: 5)["bolt"].short == 0
    assert cfg.bill_of_materials({"s": "a"}, 4)["bolt"].short == 1
