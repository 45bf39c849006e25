"""The decomposition engine: a rooted tree decomposition with sparse bag relations.

Compiling builds the primal graph (slots as nodes, rule scopes as cliques) with networkx,
splits it into connected components, and computes a tree decomposition of each with the
min-fill or min-degree heuristic (whichever is narrower). A virtual root bag joins the
components, so independent parts multiply. Each bag stores only the value tuples that are
consistent with every rule inside its subtree (built bottom-up, pruning with the supports of
its children, then semi-joined top-down), so bag tables are sized by what is possible, not by
the product of domains.

Queries then walk the stored tuples: an upward pass gives, per tuple, the exact number of
completions of its subtree and the cheapest one; a downward pass gives the same for the
outside, hence exact per-option counts and from-prices (all marginals in two passes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from math import prod
from operator import itemgetter
from typing import Any, NoReturn

import numpy as np

from ..._errors import LimitExceeded
from ..._memory import ENTRY_BYTES, describe_slots, refuse
from ...lower._problem import Constraint, Factor, Problem
from ._build import materialise
from ._decompose import decomposition
from ._join import Lookup, encode, join
from ._layout import Flat, flatten

__all__ = ["Bag", "Tree", "build_tree"]

Key = Any  # a separator key: a scalar value index, a tuple of them, or ()
#: Costs at least this large (minor units) are kept as Python integers.
_INT64_COST = 1 << 62
#: Bags with at most this many value combinations are joined value by value (no arrays).
_SMALL_BAG = 64
#: Partial rows the array join may hold before a bag is joined value by value instead.
JOIN_STEP_LIMIT = 1 << 21
#: Largest number of tuples one bag may hold.
BAG_LIMIT = 5_000_000
#: Bytes of one bag row held as a Python tuple, besides its entries (header and list slot).
_TUPLE_BYTES = 64
#: Materialise bags with the compiled kernel where it applies (tests compare both paths).
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
        return lambda _t: ()
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


@dataclass
class Tree:
    """A rooted tree decomposition of a :class:`Problem` with its consistent bag tuples."""

    problem: Problem
    bags: list[Bag]
    preorder: list[int]
    owner: list[tuple[int, int]]  # var -> (bag, position in the bag)
    width: int
    cost_span: int = 1  # above any difference of two solutions' costs
    cost_magnitude: int = 1  # above any solution's absolute cost
    _flat: Flat | None = field(default=None, repr=False)

    @property
    def constraint_ids(self) -> frozenset[int]:
        """The identities of the problem's constraints (queries add theirs on top)."""
        ids = self.__dict__.get("_constraint_ids")
        if ids is None:
            ids = self.__dict__["_constraint_ids"] = frozenset(
                id(c) for c in self.problem.constraints
            )
        return ids

    @property
    def flat(self) -> Flat:
        """The bags laid end to end for the compiled passes (built once)."""
        if self._flat is None:
            self._flat = flatten(self)
        return self._flat

    def bag_containing(self, scope: Sequence[int]) -> int | None:
        """The bag nearest the root that contains every variable of ``scope``."""
        wanted = set(scope)
        for index in self.preorder:
            if wanted <= set(self.bags[index].vars):
                return index
        return None


def build_tree(problem: Problem, *, extra_scopes: Sequence[Sequence[int]] = ()) -> Tree:
    """Decompose ``problem`` and materialise its consistent bag tuples.

    ``extra_scopes`` are scopes that later queries will attach to a single bag (a customer's
    multi-slot conditions or preferences): they are made cliques of the graph.
    """
    width, bag_vars, links, preorder = decomposition(problem, extra_scopes)
    bags = [Bag(vars=variables) for variables in bag_vars]
    for above, below in links:
        bags[below].parent = above
        bags[above].children.append(below)
    owner: list[tuple[int, int]] = [(-1, -1)] * problem.size
    for index in preorder:
        bag = bags[index]
        parent_vars = set(bags[bag.parent].vars) if bag.parent >= 0 else set()
        shared = [v for v in bag.vars if v in parent_vars]
        bag.owned = tuple(p for p, v in enumerate(bag.vars) if v not in parent_vars)
        for position in bag.owned:
            owner[bag.vars[position]] = (index, position)
        bag.sep_positions = [bag.vars.index(v) for v in shared]
        if bag.parent >= 0:
            parent = bags[bag.parent]
            parent.child_positions.append([parent.vars.index(v) for v in shared])
    tree = Tree(problem, bags, preorder, owner, width)
    _assign(tree)
    _materialise(tree)
    return tree


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


