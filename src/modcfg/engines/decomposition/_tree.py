"""The tree: a rooted tree decomposition of a problem with its bags' consistent tuples.

:func:`build_tree` takes the shape from :mod:`._decompose` (the primal graph's components, each
decomposed; a virtual root bag joins them, so independent parts multiply), assigns every rule
to each bag that holds its scope and every cost factor to the bag nearest the root that holds
its scope, and fills the bags (:mod:`._build`). A bag stores only the tuples that are part of
some solution (consistent with every rule inside its subtree, then semi-joined top-down), so
bag tables are sized by what is possible, not by the product of domains.

Queries then walk the stored tuples (:mod:`._passes`): an upward pass gives, per tuple, the
exact number of completions of its subtree and the cheapest one; a downward pass gives the
same for the outside, hence exact per-option counts and from-prices (all marginals in two
passes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from math import prod
from operator import itemgetter
from typing import Any

import numpy as np

from ..._memory import ENTRY_BYTES, describe_slots
from ...lower._problem import Constraint, Factor, Problem
from ._build import BagsTooLarge, FillStopped, materialise
from ._chains import with_chains
from ._decompose import Decomposition, decomposition
from ._jit import compiled_pays
from ._layout import Flat, flatten
from ._residues import pass_bytes, residue_system
from ._simplify import simplified

__all__ = ["Bag", "BagsTooLarge", "FillStopped", "Tree", "build_tree", "check_widest"]

Key = Any  # a separator key: a scalar value index, a tuple of them, or ()
#: Largest number of tuples one bag may hold.
BAG_LIMIT = 5_000_000
#: The key groups of a bag counted whole (see :attr:`Tree.count_bound`).
_ONE_GROUP = np.zeros(1, dtype=np.int64)
#: Build the bags with the compiled kernel (False: the same kernel as plain Python).
COMPILED = True


# shared empty arrays: a bag's placeholders until it is materialised (replaced, never written)
_NO_ROWS = np.zeros((0, 0), dtype=np.int64)
_NOTHING = np.zeros(0, dtype=np.int64)
_NO_ROWS.flags.writeable = False
_NOTHING.flags.writeable = False


def tuple_projector(positions: Sequence[int]) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
    """Like :func:`_projector`, but always a tuple (the keys of relations and factors)."""
    if len(positions) == 1:
        position = positions[0]
        return lambda t: (t[position],)
    if not positions:
        return lambda _t: ()
    return itemgetter(*positions)


def _projector(positions: Sequence[int]) -> Callable[[tuple[int, ...]], Key]:
    if not positions:
        return _no_key
    return itemgetter(*positions)


def _no_key(_row: tuple[int, ...]) -> Key:
    return ()


@dataclass
class Bag:
    """One node of the rooted tree decomposition.

    ``values`` holds the bag's consistent tuples (rows, columns in the order of ``vars``),
    sorted by the key shared with the parent: ``sep_ids[i]`` numbers the key of row ``i``
    (groups are contiguous and start at ``sep_starts``); ``child_index[j][i]`` is the key id,
    in child ``j``, of the key row ``i`` shares with that child.
    """

    vars: tuple[int, ...]
    parent: int = -1
    children: list[int] = field(default_factory=list)
    owned: tuple[int, ...] = ()  # positions (in vars) of the variables this bag introduces
    sep_positions: list[int] = field(default_factory=list)  # positions shared with the parent
    # per child, the positions (in vars) of the variables it shares with this bag
    child_positions: list[list[int]] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    cost_factors: list[Factor] = field(default_factory=list)
    values: np.ndarray = field(default_factory=lambda: _NO_ROWS)
    sep_ids: np.ndarray = field(default_factory=lambda: _NOTHING)
    sep_starts: np.ndarray = field(default_factory=lambda: _NOTHING)
    child_index: list[np.ndarray] = field(default_factory=list)
    cost_array: np.ndarray = field(default_factory=lambda: _NOTHING)

    def __getstate__(self) -> dict[str, object]:
        # what the search methods derive on first use (functions, the rows as tuples) is not
        # saved: a saved compiled catalog stays as small whatever was asked before saving
        return {key: value for key, value in self.__dict__.items() if key not in _DERIVED}

    @cached_property
    def sep(self) -> Callable[[tuple[int, ...]], Key]:
        """The key a row shares with the parent (for the search methods)."""
        return _projector(self.sep_positions) if self.parent >= 0 else _no_key

    @cached_property
    def child_keys(self) -> list[Callable[[tuple[int, ...]], Key]]:
        """Per child, the key a row shares with it (for the search methods)."""
        return [_projector(positions) for positions in self.child_positions]

    @cached_property
    def tuples(self) -> list[tuple[int, ...]]:
        """The rows of :attr:`values` as tuples (for the search methods; built on first use)."""
        return list(map(tuple, self.values.tolist()))


#: What a bag works out on first use (its cached properties): left out of its saved state.
_DERIVED = frozenset(
    name for name, value in vars(Bag).items() if isinstance(value, cached_property)
)


@dataclass
class Tree:
    """A rooted tree decomposition of a :class:`Problem` with its consistent bag tuples."""

    problem: Problem
    bags: list[Bag]
    preorder: list[int]
    owner: list[tuple[int, int]]  # real var -> (bag, position in the bag)
    width: int
    #: The constraints of the problem the tree was built for (``problem`` is that problem
    #: with its clauses as chains, see :mod:`._chains`).
    base_constraints: tuple[Constraint, ...] = ()
    cost_span: int = 1  # above any difference of two solutions' costs
    cost_magnitude: int = 1  # above any solution's absolute cost
    #: Decomposed with min-fill on large components too (trees for the same rules with more
    #: scopes are decomposed alike, see ``build_tree``).
    fill_in: bool = False
    _flat: Flat | None = field(default=None, repr=False)
    _ids: frozenset[int] | None = field(default=None, repr=False)

    @property
    def constraint_ids(self) -> frozenset[int]:
        """The identities of the problem's constraints (queries add theirs on top)."""
        if self._ids is None:
            self._ids = frozenset(map(id, self.base_constraints))
        return self._ids

    def __getstate__(self) -> dict[str, object]:
        # identities hold in one process only: a pickled tree (a saved compiled catalog, a
        # catalog shipped to Dask workers) works them out again where it is loaded
        return {**self.__dict__, "_ids": None}

    @property
    def flat(self) -> Flat:
        """The bags laid end to end for the compiled passes (built once)."""
        if self._flat is None:
            self._flat = flatten(self)
        return self._flat

    @cached_property
    def count_bound(self) -> int:
        """A bound on every count the passes compute over this tree: a solution picks the
        root's row and then, bag by bag, one row of those that share its parent's key, so no
        count exceeds the product, over the bags, of their largest such group (often far below
        the product of the domains: the bags' rows are the consistent ones). Queries with needs
        only remove rows."""
        # every bag's groups laid end to end (a bag without a parent's key: one group), so
        # that their sizes are one difference and their largest one reduction
        boundaries: list[np.ndarray] = []
        first: list[int] = []  # per bag, its first group
        offset = groups = 0
        for bag in self.bags:
            starts = bag.sep_starts
            if bag.parent < 0 or not len(starts):
                starts = _ONE_GROUP
            boundaries.append(starts + offset)
            first.append(groups)
            offset += len(bag.values)
            groups += len(starts)
        if not boundaries:
            return 1
        sizes = np.diff(np.concatenate([*boundaries, [offset]]))
        largest = np.maximum.reduceat(sizes, first)
        return prod(max(1, size) for size in largest.tolist())

    @property
    def entry_bytes(self) -> int:
        """The bytes of the bags' rows as the builder counts them against the memory limit
        (each value an int64 entry, see :func:`._build.materialise`)."""
        return sum(bag.values.size for bag in self.bags) * ENTRY_BYTES

    def pass_bytes(self, bound: int) -> int:
        """The bytes the passes of one query over this tree hold at once, for counts up to
        ``bound`` (one residue per modulus it takes, see :func:`._residues.pass_bytes`)."""
        flat = self.flat
        return pass_bytes(flat.rows, flat.keys, len(residue_system(bound)[0]))

    def bound_for(self, problem: Problem) -> int:
        """A bound on every count the passes compute for ``problem`` (this tree's problem
        with a customer's filters): :attr:`count_bound`, or the product of its variables'
        allowed values when smaller. Every count, of solutions or of partial ones over some
        bags, is a count of combinations of bag rows, so both bound it."""
        return min(prod(max(1, sum(row)) for row in problem.allowed), self.count_bound)

    def bag_containing(self, scope: Sequence[int]) -> int | None:
        """The bag nearest the root that contains every variable of ``scope``."""
        wanted = set(scope)
        for index in self.preorder:
            if wanted <= set(self.bags[index].vars):
                return index
        return None


