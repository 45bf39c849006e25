"""A tree's bag tuples laid end to end, for the compiled passes.

Every bag's tuples are laid end to end (:class:`Flat`): tuple ``t`` of bag ``b`` is row
``start[b] + t`` of a query's arrays, and the separator keys a bag shares with its parent are
numbered from ``msg_start[b]`` in one message space (a bag's *messages* to its parent). The
kernels take these arrays grouped in a few plain tuples (:data:`Layout`, :data:`Columns`,
:data:`Tally`) and unpack them first thing: numba types a plain tuple of arrays at once on each
call, but a named tuple field by field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._tree import Bag, Tree

__all__ = ["Columns", "Flat", "Layout", "Tally", "flatten"]


#: How the rows of a tree's bags and their separator keys hang together, as the kernels unpack
#: it: ``order`` (bags in preorder), ``start`` (bags + 1: first row of each bag), ``msg_start``
#: (bags + 1: first separator key of each bag), ``sep`` (rows: a row's separator key within its
#: bag), ``edge_begin`` (bags + 1: a bag's child edges), ``edge_child`` (the child of an edge),
#: ``link_start`` and ``links`` (``links[link_start[e] + i]``: the child's separator key matching
#: row ``i`` of the parent).
Layout = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]
#: Where each variable's value is read: ``var_bag`` (a bag that holds it, see :class:`Flat`),
#: ``var_col_start`` and ``var_col`` (``var_col[var_col_start[v] + i]``: its value in row ``i``
#: of that bag), ``val_start`` (the first slot of each variable's values in arrays over every
#: (variable, value)) and ``start`` (as in :data:`Layout`).
Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
#: Per row, separator key or value: the number of completions (in a count system of
#: :mod:`._counting`) and the cheapest key.
Tally = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Flat:
    """The bags of a tree laid end to end (int64 arrays): the :data:`Layout`, the
    :data:`Columns` (each variable read in the smallest bag that holds it), each row's unit
    ``cost`` (Python integers beyond 64 bits) and the largest number of children of a bag.

    Any bag that holds a variable serves to filter its values and to read its marginals:
    every solution passes through exactly one row of each bag, and the bags between two that
    hold a variable all hold it, so the rows of one bag with a value filtered out in another
    get no completions. A hub bag introduces many variables of a feature model, and nearly all
    of them are also held by small bags below it: on an eCos model, the marginals read 2,600
    rows for every variable instead of 90,000 rows for each of the hub's, and the columns take
    40 KB instead of 11-39 MB."""

    layout: Layout
    columns: Columns
    cost: np.ndarray
    max_children: int

    @property
    def start(self) -> np.ndarray:
        """The first row of each bag (one more than there are bags)."""
        return self.layout[1]

    @property
    def val_start(self) -> np.ndarray:
        """The first slot of each variable's values (one more than there are variables)."""
        return self.columns[3]

    @property
    def rows(self) -> int:
        return int(self.layout[1][-1])

    @property
    def keys(self) -> int:
        return int(self.layout[2][-1])

    @property
    def values(self) -> int:
        return int(self.columns[3][-1])

    def flat_allowed(self, allowed: list[list[bool]]) -> np.ndarray:
        """A problem's allowed values as one Boolean array indexed by ``val_start``."""
        return np.fromiter(chain.from_iterable(allowed), dtype=bool, count=self.values)

    def column(self, var: int) -> tuple[int, int, np.ndarray]:
        """The bag where ``var`` is read (the smallest that holds it), its first row, and
        ``var``'s value in each row of that bag."""
        var_bag, var_col_start, var_col, _, start = self.columns
        bag = int(var_bag[var])
        first, last = int(start[bag]), int(start[bag + 1])
        values: np.ndarray = var_col[int(var_col_start[var]) :]
        return bag, first, values[: last - first]

    @cached_property
    def every_bag(self) -> np.ndarray:
        """True for every bag."""
        return np.ones(len(self.layout[0]), dtype=bool)

    @cached_property
    def _parents(self) -> tuple[list[int], list[int]]:
        """Each bag's parent (-1 for a root) and its place in the preorder."""
        order, _, _, _, edge_begin, edge_child, _, _ = self.layout
        parent = np.full(len(order), -1, dtype=np.int64)
        parent[edge_child] = np.repeat(np.arange(len(order)), np.diff(edge_begin))
        place = np.empty(len(order), dtype=np.int64)
        place[order] = np.arange(len(order))
        return parent.tolist(), place.tolist()

    def paths_to_root(self, bags: Iterable[int]) -> np.ndarray:
        """The bags on the paths from ``bags`` to the root, in preorder: the bags whose
        upward messages change when the rows of ``bags`` do (an ``order`` for
        :data:`Layout`)."""
        parent, place = self._parents
        on_path: set[int] = set()
        for bag in bags:
            while bag >= 0 and bag not in on_path:
                on_path.add(bag)
                bag = parent[bag]
        return _int64(sorted(on_path, key=place.__getitem__))


def _int64(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return (
        np.concatenate(parts).astype(np.int64, copy=False) if parts else np.zeros(0, dtype=np.int64)
    )


def _costs(parts: list[np.ndarray]) -> np.ndarray:
    """Every tuple's cost: int64, or Python integers when a bag's costs exceed 64 bits."""
    if any(part.dtype == object for part in parts):
        return np.concatenate([part.astype(object) for part in parts])
    return _concat(parts)


def _columns(
    bags: list[Bag], where: list[tuple[int, int]], val_start: np.ndarray, start: np.ndarray
) -> Columns:
    """The :data:`Columns` of each variable read in bag ``where[v][0]``, at its position
    ``where[v][1]``."""
    var_col_start, var_col = [], []
    offset = 0
    for index, position in where:
        var_col_start.append(offset)
        var_col.append(bags[index].values[:, position])
        offset += len(bags[index].values)
    bags_of = _int64([index for index, _ in where])
    return bags_of, _int64(var_col_start), _concat(var_col), val_start, start


def flatten(tree: Tree) -> Flat:
    """The flat layout of ``tree`` (its bags must be materialised)."""
    bags = tree.bags
    sizes = [len(bag.values) for bag in bags]
    start = _int64([0, *np.cumsum(sizes).tolist()])
    msg_start = _int64([0, *np.cumsum([len(bag.sep_starts) for bag in bags]).tolist()])
    edge_begin, edge_child, link_start, links = [0], [], [], []
    offset = 0
    for bag, size in zip(bags, sizes, strict=True):
        for child, link in zip(bag.children, bag.child_index, strict=True):
            edge_child.append(child)
            link_start.append(offset)
            links.append(link)
            offset += size
        edge_begin.append(len(edge_child))
    val_start = _int64(
        [0, *np.cumsum([len(row) for row in tree.problem.allowed[: len(tree.owner)]]).tolist()]
    )
    read_in = list(tree.owner)  # (the bags that introduce them, unless a smaller one holds them)
    for index, bag in enumerate(bags):
        for position, var in enumerate(bag.vars):
            if var < len(read_in) and sizes[index] < sizes[read_in[var][0]]:
                read_in[var] = (index, position)
    layout = (
        _int64(tree.preorder),
        start,
        msg_start,
        _concat([bag.sep_ids for bag in bags]),
        _int64(edge_begin),
        _int64(edge_child),
        _int64(link_start),
        _concat(links),
    )
    return Flat(
        layout=layout,
        columns=_columns(bags, read_in, val_start, start),
        cost=_costs([bag.cost_array for bag in bags]),
        max_children=max((len(bag.children) for bag in bags), default=0),
    )
