"""Building a tree decomposition's bags: :func:`_fill`, one compiled call behind
``_build.materialise`` (its steps are described in :mod:`._build`). Rows are sorted, merged
and held in tries one column at a time, and no code ever combines several columns: any domain
sizes and widths fit in 64 bits. The kernel is plain Python over numpy arrays, compiled with
numba by :mod:`._build` (through :mod:`._jit`, cached on disk) and run uncompiled by the tests.

Status (the first output): ``(code, bag, rows, all rows, entries)``; code 0 done, 2 a bag has
more than ``bag_limit`` rows, 3 the rows would need more than ``entry_limit`` int64 entries
(then: the bag being joined, its rows and every bag's rows so far, and the entries the next
step would need), 4 another thread set the ``stop`` flag (a time limit passed; then: the bag
being worked on, and how many bags were joined). On a non-zero code only the status is
meaningful.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel_helper, plain_form
from ._whole_arrays import first_changes, sorted_rows

__all__: list[str] = []

#: A trie level whose parents x values span at most this many cells gets a dense lookup table.
_DENSE = 1 << 14

_TOO_BIG, _TOO_MUCH_MEMORY, _STOPPED = 2, 3, 4
#: Steps of a bag's join between two readings of the ``stop`` flag.
_STEPS_PER_LOOK = 1 << 16

# -- sorting rows, and tries of them ----------------------------------------------------------
#
# Level ``q`` of a trie numbers the distinct prefixes of length ``q + 1`` of a set of rows (its
# *nodes*) in lexicographic order. A store holds the levels of several tries in three growing
# int64 buffers: ``value`` (each node's value), ``kids`` (per level, for each node of the level
# above, the first of its nodes: its children are contiguous) and ``table`` (for small levels,
# the node per (parent, value), or -1), and counts what it uses of each. ``levels`` has one row
# per level: offsets into the three buffers (-1: no table) and the domain size. The join steps
# down a trie inline (:func:`_join_bag`): a call per step would cost more than the step.


@kernel_helper
def _grow(buffer: np.ndarray, needed: int) -> np.ndarray:
    """``buffer``, or a copy with room for at least ``needed`` entries (doubling)."""
    if needed <= buffer.shape[0]:
        return buffer
    grown = np.empty(max(2 * buffer.shape[0], needed), dtype=buffer.dtype)
    grown[: buffer.shape[0]] = buffer
    return grown


def _radix_sorted(rows: np.ndarray, columns: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The order of ``rows`` by their values on ``columns`` (lexicographic, stable), in
    compiled kernels: a radix sort, one stable pass per column from the last, counting values
    below ``sizes`` (a merge sort for a column whose domain is far larger than the rows)."""
    n = rows.shape[0]
    order = np.arange(n)
    for q in range(columns.shape[0] - 1, -1, -1):
        column = rows[:, columns[q]]
        if sizes[q] > 4 * n + 64:
            order = order[np.argsort(column[order], kind="mergesort")]
            continue
        at = np.zeros(sizes[q] + 1, dtype=np.int64)
        for i in range(n):
            at[column[i] + 1] += 1
        for v in range(sizes[q]):
            at[v + 1] += at[v]
        placed = np.empty(n, dtype=np.int64)
        for i in range(n):
            v = column[order[i]]
            placed[at[v]] = order[i]
            at[v] += 1
        order = placed
    return order


