"""Wide rules as clauses (one mask per slot, chains of auxiliary variables in the
decomposition) against brute force.

Two kinds of cases: the usual random catalogs and needs with every disjunction and deny
table lowered as a clause (the width from which rules become clauses set to 1), compared with
the oracle by every engine; and random CNF formulas with clauses over every variable and
at-most-one groups written pairwise (chained too), read as DIMACS, whose counts, per-literal
counts and configurations are compared with an enumeration of assignments.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.lower import _lowering

from . import strategies
from .test_engine_properties import SMALL, check_engine, expected

PROPERTIES = settings(max_examples=strategies.examples(200), deadline=None)


def _check_as_clauses(case: strategies.Case, engines: tuple[str, ...]) -> None:
    """``case`` compiled with every disjunction and deny table as a clause, answered by
    ``engines`` as the oracle answers it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_lowering, "CLAUSE_TABLE_LIMIT", 1)
        cfg = modcfg.compile(case.catalog)
        answers = expected(case)
        for engine in engines:  # CP-SAT lists by price one optimisation at a time
            limit = 10 if engine == "cpsat" else None
            check_engine(case, cfg, engine, answers, by_price_limit=limit)


@settings(max_examples=100, deadline=None)
@given(strategies.cases(max_configurations=SMALL))
def test_rules_as_clauses_match_oracle(case: strategies.Case) -> None:
    _check_as_clauses(case, ("auto", "decomposition"))


@pytest.mark.slow
@PROPERTIES
@given(strategies.cases(max_configurations=SMALL))
def test_rules_as_clauses_match_oracle_in_every_engine(case: strategies.Case) -> None:
    _check_as_clauses(case, ("auto", "decomposition", "cpsat"))


@st.composite
def formulas(draw: st.DrawFn) -> tuple[int, list[list[int]]]:
    """A CNF formula over up to 9 variables: a few wide clauses (up to every variable) among
    short ones, and groups of pairwise exclusions (at most one of their literals)."""
    variables = draw(st.integers(2, 9))
    literal = st.integers(1, variables).flatmap(lambda v: st.sampled_from([v, -v]))
    short = st.lists(literal, min_size=1, max_size=3)
    wide = st.lists(literal, min_size=2, max_size=variables)
    clauses = draw(st.lists(st.one_of(short, wide, wide), min_size=1, max_size=8))
    # alternatives written pairwise, as feature models do: at most one literal of a group
    group = st.lists(literal, min_size=2, max_size=variables, unique_by=abs)
    for members in draw(st.lists(group, max_size=2)):
        clauses += [[-a, -b] for i, a in enumerate(members) for b in members[i + 1 :]]
    return variables, clauses


def write_dimacs(path: Path, variables: int, clauses: list[list[int]]) -> Path:
    """``clauses`` over ``variables`` written to ``path`` as a DIMACS file (returned)."""
    lines = [f"p cnf {variables} {len(clauses)}", *(" ".join(map(str, c)) + " 0" for c in clauses)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _models(variables: int, clauses: list[list[int]]) -> list[tuple[bool, ...]]:
    """Every assignment (True: selected) that satisfies every clause."""
    return [
        values
        for values in itertools.product((False, True), repeat=variables)
        if all(any(values[abs(lit) - 1] == (lit > 0) for lit in clause) for clause in clauses)
    ]


def formula_file(
    factory: pytest.TempPathFactory, formula: tuple[int, list[list[int]]]
) -> tuple[Path, int, list[tuple[bool, ...]]]:
    """A drawn formula written as a DIMACS file: its path, variables and models."""
    variables, clauses = formula
    path = write_dimacs(Path(factory.mktemp("cnf")) / "formula.dimacs", variables, clauses)
    return path, variables, _models(variables, clauses)


@settings(max_examples=200, deadline=None)
@given(formulas())
def test_wide_clauses_count_exactly(
    tmp_path_factory: pytest.TempPathFactory, formula: tuple[int, list[list[int]]]
) -> None:
    path, variables, models = formula_file(tmp_path_factory, formula)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_lowering, "CLAUSE_TABLE_LIMIT", 2)
        cfg = modcfg.compile(modcfg.load_catalog(path))
    assert cfg.count() == len(models)
    check_models(cfg, variables, models)


