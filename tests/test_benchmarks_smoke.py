"""The benchmark suite's generator and peers stay correct: counts, top prices and steps agree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate_catalog  # noqa: E402
from benchmarks.peers import peer_class  # noqa: E402

import modcfg  # noqa: E402

COUNTING_PEERS = ["itertools", "cp-sat", "networkx-dp", "dd-cudd"]
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
