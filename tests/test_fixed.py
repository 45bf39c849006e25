"""Slots that their rules fix and tie to nothing else share one bag of one row (a Linux-style
feature model fixes 925 of its 1,850 features by unit clauses alone: one bag, not 925)."""

from __future__ import annotations

from pathlib import Path

import modcfg
from modcfg.engines.decomposition._tree import build_tree
from modcfg.lower import build_domains, compile_rules

from .test_clauses import write_dimacs


def test_fixed_slots_tied_to_nothing_share_one_bag(tmp_path: Path) -> None:
    """x1 and x3 are required, x2 is dead, x4 and x5 free (one of them at least) and x6 free
    alone: 6 configurations, the three fixed slots in one bag of one row."""
    path = write_dimacs(tmp_path / "forced.dimacs", 6, [[1], [-2], [3], [4, 5]])
    catalog = modcfg.load_catalog(path)
    tree = build_tree(compile_rules(catalog, build_domains(catalog)))
    shapes = sorted((len(bag.vars), len(bag.values)) for bag in tree.bags)
    # the root, x6 alone, x4 with x5, and the fixed slots
    assert shapes == [(0, 1), (1, 2), (2, 3), (3, 1)]
    cfg = modcfg.compile(catalog)
    assert cfg.count() == 6
    state = cfg.session().state()
    assert [state[f"x{n}"]["selected"].count for n in range(1, 7)] == [6, 0, 6, 4, 4, 3]
    chosen = cfg.session().choose("x4", None)
    assert chosen.count == 2
    assert chosen["x5"]["selected"].count == 2
