"""Engine behaviour beyond the property tests: exactness at scale, limits, errors, threads."""

from __future__ import annotations

import itertools
import threading
from decimal import Decimal
from typing import Any

import pytest

import modcfg
from modcfg.model import catalog_from_data


def chain_catalog(slots: int, modules: int) -> modcfg.Catalog:
    """Slots s0..s{n-1}; module 'a' of neighbouring slots excludes each other."""
    data: dict[str, Any] = {
        "catalog": "chain",
        "slots": {
            f"s{i}": {"modules": {f"m{j}" if j else "a": {"price": str(j)} for j in range(modules)}}
            for i in range(slots)
        },
        "rules": [
            {"id": f"r{i}", "excludes": [f"s{i}.a", f"s{i + 1}.a"]} for i in range(slots - 1)
        ],
    }
    return catalog_from_data(data)


def chain_count(slots: int, modules: int) -> int:
    """Transfer-matrix count: configurations ending in 'a' or not."""
    ending_a, ending_other = 1, modules - 1
    for _ in range(slots - 1):
        ending_a, ending_other = ending_other, (ending_a + ending_other) * (modules - 1)
    return ending_a + ending_other


def test_counts_above_two_to_the_sixty_four_are_exact() -> None:
    cfg = modcfg.compile(chain_catalog(100, 5))
    expected = chain_count(100, 5)
    assert expected > 2**200
    assert cfg.count() == expected


def test_independent_slots_multiply() -> None:
    data = {
        "catalog": "wide",
        "slots": {f"s{i}": {"modules": {f"m{j}": {} for j in range(7)}} for i in range(90)},
    }
    assert modcfg.compile(catalog_from_data(data)).count() == 7**90


def test_repr_is_one_line() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("credit_cards"))
    assert repr(cfg) == "<Configurator credit_cards: 3 slots, 19 modules, 200 configurations>"


def test_compiling_twice_gives_equal_results() -> None:
    catalog = modcfg.load_catalog("windows_pro")
    first, second = modcfg.compile(catalog), modcfg.compile(catalog)
    assert first.count() == second.count()
    assert [q.total for q in first.best(k=5)] == [q.total for q in second.best(k=5)]


def test_configurations_are_hashable_mappings() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    stream = cfg.configurations(limit=10)
    items = list(stream)
    assert len(set(items)) == 10
    assert all(set(item) == {"frame", "glass", "grade", "picture"} for item in items)


def test_price_order_and_limit() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    totals = [cfg.price(c).total for c in cfg.configurations(order="price", limit=50)]
    assert totals == sorted(totals)
    assert totals[0] == Decimal("100.00")


def test_quote_total_is_the_sum_of_its_lines() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    quote = cfg.price({"frame": "oak", "glass": "triple", "grade": "g2", "picture": "plain"})
    assert quote.total == sum(line.amount for line in quote.lines) == Decimal("285.00")
    assert all(isinstance(line.amount, Decimal) for line in quote.lines)


def test_bad_needs_raise_needs_error() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    with pytest.raises(modcfg.NeedsError, match=r"did you mean 'glass\.triple'"):
        cfg.count(modcfg.Needs(require=["glass.tripel"]))
    with pytest.raises(modcfg.NeedsError, match="negative"):
        modcfg.Needs(budget="-5")
    with pytest.raises(modcfg.NeedsError, match="in the past"):
        cfg.count(modcfg.Needs(deliver_by="2020-01-01"))
    with pytest.raises(modcfg.NeedsError, match="not a need dimension"):
        cfg.count({"budjet": "10"})


def test_infeasible_needs_name_the_clash() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    needs = modcfg.Needs(require=["frame.oak", "glass.triple"], budget="200")
    assert cfg.count(needs) == 0
    with pytest.raises(modcfg.InfeasibleError) as caught:
        cfg.best(needs)
    error = caught.value
    assert set(error.conflict) == {"require frame.oak", "require glass.triple", "budget EUR 200"}
    assert error.relaxations
    assert all(relaxation.unlocked > 0 for relaxation in error.relaxations)


def test_pricing_an_invalid_configuration_names_the_rule() -> None:
    catalog = chain_catalog(3, 3)
    cfg = modcfg.compile(catalog)
    with pytest.raises(modcfg.InfeasibleError, match="r0"):
        cfg.price({"s0": "a", "s1": "a", "s2": "m1"})
    with pytest.raises(modcfg.NeedsError, match="did you mean 'm1'"):
        cfg.price({"s0": "m11", "s1": "a", "s2": "m1"})


def test_cpsat_count_honours_limit() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    with pytest.raises(modcfg.LimitExceeded, match="limit"):
        cfg.count(engine="cpsat", limit=100)


def test_enumeration_honours_time_limit() -> None:
    cfg = modcfg.compile(chain_catalog(60, 4))
    with pytest.raises(modcfg.LimitExceeded, match="time_limit"):
        for _ in cfg.configurations(time_limit=0.05):
            pass


def test_progress_is_reported() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    seen: list[tuple[int, int | None]] = []
    assert sum(1 for _ in cfg.configurations(progress=lambda d, t: seen.append((d, t)))) == 1800
    assert seen
    assert seen[0] == (1024, 1800)


def test_one_configurator_serves_many_threads() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
    needs = [modcfg.Needs(budget=str(300 + 50 * i)) for i in range(8)]
    expected = [cfg.count(n) for n in needs]
    results: dict[int, int] = {}

    def work(i: int) -> None:
        results[i] = cfg.count(needs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i] for i in range(8)] == expected


def test_notebook_views() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
    html = cfg.best(k=1)[0]._repr_html_()
    assert html.startswith("<table>")
    assert "EUR" in html
    state = cfg.session().state()
    assert state._repr_html_(max_rows=5).count("<tr>") == 1 + 5 + 1


