"""Tree decompositions of a graph from an elimination order: min-degree and min-fill.

A graph is a dict from each node to the set of its neighbours. Eliminating a node joins its
neighbours into a clique and removes it; the node and its neighbours at that moment form its
*bag*. The two greedy heuristics of Bodlaender and Koster ("Treewidth computations I. Upper
bounds", 2010) choose the next node: the one with fewest neighbours (min-degree), or the one
whose elimination adds fewest edges (min-fill). Elimination stops when what is left is a
clique: its nodes form the root bag. Each other bag hangs under the bag of its neighbour
eliminated first after it (or under the root when all its neighbours are in the root): that
neighbour's bag holds the rest of its neighbours, so every edge lies in a bag and the bags of
any one node form a subtree.

These are the heuristics of networkx's ``treewidth_min_degree`` and ``treewidth_min_fill_in``,
with the same choices of node (ties broken the same way, up to the iteration order of a set
of neighbours, which differs now and then: a min-degree width then differs by one); the tests
compare the widths with networkx's. They are written here because every first count of a
process decomposes a graph, and importing networkx costs a new process about 70 ms, a quarter
of what a small catalog's whole import, load, compile and count take (see docs/limits.md);
linking each bag to its parent directly also avoids networkx's search of every earlier bag
for one that holds it.

>>> graph = {0: {1, 2}, 1: {0, 2}, 2: {0, 1, 3}, 3: {2}}
>>> width, bags, edges = eliminate(graph, min_degree_order)
>>> width, sorted(sorted(bag) for bag in bags), edges
(2, [[0, 1, 2], [2, 3]], [(0, 1)])
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from heapq import heapify, heappop, heappush

__all__ = [
    "Graph",
    "Steps",
    "bfs_edges",
    "components",
    "eliminate",
    "min_degree_order",
    "min_fill_order",
]

#: Each node's neighbours (no node is its own neighbour).
Graph = dict[int, set[int]]
#: An elimination: each node eliminated, in order, with its neighbours then.
Steps = list[tuple[int, set[int]]]
#: A heuristic: eliminates nodes from the graph it is given (the nodes it leaves form the
#: root bag) and returns its steps.
Heuristic = Callable[[Graph], Steps]


def components(graph: Graph) -> Iterator[list[int]]:
    """The connected components of ``graph``, each in breadth-first order from its first node
    (in the graph's order), the components in the order of their first nodes."""
    seen: set[int] = set()
    for start in graph:
        if start in seen:
            continue
        seen.add(start)
        component = [start]
        for node in component:  # the list grows as it is read: a breadth-first search
            for other in graph[node]:
                if other not in seen:
                    seen.add(other)
                    component.append(other)
        yield component


def bfs_edges(graph: Graph, root: int) -> Iterator[tuple[int, int]]:
    """The (parent, child) edges of a breadth-first search of ``graph`` from ``root``."""
    seen = {root}
    queue = [root]
    for node in queue:
        for other in graph[node]:
            if other not in seen:
                seen.add(other)
                queue.append(other)
                yield node, other


def _eliminate_node(graph: Graph, node: int) -> set[int]:
    """Remove ``node`` from ``graph``, joining its neighbours into a clique; its neighbours."""
    neighbours = graph.pop(node)
    for other in neighbours:
        adjacent = graph[other]
        adjacent |= neighbours
        adjacent.discard(other)
        adjacent.discard(node)
    return neighbours


def min_degree_order(graph: Graph) -> Steps:
    """Eliminate (from ``graph``, which it changes) a node of fewest neighbours at each step,
    ties going to the node that has had its current degree longest; stop at a clique."""
    counter = itertools.count()
    queue = [(len(graph[node]), next(counter), node) for node in graph]
    heapify(queue)
    steps: Steps = []
    while queue:
        degree, _, node = heappop(queue)
        if node not in graph or len(graph[node]) != degree:
            continue  # an entry from before the node's degree changed
        if degree == len(graph) - 1:
            break  # what is left is a clique
        neighbours = _eliminate_node(graph, node)
        steps.append((node, neighbours))
        for other in neighbours:
            heappush(queue, (len(graph[other]), next(counter), other))
    return steps


def min_fill_order(graph: Graph) -> Steps:
    """Eliminate (from ``graph``, which it changes) the node whose neighbours lack fewest
    edges between them at each step, looking at nodes by increasing degree (the first with
    none missing is taken at once); stop at a clique. Quadratic in the nodes: for small
    graphs."""
    steps: Steps = []
    while graph:
        by_degree = sorted(graph, key=lambda n: len(graph[n]))
        if len(graph[by_degree[0]]) == len(graph) - 1:
            break  # what is left is a clique
        best, best_missing = by_degree[0], -1
        for node in by_degree:
            neighbours = graph[node]
            missing = 0  # twice the edges missing among the neighbours
            for other in neighbours:
                missing += len(neighbours - graph[other]) - 1
                if best_missing >= 0 and missing >= best_missing:
                    break
            if best_missing < 0 or missing < best_missing:
                best, best_missing = node, missing
                if missing == 0:
                    break
        steps.append((best, _eliminate_node(graph, best)))
    return steps


def eliminate(
    graph: Graph, heuristic: Heuristic
) -> tuple[int, list[frozenset[int]], list[tuple[int, int]]]:
    """The width, bags and (parent, child) edges of the decomposition ``heuristic``'s order
    gives (see the module); bag 0 is the root. ``graph`` is left as it was."""
    work = {node: set(neighbours) for node, neighbours in graph.items()}
    steps = heuristic(work)
    position = {node: i for i, (node, _) in enumerate(steps)}
    bags_of_order = [frozenset((node, *neighbours)) for node, neighbours in steps]
    # per eliminated node: its first eliminated neighbour (all are eliminated after it), or -1
    above = [
        min((position[other] for other in neighbours if other in position), default=-1)
        for _, neighbours in steps
    ]
    root = frozenset(work)
    # bags listed root first, then in reverse elimination order: each after its parent
    count = len(steps)
    bags = [root, *reversed(bags_of_order)]
    edges = [(0 if above[i] < 0 else count - above[i], count - i) for i in reversed(range(count))]
    width = max(len(bag) for bag in bags) - 1
    return width, bags, edges
