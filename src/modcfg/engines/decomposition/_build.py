"""Materialising a tree decomposition's bags: the compiled bag builder's inputs, its refusals,
and the bags it fills.

:func:`materialise` lays the tree out as integer arrays (the named tuples below), runs
:func:`._build_kernel._fill` (compiled with numba on first use, like the passes) and hands
each bag views into the results. The kernel, given those arrays,

1. joins every bag's tuples, children before parents (``_join_bag``): a depth-first search
   over the bag's variables, most constrained first, where a value is tried only while every
   relation touching the variables set so far still has a row with that prefix. Relations are
   the rules assigned to the bag and the separator keys its children support; each is held as
   a trie of its rows in the order of the search, so no partial tuple outlives the first
   relation that rules it out;
2. semi-joins them top-down (``_semijoin``): a child keeps the rows whose separator key its
   parent has, so every remaining row is part of a solution;
3. sorts each bag by the key it shares with its parent, numbers those keys in lexicographic
   order (``_number``), links every row to its children's keys and finds the cost-factor rows
   that apply to it (``_matches``).

Then :func:`materialise` prices the rows: each
variable's unit cost in the bag that introduces it, plus the cost factors the kernel matched,
as int64 or, when costs may exceed 64 bits, as Python integers (so prices of any size stay
exact). The join stops, and :class:`~modcfg.LimitExceeded` names the bag, before a bag passes
``bag_limit`` rows or all rows pass the problem's memory limit, and soon after a ``deadline``
passes (:class:`FillStopped`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, compress
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

import numpy as np

from ..._errors import LimitExceeded, TimeLimitExceeded
from ..._memory import ENTRY_BYTES, describe_slots, refuse
from ._build_kernel import _STOPPED, _TOO_MUCH_MEMORY, _fill

if TYPE_CHECKING:
    from ._tree import Tree

__all__ = ["BagsTooLarge", "FillStopped", "materialise"]

#: Costs at least this large (minor units) are kept as Python integers.
_INT64_COST = 1 << 62


class Bags(NamedTuple):
    """The bags: ``postorder`` (children first); per bag (from ``dstart[b]``), the variable of
    each column (``col_var``); per bag (from ``sep_start[b]``), the columns it shares with its
    parent (``sep_col``, in column order)."""

    postorder: np.ndarray
    dstart: np.ndarray
    col_var: np.ndarray
    sep_start: np.ndarray
    sep_col: np.ndarray


class Variables(NamedTuple):
    """Per variable: its domain size, and its allowed values (``vals[start[v]:start[v+1]]``)."""

    sizes: np.ndarray
    start: np.ndarray
    vals: np.ndarray


class Tables(NamedTuple):
    """The rules' tables, each once: ``vals[start[t]:start[t+1]]``, ``rows[t]`` rows in the
    order of the rule's scope."""

    start: np.ndarray
    rows: np.ndarray
    vals: np.ndarray


class Relations(NamedTuple):
    """Per bag (from ``start[b]``), the relations its rows must satisfy: ``kind`` 0, a rule's
    table (``src``: the table), or 1, the separator keys a child supports (``src``: the edge);
    per relation (from ``pstart[r]``), the variable of each position, in the order of the
    relation's columns (``var``)."""

    start: np.ndarray
    kind: np.ndarray
    src: np.ndarray
    pstart: np.ndarray
    var: np.ndarray


class Placed(NamedTuple):
    """Where the join meets each relation. ``d_col[dstart[b] + d]``: the column of bag ``b``
    set at depth ``d`` (most constrained first). Per relation position, each relation's
    positions reordered by depth: the ``depth``, the column in the relation's rows (``col``) and
    the domain ``size``; ``first``: whether it starts its relation. Per bag, the positions due at
    each depth: ``due[due_start[dstart[b] + b + d] ... due_start[dstart[b] + b + d + 1]]``."""

    d_col: np.ndarray
    depth: np.ndarray
    col: np.ndarray
    size: np.ndarray
    first: np.ndarray
    due_start: np.ndarray
    due: np.ndarray


class Edges(NamedTuple):
    """Per bag (from ``start[b]``), its children (``child``); per edge (from ``pstart[e]``),
    the parent's columns it shares with the child, in the child's separator order (``pcol``)."""

    start: np.ndarray
    child: np.ndarray
    pstart: np.ndarray
    pcol: np.ndarray


