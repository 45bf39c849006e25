"""Feeds: record batches, Parquet files and partitions against the oracle and the object stream.

Every batch row is a valid configuration with its quote total in minor units; the batches hold
each valid configuration once (the oracle's set), in price order when asked; partitions are
disjoint, cover the space and know their sizes exactly.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import modcfg
import modcfg._compiled
from modcfg.engines.decomposition import solution_blocks

from . import oracle, strategies
from .test_aside import compiled_aside
from .test_clauses import formula_file, formulas

pa = pytest.importorskip("pyarrow", reason="the feed extra (pyarrow) is not installed")
parquet = pytest.importorskip("pyarrow.parquet")

# each example compiles a catalog and enumerates it five ways (about 0.3 s): fewer examples
PROPERTIES = settings(max_examples=50, deadline=None)
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def rows_of(
    cfg: modcfg.Configurator, batches: list[pa.RecordBatch]
) -> list[tuple[modcfg.Configuration, int]]:
    """The batches' rows as (configuration, total in minor units), in order."""
    compiled = cfg.compiled
    found = []
    for batch in batches:
        codes = [batch.column(var).indices.to_pylist() for var in range(len(compiled.slots))]
        prices = batch.column("price").to_pylist()
        for row, price in enumerate(prices):
            assignment = [  # a null code is the empty choice of an optional slot
                compiled.choice_lists[var].index(None) if code is None else code
                for var, code in enumerate(column[row] for column in codes)
            ]
            found.append((compiled.configuration(assignment), price))
    return found


def minor(catalog: modcfg.Catalog, total: Decimal) -> int:
    return int(total.scaleb(catalog.decimals))


