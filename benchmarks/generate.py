"""Seeded generator of large catalogs with local rules.

``generate_catalog(slots, modules, rules, seed)`` builds a catalog of ``slots`` slots with
``modules`` modules each, ``rules`` rules and a few conditional price rules. Every rule links a
slot ``i`` with slots among ``i+1..i+3`` only, so the constraint graph is a band and its
treewidth stays small however many slots there are. Every seventh slot is optional. The mix:
excludes, requires, small deny and allow tables, and attribute constraints (weights), with
module prices spread so that the cheapest configurations are unique enough to compare.

>>> catalog = generate_catalog(8, 3, 10, seed=1)
>>> len(catalog.slots), catalog.module_count, len(catalog.rules)
(8, 24, 10)
"""

from __future__ import annotations

import random
from typing import Any

from modcfg import Catalog
from modcfg.model import catalog_from_data

__all__ = ["generate_catalog"]

#: The share of each rule kind, in the order drawn.
RULE_MIX = (("excludes", 0.35), ("requires", 0.25), ("deny", 0.2), ("allow", 0.1), ("weight", 0.1))
#: How far a rule reaches: slot i with slots i+1..i+REACH.
REACH = 3


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _slot_id(number: int) -> str:
    return f"s{number:03d}"


def generate_catalog(slots: int, modules: int, rules: int, seed: int) -> Catalog:
    """A catalog of ``slots`` x ``modules`` modules and ``rules`` local rules, from ``seed``."""
    if slots < 2 or modules < 2:
        raise ValueError("a generated catalog needs at least 2 slots of 2 modules")
    rng = random.Random(seed)
    slot_ids = [_slot_id(number) for number in range(slots)]
    module_ids = [f"m{number}" for number in range(modules)]
    optional = {number for number in range(slots) if number % 7 == 3}
    data: dict[str, Any] = {
        "catalog": f"generated-{slots}x{modules}-{rules}-{seed}",
        "label": f"Generated catalog: {slots} slots of {modules} modules, {rules} rules",
        "version": "1",
        "currency": "EUR",
        "slots": {},
        "rules": [],
        "prices": [],
    }
    for number, slot in enumerate(slot_ids):
        data["slots"][slot] = {
            "label": f"Slot {number}",
            "cardinality": "optional" if number in optional else "exactly_one",
            "modules": {
                module: {
                    "price": _money(rng.randint(500, 15_000)),
                    "attributes": {"weight": rng.randint(1, 20)},
                }
                for module in module_ids
            },
        }

    def pair() -> tuple[int, int]:
        first = rng.randrange(slots - 1)
        return first, first + rng.randint(1, min(REACH, slots - 1 - first))

    def ref(number: int) -> str:
        return f"{slot_ids[number]}.{rng.choice(module_ids)}"

    def value(number: int) -> str | None:
        choices: list[str | None] = [*module_ids, *([None] if number in optional else [])]
        return rng.choice(choices)

    kinds = [kind for kind, _ in RULE_MIX]
    weights = [weight for _, weight in RULE_MIX]
    for index in range(rules):
        kind = rng.choices(kinds, weights)[0]
        rule: dict[str, object]
        first, second = pair()
        rule_id = f"r{index:03d}-{kind}"
        if kind == "excludes":
            a, b = ref(first), ref(second)
            rule = {"id": rule_id, "excludes": [a, b], "message": f"{a} does not fit {b}"}
        elif kind == "requires":
            then = rng.sample(module_ids, 2)
            a = ref(first)
            rule = {
                "id": rule_id,
                "requires": {"if": a, "then": [f"{slot_ids[second]}.{m}" for m in then]},
                "message": f"{a} needs one of {', '.join(then)} in {slot_ids[second]}",
            }
        elif kind == "deny":
            scope = sorted({first, second, min(slots - 1, first + rng.randint(1, REACH))})
            rows = {
                tuple(value(n) if rng.random() < 0.8 or len(scope) < 3 else "*" for n in scope)
                for _ in range(rng.randint(2, 4))
            }
            rule = {
                "id": rule_id,
                "table": {"slots": [slot_ids[n] for n in scope], "deny": sorted(rows, key=str)},
                "message": "a combination that is not built",
            }
        elif kind == "allow":
            rows_allowed = [
                (a, b)
                for a in [*module_ids, *([None] if first in optional else [])]
                for b in [*module_ids, *([None] if second in optional else [])]
                if rng.random() < 0.8
            ]
            rule = {
                "id": rule_id,
                "table": {"slots": [slot_ids[first], slot_ids[second]], "allow": rows_allowed},
                "message": "only the listed combinations are built",
            }
        else:
            limit = rng.randint(26, 34)
            condition = ref(first)
            rule = {
                "id": rule_id,
                "constraint": f"{slot_ids[first]}.weight + {slot_ids[second]}.weight <= {limit}",
                "message": f"too heavy together (at most {limit})",
            }
            if rng.random() < 0.5:
                rule["when"] = f"not {condition}"
        data["rules"].append(rule)
    for index in range(max(1, slots // 5)):
        first, second = pair()
        a, b = ref(first), ref(second)
        if rng.random() < 0.5:
            data["prices"].append(
                {
                    "id": f"p{index:03d}-bundle",
                    "bundle": [a, b],
                    "amount": _money(-rng.randint(500, 4000)),
                }
            )
        else:
            data["prices"].append(
                {
                    "id": f"p{index:03d}-surcharge",
                    "when": f"{a} and not {b}",
                    "amount": _money(rng.randint(300, 2500)),
                }
            )
    return catalog_from_data(data)
