"""The compiled engine (decision-DNNF) against the brute-force oracle on random small catalogs.

``engine="compiled"`` forces it for counts; its query (what sessions read on catalogs too
entangled to decompose) is checked for every option's count, for counts after one to three
choices, and for the cheapest key, all against enumeration by ``tests/oracle.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import modcfg
import modcfg._compiled
from modcfg.engines import EngineQuery
from modcfg.engines._parts import PartsQuery
from modcfg.engines.compiled import (
    COMPILE_SECONDS,
    CompiledEngineError,
    CompiledQuery,
    compile_cnf,
)

from . import oracle, strategies

PROPERTIES = settings(max_examples=60, deadline=None)
#: Configurations (before rules) of the catalogs drawn: the oracle enumerates them.
SMALL = 150


def _option_count(refs: list[set[str]], slot: str, module: str) -> int:
    return sum(f"{slot}.{module}" in chosen for chosen in refs)


@PROPERTIES
@given(strategies.cases(SMALL), st.data())
def test_compiled_engine_matches_oracle(case: strategies.Case, data: st.DataObject) -> None:
    cfg = modcfg.compile(case.catalog)
    assert cfg.count(engine="compiled") == oracle.count(case.catalog)
    plan = cfg.compiled.plan(case.needs)
    try:
        counted = cfg.count(case.needs, engine="compiled")
    except CompiledEngineError:
        assert not plan.bounds.unbounded  # a budget or global sums: the engine says so
    else:
        assert type(counted) is int
        assert counted == oracle.count(case.catalog, case.needs)

    query = cfg.compiled.plan(None).compiled_query
    assert isinstance(query, CompiledQuery)
    valid = oracle.valid_configurations(case.catalog)
    refs = [set(configuration.refs()) for configuration in valid]
    modules = cfg.compiled.module_values
    options = query.option_counts()
    for var, slot in enumerate(cfg.compiled.slots):
        for module, values in modules[var].items():
            found = sum(options[var][value] for value in values)
            assert found == _option_count(refs, slot, module), f"{slot}.{module}"
    if not valid:
        assert query.best_key() is None
        assert query.worst_key() is None
    elif query.problem.cost_factors or query.problem.score_factors:
        with pytest.raises(CompiledEngineError, match="engine='cpsat'"):
            query.best_key()
    else:
        assert query.best_key() == cfg.compiled.base_query.best_key()
        assert query.worst_key() == cfg.compiled.base_query.worst_key()
        keys = [key for row in query.marginals() for _, key in row if key is not None]
        expected = [key for row in cfg.compiled.base_query.marginals() for _, key in row]
        assert keys == [key for key in expected if key is not None]

    check_choices(cfg, query, refs, data)


def check_choices(
    cfg: modcfg.Configurator,
    query: EngineQuery,
    refs: list[set[str]],
    data: st.DataObject,
) -> None:
    """Up to three choices drawn by ``data``, each a module of a slot, restricting ``query``:
    counted after each against the valid configurations' ``refs``."""
    modules = cfg.compiled.module_values
    narrowed, kept = query, refs
    for _ in range(data.draw(st.integers(1, 3))):
        var = data.draw(st.integers(0, len(modules) - 1))
        module = data.draw(st.sampled_from(sorted(modules[var])))
        slot = cfg.compiled.slots[var]
        narrowed = narrowed.restricted(var, frozenset(modules[var][module]))
        kept = [chosen for chosen in kept if f"{slot}.{module}" in chosen]
        assert narrowed.count() == len(kept)
        if isinstance(narrowed, CompiledQuery):  # its weights changed by the choice alone...
            fresh = CompiledQuery(narrowed.problem, narrowed.circuit, narrowed.encoding)
            assert narrowed.option_counts() == fresh.option_counts()  # ...are the whole's
    assert query.count() == len(refs)  # restricting made new queries


