"""Sessions against brute force: random walks never reach a dead end, counts and from-prices
are exact, and explanations are minimal."""

from __future__ import annotations

import dataclasses
import gc
import threading
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.explain import keep_items, need_items
from tests import oracle
from tests.strategies import Case, cases, choose_drawn, options_of

SMALL = 2_000


class Reference:
    """Brute-force answers for one catalog and needs."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.resolved = oracle.resolve(case.catalog, case.needs) if case.needs else None
        self.valid = [dict(c) for c in oracle.valid_configurations(case.catalog, case.needs)]
        self.totals = [oracle.quote_total(case.catalog, c, self.resolved) for c in self.valid]

    def check(self, state: modcfg.SessionState, choices: Mapping[str, Any]) -> None:
        catalog = self.case.catalog
        rows = [
            (c, t)
            for c, t in zip(self.valid, self.totals, strict=True)
            if oracle.agrees(c, choices)
        ]
        assert state.count == len(rows)
        assert rows, "the session reached a dead end"
        assert state.price_range is not None
        assert state.price_range == (min(t for _, t in rows), max(t for _, t in rows))
        for slot_id, slot in catalog.slots.items():
            for module_id in slot.modules:
                option = state[slot_id][module_id]
                with_it = [t for c, t in rows if module_id in oracle.units(c[slot_id])]
                assert option.count == len(with_it), (slot_id, module_id)
                if with_it:
                    assert option.from_price == min(with_it), (slot_id, module_id)
                    assert option.status in ("chosen", "implied", "available")
                    if option.status == "implied":
                        assert len(with_it) == len(rows)
                else:
                    assert option.status == "excluded"
                    assert option.reason
                    assert option.from_price is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(SMALL), data=st.data())
def test_random_walks_have_no_dead_ends_and_exact_state(case: Case, data: st.DataObject) -> None:
    reference = Reference(case)
    cfg = modcfg.compile(case.catalog)
    if not reference.valid:
        with pytest.raises(modcfg.InfeasibleError):
            cfg.session(case.needs)
        return
    session = cfg.session(case.needs)
    reference.check(session.state(), session.choices)
    for _ in range(data.draw(st.integers(1, 6))):
        action = data.draw(
            st.sampled_from(["choose", "choose", "excluded", "unchoose", "undo", "redo"])
        )
        state = session.state()
        if action in ("choose", "excluded"):
            wanted = "excluded" if action == "excluded" else None
            switchable = {s for s in session.choices if case.catalog.slots[s].single}
            options = [
                (slot, module)
                for slot in state
                for module, option in state[slot].items()
                if (option.status == "excluded") == (wanted == "excluded")
                and option.status != "chosen"
                and not (wanted == "excluded" and slot in switchable)
            ]
            if not options:
                continue
            slot, module = data.draw(st.sampled_from(options))
            if action == "excluded":
                before = session.choices
                with pytest.raises(modcfg.InfeasibleError):
                    session.choose(slot, module)
                assert session.choices == before
                continue
            quantity = None  # (any quantity: what the option's count counts)
            if not case.catalog.slots[slot].single:
                limit = case.catalog.slots[slot].modules[module].max_quantity
                quantity = data.draw(st.none() | st.integers(1, limit))
            shown = state[slot][module].count
            try:
                after = session.choose(slot, module, quantity)
            except modcfg.InfeasibleError:
                # only a quantity the completions do not allow may be refused
                assert quantity is not None
            else:
                if quantity is None:  # an option is chosen as it was shown
                    assert after.count == shown
        elif action == "unchoose" and session.choices:
            session.unchoose(data.draw(st.sampled_from(sorted(session.choices))))
        elif action == "undo":
            try:
                session.undo()
            except modcfg.NeedsError:
                continue
        elif action == "redo":
            try:
                session.redo()
            except modcfg.NeedsError:
                continue
        reference.check(session.state(), session.choices)


def _feasible(
    reference: Reference,
    needs: modcfg.Needs | None,
    choices: Mapping[str, Any],
    option: tuple[str, str],
) -> bool:
    catalog = reference.case.catalog
    slot, module = option
    for configuration in oracle.valid_configurations(catalog, needs):
        if oracle.agrees(configuration, choices) and module in oracle.units(configuration[slot]):
            return True
    return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(SMALL), data=st.data())
def test_why_not_is_minimal(case: Case, data: st.DataObject) -> None:
    reference = Reference(case)
    if not reference.valid:
        return
    cfg = modcfg.compile(case.catalog)
    session = cfg.session(case.needs)
    choose_drawn(session, case.catalog, data, data.draw(st.integers(0, 2)))
    excluded = [
        (s, m)
        for s, m, o in options_of(session.state())
        if o.status == "excluded" and not (case.catalog.slots[s].single and s in session.choices)
    ]
    if not excluded:
        return
    option = data.draw(st.sampled_from(excluded))
    explanation = session.why_not(*option)
    needs = case.needs
    items = need_items(needs, case.catalog.currency) if needs else []
    by_label = {item.label: item for item in items}
    entries: dict[str, tuple[str, str, int]] = {}
    for slot, chosen in session.choices.items():
        for module, quantity in chosen.items() if isinstance(chosen, Mapping) else [(chosen, 1)]:
            suffix = f" x {quantity}" if quantity != 1 else ""
            entries[f"your choice {slot}.{module}{suffix}"] = (slot, module, quantity)

    def feasible_with(kept: list[str]) -> bool:
        kept_needs = (
            keep_items(needs, items, [by_label[k] for k in kept if k in by_label])
            if needs is not None
            else None
        )
        kept_choices: dict[str, Any] = {}
        for label in kept:
            if label in entries:
                slot, module, quantity = entries[label]
                if case.catalog.slots[slot].single:
                    kept_choices[slot] = module
                else:
                    kept_choices.setdefault(slot, {})[module] = quantity
        return _feasible(reference, kept_needs, kept_choices, option)

    because = list(explanation.because)
    assert set(because) <= set(by_label) | set(entries)
    assert not feasible_with(because)
    for item in because:
        assert feasible_with([other for other in because if other != item]), item


def test_budget_too_small_lists_the_clash_and_ranked_relaxations() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
    with pytest.raises(modcfg.InfeasibleError) as caught:
        cfg.session(modcfg.Needs(budget="300", require=["glass.triple"]))
    error = caught.value
    assert "budget EUR 300" in error.conflict
    assert len(error.relaxations) >= 2
    unlocked = [relaxation.unlocked for relaxation in error.relaxations]
    assert unlocked == sorted(unlocked, reverse=True)
    assert all(isinstance(r.from_price, Decimal) for r in error.relaxations)


def test_session_dict_round_trip() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
    session = cfg.session(modcfg.Needs(quantity=2))
    session.choose("frame", "oak")
    session.choose("glass", "triple")
    session.undo()
    saved = session.to_dict()
    restored = modcfg.Session.from_dict(cfg, saved)
    assert restored.to_dict() == saved
    assert restored.state().count == session.state().count
    restored.redo()
    session.redo()
    assert restored.state().count == session.state().count


def test_restoring_on_another_catalog_version_names_the_change() -> None:
    # a session saved on another version migrates (it was refused before catalog versions)
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    saved = cfg.session().to_dict()
    saved["version"] = "2025.9"
    restored = modcfg.Session.from_dict(cfg, saved)
    assert restored.migration == ()
    saved["catalog"] = "doors"
    with pytest.raises(modcfg.NeedsError, match=r"catalog 'doors' version 2025\.9"):
        modcfg.Session.from_dict(cfg, saved)


def test_complete_and_quote() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    session = cfg.session(modcfg.Needs(prefer={"frame.oak": 3}))
    with pytest.raises(modcfg.NeedsError, match="not complete"):
        session.quote()
    cheapest = session.complete()
    assert cheapest.total == Decimal("100.00")
    session.undo()
    preferred = session.complete(strategy="preferred")
    assert preferred.configuration["frame"] == "oak"
    assert session.quote().total == preferred.total


def test_many_threads_share_one_configurator() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
    slots = list(cfg.catalog.slots)

    def walk(seed: int) -> list[int]:
        session = cfg.session()
        counts = []
        for step in range(4):
            state = session.state()
            slot = slots[(seed + step) % len(slots)]
            options = state.available(slot)
            module = options[(seed * 7 + step) % len(options)]
            if state[slot][module].status == "available":
                session.choose(slot, module)
            counts.append(session.state().count)
        return counts

    expected = {seed: walk(seed) for seed in range(50)}
    results: dict[tuple[int, int], list[int]] = {}

    def worker(thread: int) -> None:
        for seed in range(50):
            results[(thread, seed)] = walk(seed)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[(t, seed)] == expected[seed] for t in range(8) for seed in range(50))


def test_a_state_keeps_its_own_reasons_after_later_changes() -> None:
    """Reasons are worked out when first read, from the state they belong to."""
    cfg = modcfg.compile(modcfg.load_catalog("bicycle"))
    session = cfg.session()
    before = session.state()
    excluded = [
        (slot, module)
        for slot, options in before.items()
        for module, option in options.items()
        if option.status == "excluded"
    ]
    first = session.choose("frame", "road-carbon")
    slot, module = next(
        (s, m) for s, options in first.items() for m, o in options.items() if o.status == "excluded"
    )
    session.unchoose("frame")  # read after the change: still the reason under the choice
    again = cfg.session().choose("frame", "road-carbon")[slot][module]
    assert first[slot][module].reason == again.reason
    assert first[slot][module] == again
    assert first[slot][module].reason != session.state()[slot][module].reason
    assert [before[s][m].reason for s, m in excluded] == [
        cfg.session().state()[s][m].reason for s, m in excluded
    ]
    with pytest.raises(AttributeError):
        first[slot][module].count = 3  # type: ignore[misc]


def test_steps_and_compiles_leave_no_cyclic_garbage() -> None:
    """A session step's states and a compile's working data are freed as soon as they are
    dropped: garbage left for the collector makes long-running processes pay for full
    collections (tens of milliseconds each with a large heap)."""
    catalog = modcfg.load_catalog("windows_pro")
    cfg = modcfg.compile(catalog)

    def step() -> int:
        session = cfg.session()
        session.choose("frame", "pvc-plus")
        state = session.choose("grade", "g2")
        return sum(option.count for options in state.values() for option in options.values())

    step()  # plans and caches made once
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):
            assert step() > 0
        assert gc.collect() == 0
        for _ in range(3):
            modcfg.compile(catalog).count()
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


def _snapshot(state: modcfg.SessionState) -> tuple[int, Any, dict[str, dict[str, Any]]]:
    options = {
        slot: {m: (o.status, o.count, o.from_price, o.reason) for m, o in row.items()}
        for slot, row in state.items()
    }
    return state.count, state.price_range, options


def test_a_returned_state_is_a_snapshot() -> None:
    """A state answers for the choices it was returned for, whenever and wherever it is read."""
    cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
    expected = _snapshot(cfg.session().choose("frame", "pvc"))
    assert expected[0] == 2_479
    session = cfg.session()
    first = session.choose("frame", "pvc")
    second = session.choose("glass", "double")
    assert first.count == 2_479
    assert second.count == 432
    session.undo()
    session.undo()
    assert _snapshot(first) == expected
    untouched = session.choose("frame", "pvc")
    session.choose("grade", "g2")
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(_snapshot(untouched))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4


def test_a_state_read_by_many_threads_is_computed_once() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
    session = cfg.session()
    session.choose("frame", "oak")
    expected = _snapshot(cfg.session().choose("frame", "oak"))
    for _ in range(5):
        state = session.state()
        session.choose("glass", "triple")  # a change before the state is first read
        barrier = threading.Barrier(4)
        results: list[Any] = []
        rows: list[Any] = []

        def read(
            state: modcfg.SessionState = state,
            barrier: threading.Barrier = barrier,
            results: list[Any] = results,
            rows: list[Any] = rows,
        ) -> None:
            barrier.wait()
            rows.append(state["glass"])
            results.append(_snapshot(state))

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        session.undo()
        assert results == [expected] * 4
        assert all(row is rows[0] for row in rows)  # one computation, shared


def test_option_state_is_a_plain_frozen_dataclass() -> None:
    option = modcfg.OptionState("available", 3, Decimal("10.00"))
    assert dataclasses.is_dataclass(option)
    assert not hasattr(option, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        option.count = 4  # type: ignore[misc]
    assert option == modcfg.OptionState("available", 3, Decimal("10.00"), None)
    assert option.reason is None
    cfg = modcfg.compile(modcfg.load_catalog("bicycle"))
    state = cfg.session().choose("frame", "road-carbon")
    for row in state.values():
        for shown in row.values():
            assert type(shown) is modcfg.OptionState
            assert dataclasses.replace(shown) == shown


def test_session_repr_names_the_catalog_and_choices() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
    session = cfg.session()
    assert repr(session) == "<Session windows_pro: no choices>"
    session.choose("frame", "pvc")
    state = session.choose("glass", "double")
    assert repr(session) == "<Session windows_pro: frame=pvc, glass=double>"  # not counted yet
    assert state.count == 432
    assert repr(session) == "<Session windows_pro: frame=pvc, glass=double; 432 completions>"
    session.choose("hardware", "trickle-vent", 2)
    assert "hardware.trickle-vent x 2" in repr(session)


def test_why_not_on_an_available_option_says_it_is_available() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
    session = cfg.session()
    state = session.choose("frame", "pvc")
    explanation = session.why_not("glass", "laminated")
    option = state["glass"]["laminated"]
    assert explanation.available
    assert explanation.because == ()
    assert explanation.completions == option.count
    assert explanation.from_price == option.from_price
    assert str(explanation) == (
        f"glass.laminated is available: {option.count:,} completions from EUR {option.from_price}"
    )
    excluded = session.why_not("glass", "triple")
    assert not excluded.available
    assert "is not possible" in str(excluded)


def test_complete_stops_at_the_session_time_limit() -> None:
    session = modcfg.compile("windows").session(time_limit=1e-9)
    with pytest.raises(modcfg.LimitExceeded, match="best completion passed the session's time"):
        session.complete()
    assert session.choices == {}  # (nothing changed)
    assert modcfg.compile("windows").session(time_limit=60).complete().total > 0
    cfg = modcfg.compile("windows")
    text = cfg.session().to_json()
    restored = modcfg.Session.from_json(cfg, text, time_limit=1e-9)  # (a limit is not saved)
    with pytest.raises(modcfg.LimitExceeded):
        restored.complete()
    assert modcfg.Session.from_json(cfg, text).complete().total > 0


def test_why_not_names_one_choice_and_one_rule_without_a_solver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a feature model's "excludes" clause between a choice and the option: no CP-SAT model
    model = tmp_path / "fm.dimacs"
    names = "c 1 Root\nc 2 Cash\nc 3 Card\nc 4 Wallet\n"
    model.write_text(names + "p cnf 4 3\n1 0\n-2 -3 0\n-4 -3 0\n", encoding="utf-8")
    model_dead = tmp_path / "dead.dimacs"  # Card excluded by the catalog itself too
    model_dead.write_text(names + "p cnf 4 4\n1 0\n-2 -3 0\n-4 -3 0\n-3 0\n", encoding="utf-8")
    from modcfg.explain import _whynot

    def no_solver(*args: object, **kwargs: object) -> None:
        raise AssertionError("the solver was asked")

    cfg = modcfg.compile(modcfg.load_catalog(model))
    session = cfg.session()
    session.choose("Cash", "selected")
    monkeypatch.setattr(_whynot, "ConflictModel", no_solver)
    why = session.why_not("Card", "selected")
    assert why.because == ("your choice Cash.selected",)
    assert list(why.rules) == ["clause-2"]
    monkeypatch.undo()
    dead = modcfg.compile(modcfg.load_catalog(model_dead)).session()
    dead.choose("Cash", "selected")
    assert dead.why_not("Card", "selected").because == ()  # (the catalog itself)


def test_a_multi_select_option_is_chosen_in_any_quantity_as_it_is_counted() -> None:
    catalog = modcfg.Catalog.model_validate(
        {
            "catalog": "cages",
            "slots": {
                "frame": {"modules": {"a": {}, "b": {}}},
                "cages": {
                    "cardinality": {"min": 0, "max": 2},
                    "modules": {"cage": {"max_quantity": 2}, "light": {}},
                },
            },
            "rules": [{"id": "pairs", "constraint": "cages.cage != 1"}],
        }
    )
    session = modcfg.compile(catalog).session()
    shown = session.state()["cages"]["cage"]
    assert (shown.status, shown.count) == ("available", 2)  # (two cages, one per frame)
    with pytest.raises(modcfg.InfeasibleError, match="pairs"):
        session.choose("cages", "cage", 1)
    state = session.choose("cages", "cage")
    assert state.count == shown.count
    assert session.choices == {"cages": {"cage": None}}
    restored = modcfg.Session.from_dict(modcfg.compile(catalog), session.to_dict())
    assert restored.choices == session.choices
    assert restored.state().count == 2
    assert session.choose("cages", "cage", 2).count == 2
    assert session.choices == {"cages": {"cage": 2}}
