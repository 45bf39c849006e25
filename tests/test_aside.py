"""Wide clauses set aside (a tree of the other rules, counted by inclusion-exclusion over the
clauses) against brute force.

Random catalogs get clause rules (lowered as clause masks: the width from which rules become
clauses set to 1); their clauses are set aside and the query's counts, every option's count,
counts after up to three choices, enumerations and the needs' counts are compared with the
oracle. Random CNF formulas read as DIMACS go through ``modcfg.compile`` with the trial tree
refused, so that the catalog is answered with its clauses set aside, and are compared with an
enumeration of assignments.
"""

from __future__ import annotations

import copy
import random
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import modcfg
import modcfg._compiled
from modcfg.engines import _aside, _aside_setup, _aside_terms
from modcfg.engines._aside import AsideQuery
from modcfg.engines._aside_setup import set_aside
from modcfg.engines.compiled import CompiledEngineError, ranking
from modcfg.engines.decomposition import FillStopped, TreeQuery
from modcfg.lower import _lowering
from modcfg.lower._problem import Constraint

from . import oracle, strategies
from .test_clauses import check_models, formula_file, formulas, write_dimacs
from .test_compiled_engine import check_choices
from .test_engine_properties import SMALL

PROPERTIES = settings(max_examples=strategies.examples(80), deadline=None)


def _module_counts(
    cfg: modcfg.Configurator, marginals: list[list[tuple[int, int | None]]]
) -> dict[str, int]:
    modules = cfg.compiled.module_values
    return {
        f"{slot}.{module}": sum(marginals[var][value][0] for value in values)
        for var, slot in enumerate(cfg.compiled.slots)
        for module, values in modules[var].items()
    }


@st.composite
def with_wide_clause_rules(draw: st.DrawFn) -> strategies.Case:
    """A random case with one to three clause rules added, each over three to five different
    slots (so that it lowers as a clause), their literals chosen or not."""
    from modcfg.model import ConstraintRule

    case = draw(strategies.cases(max_configurations=SMALL))
    slots = sorted(case.catalog.slots)
    assume(len(slots) >= 3)
    rules = []
    for number in range(draw(st.integers(1, 3))):
        scope = draw(st.lists(st.sampled_from(slots), min_size=3, max_size=5, unique=True))
        literals = [
            (
                slot,
                draw(st.sampled_from(sorted(case.catalog.slots[slot].modules))),
                draw(st.booleans()),
            )
            for slot in scope
        ]
        rules.append(ConstraintRule.clause(f"clause-{number}", literals))
    catalog = modcfg.Catalog(**{**dict(case.catalog), "rules": (*case.catalog.rules, *rules)})
    return strategies.Case(case.data, catalog, case.needs)


@PROPERTIES
@given(with_wide_clause_rules(), st.data())
def test_clauses_set_aside_match_oracle(case: strategies.Case, data: st.DataObject) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_lowering, "CLAUSE_TABLE_LIMIT", 1)
        cfg = modcfg.compile(case.catalog)
    base = cfg.compiled.base
    clauses = [c for c in base.constraints if c.clause is not None]
    aside = (
        data.draw(st.lists(st.sampled_from(clauses), unique_by=id, max_size=3)) if clauses else []
    )
    query = set_aside(base, aside)
    valid = oracle.valid_configurations(case.catalog)
    refs = [set(configuration.refs()) for configuration in valid]
    # feasibility before any count (a pass of flags, a first block of solutions, the count)
    assert query.feasible() == bool(valid)
    for var, slot in enumerate(cfg.compiled.slots):
        for module, values in cfg.compiled.module_values[var].items():
            fresh = set_aside(base, aside).restricted(var, frozenset(values))
            assert fresh.feasible() == any(f"{slot}.{module}" in chosen for chosen in refs)
    assert type(query.count()) is int
    assert query.count() == len(valid)
    assert query.feasible() == bool(valid)

    unpriced = not (base.cost_factors or base.score_factors) and not any(
        any(domain.cost) for domain in base.domains
    )
    marginals: list[list[tuple[int, int | None]]] | None
    try:
        marginals = query.marginals()
    except CompiledEngineError:  # (it names engine='cpsat')
        assert not unpriced  # only per-option prices are beyond the signed sums
        marginals = None
    if marginals is not None:
        for ref, number in _module_counts(cfg, marginals).items():
            assert number == sum(ref in chosen for chosen in refs), ref
        best = cfg.compiled.base_query.best_key()
        assert {key for row in marginals for number, key in row if number} <= {best}
    assert query.best_key() == cfg.compiled.base_query.best_key()
    if valid:  # the dearest completion: the engine's when all cost the same, else CP-SAT's
        ranked = ranking(query)
        dearest = ranked.worst_key()
        assert dearest is not None
        tree = cfg.compiled.base_query
        assert ranked.cost_of(dearest) == tree.cost_of(tree.worst_key() or 0)
        assert (ranked is query) == (query.best_key() == query._same_key)

    found = [cfg.compiled.configuration(assignment) for assignment in query.solutions()]
    assert sorted(map(str, found)) == sorted(map(str, valid))
    keyed = list(query.by_key())
    assert [key for key, _ in keyed] == sorted(key for key, _ in keyed)
    assert len(keyed) == len(valid)

    check_choices(cfg, query, refs, data)

    plan = cfg.compiled.plan(case.needs)  # (plain counts: without budgets and global sums)
    assert query.with_problem(plan.problem).count() == plan.tree_query.count()


