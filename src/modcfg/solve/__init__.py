"""Engines: the decomposition engine and the CP-SAT engine (internal layer).

``ortools`` is imported in this package only (``_cpsat.py``).
"""

from ._passes import Marginal, TreeQuery
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
from ._tree import Tree, build_tree

__all__ = [
    "Constraint",
    "Factor",
    "Marginal",
    "Problem",
    "Resource",
    "SlotDomain",
    "Tree",
    "TreeQuery",
    "build_domains",
    "build_tree",
    "compile_rules",
    "needs_problem",
]
