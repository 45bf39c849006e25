"""What a query hands the search methods, and where a relation the tree does not hold applies.

:class:`Kept` and :class:`Below` are a :class:`~._passes.TreeQuery`'s per-bag views as lists
(the search methods of :mod:`._search` walk them tuple by tuple); :func:`scope_rows` finds the
rows of the bag that applies a relation or factor attached by a query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._tree import Tree, tuple_projector

__all__ = ["Below", "Kept", "scope_rows"]


@dataclass(frozen=True)
class Kept:
    """Per bag, as lists for the search methods: the indexes of the tuples a query keeps
    (``live``), and their keys (``cost x scale - score``) and preference scores, aligned with
    ``live``."""

    live: list[list[int]]
    key: list[list[int]]
    score: list[list[int]]


@dataclass(frozen=True)
class Below:
    """Per bag and kept tuple (aligned with :attr:`Kept.live`): whether it has completions
    below it (``alive``) and the cheapest key of them (``best``, meaningful where alive)."""

    alive: list[list[bool]]
    best: list[list[int]]


def scope_rows(
    tree: Tree, scope: Sequence[int], what: str
) -> tuple[slice, Callable[[tuple[int, ...]], tuple[int, ...]], list[tuple[int, ...]]]:
    """Where a relation or factor over ``scope`` that the tree does not hold is applied: the
    rows (in the flat layout) of the bag nearest the root that holds the scope, the function
    giving a tuple's values on the scope, and the bag's tuples."""
    index = tree.bag_containing(scope)
    if index is None:
        raise ValueError(f"{what} scope fits no bag; rebuild the tree")
    bag = tree.bags[index]
    start = tree.flat.start
    rows = slice(int(start[index]), int(start[index + 1]))
    return rows, tuple_projector([bag.vars.index(v) for v in scope]), bag.tuples