def build_tree(
    problem: Problem,
    *,
    extra_scopes: Sequence[Sequence[int]] = (),
    bag_limit: int = BAG_LIMIT,
    widest: int | None = None,
    fill_in: bool = False,
    deadline: float | None = None,
) -> Tree:
    """Decompose ``problem`` and materialise its consistent bag tuples.

    ``extra_scopes`` are scopes that later queries will attach to a single bag (a customer's
    multi-slot conditions or preferences): they are made cliques of the graph. Clauses become
    chains of auxiliary variables (:mod:`._chains`), which the bags hold but own no position
    of: only the problem's variables are reported. ``bag_limit`` bounds the rows of one bag;
    ``widest``, when given, the value combinations of one bag before its rules (checked
    before any bag is filled). Past either, :class:`BagsTooLarge` is raised. ``fill_in``:
    decompose large components with the min-fill heuristic too (see ``_decompose``).
    ``deadline`` (:func:`time.monotonic`; None: none): past it, the fill stops with
    :class:`~._build.FillStopped`.
    """
    given = problem
    problem, (width, bag_vars, links, preorder), combinations = _shape(
        given, extra_scopes, fill_in=fill_in
    )
    if widest is not None:
        _check_widest(problem, bag_vars, combinations, widest)
    bags = [Bag(vars=variables) for variables in bag_vars]
    for above, below in links:
        bags[below].parent = above
        bags[above].children.append(below)
    owner: list[tuple[int, int]] = [(-1, -1)] * given.size
    for index in preorder:
        bag = bags[index]
        parent_vars = set(bags[bag.parent].vars) if bag.parent >= 0 else set()
        shared = [v for v in bag.vars if v in parent_vars]
        bag.owned = tuple(
            p for p, v in enumerate(bag.vars) if v not in parent_vars and v < given.size
        )
        for position in bag.owned:
            owner[bag.vars[position]] = (index, position)
        bag.sep_positions = [bag.vars.index(v) for v in shared]
        if bag.parent >= 0:
            parent = bags[bag.parent]
            parent.child_positions.append([parent.vars.index(v) for v in shared])
    tree = Tree(
        problem,
        bags,
        preorder,
        owner,
        width,
        base_constraints=tuple(given.constraints),
        fill_in=fill_in,
    )
    _assign(tree)
    # the bags' value combinations bound what filling them as plain Python would cost
    if deadline is not None and time.monotonic() > deadline:
        raise FillStopped(0, len(bags))
    compiled = COMPILED and compiled_pays(sum(combinations))
    materialise(tree, compiled=compiled, bag_limit=bag_limit, deadline=deadline)
    return tree