def test_compile_cnf_counts_a_small_formula() -> None:
    # (x1 or x2) and (not x1 or x3) over 4 variables: x4 is free
    circuit = compile_cnf(4, [[1, 2], [-1, 3]], max_nodes=1000)
    assert circuit.root == len(circuit.nodes) - 1
    assert {node[0] for node in circuit.nodes} >= {"lit", "free"}


def test_compile_limits_raise_limit_exceeded() -> None:
    chain = [[-i, i + 1] for i in range(1, 40)] + [[1, 20, 39]]
    with pytest.raises(modcfg.LimitExceeded, match="memory limit"):
        compile_cnf(40, chain, max_nodes=5)
    with pytest.raises(modcfg.LimitExceeded, match="time limit"):
        compile_cnf(40, chain, max_nodes=10**6, seconds=-1.0)


def test_ranked_streams_name_the_engine_to_use() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    query = cfg.compiled.plan(None).compiled_query
    assert query.count() == cfg.count() == 1800
    with pytest.raises(CompiledEngineError, match="engine='cpsat'"):
        next(iter(query.by_key()))


def _wide_compile(catalog: modcfg.Catalog, **limits: float) -> modcfg.Configurator:
    """``catalog`` compiled with the decomposition's trial limits in ``limits`` (by default
    the combinations at their smallest: every catalog whose rules tie slots is then too wide
    for the first try of the tree)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in (limits or {"TRIAL_COMBINATIONS": 1}).items():
            monkeypatch.setattr(modcfg._compiled, name, value)
        return modcfg.compile(catalog)


def _lowers_to_cnf(cfg: modcfg.Configurator) -> bool:
    from modcfg.engines import separable
    from modcfg.engines.compiled import NotCnfError, encode

    try:
        encode(cfg.compiled.base)
    except NotCnfError:
        return False
    base = cfg.compiled.base
    return not separable(base) and not base.cost_factors


@PROPERTIES
@given(strategies.cases(SMALL))
def test_a_catalog_too_wide_for_the_tree_is_answered_by_the_compiled_engine(
    case: strategies.Case,
) -> None:
    """Past the tree's trial limits, rules that lower to CNF go to the compiled engine (unless
    a price rule spans several slots), any others to the tree within its full limits; either
    way the count and every option's count in a session are the oracle's."""
    cfg = _wide_compile(case.catalog)
    valid = oracle.valid_configurations(case.catalog)
    assert cfg.count() == len(valid)
    if cfg.compiled.wide_base is not None:
        assert _lowers_to_cnf(cfg)
        # the decomposition's width, read without filling a tree of the whole
        assert cfg.width == modcfg.compile(case.catalog).width
        assert cfg.compiled._tree is None
    elif len(valid) > 1:  # some bag has two combinations: past the trial limit
        assert not _lowers_to_cnf(cfg)
    if not valid:
        return
    refs = [set(configuration.refs()) for configuration in valid]
    session = cfg.session()
    state = session.state()
    for slot in state:
        for module, option in state[slot].items():
            if module is not None:
                assert option.count == _option_count(refs, slot, module), f"{slot}.{module}"
    # the price range and the cheapest completion: as the tree's (the oracle tests check it)
    tree_session = modcfg.compile(case.catalog).session()
    assert state.price_range == tree_session.state().price_range
    assert session.complete().total == tree_session.complete().total


@settings(max_examples=20, deadline=None)
@given(strategies.cases(SMALL), st.booleans())
def test_when_the_compiled_engine_stops_the_tree_is_built_within_its_full_limits(
    case: strategies.Case, filling: bool
) -> None:
    """Bags past the trial's rows as they fill (``filling``) give the compiled engine a short
    try, bags too wide to fill its full time; when it stops, the tree is built."""
    limit = {"TRIAL_BAG_ROWS": 1} if filling else {"TRIAL_COMBINATIONS": 1}
    tries: list[float] = []

    def stops(problem: object, *, seconds: float) -> None:
        tries.append(seconds)
        raise modcfg.LimitExceeded("stopped (as this test asks)")

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(modcfg._compiled, "compile_problem", stops)
        cfg = _wide_compile(case.catalog, **limit)
    assert cfg.compiled.wide_base is None
    assert cfg.count() == oracle.count(case.catalog)
    assert cfg.count(case.needs) == len(oracle.ranked(case.catalog, case.needs))
    if tries:  # the engine was tried: briefly, or for its full time
        assert tries == [modcfg._compiled.TRIAL_SECONDS if filling else COMPILE_SECONDS]
    from modcfg.engines import separable

    if not separable(cfg.compiled.base) and cfg.count() > 1:  # past the trial
        # bags that passed the trial's rows as they filled: min-fill's tree is built
        assert cfg.compiled.tree.fill_in == filling
    if _lowers_to_cnf(cfg) and cfg.count() > 1:  # past the trial: the engine is tried
        assert tries


def test_a_catalog_the_compiled_engine_answers_is_saved_and_loaded(tmp_path: Path) -> None:
    cfg = _wide_compile(_chain_catalog(tmp_path))
    assert cfg.compiled.wide_base is not None
    assert cfg.count() == 7  # the suffixes switched on that reach x7: from x1 ... from x7
    file = cfg.save(tmp_path / "chain.modcfg")

    def compile_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the saved circuit is loaded, not compiled again")

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(modcfg._compiled, "compile_problem", compile_again)
        loaded = modcfg.load_compiled(file)
    assert loaded.compiled.wide_base is not None
    assert loaded.count() == 7
    state = loaded.session().state()
    assert {slot: dict(state[slot]) for slot in state} == {
        slot: dict(cfg.session().state()[slot]) for slot in state
    }


def test_a_restored_session_weighs_the_circuits_literals_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A storefront restores a session from its document on every request: each choice
    changes the weights of its own literals, so a complete configuration of 1,404 features
    (FinancialServices01: 711 choices) is not 711 passes over every variable (0.5 s)."""
    from modcfg.engines.compiled._cnf import Encoding
    from modcfg.session import Session

    cfg = _wide_compile(_chain_catalog(tmp_path))
    session = cfg.session()
    session.complete()
    document = session.to_dict(signing_key=b"k" * 32)
    assert len(document["choices"]) == 12
    calls = []
    whole = Encoding.weights
    monkeypatch.setattr(Encoding, "weights", lambda *a, **k: calls.append(1) or whole(*a, **k))
    restored = Session.from_dict(cfg, document, signing_key=b"k" * 32)
    assert restored.quote().total == session.quote().total
    assert restored.state().count == 1
    assert len(calls) <= 1  # (the session's first query, when not shared already)


