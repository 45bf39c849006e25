"""The compiled passes against the same passes run as plain Python, and the exact-integer paths.

The engine's answers are checked against the brute-force oracle elsewhere (with the compiled
kernels); here the plain-Python run of the same kernels, used when keys exceed 64 bits, must
give identical counts, marginals and extreme keys, and catalogs priced beyond 64-bit keys
must still count and price exactly.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from math import prod
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.engines.decomposition import Tree, TreeQuery, build_tree
from modcfg.engines.decomposition._kernels import kernels

from . import strategies


def _answers(query: Any) -> tuple[Any, ...]:
    return (
        query.count(),
        query.best_key(),
        query.worst_key(),
        [list(row) for row in query.marginals()] if query.count() else None,
    )


@settings(max_examples=strategies.examples(100), deadline=None)
@given(strategies.cases())
def test_plain_and_compiled_passes_agree(case: strategies.Case) -> None:
    cfg = modcfg.compile(case.catalog)
    try:
        plan = cfg.compiled.plan(case.needs)
    except modcfg.InfeasibleError:
        plan = cfg.compiled.plan(None)
    compiled = _answers(TreeQuery(plan.query.tree, plan.problem))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(TreeQuery, "plain", True)
        plain = _answers(TreeQuery(plan.query.tree, plan.problem))
    assert plain == compiled


@settings(max_examples=strategies.examples(100), deadline=None)
@given(strategies.cases(), st.data())
def test_residues_and_plain_64_bit_counts_agree(case: strategies.Case, data: st.DataObject) -> None:
    """Counts below 2**62 run without reduction; forced through two primes, the passes give the
    same counts and marginals (the residue path is what catalogs beyond 2**62 take). The
    early-stopping feasibility pass agrees with the cheapest key, under random choices too."""
    from modcfg.engines.decomposition import _residues

    cfg = modcfg.compile(case.catalog)
    try:
        plan = cfg.compiled.plan(case.needs)
    except modcfg.InfeasibleError:
        plan = cfg.compiled.plan(None)
    query = TreeQuery(plan.query.tree, plan.problem)
    assert query._moduli.tolist() == [0]
    exact = _answers(query)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_residues, "EXACT_BOUND", 0)
        reduced = TreeQuery(plan.query.tree, plan.problem)
        system = _residues.residue_system(2**40)
        reduced._moduli, reduced._modulus, reduced._crt, reduced._inverses = system
    assert len(reduced._moduli) == 2
    assert _answers(reduced) == exact
    for var, domain in enumerate(plan.problem.domains):
        values = data.draw(st.frozensets(st.sampled_from(range(len(domain.choices)))))
        narrowed = query.restricted(var, values)
        feasible = narrowed.feasible()
        assert feasible == (narrowed.best_key() is not None)
        assert narrowed.feasible() == feasible  # from the cheapest key, once known
        if not feasible:
            break
        query = narrowed


@settings(max_examples=strategies.examples(100), deadline=None)
@given(strategies.cases(), st.data())
def test_a_restricted_query_recounts_only_its_paths_and_agrees_with_a_fresh_one(
    case: strategies.Case, data: st.DataObject
) -> None:
    """A chain of restrictions (a session's choices) whose upward passes start from the last
    query up the chain that counted: counts, extreme keys and marginals equal those of a query
    built afresh for the same filters, whether every link counted or only some did. The rows a
    pass does not recount are never read from its own room (filled with garbage here)."""
    from modcfg.engines.decomposition import _views

    cfg = modcfg.compile(case.catalog)
    plan = cfg.compiled.plan(None)
    query = TreeQuery(plan.query.tree, plan.problem)
    query.count()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_views, "_room", lambda like: np.full_like(like, 7))  # (never read)
        for _ in range(data.draw(st.integers(1, 4))):
            var = data.draw(st.integers(0, query.problem.size - 1))
            size = len(query.problem.domains[var].choices)
            values = data.draw(st.frozensets(st.sampled_from(range(size)), min_size=1))
            query = query.restricted(var, values)
            if data.draw(st.booleans()):
                fresh = TreeQuery(query.tree, query.problem)
                assert _answers(query) == _answers(fresh)
        assert _answers(query) == _answers(TreeQuery(query.tree, query.problem))


@settings(max_examples=strategies.examples(100), deadline=None)
@given(strategies.cases(), st.integers(0, 3))
def test_a_query_bounded_by_its_count_carries_its_residues_over(
    case: strategies.Case, extra: int
) -> None:
    """Counted modulo more primes than its count needs, a query bounded by its count keeps
    the residues of its upward pass modulo the first of them (and recounts nothing): its
    counts, keys and marginals are the exact ones."""
    from modcfg.engines.decomposition import _residues

    cfg = modcfg.compile(case.catalog)
    plan = cfg.compiled.plan(None)
    exact = _answers(TreeQuery(plan.query.tree, plan.problem))
    assume(exact[0] > 0)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_residues, "EXACT_BOUND", 0)  # residues, whatever the count
        wide = TreeQuery(plan.query.tree, plan.problem, count_bound=exact[0] << (31 * extra))
        count = wide.count()
        narrow = wide.bounded(count)
        assert narrow.upward().count.shape[1] == len(_residues.residue_system(count)[0])
        assert narrow.upward().count.shape[1] <= wide.upward().count.shape[1]
        assert _answers(narrow) == exact
    assert wide.bounded(0) is wide


def test_a_large_count_bounded_by_itself_keeps_the_right_residues() -> None:
    """Counts far beyond one modulus (a chain of 70 three-way slots where only c follows c:
    about 2**71 of the 2**111 combinations): the residues carried over are those of the
    first moduli, so the counts through every option are the ones a query counted afresh
    gives."""
    slots = {f"s{i}": {"modules": {"a": {}, "b": {}, "c": {}}} for i in range(70)}
    rules = [
        {"id": f"r{i}{m}", "excludes": [f"s{i}.{m}", f"s{i + 1}.c"]}
        for i in range(69)
        for m in "ab"
    ]
    catalog = modcfg.Catalog.model_validate({"catalog": "chain", "slots": slots, "rules": rules})
    cfg = modcfg.compile(catalog)
    plan = cfg.compiled.plan(None)
    count = TreeQuery(plan.query.tree, plan.problem).count()
    assert count > 2**70
    wide = TreeQuery(plan.query.tree, plan.problem)
    narrow = wide.count() and wide.bounded(count)
    assert narrow.upward().count.shape[1] < wide.upward().count.shape[1]
    assert _answers(narrow) == _answers(TreeQuery(plan.query.tree, plan.problem))


def test_garner_turns_residues_into_exact_integers() -> None:
    primes = [2147483647, 2147483629, 2147483587]
    moduli = np.asarray(primes, dtype=np.int64)
    inverses = np.asarray(
        [[pow(p, -1, q) if p != q else 0 for q in primes] for p in primes], dtype=np.int64
    )
    numbers = [0, 1, 2147483646, 2147483647, 10**18 + 7, 2**92 - 5, primes[0] * primes[1] - 1]
    residues = np.asarray([[n % p for p in primes] for n in numbers], dtype=np.int64)
    for compiled in (True, False):
        limbs = np.empty((len(numbers), 3), dtype=np.int64)
        kernels(compiled=compiled).garner(residues, moduli, inverses, limbs)
        assert [int.from_bytes(row.astype("<u4").tobytes(), "little") for row in limbs] == numbers


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 80), st.data())
def test_garner_recovers_any_integer_below_the_moduli_product(
    width: int, data: st.DataObject
) -> None:
    """Every integer below the product of the moduli, from 0 to the product less one, comes
    back from its residues (the reciprocal's estimate of each quotient is corrected)."""
    from modcfg.engines.decomposition import _residues

    moduli, modulus, _, inverses = _residues.residue_system(1 << (31 * width))
    top = int(modulus) - 1
    numbers = [*data.draw(st.lists(st.integers(0, top), min_size=1, max_size=20)), 0, top]
    residues = np.asarray([[n % int(p) for p in moduli] for n in numbers], dtype=np.int64)
    for compiled in (True, False):
        limbs = np.empty((len(numbers), len(moduli)), dtype=np.int64)
        kernels(compiled=compiled).garner(residues, moduli, inverses, limbs)
        assert [int.from_bytes(row.astype("<u4").tobytes(), "little") for row in limbs] == numbers


def test_prices_beyond_64_bit_keys_stay_exact() -> None:
    """Prices near 10**20 minor units: keys become Python integers, answers stay exact."""
    data = {
        "name": "yachts",
        "currency": "EUR",
        "slots": {
            "hull": {"modules": {"steel": {"price": "1e18"}, "carbon": {"price": "3e18"}}},
            "mast": {"modules": {"alu": {"price": "5e17"}, "wood": {"price": "7e17"}}},
            "sail": {"modules": {"dacron": {"price": "1"}, "kevlar": {"price": "2"}}},
        },
        "rules": [{"id": "r1", "excludes": ["hull.carbon", "mast.wood"]}],
    }
    catalog = modcfg.model.catalog_from_data(data)
    cfg = modcfg.compile(catalog)
    assert cfg.compiled.base_query._key_type is object
    assert cfg.count() == 6  # 2 x 2 x 2, less carbon with wood under either sail
    best = cfg.best(k=6)
    assert [q.total for q in best] == sorted(q.total for q in best)
    assert best[0].total == Decimal("1500000000000000001.00")
    state = cfg.session().choose("hull", "carbon")
    assert state["mast"]["wood"].status == "excluded"
    assert state["sail"]["kevlar"].from_price == Decimal("3500000000000000002.00")
    assert state["sail"]["kevlar"].count == 1


@settings(max_examples=60, deadline=None)
@given(strategies.cases())
def test_bags_hold_exactly_the_solutions_values_on_their_slots(case: strategies.Case) -> None:
    """After the joins and the semi-join, a bag's tuples are the solutions' values on its
    variables (every tuple is part of a solution), and each tuple's cost is its own variables'
    unit costs plus the cost factors the bag holds."""
    cfg = modcfg.compile(case.catalog)
    problem = cfg.compiled.base
    values = [problem.values(var) for var in range(problem.size)]
    assume(prod(map(len, values)) <= 20_000)
    solutions = [
        row
        for row in itertools.product(*values)
        if all(tuple(row[v] for v in c.scope) in c.allowed for c in problem.constraints)
    ]
    for bag in build_tree(problem).bags:
        # (a wide disjunction is a clause, chained through auxiliary variables the bags hold
        # too: the solutions give the values of the problem's own variables)
        own = [p for p, var in enumerate(bag.vars) if var < problem.size]
        held = {tuple(row[p] for p in own) for row in bag.tuples}
        assert held == {tuple(row[bag.vars[p]] for p in own) for row in solutions}
        for row, cost in zip(bag.tuples, bag.cost_array.tolist(), strict=True):
            expected = sum(problem.domains[bag.vars[p]].cost[row[p]] for p in bag.owned)
            for factor in bag.cost_factors:
                key = tuple(row[bag.vars.index(v)] for v in factor.scope)
                expected += factor.table.get(key, 0)
            assert cost == expected


def _bag_rows(tree: Tree) -> list[dict[tuple[int, ...], tuple[Any, ...]]]:
    """Per bag: each tuple with its cost, its separator key and the child keys it links to
    (keys as tuples of values, so the numbering may differ)."""
    described = []
    for bag in tree.bags:
        keys = [tuple(row[p] for p in bag.sep_positions) for row in bag.tuples]
        starts = bag.sep_starts.tolist()
        assert [keys[i] for i in starts] == sorted(set(keys))  # one group per key, in order
        assert all(keys[i] == keys[starts[key]] for i, key in enumerate(bag.sep_ids.tolist()))
        child_keys = []
        for child, links in zip(bag.children, bag.child_index, strict=True):
            child_bag = tree.bags[child]
            firsts = [child_bag.tuples[i] for i in child_bag.sep_starts.tolist()]
            child_keys.append(
                [tuple(firsts[k][p] for p in child_bag.sep_positions) for k in links.tolist()]
            )
        described.append(
            {
                row: (cost, keys[i], *(found[i] for found in child_keys))
                for i, (row, cost) in enumerate(
                    zip(bag.tuples, bag.cost_array.tolist(), strict=True)
                )
            }
        )
    return described


@settings(max_examples=strategies.examples(100), deadline=None)
@given(strategies.cases())
def test_compiled_bag_builder_agrees_with_the_general_path(case: strategies.Case) -> None:
    """The one-call compiled materialisation and its plain-Python run build the same bags,
    keys, links and costs."""
    from modcfg.engines.decomposition import _tree
    from modcfg.engines.decomposition._build import materialise

    cfg = modcfg.compile(case.catalog)
    problem = cfg.compiled.base
    compiled = build_tree(problem)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_tree, "COMPILED", False)
        general = build_tree(problem)
    assert _bag_rows(compiled) == _bag_rows(general)
    assert (compiled.cost_span, compiled.cost_magnitude) == (
        general.cost_span,
        general.cost_magnitude,
    )
    plain = build_tree(problem)
    materialise(plain, compiled=False, bag_limit=_tree.BAG_LIMIT)
    assert _bag_rows(plain) == _bag_rows(compiled)


@settings(max_examples=strategies.examples(100), deadline=None)
@given(
    st.lists(st.lists(st.integers(-50, 50), min_size=1, max_size=5), min_size=3, max_size=4),
    st.sampled_from(["<=", "<", ">=", ">", "==", "!="]),
    st.integers(-100, 100),
    st.data(),
)
def test_linear_rules_tabulate_alike_by_grid_and_by_pruned_enumeration(
    weights: list[list[int]], op: str, bound: int, data: st.DataObject
) -> None:
    """Sums over a few slots: the weight grid and the bound-pruned enumeration agree."""
    from modcfg.lower import Resource, _tabulate

    allowed = [
        data.draw(st.lists(st.booleans(), min_size=len(w), max_size=len(w))) for w in weights
    ]
    resource = Resource(tuple(tuple(w) for w in weights), op, bound, "r")
    scope = list(range(len(weights)))
    by_grid = {tuple(row) for row in _tabulate._linear_rows(resource, scope, allowed).tolist()}
    by_search = set(_tabulate._linear_tuples(resource, scope, allowed))
    expected = {
        combo
        for combo in itertools.product(*(range(len(w)) for w in weights))
        if all(allowed[var][value] for var, value in enumerate(combo))
        and resource.holds(sum(weights[var][value] for var, value in enumerate(combo)))
    }
    assert by_grid == by_search == expected


@settings(max_examples=strategies.examples(200), deadline=None)
@given(strategies.cases(independent=True), st.data())
def test_independent_slots_closed_forms_agree_with_the_tree(
    case: strategies.Case, data: st.DataObject
) -> None:
    """Where nothing ties the slots, sessions and ranked streams use closed forms: the same
    counts, keys, marginals and best-first order as the decomposition, under choices too."""
    from modcfg.engines._closed_form import IndependentQuery, separable

    cfg = modcfg.compile(case.catalog)
    try:
        plan = cfg.compiled.plan(case.needs)
    except modcfg.InfeasibleError:
        plan = cfg.compiled.plan(None)
    if not separable(plan.problem):  # a customer's condition over two slots
        return
    problem = plan.problem

    def cost_and_score(assignment: list[int]) -> tuple[int, int]:
        cost = sum(d.cost[v] for d, v in zip(problem.domains, assignment, strict=True))
        score = sum(f.table.get((assignment[f.scope[0]],), 0) for f in problem.score_factors)
        return cost, score

    def by_preference(ranked: Any) -> list[tuple[int, int]]:
        return [(-score, cost) for cost, score in (cost_and_score(a) for _, a in ranked)]

    tree_query = TreeQuery(plan.query.tree, problem)
    closed = IndependentQuery(problem)
    for _ in range(2):
        assert closed.feasible() == (tree_query.best_key() is not None)
        assert _answers(closed) == _answers(tree_query)
        assert set(map(tuple, closed.solutions())) == set(map(tuple, tree_query.solutions()))
        keys = [key for key, _ in closed.by_key()]
        assert keys == [key for key, _ in tree_query.by_key()]
        for key, assignment in closed.by_key():
            cost, score = cost_and_score(assignment)
            assert (closed.cost_of(key), closed.score_of(key)) == (cost, score)
        preferred = TreeQuery(tree_query.tree, tree_query.problem, preference_first=True)
        assert by_preference(closed.by_key(preference_first=True)) == by_preference(
            preferred.by_key()
        )
        var = data.draw(st.integers(0, plan.problem.size - 1))
        size = len(problem.domains[var].choices)
        values = data.draw(st.frozensets(st.sampled_from(range(size))))
        closed, tree_query = closed.restricted(var, values), tree_query.restricted(var, values)


@settings(max_examples=strategies.examples(200), deadline=None)
@given(strategies.catalogs(), st.data())
def test_linear_weights_read_off_sums_equal_evaluated_ones(
    catalog: modcfg.Catalog, data: st.DataObject
) -> None:
    """A linear rule's per-value weights, read off sums, differences and constant multiples
    of module references and counts, equal those found by evaluating the rule with one slot
    chosen at a time (the general way, kept for attributes and totals)."""
    from modcfg.lower import _tabulate, build_domains
    from modcfg.lower._tabulate import _Scope
    from modcfg.model import parse

    words = strategies._Vocabulary.of(catalog)
    terms = data.draw(
        st.lists(st.sampled_from([t for t, _ in words.terms]), min_size=1, max_size=4)
    )
    text = terms[0]
    for term in terms[1:]:
        sign = data.draw(st.sampled_from(["+", "-"]))
        factor = data.draw(st.sampled_from(["", "2 * ", "-1 * "]))
        text += f" {sign} {factor}{term}"
    op = data.draw(st.sampled_from(["<=", "<", ">=", ">", "==", "!="]))
    expr = parse(f"{text} {op} {data.draw(st.integers(-5, 5))}")
    assert _tabulate._linear(expr)
    helper = _Scope(catalog, build_domains(catalog))
    found = _tabulate._resource(helper, expr, "r")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_tabulate, "_linear_terms", lambda *_: None)
        evaluated = _tabulate._resource(helper, expr, "r")
    assert found == evaluated


