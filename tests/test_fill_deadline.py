"""Filling a tree's bags stops soon after its deadline: a flag read between bags, every few
thousand steps of a bag's join and between the later steps, set by a timer thread (the
compiled builder runs without holding the interpreter)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import modcfg
from modcfg.engines.decomposition import FillStopped, Tree, _build, _build_kernel, _tree, build_tree

from . import oracle
from .conftest import SHARED_DATA


def _different(slots: int, modules: int) -> modcfg.Catalog:
    """``slots`` slots of ``modules`` modules, pairwise different: one bag of every slot."""
    names = [f"m{index}" for index in range(modules)]
    return modcfg.Catalog.model_validate(
        {
            "catalog": "different",
            "slots": {f"s{i}": {"modules": {name: {} for name in names}} for i in range(slots)},
            "rules": [
                {"id": f"r{i}-{j}-{name}", "excludes": [f"s{i}.{name}", f"s{j}.{name}"]}
                for i in range(slots)
                for j in range(i + 1, slots)
                for name in names
            ],
        }
    )


class _FlagAfter:
    """A stop flag that reads 0 for its first ``reads`` reads, then 1."""

    def __init__(self, reads: int) -> None:
        self.left = reads
        self.read = 0

    def __getitem__(self, index: int) -> int:
        self.read += 1
        self.left -= 1
        return 1 if self.left < 0 else 0


def _flagged(flag: object) -> object:
    @contextmanager
    def stop_at(deadline: float | None) -> Iterator[object]:
        yield flag

    return stop_at


#: Where a fill stopped: in the joins, or in the steps after them.
_STOPPED = (
    r"filling the tree's bags \(\d+ of \d+ joined\)|linking the tree's bags \(all \d+ joined\)"
)


def _rows(tree: Tree) -> list[list[list[int]]]:
    return [bag.values.tolist() for bag in tree.bags]


def test_a_plain_fill_stops_at_every_point_it_reads_the_flag() -> None:
    """Whichever reading of the flag sees it set (between bags, within a join, in the later
    steps), the fill raises FillStopped and hands out no partial bags; a flag never set
    fills the bags as a fill without a deadline does."""
    problem = modcfg.compile(_different(4, 5)).compiled.base
    expected = _rows(build_tree(problem))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_tree, "COMPILED", False)
        monkeypatch.setattr(_build_kernel, "_STEPS_PER_LOOK", 7)
        never = _FlagAfter(10**9)
        monkeypatch.setattr(_build, "_stop_at", _flagged(never))
        assert _rows(build_tree(problem, deadline=time.monotonic() + 60)) == expected
        assert never.read > 5  # between bags, within the join, after it
        for reads in sorted({0, 1, 2, never.read // 2, never.read - 2, never.read - 1}):
            monkeypatch.setattr(_build, "_stop_at", _flagged(_FlagAfter(reads)))
            with pytest.raises(FillStopped, match=_STOPPED):
                build_tree(problem, deadline=time.monotonic() + 60)


def test_a_deadline_already_passed_stops_before_any_bag_is_filled() -> None:
    problem = modcfg.compile(_different(3, 3)).compiled.base
    with pytest.raises(FillStopped) as stopped:
        build_tree(problem, deadline=time.monotonic() - 1)
    assert stopped.value.limit == 0
    assert isinstance(stopped.value, modcfg.LimitExceeded)


def test_the_timer_sets_the_flag_at_the_deadline() -> None:
    with _build._stop_at(time.monotonic() + 0.05) as flag:
        assert flag[0] == 0
        time.sleep(0.3)
        assert flag[0] == 1
    with _build._stop_at(None) as flag:
        assert flag[0] == 0


def test_compile_names_its_time_limit_when_a_fill_stops(tmp_path: Path) -> None:
    model = tmp_path / "chain.dimacs"  # x1 -> x2 -> ... -> x12, and x3 or x7: not separable
    model.write_text(
        "p cnf 12 12\n" + "".join(f"-{v} {v + 1} 0\n" for v in range(1, 12)) + "3 7 0\n"
    )
    catalog = modcfg.load_catalog(model)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_build, "_stop_at", _flagged(np.ones(1, dtype=np.int64)))
        with pytest.raises(
            modcfg.LimitExceeded,
            match=r"compiling passed time_limit=1000 s while filling the tree's bags \(0 of",
        ):
            modcfg.compile(catalog, time_limit=1000)
    assert modcfg.compile(catalog, time_limit=1000).count() == modcfg.compile(catalog).count()


DECISION_MAKING = SHARED_DATA / "corpus" / "finance__decisionmaking__AlHajjaji2019.dimacs"


@pytest.mark.slow
@pytest.mark.skipif(not DECISION_MAKING.exists(), reason="needs the shared corpus")
def test_compiling_the_widest_corpus_model_honours_a_short_time_limit() -> None:
    """The decision-making model's tree takes seconds to fill; a limit of half a second
    stops the compiled fill from its timer thread, soon after the limit."""
    catalog = modcfg.load_catalog(DECISION_MAKING)
    modcfg.compile(_different(3, 3)).count()  # (the compiled kernels loaded)
    started = time.monotonic()
    with pytest.raises(modcfg.LimitExceeded, match=r"time_limit=0\.5 s"):
        modcfg.compile(catalog, time_limit=0.5)
    assert time.monotonic() - started < 1.5


def _chain(tmp_path: Path) -> modcfg.Catalog:
    """x1 -> x2 -> ... -> x12 (a path: no bag holds x1 and x12), and x3 or x7."""
    model = tmp_path / "chain.dimacs"
    model.write_text(
        "p cnf 12 12\n" + "".join(f"-{v} {v + 1} 0\n" for v in range(1, 12)) + "3 7 0\n"
    )
    return modcfg.load_catalog(model)


def _stopped_at_deadlines() -> object:
    """A stop flag already set for a fill with a deadline, never for one without."""

    @contextmanager
    def stop_at(deadline: float | None) -> Iterator[object]:
        yield np.full(1, deadline is not None, dtype=np.int64)

    return stop_at


def test_needs_that_need_a_tree_of_their_own_build_it_within_the_time_limit(
    tmp_path: Path,
) -> None:
    """A condition tying slots the catalog's tree keeps apart gets a tree of its own: a
    session's time limit (and a count's) bounds its fill; the build then goes on in the
    background, and the next call finds the tree built."""
    catalog = _chain(tmp_path)
    cfg = modcfg.compile(catalog)
    needs = {"conditions": ["x1.selected -> not x12.selected"]}
    plan = cfg.compiled.plan(needs)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_build, "_stop_at", _flagged(np.ones(1, dtype=np.int64)))
        with pytest.raises(modcfg.TimeLimitExceeded, match="preparing the engine for these"):
            cfg.session(needs, time_limit=1000).state()
        with pytest.raises(modcfg.TimeLimitExceeded, match=r"filling the tree's bags \(0 of"):
            cfg.count(needs, time_limit=1000)
        while (thread := plan.finishing) is not None:  # (stopped too: nothing is kept)
            thread.join()
        assert not cfg.compiled.trees
        monkeypatch.setattr(_build, "_stop_at", _stopped_at_deadlines())
        with pytest.raises(modcfg.TimeLimitExceeded, match="ask again in a few seconds"):
            cfg.session(needs, time_limit=1000).state()
        while (thread := plan.finishing) is not None:
            thread.join()
        assert cfg.compiled.trees  # (built in the background, and kept)
        assert cfg.session(needs, time_limit=1000).state().count == plan.tree_query.count()
    assert cfg.count(needs, time_limit=1000) == oracle.count(catalog, modcfg.Needs(**needs)) == 6
