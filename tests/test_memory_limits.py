"""The memory budget of a compile: estimated before allocating, refused with a clear message.

Every compile and query stays under ``memory_limit`` (bytes; by default half the physical
memory). Tables too large to build, bags too large to hold and passes too large to run raise
:class:`modcfg.LimitExceeded` at once, naming the rule or the bag's slots, the estimate and the
limit, instead of growing until the operating system stops the process.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

import modcfg
import modcfg.engines.decomposition._tree
import modcfg.io
from modcfg.model import catalog_from_data

#: A refusal is quick: the estimate comes before any large allocation.
QUICK = 20.0


def _dimacs(path: Path, variables: int, clauses: list[list[int]]) -> Path:
    lines = [f"p cnf {variables} {len(clauses)}"]
    lines += [" ".join(map(str, (*clause, 0))) for clause in clauses]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _refusal(catalog: modcfg.Catalog, **options: Any) -> modcfg.LimitExceeded:
    started = time.monotonic()
    with pytest.raises(modcfg.LimitExceeded) as caught:
        modcfg.compile(catalog, **options)
    assert time.monotonic() - started < QUICK
    return caught.value


def _inclusion_exclusion(variables: int, clauses: list[list[int]]) -> int:
    """The models of a CNF formula with few clauses, by inclusion and exclusion: a set of
    clauses all false fixes the variables they name (none when two literals clash)."""
    total = 0
    for size in range(len(clauses) + 1):
        for chosen in itertools.combinations(clauses, size):
            literals = {literal for clause in chosen for literal in clause}
            if any(-literal in literals for literal in literals):
                continue
            named = {abs(literal) for literal in literals}
            total += (-1) ** size * 2 ** (variables - len(named))
    return total


@pytest.mark.timeout(120)
def test_a_clause_over_a_hundred_literals_counts_exactly(tmp_path: Path) -> None:
    """A clause forbids one combination of its slots: wide ones are clauses, not tables."""
    chooser = random.Random(7)
    clauses = [[1, -2], [2, 3, -4]]
    for _ in range(3):
        chosen = chooser.sample(range(1, 151), 104)
        clauses.append([v if chooser.random() < 0.5 else -v for v in chosen])
    catalog = modcfg.io.read_dimacs(_dimacs(tmp_path / "wide.dimacs", 150, clauses))
    started = time.monotonic()
    assert modcfg.compile(catalog).count() == _inclusion_exclusion(150, clauses)
    assert time.monotonic() - started < QUICK


@pytest.mark.timeout(120)
def test_a_clause_of_thirty_literals_counts_exactly(tmp_path: Path) -> None:
    clauses = [[1, -2], list(range(3, 33))]
    catalog = modcfg.io.read_dimacs(_dimacs(tmp_path / "clause.dimacs", 40, clauses))
    assert modcfg.compile(catalog).count() == _inclusion_exclusion(40, clauses)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_real_model_with_a_clause_of_107_literals_counts_exactly(shared_data: Path) -> None:
    path = shared_data / "corpus" / "security__CVE__VarelaVaca2020-2008-7293.dimacs"
    if not path.is_file():
        pytest.skip(f"{path.name} is not available")
    manifest = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))
    counts = {model["file"]: int(model["count"]) for model in manifest["models"]}
    assert modcfg.compile(modcfg.io.read_dimacs(path)).count() == counts[path.name]


def _deny_table(slots: int, modules: int, rows: int) -> dict[str, Any]:
    chooser = random.Random(12)
    names = [f"s{i}" for i in range(slots)]
    forbidden: set[tuple[str, ...]] = set()
    while len(forbidden) < rows:
        forbidden.add(tuple(f"m{chooser.randrange(modules)}" for _ in names))
    return {
        "catalog": "deny",
        "slots": {name: {"modules": {f"m{j}": {} for j in range(modules)}} for name in names},
        "rules": [
            {"id": "no-clash", "table": {"slots": names, "deny": [list(row) for row in forbidden]}}
        ],
    }


@pytest.mark.timeout(120)
def test_a_deny_table_of_fifty_thousand_rows_over_twelve_slots_is_refused_quickly() -> None:
    error = _refusal(catalog_from_data(_deny_table(12, 6, 50_000)))
    message = str(error)
    assert "'no-clash'" in message
    assert "12 slots" in message
    assert error.estimate == 6**12


@pytest.mark.timeout(120)
def test_a_deny_table_whose_complement_would_fill_gigabytes_is_refused_quickly() -> None:
    error = _refusal(catalog_from_data(_deny_table(12, 4, 50_000)))
    assert "'no-clash'" in str(error)
    assert error.estimate == 4**12


def test_a_deny_table_whose_complement_exceeds_a_small_memory_limit_is_refused() -> None:
    error = _refusal(catalog_from_data(_deny_table(6, 5, 2_000)), memory_limit=100_000)
    assert "'no-clash'" in str(error)
    assert "memory_limit=100000" in str(error)


def test_a_deny_table_that_fits_counts_exactly() -> None:
    cfg = modcfg.compile(catalog_from_data(_deny_table(6, 5, 2_000)))
    assert cfg.count() == 5**6 - 2_000


def test_a_tiny_memory_limit_names_a_rule_or_a_bag() -> None:
    catalog = modcfg.load_catalog("bicycle")
    error = _refusal(catalog, memory_limit=10_000)
    message = str(error)
    assert "rule '" in message or "bag of" in message
    assert "memory_limit=10000" in message or "10,000" in message
    assert error.limit == 10_000
    assert error.estimate is not None
    assert error.estimate > 10_000


def _triangle(modules: int) -> modcfg.Catalog:
    """Three slots that every pair of rules ties together: one bag of about modules**3 rows."""
    names = ("a", "b", "c")
    data = {
        "catalog": "triangle",
        "slots": {name: {"modules": {f"m{j}": {} for j in range(modules)}} for name in names},
        "rules": [
            {"id": f"{x}-not-{y}", "excludes": [f"{x}.m0", f"{y}.m1"]}
            for x, y in (("a", "b"), ("b", "c"), ("c", "a"))
        ],
    }
    return catalog_from_data(data)


def test_a_bag_beyond_the_limit_is_refused_naming_its_slots() -> None:
    catalog = _triangle(100)
    assert modcfg.compile(catalog).count() == 100**3 - 3 * 100  # (the three pairs never overlap)
    error = _refusal(catalog, memory_limit=4_000_000)
    message = str(error)
    assert "bag of 3 slots" in message
    assert "a, b, c" in message
    assert error.limit == 4_000_000


def test_the_general_join_refuses_a_bag_beyond_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modcfg.engines.decomposition._tree, "COMPILED", False)
    error = _refusal(_triangle(100), memory_limit=4_000_000)
    assert "bag of 3 slots (a, b, c)" in str(error)


def test_the_default_limit_is_half_the_physical_memory() -> None:
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    assert cfg.memory_limit == physical // 2
    assert modcfg.compile(modcfg.load_catalog("windows"), memory_limit=10**9).memory_limit == 10**9


@pytest.mark.parametrize("limit", [0, -1, 2.5, True])
def test_a_memory_limit_must_be_a_positive_whole_number_of_bytes(limit: Any) -> None:
    with pytest.raises(modcfg.NeedsError, match="memory_limit"):
        modcfg.compile(modcfg.load_catalog("windows"), memory_limit=limit)


def test_queries_stay_under_the_limit_of_their_compile() -> None:
    catalog = _triangle(100)
    cfg = modcfg.compile(catalog, memory_limit=400_000_000)
    assert cfg.count(modcfg.Needs(require=["a.m3"])) == 100**2 - 1


def test_passes_beyond_the_limit_are_refused_before_they_run() -> None:
    """A hundred chained slots: small rules and bags, but counts above 2**200 need a row of
    residues per bag row."""
    data: dict[str, Any] = {
        "catalog": "chain",
        "slots": {f"s{i}": {"modules": {f"m{j}": {} for j in range(5)}} for i in range(100)},
        "rules": [{"id": f"r{i}", "excludes": [f"s{i}.m0", f"s{i + 1}.m0"]} for i in range(99)],
    }
    catalog = catalog_from_data(data)
    assert modcfg.compile(catalog).count() > 2**200
    error = _refusal(catalog, memory_limit=300_000)  # (the bags need about 230 kB)
    assert not isinstance(error, modcfg.TimeLimitExceeded)  # (a size limit)
    assert "counting over" in str(error)
    assert "primes" in str(error)


def test_the_plans_of_many_customers_keep_within_a_share_of_the_limit() -> None:
    """Each customer's needs get a plan, whose queries hold passes over the whole tree: the
    compiled catalog keeps the newest plans whose estimated passes fit a quarter of its memory
    limit, so serving many different needs does not grow without bound."""
    catalog = _triangle(100)
    limit = 400_000_000
    cfg = modcfg.compile(catalog, memory_limit=limit)
    each = cfg.compiled.plan_bytes()
    assert each > 0
    kept = (limit // 4) // each
    assert 1 <= kept < 20  # (the test needs plans to be dropped)
    for value in range(2 * kept + 2):
        needs = modcfg.Needs(require=[f"a.m{value}"])
        assert cfg.session(needs).state().count == (9899 if value < 2 else 9999)
    plans = cfg.compiled.plans
    assert plans.weight <= limit // 4
    assert 1 <= len(plans) <= kept
    assert modcfg.Needs(require=[f"a.m{2 * kept + 1}"]).model_dump_json() in {
        key for key, _ in plans
    }
