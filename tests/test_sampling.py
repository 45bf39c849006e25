"""Random and covering samples against the oracle.

Uniform and weighted draws are checked with a chi-square test against the oracle's
configurations (fixed seeds, so a run is reproducible; the threshold is a p-value of 1e-4);
every draw is valid; covering samples cover every feasible pair of the bundled catalogs.
"""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal
from math import prod
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import modcfg
import modcfg._compiled
from modcfg import _sampling
from modcfg.engines import _aside
from modcfg.engines._aside import AsideQuery
from modcfg.engines.compiled import CompiledQuery
from modcfg.lower import _lowering

from . import oracle, strategies
from .test_aside import compiled_aside
from .test_clauses import formula_file, formulas, write_dimacs

stats = pytest.importorskip("scipy.stats", reason="scipy (dev extra) is not installed")

P_VALUE = 1e-4


def chi_square(
    found: Counter[modcfg.Configuration], expected: dict[modcfg.Configuration, float]
) -> float:
    """The p-value of the draws against the expected probabilities."""
    assert set(found) <= set(expected)
    total = sum(found.values())
    keys = list(expected)
    observed = [found[key] for key in keys]
    return float(stats.chisquare(observed, [expected[key] * total for key in keys]).pvalue)


@pytest.mark.parametrize(
    ("name", "needs"),
    [
        ("windows", modcfg.Needs(require=["glass.triple"], forbid=["frame.pvc"])),
        ("credit_cards", None),
        ("windows", modcfg.Needs(require=["grade.g3"], budget="400")),
    ],
)
def test_uniform_draws_pass_a_chi_square_test(name: str, needs: modcfg.Needs | None) -> None:
    catalog = modcfg.load_catalog(name)
    valid = [configuration for _, _, configuration in oracle.ranked(catalog, needs)]
    cfg = modcfg.compile(catalog)
    draws = cfg.sample(30 * len(valid), needs=needs, seed=11)
    assert chi_square(Counter(draws), dict.fromkeys(valid, 1 / len(valid))) > P_VALUE


@pytest.mark.parametrize("weights", [{"frame.oak": 5, "glass.triple": 3}, {"frame.oak": 0.5}])
def test_weighted_draws_pass_a_chi_square_test(weights: dict[str, float]) -> None:
    catalog = modcfg.load_catalog("windows")
    needs = modcfg.Needs(forbid=["picture.bars"], require=["grade.g2"])
    valid = [configuration for _, _, configuration in oracle.ranked(catalog, needs)]

    def weight(configuration: modcfg.Configuration) -> float:
        return prod(weights.get(f"{slot}.{module}", 1) for slot, module in configuration.items())

    total = sum(weight(c) for c in valid)
    cfg = modcfg.compile(catalog)
    draws = cfg.sample(40 * len(valid), needs=needs, seed=5, weights=weights)
    expected = {c: weight(c) / total for c in valid}
    assert chi_square(Counter(draws), expected) > P_VALUE


# the oracle prices every configuration of each example (about 1 s under load): fewer examples
@settings(max_examples=30, deadline=None)
@given(strategies.cases(200))
def test_draws_are_valid_and_reproducible(case: strategies.Case) -> None:
    cfg = modcfg.compile(case.catalog)
    valid = {configuration for _, _, configuration in oracle.ranked(case.catalog, case.needs)}
    if not valid:
        with pytest.raises(modcfg.InfeasibleError):
            cfg.sample(1, needs=case.needs)
        return
    draws = cfg.sample(20, needs=case.needs, seed=3)
    assert set(draws) <= valid
    assert draws == cfg.sample(20, needs=case.needs, seed=3)


def test_sample_errors() -> None:
    cfg = modcfg.compile("windows")
    with pytest.raises(modcfg.NeedsError, match=r"frame\.teak"):
        cfg.sample(1, weights={"frame.teak": 2})
    with pytest.raises(modcfg.NeedsError, match="weight >= 0"):
        cfg.sample(1, weights={"frame.oak": -1})
    with pytest.raises(modcfg.NeedsError, match="n=-1"):
        cfg.sample(-1)
    assert cfg.sample(0) == []