def _materialise(tree: Tree) -> None:
    """Build each bag's consistent tuples bottom-up, then semi-join top-down."""
    if COMPILED and materialise(tree, bag_limit=BAG_LIMIT):
        return
    bags, problem = tree.bags, tree.problem
    sizes = [len(domain.choices) for domain in problem.domains]
    lookups: dict[int, Lookup] = {}

    def allows(constraint: Constraint) -> Lookup:
        found = lookups.get(id(constraint))
        if found is None:
            rows = constraint.rows
            found = lookups[id(constraint)] = Lookup(rows, [sizes[v] for v in constraint.scope])
        return found

    supports: dict[int, np.ndarray] = {}  # bag -> its distinct separator keys (rows)
    for index in reversed(tree.preorder):
        bag = bags[index]
        if prod(len(problem.values(v)) for v in bag.vars) <= _SMALL_BAG:
            bag.values = _small_bag_rows(bag, problem, supports)
        else:
            relations: list[tuple[list[int], Lookup]] = [
                ([bag.vars.index(v) for v in constraint.scope], allows(constraint))
                for constraint in bag.constraints
            ]
            for child, positions in zip(bag.children, bag.child_positions, strict=True):
                key_sizes = [sizes[bag.vars[p]] for p in positions]
                relations.append((positions, Lookup(supports[child], key_sizes)))
            bag.values = _bag_rows(bag, problem, relations, supports)
        sep_sizes = [sizes[bag.vars[p]] for p in bag.sep_positions]
        supports[index] = _distinct(bag.values[:, bag.sep_positions], sep_sizes)
    for index in tree.preorder:
        bag = bags[index]
        for child, positions in zip(bag.children, bag.child_positions, strict=True):
            child_bag = bags[child]
            present = Lookup(bag.values[:, positions], [sizes[bag.vars[p]] for p in positions])
            child_bag.values = child_bag.values[
                present(child_bag.values[:, child_bag.sep_positions])
            ]
    _costs(tree)
    _arrays(tree)


def _distinct(rows: np.ndarray, sizes: list[int]) -> np.ndarray:
    """The distinct rows of ``rows`` (columns of the given domain sizes), sorted."""
    if rows.shape[1] == 0:
        return rows[:1]
    _, first = np.unique(encode([rows], sizes)[0], return_index=True)
    distinct: np.ndarray = rows[first]
    return distinct


