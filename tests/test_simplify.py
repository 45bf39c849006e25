"""Propagation and conditioning before the decomposition (:mod:`._simplify`) against brute
force: the simplified problem has exactly the solutions of the problem it came from, every
value it removes is in none of them, and no rule it keeps reads a variable it fixed.

Cases: random CNF formulas read as DIMACS, with unit clauses and requires chains that
propagate (a feature model's root and mandatory features); random catalogs with the usual
rules (tables over multi-valued slots, sums, clauses).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.engines.decomposition import _simplify
from modcfg.engines.decomposition._simplify import simplified
from modcfg.engines.decomposition._tree import build_tree
from modcfg.lower import build_domains, compile_rules
from modcfg.lower._problem import Problem

from . import strategies
from .test_clauses import check_models, formula_file, formulas, write_dimacs
from .test_engine_properties import SMALL, check_engine, expected

Assignment = tuple[int, ...]


def _solutions(problem: Problem) -> set[Assignment]:
    """Every assignment of the problem's allowed values that all its rules allow."""
    values = [problem.values(var) for var in range(problem.size)]
    return {
        assignment
        for assignment in itertools.product(*values)
        if all(c.holds(tuple(assignment[v] for v in c.scope)) for c in problem.constraints)
    }


def _check_simplified(problem: Problem) -> Problem:
    """``simplified(problem)`` against brute force (returned), conditioned however few of its
    rules read a fixed variable."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_simplify, "_WORTH", 0.0)
        found = simplified(problem)
    solutions = _solutions(problem)
    assert _solutions(found) == solutions
    for var in range(problem.size):
        kept = set(found.values(var))
        assert kept <= set(problem.values(var))
        if solutions:  # the values removed are in no solution
            taken = {assignment[var] for assignment in solutions}
            assert taken <= kept
    fixed = {var for var in range(found.size) if len(found.values(var)) == 1}
    if found is not problem:
        for constraint in found.constraints:
            if constraint.linear is None and 0 < constraint.size <= 1024:
                assert not fixed & set(constraint.scope), constraint
    return found


def _problem(catalog: modcfg.Catalog) -> Problem:
    return compile_rules(catalog, build_domains(catalog))


@st.composite
def propagating_formulas(draw: st.DrawFn) -> tuple[int, list[list[int]]]:
    """A formula of :func:`~.test_clauses.formulas` with a root, requires chains below it and
    a few unit clauses: propagation fixes some of its variables."""
    variables, clauses = draw(formulas())
    order = draw(st.permutations(range(1, variables + 1)))
    clauses = [[order[0]], *clauses]  # the root
    for parent, child in itertools.pairwise(order[: draw(st.integers(1, variables))]):
        clauses.append([-parent, child])  # a mandatory child
    for _ in range(draw(st.integers(0, 2))):
        var = draw(st.integers(1, variables))
        clauses.append([draw(st.sampled_from([var, -var]))])
    return variables, clauses


@settings(max_examples=strategies.examples(200), deadline=None)
@given(propagating_formulas())
def test_simplified_formulas_keep_their_models(
    tmp_path_factory: pytest.TempPathFactory, formula: tuple[int, list[list[int]]]
) -> None:
    path, variables, models = formula_file(tmp_path_factory, formula)
    catalog = modcfg.load_catalog(path)
    _check_simplified(_problem(catalog))
    with pytest.MonkeyPatch.context() as patch:  # (the tree of the conditioned problem)
        patch.setattr(_simplify, "_WORTH", 0.0)
        cfg = modcfg.compile(catalog)
    assert cfg.count() == len(models)
    check_models(cfg, variables, models)


@settings(max_examples=strategies.examples(100), deadline=None)
@given(strategies.cases(max_configurations=SMALL))
def test_simplified_catalogs_keep_their_solutions(case: strategies.Case) -> None:
    """The conditioned problem, and the decomposition engine on its tree, answer as the
    oracle does (counts, options, prices, streams, with the case's needs)."""
    _check_simplified(_problem(case.catalog))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_simplify, "_WORTH", 0.0)
        cfg = modcfg.compile(case.catalog)
        check_engine(case, cfg, "decomposition", expected(case))


def test_few_rules_through_fixed_slots_leave_the_problem_as_it_is(tmp_path: Path) -> None:
    """x1 is fixed, and one rule of ten reads it: the graph is the problem's own."""
    clauses = [[1], [-1, 2, 3], *([-n, n + 1] for n in range(3, 12))]
    catalog = modcfg.load_catalog(write_dimacs(tmp_path / "few.dimacs", 12, clauses))
    problem = _problem(catalog)
    assert simplified(problem) is problem
    assert _check_simplified(problem) is not problem


def test_a_root_and_its_mandatory_features_leave_the_graph(tmp_path: Path) -> None:
    """x1 is the root; x2 and x3 its mandatory chain; x4 or x5 below x3; x6 excludes x2 (dead).
    Propagation fixes x1, x2, x3 and x6, and the tree holds them in the one-row bag of fixed
    slots, with one bag for the group x4, x5: 3 configurations, as before."""
    clauses = [[1], [-1, 2], [-2, 3], [-3, 4, 5], [-4, 3], [-5, 3], [-6, -2]]
    path = write_dimacs(tmp_path / "root.dimacs", 6, clauses)
    catalog = modcfg.load_catalog(path)
    problem = _problem(catalog)
    found = _check_simplified(problem)
    assert [len(found.values(var)) for var in range(6)] == [1, 1, 1, 2, 2, 1]
    assert [c.scope for c in found.constraints] == [(3, 4)]
    shapes = sorted((len(bag.vars), len(bag.values)) for bag in build_tree(problem).bags)
    assert shapes == [(0, 1), (2, 3), (4, 1)]
    cfg = modcfg.compile(catalog)
    assert cfg.count() == 3
    state = cfg.session().state()
    assert [state[f"x{n}"]["selected"].count for n in range(1, 7)] == [3, 3, 3, 2, 2, 0]
    assert state["x6"]["selected"].status != "available"


def test_a_contradiction_is_left_to_the_passes(tmp_path: Path) -> None:
    """A root whose mandatory child it excludes: no configuration. Propagation finds the
    conflict and leaves the problem as it is; the count is zero."""
    path = write_dimacs(tmp_path / "none.dimacs", 3, [[1], [-1, 2], [-1, -2], [2, 3, -1]])
    catalog = modcfg.load_catalog(path)
    problem = _problem(catalog)
    assert simplified(problem) is problem
    assert modcfg.compile(catalog).count() == 0


def test_a_table_the_fixed_slots_break_leaves_no_configuration() -> None:
    """Rules fix a to x and b to x, and a table allows only (y, y) and (z, z): conditioned on
    the fixed slots, the table allows nothing, which is no configuration, not no rule."""
    modules = {name: {} for name in ("x", "y", "z")}
    catalog = modcfg.Catalog.model_validate(
        {
            "catalog": "broken",
            "slots": {
                "a": {"modules": modules},
                "b": {"modules": modules},
                "c": {"modules": modules},
            },
            "rules": [
                {"id": "a-is-x", "constraint": "a.x"},
                {"id": "b-is-x", "constraint": "b.x"},
                {"id": "pairs", "table": {"slots": ["a", "b"], "allow": [["y", "y"], ["z", "z"]]}},
            ],
        }
    )
    _check_simplified(_problem(catalog))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_simplify, "_WORTH", 0.0)
        cfg = modcfg.compile(catalog)
    assert cfg.count() == 0
    with pytest.raises(modcfg.InfeasibleError, match="'b-is-x' and 'pairs'"):
        cfg.session().state()