@PROPERTIES
@given(with_wide_clause_rules(), st.data())
def test_terms_over_trees_of_their_own_match_oracle(
    case: strategies.Case, data: st.DataObject
) -> None:
    """Every term but the first decomposed apart (as past OWN_TREE_ROWS): the counts, every
    option's count and those after choices are the oracle's, before and after the terms'
    trees are built (a plain count does not build them)."""
    cfg, clauses = _clauses_kept(case)
    base = cfg.compiled.base
    aside = data.draw(st.lists(st.sampled_from(clauses), unique_by=id, min_size=1, max_size=3))
    valid = oracle.valid_configurations(case.catalog)
    refs = [set(configuration.refs()) for configuration in valid]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_aside_terms, "OWN_TREE_ROWS", 0)
        query = set_aside(base, aside)
    assert query._own is not None
    with pytest.MonkeyPatch.context() as patch:  # (feasible by the count, as on large trees)
        patch.setattr(_aside, "_PARALLEL_ROWS", 0)
        assert query.feasible() == bool(valid)
    assert query.count() == len(valid)
    for ref, number in _option_counts(cfg, query).items():
        assert number == sum(ref in chosen for chosen in refs), ref
    modules = cfg.compiled.module_values
    var = data.draw(st.integers(0, len(modules) - 1))
    module = data.draw(st.sampled_from(sorted(modules[var])))
    narrowed = query.restricted(var, frozenset(modules[var][module]))
    kept = [chosen for chosen in refs if f"{cfg.compiled.slots[var]}.{module}" in chosen]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_aside, "_PARALLEL_ROWS", 0)
        assert narrowed.feasible() == bool(kept)
    assert narrowed.count() == len(kept)
    for ref, number in _option_counts(cfg, narrowed).items():
        assert number == sum(ref in chosen for chosen in kept), ref
    check_choices(cfg, query, refs, data)
    plan = cfg.compiled.plan(case.needs)  # (value filters: the catalog's terms, their trees)
    needy = query.with_problem(plan.problem)
    assert needy.count() == plan.tree_query.count()
    expected = [[number for number, _ in row] for row in plan.tree_query.marginals()]
    assert needy.option_counts() == expected