def _bag_rows(
    bag: Bag,
    problem: Problem,
    relations: list[tuple[list[int], Lookup]],
    supports: dict[int, np.ndarray],
) -> np.ndarray:
    """The bag's tuples that every relation allows (columns in the order of ``bag.vars``)."""
    size = len(bag.vars)
    degree = [0] * size
    for positions, _ in relations:
        for p in positions:
            degree[p] += 1
    order = sorted(range(size), key=lambda p: (-degree[p], len(problem.values(bag.vars[p]))))
    rank = {p: i for i, p in enumerate(order)}
    domains = [np.asarray(problem.values(bag.vars[p]), dtype=np.int64) for p in order]
    ranked = [([rank[p] for p in positions], test) for positions, test in relations]
    # partial rows are held a few times over while a column is added (repeated, tiled, joined)
    step_limit = min(JOIN_STEP_LIMIT, problem.memory_limit // (4 * ENTRY_BYTES * (size + 1)))
    rows = join(domains, ranked, step_limit)
    if rows is not None:
        restore = [rank[p] for p in range(size)]
        return rows[:, restore]
    # too many partial rows for the array join: try values one by one instead
    return _small_bag_rows(bag, problem, supports)


def _small_bag_rows(bag: Bag, problem: Problem, supports: dict[int, np.ndarray]) -> np.ndarray:
    """The bag's tuples by the value-by-value join (cheaper than arrays for tiny bags)."""
    child_checks = [
        (positions, {tuple(row) for row in supports[child].tolist()})
        for child, positions in zip(bag.children, bag.child_positions, strict=True)
    ]
    found = _join(bag, problem, child_checks)
    return np.asarray(found, dtype=np.int64).reshape(len(found), len(bag.vars))


def _costs(tree: Tree) -> None:
    """Each bag's tuple costs: its own variables' module prices plus its cost factors."""
    problem = tree.problem
    sizes = [len(domain.choices) for domain in problem.domains]
    largest = sum(max((abs(c) for c in domain.cost), default=0) for domain in problem.domains)
    largest += sum(max((abs(a) for a in f.table.values()), default=0) for f in problem.cost_factors)
    kind: Any = np.int64 if largest < _INT64_COST else object
    unit = [np.asarray(domain.cost, dtype=kind) for domain in problem.domains]
    for bag in tree.bags:
        cost = np.zeros(len(bag.values), dtype=kind)
        for p in bag.owned:
            cost += unit[bag.vars[p]][bag.values[:, p]]
        for factor in bag.cost_factors:
            positions = [bag.vars.index(v) for v in factor.scope]
            keys = list(factor.table)
            amounts = np.asarray([factor.table[k] for k in keys], dtype=kind)
            rows = np.asarray(keys, dtype=np.int64).reshape(len(keys), len(positions))
            scope_sizes = [sizes[v] for v in factor.scope]
            known, wanted = encode([rows, bag.values[:, positions]], scope_sizes)
            by_code = np.argsort(known)
            at = np.minimum(np.searchsorted(known[by_code], wanted), len(keys) - 1)
            hit = known[by_code][at] == wanted
            cost[hit] += amounts[by_code][at[hit]]
        bag.cost_array = cost


def _arrays(tree: Tree) -> None:
    """Sort every bag's tuples by separator key and index them for the passes."""
    bags, sizes = tree.bags, [len(domain.choices) for domain in tree.problem.domains]
    # per bag: its distinct separator keys in id order, as rows (big bags) or key -> id
    key_rows: list[np.ndarray | None] = []
    key_ids: list[dict[tuple[int, ...], int] | None] = []
    for bag in bags:
        rows = len(bag.values)
        if rows <= _SMALL_BAG:
            key_ids.append(_sort_small(bag))
            key_rows.append(None)
            continue
        if bag.sep_positions:
            sep_sizes = [sizes[bag.vars[p]] for p in bag.sep_positions]
            codes = encode([bag.values[:, bag.sep_positions]], sep_sizes)[0]
            order = np.argsort(codes, kind="stable")
            bag.values = bag.values[order]
            bag.cost_array = bag.cost_array[order]
            _, ids = np.unique(codes[order], return_inverse=True)
            bag.sep_ids = np.asarray(ids, dtype=np.int64).reshape(rows)
            bag.sep_starts = _group_starts(bag.sep_ids)
        else:  # one key, (), shared by every row
            bag.sep_ids = np.zeros(rows, dtype=np.int64)
            bag.sep_starts = np.zeros(min(rows, 1), dtype=np.int64)
        bag.cost_array.flags.writeable = False
        key_rows.append(bag.values[bag.sep_starts][:, bag.sep_positions])
        key_ids.append(None)
    for bag in bags:
        bag.child_index = []
        for child, positions in zip(bag.children, bag.child_positions, strict=True):
            known_rows, known_ids = key_rows[child], key_ids[child]
            if known_rows is None or len(bag.values) <= _SMALL_BAG:
                if known_ids is None:
                    assert known_rows is not None  # every bag has one of the two
                    known_ids = {tuple(r): i for i, r in enumerate(known_rows.tolist())}
                lookup = known_ids
                index = [lookup[tuple(row[p] for p in positions)] for row in bag.values.tolist()]
                bag.child_index.append(np.asarray(index, dtype=np.int64))
                continue
            key_sizes = [sizes[bag.vars[p]] for p in positions]
            known, wanted = encode([known_rows, bag.values[:, positions]], key_sizes)
            bag.child_index.append(np.searchsorted(known, wanted).astype(np.int64))
    costs = [bag.cost_array for bag in bags if len(bag.cost_array)]
    tree.cost_span = sum(int(c.max()) - int(c.min()) for c in costs) + 1
    tree.cost_magnitude = sum(max(abs(int(c.max())), abs(int(c.min()))) for c in costs) + 1


def _sort_small(bag: Bag) -> dict[tuple[int, ...], int]:
    """:func:`_arrays` for a bag of a few rows, without array operations; returns the ids of
    its separator keys."""
    rows = bag.values.tolist()
    positions = bag.sep_positions
    keys = [tuple(row[p] for p in positions) for row in rows]
    order = sorted(range(len(rows)), key=keys.__getitem__)
    ids: dict[tuple[int, ...], int] = {}
    sep_ids = [ids.setdefault(keys[i], len(ids)) for i in order]
    starts = [i for i, key_id in enumerate(sep_ids) if not i or sep_ids[i - 1] != key_id]
    width = len(bag.vars)
    bag.values = np.asarray([rows[i] for i in order], dtype=np.int64).reshape(len(rows), width)
    bag.cost_array = bag.cost_array[np.asarray(order, dtype=np.int64)]
    bag.cost_array.flags.writeable = False
    bag.sep_ids = np.asarray(sep_ids, dtype=np.int64)
    bag.sep_starts = np.asarray(starts, dtype=np.int64)
    return ids


def _group_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in a sorted array."""
    if not len(ordered):
        return np.zeros(0, dtype=np.int64)
    changes = np.empty(len(ordered), dtype=bool)
    changes[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=changes[1:])
    return np.flatnonzero(changes)


def _join(
    bag: Bag, problem: Problem, child_checks: list[tuple[list[int], set[Key]]]
) -> list[tuple[int, ...]]:
    """All tuples over the bag's variables allowed by its constraints and children.

    A depth-first join over the bag's variables (most constrained first). Every relation is
    indexed by the values of its other variables, so each step only tries the values that all
    relations completed at that step allow: no value is tried in vain (a generic join).
    """
    size = len(bag.vars)
    if size == 0:
        ok = all(() in c.allowed for c in bag.constraints)
        return [()] if ok and all(() in support for _, support in child_checks) else []
    degree = [0] * size
    for constraint in bag.constraints:
        for v in constraint.scope:
            degree[bag.vars.index(v)] += 1
    order = sorted(range(size), key=lambda p: (-degree[p], len(problem.values(bag.vars[p]))))
    rank = {p: i for i, p in enumerate(order)}
    relations: list[tuple[list[int], list[tuple[int, ...]]]] = []
    for constraint in bag.constraints:
        positions = [rank[bag.vars.index(v)] for v in constraint.scope]
        relations.append((positions, list(constraint.allowed)))
    for positions, support in child_checks:
        ranked = [rank[p] for p in positions]
        rows = [key if isinstance(key, tuple) else (key,) for key in support]
        relations.append((ranked, rows))
    domains = [problem.values(bag.vars[p]) for p in order]
    # indexes[d]: for each relation completed at depth d, (earlier depths, index: their
    # values -> the allowed values at depth d)
    indexes: list[list[tuple[list[int], dict[tuple[int, ...], set[int]]]]] = [
        [] for _ in range(size)
    ]
    for positions, rows in relations:
        if not positions:
            if () not in rows and rows != [()]:
                return []
            continue
        last = max(positions)
        at = positions.index(last)
        others = [i for i, _ in enumerate(positions) if i != at]
        earlier = [positions[i] for i in others]
        index: dict[tuple[int, ...], set[int]] = {}
        for row in rows:
            index.setdefault(tuple(row[i] for i in others), set()).add(row[at])
        indexes[last].append((earlier, index))
    allowed_sets = [set(domain) for domain in domains]
    result: list[tuple[int, ...]] = []
    row_bytes = _TUPLE_BYTES + size * ENTRY_BYTES  # a tuple of small ints, and its list entry
    row_limit = min(BAG_LIMIT, problem.memory_limit // row_bytes)
    partial = [0] * size
    restore = [rank[p] for p in range(size)]

    def candidates(depth: int) -> Iterable[int]:
        found: set[int] | None = None
        for earlier, index in indexes[depth]:
            values = index.get(tuple(partial[d] for d in earlier))
            if not values:
                return ()
            found = set(values) if found is None else found & values
            if not found:
                return ()
        if found is None:
            return domains[depth]
        return found & allowed_sets[depth]

    iterators = [iter(candidates(0))]
    while iterators:
        depth = len(iterators) - 1
        value = next(iterators[-1], None)
        if value is None:
            iterators.pop()
            continue
        partial[depth] = value
        if depth + 1 == size:
            result.append(tuple(partial[r] for r in restore))
            if len(result) > row_limit:
                _refuse_bag(bag, problem, len(result), row_bytes)
        else:
            iterators.append(iter(candidates(depth + 1)))
    return result


def _refuse_bag(bag: Bag, problem: Problem, rows: int, row_bytes: int) -> NoReturn:
    """Raise :class:`~modcfg.LimitExceeded`: ``bag`` holds ``rows`` rows and counting."""
    slots = describe_slots([problem.domains[var].slot for var in bag.vars])
    advice = (
        "the catalog's rules tie too many slots together for compilation; split rules that "
        "span many slots into smaller ones"
    )
    if rows * row_bytes > problem.memory_limit:
        what = f"the bag of {len(bag.vars)} slots ({slots}), {rows:,} rows so far,"
        refuse(rows * row_bytes, problem.memory_limit, what, advice, at_least=True)
    raise LimitExceeded(
        f"a bag of {len(bag.vars)} slots ({slots}) holds more than {BAG_LIMIT:,} consistent "
        f"combinations; {advice}"
    )
