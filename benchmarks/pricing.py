"""The pricing optimiser on bicycle and windows_pro with three generated customer segments.

For each catalog: a standard (its cheapest configuration), degree weights on the slots that
customise the product, a three-band ladder, module costs at 60 % of list prices, and three
segments generated from a seed (a budget buyer, a mid-range buyer, a premium buyer; each
values any product at the standard's price and a few modules above their price). Prints, per
catalog and method, the margin against flat pricing and the catalog's current ladder, the
solve time, and a check that each segment's predicted purchase is its best choice under the
optimised surcharges: on windows_pro by brute force over every valid configuration, on
bicycle (2e8 configurations) by one CP-SAT optimisation per segment over the whole catalog
re-priced with the optimised ladder (the ladder as the catalog prices it, no bands: a model
independent of the optimiser's per-band queries). Then what each segment buys.

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


def ladder_catalog(name: str, amounts: dict[int, Decimal] | None = None) -> modcfg.Catalog:
    """The bundled catalog with a standard, degree weights, costs and a three-band ladder
    (``amounts``: its surcharges per band number instead of the percentages)."""
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
    ladder: list[dict[str, Any]] = [
        {"min_degree": 1, "percent": "5"},
        {"min_degree": 3, "percent": "15"},
    ]
    if amounts is not None:
        ladder = [
            {"min_degree": 1, "amount": str(amounts[2])},
            {"min_degree": 3, "amount": str(amounts[3])},
        ]
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
        made.append(
            Segment(
                name,
                size=rng.randint(10, 60),
                values=values,
                base_value=str(standard_price),
                budget=str(budget),
            )
        )
    return made


def utility_of(segment: Segment, configuration: modcfg.Configuration, price: Decimal) -> Decimal:
    """The segment's value of a configuration minus its price."""
    value = sum(
        (Decimal(segment.values.get(f"{s}.{m}", 0)) * q for s, m, q in configuration.units()),
        Decimal(0),
    )
    return Decimal(str(segment.base_value)) + value - price


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
            utility = utility_of(segment, configuration, price)
            if utility >= 0 and (best is None or utility > best):
                best = utility
        if purchase.option is None or purchase.price is None:
            if best is not None:
                return f"FAILED: {segment.name} walks away but can reach utility {best}"
            continue
        bought = utility_of(segment, purchase.option.configuration, purchase.price)
        if best is None or bought != best:
            return f"FAILED: {segment.name} buys utility {bought}, best {best}"
    return f"ok ({len(rows):,} configurations)"


def whole_catalog_check(name: str, segs: list[Segment], result: PricingResult) -> str:
    """Whether every purchase is its segment's best choice: one CP-SAT optimisation of value
    minus price per segment over the catalog re-priced with the optimised ladder."""
    from modcfg.engines.cpsat._bilevel import best_utility

    cfg = modcfg.compile(ladder_catalog(name, result.surcharges))
    scale = 10**cfg.catalog.decimals
    for segment, purchase in zip(segs, result.purchases, strict=True):
        prefer = {ref: int(Decimal(str(v)) * scale) for ref, v in segment.values.items()}
        needs = modcfg.Needs(prefer=prefer)
        cap = None if segment.budget is None else int(Decimal(str(segment.budget)) * scale)
        answer = best_utility(cfg.compiled.plan(needs).problem, cost_bound=cap, time_limit=60)
        if not answer.proved:
            return f"UNKNOWN: {segment.name}'s best choice not proved in 60 s"
        best: Decimal | None = None
        if answer.assignment is not None:
            configuration = cfg.compiled.configuration(answer.assignment)
            price = cfg.price(configuration).unit_price
            best = utility_of(segment, configuration, price)
            best = best if best >= 0 else None
        if purchase.option is None or purchase.price is None:
            if best is not None:
                return f"FAILED: {segment.name} walks away but can reach utility {best}"
            continue
        bought = utility_of(segment, purchase.option.configuration, purchase.price)
        if purchase.price != cfg.price(purchase.option.configuration).unit_price:
            return f"FAILED: {segment.name}'s price differs from the re-priced catalog's"
        if best is None or bought != best:
            return f"FAILED: {segment.name} buys utility {bought}, best {best}"
    return f"ok (CP-SAT over {cfg.count():,} configurations)"


#: (candidates, method) runs per catalog: windows_pro compares generated options with fronts.
RUNS = {
    "windows_pro": (("fronts", "best-response"), ("fronts", "exact"), ("generated", "auto")),
    "bicycle": (("generated", "best-response"), ("generated", "auto")),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=120.0)
    options = parser.parse_args()
    header = (
        f"{'catalog':12} {'options':10} {'method':16} {'margin':>10} {'flat':>10} "
        f"{'current':>10} {'vs flat':>7} {'vs cur':>7} {'rounds':>6} {'seconds':>8}  check"
    )
    print(header)
    print("-" * len(header))
    bought: list[str] = []
    for name in ("windows_pro", "bicycle"):
        cfg = modcfg.compile(ladder_catalog(name))
        segs = segments(cfg.catalog, options.seed)
        for candidates, method in RUNS[name]:
            started = time.perf_counter()
            result = optimise(
                cfg,
                segs,
                ("0", "300"),
                method=method,  # type: ignore[arg-type]
                candidates=candidates,  # type: ignore[arg-type]
                time_limit=options.time_limit,
            )
            seconds = time.perf_counter() - started
            if name == "windows_pro":
                check = brute_force_check(cfg, segs, result)
            else:
                check = whole_catalog_check(name, segs, result)
            flat = result.margin / result.flat_margin if result.flat_margin else Decimal(0)
            current = result.margin / result.current_margin if result.current_margin else Decimal(0)
            label = f"{method}{'*' if result.optimal else ''}"
            label += "" if result.verified else " (unverified)"
            print(
                f"{name:12} {candidates:10} {label:16} {result.margin:>10} "
                f"{result.flat_margin:>10} {result.current_margin:>10} {flat:>7.3f} "
                f"{current:>7.3f} {result.rounds:>6} {seconds:>8.2f}  {check}",
                flush=True,
            )
            bands = ", ".join(f"band {b} +{a}" for b, a in result.surcharges.items())
            bought.append(f"{name} {candidates}/{method} ({bands}):")
            for purchase in result.purchases:
                if purchase.option is None:
                    bought.append(f"  {purchase.segment}: walks away")
                    continue
                degree = cfg.degree(purchase.option.configuration)
                picked = ", ".join(
                    f"{slot}={choice}"
                    for slot, choice in purchase.option.configuration.items()
                    if slot in WEIGHTED[name]
                )
                bought.append(
                    f"  {purchase.segment}: {purchase.price} (degree {degree}, margin "
                    f"{purchase.margin}): {picked}"
                )
    print("* proved optimal over the segments' options; ratios are margin / other margin")
    print()
    print("\n".join(bought))


if __name__ == "__main__":
    main()
