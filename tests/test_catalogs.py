"""Every bundled catalog loads and holds exactly ``expected_count`` valid configurations.

The counts are checked by a small counter written here from ``docs/semantics.md``, independent
of the engines (it shares only the expression evaluator with them). It lists every slot's
choices on their own (multi-select slots as quantity vectors), checks each rule directly as soon
as every slot the rule reads is chosen, and multiplies the counts of groups of slots that share
no rule. Within a group it backtracks over the slots in catalog order and remembers the count of
each remaining suffix under the choices that rules still to be checked can see.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
import yaml

import modcfg
from modcfg.model import (
    Catalog,
    ConfigurationView,
    ConstraintRule,
    ExcludesRule,
    Quantities,
    RequiresRule,
    Rule,
    TableRule,
    catalog_from_data,
    evaluate,
    parse,
    truthy,
)

Choice = str | Quantities | None
Assignment = Mapping[str, Choice]
Predicate = Callable[[Assignment], bool]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*"


def _options(catalog: Catalog, slot_id: str) -> list[Choice]:
    """Every choice a slot admits on its own: modules, empty, or quantity vectors."""
    slot = catalog.slots[slot_id]
    low, high = slot.cardinality.min, slot.cardinality.max
    if high == 1:
        empty: list[Choice] = [None] if low == 0 else []
        return [*empty, *slot.modules]
    module_ids = list(slot.modules)
    ranges = [range(slot.modules[module].max_quantity + 1) for module in module_ids]
    return [
        Quantities(dict(zip(module_ids, quantities, strict=True)))
        for quantities in itertools.product(*ranges)
        if low <= sum(quantities) <= high
    ]


def _chosen(assignment: Assignment, ref: str) -> bool:
    slot_id, module_id = ref.split(".")
    choice = assignment[slot_id]
    if isinstance(choice, Quantities):
        return choice.get(module_id, 0) > 0
    return choice == module_id


def _expression_slots(catalog: Catalog, text: str) -> set[str]:
    """The slots an expression may read (a safe over-approximation found by pattern)."""
    found: set[str] = set()
    for slot_id in catalog.slots:
        name = re.escape(slot_id)
        if re.search(rf"(?<![\w-]){name}\s*\.", text) or re.search(
            rf"count\s*\(\s*{name}\s*\)", text
        ):
            found.add(slot_id)
    for attribute in re.findall(rf"total\s*\(\s*({_NAME})\s*\)", text):
        found |= {
            slot_id
            for slot_id, slot in catalog.slots.items()
            if any(attribute in module.attributes for module in slot.modules.values())
        }
    return found


def _requires(conditions: Sequence[str], consequences: Sequence[str]) -> Predicate:
    def holds(assignment: Assignment) -> bool:
        if not all(_chosen(assignment, ref) for ref in conditions):
            return True
        return any(_chosen(assignment, ref) for ref in consequences)

    return holds


def _excludes(refs: Sequence[str]) -> Predicate:
    def holds(assignment: Assignment) -> bool:
        return not all(_chosen(assignment, ref) for ref in refs)

    return holds


def _table(slots: Sequence[str], rows: Sequence[Sequence[str | None]], *, allow: bool) -> Predicate:
    def holds(assignment: Assignment) -> bool:
        matched = any(
            all(
                value == "*" or value == assignment[slot]
                for slot, value in zip(slots, row, strict=True)
            )
            for row in rows
        )
        return matched if allow else not matched

    return holds


def _constraint(catalog: Catalog, body: str, when: str | None) -> Predicate:
    body_expression = parse(body)
    when_expression = parse(when) if when is not None else None

    def holds(assignment: Assignment) -> bool:
        view = ConfigurationView(catalog, assignment)
        if when_expression is not None and not truthy(evaluate(when_expression, view)):
            return True
        return truthy(evaluate(body_expression, view))

    return holds


def _slots_of(refs: Sequence[str]) -> frozenset[str]:
    return frozenset(ref.split(".")[0] for ref in refs)


def _check(catalog: Catalog, rule: Rule) -> tuple[frozenset[str], Predicate]:
    """A rule as (the slots it reads, a predicate over an assignment of those slots)."""
    if isinstance(rule, RequiresRule):
        conditions, consequences = rule.requires.if_, rule.requires.then
        return _slots_of((*conditions, *consequences)), _requires(conditions, consequences)
    if isinstance(rule, ExcludesRule):
        return _slots_of(rule.excludes), _excludes(rule.excludes)
    if isinstance(rule, TableRule):
        return frozenset(rule.table.slots), _table(rule.table.slots, rule.rows, allow=rule.allow)
    assert isinstance(rule, ConstraintRule)
    texts = [rule.constraint] if rule.when is None else [rule.constraint, rule.when]
    slots = frozenset().union(*(_expression_slots(catalog, text) for text in texts))
    return slots, _constraint(catalog, rule.constraint, rule.when)


def _checks(catalog: Catalog) -> list[tuple[frozenset[str], Predicate]]:
    return [_check(catalog, rule) for rule in catalog.rules]


def _groups(
    catalog: Catalog, checks: Sequence[tuple[frozenset[str], Predicate]]
) -> list[list[str]]:
    """Slots joined by shared rules, each group in catalog order."""
    parent = {slot_id: slot_id for slot_id in catalog.slots}

    def root(slot_id: str) -> str:
        while parent[slot_id] != slot_id:
            slot_id = parent[slot_id]
        return slot_id

    for scope, _ in checks:
        first, *others = sorted(scope)
        for other in others:
            parent[root(other)] = root(first)
    groups: dict[str, list[str]] = {}
    for slot_id in catalog.slots:
        groups.setdefault(root(slot_id), []).append(slot_id)
    return list(groups.values())


def _count_group(
    catalog: Catalog, order: Sequence[str], checks: Sequence[tuple[frozenset[str], Predicate]]
) -> int:
    position = {slot_id: index for index, slot_id in enumerate(order)}
    options = {slot_id: _options(catalog, slot_id) for slot_id in order}
    due: list[list[Predicate]] = [[] for _ in order]
    for scope, predicate in checks:
        due[max(position[slot_id] for slot_id in scope)].append(predicate)
    # Before choosing slot i, the rest of the count depends only on the earlier slots that
    # a rule still to be checked (at slot i or later) reads.
    seen_by_later: list[tuple[str, ...]] = []
    for level in range(len(order) + 1):
        needed = {
            slot_id
            for scope, _ in checks
            if max(position[other] for other in scope) >= level
            for slot_id in scope
            if position[slot_id] < level
        }
        seen_by_later.append(tuple(sorted(needed, key=position.__getitem__)))
    assignment: dict[str, Choice] = {}
    memo: dict[tuple[int, tuple[Choice, ...]], int] = {}

    def count_from(level: int) -> int:
        if level == len(order):
            return 1
        key = (level, tuple(assignment[slot_id] for slot_id in seen_by_later[level]))
        known = memo.get(key)
        if known is not None:
            return known
        slot_id = order[level]
        total = 0
        for choice in options[slot_id]:
            assignment[slot_id] = choice
            if all(predicate(assignment) for predicate in due[level]):
                total += count_from(level + 1)
        del assignment[slot_id]
        memo[key] = total
        return total

    return count_from(0)


def _count(catalog: Catalog) -> int:
    """The number of valid configurations, by the rule semantics of docs/semantics.md."""
    checks = _checks(catalog)
    if not all(predicate({}) for scope, predicate in checks if not scope):
        return 0
    checks = [(scope, predicate) for scope, predicate in checks if scope]
    total = 1
    for group in _groups(catalog, checks):
        members = set(group)
        inside = [(scope, predicate) for scope, predicate in checks if scope <= members]
        total *= _count_group(catalog, group, inside)
    return total


def _exhaustive_count(catalog: Catalog) -> int:
    """Check every combination of every slot's choices against every rule (tiny catalogs)."""
    checks = _checks(catalog)
    slot_ids = list(catalog.slots)
    total = 0
    for choices in itertools.product(*(_options(catalog, slot_id) for slot_id in slot_ids)):
        assignment = dict(zip(slot_ids, choices, strict=True))
        total += all(predicate(assignment) for _, predicate in checks)
    return total