def _chain_catalog(tmp_path: Path) -> modcfg.Catalog:
    model = tmp_path / "chain.dimacs"  # x1 -> x2 -> ... -> x12, and x3 or x7
    model.write_text(
        "p cnf 12 12\n" + "".join(f"-{v} {v + 1} 0\n" for v in range(1, 12)) + "3 7 0\n"
    )
    return modcfg.load_catalog(model)


def test_a_condition_on_a_compiled_catalog_needs_no_compile_of_its_own(tmp_path: Path) -> None:
    catalog = _chain_catalog(tmp_path)
    cfg = _wide_compile(catalog)

    def compile_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the catalog's circuit answers, no circuit is compiled")

    needs = modcfg.Needs(conditions=["x4.selected -> not x2.selected"])
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(modcfg.engines.compiled, "compile_problem", compile_again)
        query = cfg.compiled.plan(needs).query
        assert isinstance(query, PartsQuery)
        valid = oracle.valid_configurations(catalog, needs)
        assert cfg.count(needs) == len(valid) == 5  # on from x3, x4, ... or x7
        state = cfg.session(needs).state()
        assert state["x5"]["selected"].count == 3  # (on from x3, x4 or x5)
        assert state.count == 5
        assert len(list(cfg.configurations(needs))) == 5


