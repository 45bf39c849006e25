"""The decomposition's elimination heuristics against networkx's, on random graphs.

:mod:`modcfg.engines.decomposition._elimination` writes the min-degree and min-fill heuristics
of ``networkx.algorithms.approximation`` anew (importing networkx would cost every new process
about 70 ms): its decompositions must be tree decompositions of the graph, and as narrow as
networkx's.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from modcfg.engines.decomposition._elimination import (
    Graph,
    components,
    eliminate,
    min_degree_order,
    min_fill_order,
)

from . import strategies


def _networkx_graph(graph: Graph) -> Any:
    import networkx as nx

    result = nx.Graph()
    result.add_nodes_from(graph)
    result.add_edges_from((a, b) for a in graph for b in graph[a] if a < b)
    return result


def _assert_decomposes(
    graph: Graph, bags: list[frozenset[int]], edges: list[tuple[int, int]]
) -> None:
    """``bags`` linked by ``edges`` form a tree decomposition of connected ``graph``."""
    assert len(edges) == len(bags) - 1
    reached = {0}
    for parent, child in edges:  # each bag after its parent: a tree rooted at bag 0
        assert parent in reached
        assert child not in reached
        reached.add(child)
    assert reached == set(range(len(bags)))
    assert set().union(*bags) == set(graph)
    for a in graph:
        for b in graph[a]:
            assert any(a in bag and b in bag for bag in bags), (a, b)
    for node in graph:  # the bags holding a node are connected
        holding = {i for i, bag in enumerate(bags) if node in bag}
        roots = [child for parent, child in edges if child in holding and parent not in holding]
        roots += [0] if 0 in holding else []
        assert len(roots) == 1, node


@settings(max_examples=strategies.examples(300), deadline=None)
@given(strategies.graphs())
def test_eliminations_decompose_as_narrowly_as_networkx(graph: Graph) -> None:
    """The widths of networkx's heuristics. Min-degree's ties go to the node whose degree
    changed first, and both push a node's neighbours in the iteration order of a set of
    them, which for the same integers depends on how each set was built: in about one
    graph in two thousand, a tie goes another way, and the widths differ by one (either
    way)."""
    from networkx.algorithms.approximation import treewidth_min_degree, treewidth_min_fill_in

    for component in components(graph):
        sub = {node: graph[node] for node in sorted(component)}
        before = {node: set(neighbours) for node, neighbours in sub.items()}
        nx_graph = _networkx_graph(sub)
        for heuristic, reference, apart in (
            (min_degree_order, treewidth_min_degree, 1),
            (min_fill_order, treewidth_min_fill_in, 0),
        ):
            width, bags, edges = eliminate(sub, heuristic)
            assert sub == before  # the graph given is left as it was
            _assert_decomposes(sub, bags, edges)
            assert width == max(len(bag) for bag in bags) - 1
            assert abs(width - reference(nx_graph)[0]) <= apart


@given(strategies.graphs())
def test_components_partition_the_graph_like_networkx(graph: Graph) -> None:
    import networkx as nx

    found = [set(component) for component in components(graph)]
    assert sorted(map(sorted, found)) == sorted(
        map(sorted, nx.connected_components(_networkx_graph(graph)))
    )
