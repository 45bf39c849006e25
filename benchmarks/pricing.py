"""The pricing optimiser on bicycle and windows_pro with three generated customer segments.

For each catalog: a standard (its cheapest configuration), degree weights on the slots that
customise the product, a three-band ladder, module costs at 60 % of list prices, and three
segments generated from a seed (a budget buyer, a mid-range buyer, a premium buyer; each
values a few modules above their price). Prints, per catalog and method, the margin against
flat pricing and the catalog's current ladder, the solve time, and on windows_pro a brute-force
check over every valid configuration that each segment's predicted purchase is its best
choice under the optimised surcharges.

    .venv/bin/python benchmarks/pricing.py [--seed N] [--time-limit S]
"""

from __future__ import annotations

import argparse
import random
import time
from decimal import Decimal
from typing import Any

import modcfg
from modcfg.model import catalog_to_data
from modcfg.model._customization import ladder_band
from modcfg.pricing import PricingResult, Segment, optimise

#: Slots that customise each catalog's product (the others keep degree_weight 0).
WEIGHTED = {
    "windows_pro": ("frame", "glass", "grade", "picture", "hardware"),
    "bicycle": ("frame", "fork", "wheels", "groupset", "colour"),
}
#: Configurations up to which the purchases are checked by brute force.
BRUTE_FORCE_LIMIT = 100_000


def ladder_catalog(name: str) -> modcfg.Catalog:
    """The bundled catalog with a standard, degree weights, costs and a three-band ladder."""
    base = modcfg.compile(name)
    data: dict[str, Any] = catalog_to_data(base.catalog)
    cheapest = base.best(k=1)[0].configuration
    data["standard"] = {
        slot: (dict(choice) if isinstance(choice, dict) else choice)
        for slot, choice in cheapest.items()
    }
    for slot_id, slot in data["slots"].items():
        if slot_id not in WEIGHTED[name]:
            slot["degree_weight"] = 0
        for module in slot["modules"].values():
            module["cost"] = str(Decimal(module.get("price", "0")) * 6 / 10)
    ladder = [{"min_degree": 1, "percent": "5"}, {"min_degree": 3, "percent": "15"}]
    data.setdefault("prices", []).append({"id": "customised", "ladder": ladder})
    return modcfg.Catalog.model_validate(data)


def segments(catalog: modcfg.Catalog, seed: int) -> list[Segment]:
    """Three segments: each values a few modules of the weighted slots above their price."""
    rng = random.Random(seed)
    made = []
    standard = catalog.standard_configuration
    units = () if standard is None else tuple(standard.units())
    standard_price = sum((catalog.module(f"{s}.{m}").price * q for s, m, q in units), Decimal(0))
    for number, (name, premium) in enumerate((("budget", 1.1), ("mid", 1.4), ("premium", 2.0))):
        values: dict[str, int] = {}
        for slot_id in WEIGHTED[catalog.name]:
            modules = list(catalog.slots[slot_id].modules.values())
            module = rng.choice(modules[: max(1, len(modules) * (number + 1) // 3)])
            values[f"{slot_id}.{module.id}"] = int(module.price * Decimal(premium)) + 1
        budget = int(standard_price * Decimal(1 + number)) + 50
        made.append(Segment(name, size=rng.randint(10, 60), values=values, budget=str(budget)))
    return made


def brute_force_check(cfg: modcfg.Configurator, segs: list[Segment], result: PricingResult) -> str:
    """Whether every segment's purchase is its best choice among every valid configuration."""
    if cfg.count() > BRUTE_FORCE_LIMIT:
        return "skipped"
    rule = cfg.catalog.ladder_price_rules[0]
    rows = []
    for configuration in cfg.configurations():
        quoted = cfg.price(configuration)
        ladder = sum((line.amount for line in quoted.lines if line.source == rule.id), Decimal(0))
        band = ladder_band(rule, cfg.degree(configuration)).number
        base = quoted.unit_price - ladder
        rows.append((configuration, base + result.surcharges.get(band, Decimal(0))))
    for segment, purchase in zip(segs, result.purchases, strict=True):
        best: Decimal | None = None
        for configuration, price in rows:
            if segment.budget is not None and price > Decimal(str(segment.budget)):
                continue
            value = sum(
                (
                    Decimal(segment.values.get(f"{s}.{m}", 0)) * q
                    for s, m, q in configuration.units()
                ),
                Decimal(0),
            )
            utility = Decimal(str(segment.base_value)) + value - price
            if utility >= 0 and (best is None or utility > best):
                best = utility
        if purchase.option is None:
            if best is not None:
                return f"FAILED: {segment.name} walks away but can reach utility {best}"
            continue
        assert purchase.price is not None
        chosen = sum(
            (
                Decimal(segment.values.get(f"{s}.{m}", 0)) * q
                for s, m, q in purchase.option.configuration.units()
            ),
            Decimal(0),
        )
        if best is None or chosen - purchase.price != best:
            return f"FAILED: {segment.name} buys utility {chosen - purchase.price}, best {best}"
    return f"ok ({len(rows):,} configurations)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=30.0)
    options = parser.parse_args()
    header = (
        f"{'catalog':12} {'method':14} {'margin':>12} {'flat':>12} {'current':>12} "
        f"{'vs flat':>8} {'vs current':>10} {'seconds':>8}  check"
    )
    print(header)
    print("-" * len(header))
    for name in ("windows_pro", "bicycle"):
        cfg = modcfg.compile(ladder_catalog(name))
        segs = segments(cfg.catalog, options.seed)
        for method in ("best-response", "exact"):
            started = time.perf_counter()
            result = optimise(cfg, segs, ("0", "300"), method=method, time_limit=options.time_limit)
            seconds = time.perf_counter() - started
            check = brute_force_check(cfg, segs, result) if method == "exact" else ""
            flat = result.margin / result.flat_margin if result.flat_margin else Decimal(0)
            current = result.margin / result.current_margin if result.current_margin else Decimal(0)
            label = f"{result.method}{'*' if result.optimal else ''}"
            print(
                f"{name:12} {label:14} {result.margin:>12} {result.flat_margin:>12} "
                f"{result.current_margin:>12} {flat:>8.3f} {current:>10.3f} {seconds:>8.2f}  "
                f"{check}"
            )
    print("* proved optimal over the segments' options; ratios are margin / other margin")


if __name__ == "__main__":
    main()