def test_an_unpriced_compiled_catalog_is_ranked_by_its_circuit(tmp_path: Path) -> None:
    """Every configuration of a feature model has one price: best and price-ordered streams
    list them from the circuit (CP-SAT took seconds for them on a 711-feature model)."""
    catalog = _chain_catalog(tmp_path)
    cfg = _wide_compile(catalog)
    assert cfg.compiled.wide_base is not None

    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("the circuit ranks an unpriced catalog, CP-SAT is not asked")

    needs = modcfg.Needs(conditions=["x4.selected -> not x2.selected"])
    valid = {str(c) for c in oracle.valid_configurations(catalog, needs)}
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr("modcfg.engines.cpsat._query.CpSatQuery", no_search)
        quotes = cfg.best(needs, k=3)
        listed = list(cfg.configurations(needs, order="price"))
        completed = cfg.session(needs).complete()
    assert len({str(q.configuration) for q in quotes}) == 3
    assert {str(q.configuration) for q in quotes} <= valid
    assert sorted(map(str, listed)) == sorted(valid)
    assert str(completed.configuration) in valid


def test_compiling_honours_its_time_limit(tmp_path: Path) -> None:
    """compile's time_limit bounds the compiled engine's search (it gets the time left) and
    refuses, naming the limit, once no time is left for the tree's full try."""
    catalog = _chain_catalog(tmp_path)
    tries: list[float] = []

    def slow(problem: object, *, seconds: float) -> None:
        tries.append(seconds)
        time.sleep(0.2)
        raise modcfg.LimitExceeded("the search stopped (as this test asks)")

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(modcfg._compiled, "compile_problem", slow)
        monkeypatch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
        with pytest.raises(modcfg.LimitExceeded, match=r"time_limit=0\.1 s") as refused:
            modcfg.compile(catalog, time_limit=0.1)
        assert len(tries) == 1
        assert 0 < tries[0] <= 0.1
        assert "the search stopped" in str(refused.value)  # and why the engine stopped
        assert modcfg.compile(catalog, time_limit=1000).count() == 7  # time left: the tree
    assert tries[1] == COMPILE_SECONDS  # (its own limit is shorter than the time left)


