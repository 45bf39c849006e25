"""A decision-DNNF compiler for CNF: exhaustive DPLL with unit propagation, components and a
component cache, recording its search as a circuit (the technique of d4, Dsharp and sharpSAT's
trace; Huang and Darwiche, "The language of search", JAIR 2007).

The circuit is a list of nodes ``(kind, literal or variable, children)`` in children-first
order (a node's children have smaller ids):

- ``("lit", l, ())``: the literal ``l`` holds;
- ``("free", v, ())``: variable ``v`` takes either value;
- ``("and", 0, children)``: the children, over disjoint variables, all hold (decomposable);
- ``("or", 0, children)``: a decision on one variable: each child fixes it to another value,
  so at most one holds (deterministic);
- ``("false", 0, ())``: nothing holds.

Invariants: the circuit is *smooth*, every child of a decision covers the same variables, and
the root covers every variable of the formula, so counts need no gap factors; the cache keys
are the residual clauses of a component (as sorted tuples), so equal components compile once.
The number of nodes and cached clauses is bounded by ``max_nodes`` (a memory limit turned into
entries by the caller): past it the compile raises :class:`~modcfg.LimitExceeded`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..._errors import LimitExceeded, TimeLimitExceeded

__all__ = ["COMPILE_SECONDS", "Circuit", "Node", "compile_cnf"]

Node = tuple[str, int, tuple[int, ...]]
#: Seconds a compile may search before it gives up (the models it answers take a few).
COMPILE_SECONDS = 60.0


class Circuit:
    """A smooth decision-DNNF over variables ``1..variables``: its nodes, children first, and
    its root (the last node)."""

    def __init__(self, variables: int, nodes: list[Node]) -> None:
        self.variables = variables
        self.nodes = nodes

    @property
    def root(self) -> int:
        return len(self.nodes) - 1

    def totals(self, weight: Sequence[int]) -> list[int]:
        """Per node, the total weight of its models, each literal ``l`` weighing
        ``weight[l]`` (negative ones wrapping): the count, with 0/1 weights (the upward
        pass; exact Python ints)."""
        totals: list[int] = []
        for kind, arg, children in self.nodes:
            if kind == "lit":
                totals.append(weight[arg])
            elif kind == "free":
                totals.append(weight[arg] + weight[-arg])
            elif kind == "and":
                product = 1
                for child in children:
                    product *= totals[child]
                    if not product:
                        break
                totals.append(product)
            elif kind == "or":
                totals.append(sum(totals[child] for child in children))
            else:
                totals.append(0)
        return totals


class _Compiler:
    def __init__(self, variables: int, max_nodes: int, what: str, deadline: float) -> None:
        self.variables = variables
        self.deadline = deadline
        self.nodes: list[Node] = []
        self.cache: dict[frozenset[tuple[int, ...]], int] = {}
        self.interned: dict[Node, int] = {}
        self.max_nodes = max_nodes
        self.cached_literals = 0
        self.what = what

    def node(self, node: Node) -> int:
        found = self.interned.get(node)
        if found is None:
            if len(self.nodes) + self.cached_literals // 8 >= self.max_nodes:
                raise LimitExceeded(
                    f"compiling {self.what} into a decision-DNNF passed {self.max_nodes:,} "
                    "nodes and cache entries, what the memory limit allows; raise "
                    "memory_limit= of modcfg.compile, or count it with engine='decomposition'",
                    estimate=len(self.nodes),
                    limit=self.max_nodes,
                )
            found = self.interned[node] = len(self.nodes)
            self.nodes.append(node)
        return found

    def conjoin(self, lits: Sequence[int], free: Sequence[int], parts: Sequence[int]) -> int:
        children = [self.node(("lit", lit, ())) for lit in sorted(lits, key=abs)]
        children += [self.node(("free", var, ())) for var in sorted(free)]
        children += parts
        if len(children) == 1:
            return children[0]
        return self.node(("and", 0, tuple(children)))

    def component(self, clauses: list[tuple[int, ...]], variables: set[int]) -> int:
        """The node of a component: ``clauses`` (no unit, none empty) over ``variables``."""
        key = frozenset(clauses)
        found = self.cache.get(key)
        if found is not None:
            return found
        if time.monotonic() > self.deadline:
            raise TimeLimitExceeded(
                f"compiling {self.what} into a decision-DNNF passed its time limit after "
                f"{len(self.nodes):,} nodes: its rules branch too much for this engine; "
                "count it with engine='cpsat' and limit=",
                estimate=len(self.nodes),
                limit=self.max_nodes,
            )
        pivot = _pivot(clauses)
        watch = _watch(clauses)  # shared by both branches
        branches = []
        for lit in (pivot, -pivot):
            branch = self.branch(clauses, variables, lit, watch)
            if branch is not None:
                branches.append(branch)
        if not branches:
            result = self.node(("false", 0, ()))
        elif len(branches) == 1:
            result = branches[0]
        else:
            result = self.node(("or", 0, tuple(branches)))
        self.cache[key] = result
        self.cached_literals += sum(map(len, clauses))
        return result

    def branch(
        self,
        clauses: list[tuple[int, ...]],
        variables: set[int],
        lit: int,
        watch: dict[int, list[int]],
    ) -> int | None:
        """The node of ``clauses`` with ``lit`` set and propagated (None on a conflict)."""
        propagated = propagate(clauses, [lit], watch)
        if propagated is None:
            return None
        assigned, residual = propagated
        return self.split(residual, variables, assigned)

    def split(
        self, residual: list[tuple[int, ...]], variables: set[int], assigned: dict[int, int]
    ) -> int:
        """The conjunction of ``assigned``, the components of ``residual`` and the variables of
        ``variables`` that neither holds (free)."""
        parts = [self.component(*part) for part in components(residual)]
        used = {abs(lit) for clause in residual for lit in clause}
        free = [var for var in variables if var not in used and var not in assigned]
        lits = [var if value else -var for var, value in assigned.items()]
        return self.conjoin(lits, free, parts)


def _pivot(clauses: list[tuple[int, ...]]) -> int:
    """The variable to branch on: the one in most clauses, short clauses weighing most (the
    Jeroslow-Wang rule: they propagate most and split components soonest)."""
    score: dict[int, int] = {}
    for clause in clauses:
        weight = 1 << (10 - min(len(clause), 10))
        for lit in clause:
            score[abs(lit)] = score.get(abs(lit), 0) + weight
    return max(sorted(score), key=score.__getitem__)


def _watch(clauses: list[tuple[int, ...]]) -> dict[int, list[int]]:
    """Per literal, the indexes of the clauses that setting it shortens."""
    watch: dict[int, list[int]] = {}
    for index, clause in enumerate(clauses):
        for lit in clause:
            watch.setdefault(-lit, []).append(index)
    return watch


def propagate(
    clauses: list[tuple[int, ...]], units: list[int], watch: dict[int, list[int]] | None = None
) -> tuple[dict[int, int], list[tuple[int, ...]]] | None:
    """``clauses`` with ``units`` set and unit propagation run to its fixpoint: the values set
    (variable -> 1 or 0) and the residual clauses (none unit), or None on a conflict
    (``watch``: :func:`_watch` of ``clauses``, when known)."""
    assigned: dict[int, int] = {}
    if watch is None:
        watch = _watch(clauses)
    queue = list(units)
    while queue:
        lit = queue.pop()
        value = assigned.get(abs(lit))
        if value is not None:
            if value != (lit > 0):
                return None
            continue
        assigned[abs(lit)] = int(lit > 0)
        for index in watch.get(lit, ()):  # clauses where lit made a literal false
            open_lit = 0
            opened = 0
            for other in clauses[index]:
                state = assigned.get(abs(other))
                if state is None:
                    open_lit = other
                    opened += 1
                    if opened > 1:
                        break
                elif state == (other > 0):
                    opened = -1
                    break
            if opened == 0:
                return None
            if opened == 1:
                queue.append(open_lit)
    residual = []
    for clause in clauses:
        kept = []
        satisfied = False
        for lit in clause:
            state = assigned.get(abs(lit))
            if state is None:
                kept.append(lit)
            elif state == (lit > 0):
                satisfied = True
                break
        if not satisfied:
            residual.append(tuple(kept))
    return assigned, residual


def components(
    clauses: list[tuple[int, ...]],
) -> list[tuple[list[tuple[int, ...]], set[int]]]:
    """``clauses`` grouped by connected variables: each group's clauses and variables."""
    parent: dict[int, int] = {}

    def find(var: int) -> int:
        root = var
        while parent.get(root, root) != root:
            root = parent[root]
        while var != root:
            parent[var], var = root, parent[var]
        return root

    for clause in clauses:
        first = find(abs(clause[0]))
        for lit in clause[1:]:
            other = find(abs(lit))
            if other != first:
                parent[other] = first
    groups: dict[int, tuple[list[tuple[int, ...]], set[int]]] = {}
    for clause in clauses:
        group = groups.setdefault(find(abs(clause[0])), ([], set()))
        group[0].append(clause)
        group[1].update(abs(lit) for lit in clause)
    for group in groups.values():
        group[0].sort()
    return list(groups.values())


