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

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import networkx as nx
import numpy as np
from networkx.algorithms.approximation import treewidth_min_degree, treewidth_min_fill_in

from .._errors import LimitExceeded
from ._kernels import Flat, flatten
from ._problem import Constraint, Factor, Problem

__all__ = ["Bag", "Tree", "build_tree"]

Key = Any  # a separator key: a scalar value index, a tuple of them, or ()
#: Costs at least this large (minor units) are kept as Python integers.
_INT64_COST = 1 << 62
#: Largest number of tuples one bag may hold.
BAG_LIMIT = 5_000_000


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


@dataclass
class Bag:
    """One node of the rooted tree decomposition."""

    vars: tuple[int, ...]
    parent: int = -1
    children: list[int] = field(default_factory=list)
    owned: tuple[int, ...] = ()  # positions (in vars) of the variables this bag introduces
    # the key this bag shares with its parent
    sep: Callable[[tuple[int, ...]], Key] = field(default_factory=lambda: _projector(()))
    child_keys: list[Callable[[tuple[int, ...]], Key]] = field(default_factory=list)
    child_positions: list[list[int]] = field(default_factory=list)
    constraints: list[tuple[Constraint, Callable[[tuple[int, ...]], Key]]] = field(
        default_factory=list
    )
    cost_factors: list[tuple[Factor, Callable[[tuple[int, ...]], Key]]] = field(
        default_factory=list
    )
    tuples: list[tuple[int, ...]] = field(default_factory=list)
    cost: list[int] = field(default_factory=list)
    # Array views, tuples sorted by separator key (see _arrays):
    values: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    sep_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sep_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sep_keys: list[Key] = field(default_factory=list)
    child_index: list[np.ndarray] = field(default_factory=list)
    # per child: this bag's tuples sorted by the child's separator id, and group starts
    child_order: list[np.ndarray] = field(default_factory=list)
    child_starts: list[np.ndarray] = field(default_factory=list)
    # per owned position: tuples sorted by value, group starts, and the values present
    value_groups: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    cost_array: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


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
    def flat(self) -> Flat:
        """The bags laid end to end for the compiled passes (built once)."""
        if self._flat is None:
            self._flat = flatten(self)
        return self._flat

    @property
    def tuple_count(self) -> int:
        return sum(len(bag.tuples) for bag in self.bags)

    def bag_containing(self, scope: Sequence[int]) -> int | None:
        """The bag nearest the root that contains every variable of ``scope``."""
        wanted = set(scope)
        for index in self.preorder:
            if wanted <= set(self.bags[index].vars):
                return index
        return None


def _decompose(graph: nx.Graph) -> tuple[int, list[frozenset[int]], list[tuple[int, int]]]:
    """Bags and tree edges of one connected component, the narrower of two heuristics."""
    if graph.number_of_nodes() == 1:
        return 0, [frozenset(graph.nodes)], []
    best: tuple[int, Any] | None = None
    for heuristic in (treewidth_min_fill_in, treewidth_min_degree):
        width, decomposition = heuristic(graph)
        if best is None or width < best[0]:
            best = (width, decomposition)
    assert best is not None  # the loop ran twice
    width, decomposition = best
    # Drop bags contained in a neighbour: fewer, larger bags mean fewer joins.
    tree = nx.Graph(decomposition)
    merged = True
    while merged and tree.number_of_nodes() > 1:
        merged = False
        for node in list(tree.nodes):
            for neighbour in list(tree.neighbors(node)):
                if node <= neighbour:
                    for other in tree.neighbors(node):
                        if other != neighbour:
                            tree.add_edge(neighbour, other)
                    tree.remove_node(node)
                    merged = True
                    break
            if merged:
                break
    bags = list(tree.nodes)
    index = {bag: i for i, bag in enumerate(bags)}
    edges = [(index[a], index[b]) for a, b in tree.edges]
    return width, bags, edges