@PROPERTIES
@given(strategies.cases(500))
def test_batches_and_partitions_match_the_oracle(case: strategies.Case) -> None:
    cfg = modcfg.compile(case.catalog)
    expected = Counter(
        (configuration, minor(case.catalog, total))
        for total, _, configuration in oracle.ranked(case.catalog, case.needs)
    )
    found = rows_of(cfg, list(cfg.batches(case.needs, size=7)))
    assert Counter(found) == expected
    ordered = rows_of(cfg, list(cfg.batches(case.needs, size=5, order="price")))
    assert Counter(ordered) == expected
    assert [price for _, price in ordered] == sorted(price for _, price in ordered)
    parts = cfg.partitions(case.needs, rows=max(1, len(found) // 4))
    assert sum(part.rows for part in parts) == len(found)
    covered: Counter[tuple[modcfg.Configuration, int]] = Counter()
    for part in parts:
        rows = rows_of(cfg, list(cfg.batches(case.needs, partition=part)))
        assert len(rows) == part.rows
        covered.update(rows)
    assert covered == expected


def test_batches_follow_the_object_stream() -> None:
    cfg = modcfg.compile("windows")
    needs = modcfg.Needs(require=["glass.triple"])
    rows = rows_of(cfg, list(cfg.batches(needs, size=100)))
    assert Counter(c for c, _ in rows) == Counter(cfg.configurations(needs))
    by_price = rows_of(cfg, list(cfg.batches(needs, order="price")))
    stream = list(cfg.configurations(needs, order="price"))
    totals = [minor(cfg.catalog, cfg.price(c, needs).total) for c in stream]
    assert [price for _, price in by_price] == totals
    assert Counter(by_price) == Counter(zip(stream, totals, strict=True))


def test_blocks_are_the_same_at_any_size_and_allocation() -> None:
    """The walk writes each column a run at a time and carries runs across blocks: every block
    size (one row, sizes that split runs, one block for all) and both memories (numpy, Arrow's
    pool) give the same rows in the same order, each configuration once."""
    cfg = modcfg.compile("windows")
    needs = modcfg.Needs(require=["glass.triple"])
    query = cfg.compiled.plan(needs).tree_query
    whole = [
        (tuple(values[:, row]), int(cost[row]))
        for values, cost in solution_blocks(query, 1 << 30)
        for row in range(len(cost))
    ]
    assert len(whole) == len(set(whole)) == cfg.count(needs)
    for size in (1, 7, 1000):
        for allocate in (None, pa.allocate_buffer):
            extra = {} if allocate is None else {"allocate": allocate}
            rows = [
                (tuple(values[:, row]), int(cost[row]))
                for values, cost in solution_blocks(query, size, **extra)
                for row in range(len(cost))
            ]
            assert rows == whole, (size, allocate)


def test_schema_and_parquet_round_trip(tmp_path: Path) -> None:
    cfg = modcfg.compile("windows_pro")
    batch = next(cfg.batches(size=100))
    assert batch.num_rows == 100
    assert batch.schema.names == [*cfg.compiled.slots, "price"]
    assert batch.schema.field("frame").type == pa.dictionary(pa.int32(), pa.string())
    assert batch.column("hardware").dictionary.to_pylist()[0] == ""  # no hardware
    path = tmp_path / "feed.parquet"
    assert cfg.to_parquet(path) == cfg.count()
    table = parquet.read_table(path)
    assert table.num_rows == cfg.count()
    first = table.slice(0, 1).to_pylist()[0]
    configuration = next(iter(cfg.configurations()))
    assert first["frame"] == configuration["frame"]
    assert first["price"] == minor(cfg.catalog, cfg.price(configuration).total)
    assert [p.name for p in tmp_path.iterdir()] == ["feed.parquet"]


def test_feeds_keep_to_their_time_limit_and_report_progress(tmp_path: Path) -> None:
    """A feed past its time limit stops at its next block and says how far it got; a Parquet
    file past it is not written at all; progress follows every batch written."""
    cfg = modcfg.compile("bicycle")
    with pytest.raises(
        modcfg.TimeLimitExceeded, match=r"the feed passed time_limit=0\.0 s after 0 rows"
    ):
        next(cfg.batches(size=1_000, time_limit=0.0))
    feed = cfg.batches(size=1_000, time_limit=30.0)
    assert next(feed).num_rows == 1_000
    path = tmp_path / "feed.parquet"
    with pytest.raises(modcfg.TimeLimitExceeded, match="partition="):
        cfg.to_parquet(path, time_limit=0.0)
    assert list(tmp_path.iterdir()) == []
    needs = modcfg.Needs(budget="600")
    with pytest.raises(modcfg.TimeLimitExceeded, match="after 0 rows"):
        next(cfg.batches(needs, time_limit=0.0))  # (rows filtered by the budget: checked too)
    small = modcfg.compile("windows_pro")
    seen: list[tuple[int, int | None]] = []
    written = small.to_parquet(path, progress=lambda done, rows: seen.append((done, rows)))
    assert written == small.count()
    assert seen[-1] == (written, written)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    seen.clear()
    small.to_parquet(path, modcfg.Needs(budget="600"), progress=lambda *args: seen.append(args))
    assert seen[-1] == (small.count(modcfg.Needs(budget="600")), None)


def test_partitions_of_the_bicycle_are_exact_and_balanced() -> None:
    cfg = modcfg.compile("bicycle")
    parts = cfg.partitions(rows=5_000_000)
    assert sum(part.rows for part in parts) == cfg.count()
    assert max(part.rows for part in parts) <= 5_000_000
    assert len(parts) <= 3 * cfg.count() // 5_000_000 + 1
    for part in (parts[0], parts[len(parts) // 2]):  # spot checks
        prefix = dict(part.prefixes[0])
        batch = next(cfg.batches(partition=part, size=50))
        for var, value in prefix.items():
            assert set(batch.column(var).indices.to_pylist()) == {value}


def test_too_many_partitions_are_refused_at_once_and_splitting_keeps_its_time_limit() -> None:
    cfg = modcfg.compile("bicycle")
    started = time.monotonic()
    with pytest.raises(
        modcfg.LimitExceeded, match=r"make more than 100,000 partitions; give a larger rows="
    ) as refused:
        cfg.partitions(rows=1)
    assert time.monotonic() - started < 5
    least = int(str(refused.value).split("at least ")[1].split(")")[0].replace(",", ""))
    assert least == -(-cfg.count() // 100_000)
    parts = cfg.partitions(rows=50 * least)
    assert sum(part.rows for part in parts) == cfg.count()
    with pytest.raises(modcfg.TimeLimitExceeded, match="splitting into partitions passed"):
        cfg.partitions(rows=100_000, time_limit=0.0)


def test_budget_partitions_count_exactly() -> None:
    cfg = modcfg.compile("windows_pro")
    needs = modcfg.Needs(budget="600")
    parts = cfg.partitions(needs, rows=2_000)
    assert sum(part.rows for part in parts) == cfg.count(needs)
    rows = rows_of(cfg, [b for part in parts for b in cfg.batches(needs, partition=part)])
    assert len(rows) == len(set(rows)) == cfg.count(needs)
    assert max(price for _, price in rows) <= 60_000


def test_feed_errors_say_what_to_change() -> None:
    cfg = modcfg.compile("windows")
    with pytest.raises(modcfg.NeedsError, match="size=0"):
        next(cfg.batches(size=0))
    with pytest.raises(modcfg.NeedsError, match="price_column='frame'"):
        next(cfg.batches(price_column="frame"))
    with pytest.raises(modcfg.NeedsError, match="rows=0"):
        cfg.partitions(rows=0)
    assert next(cfg.batches(price_column=None)).schema.names == list(cfg.compiled.slots)


@pytest.mark.slow
def test_renault_medium_feed() -> None:
    path = SHARED / "renault" / "medium.xml"
    if not path.exists():
        pytest.skip(f"the Renault model is not in {path.parent}")
    cfg = modcfg.compile(modcfg.load_catalog(path))
    rows = sum(batch.num_rows for batch in cfg.batches())
    assert rows == cfg.count() == 278_744
    parts = cfg.partitions(rows=50_000)
    assert sum(part.rows for part in parts) == rows


def test_the_walks_of_one_tree_share_its_bag_arrays() -> None:
    """A session's choices make new queries over the same tree: their walks read the tree's
    bag values and costs, made once, and the arrays go with the tree."""
    import gc

    from modcfg.engines.decomposition import _blocks

    cfg = modcfg.compile(modcfg.load_catalog("bicycle"))
    query = cfg.compiled.base_query
    narrowed = query.restricted(0, frozenset({0}))
    first, also = next(solution_blocks(query, 8)), next(solution_blocks(narrowed, 8))
    assert first[0].size
    assert also[0].size
    assert _blocks._layout(query).values is _blocks._layout(narrowed).values
    assert id(query.tree) in _blocks._bag_arrays
    tree_id = id(query.tree)
    del cfg, query, narrowed
    gc.collect()
    assert tree_id not in _blocks._bag_arrays


def _check_feed(
    cfg: modcfg.Configurator,
    needs: modcfg.Needs | None,
    expected: Counter[tuple[modcfg.Configuration, int]],
) -> None:
    """The batches, in any order and by price, and the partitions' batches hold ``expected``."""
    assert Counter(rows_of(cfg, list(cfg.batches(needs, size=7)))) == expected
    ordered = rows_of(cfg, list(cfg.batches(needs, size=5, order="price")))
    assert Counter(ordered) == expected
    assert [price for _, price in ordered] == sorted(price for _, price in ordered)
    parts = cfg.partitions(needs, rows=max(1, sum(expected.values()) // 4))
    assert sum(part.rows for part in parts) == sum(expected.values())
    covered: Counter[tuple[modcfg.Configuration, int]] = Counter()
    for part in parts:
        rows = rows_of(cfg, list(cfg.batches(needs, partition=part)))
        assert len(rows) == part.rows
        covered.update(rows)
    assert covered == expected


@PROPERTIES
@given(strategies.cases(150), st.data())
def test_feeds_of_a_catalog_the_compiled_engine_answers_match_the_oracle(
    case: strategies.Case, data: st.DataObject
) -> None:
    """Past the tree's trial limits, feeds walk the compiled engine's circuit (and the parts
    of it a customer's conditions leave): the same rows and totals as the oracle's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
        cfg = modcfg.compile(case.catalog)
    needs = modcfg.Needs(
        conditions=data.draw(st.lists(strategies.implications(case.catalog), max_size=2))
    )
    if cfg.compiled.wide_base is not None:
        event(type(cfg.compiled.plan(needs).query).__name__)
    expected = Counter(
        (configuration, minor(case.catalog, total))
        for total, _, configuration in oracle.ranked(case.catalog, needs)
    )
    _check_feed(cfg, needs, expected)


@settings(max_examples=strategies.examples(60), deadline=None)
@given(formulas(), st.integers(1, 9))
def test_feeds_with_clauses_set_aside_hold_every_model_once(
    tmp_path_factory: pytest.TempPathFactory, formula: tuple[int, list[list[int]]], chosen: int
) -> None:
    """Random formulas with their clauses set aside: the feed walks the tree of the other
    rules and drops the rows that break a clause set aside, with a customer's requirement
    too (a condition set aside next to them)."""
    path, variables, models = formula_file(tmp_path_factory, formula)
    cfg = compiled_aside(path)
    event(type(cfg.compiled.wide_base).__name__)
    chosen = min(chosen, variables)
    needs = modcfg.Needs(conditions=[f"x{chosen}.selected or x{variables}.selected"])
    kept = [v for v in models if v[chosen - 1] or v[variables - 1]]
    for wanted, space in ((None, models), (needs, kept)):
        expected: Counter[tuple[modcfg.Configuration, int]] = Counter()
        for values in space:
            chosen_slots = {f"x{v + 1}": "selected" for v in range(variables) if values[v]}
            expected[(_configuration(cfg, chosen_slots), 0)] += 1
        _check_feed(cfg, wanted, expected)


def _configuration(cfg: modcfg.Configurator, chosen: dict[str, str]) -> modcfg.Configuration:
    """The configuration of a formula's catalog that selects the slots ``chosen``."""
    slots = cfg.compiled.slots
    return cfg.compiled.configuration(
        [cfg.compiled.choice_lists[var].index(chosen.get(slot)) for var, slot in enumerate(slots)]
    )