def compile_cnf(
    variables: int,
    clauses: Sequence[Sequence[int]],
    *,
    max_nodes: int,
    seconds: float = COMPILE_SECONDS,
    what: str = "a CNF",
) -> Circuit:
    """The smooth decision-DNNF of ``clauses`` over variables ``1..variables`` (DIMACS
    literals); ``max_nodes`` bounds its nodes and cache (see the module docstring), and the
    compile raises :class:`~modcfg.LimitExceeded` after ``seconds``."""
    compiler = _Compiler(variables, max_nodes, what, time.monotonic() + seconds)
    normal: set[tuple[int, ...]] = set()
    units: list[int] = []
    for clause in clauses:
        lits = set(clause)
        if any(-lit in lits for lit in lits):
            continue  # a tautology
        if len(lits) == 1:
            units.extend(lits)
        normal.add(tuple(sorted(lits, key=abs)))
    propagated = propagate(sorted(normal), units)
    if propagated is None or () in normal:
        compiler.node(("false", 0, ()))
    else:
        assigned, residual = propagated
        try:
            compiler.split(residual, set(range(1, variables + 1)), assigned)
        except RecursionError:
            raise LimitExceeded(
                f"compiling {what} into a decision-DNNF nested its decisions deeper than "
                "Python's recursion limit; count it with engine='decomposition' or 'cpsat'",
                estimate=variables,
                limit=variables,
            ) from None
    return Circuit(variables, compiler.nodes)
