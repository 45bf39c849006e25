"""What a configuration breaks with one slot changed (memory suggestions explain each changed
slot by it): the rules a whole check reports, on random catalogs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modcfg
from modcfg._slot_breaks import SlotBreaks

from . import oracle, strategies


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.cases(150), st.data())
def test_one_slot_changed_breaks_what_a_whole_check_says(
    case: strategies.Case, data: st.DataObject
) -> None:
    catalog = case.catalog
    cfg = modcfg.compile(catalog)
    configurations = list(oracle.all_configurations(catalog))
    configuration = data.draw(st.sampled_from(configurations))  # (valid or not)
    breaks = SlotBreaks(cfg.compiled, configuration)
    for slot_id, slot in catalog.slots.items():
        for other in configurations:
            if all(other[s] == configuration[s] for s in catalog.slots if s != slot_id):
                changed = dict(configuration.items()) | {slot_id: other[slot_id]}
                expected = [
                    reason
                    for reason in cfg.violations(changed, include_budget=False)
                    if reason.kind == "rule"
                ]
                assert breaks.breaks(slot_id, other[slot_id]) == expected, slot_id
        assert slot.id == slot_id


def test_a_choice_the_slot_does_not_take_is_refused() -> None:
    cfg = modcfg.compile("windows")
    configuration = next(iter(cfg.configurations(limit=1)))
    breaks = SlotBreaks(cfg.compiled, configuration)
    with pytest.raises(modcfg.NeedsError, match="titanium"):
        breaks.breaks("frame", "titanium")


def test_a_global_sum_is_read_by_the_change_of_its_total() -> None:
    slots = {
        f"s{i}": {"cardinality": "optional", "modules": {"on": {"attributes": {"w": i % 3 + 1}}}}
        for i in range(12)
    }
    catalog = modcfg.Catalog.model_validate(
        {
            "catalog": "sums",
            "slots": slots,
            "rules": [{"id": "light", "constraint": "total(w) <= 6"}],
        }
    )
    cfg = modcfg.compile(catalog)
    assert cfg.compiled.base.resources  # (a sum over twelve slots: a global one)
    chosen = {"s0": "on", "s1": "on", "s2": "on"}  # w = 1 + 2 + 3
    configuration = modcfg.Configuration.validated(catalog, chosen)
    breaks = SlotBreaks(cfg.compiled, configuration)
    for slot in slots:
        for choice in ("on", None):
            changed = chosen | {slot: choice}
            expected = cfg.violations(changed, include_budget=False)
            assert breaks.breaks(slot, choice) == expected, (slot, choice)
    assert [r.rule for r in breaks.breaks("s3", "on")] == ["light"]
    assert breaks.breaks("s2", None) == []
