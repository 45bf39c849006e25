"""Value recommendation: proposals are exactly the still-possible modules (against brute force),
learning from sales beats the most popular module where the sales say so, runs are
deterministic, and bad input gives clear errors."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modcfg
import modcfg.io
from modcfg.memory import Recommender
from tests import oracle
from tests.strategies import Case, cases

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate_catalog  # noqa: E402
from benchmarks.recommend import cross_validate, folds_of  # noqa: E402

SMALL = 300


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(SMALL), data=st.data())
def test_recommendations_are_exactly_the_possible_modules(case: Case, data: st.DataObject) -> None:
    valid = [dict(c) for c in oracle.valid_configurations(case.catalog, case.needs)]
    if not valid:
        return
    cfg = modcfg.compile(case.catalog)
    picks = data.draw(st.lists(st.integers(0, len(valid) - 1), min_size=1, max_size=30))
    recommender = Recommender.fit(cfg, [valid[pick] for pick in picks])
    session = cfg.session(case.needs)
    single = [slot for slot, spec in case.catalog.slots.items() if spec.single]
    for _ in range(data.draw(st.integers(0, 3))):
        state = session.state()
        options = [
            (slot, module)
            for slot in single
            if slot not in session.choices
            for module, option in state[slot].items()
            if option.status != "excluded"
        ]
        if not options:
            break
        session.choose(*data.draw(st.sampled_from(options)))
    slot = data.draw(st.sampled_from(sorted(case.catalog.slots)))
    ranked = recommender.recommend(session, slot)
    rows = [c for c in valid if oracle.agrees(c, session.choices)]
    possible = {module for c in rows for module in oracle.units(c[slot])}
    assert [module for module, _ in ranked] != [] or not possible
    assert sorted(module for module, _ in ranked) == sorted(possible)
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= score <= 1 for score in scores)
    assert sum(scores) == pytest.approx(1) or not scores


def _windows_sales(count: int, seed: int) -> list[dict[str, str]]:
    """Customers who pick oak want triple glazing, everyone else double; pvc sells most."""
    rng = random.Random(seed)
    sales = []
    for _ in range(count):
        frame = "oak" if rng.random() < 0.3 else "pvc"
        glass = "triple" if (frame == "oak") == (rng.random() < 0.9) else "double"
        sales.append({"frame": frame, "glass": glass})
    return sales


def test_context_beats_the_most_popular_module() -> None:
    cfg = modcfg.compile("windows")
    recommender = Recommender.fit(cfg, _windows_sales(200, 1))
    session = cfg.session()
    assert recommender.recommend(session, "glass")[0][0] == "double"
    session.choose("frame", "oak")
    ranked = recommender.recommend(session, "glass")
    assert ranked[0][0] == "triple"
    assert ranked[0][1] > 0.7
    assert {module for module, _ in ranked} == set(session.state().available("glass"))


def test_unrecorded_slots_rank_by_share_of_completions() -> None:
    cfg = modcfg.compile("windows")
    recommender = Recommender.fit(cfg, _windows_sales(20, 2))
    session = cfg.session()
    state = session.state()
    ranked = recommender.recommend(session, "grade")
    total = sum(option.count for option in state["grade"].values())
    assert ranked == sorted(
        ((m, o.count / total) for m, o in state["grade"].items()), key=lambda p: -p[1]
    )
    assert recommender.slots == ("frame", "glass")
    assert recommender.sales == 20
    assert repr(recommender) == "<Recommender windows: 20 sales over 2 slots>"


def test_fitting_and_cross_validation_are_deterministic() -> None:
    cfg = modcfg.compile("windows")
    sales = _windows_sales(60, 3)
    first, again = Recommender.fit(cfg, sales), Recommender.fit(cfg, sales)
    session = cfg.session()
    session.choose("frame", "pvc")
    assert first.recommend(session, "glass") == again.recommend(session, "glass")
    assert folds_of(60, 10, seed=4) == folds_of(60, 10, seed=4)
    assert folds_of(60, 10, seed=4) != folds_of(60, 10, seed=5)
    runs = [cross_validate(cfg, sales, folds=3, seed=4) for _ in range(2)]
    assert [(t.steps, t.hits, t.open_steps, t.open_hits) for t in runs[0].values()] == [
        (t.steps, t.hits, t.open_steps, t.open_hits) for t in runs[1].values()
    ]


def _hidden_taste_sales(cfg: modcfg.Configurator, count: int, seed: int) -> list[dict[str, Any]]:
    """Valid configurations of a generated catalog, drawn from a few customer types (each a
    complete configuration) with one slot in five changed at random."""
    rng = random.Random(seed)
    pool = [dict(c) for c in cfg.configurations(limit=400)]
    types = rng.sample(pool, 4)
    sales = []
    for _ in range(count):
        base = rng.choice(types)
        sale = min(pool, key=lambda c: sum(c[s] != base[s] for s in base) + rng.random() * 3)
        sales.append(sale)
    return sales


def test_small_cross_validation_beats_the_baselines() -> None:
    cfg = modcfg.compile(generate_catalog(8, 3, 6, seed=7))
    sales = _hidden_taste_sales(cfg, 120, 8)
    tallies = cross_validate(cfg, sales, folds=5, seed=1, cars=40)
    ours, popular = tallies["modcfg"], tallies["most popular"]
    assert ours.steps == popular.steps == 40 * 8
    assert ours.open_hits / ours.open_steps > popular.open_hits / popular.open_steps


@pytest.mark.slow
def test_renault_cross_validation_on_a_subset(shared_data: Path) -> None:
    catalog = modcfg.io.read_xcsp(shared_data / "renault" / "medium.xml")
    sales = modcfg.io.read_sales(shared_data / "renault" / "medium_sales.txt", catalog)
    tallies = cross_validate(modcfg.compile(catalog), sales, folds=10, seed=0, cars=60)
    rates = {name: t.open_hits / t.open_steps for name, t in tallies.items()}
    assert rates["modcfg"] > rates["most popular"]
    assert rates["modcfg"] > rates["naive Bayes"]


def test_bad_sales_and_slots_say_what_is_wrong(tmp_path: Path) -> None:
    cfg = modcfg.compile("windows")
    for sales, words in [
        ([{"frme": "oak"}], "sale 0 names slot 'frme'.*did you mean 'frame'"),
        ([{"frame": "oak"}, {"frame": "oka"}], "sale 1 chooses 'oka' for slot 'frame'.*'oak'"),
        ([["frame", "oak"]], "sale 0 is a list, not a mapping"),
        ([], "no sales to learn from"),
    ]:
        with pytest.raises(modcfg.NeedsError, match=words):
            Recommender.fit(cfg, sales)
    with pytest.raises(modcfg.NeedsError, match="min_support=0"):
        Recommender.fit(cfg, [{"frame": "oak"}], min_support=0)
    with pytest.raises(modcfg.NeedsError, match="smoothing=0"):
        Recommender.fit(cfg, [{"frame": "oak"}], smoothing=0)
    recommender = Recommender.fit(cfg, [{"frame": "oak"}])
    with pytest.raises(modcfg.NeedsError, match=r"'glas' is no slot.*did you mean 'glass'"):
        recommender.recommend(cfg.session(), "glas")
    with pytest.raises(modcfg.NeedsError, match=r"'oka' is no module of slot 'frame'.*'oak'"):
        recommender.rank("frame", {}, ["oka"])
    assert recommender.rank("frame", {}, []) == []
    assert recommender.rank("frame", {"glass": "triple"}, ["pvc", "oak"])[0][0] == "oak"
    catalog = cfg.catalog
    bad = tmp_path / "sales.txt"
    bad.write_text("frame glass\noak triple\noak quartz\n")
    with pytest.raises(modcfg.CatalogError, match="'quartz' is no value of slot 'glass'") as caught:
        modcfg.io.read_sales(bad, catalog)
    assert (caught.value.path, caught.value.line) == (str(bad), 3)
    good = tmp_path / "good.txt"
    good.write_text("frame glass\noak triple\npvc double\n")
    read = modcfg.io.read_sales(good, catalog)
    assert [dict(sale) for sale in read] == [
        {"frame": "oak", "glass": "triple"},
        {"frame": "pvc", "glass": "double"},
    ]
    assert Recommender.fit(cfg, read).sales == 2


def _mutual_information(sales: list[dict[str, Any]], x: str, y: str) -> float:
    """The mutual information of slots x and y over the sales that record both, by counting."""
    import math
    from collections import Counter

    both = [(sale[x], sale[y]) for sale in sales if x in sale and y in sale]
    if not both:
        return 0.0
    joint = Counter(both)
    left = Counter(a for a, _ in both)
    right = Counter(b for _, b in both)
    n = len(both)
    return sum(c / n * math.log(c * n / (left[a] * right[b])) for (a, b), c in joint.items())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_relevance_of_slots_is_their_mutual_information(data: st.DataObject) -> None:
    """Each slot's relevance to the others (which choices make the context first), worked
    out per slot asked about, is the mutual information counted pair by pair."""
    slots = {f"s{i}": [f"m{j}" for j in range(data.draw(st.integers(1, 3)))] for i in range(6)}
    catalog = modcfg.Catalog.model_validate(
        {
            "catalog": "mi",
            "slots": {
                slot: {"cardinality": "optional", "modules": {m: {} for m in modules}}
                for slot, modules in slots.items()
            },
        }
    )
    choice = st.sampled_from([None, *range(3)])
    sales = []
    for _ in range(data.draw(st.integers(1, 25))):
        sale = {}
        for slot, modules in slots.items():
            picked = data.draw(choice)  # (an index past the modules: the sale does not record it)
            if picked is None or picked < len(modules):
                sale[slot] = None if picked is None else modules[picked]
        sales.append(sale)
    recommender = Recommender.fit(modcfg.compile(catalog), sales)
    for target, x in enumerate(recommender.slots):
        row = recommender._relevance_row(target)
        for number, y in enumerate(recommender.slots):
            expected = 0.0 if x == y else _mutual_information(sales, x, y)
            assert row[number] == pytest.approx(expected, abs=1e-9), (x, y)