class Factors(NamedTuple):
    """Per bag (from ``start[b]``), its cost factors; per factor (from ``pstart[f]``), the bag's
    column of each of its variables (``col``), and its ``trows`` table rows
    (``vals[tstart[f]:tstart[f+1]]``, in the factor's scope order)."""

    start: np.ndarray
    pstart: np.ndarray
    col: np.ndarray
    tstart: np.ndarray
    trows: np.ndarray
    vals: np.ndarray


def _int64(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _starts(lengths: Sequence[int]) -> np.ndarray:
    """Offsets of consecutive runs of the given lengths (one more than there are runs)."""
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


class BagsTooLarge(LimitExceeded):
    """The tree's bags passed a limit on their rows or value combinations (not the memory
    limit): a larger limit may still build the tree. ``filling``: whether bags were being
    filled (a limit on rows) rather than checked before (a limit on value combinations)."""

    def __init__(
        self,
        message: str,
        *,
        estimate: int | None = None,
        limit: int | None = None,
        filling: bool = True,
    ) -> None:
        super().__init__(message, estimate=estimate, limit=limit)
        self.filling = filling


class FillStopped(TimeLimitExceeded):
    """Filling the tree's bags passed its deadline; ``done`` of ``bags`` bags were joined."""

    def __init__(self, done: int, bags: int) -> None:
        #: Where the work stopped, in words.
        self.what = f"filling the tree's bags ({done:,} of {bags:,} joined)"
        if done == bags:  # (stopped in the steps after the joins, or just after the fill)
            self.what = f"linking the tree's bags (all {bags:,} joined)"
        super().__init__(f"the time limit passed while {self.what}", estimate=bags, limit=done)


def materialise(
    tree: Tree, *, compiled: bool = True, bag_limit: int, deadline: float | None = None
) -> None:
    """Fill every bag of ``tree``: its rows, separator keys, links to its children's keys and
    unit costs. ``bag_limit`` bounds the rows of one bag, the problem's memory limit the bytes
    of all, ``deadline`` (:func:`time.monotonic`; None: none) the time: past it,
    :class:`FillStopped`. ``compiled=False`` runs the builder as plain Python (the tests
    compare both)."""
    bags, variables, relations, edges, factors, tables = _inputs(tree)
    placed = _placed(tree, variables, relations)
    limits = (bag_limit, tree.problem.memory_limit // ENTRY_BYTES)
    run = _compiled() if compiled else _fill
    with _stop_at(deadline) as stop:
        status, *filled = run(
            bags, variables, tables, relations, placed, edges, factors, limits, stop
        )
    if status[0] == _STOPPED:
        raise FillStopped(int(status[2]), len(tree.bags))
    if status[0]:
        _refuse(tree, status, bag_limit)
    vals, b_voff, b_roff, sep_ids, sep_starts, b_soff, links, e_off, hits, f_off = filled
    edge = 0
    for index, bag in enumerate(tree.bags):
        first, last = int(b_roff[index]), int(b_roff[index + 1])
        offset = int(b_voff[index])
        bag.values = vals[offset : offset + (last - first) * len(bag.vars)].reshape(
            last - first, len(bag.vars)
        )
        bag.sep_ids = sep_ids[first:last]
        bag.sep_starts = sep_starts[b_soff[index] : b_soff[index + 1]]
        bag.child_index = []
        for _ in bag.children:
            bag.child_index.append(links[e_off[edge] : e_off[edge + 1]])
            edge += 1
    _price(tree, hits, f_off)


@contextmanager
def _stop_at(deadline: float | None) -> Iterator[np.ndarray]:
    """A flag the builder reads (see :func:`._build_kernel._fill`), set by a timer thread
    when ``deadline`` passes (never when None); the timer ends with the block."""
    stop = np.zeros(1, dtype=np.int64)
    if deadline is None:
        yield stop
        return
    timer = threading.Timer(max(deadline - time.monotonic(), 0.0), stop.fill, (1,))
    timer.daemon = True
    timer.start()
    try:
        yield stop
    finally:
        timer.cancel()


def _inputs(
    tree: Tree,
) -> tuple[Bags, Variables, Relations, Edges, Factors, Tables]:
    """The tree's bags, variables, relations, edges and cost factors as flat arrays."""
    problem = tree.problem
    allowed = [list(compress(range(len(row)), row)) for row in problem.allowed]
    variables = Variables(
        _int64([len(domain.choices) for domain in problem.domains]),
        _starts([len(values) for values in allowed]),
        _int64(list(chain.from_iterable(allowed))),
    )
    table_of: dict[int, int] = {}  # the rules' tables, each once
    tables: list[np.ndarray] = []
    kind: list[int] = []
    src: list[int] = []
    var: list[int] = []
    pstart, rel_start = [0], [0]
    child: list[int] = []
    pcol: list[int] = []
    e_pstart, edge_start = [0], [0]
    f_col: list[int] = []
    f_trows: list[int] = []
    f_tlen: list[int] = []
    f_vals: list[int] = []
    f_pstart, fac_start = [0], [0]
    for bag in tree.bags:
        for constraint in bag.constraints:
            found = table_of.setdefault(id(constraint), len(tables))
            if found == len(tables):
                tables.append(constraint.rows)
            kind.append(0)
            src.append(found)
            var.extend(constraint.scope)
            pstart.append(len(var))
        for below, positions in zip(bag.children, bag.child_positions, strict=True):
            kind.append(1)
            src.append(len(child))
            var.extend(bag.vars[p] for p in positions)
            pstart.append(len(var))
            child.append(below)
            pcol.extend(positions)
            e_pstart.append(len(pcol))
        rel_start.append(len(kind))
        edge_start.append(len(child))
        for factor in bag.cost_factors:
            f_col.extend(bag.vars.index(v) for v in factor.scope)
            f_pstart.append(len(f_col))
            f_trows.append(len(factor.table))
            f_tlen.append(len(factor.table) * len(factor.scope))
            f_vals.extend(chain.from_iterable(factor.table))
        fac_start.append(len(f_trows))
    bags = Bags(
        _int64(tree.preorder[::-1]),
        _starts([len(bag.vars) for bag in tree.bags]),
        _int64([v for bag in tree.bags for v in bag.vars]),
        _starts([len(bag.sep_positions) for bag in tree.bags]),
        _int64([p for bag in tree.bags for p in bag.sep_positions]),
    )
    return (
        bags,
        variables,
        Relations(_int64(rel_start), _int64(kind), _int64(src), _int64(pstart), _int64(var)),
        Edges(_int64(edge_start), _int64(child), _int64(e_pstart), _int64(pcol)),
        Factors(
            _int64(fac_start),
            _int64(f_pstart),
            _int64(f_col),
            _starts(f_tlen),
            _int64(f_trows),
            _int64(f_vals),
        ),
        Tables(
            _starts([rows.size for rows in tables]),
            _int64([len(rows) for rows in tables]),
            np.concatenate([rows.ravel() for rows in tables]).astype(np.int64)
            if tables
            else np.zeros(0, dtype=np.int64),
        ),
    )


def _placed(tree: Tree, variables: Variables, relations: Relations) -> Placed:
    """Each bag's join order and where the join checks each relation (see :class:`Placed`)."""
    allowed = np.diff(variables.start).tolist()
    sizes = variables.sizes.tolist()
    kinds, pstart, rvar = relations.kind.tolist(), relations.pstart.tolist(), relations.var.tolist()
    rel_start = relations.start.tolist()
    d_col: list[int] = []
    depth = [0] * len(rvar)
    col = [0] * len(rvar)
    size = [0] * len(rvar)
    first = [False] * len(rvar)
    due_start: list[int] = []
    due: list[int] = []
    for b, bag in enumerate(tree.bags):
        r0, r1 = rel_start[b], rel_start[b + 1]
        reading = rvar[pstart[r0] : pstart[r1]]
        degree = [reading.count(v) for v in bag.vars]
        order = sorted(range(len(bag.vars)), key=lambda c: (-degree[c], allowed[bag.vars[c]]))
        d_col.extend(order)
        at_depth = {bag.vars[c]: d for d, c in enumerate(order)}
        for r in range(r0, r1):
            p0, p1 = pstart[r], pstart[r + 1]
            if kinds[r] == 0:
                columns: Sequence[int] = range(p1 - p0)
            else:
                columns = tree.bags[bag.children[r - r0 - len(bag.constraints)]].sep_positions
            scope = rvar[p0:p1]
            by_depth = sorted(range(p1 - p0), key=lambda i: at_depth[scope[i]])
            for q, i in enumerate(by_depth, start=p0):
                depth[q], col[q], size[q] = at_depth[scope[i]], columns[i], sizes[scope[i]]
            if p1 > p0:
                first[p0] = True
        ordered = sorted(range(pstart[r0], pstart[r1]), key=depth.__getitem__)
        per_depth = [0] * (len(bag.vars) + 1)
        for q in ordered:
            per_depth[depth[q] + 1] += 1
        at = len(due)
        for count in per_depth:
            at += count
            due_start.append(at)
        due.extend(ordered)
    return Placed(
        _int64(d_col),
        _int64(depth),
        _int64(col),
        _int64(size),
        np.asarray(first, dtype=bool),
        _int64(due_start),
        _int64(due),
    )


def _refuse(tree: Tree, status: np.ndarray, bag_limit: int) -> NoReturn:
    """Raise :class:`~modcfg.LimitExceeded` for the bag the builder stopped at."""
    bag = tree.bags[int(status[1])]
    problem = tree.problem
    slots = describe_slots([problem.domains[var].slot for var in bag.vars])
    advice = (
        "the catalog's rules tie too many slots together for compilation; split rules that "
        "span many slots into smaller ones"
    )
    if status[0] == _TOO_MUCH_MEMORY:
        rows, stored = int(status[2]), int(status[3])
        what = f"the bag of {len(bag.vars)} slots ({slots}), {rows:,} rows so far,"
        if 2 * rows < stored:  # the bags before it hold most rows
            what = f"the tree's bags, {stored:,} rows so far (the latest over {slots}),"
        refuse(int(status[4]) * ENTRY_BYTES, problem.memory_limit, what, advice, at_least=True)
    raise BagsTooLarge(
        f"a bag of {len(bag.vars)} slots ({slots}) holds more than {bag_limit:,} "
        f"consistent combinations; {advice}",
        limit=bag_limit,
    )


def _price(tree: Tree, hits: np.ndarray, f_off: np.ndarray) -> None:
    """Each bag's row costs: its own variables' module prices plus its cost factors (the
    kernel's ``hits``: per factor and row, the matching table row or -1); int64, or Python
    integers when a cost may not fit."""
    problem = tree.problem
    largest = sum(max((abs(c) for c in domain.cost), default=0) for domain in problem.domains)
    largest += sum(max((abs(a) for a in f.table.values()), default=0) for f in problem.cost_factors)
    if not largest:  # nothing costs anything (a feature model): views of one row of zeros
        zeros = np.zeros(max(len(bag.values) for bag in tree.bags), dtype=np.int64)
        zeros.flags.writeable = False
        for bag in tree.bags:
            bag.cost_array = zeros[: len(bag.values)]
        tree.cost_span = tree.cost_magnitude = 1
        return
    kind: Any = np.int64 if largest < _INT64_COST else object
    unit = [np.asarray(domain.cost, dtype=kind) for domain in problem.domains]
    factor = 0
    for bag in tree.bags:
        cost = np.zeros(len(bag.values), dtype=kind)
        for p in bag.owned:
            cost += unit[bag.vars[p]][bag.values[:, p]]
        for cost_factor in bag.cost_factors:
            amounts = np.asarray(list(cost_factor.table.values()), dtype=kind)
            hit = hits[f_off[factor] : f_off[factor + 1]]
            matched = hit >= 0
            cost[matched] += amounts[hit[matched]]
            factor += 1
        cost.flags.writeable = False
        bag.cost_array = cost
    costs = [bag.cost_array for bag in tree.bags if len(bag.cost_array)]
    tree.cost_span = sum(int(c.max()) - int(c.min()) for c in costs) + 1
    tree.cost_magnitude = sum(max(abs(int(c.max())), abs(int(c.min()))) for c in costs) + 1


_compiled_fill: Callable[..., tuple[np.ndarray, ...]] | None = None
_lock = threading.Lock()


def _compiled() -> Callable[..., tuple[np.ndarray, ...]]:
    global _compiled_fill
    if _compiled_fill is None:
        with _lock:
            if _compiled_fill is None:
                from ._jit import jit

                _compiled_fill = jit(_fill)
    return _compiled_fill