def _clauses_kept(case: strategies.Case) -> tuple[modcfg.Configurator, list[Constraint]]:
    """``case``'s catalog compiled with its clause rules kept as clauses (none tabulated),
    and those clauses (an example without any is not counted)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_lowering, "CLAUSE_TABLE_LIMIT", 1)
        cfg = modcfg.compile(case.catalog)
    clauses = [c for c in cfg.compiled.base.constraints if c.clause is not None]
    assume(clauses)
    return cfg, clauses


def _option_counts(cfg: modcfg.Configurator, query: AsideQuery) -> dict[str, int]:
    """Every module's count in ``query`` (its options' counts, priced or not)."""
    return _module_counts(cfg, [[(n, None) for n in row] for row in query.option_counts()])


@PROPERTIES
@given(with_wide_clause_rules(), st.data())
def test_rules_of_needs_join_the_clauses_set_aside(
    case: strategies.Case, data: st.DataObject
) -> None:
    """A customer's conditions over a few slots are set aside next to the clauses, over the
    same tree (no tree of their own): counts, every option's count, choices and the
    solutions match the oracle under the needs, with the catalog's terms over the shared
    tree or (drawn) over trees of their own."""
    cfg, clauses = _clauses_kept(case)
    base = cfg.compiled.base
    with pytest.MonkeyPatch.context() as patch:
        if data.draw(st.booleans()):
            patch.setattr(_aside_terms, "OWN_TREE_ROWS", 0)
        query = set_aside(base, clauses[:1])
    slots = sorted(case.catalog.slots)
    assume(len(slots) >= 2)
    written = []
    for _ in range(data.draw(st.integers(1, 2))):
        pair = data.draw(st.lists(st.sampled_from(slots), min_size=2, max_size=2, unique=True))
        a, b = (
            f"{slot}.{data.draw(st.sampled_from(sorted(case.catalog.slots[slot].modules)))}"
            for slot in pair
        )
        shape = data.draw(st.sampled_from(["{} -> {}", "not ({} and {})", "{} or {}"]))
        written.append(shape.format(a, b))
    needs = modcfg.Needs(conditions=written)
    plan = cfg.compiled.plan(needs)
    assume(len(plan.problem.constraints) > len(base.constraints))  # (a rule of their own)
    with pytest.MonkeyPatch.context() as patch:  # (several events, as many as fit)
        patch.setattr(_aside_terms, "NEED_EVENTS", _aside_terms.ASIDE_MOST)
        narrowed = query.with_problem(plan.problem)
    assume(narrowed.tree is query.tree)  # (few enough combinations they forbid)
    assert len(narrowed.aside) > len(query.aside)
    valid = oracle.valid_configurations(case.catalog, needs)
    refs = [set(configuration.refs()) for configuration in valid]
    assert narrowed.count() == len(valid)
    assert narrowed.feasible() == bool(valid)
    found = [cfg.compiled.configuration(assignment) for assignment in narrowed.solutions()]
    assert sorted(map(str, found)) == sorted(map(str, valid))
    keyed = list(narrowed.by_key())  # (the parts outside the needs' events, merged)
    assert [key for key, _ in keyed] == sorted(key for key, _ in keyed)
    ranked = [cfg.compiled.configuration(assignment) for _, assignment in keyed]
    assert sorted(map(str, ranked)) == sorted(map(str, valid))
    for ref, number in _option_counts(cfg, narrowed).items():
        assert number == sum(ref in chosen for chosen in refs), ref
    check_choices(cfg, narrowed, refs, data)


def compiled_aside(path: Path) -> modcfg.Configurator:
    """The catalog of ``path`` compiled with its clauses of two literals or more set aside:
    the trial tree refused at once (so the clauses are set aside before the compiled engine
    runs)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_lowering, "CLAUSE_TABLE_LIMIT", 2)
        patch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
        patch.setattr(_aside, "ASIDE_SLOTS", 2)
        return modcfg.compile(modcfg.load_catalog(path))


@settings(max_examples=strategies.examples(150), deadline=None)
@given(formulas())
def test_a_formula_with_its_clauses_set_aside_counts_exactly(
    tmp_path_factory: pytest.TempPathFactory, formula: tuple[int, list[list[int]]]
) -> None:
    path, variables, models = formula_file(tmp_path_factory, formula)
    cfg = compiled_aside(path)
    assert cfg.count() == len(models)
    if isinstance(cfg.compiled.wide_base, AsideQuery):
        assert cfg.compiled.wide_base.aside  # (else the tree would have answered)
    check_models(cfg, variables, models)
    # a choice narrows every term
    chosen = [values for values in models if values[0]]
    if chosen:
        assert cfg.session().choose("x1", "selected").count == len(chosen)


