"""The compiled engine: a problem's rules compiled into a decision-DNNF, for catalogs whose
rules tie so many slots that no tree decomposition has small bags.

A feature model whose cross-tree constraints tie most features together (tree width 40 to
100) cannot be counted by passes over bags, but a search that splits the rules into
independent components as it assigns them, and remembers the components it has solved, finds
them few (the approach of sharpSAT, Ganak and d4). Recording that search as a circuit
(:mod:`._compile`) makes the count, every option's count and every customer's choice a pass
over the circuit (:mod:`._query`). The plan picks this engine when the decomposition refuses a
catalog at its memory limit and the rules lower to CNF (:mod:`._cnf`).

This package imports :mod:`modcfg.lower` and the engine protocol, nothing above.
"""

from __future__ import annotations

from ...lower import Problem
from ._cnf import Encoding, NotCnfError, encode
from ._compile import COMPILE_SECONDS, Circuit, compile_cnf
from ._query import CompiledEngineError, CompiledQuery, CountingOnly, ranking

__all__ = [
    "COMPILE_SECONDS",
    "Circuit",
    "CompiledEngineError",
    "CompiledQuery",
    "CountingOnly",
    "Encoding",
    "NotCnfError",
    "compile_problem",
    "ranking",
]

#: Bytes one node or cached clause of a circuit costs, about (tuples, dict entries).
NODE_BYTES = 400


def compile_problem(problem: Problem, *, seconds: float = COMPILE_SECONDS) -> CompiledQuery:
    """The compiled query of ``problem``'s rules, its value filters as weights; raises
    :class:`NotCnfError` when the rules are no CNF and :class:`~modcfg.LimitExceeded` when the
    circuit would pass the problem's memory limit or take more than ``seconds``."""
    encoding = encode(problem)
    circuit = compile_cnf(
        encoding.variables,
        encoding.clauses,
        max_nodes=max(problem.memory_limit // NODE_BYTES, 1),
        seconds=seconds,
        what=f"catalog '{problem.catalog.name}'",
    )
    return CompiledQuery(problem, circuit, encoding)
