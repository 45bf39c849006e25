"""Brute force for pricing strategy and preferences, from docs/pricing.md alone.

Distinct products by their slots' kinds, the preference order, the Pareto front of (total,
preference score) and the blended order, each by enumerating the oracle's valid
configurations (``tests/oracle.py``); never calls the engines.
"""

from __future__ import annotations

from decimal import Decimal

import modcfg

from . import oracle

__all__ = ["blended_keys", "pareto_points", "preference_keys", "variety"]


def variety(catalog: modcfg.Catalog, needs: modcfg.Needs | None) -> tuple[int, int, int]:
    """(physical products, presented products, configurations) among the valid ones."""
    rows = [configuration for _, _, configuration in oracle.ranked(catalog, needs)]
    functional = [s for s, slot in catalog.slots.items() if slot.kind == "functional"]
    shown = [s for s, slot in catalog.slots.items() if slot.kind != "adaptive"]
    physical = {tuple(repr(row[s]) for s in functional) for row in rows}
    presented = {tuple(repr(row[s]) for s in shown) for row in rows}
    return len(physical), len(presented), len(rows)


def preference_keys(
    catalog: modcfg.Catalog, needs: modcfg.Needs | None, k: int
) -> list[tuple[int, Decimal]]:
    """(score, total) of the ``k`` best by preference score, then the lowest total."""
    rows = sorted((-negative, total) for total, negative, _ in oracle.ranked(catalog, needs))
    rows.sort(key=lambda row: (-row[0], row[1]))
    return rows[:k]


def pareto_points(catalog: modcfg.Catalog, needs: modcfg.Needs | None) -> list[tuple[Decimal, int]]:
    """The (total, score) points no other valid configuration dominates, cheapest first."""
    points = {(total, -negative) for total, negative, _ in oracle.ranked(catalog, needs)}
    front = [
        (total, score)
        for total, score in points
        if not any(
            other_total <= total
            and other_score >= score
            and (other_total, other_score) != (total, score)
            for other_total, other_score in points
        )
    ]
    return sorted(front)


def blended_keys(
    catalog: modcfg.Catalog, needs: modcfg.Needs | None, k: int, price: int, preference: int
) -> list[tuple[Decimal, Decimal]]:
    """(value, total) of the ``k`` best by ``preference x score - price x total``."""
    rows = [
        (preference * -negative - price * total, total)
        for total, negative, _ in oracle.ranked(catalog, needs)
    ]
    rows.sort(key=lambda row: (-row[0], row[1]))
    return rows[:k]
