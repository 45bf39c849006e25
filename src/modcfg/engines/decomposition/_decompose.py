"""Tree decomposition of a problem's primal graph: which slots share a bag, and the tree.

Builds the primal graph (slots as nodes, rule scopes and the scopes later queries attach as
cliques), splits it into connected components and decomposes each with the min-degree or
min-fill heuristic of :mod:`._elimination` (whichever is narrower; a tree gets one bag per
edge), then
merges neighbouring bags that are small or contained in one another. Only shapes are made
here: :func:`._tree.build_tree` turns them into :class:`~._tree.Bag` objects and materialises
their tuples.

Slots that their rules fix to one value and tie to no other slot (a feature model's dead and
core features, fixed by unit clauses) share one bag of one row, a child of the root: a
Linux-style model has 925 of them, which would otherwise cost 925 bags in every pass.

Invariants of :func:`decomposition`: bag 0 is the virtual root with no variables, parent of
each component's largest bag (and of the fixed slots' bag, which the width leaves out: it
holds one combination); every scope is contained in some bag; the bags holding any one
slot form a connected subtree; ``links`` lists (parent, child) pairs in the order children
are attached, and ``preorder`` visits children in that order.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from math import prod
from typing import TYPE_CHECKING

from ._elimination import Graph, bfs_edges, components, eliminate, min_degree_order, min_fill_order

if TYPE_CHECKING:
    from ...lower._problem import Problem

__all__ = ["Decomposition", "decomposition"]

#: Components up to this many slots also try the min-fill heuristic (narrower at times,
#: slower than min-degree on large graphs).
_MIN_FILL_NODES = 64
#: Neighbouring bags are merged while the merged bag has at most this many value
#: combinations (before rules).
_SMALL_MERGE = 64
#: A bag's children are grouped under bags of their separators (see
#: :func:`_group_children`) when it has at least this many children and this many value
#: combinations (before rules): in a small bag, or one with few children, the lookups saved
#: are fewer than the steps a bag more adds to every search that walks the tree.
_HUB_CHILDREN = 8
_HUB_COMBINATIONS = 1 << 16
#: Children are grouped under separators of at most this many value combinations (so a
#: group bag is small whatever its children allow; large separators stay direct children).
_GROUP_COMBINATIONS = 1 << 12
#: Children whose separators no other separator holds are packed into groups whose
#: separators' union has at most this many value combinations (see :func:`_packs`).
_PACK_COMBINATIONS = 1 << 10


#: The width, the bags' variables, the (parent, child) links and the bags in preorder.
Decomposition = tuple[int, list[tuple[int, ...]], list[tuple[int, int]], list[int]]


def decomposition(
    problem: Problem, extra_scopes: Sequence[Sequence[int]] = (), *, fill_in: bool = False
) -> Decomposition:
    """The width, each bag's variables (sorted; bag 0 the virtual root), the (parent, child)
    links in attachment order and the bags in preorder of a decomposition of ``problem``
    (``extra_scopes``: scopes that later queries will attach to a single bag). ``fill_in``:
    decompose every component with the min-fill heuristic, whatever its size (see
    :func:`_decompose`)."""
    graph: Graph = {node: set() for node in range(problem.size)}
    scopes = [c.scope for c in problem.constraints]
    scopes += [f.scope for f in (*problem.cost_factors, *problem.score_factors)]
    scopes += [tuple(scope) for scope in extra_scopes]
    for scope in scopes:
        for a, b in itertools.combinations(scope, 2):
            if a != b:
                graph[a].add(b)
                graph[b].add(a)
    bags: list[tuple[int, ...]] = [()]  # the virtual root joins the components
    links: list[tuple[int, int]] = []
    sizes = [max(1, sum(row)) for row in problem.allowed]
    width = 0
    edges: list[tuple[int, int]]
    fixed: list[int] = []  # slots with one value that no rule ties to another
    for component in components(graph):
        if len(component) == 1 and sizes[next(iter(component))] == 1:
            fixed.extend(component)
            continue
        if len(component) == 1:  # a slot no rule ties to another: one bag of its own
            component_width, node_sets, edges = 0, [frozenset(component)], []
        else:
            # its nodes in the graph's order: the heuristics break ties by that order
            sub = {node: graph[node] for node in sorted(component)}
            component_width, node_sets, edges = _decompose(sub, sizes, fill_in=fill_in)
        width = max(width, component_width)
        offset = len(bags)
        for node_set in node_sets:
            bags.append(tuple(sorted(node_set)))
        adjacency: dict[int, list[int]] = {i: [] for i in range(len(node_sets))}
        for a, b in edges:
            adjacency[a].append(b)
            adjacency[b].append(a)
        root = max(range(len(node_sets)), key=lambda i: len(node_sets[i]))
        links.append((0, offset + root))
        stack = [root]
        seen = {root}
        while stack:
            node = stack.pop()
            for other in adjacency[node]:
                if other not in seen:
                    seen.add(other)
                    links.append((offset + node, offset + other))
                    stack.append(other)
    if fixed:  # all in one bag of one row
        links.append((0, len(bags)))
        bags.append(tuple(sorted(fixed)))
    children: list[list[int]] = [[] for _ in bags]
    for parent, child in links:
        children[parent].append(child)
    _group_children(bags, children, sizes)
    links = [(parent, child) for parent, below in enumerate(children) for child in below]
    return width, bags, links, _preorder(children)


def _group_children(
    bags: list[tuple[int, ...]], children: list[list[int]], sizes: Sequence[int]
) -> None:
    """Hang children that share few of their parent's variables under a bag of just those.

    Every pass looks up, per row of a bag and per child, the child's message for that row: a
    bag of 40,000 rows with 126 children (an eCos feature model's root) makes 5 million
    lookups a pass. Children whose separators lie within one separator ``S`` smaller than
    the parent (the largest such, under inclusion) are moved under a new bag of ``S``'s
    variables, a child of the parent: the parent then looks up one message per row for the
    whole group, and the new bag, whose rows are the few combinations of ``S``, looks up its
    children's. Each child keeps its separator (it shares ``S`` or less with the new bag), so
    the tree stays a decomposition of the same width; new bags are grouped in turn. The
    children left whose separators are small are then packed under bags of their separators'
    unions (:func:`_packs`; a union is a subset of the parent, so the same holds). Changes
    ``bags`` and ``children`` in place (new bags are appended). Only large bags with many
    children are grouped (``_HUB_CHILDREN``, ``_HUB_COMBINATIONS``; ``sizes``: each variable's
    number of allowed values)."""
    pending = list(range(len(bags)))
    while pending:
        parent = pending.pop()
        below = children[parent]
        if (
            len(below) < _HUB_CHILDREN
            or prod(sizes[var] for var in bags[parent]) < _HUB_COMBINATIONS
        ):
            continue
        own = frozenset(bags[parent])
        separators = {child: own.intersection(bags[child]) for child in below}
        # the largest separators under inclusion among the small ones (a group bag holds the
        # combinations of its slots that its children allow: few, by their number of value
        # combinations), smaller than the parent (so each new bag has fewer slots than its
        # parent, and grouping ends); empty ones (the virtual root's components) share nothing
        candidates = sorted(
            {
                sep
                for sep in separators.values()
                if sep and sep != own and prod(sizes[var] for var in sep) <= _GROUP_COMBINATIONS
            },
            key=len,
        )
        largest = [s for i, s in enumerate(candidates) if not any(s < t for t in candidates[i:])]
        groups: dict[frozenset[int], list[int]] = {}
        for child in below:
            sep = separators[child]
            host = next((s for s in largest if sep and sep <= s), None)
            if host is not None:
                groups.setdefault(host, []).append(child)
        for host, members in groups.items():
            if len(members) >= 2:
                pending.append(_adopt(bags, children, parent, host, members))
        # then the children left (group bags among them) whose separators no other holds
        separators = {child: own.intersection(bags[child]) for child in children[parent]}
        loose = [child for child in children[parent] if separators[child]]
        for host, members in _packs(loose, separators, sizes, own):
            pending.append(_adopt(bags, children, parent, host, members))


def _adopt(
    bags: list[tuple[int, ...]],
    children: list[list[int]],
    parent: int,
    host: frozenset[int],
    members: list[int],
) -> int:
    """A new bag of ``host``'s variables, a child of ``parent`` in the place of ``members``,
    which become its children; its index."""
    new = len(bags)
    bags.append(tuple(sorted(host)))
    children.append(members)
    kept = set(members)
    children[parent] = [child for child in children[parent] if child not in kept]
    children[parent].append(new)
    return new


def _packs(
    loose: list[int],
    separators: dict[int, frozenset[int]],
    sizes: Sequence[int],
    parent: frozenset[int],
) -> list[tuple[frozenset[int], list[int]]]:
    """Children left ungrouped whose separators are small, packed into groups whose
    separators' union has at most :data:`_PACK_COMBINATIONS` value combinations (a bag of
    that union, a child of the parent, can hold them as a shared separator would). Feature
    models give hubs whose children each share one or two different slots with them: an eCos
    model's 28,000-row bag keeps 20 such children after grouping, 8 after packing, and its
    session's downward pass takes 10 ms, not 18. Children are taken in the order of their
    separators (neighbouring slots often share parents in a model's hierarchy). A union is
    smaller than the ``parent``'s variables (so a new bag has fewer slots than its parent, and
    grouping ends)."""

    def too_large(union: frozenset[int]) -> bool:
        return union == parent or prod(sizes[var] for var in union) > _PACK_COMBINATIONS

    packs: list[tuple[frozenset[int], list[int]]] = []
    union: frozenset[int] = frozenset()
    members: list[int] = []
    for child in sorted(loose, key=lambda c: sorted(separators[c])):
        separator = separators[child]
        if too_large(separator):
            continue  # too large to share a bag with another: stays a direct child
        joined = union | separator
        if too_large(joined):
            if len(members) >= 2:
                packs.append((union, members))
            joined, members = separator, []
        union = joined
        members.append(child)
    if len(members) >= 2:
        packs.append((union, members))
    return packs


def _preorder(children: list[list[int]]) -> list[int]:
    order, stack = [], [0]
    while stack:
        index = stack.pop()
        order.append(index)
        stack.extend(reversed(children[index]))
    # child_keys are appended in preorder of the parent's children: keep children sorted alike
    return order


def _decompose(
    graph: Graph, sizes: Sequence[int], *, fill_in: bool = False
) -> tuple[int, list[frozenset[int]], list[tuple[int, int]]]:
    """Bags and tree edges of one connected component, the narrower of two heuristics
    (``sizes``: each variable's number of allowed values, for merging small bags). A large
    component gets min-degree alone, unless ``fill_in``: min-fill finds narrower trees at
    times (an eCos model: width 28 against 31), but takes 0.1 s on a thousand slots and
    their rules do not always keep its bags smaller (another eCos model: twice as many
    rows)."""
    if len(graph) == 1:
        return 0, [frozenset(graph)], []
    if sum(map(len, graph.values())) == 2 * (len(graph) - 1):  # connected: a tree
        bags, edges = _merged(*_tree_decomposition(graph), sizes)
        return max(len(bag) for bag in bags) - 1, bags, edges
    width, nodes, links = eliminate(graph, min_degree_order)
    if fill_in or len(graph) <= _MIN_FILL_NODES:
        fill_width, fill_nodes, fill_links = eliminate(graph, min_fill_order)
        if fill_width <= width:
            width, nodes, links = fill_width, fill_nodes, fill_links
    bags, edges = _merged(nodes, links, sizes)
    width = max(width, max(len(bag) for bag in bags) - 1)
    return width, bags, edges


def _tree_decomposition(graph: Graph) -> tuple[list[frozenset[int]], list[tuple[int, int]]]:
    """The width-1 decomposition of a tree: one bag per edge, each joined to the bag of
    its parent's edge (the root's edges to the first of them)."""
    root = next(iter(graph))
    bags: list[frozenset[int]] = []
    edges: list[tuple[int, int]] = []
    above: dict[int, int] = {}  # node -> the bag of the edge to its parent
    for parent, child in bfs_edges(graph, root):
        link = above.get(parent, 0 if bags else -1)  # the root's edges: the first one's bag
        if link >= 0:
            edges.append((len(bags), link))
        above[child] = len(bags)
        bags.append(frozenset((parent, child)))
    return bags, edges


def _merged(
    bags: list[frozenset[int]], edges: list[tuple[int, int]], sizes: Sequence[int]
) -> tuple[list[frozenset[int]], list[tuple[int, int]]]:
    """The decomposition with neighbouring bags merged: a bag contained in a neighbour, and
    two neighbours whose union has at most ``_SMALL_MERGE`` value combinations (before
    rules). The union of two neighbours, joined to both one's neighbours, keeps the tree a
    decomposition; fewer bags mean fewer joins and less bookkeeping per bag in every pass
    (feature models give long chains of two-slot bags)."""
    bags = list(bags)
    adjacency: list[set[int]] = [set() for _ in bags]
    for a, b in edges:
        adjacency[a].add(b)
        adjacency[b].add(a)
    alive = [True] * len(bags)
    size_of = sizes.__getitem__
    combinations = [prod(map(size_of, bag)) for bag in bags]
    # one pass: a bag absorbs its neighbours, then the neighbours it gains (a bag only grows,
    # so a neighbour it could not absorb before stays out)
    for i in range(len(bags)):
        if not alive[i]:
            continue
        pending = sorted(adjacency[i], reverse=True)
        while pending:
            j = pending.pop()
            if not alive[j] or j not in adjacency[i]:
                continue
            union = bags[i] | bags[j]
            size = len(union)
            if size == len(bags[i]):
                product = combinations[i]  # j is contained in i
            elif size == len(bags[j]):
                product = combinations[j]  # i is contained in j
            else:  # the shared variables count once
                product = combinations[i] * combinations[j] // prod(map(size_of, bags[i] & bags[j]))
                if product > _SMALL_MERGE:
                    continue
            bags[i] = union
            combinations[i] = product
            for k in adjacency[j]:
                if k != i:
                    adjacency[k].discard(j)
                    adjacency[k].add(i)
                    if k not in adjacency[i]:
                        adjacency[i].add(k)
                        pending.append(k)
            adjacency[i].discard(j)
            adjacency[j] = set()
            alive[j] = False
    kept = [i for i in range(len(bags)) if alive[i]]
    index = {old: new for new, old in enumerate(kept)}
    edges = [(index[i], index[j]) for i in kept for j in adjacency[i] if i < j]
    return [bags[i] for i in kept], edges
