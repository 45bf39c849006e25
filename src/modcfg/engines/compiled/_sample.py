"""Random solutions of a compiled query, drawn exactly in proportion to their weight.

A solution's weight is the product of its values' weights (all 1: the uniform distribution).
One upward pass over the circuit gives every node the total weight of its solutions (the
count, with each literal weighted); a draw then goes down from the root: every child of a
decomposable ``and`` node, one child of a decision in proportion to its total, one literal of
a free variable in proportion to its weight. Children of a decision fix their variable to
different values, so the probability of a solution is the product of the picks, which
telescopes to its weight over the root's total: exact, and linear in the nodes one draw
reaches. Weights are integers, summed as Python integers: the draws are exactly
proportional at any size.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ...lower import Problem
from ._cnf import Encoding
from ._compile import Circuit

__all__ = ["CircuitSampler"]


class CircuitSampler:
    """Draws solutions of ``problem`` (its value filters as weights) over ``circuit``, the
    compiled CNF ``encoding`` of its rules (``weights[var][value]``: None for all 1)."""

    def __init__(
        self,
        problem: Problem,
        circuit: Circuit,
        encoding: Encoding,
        weights: Sequence[Sequence[int]] | None,
    ) -> None:
        self._nodes = circuit.nodes
        self._size = problem.size
        self._weight, empty = encoding.weights(problem.allowed, weights)
        #: Which (variable, value) a literal sets, for the literals that name a value.
        self._value_of = encoding.value_of()
        totals = circuit.totals(self._weight)
        self._totals = totals
        #: The total weight of every solution (0: none to draw).
        self.total = 0 if empty or not totals else totals[-1]

    def draw(self, rng: random.Random) -> list[int] | None:
        """One solution (a value index per variable), or None when there is none."""
        if not self.total:
            return None
        values = [0] * self._size
        totals, weight, nodes = self._totals, self._weight, self._nodes
        stack = [len(nodes) - 1]
        while stack:
            index = stack.pop()
            kind, arg, children = nodes[index]
            if kind == "and":
                stack.extend(children)
                continue
            if kind == "or":
                point = rng.randrange(totals[index])
                for child in children:
                    if point < totals[child]:
                        stack.append(child)
                        break
                    point -= totals[child]
                continue
            literal = arg
            if kind == "free" and rng.randrange(weight[arg] + weight[-arg]) >= weight[arg]:
                literal = -arg
            found = self._value_of.get(literal)
            if found is not None:
                values[found[0]] = found[1]
        return values