def build_tree(problem: Problem, *, extra_scopes: Sequence[Sequence[int]] = ()) -> Tree:
    """Decompose ``problem`` and materialise its consistent bag tuples.

    ``extra_scopes`` are scopes that later queries will attach to a single bag (a customer's
    multi-slot conditions or preferences): they are made cliques of the graph.
    """
    graph = nx.Graph()
    graph.add_nodes_from(range(problem.size))
    scopes = [c.scope for c in problem.constraints]
    scopes += [f.scope for f in (*problem.cost_factors, *problem.score_factors)]
    scopes += [tuple(scope) for scope in extra_scopes]
    for scope in scopes:
        graph.add_edges_from(itertools.combinations(scope, 2))
    bags: list[Bag] = [Bag(vars=())]  # the virtual root joins the components
    width = 0
    for component in nx.connected_components(graph):
        sub = graph.subgraph(component)
        component_width, node_sets, edges = _decompose(sub)
        width = max(width, component_width)
        offset = len(bags)
        for node_set in node_sets:
            bags.append(Bag(vars=tuple(sorted(node_set))))
        adjacency: dict[int, list[int]] = {i: [] for i in range(len(node_sets))}
        for a, b in edges:
            adjacency[a].append(b)
            adjacency[b].append(a)
        root = max(range(len(node_sets)), key=lambda i: len(node_sets[i]))
        bags[offset + root].parent = 0
        bags[0].children.append(offset + root)
        stack = [root]
        seen = {root}
        while stack:
            node = stack.pop()
            for other in adjacency[node]:
                if other not in seen:
                    seen.add(other)
                    bags[offset + other].parent = offset + node
                    bags[offset + node].children.append(offset + other)
                    stack.append(other)
    preorder = _preorder(bags)
    owner: list[tuple[int, int]] = [(-1, -1)] * problem.size
    for index in preorder:
        bag = bags[index]
        parent_vars = set(bags[bag.parent].vars) if bag.parent >= 0 else set()
        shared = [v for v in bag.vars if v in parent_vars]
        bag.owned = tuple(p for p, v in enumerate(bag.vars) if v not in parent_vars)
        for position in bag.owned:
            owner[bag.vars[position]] = (index, position)
        bag.sep = _projector([bag.vars.index(v) for v in shared])
        if bag.parent >= 0:
            parent = bags[bag.parent]
            positions = [parent.vars.index(v) for v in shared]
            parent.child_positions.append(positions)
            parent.child_keys.append(_projector(positions))
    tree = Tree(problem, bags, preorder, owner, width)
    _assign(tree)
    _materialise(tree)
    return tree


def _preorder(bags: list[Bag]) -> list[int]:
    order, stack = [], [0]
    while stack:
        index = stack.pop()
        order.append(index)
        stack.extend(reversed(bags[index].children))
    # child_keys are appended in preorder of the parent's children: keep children sorted alike
    return order


def _assign(tree: Tree) -> None:
    bags = tree.bags
    for constraint in tree.problem.constraints:
        wanted = set(constraint.scope)
        for bag in bags:
            if wanted <= set(bag.vars):
                positions = [bag.vars.index(v) for v in constraint.scope]
                bag.constraints.append((constraint, tuple_projector(positions)))
    for factor in tree.problem.cost_factors:
        index = tree.bag_containing(factor.scope)
        if index is None:  # pragma: no cover - factor scopes are cliques of the graph
            raise AssertionError(f"no bag holds the scope of {factor.source}")
        bag = bags[index]
        bag.cost_factors.append(
            (factor, tuple_projector([bag.vars.index(v) for v in factor.scope]))
        )


def _materialise(tree: Tree) -> None:
    """Build each bag's consistent tuples bottom-up, then semi-join top-down."""
    bags, problem = tree.bags, tree.problem
    supports: dict[int, set[Key]] = {}
    for index in reversed(tree.preorder):
        bag = bags[index]
        child_checks = [
            (positions, supports[child])
            for child, positions in zip(bag.children, bag.child_positions, strict=True)
        ]
        bag.tuples = _join(bag, problem, child_checks)
        supports[index] = {bag.sep(t) for t in bag.tuples}
    for index in tree.preorder:
        bag = bags[index]
        for child, key in zip(bag.children, bag.child_keys, strict=True):
            present = {key(t) for t in bag.tuples}
            child_bag = bags[child]
            child_bag.tuples = [t for t in child_bag.tuples if child_bag.sep(t) in present]
    for index in tree.preorder:
        bag = bags[index]
        unary = [(p, problem.domains[bag.vars[p]].cost) for p in bag.owned]
        costs = []
        for t in bag.tuples:
            total = sum(cost[t[p]] for p, cost in unary)
            for factor, key in bag.cost_factors:
                total += factor.table.get(key(t), 0)
            costs.append(total)
        bag.cost = costs
    _arrays(tree)


