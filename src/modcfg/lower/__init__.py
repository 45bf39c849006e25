"""Lowering: a catalog's rules and prices, and a customer's needs, as a finite-domain
:class:`Problem` over slot variables, the one input every engine reads (internal layer).

This package imports :mod:`modcfg.model` and nothing of the engines.
"""

from ._problem import (
    Constraint,
    Factor,
    Problem,
    Resource,
    SlotDomain,
    build_domains,
    compile_rules,
    needs_problem,
)

__all__ = [
    "Constraint",
    "Factor",
    "Problem",
    "Resource",
    "SlotDomain",
    "build_domains",
    "compile_rules",
    "needs_problem",
]
