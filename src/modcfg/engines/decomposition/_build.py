"""Materialising a tree decomposition's bags in one compiled call.

Every bag's consistent tuples are found by a depth-first join over its variables (most
constrained first): a value is tried only while every relation touching the variables set so
far still has a row with that prefix (a binary search in the relation's sorted row codes), so
no partial tuple outlives the first relation that rules it out. Relations are the rules
assigned to the bag and the separator keys its children support (children come first: the
bags are visited bottom-up). A top-down semi-join then drops tuples without a parent, and each
bag's tuples are sorted by the key shared with the parent, numbered, linked to their children's
keys and priced.

:func:`materialise` lays the tree out as integer arrays, runs :func:`_fill` (in
:mod:`._build_kernel`; compiled with numba on first use, like the passes) and hands each bag
views into the results. It declines (returns False) when a cost or a row code would not fit in
64 bits, or when a bag's join would try more values than :data:`STEP_LIMIT`; the tree is then
built by the general path of ``_tree``. The join stops, and :class:`~modcfg.LimitExceeded` names
the bag, before its buffer would grow past the memory limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from itertools import chain, compress
from math import prod
from typing import TYPE_CHECKING, Any

import numpy as np

from ..._errors import LimitExceeded
from ..._memory import ENTRY_BYTES, describe_slots, refuse
from ._build_kernel import _fill

if TYPE_CHECKING:
    from ._tree import Tree

__all__ = ["STEP_LIMIT", "materialise"]

#: Values one bag's join may try before the general path takes over.
STEP_LIMIT = 1 << 25
#: Row codes and costs must stay below this to fit the compiled arrays.
_SAFE = 1 << 62

_OK, _STEPS, _TOO_BIG, _TOO_MUCH_MEMORY = 0, 1, 2, 3


def _int64(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _starts(lengths: list[int]) -> np.ndarray:
    """Offsets of consecutive runs of the given lengths (one more than there are runs)."""
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def materialise(tree: Tree, *, compiled: bool = True, bag_limit: int) -> bool:
    """Fill every bag of ``tree`` (rows, keys, links, costs); False to decline.

    ``bag_limit`` bounds the rows of one bag, the problem's memory limit the bytes of all."""
    bags, problem = tree.bags, tree.problem
    memory_limit = problem.memory_limit
    domains = problem.domains
    sizes = [len(domain.choices) for domain in domains]
    largest = sum(max(map(abs, domain.cost), default=0) for domain in domains)
    largest += sum(max((abs(a) for a in f.table.values()), default=0) for f in problem.cost_factors)
    if largest >= _SAFE:
        return False
    # row codes over a bag's variables fit in 64 bits unless the bags are wide and domains big
    widest = max((len(bag.vars) for bag in bags), default=0)
    checked = max(sizes, default=1) ** widest >= _SAFE
    # variables: allowed values, unit costs over every value
    allowed_values = [list(compress(range(len(row)), row)) for row in problem.allowed]
    v_start = _starts([len(values) for values in allowed_values])
    v_vals = _int64(list(chain.from_iterable(allowed_values)))
    u_start = _starts(sizes)
    ucost = _int64(list(chain.from_iterable(domain.cost for domain in domains)))
    # the rules' tables, each once
    table_of: dict[int, int] = {}
    tables: list[np.ndarray] = []
    # per bag: join order, own columns, separator columns, relations, factors, child edges
    col_var: list[int] = []
    sep_col: list[int] = []
    own_col: list[int] = []
    r_kind: list[int] = []
    r_src: list[int] = []
    r_var: list[int] = []  # per relation position: the variable (the kernel finds its depth)
    e_child: list[int] = []
    e_pcol: list[int] = []
    f_col: list[int] = []
    f_size: list[int] = []
    f_trows: list[int] = []
    b_dstart, b_sep_start, b_own_start, b_rel_start = [0], [0], [0], [0]
    b_edge_start, e_pstart, b_fac_start, f_pstart, r_pstart = [0], [0], [0], [0], [0]
    f_flat: list[tuple[int, ...]] = []
    f_amount: list[int] = []
    for bag in bags:
        # (the kernel orders each bag's columns for its join)
        col_var.extend(bag.vars)
        b_dstart.append(len(col_var))
        sep_col.extend(bag.sep_positions)
        b_sep_start.append(len(sep_col))
        own_col.extend(bag.owned)
        b_own_start.append(len(own_col))
        for constraint in bag.constraints:
            found = table_of.get(id(constraint))
            if found is None:
                if checked and prod(sizes[var] for var in constraint.scope) >= _SAFE:
                    return False
                found = table_of[id(constraint)] = len(tables)
                tables.append(constraint.rows)
            # positions in scope order; the kernel sorts them by depth
            r_kind.append(0)
            r_src.append(found)
            r_var.extend(constraint.scope)
            r_pstart.append(len(r_var))
        for child, positions in zip(bag.children, bag.child_positions, strict=True):
            if checked and prod(sizes[bag.vars[p]] for p in positions) >= _SAFE:
                return False
            edge = len(e_child)
            e_child.append(child)
            e_pcol.extend(positions)
            e_pstart.append(len(e_pcol))
            r_kind.append(1)
            r_src.append(edge)
            r_var.extend([bag.vars[p] for p in positions])
            r_pstart.append(len(r_var))
        b_rel_start.append(len(r_kind))
        b_edge_start.append(len(e_child))
        for factor in bag.cost_factors:
            if checked and prod(sizes[var] for var in factor.scope) >= _SAFE:
                return False
            f_col.extend([bag.vars.index(var) for var in factor.scope])
            f_size.extend([sizes[var] for var in factor.scope])
            f_pstart.append(len(f_col))
            f_trows.append(len(factor.table))
            f_flat.extend(factor.table)
            f_amount.extend(factor.table.values())
        b_fac_start.append(len(f_trows))
    for bag in bags:
        if checked and prod(sizes[bag.vars[p]] for p in bag.sep_positions) >= _SAFE:
            return False
    t_start = _starts([rows.size for rows in tables])
    f_tstart = _starts([rows * (f_pstart[i + 1] - f_pstart[i]) for i, rows in enumerate(f_trows)])
    postorder = _int64(tree.preorder[::-1])
    run = _fill if not compiled else _compiled()
    status, vals, b_voff, b_roff, sep_ids, sep_starts, b_soff, links, e_off, cost = run(
        postorder,
        _int64(sizes),
        v_start,
        v_vals,
        u_start,
        ucost,
        t_start,
        _int64([len(rows) for rows in tables]),
        np.concatenate([rows.ravel() for rows in tables]) if tables else np.zeros(0, np.int64),
        _int64(b_dstart),
        _int64(col_var),
        _int64(b_sep_start),
        _int64(sep_col),
        _int64(b_own_start),
        _int64(own_col),
        _int64(b_rel_start),
        _int64(r_kind),
        _int64(r_src),
        _int64(r_pstart),
        _int64(r_var),
        _int64(b_edge_start),
        _int64(e_child),
        _int64(e_pstart),
        _int64(e_pcol),
        _int64(b_fac_start),
        _int64(f_pstart),
        _int64(f_col),
        _int64(f_size),
        f_tstart,
        _int64(list(chain.from_iterable(f_flat))),
        _int64(f_amount),
        STEP_LIMIT,
        bag_limit,
        memory_limit // ENTRY_BYTES,
    )
    if status[0] == _STEPS:
        return False
    if status[0] in (_TOO_BIG, _TOO_MUCH_MEMORY):
        bag = bags[int(status[1])]
        slots = describe_slots([domains[var].slot for var in bag.vars])
        advice = (
            "the catalog's rules tie too many slots together for compilation; split rules that "
            "span many slots into smaller ones"
        )
        if status[0] == _TOO_MUCH_MEMORY:
            rows, stored = int(status[2]), int(status[3])
            what = f"the bag of {len(bag.vars)} slots ({slots}), {rows:,} rows so far,"
            if 2 * rows < stored:  # the bags before it hold most rows
                what = f"the tree's bags, {stored:,} rows so far (the latest over {slots}),"
            refuse(int(status[4]) * ENTRY_BYTES, memory_limit, what, advice, at_least=True)
        raise LimitExceeded(
            f"a bag of {len(bag.vars)} slots ({slots}) holds more than {bag_limit:,} "
            f"consistent combinations; {advice}"
        )
    edge = 0
    for index, bag in enumerate(bags):
        width = len(bag.vars)
        row0 = int(b_roff[index])
        count = int(b_roff[index + 1]) - row0
        offset = int(b_voff[index])
        bag.values = vals[offset : offset + count * width].reshape(count, width)
        bag.sep_ids = sep_ids[row0 : row0 + count]
        bag.sep_starts = sep_starts[b_soff[index] : b_soff[index + 1]]
        bag.cost_array = cost[row0 : row0 + count]
        bag.child_index = []
        for _ in bag.children:
            bag.child_index.append(links[e_off[edge] : e_off[edge] + count])
            edge += 1
    cost.flags.writeable = False
    # per bag, its costs' extremes (bags without rows add nothing)
    filled = np.diff(b_roff) > 0
    starts = b_roff[:-1][filled]
    high = np.maximum.reduceat(cost, starts) if len(starts) else cost[:0]
    low = np.minimum.reduceat(cost, starts) if len(starts) else cost[:0]
    tree.cost_span = sum((high - low).tolist()) + 1
    tree.cost_magnitude = sum(np.maximum(np.abs(high), np.abs(low)).tolist()) + 1
    return True


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