@settings(max_examples=strategies.examples(200), deadline=None)
@given(strategies.catalogs(), st.data())
def test_rule_masks_hold_where_the_general_grid_holds(
    catalog: modcfg.Catalog, data: st.DataObject
) -> None:
    """Rules tabulated as bit masks (comparisons evaluated value by value into them) hold for
    exactly the combinations where the general evaluation over object grids holds."""
    from hypothesis import assume

    from modcfg.lower import build_domains
    from modcfg.lower._tabulate import _Scope
    from modcfg.model import parse

    expr = parse(data.draw(strategies.conditions(catalog)))
    helper = _Scope(catalog, build_domains(catalog))
    scope = helper.of(expr)
    assume(scope)
    slots = [helper.domains[var].slot for var in scope]
    by_masks = helper.tabulator.rows(expr, slots)
    by_grid = np.argwhere(helper.tabulator.grid(expr, slots))
    assert by_masks.tolist() == by_grid.tolist()


@settings(max_examples=strategies.examples(200), deadline=None)
@given(st.data())
def test_the_plain_forms_of_the_bag_builders_helpers_agree_with_their_kernel_forms(
    data: st.DataObject,
) -> None:
    """The NumPy forms that uncompiled kernels call give what the loops compiled kernels
    call give: the stable lexicographic order of rows, and where each row first differs from
    the row before it."""
    from modcfg.engines.decomposition import _build_kernel as kernel

    width = data.draw(st.integers(0, 4))
    sizes_all = data.draw(st.lists(st.integers(1, 300), min_size=width, max_size=width))
    rows = data.draw(
        st.lists(
            st.tuples(*(st.integers(0, size - 1) for size in sizes_all)), min_size=0, max_size=40
        )
    )
    matrix = np.asarray(rows, dtype=np.int64).reshape(len(rows), width)
    permuted = data.draw(st.permutations(range(width)))
    columns = np.asarray(permuted[: data.draw(st.integers(0, width))], dtype=np.int64)
    sizes = np.asarray([sizes_all[c] for c in columns.tolist()], dtype=np.int64)
    order = kernel._sorted(matrix, columns, sizes)
    assert order.tolist() == kernel._radix_sorted(matrix, columns, sizes).tolist()
    assert order.tolist() == sorted(
        range(len(rows)), key=lambda i: tuple(rows[i][c] for c in columns.tolist())
    )
    assert (
        kernel._changes(matrix, columns, order).tolist()
        == kernel._changes_looped(matrix, columns, order).tolist()
    )
