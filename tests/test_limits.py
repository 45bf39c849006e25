"""Limits: ordered searches stay linear in k when prices tie, and deadlines are honoured
closely by every call that takes ``time_limit``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

import modcfg
from modcfg.model import catalog_from_data


def tied_catalog(slots: int = 36, modules: int = 3) -> modcfg.Catalog:
    """Every module costs the same (as in an imported feature model), with some rules."""
    data: dict[str, Any] = {
        "catalog": "tied",
        "slots": {
            f"s{i}": {
                "modules": {
                    f"m{j}": {"price": "10.00", "attributes": {"weight": j}} for j in range(modules)
                }
            }
            for i in range(slots)
        },
        "rules": [
            {"id": f"x{i}", "excludes": [f"s{i}.m0", f"s{i + 1}.m0"]}
            for i in range(0, slots - 1, 2)
        ]
        + [
            {"id": f"q{i}", "requires": {"if": f"s{i}.m1", "then": [f"s{j}.m1", f"s{j}.m2"]}}
            for i, j in zip(range(0, slots - 3, 3), range(3, slots, 3), strict=False)
        ],
    }
    return catalog_from_data(data)


def unreachable_sum_catalog(slots: int = 36) -> modcfg.Catalog:
    """A huge space whose global sum rule no configuration meets (found only by searching)."""
    data = {
        "catalog": "unreachable",
        "slots": {
            f"s{i}": {
                "modules": {
                    f"m{j}": {"price": str(j + 1), "attributes": {"weight": j}} for j in range(3)
                }
            }
            for i in range(slots)
        },
        "rules": [
            {"id": f"x{i}", "excludes": [f"s{i}.m0", f"s{i + 1}.m0"]}
            for i in range(0, slots - 1, 2)
        ]
        + [{"id": "heavy", "constraint": f"total(weight) >= {2 * slots + 1}"}],
    }
    return catalog_from_data(data)


@pytest.fixture(autouse=True)
def _collector_paused() -> Iterator[None]:
    """The collector is paused while a test times a deadline: the searches check their
    deadlines, but a full collection over the whole test suite's heap (a few hundred ms late
    in the suite) runs between two checks and is not theirs to bound."""
    with modcfg.collector_paused():
        yield


def within(elapsed: float, limit: float) -> bool:
    """A deadline is honoured within 10 % or 100 ms, whichever is larger (plus 50 ms for the
    interpreter and a loaded machine)."""
    return elapsed <= max(1.1 * limit, limit + 0.1) + 0.05


@pytest.fixture(scope="module")
def tied() -> modcfg.Configurator:
    return modcfg.compile(tied_catalog())


@pytest.mark.timeout(30)
def test_best_with_tied_prices_is_quick_and_deterministic(tied: modcfg.Configurator) -> None:
    start = time.perf_counter()
    first = tied.best(k=5)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0
    assert len(first) == 5
    totals = [quote.total for quote in first]
    assert totals == sorted(totals)
    second = tied.best(k=5)
    assert [dict(q.configuration) for q in second] == [dict(q.configuration) for q in first]
    assert len({q.configuration for q in first}) == 5


@pytest.mark.timeout(30)
def test_ordered_stream_with_tied_prices_is_linear_in_k(tied: modcfg.Configurator) -> None:
    start = time.perf_counter()
    few = list(tied.configurations(order="price", limit=3))
    many = list(tied.configurations(order="price", limit=500))
    assert time.perf_counter() - start < 2.0
    assert many[:3] == few
    assert len(set(many)) == 500
    assert tied.best(k=1, time_limit=5)[0].configuration == few[0]


@pytest.mark.timeout(30)
def test_best_prefers_higher_scores_among_tied_totals(tied: modcfg.Configurator) -> None:
    needs = modcfg.Needs(prefer={"s5.m2": 3, "s7.m1": 1})
    quotes = tied.best(needs, k=3)
    assert [q.score for q in quotes] == [4, 4, 4]
    assert all(q.configuration["s5"] == "m2" for q in quotes)


@pytest.mark.timeout(30)
def test_slow_consumer_stream_honours_time_limit(tied: modcfg.Configurator) -> None:
    limit = 0.3
    start = time.monotonic()

    def consume_slowly() -> None:
        for _ in tied.configurations(time_limit=limit):
            time.sleep(0.002)

    with pytest.raises(modcfg.LimitExceeded, match=r"time_limit=0\.3") as caught:
        consume_slowly()
    assert within(time.monotonic() - start, limit)
    assert "raise time_limit=" in str(caught.value)


@pytest.fixture(scope="module")
def unreachable() -> modcfg.Configurator:
    return modcfg.compile(unreachable_sum_catalog())


@pytest.mark.timeout(30)
def test_filtered_search_honours_time_limit(unreachable: modcfg.Configurator) -> None:
    limit = 0.5
    start = time.monotonic()
    with pytest.raises(modcfg.LimitExceeded, match=r"time_limit=0\.5") as caught:
        next(unreachable.configurations(order="price", engine="decomposition", time_limit=limit))
    assert within(time.monotonic() - start, limit)
    message = str(caught.value)
    assert "0 configurations" in message
    assert "raise time_limit=" in message


@pytest.mark.timeout(30)
def test_unordered_stream_under_a_sum_sees_at_once_that_nothing_fits(
    unreachable: modcfg.Configurator,
) -> None:
    # the sums' distributions guide the walk: no configuration is tried and refused
    start = time.monotonic()
    assert list(unreachable.configurations(engine="decomposition", time_limit=0.5)) == []
    assert time.monotonic() - start < 0.5


@pytest.mark.timeout(30)
def test_best_honours_time_limit_in_its_search(unreachable: modcfg.Configurator) -> None:
    limit = 0.5
    start = time.monotonic()
    with pytest.raises(modcfg.LimitExceeded, match=r"time_limit=0\.5") as caught:
        unreachable.best(k=1, engine="decomposition", time_limit=limit)
    assert within(time.monotonic() - start, limit)
    assert "after 0 of k=1 quotes" in str(caught.value)


@pytest.mark.timeout(30)
def test_cpsat_count_honours_time_limit(tied: modcfg.Configurator) -> None:
    limit = 0.5
    start = time.monotonic()
    with pytest.raises(modcfg.LimitExceeded, match=r"time_limit=0\.5"):
        tied.count(engine="cpsat", time_limit=limit)
    assert within(time.monotonic() - start, limit)


def test_long_running_methods_take_time_limit_and_progress() -> None:
    import inspect

    for method in (
        modcfg.Configurator.count,
        modcfg.Configurator.configurations,
        modcfg.Configurator.best,
    ):
        parameters = inspect.signature(method).parameters
        assert "time_limit" in parameters, method.__name__
        assert "progress" in parameters, method.__name__


@pytest.mark.timeout(30)
def test_best_reports_progress(tied: modcfg.Configurator) -> None:
    seen: list[tuple[int, int | None]] = []
    tied.best(k=4, progress=lambda done, total: seen.append((done, total)))
    assert seen
    assert seen[-1] == (4, 4)
