"""A returning customer's usual, against brute force on random small catalogs: suggestions
come by fewest module changes then price, each change explained, and sessions pre-fill the
usual as suggestions that always extend the customer's own choices and never become them
unasked."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.memory import CustomerProfile
from modcfg.memory._suggest import suggest
from tests import oracle
from tests.strategies import Case, cases

from .memory_helpers import windows_v2

SMALL = 500
RETIRED = "retired-module-id"


@st.composite
def _usual(draw: st.DrawFn, catalog: modcfg.Catalog) -> dict[str, Any]:
    """Any choice per slot (valid or not together), now and then a module the catalog does
    not have (retired)."""
    usual: dict[str, Any] = {}
    for slot_id, slot in catalog.slots.items():
        if draw(st.integers(0, 5)) == 0:
            usual[slot_id] = RETIRED if slot.single else {RETIRED: 1}
            continue
        choice = draw(st.sampled_from(oracle.slot_choices(slot)))
        usual[slot_id] = dict(choice) if isinstance(choice, Mapping) else choice
    return usual


def _profile(
    usual: dict[str, Any], weights: dict[str, dict[str, float]] | None = None
) -> CustomerProfile:
    return CustomerProfile(customer_id="c", orders=1, usual=usual, weights=weights or {})


def _kept(usual: Mapping[str, Any], configuration: Mapping[str, Any]) -> int:
    """How many modules of the usual the configuration keeps (written from the promise)."""
    return sum(
        module in oracle.units(configuration[slot])
        for slot, choice in usual.items()
        for module in oracle.units(choice)
    )


def _liked(
    weights: Mapping[str, Mapping[str, float]], configuration: Mapping[str, Any], steps: int = 100
) -> int:
    """The weights (in whole ``1 / steps``) of the modules the configuration holds."""
    return sum(
        int(steps * weights.get(slot, {}).get(module, 0.0))
        for slot, choice in configuration.items()
        for module in oracle.units(choice)
    )


@st.composite
def _weights(draw: st.DrawFn, catalog: modcfg.Catalog) -> dict[str, dict[str, float]]:
    """Learned weights of some modules, summing to 1 per slot."""
    weights = {}
    for slot_id, slot in catalog.slots.items():
        liked = draw(st.lists(st.sampled_from(list(slot.modules)), max_size=3, unique=True))
        if liked:
            raw = [draw(st.integers(1, 9)) for _ in liked]
            weights[slot_id] = {m: r / sum(raw) for m, r in zip(liked, raw, strict=True)}
    return weights


def _nearest_then_cheapest(case: Case, data: st.DataObject) -> None:
    catalog = case.catalog
    usual, weights = data.draw(_usual(catalog)), data.draw(_weights(catalog))
    popularity = data.draw(st.none() | _weights(catalog))
    needs = modcfg.Needs()
    resolved = oracle.resolve(catalog, needs)

    def key(configuration: Mapping[str, Any], total: Decimal) -> tuple[int, int, int, Decimal]:
        popular = _liked(popularity or {}, configuration, 99)
        return (-_kept(usual, configuration), -_liked(weights, configuration), -popular, total)

    keys = sorted(
        key(valid, oracle.quote_total(catalog, valid, resolved))
        for valid in oracle.valid_configurations(catalog, needs)
    )
    k = data.draw(st.integers(1, 4))
    found = suggest(_profile(usual, weights), modcfg.compile(catalog), k, popularity)
    assert [key(s.configuration, s.quote.total) for s in found] == keys[:k]
    for suggestion in found:
        configuration = suggestion.configuration
        assert oracle.is_valid(catalog, configuration, resolved)
        changed = {c.slot for c in suggestion.changes}
        assert changed == {
            slot
            for slot in catalog.slots
            if oracle.units(usual[slot]) != oracle.units(configuration[slot])
        }
        for change in suggestion.changes:
            retired = RETIRED in oracle.units(usual[change.slot])
            assert (change.kind == "retired-module") == retired, change
            if change.kind == "rule":
                assert change.rules
        assert suggestion.is_usual == (usual == dict(_plain(configuration)))


def _plain(configuration: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [
        (slot, dict(choice) if isinstance(choice, Mapping) else choice)
        for slot, choice in configuration.items()
    ]


def _suggested_not_chosen(case: Case, data: st.DataObject) -> None:
    catalog = case.catalog
    valid = oracle.valid_configurations(catalog, case.needs)
    if not valid:
        return
    usual = data.draw(_usual(catalog))
    weights = {
        slot: {m: data.draw(st.floats(0.1, 1)) for m in oracle.units(choice)}
        for slot, choice in usual.items()
        if oracle.units(choice)
    }
    session = modcfg.compile(catalog).session(case.needs, customer=_profile(usual, weights))
    target = data.draw(st.sampled_from(valid))
    for slot in data.draw(st.permutations(list(catalog.slots)))[: data.draw(st.integers(0, 3))]:
        units = oracle.units(target[slot])
        if not units and catalog.slots[slot].single:
            session.choose(slot, None)
        for module, quantity in units.items():
            session.choose(slot, module, quantity)
        state = session.state()
        suggested, own = state.suggested, session.choices
        assert not set(suggested) & set(own)
        assert any(oracle.agrees(v, {**own, **suggested}) for v in valid), "suggestions dead-end"
        for slot_id, row in state.items():
            flagged = {m for m, option in row.items() if option.suggested}
            assert flagged == set(oracle.units(suggested.get(slot_id))) & set(row)
            shares = weights.get(slot_id, {})
            order = [shares.get(m, 0.0) for m in row]
            assert order == sorted(order, reverse=True)
    before, suggested = session.choices, session.state().suggested
    if suggested:
        assert session.accept().count > 0
        assert session.choices == {**before, **suggested}
        assert session.state().suggested == {}
        session.undo()
        assert session.choices == before


# compiling a random catalog per example makes these dearer than most property tests: a few
# dozen examples by default, 200 with the slow checks
QUICK = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FULL = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(case=cases(SMALL), data=st.data())
def test_suggestions_are_the_nearest_valid_configurations_then_the_cheapest(
    case: Case, data: st.DataObject
) -> None:
    _nearest_then_cheapest(case, data)


@QUICK
@given(case=cases(SMALL), data=st.data())
def test_sessions_suggest_the_usual_without_choosing_it(case: Case, data: st.DataObject) -> None:
    _suggested_not_chosen(case, data)


@pytest.mark.slow
@FULL
@given(case=cases(SMALL), data=st.data())
def test_suggestions_against_brute_force_at_length(case: Case, data: st.DataObject) -> None:
    _nearest_then_cheapest(case, data)


@pytest.mark.slow
@FULL
@given(case=cases(SMALL), data=st.data())
def test_session_suggestions_against_brute_force_at_length(case: Case, data: st.DataObject) -> None:
    _suggested_not_chosen(case, data)


def test_a_usual_module_outweighs_every_liked_and_popular_module_together() -> None:
    # m0 (the usual) needs m1; m-2 is liked and popular: keeping m0 still comes first
    catalog = modcfg.Catalog.model_validate(
        {
            "catalog": "tiers",
            "slots": {
                "frame": {
                    "cardinality": {"min": 0, "max": 2},
                    "modules": {"m0": {}, "m1": {}, "m-2": {}},
                }
            },
            "rules": [
                {"id": "m0-needs-m1", "requires": {"if": ["frame.m0"], "then": ["frame.m1"]}}
            ],
        }
    )
    liked = {"frame": {"m-2": 1.0}}
    found = suggest(_profile({"frame": {"m0": 1}}, liked), modcfg.compile(catalog), 1, liked)
    assert dict(found[0].configuration["frame"]) == {"m0": 1, "m1": 1}


@pytest.fixture(scope="module")
def pro() -> modcfg.Configurator:
    return modcfg.compile("windows_pro")


def test_a_session_prefills_the_usual_as_suggestions(pro: modcfg.Configurator) -> None:
    usual = {"frame": "oak", "glass": "triple", "grade": "g2", "picture": "plain"}
    weights = {"glass": {"triple": 0.7, "laminated": 0.3}}
    session = pro.session(customer=_profile(usual, weights))
    state = session.state()
    assert state.suggested == usual
    assert session.choices == {}
    option = state["glass"]["triple"]
    assert option.suggested
    assert option.status == "available"
    assert list(state["glass"])[:2] == ["triple", "laminated"]
    # a choice the usual does not fit with drops just that suggestion
    state = session.choose("frame", "pvc")
    assert "glass" not in state.suggested
    assert state.suggested["grade"] == "g2"
    # retract one, then accept the rest as choices in one undoable step
    state = session.dismiss("picture")
    assert "picture" not in state.suggested
    state = session.accept()
    assert session.choices == {"frame": "pvc", "grade": "g2"}
    assert state.suggested == {}
    session.undo()
    assert session.choices == {"frame": "pvc"}
    with pytest.raises(modcfg.NeedsError, match="no suggestion"):
        session.accept("picture")
    with pytest.raises(modcfg.NeedsError, match="does not exist"):
        session.dismiss("nothing")


def test_a_saved_session_keeps_only_the_customers_choices(pro: modcfg.Configurator) -> None:
    usual = {"frame": "oak", "glass": "triple", "grade": "g2", "picture": "plain"}
    session = pro.session(customer=_profile(usual))
    session.choose("frame", "oak")
    plain = pro.session()
    plain.choose("frame", "oak")
    assert session.to_dict() == plain.to_dict()


def test_suggestions_on_a_new_catalog_version_skip_retired_modules() -> None:
    usual = {"frame": "pvc", "glass": "frosted", "grade": "g1", "picture": "plain"}
    session = modcfg.compile(windows_v2()).session(customer=_profile(usual))
    assert session.state().suggested == {"frame": "pvc", "grade": "g1", "picture": "plain"}


def test_popularity_reads_only_the_orders_stored_since(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shares of all orders are kept: later calls read only the orders stored since (a
    storefront writes at every checkout), count again once orders counted before are gone,
    and always equal a count from scratch."""
    from collections import Counter

    import modcfg.memory._popularity as popularity
    from modcfg.memory import CustomerMemory

    cfg = modcfg.compile("windows")
    url = f"sqlite:///{tmp_path / 'memory.db'}"
    memory, other = CustomerMemory(url), CustomerMemory(url)
    configurations = list(cfg.configurations(limit=30))
    for number, configuration in enumerate(configurations[:20]):
        memory.record(f"c-{number % 5}", cfg.price(configuration), consent=True, catalog=cfg)
    read: list[str] = []
    held = popularity._held
    monkeypatch.setattr(popularity, "_held", lambda text: read.append(text) or held(text))

    def from_scratch() -> dict[str, dict[str, float]]:
        orders = memory.orders()
        seen = Counter(
            (slot, module)
            for order in orders
            for slot, module in order.configuration.items()
            if module is not None  # (the windows catalog's slots take one module each)
        )
        shares: dict[str, dict[str, float]] = {}
        for (slot, module), count in seen.items():
            shares.setdefault(slot, {})[module] = count / len(orders)
        return shares

    assert memory.popularity("windows") == from_scratch()
    assert len(read) == 20
    for configuration in configurations[20:25]:
        memory.record("c-9", cfg.price(configuration), consent=True, catalog=cfg)
    assert memory.popularity("windows") == from_scratch()
    assert len(read) == 25  # (the five new ones)
    other.record("c-8", cfg.price(configurations[25]), consent=True, catalog=cfg)
    memory.popularity("windows")  # (within the minute: the other memory's order not yet read)
    assert len(read) == 25
    monkeypatch.setattr(popularity, "POPULARITY_SECONDS", 0.0)
    assert memory.popularity("windows") == from_scratch()
    assert len(read) == 26
    memory.forget("c-1")  # (four of its orders: counted again from the start)
    assert memory.popularity("windows") == from_scratch()
    assert len(read) == 26 + 22