def _arrays(tree: Tree) -> None:
    """Sort every bag's tuples by separator key and index them for vectorised passes.

    ``sep_ids[i]`` numbers the separator key of tuple ``i`` (groups are contiguous, starting at
    ``sep_starts``); ``child_index[j][i]`` is the separator id, in child ``j``, of the key tuple
    ``i`` shares with that child.
    """
    bags = tree.bags
    for bag in bags:
        order = sorted(range(len(bag.tuples)), key=lambda i: _sortable(bag.sep(bag.tuples[i])))
        bag.tuples = [bag.tuples[i] for i in order]
        bag.cost = [bag.cost[i] for i in order]
        keys: dict[Key, int] = {}
        ids = []
        for t in bag.tuples:
            ids.append(keys.setdefault(bag.sep(t), len(keys)))
        bag.sep_keys = list(keys)
        bag.sep_ids = np.asarray(ids, dtype=np.int64)
        bag.sep_starts = _group_starts(bag.sep_ids)
        width = len(bag.vars)
        bag.values = np.asarray(bag.tuples, dtype=np.int64).reshape(len(bag.tuples), width)
        small = all(-_INT64_COST < c < _INT64_COST for c in bag.cost)
        bag.cost_array = np.asarray(bag.cost, dtype=np.int64 if small else object)
        bag.cost_array.flags.writeable = False
    tree.cost_span = sum(max(b.cost, default=0) - min(b.cost, default=0) for b in bags) + 1
    tree.cost_magnitude = sum(max((abs(c) for c in b.cost), default=0) for b in bags) + 1
    for bag in bags:
        bag.child_index, bag.child_order, bag.child_starts = [], [], []
        for child, key in zip(bag.children, bag.child_keys, strict=True):
            lookup = {k: i for i, k in enumerate(bags[child].sep_keys)}
            child_ids = np.asarray([lookup[key(t)] for t in bag.tuples], dtype=np.int64)
            by_child = np.argsort(child_ids, kind="stable")
            bag.child_index.append(child_ids)
            bag.child_order.append(by_child)
            bag.child_starts.append(_group_starts(child_ids[by_child]))
        bag.value_groups = {}
        for position in bag.owned:
            column = bag.values[:, position]
            by_value = np.argsort(column, kind="stable")
            group_starts = _group_starts(column[by_value])
            bag.value_groups[position] = (by_value, group_starts, column[by_value][group_starts])


def _group_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in a sorted array."""
    if not len(ordered):
        return np.zeros(0, dtype=np.int64)
    changes = np.empty(len(ordered), dtype=bool)
    changes[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=changes[1:])
    return np.flatnonzero(changes)


def _sortable(key: Key) -> tuple[int, ...]:
    if isinstance(key, tuple):
        return key
    return (key,)


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
        ok = all(() in c.allowed for c, _ in bag.constraints)
        return [()] if ok and all(() in support for _, support in child_checks) else []
    degree = [0] * size
    for constraint, _ in bag.constraints:
        for v in constraint.scope:
            degree[bag.vars.index(v)] += 1
    order = sorted(range(size), key=lambda p: (-degree[p], len(problem.values(bag.vars[p]))))
    rank = {p: i for i, p in enumerate(order)}
    relations: list[tuple[list[int], list[tuple[int, ...]]]] = []
    for constraint, _ in bag.constraints:
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
            if len(result) > BAG_LIMIT:
                raise LimitExceeded(
                    f"a bag of {size} slots holds more than {BAG_LIMIT} consistent "
                    "combinations; the catalog's rules tie too many slots together for "
                    "compilation (split rules that span many slots into smaller ones)"
                )
        else:
            iterators.append(iter(candidates(depth + 1)))
    return result