def test_a_sample_too_large_to_hold_or_too_slow_to_draw_is_refused() -> None:
    cfg = modcfg.compile("windows", memory_limit=64 * 2**20)
    with pytest.raises(modcfg.LimitExceeded, match=r"n=1,000,000,000 .* over the memory"):
        cfg.sample(10**9)
    with pytest.raises(modcfg.LimitExceeded, match=r"the sample passed time_limit=0\.0 s"):
        cfg.sample(5_000, time_limit=0.0)
    seen: list[tuple[int, int | None]] = []
    assert len(cfg.sample(3_000, seed=1, progress=lambda done, n: seen.append((done, n)))) == 3_000
    assert seen[-1] == (3_000, 3_000)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def pairs_of(
    cfg: modcfg.Configurator, configurations: list[modcfg.Configuration], strength: int = 2
) -> set:
    slots = cfg.compiled.slots
    return {
        pair
        for c in configurations
        for pair in itertools.combinations([(s, repr(c[s])) for s in slots], strength)
    }


@pytest.mark.parametrize(
    "name",
    [
        name if name != "bicycle" else pytest.param(name, marks=pytest.mark.slow)
        for name in modcfg.bundled_catalogs()
    ],
)
def test_pairwise_coverage_is_complete_on_the_bundled_catalogs(name: str) -> None:
    cfg = modcfg.compile(name)
    sample = cfg.covering()
    assert sample.coverage == 1.0
    assert sample.covered == sample.possible
    assert all(not cfg.violations(c) for c in sample.configurations)
    if cfg.count() <= 30_000:  # every pair of the whole space appears in the sample
        assert pairs_of(cfg, sample.configurations) == pairs_of(cfg, list(cfg.configurations()))
        assert len(sample.configurations) < cfg.count()


@settings(max_examples=20, deadline=None)
@given(strategies.cases(200))
def test_covering_samples_cover_what_the_oracle_allows(case: strategies.Case) -> None:
    _check_covering(modcfg.compile(case.catalog), case)


