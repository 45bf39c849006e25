"""The benchmark's workloads: bundled, generated and real catalogs, with their needs and picks.

A workload's needs (a couple of require/forbid and a budget) and its interactive picks are
derived from the catalog deterministically, with the tree-decomposition peer checking that
they stay satisfiable and finding the cheapest price the budget is set from.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

import modcfg
from modcfg import Catalog, Needs
from modcfg.model import catalog_from_data

from .generate import generate_catalog
from .peers import PeerTimeout, TooLarge, Unsupported
from .peers.treedp import TreeDP

__all__ = ["DATA", "WORKLOADS", "Missing", "Spec", "Workload", "load_catalog", "prepare"]

#: The real third-party models (Renault, UVL, DIMACS), checked out next to the repository.
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class Spec:
    """How to obtain a workload's catalog, and how many modules its interactive step picks.

    ``data`` is a real model's file under :data:`DATA`; it gets seeded prices (see
    :func:`priced`).
    """

    name: str
    description: str
    bundled: str | None = None
    generated: tuple[int, int, int, int] | None = None
    data: str | None = None
    picks: int = 2


WORKLOADS = (
    Spec("windows", "bundled: 4 slots, 30 modules, 1800 windows", bundled="windows", picks=1),
    Spec(
        "windows_pro", "bundled: the windows catalog with rules and prices", bundled="windows_pro"
    ),
    Spec(
        "credit_cards", "bundled: 3 slots, 19 modules, 200 cards", bundled="credit_cards", picks=1
    ),
    Spec("bicycle", "bundled: the larger bundled catalog", bundled="bicycle", picks=3),
    Spec("gen20", "generated: 20 slots x 6 modules, 40 local rules", generated=(20, 6, 40, 20)),
    Spec(
        "gen100",
        "generated: 100 slots x 5 modules, 250 local rules",
        generated=(100, 5, 250, 100),
        picks=3,
    ),
    Spec(
        "renault",
        "real: Renault car configuration (XCSP), 148 slots, 174 tables",
        data="renault/medium.xml",
        picks=3,
    ),
    Spec(
        "berkeleydb",
        "real: BerkeleyDB feature model (UVL), 76 features",
        data="uvl/berkeleydb.uvl",
        picks=3,
    ),
    Spec("axtls", "real: axTLS feature model (UVL), 96 features", data="uvl/axTLS.uvl", picks=3),
    Spec(
        "ovm_rfw",
        "real: ovm_RFW feature model (UVL), 37 features",
        data="uvl/ovm_RFW.uvl",
        picks=3,
    ),
    Spec(
        "e_shop",
        "real: e-shop feature model (DIMACS), 173 variables",
        data="dimacs/e_shop.dimacs",
        picks=3,
    ),
    Spec(
        "bank",
        "real: banking-software feature model (DIMACS), 176 variables",
        data="dimacs/bank.dimacs",
        picks=3,
    ),
)

#: Module ids or labels of the "absent" value of an optional variable in a real model (no price).
JOKERS = frozenset({"-1", "none"})


class Missing(Exception):
    """The workload's catalog is not available (a bundled catalog not shipped yet, or a real
    model's data not checked out)."""


def priced(catalog: Catalog, seed: str) -> Catalog:
    """``catalog`` with seeded module prices: 1 to 9 whole currency units each, nothing for a
    joker module (the absent value of an optional variable). Real models carry no prices; the
    catalog is rebuilt from its data, so it is validated like any other."""
    rng = random.Random(seed)
    data = catalog.model_dump(by_alias=True, mode="json")
    for slot in data["slots"].values() if isinstance(data["slots"], dict) else data["slots"]:
        modules = slot["modules"]
        for module in modules.values() if isinstance(modules, dict) else modules:
            joker = module.get("label") in JOKERS or module.get("id") in JOKERS
            module["price"] = "0" if joker else str(rng.randint(1, 9))
    return catalog_from_data(data)