def _changes_looped(rows: np.ndarray, columns: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Per row in ``order``, the first of ``columns`` where it differs from the row before
    (0 for the first row; the number of columns where they are equal), in compiled kernels."""
    change = np.zeros(order.shape[0], dtype=np.int64)
    for i in range(1, order.shape[0]):
        d = 0
        while d < columns.shape[0] and (
            rows[order[i], columns[d]] == rows[order[i - 1], columns[d]]
        ):
            d += 1
        change[i] = d
    return change


# what uncompiled kernels call: whole-array forms of the two loops above
_sorted = plain_form(_radix_sorted)(sorted_rows)
_changes = plain_form(_changes_looped)(first_changes)


@kernel_helper
def _trie(
    rows: np.ndarray,
    columns: np.ndarray,
    sizes: np.ndarray,
    levels: np.ndarray,
    first: int,
    store: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add the trie of ``rows`` over ``columns`` (values below ``sizes``) to ``store``, its
    levels described from row ``first`` of ``levels``; returns the store (its buffers may have
    grown).

    The rows in lexicographic order open a node on every level from the first column where
    they differ from the row before; a node opened with its parent is the parent's first."""
    value, kids, table, used = store
    n, k = rows.shape[0], columns.shape[0]
    order = _sorted(rows, columns, sizes)
    change = _changes(rows, columns, order)
    nodes = np.zeros(k + 1, dtype=np.int64)  # per level: how many (the root's level: 1)
    nodes[0] = 1
    for i in range(n):
        for q in range(change[i], k):
            nodes[q + 1] += 1
    for q in range(k):
        levels[first + q, 0] = used[0]
        levels[first + q, 1] = used[1]
        levels[first + q, 2] = -1
        levels[first + q, 3] = sizes[q]
        used[0] += nodes[q + 1]
        used[1] += nodes[q] + 1
    value = _grow(value, used[0])
    kids = _grow(kids, used[1])
    for q in range(k):
        kids[levels[first + q, 1]] = 0
        kids[levels[first + q, 1] + nodes[q]] = nodes[q + 1]
    last = np.full(k + 1, -1, dtype=np.int64)  # per level: the latest node
    last[0] = 0
    for i in range(n):
        for q in range(change[i], k):
            last[q + 1] += 1
            value[levels[first + q, 0] + last[q + 1]] = rows[order[i], columns[q]]
            if q > change[i]:
                kids[levels[first + q, 1] + last[q]] = last[q + 1]
    for q in range(k):  # small levels: a table of nodes by (parent, value)
        size = sizes[q]
        if nodes[q] * size <= _DENSE:
            to = used[2]
            table = _grow(table, to + nodes[q] * size)
            table[to : to + nodes[q] * size] = -1
            vo, ko = levels[first + q, 0], levels[first + q, 1]
            for p in range(nodes[q]):
                for child in range(kids[ko + p], kids[ko + p + 1]):
                    table[to + p * size + value[vo + child]] = child
            levels[first + q, 2] = to
            used[2] += nodes[q] * size
    return value, kids, table, used


@kernel_helper
def _lookup(
    table: np.ndarray,
    table_columns: np.ndarray,
    sizes: np.ndarray,
    rows: np.ndarray,
    columns: np.ndarray,
) -> np.ndarray:
    """For each of ``rows`` (read over ``columns``), a row of ``table`` (read over
    ``table_columns``, values below ``sizes``) with the same values, or -1: both sorted, then
    merged."""
    ours = _sorted(table, table_columns, sizes)
    theirs = _sorted(rows, columns, sizes)
    found = np.full(rows.shape[0], -1, dtype=np.int64)
    i = 0
    for j in range(theirs.shape[0]):
        row = rows[theirs[j]]
        while i < ours.shape[0]:
            entry = table[ours[i]]
            d = 0
            while d < columns.shape[0] and entry[table_columns[d]] == row[columns[d]]:
                d += 1
            if d == columns.shape[0]:
                found[theirs[j]] = ours[i]
                break
            if entry[table_columns[d]] > row[columns[d]]:
                break
            i += 1
    return found


@kernel_helper
def _bag_matrix(
    buf: np.ndarray, b_boff: np.ndarray, b_rows: np.ndarray, b_dstart: np.ndarray, b: int
) -> np.ndarray:
    """Bag ``b``'s rows in ``buf`` (from ``b_boff[b]``, ``b_rows[b]`` of them), as a (rows x
    columns) view."""
    width = b_dstart[b + 1] - b_dstart[b]
    return buf[b_boff[b] : b_boff[b] + b_rows[b] * width].reshape(b_rows[b], width)


@kernel_helper
def _join_bag(
    b: int,
    inputs: tuple[tuple[np.ndarray, ...], ...],
    levels: np.ndarray,
    buf: np.ndarray,
    b_boff: np.ndarray,
    b_rows: np.ndarray,
    stored: int,
    limits: tuple[int, int],
    status: np.ndarray,
    stop: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Bag ``b``'s consistent rows, appended to ``buf`` from ``b_boff[b]`` (columns in bag
    order): the depth-first join of the module's docstring, over the tries of its relations
    (levels at their positions' rows of ``levels``). Returns the buffer (grown when needed) and
    the number of rows; sets ``status`` when a limit or the ``stop`` flag stops it
    (``stored``: every earlier bag's rows)."""
    bags, variables, tables, relations, placed, edges, _ = inputs
    _, b_dstart, col_var, _, _ = bags
    _, v_start, v_vals = variables
    t_start, t_rows, t_vals = tables
    b_rel_start, r_kind, r_src, r_pstart, _ = relations
    d_col, _, r_col, r_size, first, due_start, due = placed
    bag_limit, entry_limit = limits
    empty = np.zeros(0, dtype=np.int64)
    store = (empty, empty, empty, np.zeros(3, dtype=np.int64))
    for r in range(b_rel_start[b], b_rel_start[b + 1]):
        p0, p1 = r_pstart[r], r_pstart[r + 1]
        if r_kind[r] == 0:
            t = r_src[r]
            relation = t_vals[t_start[t] : t_start[t + 1]].reshape(t_rows[t], p1 - p0)
        else:
            relation = _bag_matrix(buf, b_boff, b_rows, b_dstart, edges[1][r_src[r]])
        if relation.shape[0] == 0:
            return buf, 0
        store = _trie(relation, r_col[p0:p1], r_size[p0:p1], levels, p0, store)
    trie_value, kids, table, _ = store
    used = b_boff[b]
    d0 = b_dstart[b]
    width = b_dstart[b + 1] - d0
    if width == 0:
        return buf, 1
    checks = due_start[d0 + b : d0 + b + width + 1]  # per depth, the positions due in ``due``
    node = np.empty(levels.shape[0], dtype=np.int64)  # per position: the partial row's node
    partial = np.empty(width, dtype=np.int64)
    tried = np.empty(width, dtype=np.int64)
    rows = 0
    steps = 0
    d = 0
    tried[0] = -1
    while d >= 0:
        steps += 1
        if steps % _STEPS_PER_LOOK == 0 and stop[0]:
            status[0], status[1] = _STOPPED, b
            return buf, rows
        tried[d] += 1
        var = col_var[d0 + d_col[d0 + d]]
        if tried[d] >= v_start[var + 1] - v_start[var]:
            d -= 1
            continue
        value = v_vals[v_start[var] + tried[d]]
        partial[d] = value
        good = True
        for k in range(checks[d], checks[d + 1]):  # the trie step of each position due
            q = due[k]
            parent = 0 if first[q] else node[q - 1]
            size = levels[q, 3]
            if levels[q, 2] >= 0:
                found = table[levels[q, 2] + parent * size + value]
            else:
                lo = kids[levels[q, 1] + parent]
                hi = end = kids[levels[q, 1] + parent + 1]
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if trie_value[levels[q, 0] + mid] < value:
                        lo = mid + 1
                    else:
                        hi = mid
                found = lo if lo < end and trie_value[levels[q, 0] + lo] == value else -1
            if found < 0:
                good = False
                break
            node[q] = found
        if not good:
            continue
        if d < width - 1:
            d += 1
            tried[d] = -1
            continue
        if used + width > buf.shape[0]:
            # what the rows take: the grown buffer and the one copied into it, then a handful
            # of numbers per row (keys, order, costs, links)
            needed = max(2 * buf.shape[0], used + width) + used + 8 * (stored + rows)
            if needed > entry_limit:
                status[0], status[1], status[2] = _TOO_MUCH_MEMORY, b, rows
                status[3], status[4] = stored + rows, needed
                return buf, rows
            buf = _grow(buf, used + width)
        for dd in range(width):
            buf[used + d_col[d0 + dd]] = partial[dd]
        used += width
        rows += 1
        if rows > bag_limit:
            status[0], status[1] = _TOO_BIG, b
            return buf, rows
    return buf, rows


@kernel_helper
def _edge(
    bags: tuple[np.ndarray, ...],
    edges: tuple[np.ndarray, ...],
    variables: tuple[np.ndarray, ...],
    b: int,
    e: int,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Edge ``e`` from bag ``b``: the child, the child's separator columns, the parent's
    columns for the same variables, and their domain sizes."""
    _, b_dstart, col_var, b_sep_start, sep_col = bags
    _, e_child, e_pstart, e_pcol = edges
    c = e_child[e]
    key = sep_col[b_sep_start[c] : b_sep_start[c + 1]]
    return c, key, e_pcol[e_pstart[e] : e_pstart[e + 1]], variables[0][col_var[b_dstart[c] + key]]


@kernel_helper
def _semijoin(
    bags: tuple[np.ndarray, ...],
    edges: tuple[np.ndarray, ...],
    variables: tuple[np.ndarray, ...],
    buf: np.ndarray,
    b_boff: np.ndarray,
    b_rows: np.ndarray,
    stop: np.ndarray,
) -> None:
    """Top-down, keep a child's rows whose separator key its parent has (``b_rows`` shrinks;
    the kept rows move to the front of the child's rows in ``buf``); returns early when the
    ``stop`` flag is set."""
    postorder, b_dstart, _, _, _ = bags
    b_edge_start = edges[0]
    for oi in range(postorder.shape[0] - 1, -1, -1):
        if stop[0]:
            return
        b = postorder[oi]
        parent = _bag_matrix(buf, b_boff, b_rows, b_dstart, b)
        for e in range(b_edge_start[b], b_edge_start[b + 1]):
            c, key, columns, key_sizes = _edge(bags, edges, variables, b, e)
            child = _bag_matrix(buf, b_boff, b_rows, b_dstart, c)
            found = _lookup(parent, columns, key_sizes, child, key)
            kept = 0
            for i in range(child.shape[0]):
                if found[i] >= 0:
                    if kept != i:
                        child[kept, :] = child[i, :]
                    kept += 1
            b_rows[c] = kept


@kernel_helper
def _number(
    bags: tuple[np.ndarray, ...],
    variables: tuple[np.ndarray, ...],
    buf: np.ndarray,
    b_boff: np.ndarray,
    b_rows: np.ndarray,
    stop: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Each bag's rows sorted by the key they share with the parent (stable), the keys
    numbered in lexicographic order: (values, value offsets, row offsets, key ids, key starts,
    key offsets); the bags after the ``stop`` flag is set are left unsorted."""
    _, b_dstart, col_var, b_sep_start, sep_col = bags
    sizes, _, _ = variables
    nbags = b_dstart.shape[0] - 1
    b_roff = np.zeros(nbags + 1, dtype=np.int64)
    b_voff = np.zeros(nbags + 1, dtype=np.int64)
    for b in range(nbags):
        b_roff[b + 1] = b_roff[b] + b_rows[b]
        b_voff[b + 1] = b_voff[b] + b_rows[b] * (b_dstart[b + 1] - b_dstart[b])
    vals = np.empty(b_voff[nbags], dtype=np.int64)
    sep_ids = np.empty(b_roff[nbags], dtype=np.int64)
    sep_starts = np.empty(b_roff[nbags], dtype=np.int64)
    b_soff = np.zeros(nbags + 1, dtype=np.int64)
    for b in range(nbags):
        if stop[0]:
            break
        rows = _bag_matrix(buf, b_boff, b_rows, b_dstart, b)
        n, width = rows.shape
        columns = sep_col[b_sep_start[b] : b_sep_start[b + 1]]
        order = _sorted(rows, columns, sizes[col_var[b_dstart[b] + columns]])
        change = _changes(rows, columns, order)
        key = -1
        for i in range(n):
            if i == 0 or change[i] < columns.shape[0]:
                key += 1
                sep_starts[b_soff[b] + key] = i
            sep_ids[b_roff[b] + i] = key
            vals[b_voff[b] + i * width : b_voff[b] + (i + 1) * width] = rows[order[i]]
        b_soff[b + 1] = b_soff[b] + key + 1
    return vals, b_voff, b_roff, sep_ids, sep_starts[: b_soff[nbags]], b_soff


@kernel_helper
def _append(out: np.ndarray, off: np.ndarray, i: int, found: np.ndarray) -> np.ndarray:
    """``out`` with ``found`` as its run ``i`` (from ``off[i]``; sets ``off[i + 1]``)."""
    off[i + 1] = off[i] + found.shape[0]
    out = _grow(out, off[i + 1])
    out[off[i] : off[i + 1]] = found
    return out


@kernel_helper
def _matches(
    inputs: tuple[tuple[np.ndarray, ...], ...], numbered: tuple[np.ndarray, ...], stop: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per edge and parent row, the id of the key the row shares with the child (the links);
    per cost factor and row of its bag, the factor's table row that matches the row, or -1
    (the hits). Returns both, each with its runs' offsets (per edge, per factor); the bags
    after the ``stop`` flag is set are left out."""
    bags, variables, _, _, _, edges, factors = inputs
    _, b_dstart, col_var, _, _ = bags
    b_edge_start, e_child, _, _ = edges
    b_fac_start, f_pstart, f_col, f_tstart, f_trows, f_vals = factors
    sizes, _, _ = variables
    vals, b_voff, b_roff, sep_ids, _, _ = numbered
    counts = b_roff[1:] - b_roff[:-1]
    e_off = np.zeros(e_child.shape[0] + 1, dtype=np.int64)
    f_off = np.zeros(f_trows.shape[0] + 1, dtype=np.int64)
    links = hits = np.empty(0, dtype=np.int64)
    for b in range(b_dstart.shape[0] - 1):
        if stop[0]:
            break
        rows = _bag_matrix(vals, b_voff, counts, b_dstart, b)
        for e in range(b_edge_start[b], b_edge_start[b + 1]):
            c, key, columns, key_sizes = _edge(bags, edges, variables, b, e)
            child = _bag_matrix(vals, b_voff, counts, b_dstart, c)
            found = _lookup(child, key, key_sizes, rows, columns)
            links = _append(links, e_off, e, sep_ids[b_roff[c] + found])
        for f in range(b_fac_start[b], b_fac_start[b + 1]):
            columns = f_col[f_pstart[f] : f_pstart[f + 1]]
            arity = columns.shape[0]
            table = f_vals[f_tstart[f] : f_tstart[f + 1]].reshape(f_trows[f], arity)
            scope = sizes[col_var[b_dstart[b] + columns]]
            hits = _append(hits, f_off, f, _lookup(table, np.arange(arity), scope, rows, columns))
    return links[: e_off[-1]], e_off, hits[: f_off[-1]], f_off


def _fill(
    bags: tuple[np.ndarray, ...],
    variables: tuple[np.ndarray, ...],
    tables: tuple[np.ndarray, ...],
    relations: tuple[np.ndarray, ...],
    placed: tuple[np.ndarray, ...],
    edges: tuple[np.ndarray, ...],
    factors: tuple[np.ndarray, ...],
    limits: tuple[int, int],
    stop: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Join, semi-join, sort, number, link and match every bag (see the module's docstring).

    The arguments are the named tuples of :mod:`._build` (``Bags``, ``Variables``, ...), read
    by position; ``limits``: (rows of one bag, int64 entries of all); ``stop``: a flag another
    thread may set to stop the work (read between bags and every few thousand join steps;
    the compiled kernel runs without holding the interpreter). Returns (status, values,
    value offsets, row offsets, key ids, key starts, key offsets, links, link offsets, factor
    hits, hit offsets): per edge, the parent's rows' key ids in the child; per factor, the rows
    of its bag's matching table rows, or -1.
    """
    postorder, b_dstart, _, _, _ = bags
    nbags = b_dstart.shape[0] - 1
    status = np.zeros(5, dtype=np.int64)
    levels = np.empty((max(1, placed[1].shape[0]), 4), dtype=np.int64)  # per position
    buf = np.empty(4096, dtype=np.int64)
    used = 0
    stored = 0  # rows of every bag so far
    b_boff = np.zeros(nbags, dtype=np.int64)
    b_rows = np.zeros(nbags, dtype=np.int64)
    inputs = (bags, variables, tables, relations, placed, edges, factors)
    for oi in range(nbags):
        b = postorder[oi]
        b_boff[b] = used
        rows = 0
        if stop[0]:
            status[0], status[1] = _STOPPED, b
        else:
            buf, rows = _join_bag(
                b, inputs, levels, buf, b_boff, b_rows, stored, limits, status, stop
            )
        if status[0] != 0:
            if status[0] == _STOPPED:
                status[2] = oi
            empty = np.zeros(0, dtype=np.int64)
            return status, empty, empty, empty, empty, empty, empty, empty, empty, empty, empty
        b_rows[b] = rows
        used += rows * (b_dstart[b + 1] - b_dstart[b])
        stored += rows
    _semijoin(bags, edges, variables, buf, b_boff, b_rows, stop)
    numbered = _number(bags, variables, buf, b_boff, b_rows, stop)
    links, e_off, hits, f_off = _matches(inputs, numbered, stop)
    if stop[0]:  # (every bag is joined; a later step stopped)
        status[0], status[1], status[2] = _STOPPED, postorder[nbags - 1], nbags
        empty = np.zeros(0, dtype=np.int64)
        return status, empty, empty, empty, empty, empty, empty, empty, empty, empty, empty
    vals, b_voff, b_roff, sep_ids, sep_starts, b_soff = numbered
    return status, vals, b_voff, b_roff, sep_ids, sep_starts, b_soff, links, e_off, hits, f_off
