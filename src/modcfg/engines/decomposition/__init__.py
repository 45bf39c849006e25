"""The decomposition engine: a rooted tree decomposition of a problem with its bags'
consistent tuples, and exact passes over them (counts, marginals, cheapest, streams)."""

from ._passes import Marginal, TreeQuery
from ._tree import Tree, build_tree

__all__ = ["Marginal", "Tree", "TreeQuery", "build_tree"]