@settings(max_examples=strategies.examples(30), deadline=None)
@given(strategies.cases(150))
def test_covering_samples_over_the_compiled_engine_cover_what_the_oracle_allows(
    case: strategies.Case,
) -> None:
    """Past the tree's trial limits: each configuration is the seed combination's values and
    a random draw of the rest from the circuit, and the sample covers every possible one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
        cfg = modcfg.compile(case.catalog)
    if cfg.compiled.wide_base is not None and (case.needs is None or case.needs.budget is None):
        event(type(cfg.compiled.plan(case.needs).query).__name__)
    _check_covering(cfg, case)


def _check_covering(cfg: modcfg.Configurator, case: strategies.Case) -> None:
    """Covering samples of strength 1 to 3 hold valid configurations and cover exactly the
    combinations some valid configuration has."""
    if case.needs is not None and case.needs.budget is not None:
        return
    valid = [configuration for _, _, configuration in oracle.ranked(case.catalog, case.needs)]
    for strength in (1, 2, 3):
        sample = cfg.covering(case.needs, strength=strength)
        assert set(sample.configurations) <= set(valid)
        slots = cfg.compiled.slots
        assert sample.strength == min(strength, len(slots))  # at most every slot at once
        strength = sample.strength
        want = {
            combo
            for c in valid
            for combo in itertools.combinations([(s, repr(c[s])) for s in slots], strength)
        }
        got = {
            combo
            for c in sample.configurations
            for combo in itertools.combinations([(s, repr(c[s])) for s in slots], strength)
        }
        assert got == want
        assert sample.possible == len(want)


def test_a_covering_sample_with_too_many_combinations_or_time_is_refused() -> None:
    cfg = modcfg.compile("bicycle")
    with pytest.raises(modcfg.LimitExceeded, match=r"combinations of 9 slots' values"):
        cfg.covering(strength=9)
    with pytest.raises(modcfg.LimitExceeded, match=r"covering sample passed time_limit=0\.0 s"):
        cfg.covering(strength=2, time_limit=0.0)
    with pytest.raises(modcfg.NeedsError, match="strength='2'"):
        cfg.covering(strength="2")  # type: ignore[arg-type]


# -- catalogs too entangled for one tree: the compiled engine's circuit, clauses set aside ----


def _formula_draws(
    cfg: modcfg.Configurator, variables: int, draws: list[modcfg.Configuration]
) -> Counter[tuple[bool, ...]]:
    """Draws of a catalog read from a formula, as the assignments they are."""
    return Counter(tuple(c[f"x{v + 1}"] is not None for v in range(variables)) for c in draws)


def _weight(values: tuple[bool, ...], weights: dict[int, float]) -> float:
    return prod(weights.get(var, 1) for var, selected in enumerate(values) if selected)


#: 7 variables: a clause over all of them among short ones (46 models).
FORMULA = (7, [[1, 2, 3, 4, 5, 6, 7], [-1, -2], [-3, 4, 5], [-6, 7], [2, -5, -7]])


@pytest.mark.parametrize("engine", ["compiled", "aside"])
@pytest.mark.parametrize("weights", [{}, {0: 3, 4: 0.5}])
def test_draws_of_an_entangled_catalog_pass_a_chi_square_test(
    tmp_path: Path, engine: str, weights: dict[int, float]
) -> None:
    """Uniform and weighted draws from the compiled engine's circuit and from the tree of the
    rules without the clause set aside (draws that break it drawn again) follow the models."""
    variables, clauses = FORMULA
    path = write_dimacs(tmp_path / "f.dimacs", variables, clauses)
    models = [v for v in itertools.product((False, True), repeat=variables) if _satisfies(v)]
    cfg = _entangled(path, engine)
    total = sum(_weight(v, weights) for v in models)
    named = {f"x{var + 1}.selected": weight for var, weight in weights.items()}
    draws = cfg.sample(40 * len(models), seed=13, weights=named or None)
    found = _formula_draws(cfg, variables, draws)
    assert set(found) <= set(models)
    expected = {v: _weight(v, weights) / total for v in models}
    assert chi_square(found, expected) > P_VALUE  # type: ignore[arg-type]


def _satisfies(values: tuple[bool, ...]) -> bool:
    return all(any(values[abs(lit) - 1] == (lit > 0) for lit in c) for c in FORMULA[1])


def _entangled(path: Path, engine: str) -> modcfg.Configurator:
    """The catalog of ``path`` answered by the compiled engine, or with its clauses of two
    literals or more set aside."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
        if engine == "aside":
            patch.setattr(_lowering, "CLAUSE_TABLE_LIMIT", 2)
            patch.setattr(_aside, "ASIDE_SLOTS", 2)
        cfg = modcfg.compile(modcfg.load_catalog(path))
    expected = AsideQuery if engine == "aside" else CompiledQuery
    assert isinstance(cfg.compiled.wide_base, expected)
    return cfg