def test_compiling_leaves_the_garbage_collector_as_it_found_it() -> None:
    """Compiling pauses the collector and resumes it, unless the caller had paused it."""
    import gc

    catalog = modcfg.load_catalog("bicycle")
    assert gc.isenabled()
    modcfg.compile(catalog)
    assert gc.isenabled()
    gc.disable()
    try:
        modcfg.compile(catalog)
        assert not gc.isenabled()
    finally:
        gc.enable()
    threads = [threading.Thread(target=modcfg.compile, args=(catalog,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.isenabled()


def test_clear_caches_empties_every_cache_and_keeps_the_answers() -> None:
    cfg = modcfg.compile("windows_pro")
    needs = modcfg.Needs(require=["glass.triple"], budget="900")
    before = (cfg.count(needs), [q.total for q in cfg.best(needs, k=3)])
    session = cfg.session(needs)
    session.choose("frame", "pvc-plus")
    compiled = cfg.compiled
    for cache in (compiled.plans, compiled.quote_lines, compiled.choices):
        assert cache
    cfg.clear_caches()
    for cache in (compiled.plans, compiled.quote_lines, compiled.choices, compiled.trees):
        assert not cache
    assert (cfg.count(needs), [q.total for q in cfg.best(needs, k=3)]) == before
    assert session.state().count == cfg.session(needs).choose("frame", "pvc-plus").count


def test_caches_are_bounded() -> None:
    from modcfg._cache import Cache

    cache: Cache[int, int] = Cache(3)
    for number in range(10):
        cache[number] = number
        assert len(cache) <= 3
    assert cache.keep(9, -1) == 9
    assert cache.keep(10, 10) == 10


def test_weighed_caches_drop_their_oldest_entries_to_stay_within_their_weight() -> None:
    from modcfg._cache import WeighedCache

    cache: WeighedCache[str, str] = WeighedCache(10, len)
    for key, value in [("a", "xxxx"), ("b", "xxx"), ("c", "xx"), ("d", "xxxx")]:
        cache[key] = value
        assert cache.weight == sum(map(len, cache.values())) <= 10
    assert list(cache) == ["b", "c", "d"]  # (a, the oldest, made room for d)
    cache["b"] = "x"  # replaced: its old weight is given back
    assert cache.weight == 7
    cache["e"] = "x" * 11  # heavier than the whole cache: not kept, the rest kept
    assert list(cache) == ["c", "d", "b"]
    assert cache.weight == 7


def test_collector_paused_is_opt_in_and_nests() -> None:
    import gc

    assert gc.isenabled()
    with modcfg.collector_paused():
        assert not gc.isenabled()
        with modcfg.collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with modcfg.collector_paused():
            pass
        assert not gc.isenabled()  # the caller's own switch stays as it was
    finally:
        gc.enable()


def test_counting_without_needs_reuses_the_count_made_when_compiling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modcfg.engines.decomposition import TreeQuery

    cfg = modcfg.compile("bicycle")  # rules tie its slots: counted while compiling
    passes: list[object] = []
    upward = TreeQuery._up

    def counted(query: TreeQuery, *, counts: bool = True) -> None:
        passes.append(query)
        upward(query, counts=counts)

    monkeypatch.setattr(TreeQuery, "_up", counted)
    assert cfg.count() == 202_516_600
    assert passes == []


@pytest.mark.parametrize("length", [60, 150, 400])
def test_counts_beyond_64_bits_are_exact(length: int) -> None:
    """A chain of slots of three modules where neighbours are not both ``a``: counts up to
    about 2**600, which the passes take modulo primes (as many as the tree's bound needs)."""
    data = {
        "catalog": "chain",
        "slots": {f"s{i}": {"modules": {"a": {}, "b": {}, "c": {}}} for i in range(length)},
        "rules": [
            {"id": f"r{i}", "excludes": [f"s{i}.a", f"s{i + 1}.a"]} for i in range(length - 1)
        ],
    }
    ending_a, ending_other = 1, 2  # one slot: a, or b or c
    for _ in range(length - 1):
        ending_a, ending_other = ending_other, 2 * (ending_a + ending_other)
    cfg = modcfg.compile(catalog_from_data(data))
    assert cfg.count() == ending_a + ending_other
    assert cfg.count().bit_length() > 64
    state = cfg.session().choose("s0", "a")
    assert state["s1"]["b"].count == cfg.count(modcfg.Needs(require=["s0.a", "s1.b"]))


def test_a_stream_of_many_wide_configurations_keeps_a_blocks_memory() -> None:
    """177,147 configurations of 122 slots: enumerated a block at a time, not expanded at
    once (which took 8 bytes per slot and configuration, 170 MB here)."""
    import tracemalloc

    slots: dict[str, Any] = {f"s{i}": {"modules": {"a": {}, "b": {}}} for i in range(22)}
    slots |= {f"fixed{i}": {"modules": {"only": {}}} for i in range(100)}
    rules = [{"id": f"r{i}", "excludes": [f"s{2 * i}.a", f"s{2 * i + 1}.a"]} for i in range(11)]
    cfg = modcfg.compile(catalog_from_data({"catalog": "wide", "slots": slots, "rules": rules}))
    assert cfg.count() == 3**11
    tracemalloc.start()
    try:
        stream = cfg.configurations()
        first = next(stream)
        seen = 1 + sum(1 for _ in itertools.islice(stream, 100_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert first["fixed0"] == "only"
    assert seen == 100_001
    assert peak < 30 * 2**20, f"{peak / 2**20:.0f} MB"
    assert len(set(cfg.configurations())) == 3**11