def test_an_or_group_of_a_hundred_children_is_set_aside(tmp_path: Path) -> None:
    """A feature model's shape: a root, an or-group of 100 children (one clause of 101
    literals), and cross-tree clauses tying each child to the next two in a ring. With the
    trial tree refused, the or-group is set aside (two terms over the ring's tree) and the
    count, the options' counts and a choice agree with the chained tree's."""
    children = list(range(2, 102))
    clauses = [[1], [-1, *children], *([-child, 1] for child in children)]
    following = zip(children, children[1:] + children[:1], children[2:] + children[:2], strict=True)
    clauses += [[-a, b, c] for a, b, c in following]
    path = write_dimacs(tmp_path / "or_group.dimacs", 101, clauses)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
        cfg = modcfg.compile(modcfg.load_catalog(path))
    reference = modcfg.compile(modcfg.load_catalog(path))
    assert isinstance(cfg.compiled.wide_base, AsideQuery)
    assert [len(c.scope) for c in cfg.compiled.wide_base.aside] == [101]
    assert reference.compiled.wide_base is None
    assert cfg.count() == reference.count() > 2**60
    state, expected = cfg.session().state(), reference.session().state()
    for slot in ("x2", "x50", "x101"):
        assert state[slot]["selected"].count == expected[slot]["selected"].count
    session, narrowed = cfg.session(), reference.session()
    for choice in ("x7", "x8"):
        found = session.choose(choice, "selected")
        assert found.count == narrowed.choose(choice, "selected").count


def _group(tmp_path: Path, *, own: bool = False) -> tuple[Path, modcfg.Configurator]:
    """A root, an or-group of 20 children and clauses tying each child to the next two: the
    DIMACS file, and its catalog compiled with the or-group set aside (``own``: its term with
    a tree of its own, as over a large tree)."""
    clauses = [[1], [-1, *range(2, 22)], *([-child, 1] for child in range(2, 22))]
    clauses += [[-child, child + 1, child + 2] for child in range(2, 20)]
    path = write_dimacs(tmp_path / "group.dimacs", 21, clauses)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
        if own:
            patch.setattr(_aside_terms, "OWN_TREE_ROWS", 0)
        cfg = modcfg.compile(modcfg.load_catalog(path))
    assert isinstance(cfg.compiled.wide_base, AsideQuery)
    return path, cfg


def test_counting_the_terms_reads_the_time_limit(tmp_path: Path) -> None:
    _, cfg = _group(tmp_path)
    with pytest.raises(modcfg.TimeLimitExceeded, match="time limit after 0 of 2 terms"):
        cfg.count(time_limit=1e-9)
    assert cfg.count(time_limit=60) == cfg.count() > 0


def test_a_sessions_state_reads_its_time_limit_between_the_terms(tmp_path: Path) -> None:
    """Every option's count is a signed sum of the terms' passes: a session's time limit is
    read before each term (not only under a budget), and a state refused is computed again
    when asked within a larger limit."""
    path, cfg = _group(tmp_path)
    query = cfg.compiled.wide_base
    assert isinstance(query, AsideQuery)
    with pytest.raises(modcfg.LimitExceeded, match="every option passed its time limit after 0"):
        query.restricted(1, frozenset({1})).marginals(deadline=time.monotonic() - 1)
    hurried = cfg.session(time_limit=1e-9)  # (x2 left out keeps the or-group's term)
    with pytest.raises(modcfg.LimitExceeded, match="2 terms of the clauses set aside"):
        hurried.choose("x2", None).count  # noqa: B018 (the state is computed when read)
    reference = modcfg.compile(modcfg.load_catalog(path))  # (the tree holds the or-group)
    assert reference.compiled.wide_base is None
    state = cfg.session(time_limit=60).choose("x2", None)
    expected = reference.session().choose("x2", None)
    assert state.count == expected.count > 0
    assert {slot: dict(state[slot]) for slot in state} == {
        slot: dict(expected[slot]) for slot in expected
    }


def _group_query(tmp_path: Path) -> AsideQuery:
    """The query of :func:`_group`'s catalog, its term with a tree of its own."""
    _, cfg = _group(tmp_path, own=True)
    query = cfg.compiled.wide_base
    assert isinstance(query, AsideQuery)
    assert query._own is not None
    return query