@pytest.mark.parametrize("name", modcfg.bundled_catalogs())
def test_bundled_catalog_holds_its_expected_count(name: str) -> None:
    catalog = modcfg.load_catalog(name)
    assert catalog.expected_count is not None, f"catalog {name} states no expected_count"
    assert _count(catalog) == catalog.expected_count


@pytest.mark.parametrize(
    ("name", "slots", "modules", "count"),
    [("windows", 4, 30, 1800), ("credit_cards", 3, 19, 200)],
)
def test_seed_catalogs_keep_their_shape(name: str, slots: int, modules: int, count: int) -> None:
    catalog = modcfg.load_catalog(name)
    assert (len(catalog.slots), catalog.module_count, catalog.expected_count) == (
        slots,
        modules,
        count,
    )
    assert not catalog.rules


def test_bundled_catalogs_include_the_showcases() -> None:
    assert {"windows", "credit_cards", "windows_pro", "bicycle"} <= set(modcfg.bundled_catalogs())


def _kind(rule: Rule) -> str:
    if isinstance(rule, RequiresRule | ExcludesRule):
        return rule.kind
    if isinstance(rule, TableRule):
        return "table allow" if rule.allow else "table deny"
    return "constraint when" if rule.when else "constraint"


def test_bicycle_uses_every_kind_of_rule_and_slot() -> None:
    catalog = modcfg.load_catalog("bicycle")
    assert {_kind(rule) for rule in catalog.rules} == {
        "requires",
        "excludes",
        "table allow",
        "table deny",
        "constraint",
        "constraint when",
    }
    assert len(catalog.slots) >= 12
    assert catalog.module_count >= 80
    assert len(catalog.rules) >= 30
    kinds = {slot.cardinality.kind for slot in catalog.slots.values()}
    assert kinds == {"exactly_one", "optional", "many"}


