"""A session step's upward pass, updated from the previous pass along the changed paths, gives
the counts of a whole pass.

After a choice, the bag the choice filters keeps or drops each row's count, and a bag of many
children above it, one of whose children changed, scales each row's count by that child's new
count over its old one (modulo primes: times the inverse). Both are compared here with a whole
upward pass over the same filters, modulo small primes (where old counts are often zero
residues, which have no inverse, and the bag is recounted instead) and large ones, and with
exact 64-bit counts.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.engines.decomposition import TreeQuery

from . import strategies
from .test_down_pass import _SMALL_PRIMES, _answers, _system


@settings(max_examples=strategies.examples(80), deadline=None)
@given(strategies.hub_cases(), st.sampled_from(["exact", "small", "large"]), st.data())
def test_a_step_updated_along_its_path_counts_as_a_whole_pass(
    case: strategies.Case, primes: str, data: st.DataObject
) -> None:
    from modcfg.engines.decomposition import _residues

    cfg = modcfg.compile(case.catalog)
    plan = cfg.compiled.plan(None)
    tree = plan.query.tree
    assume(tree.flat.max_children >= 3)  # (a bag whose rows are scaled, not recounted)
    with pytest.MonkeyPatch.context() as monkeypatch:
        if primes != "exact":
            monkeypatch.setattr(_residues, "EXACT_BOUND", 0)
        system = _system(_SMALL_PRIMES) if primes == "small" else _residues.residue_system(2**40)

        def whole(query: TreeQuery) -> TreeQuery:
            """A query over ``query``'s filters that runs a whole upward pass."""
            fresh = TreeQuery(tree, query.problem)
            if primes != "exact":
                fresh._moduli, fresh._modulus, fresh._crt, fresh._inverses = system
            return fresh

        query = whole(plan.query)
        assert _answers(query) == _answers(whole(query))
        for _ in range(data.draw(st.integers(1, 4))):  # choices, each a path updated
            var = data.draw(st.integers(0, plan.problem.size - 1))
            size = len(plan.problem.domains[var].choices)
            values = data.draw(st.frozensets(st.sampled_from(range(size)), min_size=1))
            query = query.restricted(var, values)
            assert _answers(query) == _answers(whole(query))
            if not query.count():
                break
