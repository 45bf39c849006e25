"""The downward pass through bags of many children, modulo primes: by division, or by prefix
and suffix products when a count is not invertible.

A bag of three children or more hands each child its outside as the row's outside times the
row's upward count times the inverse of the child's count. Residues modulo primes near 2**31
are almost never zero, so the exact answers are checked here modulo small primes too, where
zero residues are common and the pass must fall back to products, and after a session's
choices, where the upward counts of the bags off the chosen paths are the previous pass's.
"""

from __future__ import annotations

import copy
import dataclasses
from math import prod
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.engines.decomposition import TreeQuery

from . import strategies

#: Residues modulo these are often zero; their product exceeds every count drawn here.
_SMALL_PRIMES = [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43]


def _system(primes: list[int]) -> tuple[np.ndarray, int, list[int], np.ndarray]:
    """A count system (as :func:`modcfg.engines.decomposition._residues.residue_system`
    returns) of the given primes."""
    modulus = prod(primes)
    crt = [(modulus // p) * pow(modulus // p, -1, p) % modulus for p in primes]
    inverses = np.asarray(
        [[pow(p, -1, q) if p != q else 0 for q in primes] for p in primes], dtype=np.int64
    )
    return np.asarray(primes, dtype=np.int64), modulus, crt, inverses


@st.composite
def _stars(draw: st.DrawFn) -> modcfg.Catalog:
    """A hub slot with three to five arms of one or two slots, each arm's first slot tied to
    the hub and its second to its first by random exclusions: a tree whose hub bag has
    several children."""
    slots: dict[str, Any] = {"hub": {"modules": {m: {} for m in "abc"}}}
    rules = []
    for arm in range(draw(st.integers(3, 5))):
        names = [f"arm{arm}_{i}" for i in range(draw(st.integers(1, 2)))]
        for name in names:
            slots[name] = {"modules": {m: {} for m in "xyz"[: draw(st.integers(2, 3))]}}
        for before, after in zip(["hub", *names], names, strict=False):
            before_modules = list(slots[before]["modules"])
            after_modules = list(slots[after]["modules"])
            for _ in range(draw(st.integers(1, 2))):
                pair = [
                    f"{before}.{draw(st.sampled_from(before_modules))}",
                    f"{after}.{draw(st.sampled_from(after_modules))}",
                ]
                rules.append({"id": f"r{len(rules)}", "excludes": pair})
    return modcfg.Catalog.model_validate({"catalog": "star", "slots": slots, "rules": rules})


def _answers(query: TreeQuery) -> tuple[Any, ...]:
    return query.count(), [list(row) for row in query.marginals()] if query.count() else None


@settings(max_examples=strategies.examples(60), deadline=None)
@given(_stars(), st.sampled_from(["small", "large"]), st.data())
def test_the_downward_pass_divides_or_multiplies_to_the_exact_counts(
    catalog: modcfg.Catalog, primes: str, data: st.DataObject
) -> None:
    from modcfg.engines.decomposition import _residues

    cfg = modcfg.compile(catalog)
    plan = cfg.compiled.plan(None)
    exact = TreeQuery(plan.query.tree, plan.problem)
    assume(exact.count() > 0)
    assume(exact._flat.max_children >= 3)  # (a bag the pass divides through)
    system = _system(_SMALL_PRIMES) if primes == "small" else _residues.residue_system(2**40)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_residues, "EXACT_BOUND", 0)
        query = TreeQuery(plan.query.tree, plan.problem)
        query._moduli, query._modulus, query._crt, query._inverses = system
        assert _answers(query) == _answers(exact)
        for _ in range(data.draw(st.integers(1, 3))):  # a session's choices: paths recounted
            var = data.draw(st.integers(0, plan.problem.size - 1))
            size = len(plan.problem.domains[var].choices)
            values = data.draw(st.frozensets(st.sampled_from(range(size)), min_size=1))
            query, exact = query.restricted(var, values), exact.restricted(var, values)
            assert _answers(query) == _answers(exact)
            if not exact.count():
                break


@settings(max_examples=strategies.examples(60), deadline=None)
@given(strategies.hub_cases(), st.data())
def test_variables_read_in_the_smallest_bags_count_as_in_the_introducing_bags(
    case: strategies.Case, data: st.DataObject
) -> None:
    """Each variable is filtered and its marginals read in the smallest bag that holds it:
    the answers are those of filters and marginals in the bags that introduce the variables,
    before and after choices."""
    from modcfg.engines.decomposition import _layout

    cfg = modcfg.compile(case.catalog)
    plan = cfg.compiled.plan(None)
    tree = plan.query.tree
    flat = tree.flat
    val_start, start = flat.columns[3], flat.columns[4]
    owners = _layout._columns(tree.bags, tree.owner, val_start, start)
    assume(not np.array_equal(owners[0], flat.columns[0]))  # (some variable read elsewhere)
    introducing = copy.copy(tree)
    introducing._flat = dataclasses.replace(flat, columns=owners)
    query = TreeQuery(tree, plan.problem)
    expected = TreeQuery(introducing, plan.problem)
    assert _answers(query) == _answers(expected)
    for _ in range(data.draw(st.integers(1, 3))):
        var = data.draw(st.integers(0, plan.problem.size - 1))
        size = len(plan.problem.domains[var].choices)
        values = data.draw(st.frozensets(st.sampled_from(range(size)), min_size=1))
        query, expected = query.restricted(var, values), expected.restricted(var, values)
        assert _answers(query) == _answers(expected)
