"""Peer 6: a plain dynamic programme over a networkx tree decomposition.

The primal graph joins the slots of every rule and price rule; ``treewidth_min_fill_in`` gives
a tree of bags. Each rule is checked in every bag holding its scope, as soon as a bag's
assignment (built variable by variable) covers it; an upward pass of dict tables (separator
assignment -> number of completions below) counts, and a downward pass gives every option's
number of completions for the interactive step. The same upward pass over (min, +) gives the
cheapest unit price.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import networkx as nx
from networkx.algorithms.approximation import treewidth_min_fill_in

from modcfg import Catalog, Needs

from ._base import Peer, StepAnswer
from ._errors import Unsupported
from ._problem import Query

__all__ = ["TreeDP"]


@dataclass
class _Bag:
    variables: tuple[int, ...]
    parent: int | None
    children: list[int] = field(default_factory=list)
    #: Positions (in this bag) of the variables shared with the parent.
    separator: tuple[int, ...] = ()
    #: For each child: positions (in this bag) of the child's separator variables.
    child_keys: list[tuple[int, ...]] = field(default_factory=list)
    owned: list[int] = field(default_factory=list)
    checks: list[tuple[tuple[int, ...], frozenset[tuple[int, ...]]]] = field(default_factory=list)
    costs: list[tuple[tuple[int, ...], Mapping[tuple[int, ...], int]]] = field(default_factory=list)


class TreeDP(Peer):
    name = "networkx-dp"

    def __init__(self, catalog: Catalog, *, time_limit: float = 10.0) -> None:
        super().__init__(catalog, time_limit=time_limit)
        problem = self.problem
        graph = nx.Graph()
        graph.add_nodes_from(range(len(problem.variables)))
        for scope in [t.scope for t in problem.tables] + [c.scope for c in problem.costs]:
            graph.add_edges_from(itertools.combinations(scope, 2))
        self.width, tree = treewidth_min_fill_in(graph)
        root = min(tree.nodes, key=sorted)
        order = [root, *(child for _, child in nx.bfs_edges(tree, root))]
        number = {bag: position for position, bag in enumerate(order)}
        parents = {child: parent for parent, child in nx.bfs_edges(tree, root)}
        self.bags = [
            _Bag(tuple(sorted(bag)), number[parents[bag]] if bag in parents else None)
            for bag in order
        ]
        for position, bag in enumerate(self.bags):
            if bag.parent is not None:
                above = self.bags[bag.parent]
                shared = sorted(set(bag.variables) & set(above.variables))
                bag.separator = tuple(bag.variables.index(v) for v in shared)
                above.children.append(position)
                above.child_keys.append(tuple(above.variables.index(v) for v in shared))
        owner: dict[int, int] = {}
        for position, bag in enumerate(self.bags):
            for place, variable in enumerate(bag.variables):
                if variable not in owner:
                    owner[variable] = position
                    bag.owned.append(place)
        for table in problem.tables:  # checked in every bag that holds its scope: prunes early
            wanted = set(table.scope)
            for bag in self.bags:
                if wanted <= set(bag.variables):
                    places = tuple(bag.variables.index(v) for v in table.scope)
                    bag.checks.append((places, table.allowed))
        for cost in problem.costs:
            bag = self._home(cost.scope)
            bag.costs.append((tuple(bag.variables.index(v) for v in cost.scope), cost.amounts))

    def _home(self, scope: tuple[int, ...]) -> _Bag:
        wanted = set(scope)
        return next(bag for bag in self.bags if wanted <= set(bag.variables))

    def _assignments(self, bag: _Bag, query: Query) -> Iterator[tuple[int, ...]]:
        """The bag's assignments that pass its checks, each check applied as soon as the last
        variable of its scope is set (a backtracking product, not a filtered full one)."""
        domains = [query.domains[v] for v in bag.variables]
        size = len(domains)
        if not size:
            if all(() in allowed for _, allowed in bag.checks):
                yield ()
            return
        checks: list[list[tuple[tuple[int, ...], frozenset[tuple[int, ...]]]]] = [
            [] for _ in domains
        ]
        for places, allowed in bag.checks:
            checks[max(places, default=0)].append((places, allowed))
        values = [0] * size

        def extend(depth: int) -> Iterator[tuple[int, ...]]:
            last = depth == size - 1
            for value in domains[depth]:
                values[depth] = value
                if all(
                    tuple(values[p] for p in places) in allowed for places, allowed in checks[depth]
                ):
                    if last:
                        yield tuple(values)
                    else:
                        yield from extend(depth + 1)

        yield from extend(0)

    def _upward(
        self,
        query: Query,
        local: Callable[[_Bag, tuple[int, ...]], int],
        combine: Callable[[int, int], int],
        merge: Callable[[int, int], int],
    ) -> list[dict[tuple[int, ...], int]]:
        deadline = self.deadline()
        up: list[dict[tuple[int, ...], int]] = [{} for _ in self.bags]
        for position in reversed(range(len(self.bags))):
            bag = self.bags[position]
            message: dict[tuple[int, ...], int] = {}
            for values in self._assignments(bag, query):
                weight: int | None = local(bag, values)
                for child, keys in zip(bag.children, bag.child_keys, strict=True):
                    below = up[child].get(tuple(values[p] for p in keys))
                    if below is None:
                        weight = None
                        break
                    weight = combine(weight, below) if weight is not None else None
                if weight is None:
                    continue
                key = tuple(values[p] for p in bag.separator)
                message[key] = merge(message[key], weight) if key in message else weight
            up[position] = message
            self.check(deadline)
        return up

    def _counts(self, query: Query) -> list[dict[tuple[int, ...], int]]:
        if query.max_price is not None:
            raise Unsupported("a budget (the counting programme has no prices)")
        return self._upward(query, lambda bag, values: 1, int.__mul__, int.__add__)

    def count(self, needs: Needs | None = None) -> int:
        return self._counts(self.query(needs))[0].get((), 0)

    def min_price(self, needs: Needs | None = None) -> int | None:
        """The cheapest unit price (minor units), or None when nothing is valid."""
        query = self.query(needs)
        prices = [variable.prices for variable in self.problem.variables]

        def local(bag: _Bag, values: tuple[int, ...]) -> int:
            price = sum(prices[bag.variables[p]][values[p]] for p in bag.owned)
            for places, amounts in bag.costs:
                price += amounts.get(tuple(values[p] for p in places), 0)
            return price

        best = self._upward(query, local, int.__add__, min)[0].get(())
        return None if best is None else best + self.problem.constant

    def step(self, needs: Needs | None, picks: Mapping[str, str]) -> StepAnswer:
        query = self.query(needs, picks)
        up = self._counts(query)
        down: list[dict[tuple[int, ...], int]] = [{} for _ in self.bags]
        down[0] = {(): 1}
        tally: dict[tuple[int, int], int] = {}
        for position, bag in enumerate(self.bags):
            for values in self._assignments(bag, query):
                belief = down[position].get(tuple(values[p] for p in bag.separator), 0)
                for child, keys in zip(bag.children, bag.child_keys, strict=True):
                    belief *= up[child].get(tuple(values[p] for p in keys), 0)
                if not belief:
                    continue
                for place in bag.owned:
                    key = (bag.variables[place], values[place])
                    tally[key] = tally.get(key, 0) + belief
                for child, keys in zip(bag.children, bag.child_keys, strict=True):
                    separator = tuple(values[p] for p in keys)
                    share = belief // up[child][separator]
                    down[child][separator] = down[child].get(separator, 0) + share
        counts = self.problem.options((v, j, n) for (v, j), n in tally.items())
        return StepAnswer.from_counts(counts)