def load_catalog(spec: Spec) -> Catalog:
    """The workload's catalog; raises :class:`Missing` when a bundled one is not shipped or a
    real model's file is absent."""
    if spec.generated is not None:
        slots, modules, rules, seed = spec.generated
        return generate_catalog(slots, modules, rules, seed)
    if spec.data is not None:
        path = DATA / spec.data
        if not path.is_file():
            raise Missing(f"model '{spec.data}' is not available")
        return priced(modcfg.load_catalog(path), spec.name)
    if spec.bundled is None or spec.bundled not in modcfg.bundled_catalogs():
        raise Missing(f"catalog '{spec.bundled}' is not bundled")
    return modcfg.load_catalog(spec.bundled)


@dataclass(frozen=True)
class Workload:
    """A catalog with the needs of the best-for-needs job and the picks of the interactive step.

    ``count`` is the exact number of configurations (None when the reference could not count).
    """

    spec: Spec
    catalog: Catalog
    needs: dict[str, Any]
    picks: dict[str, str]
    count: int | None


def prepare(spec: Spec) -> Workload:
    """Load the catalog and derive needs and picks that keep configurations available."""
    catalog = load_catalog(spec)
    try:
        reference = TreeDP(catalog, time_limit=60.0)
        count = reference.count()
    except (TooLarge, Unsupported, PeerTimeout):
        first = next(iter(catalog.slots.values()))
        return Workload(spec, catalog, {}, {first.id: next(iter(first.modules))}, None)
    return Workload(
        spec, catalog, _needs(catalog, reference), _picks(catalog, reference, spec.picks), count
    )


def _feasible(reference: TreeDP, require: list[str], forbid: list[str]) -> bool:
    return reference.count(Needs(require=require, forbid=forbid)) > 0


def _needs(catalog: Catalog, reference: TreeDP) -> dict[str, Any]:
    """Require a mid-priced module of the widest slot, forbid the cheapest of two other slots,
    and set the budget 10% above the cheapest total that is left."""
    singles = [slot for slot in catalog.slots.values() if slot.single and len(slot.modules) > 1]
    require: list[str] = []
    forbid: list[str] = []
    if singles:
        widest = max(singles, key=lambda slot: len(slot.modules))
        by_price = sorted(widest.modules.values(), key=lambda module: module.price)
        for module in by_price[len(by_price) // 2 :] + by_price[: len(by_price) // 2]:
            if _feasible(reference, [f"{widest.id}.{module.id}"], []):
                require.append(f"{widest.id}.{module.id}")
                break
        for slot in [s for s in singles if s is not widest][:2]:
            cheapest = min(slot.modules.values(), key=lambda module: module.price)
            ref = f"{slot.id}.{cheapest.id}"
            if _feasible(reference, require, [*forbid, ref]):
                forbid.append(ref)
    needs: dict[str, Any] = {"require": require, "forbid": forbid}
    unit = reference.min_price(Needs(**needs))
    if unit is not None:
        cheapest_total = reference.problem.total(Needs(**needs), unit)
        budget = (cheapest_total * Decimal("1.1")).to_integral_value(rounding=ROUND_CEILING)
        needs["budget"] = str(budget)
    return needs


def _picks(catalog: Catalog, reference: TreeDP, wanted: int) -> dict[str, str]:
    """Up to ``wanted`` picks in the first, middle and last single-choice slots (or the next
    slot along when no module of that one can be taken with the picks before)."""
    singles = [slot for slot in catalog.slots.values() if slot.single]
    positions = sorted({0, len(singles) // 2, len(singles) - 1})[:wanted]
    picks: dict[str, str] = {}
    for position in positions:
        for slot in singles[position:] + singles[:position]:
            if slot.id in picks:
                continue
            modules = list(slot.modules)
            for module in modules[1:] + modules[:1]:
                trial = {**picks, slot.id: module}
                if _feasible(reference, [f"{s}.{m}" for s, m in trial.items()], []):
                    picks = trial
                    break
            if slot.id in picks:
                break
    return picks