def test_the_command_line_time_limit_bounds_compiling(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from modcfg.cli import app

    model = tmp_path / "chain.dimacs"
    model.write_text("p cnf 3 2\n1 2 0\n-2 3 0\n")
    for command in ("count", "list", "best"):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
            monkeypatch.setattr(modcfg._compiled, "_Deadline", _Spent)
            result = CliRunner().invoke(app, [command, str(model), "--time-limit", "5"])
        # (the command line's entry point turns a LimitExceeded into one line and exit 2)
        assert isinstance(result.exception, modcfg.LimitExceeded), (command, result.output)
        assert "time_limit=5 s" in str(result.exception)
    assert CliRunner().invoke(app, ["count", str(model), "--time-limit", "5"]).output == "4\n"


class _Spent:
    """A deadline already passed (compiling then refuses before the compiled engine)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() - 1

    def passed(self, stopped: str) -> modcfg.LimitExceeded:
        return modcfg.LimitExceeded(f"compiling passed time_limit={self.seconds:g} s {stopped}")

    def left(self, most: float | None, stopped: str) -> float:
        raise modcfg.LimitExceeded(f"compiling passed time_limit={self.seconds:g} s {stopped}")


@settings(max_examples=300, deadline=None)
@given(strategies.cases(SMALL), st.data())
def test_conditions_of_needs_are_answered_over_the_catalogs_circuit(
    case: strategies.Case, data: st.DataObject
) -> None:
    """A customer's conditions on a catalog the compiled engine answers: parts of its circuit
    (no compile of its own) when they forbid a few combinations; the count, every option's
    count in a session, a few choices and the configurations listed are the oracle's."""
    cfg = _wide_compile(case.catalog)
    # (an implication between two modules: over two slots, a box the parts go around)
    implication = strategies.implications(case.catalog)
    drawn = data.draw(
        st.lists(implication | strategies.conditions(case.catalog), min_size=1, max_size=2)
    )
    needs = modcfg.Needs(conditions=drawn)
    valid = oracle.valid_configurations(case.catalog, needs)
    assert cfg.count(needs) == len(valid)
    if cfg.compiled.wide_base is None:
        return
    query = cfg.compiled.plan(needs).query
    event(type(query).__name__)
    refs = [set(configuration.refs()) for configuration in valid]
    listed = [set(c.refs()) for c in cfg.configurations(needs)]
    assert sorted(map(sorted, listed)) == sorted(map(sorted, refs))
    if not valid:
        return
    state = cfg.session(needs).state()
    for slot in state:
        for module, option in state[slot].items():
            if module is not None:
                assert option.count == _option_count(refs, slot, module), f"{slot}.{module}"
    check_choices(cfg, query, refs, data)


def _depth_first(query: CompiledQuery) -> list[tuple[int, ...]]:
    """Every solution of ``query`` in the circuit's depth-first order, listed by recursion
    (decisions: child by child; ``and``: the first child varying slowest; a free variable:
    its positive literal first): the order the walk in blocks numbers them."""
    nodes, weight = query.circuit.nodes, query._weight
    value_of = query.encoding.value_of()
    counts = query.circuit.totals(weight)

    def listed(index: int) -> list[list[int]]:
        kind, arg, children = nodes[index]
        if kind == "lit":
            return [[arg]] if weight[arg] else []
        if kind == "free":
            return [[lit] for lit in (arg, -arg) if weight[lit]]
        if kind == "or":
            return [row for child in children if counts[child] for row in listed(child)]
        if kind == "and":
            rows: list[list[int]] = [[]]
            for child in children:
                rows = [row + tail for row in rows for tail in listed(child)]
            return rows
        return []

    solutions = []
    for literals in listed(len(nodes) - 1) if query.count() else []:
        row = [0] * query.problem.size
        for lit in literals:
            if lit in value_of:
                var, value = value_of[lit]
                row[var] = value
        solutions.append(tuple(row))
    return solutions


@PROPERTIES
@given(strategies.cases(SMALL), st.data())
def test_the_circuit_is_walked_in_blocks_by_index(
    case: strategies.Case, data: st.DataObject
) -> None:
    """The compiled engine's blocks hold every solution once, in the depth-first order, with
    its unit cost, whatever the block size, after choices, and with indexes as Python
    integers (the path of counts past 2**62, taken here from 2 on)."""
    from modcfg.engines._protocol import unit_cost
    from modcfg.engines.compiled import _walk

    cfg = modcfg.compile(case.catalog)
    query = cfg.compiled.plan(None).compiled_query
    assert isinstance(query, CompiledQuery)
    modules = cfg.compiled.module_values
    for _ in range(data.draw(st.integers(0, 2))):
        var = data.draw(st.integers(0, len(modules) - 1))
        module = data.draw(st.sampled_from(sorted(modules[var])))
        query = query.restricted(var, frozenset(modules[var][module]))
    size = data.draw(st.integers(1, 40))
    rows: list[tuple[int, ...]] = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        if data.draw(st.booleans()):
            monkeypatch.setattr(_walk, "_SMALL", 2)
        for values, cost in query.blocks(size):
            assert values.dtype == np.int32
            assert cost.dtype == np.int64
            assert values.shape == (query.problem.size, len(cost))
            assert 0 < len(cost) <= size
            block = [tuple(row) for row in values.T.tolist()]
            assert cost.tolist() == [unit_cost(query.problem, list(row)) for row in block]
            rows.extend(block)
    assert rows == _depth_first(query)
    assert len(set(rows)) == len(rows) == query.count()
    assert [tuple(row) for row in query.solutions()] == rows
    assert set(rows) <= {tuple(row) for row in cfg.compiled.base_query.solutions()}


def test_a_stream_of_the_circuit_stops_at_its_deadline() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    query = cfg.compiled.plan(None).compiled_query
    assert isinstance(query, CompiledQuery)
    with pytest.raises(modcfg.TimeLimitExceeded, match="time limit"):
        list(query.solutions(deadline=time.monotonic() - 1))
    assert len(list(query.solutions())) == 1800


def _listed_supports(query: EngineQuery, options: list[tuple[int, int]]) -> list[list[int]]:
    """:meth:`EngineQuery.supports` read off the solutions themselves."""
    masks = [[0] * len(row) for row in query.problem.allowed]
    for row in query.solutions():
        for bit, (var, value) in enumerate(options):
            if row[var] == value:
                for other, held in enumerate(row):
                    masks[other][held] |= 1 << bit
    return masks


@PROPERTIES
@given(strategies.cases(SMALL), st.data())
def test_which_values_are_possible_with_each_option_in_one_pass(
    case: strategies.Case, data: st.DataObject
) -> None:
    """The circuit's supports (one Boolean pass up and down for all options at once), those
    of the tree and of a customer's conditions over the circuit's parts are the solutions'."""
    from modcfg.engines._protocol import restricted_supports

    cfg = modcfg.compile(case.catalog)
    plan = cfg.compiled.plan(None)
    compiled = plan.compiled_query
    queries: list[EngineQuery] = [compiled, cfg.compiled.base_query]
    modules = cfg.compiled.module_values
    for _ in range(data.draw(st.integers(0, 2))):
        var = data.draw(st.integers(0, len(modules) - 1))
        module = data.draw(st.sampled_from(sorted(modules[var])))
        queries = [query.restricted(var, frozenset(modules[var][module])) for query in queries]
    if case.needs is not None:
        try:
            needs_plan = cfg.compiled.plan(case.needs)
        except modcfg.InfeasibleError:
            pass
        else:
            problem = needs_plan.problem
            if not (problem.resources or problem.cost_factors or problem.score_factors):
                queries.append(compiled.with_problem(problem))
    for query in queries:
        allowed = query.problem.allowed
        options = [(var, value) for var, row in enumerate(allowed) for value in range(len(row))]
        options = data.draw(st.permutations(options))[: data.draw(st.integers(0, len(options)))]
        expected = _listed_supports(query, options)
        assert query.supports(options) == expected, type(query).__name__
        assert restricted_supports(query, options) == expected


def test_supports_by_a_pass_per_option_keep_to_their_deadline() -> None:
    from modcfg.engines._protocol import restricted_supports

    query = modcfg.compile("windows").compiled.base_query
    options = [(0, 0), (0, 1)]
    with pytest.raises(modcfg.TimeLimitExceeded, match="after 0 of 2 values"):
        restricted_supports(query, options, deadline=time.monotonic() - 1)
    assert query.supports(options) == restricted_supports(query, options)


def test_the_circuits_blocks_stay_within_the_memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed asks for blocks of a million rows; the walk makes them only as large as its
    values and its work per node fit the memory limit (at least 64 rows)."""
    from modcfg.engines.compiled import _walk

    assert _walk.rows_within(600 * 2**20, 711, 3863) == 600 * 2**20 // (8 * 711 + 16 * 3863)
    assert _walk.rows_within(1, 10, 10) == 64
    query = modcfg.compile("windows").compiled.plan(None).compiled_query
    assert isinstance(query, CompiledQuery)
    whole = [tuple(row) for values, _ in query.blocks(10**6) for row in values.T.tolist()]
    nodes = len(query.circuit.nodes)
    per_node = query.problem.memory_limit // (100 * nodes)  # (so that 100 rows fit, about)
    monkeypatch.setattr(_walk, "_ROW_BYTES_PER_NODE", per_node)
    cap = _walk.rows_within(query.problem.memory_limit, query.problem.size, nodes)
    assert 64 <= cap < 200
    sizes = [len(cost) for _, cost in query.blocks(10**6)]
    assert max(sizes) <= cap
    assert sum(sizes) == query.count() == 1800
    smaller = [tuple(row) for values, _ in query.blocks(10**6) for row in values.T.tolist()]
    assert smaller == whole
