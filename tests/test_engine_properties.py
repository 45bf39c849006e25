"""Every engine against the brute-force oracle on random small catalogs and needs.

The contract is docs/semantics.md; tests/oracle.py implements it by enumeration and
tests/strategies.py draws the catalogs (every rule kind, price-rule form, service and payment
term) and the needs (every dimension; some admit no configuration). The automatic choice and
both engines by name must agree with the oracle, hence with each other. CP-SAT enumerates
slowly, so it gets catalogs of at most ``SMALL`` configurations and its price-ordered stream is
checked on a prefix.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from math import prod
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.engines.decomposition import _decompose

from . import oracle, strategies

PROPERTIES = settings(max_examples=strategies.examples(200), deadline=None)
#: Configurations (before rules) of the catalogs every engine, CP-SAT too, enumerates in full.
SMALL = 150
#: Configurations (before rules) of the catalogs made infeasible on purpose.
MEDIUM = 500
#: Configurations priced one by one per example (evenly spread over the valid ones).
PRICED = 100
K = 5


@dataclass(frozen=True)
class Expected:
    """The oracle's answers for one case."""

    everything: int  # valid configurations without needs
    valid: dict[modcfg.Configuration, Decimal]  # valid configuration -> total
    keys: list[tuple[Decimal, int]]  # (total, -score) of the best K


def expected(case: strategies.Case) -> Expected:
    rows = oracle.ranked(case.catalog, case.needs)
    everything = len(rows) if case.needs is None else oracle.count(case.catalog)
    return Expected(
        everything,
        {configuration: total for total, _, configuration in rows},
        [(total, negative_score) for total, negative_score, _ in rows[:K]],
    )


def check_engine(
    case: strategies.Case,
    cfg: modcfg.Configurator,
    engine: str,
    answers: Expected,
    *,
    by_price_limit: int | None = None,
) -> None:
    """count, configurations (any order and by price) and best of one engine."""
    needs = case.needs
    counted = cfg.count(engine=engine)
    assert type(counted) is int, engine
    assert counted == answers.everything, f"{engine}: count()"
    counted = cfg.count(needs, engine=engine)
    assert type(counted) is int, engine
    assert counted == len(answers.valid), f"{engine}: count(needs)"

    found = list(cfg.configurations(needs, engine=engine))
    assert len(found) == len(set(found)), f"{engine} yields a configuration twice"
    assert set(found) == set(answers.valid), f"{engine}: configurations(needs)"

    by_price = list(cfg.configurations(needs, order="price", limit=by_price_limit, engine=engine))
    assert len(by_price) == len(set(by_price)), f"{engine} yields a configuration twice"
    if by_price_limit is None:
        assert set(by_price) == set(answers.valid), f"{engine}: configurations(order='price')"
    assert all(c in answers.valid for c in by_price), f"{engine}: invalid configuration"
    # The totals in stream order are the cheapest totals, in order (so non-decreasing).
    totals = [answers.valid[c] for c in by_price]
    assert totals == sorted(answers.valid.values())[: len(totals)], f"{engine}: price order"
    for configuration, total in zip(by_price[:K], totals, strict=False):
        assert cfg.price(configuration, needs).total == total, engine

    if not answers.keys:
        with pytest.raises(modcfg.InfeasibleError):
            cfg.best(needs, k=K, engine=engine)
        return
    quotes = cfg.best(needs, k=K, engine=engine)
    assert [(q.total, -q.score) for q in quotes] == answers.keys, f"{engine}: best"
    assert len({q.configuration for q in quotes}) == len(quotes), f"{engine}: best repeats"
    resolved = None if needs is None else needs.resolve(case.catalog)
    for quote in quotes:
        assert oracle.is_valid(case.catalog, quote.configuration, resolved), engine
        assert quote.total == answers.valid[quote.configuration], engine


@PROPERTIES
@given(strategies.cases())
def test_engines_match_oracle(case: strategies.Case) -> None:
    cfg = modcfg.compile(case.catalog)
    answers = expected(case)
    for engine in ("auto", "decomposition"):
        check_engine(case, cfg, engine, answers)