def _tiny(slots: dict[str, object], rules: list[dict[str, object]]) -> Catalog:
    return catalog_from_data({"catalog": "tiny", "slots": slots, "rules": rules})


def test_counter_on_a_catalog_counted_by_hand() -> None:
    # a: x or y; b: p, q or empty; c: 1..2 units of m (up to 2) and n, so c is one of
    # m, 2m, n, m+n. With a = x, c holds n (m+n only without q); with a = y, b is filled.
    catalog = _tiny(
        {
            "a": {"modules": {"x": {}, "y": {}}},
            "b": {"cardinality": "optional", "modules": {"p": {}, "q": {}}},
            "c": {
                "cardinality": {"min": 1, "max": 2},
                "modules": {"m": {"max_quantity": 2}, "n": {}},
            },
        },
        [
            {"id": "x-needs-n", "requires": {"if": "a.x", "then": ["c.n"]}},
            {"id": "q-not-m", "excludes": ["b.q", "c.m"]},
            {"id": "y-filled", "table": {"slots": ["a", "b"], "deny": [["y", None]]}},
            {"id": "p-one-m", "constraint": "c.m <= 1", "when": "b.p"},
        ],
    )
    assert _count(catalog) == _exhaustive_count(catalog) == 5 + 4


def test_counter_sums_attributes_over_quantities() -> None:
    # s takes 0..3 units of u (weight 2) and v (weight 3): 7 vectors weighing 0, 2, 4, 6, 3,
    # 5 and 7. With t = k (weight 0) six fit under 6; with t = l (weight 1) five fit, and the
    # empty one is not allowed.
    catalog = _tiny(
        {
            "s": {
                "cardinality": {"min": 0, "max": 3},
                "modules": {
                    "u": {"max_quantity": 3, "attributes": {"w": 2}},
                    "v": {"attributes": {"w": 3}},
                },
            },
            "t": {"modules": {"k": {"attributes": {"w": 0}}, "l": {"attributes": {"w": 1}}}},
        },
        [
            {"id": "light", "constraint": "total(w) <= 6"},
            {"id": "l-not-empty", "constraint": "count(s) >= 1", "when": "t.l"},
        ],
    )
    assert _count(catalog) == _exhaustive_count(catalog) == 6 + 4


def test_counter_agrees_with_the_exhaustive_product_on_a_table_with_wildcards() -> None:
    catalog = _tiny(
        {
            "size": {"modules": {"s": {}, "m": {}, "l": {}}},
            "colour": {"cardinality": "optional", "modules": {"red": {}, "blue": {}}},
            "finish": {"modules": {"matt": {}, "gloss": {}}},
        },
        [
            {
                "id": "combos",
                "table": {
                    "slots": ["size", "colour", "finish"],
                    "allow": [["s", "*", "matt"], ["m", None, "*"], ["l", "red", "gloss"]],
                },
            },
        ],
    )
    # s: 3 colours x matt; m: empty colour x 2 finishes; l: red gloss.
    assert _count(catalog) == _exhaustive_count(catalog) == 3 + 2 + 1


def test_the_complete_example_of_the_format_page_holds_its_count() -> None:
    page = Path(__file__).parent.parent / "docs" / "catalog-format.md"
    example = page.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]
    catalog = catalog_from_data(yaml.safe_load(example))
    assert catalog.expected_count == _count(catalog) == _exhaustive_count(catalog)