@settings(max_examples=strategies.examples(60), deadline=None)
@given(strategies.cases(150), st.data())
def test_draws_over_the_compiled_engine_are_valid_and_reproducible(
    case: strategies.Case, data: st.DataObject
) -> None:
    """A catalog past the tree's trial limits: draws come from its circuit, and under a
    customer's conditions from the parts of it they leave; each is valid, and a seed repeats
    them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
        cfg = modcfg.compile(case.catalog)
    needs = modcfg.Needs(
        conditions=data.draw(st.lists(strategies.implications(case.catalog), max_size=2))
    )
    valid = set(oracle.valid_configurations(case.catalog, needs))
    if cfg.compiled.wide_base is not None:
        event(type(cfg.compiled.plan(needs).query).__name__)
    if not valid:
        with pytest.raises(modcfg.InfeasibleError):
            cfg.sample(1, needs=needs)
        return
    slot, found = next(iter(case.catalog.slots.items()))
    weights = {f"{slot}.{next(iter(found.modules))}": 0.25}
    draws = cfg.sample(20, needs=needs, seed=5, weights=weights)
    assert set(draws) <= valid
    assert draws == cfg.sample(20, needs=needs, seed=5, weights=weights)


@settings(max_examples=strategies.examples(80), deadline=None)
@given(formulas(), st.integers(1, 9))
def test_draws_with_clauses_set_aside_are_models(
    tmp_path_factory: pytest.TempPathFactory, formula: tuple[int, list[list[int]]], chosen: int
) -> None:
    """Random formulas with their clauses set aside: every draw is a model (with a customer's
    requirement too), a formula without models refuses to sample, and a covering sample
    covers every pair of values some model has."""
    path, variables, models = formula_file(tmp_path_factory, formula)
    cfg = compiled_aside(path)
    event(type(cfg.compiled.wide_base).__name__)
    chosen = min(chosen, variables)
    needs = modcfg.Needs(conditions=[f"x{chosen}.selected"])
    kept = [values for values in models if values[chosen - 1]]
    for wanted, space in ((None, models), (needs, kept)):
        if not space:
            with pytest.raises(modcfg.InfeasibleError):
                cfg.sample(1, needs=wanted)
            continue
        found = _formula_draws(cfg, variables, cfg.sample(15, needs=wanted, seed=2))
        assert set(found) <= set(space)
    if models:  # a covering sample: random draws of the rules' tree, kept when they hold
        sample = cfg.covering(strength=2)
        pairs = {pair for values in models for pair in itertools.combinations(enumerate(values), 2)}
        drawn = _formula_draws(cfg, variables, sample.configurations)
        assert set(drawn) <= set(models)
        got = {pair for values in drawn for pair in itertools.combinations(enumerate(values), 2)}
        assert got == pairs
        assert sample.possible == len(pairs)


def test_draws_that_keep_too_few_say_which_rules_broke_them(tmp_path: Path) -> None:
    """Rejection that keeps too few draws is refused, naming the clauses set aside (here one
    relaxed configuration in two is kept, and a draw may be tried once)."""
    clauses = [[-1, 2], [-2, 3], [-3, 4], [-4, 1], [1, 2, 3, 4]]  # all four selected
    cfg = _entangled(write_dimacs(tmp_path / "few.dimacs", 4, clauses), "aside")
    assert _formula_draws(cfg, 4, cfg.sample(5, seed=1)) == Counter({(True,) * 4: 5})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_sampling, "_ATTEMPTS", 1)
        with pytest.raises(modcfg.LimitExceeded, match="meet the catalog's widest clauses, which"):
            cfg.sample(50, seed=1)


@pytest.mark.parametrize("engine", ["compiled", "aside"])
def test_an_entangled_catalog_of_one_price_tells_its_price_distribution(
    tmp_path: Path, engine: str
) -> None:
    """Every configuration of a formula has one price: the engines that do not count per
    price give the whole count at it, and refuse only under a budget."""
    cfg = _entangled(write_dimacs(tmp_path / "f.dimacs", *FORMULA), engine)
    models = sum(map(_satisfies, itertools.product((False, True), repeat=FORMULA[0])))
    assert dict(cfg.price_distribution()) == {Decimal("0.00"): models} == {Decimal("0.00"): 46}
    with pytest.raises(modcfg.ModcfgError, match="engine='cpsat'"):
        cfg.price_distribution(modcfg.Needs(budget="10"))


def test_covering_samples_of_many_slots_complete_by_draws(tmp_path: Path) -> None:
    """Past the slots a greedy completion takes a pass each for, configurations are completed
    by random draws, and still cover every possible combination (a chain of implications
    over 100 variables: its 101 models are listed to check)."""
    path = tmp_path / "chain.dimacs"
    variables = 100
    clauses = [f"-{i} {i + 1} 0" for i in range(1, variables)]
    path.write_text(f"p cnf {variables} {len(clauses)}\n" + "\n".join(clauses) + "\n")
    cfg = modcfg.compile(modcfg.load_catalog(path))
    assert cfg.count() == variables + 1
    every = list(cfg.configurations())
    for strength in (1, 2):
        sample = cfg.covering(strength=strength)
        assert set(sample.configurations) <= set(every)
        assert pairs_of(cfg, sample.configurations, strength) == pairs_of(cfg, every, strength)
        assert sample.coverage == 1.0
