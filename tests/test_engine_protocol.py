"""Every engine answers the protocol alike: the closed forms and CP-SAT against the
decomposition (which the oracle tests check against brute force), method by method, under
random choices, global sums and budgets."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.engines import Bounds, EngineQuery, IndependentQuery, separable
from modcfg.engines.cpsat._query import CpSatQuery
from modcfg.engines.decomposition import TreeQuery
from modcfg.lower import Problem

from . import strategies

#: CP-SAT enumerates: catalogs of at most this many configurations.
SMALL = 150


def _plan_problem(case: strategies.Case) -> tuple[modcfg.Configurator, Any]:
    cfg = modcfg.compile(case.catalog)
    try:
        plan = cfg.compiled.plan(case.needs)
    except modcfg.InfeasibleError:
        plan = cfg.compiled.plan(None)
    return cfg, plan


def _plain(query: EngineQuery) -> tuple[Any, ...]:
    """The answers that do not depend on how ties are broken."""
    found = query.count()
    return (
        found,
        query.feasible(),
        query.best_key(),
        query.worst_key(),
        [list(row) for row in query.marginals()] if found else None,
        Counter(map(tuple, query.solutions())),
        [key for key, _ in query.by_key()],
        Counter(map(tuple, query.solution_array()[0].tolist())),
    )


def _within(query: EngineQuery, problem: Problem, bound: int | None) -> tuple[Any, ...]:
    bounds = Bounds(tuple(problem.resources), bound)
    sums = query.within(bounds)
    options = [
        [sums.option(var, [value]) for value in range(len(domain.choices))]
        for var, domain in enumerate(problem.domains)
    ]
    guided = query.solutions_within(bounds)
    return (
        query.count_within(bounds),
        query.cost_distribution(bounds),
        sums.count(),
        sums.cost_range(),
        options,
        None if guided is None else Counter(map(tuple, guided)),
        [key for key, _ in query.by_key_within(bounds)],
    )


def _bound(data: st.DataObject, query: TreeQuery) -> int | None:
    """No bound, or one between the cheapest and the dearest unit cost."""
    best, worst = query.best_key(), query.worst_key()
    if best is None or worst is None or not data.draw(st.booleans()):
        return None
    return data.draw(st.integers(query.cost_of(best), query.cost_of(worst)))


@settings(max_examples=strategies.examples(100), deadline=None)  # (CP-SAT: 0.4 s an example)
@given(strategies.cases(max_configurations=SMALL), st.data())
def test_cpsat_answers_as_the_decomposition(case: strategies.Case, data: st.DataObject) -> None:
    _, plan = _plan_problem(case)
    problem = plan.problem
    tree_query = plan.query
    assert isinstance(tree_query, TreeQuery)
    cpsat = CpSatQuery(problem)
    for _ in range(2):
        assert _plain(cpsat) == _plain(tree_query)
        bound = _bound(data, tree_query)
        ours, theirs = _within(cpsat, problem, bound), _within(tree_query, problem, bound)
        if theirs[5] is None:  # too wide for the decomposition to guide a walk
            ours = (*ours[:5], None, ours[6])
        assert ours == theirs
        var = data.draw(st.integers(0, problem.size - 1))
        size = len(problem.domains[var].choices)
        values = data.draw(st.frozensets(st.sampled_from(range(size))))
        cpsat, tree_query = cpsat.restricted(var, values), tree_query.restricted(var, values)


@settings(max_examples=strategies.examples(200), deadline=None)
@given(strategies.cases(independent=True), st.data())
def test_closed_forms_answer_within_sums_as_the_decomposition(
    case: strategies.Case, data: st.DataObject
) -> None:
    _, plan = _plan_problem(case)
    problem = plan.problem
    if not separable(problem):  # a customer's condition over two slots
        return
    tree_query = TreeQuery(plan.query.tree, problem)
    closed = IndependentQuery(problem)
    for _ in range(2):
        bound = _bound(data, tree_query)
        ours, theirs = _within(closed, problem, bound), _within(tree_query, problem, bound)
        if theirs[5] is None:
            ours = (*ours[:5], None, ours[6])
        assert ours == theirs
        assert Counter(map(tuple, closed.solution_array()[0].tolist())) == Counter(
            map(tuple, tree_query.solution_array()[0].tolist())
        )
        var = data.draw(st.integers(0, problem.size - 1))
        size = len(problem.domains[var].choices)
        values = data.draw(st.frozensets(st.sampled_from(range(size))))
        closed, tree_query = closed.restricted(var, values), tree_query.restricted(var, values)


@settings(max_examples=strategies.examples(200), deadline=None)
@given(strategies.cases(), st.data())
def test_the_search_up_to_a_key_finds_what_the_ordered_search_does(
    case: strategies.Case, data: st.DataObject
) -> None:
    """Depth first, entering only rows with a completion within the bound: the solutions (and
    their keys) of the ordered search up to that key, each once, and after choices too."""
    _, plan = _plan_problem(case)
    query = plan.query
    assert isinstance(query, TreeQuery)
    for var, domain in enumerate(plan.problem.domains[:2]):
        if data.draw(st.booleans()):
            query = query.restricted(
                var, frozenset({data.draw(st.sampled_from(range(len(domain.choices))))})
            )
    ordered = list(query.by_key())
    keys = sorted({key for key, _ in ordered})
    bound = data.draw(st.sampled_from([keys[0] - 1, *keys, keys[-1] + 1])) if keys else 0
    expected = Counter((key, tuple(values)) for key, values in ordered if key <= bound)
    found = Counter((key, tuple(values)) for key, values in query.up_to_key(bound))
    assert found == expected
    if keys:  # the largest key of a unit cost is the last one within it
        cost = query.cost_of(keys[-1])
        assert query.cost_of(query.last_key_of(cost)) == cost
        assert query.cost_of(query.last_key_of(cost) + 1) == cost + 1
