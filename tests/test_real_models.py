"""Exact counts of the real third-party models, read through ``modcfg.io``.

The reference counts come from ``shared/data/README.md`` (each reproduced there by two
independent counters). A feature-model configuration assigns every feature, abstract ones
included; a DIMACS configuration assigns every variable of the ``p cnf`` line; a Renault car
assigns every one of its 148 variables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import modcfg
import modcfg.io

COUNTS = [
    pytest.param("uvl/ovm_RFW.uvl", 1_621_759, id="ovm_RFW"),
    pytest.param("uvl/berkeleydb.uvl", 4_080_389_785, id="berkeleydb"),
    pytest.param("uvl/axTLS.uvl", 826_244_333_568, id="axTLS"),
    pytest.param("dimacs/e_shop.dimacs", 247_496_437_923_840, id="e_shop"),
    pytest.param("dimacs/bank.dimacs", 52_582_279_903_621_926_514_707_790_823_424, id="bank"),
    pytest.param("renault/medium.xml", 278_744, id="renault-medium", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("name", "expected"), COUNTS)
def test_reference_count(shared_data: Path, name: str, expected: int) -> None:
    catalog = modcfg.load_catalog(shared_data / name)
    assert modcfg.compile(catalog).count() == expected


@pytest.mark.parametrize(("name", "expected"), COUNTS[:3])
def test_feature_models_keep_their_count_through_dimacs(
    shared_data: Path, tmp_path: Path, name: str, expected: int
) -> None:
    path = tmp_path / "model.dimacs"
    modcfg.io.write_dimacs(modcfg.io.read_uvl(shared_data / name), path)
    assert modcfg.compile(modcfg.io.read_dimacs(path)).count() == expected


@pytest.mark.parametrize(("name", "expected"), COUNTS[:3])
def test_feature_models_keep_their_count_through_uvl(
    shared_data: Path, tmp_path: Path, name: str, expected: int
) -> None:
    path = tmp_path / "model.uvl"
    modcfg.io.write_uvl(modcfg.io.read_uvl(shared_data / name), path)
    assert modcfg.compile(modcfg.io.read_uvl(path)).count() == expected


@pytest.mark.slow
def test_sold_cars_are_valid_partial_configurations(shared_data: Path) -> None:
    catalog = modcfg.io.read_xcsp(shared_data / "renault" / "medium.xml")
    sales = modcfg.io.read_sales(shared_data / "renault" / "medium_sales.txt", catalog)
    configurator = modcfg.compile(catalog)
    for sale in sales[::40]:
        needs = modcfg.Needs(require=[f"{slot}.{module}" for slot, module in sale.items()])
        assert configurator.count(needs) >= 1, dict(sale)


@pytest.mark.slow
def test_a_renault_session_under_a_budget_shows_every_option(shared_data: Path) -> None:
    """The Renault catalog with module prices: its counts fit 64-bit integers, though its 148
    slots' value combinations do not, so a session under a budget 30 % above the cheapest car
    opens (it gave up after too many steps on Python integers before), and its per-option
    counts agree with counting."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.workloads import priced  # (the benchmark's seeded module prices)

    catalog = priced(modcfg.io.read_xcsp(shared_data / "renault" / "medium.xml"), "renault")
    configurator = modcfg.compile(catalog)
    cheapest = configurator.best(k=1)[0].total
    needs = modcfg.Needs(budget=cheapest * 13 / 10)
    state = configurator.session(needs).state()
    assert state.count == configurator.count(needs) == 9_460
    for slot in ("v0", "v14", "v46"):
        counts = {module: option.count for module, option in state[slot].items()}
        assert sum(counts.values()) == state.count
        module = max(counts, key=counts.__getitem__)
        required = modcfg.Needs(budget=needs.budget, require=[f"{slot}.{module}"])
        assert configurator.count(required) == counts[module]
