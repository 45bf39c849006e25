"""The decomposition engine: a rooted tree decomposition of a problem with its bags'
consistent tuples, and exact passes over them (counts, marginals, cheapest, streams).

The modules, from the tree to the queries:

- ``_decompose``: the shape of the tree (which slots share a bag), from the elimination
  orders of ``_elimination``;
- ``_tree``: :class:`Tree` and its bags, built by :func:`build_tree`;
- ``_build`` and ``_build_kernel``: filling the bags, the one join (a compiled kernel);
- ``_layout``: the filled bags laid end to end for the passes;
- ``_jit``: compiling kernels with numba, cached on disk;
- ``_kernels`` and ``_counting``: the passes (the counting ones written once for every count
  type), compiled or plain Python;
- ``_residues``: exact counts beyond 64 bits (moduli and the Chinese remainder theorem);
- ``_passes``: :class:`TreeQuery`, one problem's view of a tree (filters, keys, passes);
- ``_search``: solutions from a query, all of them, as arrays or best first;
- ``_blocks``: solutions in blocks of columns (feeds), one compiled walk;
- ``_sums``, ``_sumdp``, ``_sumparts``, ``_sumarrays``: counting under global sums (totals,
  budgets).

It reads the lowered problem (``modcfg.lower``) and the package's errors and memory budget,
and nothing above the engines.
"""

from ._blocks import solution_blocks
from ._jit import compiled_from_now
from ._passes import Marginal, TreeQuery
from ._tree import (
    BagsTooLarge,
    FillStopped,
    Tree,
    bag_combinations,
    build_tree,
    check_widest,
    decomposition_width,
)

__all__ = [
    "BagsTooLarge",
    "FillStopped",
    "Marginal",
    "Tree",
    "TreeQuery",
    "bag_combinations",
    "build_tree",
    "check_widest",
    "compiled_from_now",
    "decomposition_width",
    "solution_blocks",
]
