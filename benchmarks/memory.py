"""Customer memory benchmark: does ``memory.suggest`` give returning customers their next
order after a catalog change? Suggestion hit-rate@3 against a most-popular baseline.

python benchmarks/memory.py                    # 1,000 customers (a minute or two)
python benchmarks/memory.py --customers 200 --seed 3

The history is generated. A catalog of 6 slots (42 modules, 6 exclusion rules); each customer
has a hidden routine (a valid configuration) and a hidden second choice per slot, both drawn
from the same skewed taste of the population (a Zipf law over each slot's modules), and orders
6 to 20 times: three orders in four are the routine, the others change one or two slots
(to the second choice seven times in ten, else to any module), always valid. Then version 2
of the catalog retires 15% of the modules and adds 3 exclusion rules. A customer's next order
(the truth) is their best valid configuration of version 2 by their hidden preferences: keep
as much of the routine as possible, fill the rest with second choices, then the cheapest.

Each customer's orders go into a CustomerMemory (SQLite); ``suggest(k=3)`` on version 2 hits
when the truth is among its three suggestions. The baseline suggests the three configurations
ordered most often overall that version 2 still allows. Target: hit-rate@3 >= 0.8 and >= 2x
the baseline's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import modcfg
from modcfg.memory import CustomerMemory

SLOT_SIZES = (6, 8, 5, 10, 7, 6)
RULES, NEW_RULES, RETIRED_SHARE = 6, 3, 0.15
Config = dict[str, str]


def _excludes(rng: random.Random, slots: dict[str, list[str]], count: int, tag: str) -> list[Any]:
    names = list(slots)
    rules = []
    for number in range(count):
        first, second = rng.sample(names, 2)
        pair = [f"{first}.{rng.choice(slots[first])}", f"{second}.{rng.choice(slots[second])}"]
        rules.append(
            {"id": f"{tag}-{number}", "excludes": pair, "message": f"no {' with '.join(pair)}"}
        )
    return rules


def catalogs(seed: int) -> tuple[modcfg.Catalog, modcfg.Catalog]:
    """Versions 1 and 2 of the generated catalog."""
    rng = random.Random(seed)
    slots = {f"s{n}": [f"m{n}{m}" for m in range(size)] for n, size in enumerate(SLOT_SIZES)}
    prices = {m: f"{rng.randint(10, 200)}.00" for modules in slots.values() for m in modules}
    rules = _excludes(rng, slots, RULES, "r")

    def data(version: str, kept: dict[str, list[str]], extra: list[Any]) -> dict[str, Any]:
        return {
            "catalog": "memory-bench",
            "version": version,
            "currency": "EUR",
            "slots": {
                s: {"modules": {m: {"price": prices[m]} for m in ms}} for s, ms in kept.items()
            },
            "rules": [
                r
                for r in rules + extra
                if all(
                    ref.split(".")[1] in prices and ref.split(".")[1] in kept[ref.split(".")[0]]
                    for ref in r["excludes"]
                )
            ],
        }

    retired = set(rng.sample(sorted(prices), int(RETIRED_SHARE * len(prices))))
    kept = {s: [m for m in ms if m not in retired] or ms[:1] for s, ms in slots.items()}
    new_rules = _excludes(rng, kept, NEW_RULES, "new")
    return (
        modcfg.Catalog.model_validate(data("1", slots, [])),
        modcfg.Catalog.model_validate(data("2", kept, new_rules)),
    )


def _valid(cfg: modcfg.Configurator, configuration: Config) -> bool:
    return not cfg.violations(configuration)


class Customer:
    """A generated customer: hidden routine and second choices, and their orders."""

    def __init__(self, number: int, cfg: modcfg.Configurator, rng: random.Random) -> None:
        self.id = f"customer-{number:04d}"
        slots = {s: list(slot.modules) for s, slot in cfg.catalog.slots.items()}

        def popular(modules: list[str]) -> str:  # tastes follow a Zipf law over the modules
            return rng.choices(modules, weights=[1 / (1 + n) for n in range(len(modules))])[0]

        while True:
            self.routine = {s: popular(ms) for s, ms in slots.items()}
            if _valid(cfg, self.routine):
                break
        self.second = {
            s: popular([m for m in ms if m != self.routine[s]]) for s, ms in slots.items()
        }
        self.orders: list[Config] = []
        for _ in range(rng.randint(6, 20)):
            order = dict(self.routine)
            if rng.random() < 0.25:
                for _ in range(10):  # a valid variation, else the routine
                    trial = dict(self.routine)
                    for slot in rng.sample(list(slots), rng.choice((1, 1, 2))):
                        trial[slot] = (
                            self.second[slot] if rng.random() < 0.7 else rng.choice(slots[slot])
                        )
                    if _valid(cfg, trial):
                        order = trial
                        break
            self.orders.append(order)

    def next_order(self, cfg: modcfg.Configurator) -> Config:
        """Their best configuration of ``cfg`` by their hidden preferences."""
        prefer = {}
        for slot, found in cfg.catalog.slots.items():
            for module, weight in ((self.routine[slot], 100), (self.second[slot], 10)):
                if module in found.modules:
                    prefer[f"{slot}.{module}"] = weight
        quote = cfg.session(modcfg.Needs(prefer=prefer)).complete("preferred")
        return {s: str(m) for s, m in quote.configuration.items()}


def _record(memory: CustomerMemory, cfg: modcfg.Configurator, customers: list[Customer]) -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    quotes: dict[tuple[str, ...], modcfg.Quote] = {}
    for customer in customers:
        for number, order in enumerate(customer.orders):
            key = tuple(order.values())
            if key not in quotes:
                quotes[key] = cfg.price(order)
            when = start + dt.timedelta(days=21 * number)
            memory.record(customer.id, quotes[key], consent=True, catalog=cfg, when=when)


def run(customers: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    first, second = catalogs(seed)
    old, new = modcfg.compile(first), modcfg.compile(second)
    people = [Customer(n, old, rng) for n in range(customers)]
    popular = Counter(tuple(sorted(o.items())) for c in people for o in c.orders)
    baseline = [dict(c) for c, _ in popular.most_common() if _valid_in(new, dict(c))][:3]
    with tempfile.TemporaryDirectory() as folder:
        memory = CustomerMemory(f"sqlite:///{folder}/memory.db")
        began = time.perf_counter()
        _record(memory, old, people)
        recorded = time.perf_counter() - began
        hits = {"memory@1": 0, "memory@3": 0, "popular@3": 0}
        affected = affected_hits = 0
        spent = 0.0
        for customer in people:
            truth = customer.next_order(new)
            began = time.perf_counter()
            found = [dict(s.configuration.items()) for s in memory.suggest(customer.id, new, k=3)]
            spent += time.perf_counter() - began
            hits["memory@1"] += found[:1] == [truth]
            hits["memory@3"] += truth in found
            hits["popular@3"] += truth in baseline
            if truth != customer.routine:
                affected += 1
                affected_hits += truth in found
        memory.close()
    result = {name: count / customers for name, count in hits.items()}
    result |= {
        "affected": affected / customers,
        "affected@3": affected_hits / affected if affected else 1.0,
        "ms_suggest": 1000 * spent / customers,
        "ms_record": 1000 * recorded / sum(len(c.orders) for c in people),
    }
    return result


def _valid_in(cfg: modcfg.Configurator, configuration: Config) -> bool:
    try:
        return _valid(cfg, configuration)
    except modcfg.ModcfgError:  # a retired module
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=17)
    options = parser.parse_args(argv)
    result = run(options.customers, options.seed)
    ratio = result["memory@3"] / result["popular@3"] if result["popular@3"] else float("inf")
    print(
        f"customers: {options.customers}; routines changed by version 2: {result['affected']:.1%}"
    )
    print(f"{'method':<28}{'hit-rate@3':>12}{'hit-rate@1':>12}{'vs popular':>12}")
    print(
        f"{'memory.suggest':<28}{result['memory@3']:>12.3f}{result['memory@1']:>12.3f}{ratio:>11.1f}x"
    )
    print(f"{'  (customers whose routine':<28}{result['affected@3']:>12.3f}")
    print(f"{'   version 2 changed)':<28}")
    print(f"{'most popular (baseline)':<28}{result['popular@3']:>12.3f}{'':>12}{1:>11.1f}x")
    record, suggest = result["ms_record"], result["ms_suggest"]
    print(f"record: {record:.2f} ms per order; suggest: {suggest:.1f} ms per customer")
    target = result["memory@3"] >= 0.8 and ratio >= 2
    print(f"target (hit-rate@3 >= 0.8 and >= 2x the baseline): {'met' if target else 'NOT met'}")


if __name__ == "__main__":
    main()
