"""Explanations: minimal conflicts, ranked relaxations, why-not (internal layer)."""

from ._conflict import NeedItem, infeasible_error, keep_items, need_items
from ._lint import Finding, lint
from ._whynot import Explanation, Restriction, explain_exclusion, rule_groups

__all__ = [
    "Explanation",
    "Finding",
    "NeedItem",
    "Restriction",
    "explain_exclusion",
    "infeasible_error",
    "keep_items",
    "lint",
    "need_items",
    "rule_groups",
]