def _with_trees(query: AsideQuery, own: _aside_terms.TermTrees) -> AsideQuery:
    """``query`` with the trees ``own`` for its terms."""
    return AsideQuery(query._problem, query.tree, query.aside, query._terms, events=[], own=own)


def test_a_terms_tree_stopped_by_the_time_limit_is_built_at_the_next_request(
    tmp_path: Path,
) -> None:
    """A term whose own tree the deadline stops is counted over the shared tree, and its tree
    is built when asked again (a limit or a memory refusal is kept: the shared tree serves)."""
    query = _group_query(tmp_path)
    expected = query.option_counts()  # (the own trees built, then dropped to build again)
    own = _aside_terms.TermTrees(query._terms, query.tree)
    fresh = _with_trees(query, own)

    def stopped(*args: object, **kwargs: object) -> None:
        raise FillStopped(0, 1)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_aside_terms, "build_tree", stopped)
        assert fresh.option_counts() == expected
    assert own.tree(1, None, build=False) is None
    assert own.tree(1, None) is not None
    assert own.tree(1, None, build=False) is not None


def test_the_terms_trees_keep_within_what_the_memory_limit_leaves(tmp_path: Path) -> None:
    """With a memory limit the relaxed tree fills, no term gets a tree of its own, and every
    term is counted over the relaxed tree."""
    query = _group_query(tmp_path)
    expected = query.option_counts()
    assert query._own is not None
    assert query._own.tree(1, None) is not None  # (room enough: built)
    full = copy.copy(query.tree)
    full.problem = replace(query.tree.problem, memory_limit=full.entry_bytes)
    own = _aside_terms.TermTrees(query._terms, full)
    assert _with_trees(query, own).option_counts() == expected
    assert [own.tree(i, None) for i in range(1, len(query._terms))] == [None]


def test_a_catalog_with_clauses_set_aside_is_saved_and_loaded(tmp_path: Path) -> None:
    """The tree of the other rules is saved: loading it builds no tree, and the loaded
    catalog answers as the saved one."""
    path, cfg = _group(tmp_path)
    assert cfg.count() == modcfg.compile(modcfg.load_catalog(path)).count()
    file = cfg.save(tmp_path / "group.modcfg")

    def build_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the saved tree is loaded, not built again")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_aside_setup, "build_tree", build_again)
        patch.setattr(modcfg._compiled, "build_tree", build_again)
        loaded = modcfg.load_compiled(file)
        assert isinstance(loaded.compiled.wide_base, AsideQuery)
        assert loaded.count() == cfg.count()
        state, expected = loaded.session().state(), cfg.session().state()
        assert {slot: dict(state[slot]) for slot in state} == {
            slot: dict(expected[slot]) for slot in expected
        }


def test_a_saved_catalog_keeps_its_terms_trees_and_counts(tmp_path: Path) -> None:
    """Saving builds the terms' own trees and keeps them with the counts: the loaded catalog
    counts without a pass, and shows every option's count without building a tree, as the
    saved one does (and as a catalog compiled again does)."""
    path, cfg = _group(tmp_path, own=True)
    query = cfg.compiled.wide_base
    assert isinstance(query, AsideQuery)
    assert query._own is not None
    file = cfg.save(tmp_path / "group.modcfg")  # (before any state: saving builds them)

    def build_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the saved trees are loaded, not built again")

    def pass_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the saved counts are loaded, not counted again")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_aside_terms, "OWN_TREE_ROWS", 0)
        patch.setattr(_aside_terms, "build_tree", build_again)
        patch.setattr(modcfg._compiled, "build_tree", build_again)
        patch.setattr(TreeQuery, "count", pass_again)
        loaded = modcfg.load_compiled(file)
        assert loaded.count() == cfg.count()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_aside_terms, "build_tree", build_again)
        state = loaded.session().state()
    fresh = modcfg.compile(modcfg.load_catalog(path)).session().state()
    expected = cfg.session().state()
    for other in (expected, fresh):
        assert {slot: dict(state[slot]) for slot in state} == {
            slot: dict(other[slot]) for slot in other
        }


