"""Lowering: a catalog's rules and prices, and a customer's needs, as a finite-domain
:class:`Problem` over slot variables, the one input every engine reads (internal layer).

- ``_problem``: the problem's types (slot domains, constraints, factors, resources) and the
  slot domains of a catalog;
- ``_lowering``: :class:`Lowering`, the operations lowering functions build a problem with
  (require an expression, allow rows, exclude a value, add a cost or score factor);
- ``_rules``: one lowering function per rule kind and price-rule kind, in a registry keyed by
  kind, :func:`compile_rules` and :func:`lower_each_rule`;
- ``_needs``: one lowering step per need dimension, and :func:`needs_problem`;
- ``_tabulate`` and ``_grids``: expressions tabulated over the slots they read, linear
  comparisons read as weights.

This package imports :mod:`modcfg.model` (and the memory budget) and nothing of the engines.
"""

from ._lowering import LINEAR_TABLE_SLOTS, TABULATION_LIMIT, Lowering
from ._needs import NEED_LOWERINGS, needs_problem
from ._problem import Constraint, Factor, Problem, Resource, SlotDomain, build_domains
from ._rules import (
    PRICE_RULE_LOWERINGS,
    RULE_LOWERINGS,
    LoweredRule,
    compile_rules,
    lower_each_rule,
    lowers_price_rule,
    lowers_rule,
)

__all__ = [
    "LINEAR_TABLE_SLOTS",
    "NEED_LOWERINGS",
    "PRICE_RULE_LOWERINGS",
    "RULE_LOWERINGS",
    "TABULATION_LIMIT",
    "Constraint",
    "Factor",
    "LoweredRule",
    "Lowering",
    "Problem",
    "Resource",
    "SlotDomain",
    "build_domains",
    "compile_rules",
    "lower_each_rule",
    "lowers_price_rule",
    "lowers_rule",
    "needs_problem",
]
