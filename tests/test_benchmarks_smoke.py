"""The benchmark suite's generator and peers stay correct: counts, top prices and steps agree."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate_catalog  # noqa: E402
from benchmarks.peers import Problem, peer_class  # noqa: E402
from benchmarks.peers._problem import _matches  # noqa: E402
from benchmarks.workloads import WORKLOADS, Missing, Spec, load_catalog  # noqa: E402

import modcfg  # noqa: E402
from modcfg.model import TableRule  # noqa: E402

COUNTING_PEERS = ["itertools", "cp-sat", "networkx-dp", "dd-cudd", "ganak"]
ALL_PEERS = ["itertools", "cp-sat", "python-constraint", "dd-cudd", "pysat", "networkx-dp"]


def test_generator_is_deterministic_and_sized() -> None:
    first = generate_catalog(20, 6, 40, seed=20)
    again = generate_catalog(20, 6, 40, seed=20)
    other = generate_catalog(20, 6, 40, seed=21)
    assert first.model_dump() == again.model_dump()
    assert first.model_dump() != other.model_dump()
    assert len(first.slots) == 20
    assert all(len(slot.modules) == 6 for slot in first.slots.values())
    assert len(first.rules) == 40
    assert len(generate_catalog(100, 5, 250, seed=100).rules) == 250


def test_generated_rules_are_local() -> None:
    catalog = generate_catalog(30, 4, 60, seed=3)
    position = {slot: number for number, slot in enumerate(catalog.slots)}
    for rule in catalog.rules:
        text = rule.model_dump_json()
        numbers = [position[slot] for slot in catalog.slots if f'"{slot}' in text]
        assert max(numbers) - min(numbers) <= 3, rule.id


@pytest.mark.parametrize(("name", "expected"), [("windows", 1800), ("credit_cards", 200)])
@pytest.mark.parametrize("peer", COUNTING_PEERS)
def test_peers_count_the_bundled_catalogs(name: str, expected: int, peer: str) -> None:
    catalog = modcfg.load_catalog(name)
    assert peer_class(peer)(catalog).count() == expected


def test_peers_agree_on_a_small_generated_catalog() -> None:
    catalog = generate_catalog(7, 3, 12, seed=5)
    peers = {name: peer_class(name)(catalog) for name in ALL_PEERS}
    counts = {name: peer.count() for name, peer in peers.items()}
    assert len(set(counts.values())) == 1, counts
    assert 0 < counts["itertools"] < 3**7
    cheapest = {name: peers[name].cheapest(None, 10) for name in ("itertools", "cp-sat")}
    assert cheapest["itertools"] == cheapest["cp-sat"]
    assert cheapest["itertools"] == sorted(cheapest["itertools"])
    slot = next(iter(catalog.slots))
    module = next(iter(catalog.slots[slot].modules))
    steps = {name: peer.step(None, {slot: module}) for name, peer in peers.items()}
    reference = steps["itertools"]
    for name, step in steps.items():
        assert step.possible == reference.possible, name
        if step.counts is not None:
            assert step.counts == reference.counts, name
    enumerated = {
        name: sorted(set(peers[name].assignments(peers[name].configurations())))
        for name in ("itertools", "cp-sat", "dd-cudd", "pysat")
    }
    assert all(found == enumerated["itertools"] for found in enumerated.values())
    assert len(enumerated["itertools"]) == counts["itertools"]


def test_dd_count_is_a_double_above_2_to_the_53() -> None:
    catalog = generate_catalog(40, 5, 60, seed=7)
    exact = peer_class("networkx-dp")(catalog).count()
    approximate = peer_class("dd-cudd")(catalog).count()
    assert exact > 2**53
    assert abs(approximate - exact) / exact < 1e-9


REAL = [spec for spec in WORKLOADS if spec.data is not None]


@pytest.mark.parametrize("spec", REAL, ids=[spec.name for spec in REAL])
def test_real_models_load_with_seeded_prices(spec: Spec) -> None:
    try:
        catalog = load_catalog(spec)
    except Missing:
        pytest.skip(f"{spec.data} is not available")
    modules = [module for slot in catalog.slots.values() for module in slot.modules.values()]
    prices = {module.price for module in modules}
    assert prices <= {Decimal(n) for n in range(10)}
    assert len(prices) > 1
    assert all(module.price == 0 for module in modules if module.label == "-1")
    assert load_catalog(spec).model_dump() == catalog.model_dump()
    Problem(catalog)  # the translation copes with the model's tables


def test_a_real_model_counts_as_published() -> None:
    spec = next(spec for spec in WORKLOADS if spec.name == "ovm_rfw")
    try:
        catalog = load_catalog(spec)
    except Missing:
        pytest.skip(f"{spec.data} is not available")
    assert peer_class("networkx-dp")(catalog).count() == 1_621_759


def test_table_rows_translate_like_their_predicate() -> None:
    catalog = modcfg.load_catalog("bicycle")
    problem = Problem(catalog)
    checked = 0
    for rule, table in zip(catalog.rules, problem.tables, strict=True):
        if isinstance(rule, TableRule):
            predicate = _matches(rule.table.slots, rule.rows, allow=rule.allow)
            allowed, forbidden = problem._tabulate(rule.id, table.scope, predicate)
            assert (table.allowed, table.forbidden) == (allowed, forbidden), rule.id
            checked += 1
    assert checked


def test_summary_compares_build_plus_query_with_the_fastest_exact_peer() -> None:
    from benchmarks.harness import Outcome
    from benchmarks.report import Check, summary_rows

    results = {
        ("w", "build"): {
            "modcfg": Outcome("ok", 0.010),
            "pysat": Outcome("ok", 0.005),
            "dd-cudd": Outcome("ok", 0.001),
        },
        ("w", "count"): {
            "modcfg": Outcome("ok", 0.001),
            "pysat": Outcome("ok", 0.030),  # 35 ms in all
            "dd-cudd": Outcome("ok", 0.001),  # faster, but an inexact count
        },
        ("w", "step"): {
            "modcfg": Outcome("ok", 0.002),
            "pysat": Outcome("ok", 0.010),  # 15 ms in all: under 2x of modcfg's 12 ms
            "dd-cudd": Outcome("timeout"),
        },
        ("w", "top10"): {"modcfg": Outcome("ok", 0.002), "pysat": Outcome("n/a")},
    }
    checks = {("w", "count"): {"modcfg": Check("ref"), "pysat": Check("="), "dd-cudd": Check("≈")}}
    rows = {row[1]: row for row in summary_rows(results, checks)}
    assert rows["count"][3:] == ["pysat 35.0 ms", "×3.18", "2x or more"]
    assert rows["step"][3:] == ["pysat 15.0 ms", "×1.25", "under 2x"]
    assert rows["top10"][3:] == ["none finishes", "", "exact alone"]


@pytest.mark.parametrize("tool", ["modcfg", "CMSGen", "UniGen"])
def test_the_corpus_samplers_draw_models_and_their_check_finds_non_models(
    tmp_path: Path, tool: str
) -> None:
    """Each sampler of benchmarks/corpus_samples.py draws models of a small formula, and the
    benchmark's check refuses a draw that breaks a clause or a short sample."""
    from benchmarks import corpus_samples

    path = tmp_path / "small.dimacs"
    path.write_text("p cnf 4 3\n1 2 0\n-1 -2 0\n3 -4 0\n")
    variables, clauses = corpus_samples.read_clauses(path)
    draw = corpus_samples.draw_modcfg if tool == "modcfg" else corpus_samples.PEERS[tool][1]
    drawn = draw(path, variables, clauses, 20)
    assert corpus_samples._check(drawn, clauses, 20) == ""
    assert all((1 in chosen) != (2 in chosen) for chosen in drawn)
    assert "breaks clause" in corpus_samples._check([{1, 2}], clauses, 1)
    assert corpus_samples._check(drawn[:3], clauses, 20) == "drew 3 of 20"