def check_models(cfg: modcfg.Configurator, variables: int, models: list[tuple[bool, ...]]) -> None:
    """``cfg``, read from a formula over ``variables``, answers as its ``models`` say: every
    variable's count in a session's state, and the configurations it lists."""
    if not models:
        return
    state = cfg.session().state()
    for var in range(variables):
        selected = sum(values[var] for values in models)
        assert state[f"x{var + 1}"]["selected"].count == selected, f"x{var + 1}"
    found = {
        tuple(c[f"x{v + 1}"] is not None for v in range(variables)) for c in cfg.configurations()
    }
    assert found == set(models)


def test_a_clause_over_a_hundred_slots_compiles() -> None:
    """A clause over 120 optional slots forbids one combination of 2**120: counted exactly,
    with every per-option count, without a table over its scope."""
    slots = {f"s{i}": {"cardinality": "optional", "modules": {"on": {}}} for i in range(120)}
    either = " or ".join(f"s{i}.on" for i in range(120))
    catalog = modcfg.Catalog.model_validate(
        {"catalog": "wide", "slots": slots, "rules": [{"id": "any", "constraint": either}]}
    )
    cfg = modcfg.compile(catalog)
    assert cfg.count() == 2**120 - 1
    state = cfg.session().state()
    assert state["s7"]["on"].count == 2**119
    assert cfg.count(modcfg.Needs(forbid=[f"s{i}.on" for i in range(119)])) == 1


@st.composite
def with_clause_rules(draw: st.DrawFn) -> strategies.Case:
    """A random case with a few clause rules (:meth:`ConstraintRule.clause`) added: literals
    over any slots and modules (multi-select ones included), chosen or not, repeats too."""
    from modcfg.model import ConstraintRule

    case = draw(strategies.cases(max_configurations=SMALL))
    refs = [(slot, module) for slot, s in case.catalog.slots.items() for module in s.modules]
    literal = st.tuples(st.sampled_from(refs), st.booleans()).map(lambda p: (*p[0], p[1]))
    clauses = draw(st.lists(st.lists(literal, min_size=1, max_size=4), min_size=1, max_size=3))
    rules = [
        ConstraintRule.clause(f"clause-{number}", literals)
        for number, literals in enumerate(clauses)
    ]
    catalog = modcfg.Catalog(**{**dict(case.catalog), "rules": (*case.catalog.rules, *rules)})
    return strategies.Case(case.data, catalog, case.needs)


@PROPERTIES
@given(with_clause_rules(), st.booleans())
def test_clause_rules_read_off_their_literals_match_oracle(
    case: strategies.Case, as_clauses: bool
) -> None:
    """Clause rules are lowered from their literals (tables or, past the width at which
    disjunctions become clauses, clause masks), as the oracle reads their text."""
    with pytest.MonkeyPatch.context() as patch:
        if as_clauses:
            patch.setattr(_lowering, "CLAUSE_TABLE_LIMIT", 1)
        cfg = modcfg.compile(case.catalog)
    answers = expected(case)
    check_engine(case, cfg, "decomposition", answers)


def test_two_literal_clauses_of_one_shape_share_their_rows(tmp_path: Path) -> None:
    """A feature model's thousands of two-literal clauses come in a few shapes: each shape's
    rows, as an array and as a set, are made once and shared by its clauses (so the garbage
    collector has no set per clause to scan)."""
    path = tmp_path / "pairs.dimacs"
    path.write_text("p cnf 6 4\n-1 2 0\n-3 4 0\n-5 6 0\n1 -6 0\n")
    cfg = modcfg.compile(modcfg.load_catalog(path))
    pairs = [c for c in cfg.compiled.base.constraints if len(c.scope) == 2]
    assert len(pairs) == 4
    first, second, third, other = pairs
    assert first.rows is second.rows is third.rows
    assert first.allowed is second.allowed is third.allowed
    assert len(first.allowed) == len(other.allowed) == 3
    assert other.allowed != first.allowed  # (another shape: the negated literal comes second)
    clauses = [[-1, 2], [-3, 4], [-5, 6], [1, -6]]
    assert cfg.count() == len(_models(6, clauses))
