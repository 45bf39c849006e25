"""Explanations: minimal conflicts of needs and of rules, ranked relaxations, why-not, and
catalog checks (internal layer)."""

from ._conflict import NeedItem, infeasible_error, keep_items, need_items
from ._lint import Finding, Severity, lint
from ._rules import RuleConflict, rule_conflict, rule_text, rules_behind_needs
from ._whynot import Explanation, Restriction, explain_exclusion, rule_groups

__all__ = [
    "Explanation",
    "Finding",
    "NeedItem",
    "Restriction",
    "RuleConflict",
    "Severity",
    "explain_exclusion",
    "infeasible_error",
    "keep_items",
    "lint",
    "need_items",
    "rule_conflict",
    "rule_groups",
    "rule_text",
    "rules_behind_needs",
]
