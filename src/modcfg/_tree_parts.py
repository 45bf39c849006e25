"""A customer's conditions answered in parts of the catalog's own tree (see
:mod:`modcfg.engines._parts`), when no bag of the tree holds them.

A condition over slots that no bag holds would need a tree of its own. On a large tree
(:data:`PARTS_ROWS` bag rows or more) that tree takes longer to build than the catalog's:
0.3-5.4 s on models of 1,250-1,300 features (100,000-230,000 rows), where at most
:data:`TREE_PARTS` parts of the catalog's tree count in 20-150 ms and each step costs their
passes. A smaller tree is built in milliseconds and answers steps in one pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .engines import EngineQuery
from .engines._parts import parts_query
from .engines.decomposition import TreeQuery
from .lower import Problem

if TYPE_CHECKING:
    from ._compiled import CompiledCatalog

__all__ = ["PARTS_ROWS", "TREE_PARTS", "in_parts", "tree_parts"]

#: At most this many parts of the catalog's tree answer a customer's conditions.
TREE_PARTS = 4
#: The bag rows from which a tree answers conditions in parts.
PARTS_ROWS = 50_000


def in_parts(compiled: CompiledCatalog, problem: Problem) -> bool:
    """Whether ``problem`` may be answered in parts of the catalog's large tree: it adds
    rules that no bag of the tree holds."""
    base = compiled.base
    if compiled.wide_base is not None or len(problem.constraints) <= len(base.constraints):
        return False  # (no rule of its own: the tree is not even built for it here)
    return compiled.tree.flat.rows >= PARTS_ROWS and not compiled.holds_rules_of(problem)


def tree_parts(compiled: CompiledCatalog, problem: Problem) -> EngineQuery | None:
    """``problem``'s query as at most :data:`TREE_PARTS` parts of the catalog's tree, or None
    when it needs a tree of its own."""
    bound = compiled.base_query.count()

    def whole_of(relaxed: Problem) -> TreeQuery:
        return TreeQuery(compiled.tree, relaxed, count_bound=bound)

    return parts_query(compiled.base, problem, whole_of, most=TREE_PARTS)