def test_terms_run_two_at_a_time_with_the_same_counts(tmp_path: Path) -> None:
    # two or-groups of 20 children under one root, tied by clauses to their neighbours: four
    # terms, run one at a time (a small tree) and, when told to, two at a time
    path = _two_or_groups(tmp_path)

    def compiled() -> modcfg.Configurator:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
            # both or-groups aside (one would go back into the tree: see the next test)
            patch.setattr(_aside_setup, "fewest", lambda problem, clauses, found: clauses)
            return modcfg.compile(modcfg.load_catalog(path))

    alone = compiled()
    query = alone.compiled.wide_base
    assert isinstance(query, AsideQuery)
    assert len(query.aside) == 2
    assert query._at_once() == 1  # (a few hundred bag rows)
    count = alone.count()
    expected = alone.session().state()
    counts = {(slot, m): option.count for slot in expected for m, option in expected[slot].items()}
    narrowed = alone.session().choose("x5", "selected").count
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_aside, "_PARALLEL_ROWS", 0)
        patch.setattr(_aside, "_cores", lambda: 2)
        paired = compiled()
        assert paired.compiled.wide_base._at_once() == 2  # type: ignore[union-attr]
        assert paired.count() == count > 0
        state = paired.session().state()
        assert {(slot, m): o.count for slot in state for m, o in state[slot].items()} == counts
        assert paired.session().choose("x5", "selected").count == narrowed


def test_a_clause_that_leaves_the_tree_as_narrow_goes_back_into_it(tmp_path: Path) -> None:
    # the two or-groups of the test above: with both aside the tree is a chain of narrow
    # bags; the narrower group put back leaves it as narrow, so only the other stays aside
    # (two terms, not four), and every count is the same
    path = _two_or_groups(tmp_path)

    def compiled(*, every: bool) -> modcfg.Configurator:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
            if every:
                patch.setattr(_aside_setup, "fewest", lambda problem, clauses, found: clauses)
            return modcfg.compile(modcfg.load_catalog(path))

    both, fewer = compiled(every=True), compiled(every=False)
    wide = fewer.compiled.wide_base
    assert isinstance(wide, AsideQuery)
    assert len(wide.aside) == 1
    assert len(wide._terms) == 2
    assert fewer.count() == both.count() > 0
    assert (
        fewer.session().choose("x5", "selected").count
        == both.session().choose("x5", "selected").count
    )
    expected, found = both.session().state(), fewer.session().state()
    assert {(s, m): o.count for s in found for m, o in found[s].items()} == {
        (s, m): o.count for s in expected for m, o in expected[s].items()
    }


def _two_or_groups(tmp_path: Path) -> Path:
    """Two or-groups of 20 children under one root, tied by clauses to their neighbours."""
    first, second = list(range(2, 22)), list(range(22, 42))
    clauses = [[1], [-1, *first], [-1, *second], *([-child, 1] for child in first + second)]
    clauses += [[-child, child + 1, child + 2] for child in range(2, 40)]
    return write_dimacs(tmp_path / "groups.dimacs", 41, clauses)


def test_a_complete_configuration_is_checked_without_the_terms(tmp_path: Path) -> None:
    """A storefront restores a complete configuration's session for its quote: with one value
    left to every slot, whether it counts is whether it breaks no rule, and the one solution
    is that configuration, without a term's pass or a walk (0.8 s on the decision-making
    model)."""
    _, cfg = _group(tmp_path)
    base = cfg.compiled.wide_base
    assert isinstance(base, AsideQuery)
    valid = {tuple(values) for values in base.solutions()}
    rng = random.Random(7)
    picks = [list(v) for v in sorted(valid)[:5]]
    picks += [[rng.randrange(len(row)) for row in base.problem.allowed] for _ in range(20)]

    def no_pass(*args: object, **kwargs: object) -> None:
        raise AssertionError("a term was counted or walked")

    for assignment in picks:
        query = base
        for var, value in enumerate(assignment):
            query = query.restricted(var, frozenset({value}))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(TreeQuery, "count", no_pass)
            patch.setattr(_aside, "solution_blocks", no_pass)
            expected = int(tuple(assignment) in valid)
            assert query.count() == expected
            assert query.feasible() == bool(expected)
            assert [list(s) for s in query.solutions()] == ([assignment] if expected else [])