def check_widest(given: Problem, widest: int, *, fill_in: bool = False) -> list[int]:
    """:class:`BagsTooLarge` when the decomposition of ``given`` (clauses as chains; min-fill
    on large components too with ``fill_in``) has a bag of more than ``widest`` value
    combinations: what :func:`build_tree` checks before it fills, without building a tree.
    Returns each bag's combinations (as :func:`bag_combinations`)."""
    problem, (_, bag_vars, _, _), combinations = _shape(given, fill_in=fill_in)
    _check_widest(problem, bag_vars, combinations, widest)
    return combinations


def decomposition_width(given: Problem) -> int:
    """The width (largest bag's slots - 1) of the decomposition :func:`build_tree` makes of
    ``given``, without filling its bags (which a catalog too entangled for one tree cannot)."""
    return _shape(given, fill_in=False)[1][0]


def bag_combinations(given: Problem, *, fill_in: bool = False) -> list[int]:
    """Each bag's value combinations before rules in the decomposition of ``given`` (as
    :func:`check_widest` decomposes it): what filling the bags would cost at most, without
    building a tree."""
    return _shape(given, fill_in=fill_in)[2]


def _shape(
    given: Problem, extra_scopes: Sequence[Sequence[int]] = (), *, fill_in: bool
) -> tuple[Problem, Decomposition, list[int]]:
    """``given`` with its clauses as chains, its decomposition (see
    :func:`._decompose.decomposition`) and each bag's value combinations before rules."""
    problem = with_chains(simplified(given))
    found = decomposition(problem, extra_scopes, fill_in=fill_in)
    sizes = [sum(row) for row in problem.allowed]
    return problem, found, [prod(sizes[var] for var in variables) for variables in found[1]]


def _check_widest(
    problem: Problem,
    bag_vars: Sequence[Sequence[int]],
    combinations: Sequence[int],
    widest: int,
) -> None:
    """:class:`BagsTooLarge` for the first bag of more than ``widest`` value combinations."""
    for variables, found in zip(bag_vars, combinations, strict=True):
        if found > widest:
            slots = describe_slots([problem.domains[var].slot for var in variables])
            raise BagsTooLarge(
                f"the widest bag of the tree decomposition has {len(variables)} slots ({slots})"
                f" and {found:.3g} value combinations, more than {widest:,}",
                estimate=found,
                limit=widest,
                filling=False,
            )


def _assign(tree: Tree) -> None:
    bags = tree.bags
    var_sets = [frozenset(bag.vars) for bag in bags]
    holders: dict[int, list[int]] = {}
    for index, bag in enumerate(bags):
        for var in bag.vars:
            holders.setdefault(var, []).append(index)
    for constraint in tree.problem.constraints:
        wanted = set(constraint.scope)
        first = constraint.scope[0] if constraint.scope else None
        candidates = holders.get(first, []) if first is not None else range(len(bags))
        for index in candidates:
            if wanted <= var_sets[index]:
                bags[index].constraints.append(constraint)
    for factor in tree.problem.cost_factors:
        found = tree.bag_containing(factor.scope)
        if found is None:  # pragma: no cover - factor scopes are cliques of the graph
            raise AssertionError(f"no bag holds the scope of {factor.source}")
        bags[found].cost_factors.append(factor)