@PROPERTIES
@given(strategies.cases(independent=True))
def test_independent_slots_match_oracle(case: strategies.Case) -> None:
    """Catalogs whose slots no rule ties take shortcuts (products, best-first over sorted
    slots, no decomposition until needed): same answers as the oracle."""
    cfg = modcfg.compile(case.catalog)
    answers = expected(case)
    check_engine(case, cfg, "auto", answers)
    if answers.valid:
        # every option's number of completions in a session for the same needs
        refs = [configuration.refs() for configuration in answers.valid]
        for slot, options in cfg.session(case.needs).state().items():
            for module, option in options.items():
                expected_count = sum(f"{slot}.{module}" in chosen for chosen in refs)
                assert option.count == expected_count, f"{slot}.{module}"


@PROPERTIES
@given(strategies.cases(max_configurations=SMALL))
def test_every_engine_matches_oracle_on_small_catalogs(case: strategies.Case) -> None:
    cfg = modcfg.compile(case.catalog)
    answers = expected(case)
    for engine in ("auto", "decomposition"):
        check_engine(case, cfg, engine, answers)
    check_engine(case, cfg, "cpsat", answers, by_price_limit=2 * K)


@PROPERTIES
@given(strategies.cases())
def test_price_matches_oracle(case: strategies.Case) -> None:
    cfg = modcfg.compile(case.catalog)
    resolved = oracle.resolve(case.catalog, case.needs)
    # Any configuration that meets the needs has a quote, whether or not it fits the budget.
    unbounded = None if case.needs is None else case.needs.model_copy(update={"budget": None})
    priceable = oracle.valid_configurations(case.catalog, unbounded)
    for configuration in priceable[:: max(1, len(priceable) // PRICED)]:
        quote = cfg.price(configuration, case.needs)
        assert isinstance(quote.total, Decimal)
        assert all(isinstance(line.amount, Decimal) for line in quote.lines)
        assert sum((line.amount for line in quote.lines), Decimal(0)) == quote.total
        assert quote.total == oracle.quote_total(case.catalog, configuration, resolved), (
            configuration,
            oracle.quote_lines(case.catalog, configuration, resolved),
            quote.lines,
        )
        assert quote.configuration == configuration
        assert quote.score == oracle.preference_score(case.catalog, configuration, resolved)


@PROPERTIES
@given(strategies.cases(max_configurations=MEDIUM))
def test_infeasible_needs_raise(case: strategies.Case) -> None:
    catalog = case.catalog
    needs = case.needs if case.needs is not None else modcfg.Needs(today=strategies.TODAY)
    cheapest = oracle.cheapest(catalog, needs.model_copy(update={"budget": None}))
    if cheapest is not None and cheapest > 0:
        # A budget one minor unit below the cheapest total.
        budget = cheapest - Decimal(1).scaleb(-catalog.decimals)
        needs = needs.model_copy(update={"budget": budget})
    elif cheapest is not None:
        slot = next(iter(catalog.slots.values()))
        impossible = f"count({slot.id}) > {slot.cardinality.max}"
        needs = needs.model_copy(update={"conditions": (*needs.conditions, impossible)})
    assert oracle.count(catalog, needs) == 0
    cfg = modcfg.compile(catalog)
    for engine in ("auto", "cpsat", "decomposition"):
        assert cfg.count(needs, engine=engine) == 0, engine
        assert list(cfg.configurations(needs, engine=engine)) == [], engine
        with pytest.raises(modcfg.InfeasibleError):
            cfg.best(needs, engine=engine)


@settings(max_examples=strategies.examples(100), deadline=None)
@given(strategies.cases(max_configurations=SMALL))
def test_the_tree_bounds_every_count_it_holds(case: strategies.Case) -> None:
    """The bound that sizes the passes' residue system is at least the count (else a count
    would wrap around modulo too few primes), and it is the product, over the bags, of their
    largest group of rows that share the parent's key (the root's rows: one group)."""
    tree = modcfg.compile(case.catalog).compiled.tree
    assert tree.count_bound >= oracle.count(case.catalog)
    largest = []
    for bag in tree.bags:
        keys = [
            tuple(bag.values[row, p] for p in bag.sep_positions) for row in range(len(bag.values))
        ]
        groups = Counter(keys) if bag.parent >= 0 else Counter({(): len(bag.values)})
        largest.append(max(groups.values(), default=0))
    assert tree.count_bound == prod(max(1, size) for size in largest)


def _grouping_bags(tree: Any) -> int:
    """Bags that introduce no variable below a real bag (made to group a bag's children)."""
    return sum(1 for bag in tree.bags if bag.parent > 0 and not bag.owned)


@pytest.fixture
def group_every_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Group the children of every bag with two or more (real models group only large bags
    with many children: ``_decompose._HUB_CHILDREN``, ``_HUB_COMBINATIONS``)."""
    monkeypatch.setattr(_decompose, "_HUB_CHILDREN", 2)
    monkeypatch.setattr(_decompose, "_HUB_COMBINATIONS", 1)


@settings(
    max_examples=strategies.examples(100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # (the same patch for all)
)
@given(case=strategies.hub_cases())
def test_hub_shaped_catalogs_match_oracle(group_every_hub: None, case: strategies.Case) -> None:
    """Children of a hub bag are grouped under bags of their separators (see
    ``_decompose._group_children``): every answer stays the oracle's, per-option counts too."""
    cfg = modcfg.compile(case.catalog)
    check_engine(case, cfg, "decomposition", expected(case))
    valid = oracle.valid_configurations(case.catalog, case.needs)
    if not valid:
        return
    state = cfg.session(case.needs).state()
    for slot_id, slot in case.catalog.slots.items():
        for module in slot.modules:
            through = sum(1 for c in valid if c[slot_id] == module)
            assert state[slot_id][module].count == through, f"{slot_id}.{module}"


@given(
    st.lists(st.frozensets(st.integers(0, 11), min_size=1, max_size=4), min_size=1, max_size=12),
    st.integers(1, 12),
)
def test_packs_hold_their_members_separators_within_the_limit(
    separators: list[frozenset[int]], limit_bits: int
) -> None:
    """Packed children (see ``_decompose._packs``): two or more per pack, each child in one
    pack at most, each separator within its pack's union, and a union smaller than the
    parent with at most ``_PACK_COMBINATIONS`` value combinations."""
    parent = frozenset(range(12))
    seps = dict(enumerate(separators))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_decompose, "_PACK_COMBINATIONS", 1 << limit_bits)
        packs = _decompose._packs(list(seps), seps, [2] * 12, parent)
    packed = [child for _, members in packs for child in members]
    assert len(packed) == len(set(packed))
    for union, members in packs:
        assert len(members) >= 2
        assert union != parent
        assert len(union) <= limit_bits
        assert all(seps[child] <= union for child in members)
    if len(set(separators)) == len(separators) and all(len(s) == 1 for s in separators):
        # single slots, all different: as many to a pack as the limit allows, in order
        size = min(limit_bits, 11)
        assert len(packed) == (0 if size < 2 else len(seps) - (len(seps) % size == 1))


def test_a_hub_with_many_leaves_groups_them(group_every_hub: None) -> None:
    hub = {f"h{i}": {"modules": {"a": {}, "b": {}}} for i in range(4)}
    leaves = {f"l{i}": {"modules": {"a": {}, "b": {}}} for i in range(12)}
    rules = [{"id": f"hub-{i}", "excludes": [f"h{i}.a", f"h{(i + 1) % 4}.b"]} for i in range(4)]
    rules += [{"id": f"leaf-{i}", "excludes": [f"l{i}.a", f"h{i % 2}.a"]} for i in range(12)]
    data = {"catalog": "hub", "slots": {**hub, **leaves}, "rules": rules}
    cfg = modcfg.compile(modcfg.Catalog.model_validate(data))
    assert _grouping_bags(cfg.compiled.tree) >= 1
    assert cfg.count() == oracle.count(cfg.catalog)
