"""The bag-building kernel: :func:`_fill`, the one compiled call behind ``_build.materialise``.

Given a tree's bags, variables, relations (rule tables and children's separator keys) and cost
factors laid out as flat int64 arrays, :func:`_fill` joins every bag's tuples depth first
(bottom-up, children before parents), semi-joins them top-down, sorts each bag by the key it
shares with its parent, numbers those keys, links every row to its children's keys and prices
it. It is plain Python over numpy arrays, compiled with numba (``_kernels.jit``: cached on disk
per module) by :mod:`._build`, which also lays out the inputs and reads the results.

Invariants the caller guarantees: row codes and costs stay below 2**62 (``_build`` declines
otherwise), so nothing overflows int64. ``status[0]`` is one of ``_build``'s codes: 0 done,
1 a bag's join tried more than ``step_limit`` values, 2 a bag has more than ``bag_limit`` rows,
3 the rows would need more than ``entry_limit`` int64 entries (``_OK``, ``_STEPS``,
``_TOO_BIG``, ``_TOO_MUCH_MEMORY`` there); on a non-zero status only ``status`` is meaningful.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []

#: Relations with at most this many codes are checked through prefix bitmaps.
_DENSE = 1 << 14


def _fill(
    postorder: np.ndarray,
    sizes: np.ndarray,
    v_start: np.ndarray,
    v_vals: np.ndarray,
    u_start: np.ndarray,
    ucost: np.ndarray,
    t_start: np.ndarray,
    t_rows: np.ndarray,
    t_vals: np.ndarray,
    b_dstart: np.ndarray,
    col_var: np.ndarray,
    b_sep_start: np.ndarray,
    sep_col: np.ndarray,
    b_own_start: np.ndarray,
    own_col: np.ndarray,
    b_rel_start: np.ndarray,
    r_kind: np.ndarray,
    r_src: np.ndarray,
    r_pstart: np.ndarray,
    r_var: np.ndarray,
    b_edge_start: np.ndarray,
    e_child: np.ndarray,
    e_pstart: np.ndarray,
    e_pcol: np.ndarray,
    b_fac_start: np.ndarray,
    f_pstart: np.ndarray,
    f_col: np.ndarray,
    f_size: np.ndarray,
    f_tstart: np.ndarray,
    f_vals: np.ndarray,
    f_amount: np.ndarray,
    step_limit: int,
    bag_limit: int,
    entry_limit: int,
) -> tuple[np.ndarray, ...]:
    """Join, semi-join, sort, number, link and price every bag (see the module's docstring).

    Returns (status, values, value offsets, row offsets, separator ids, separator starts,
    their offsets, child links, link offsets, costs); status is (code, bag, rows, all rows,
    entries): when the rows would need more than ``entry_limit`` int64 entries, the bag being
    joined, its rows and every bag's rows so far, and the entries the next step would need.
    """
    nbags = b_dstart.shape[0] - 1
    status = np.zeros(5, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    # each bag's join order: its columns by the relations reading them (most first), then by
    # their allowed values (fewest first), else in column order
    d_col = np.empty(col_var.shape[0], dtype=np.int64)
    degree = np.zeros(col_var.shape[0], dtype=np.int64)
    for b in range(nbags):
        d0 = b_dstart[b]
        width = b_dstart[b + 1] - d0
        for r in range(b_rel_start[b], b_rel_start[b + 1]):
            for q in range(r_pstart[r], r_pstart[r + 1]):
                for c in range(width):
                    if col_var[d0 + c] == r_var[q]:
                        degree[d0 + c] += 1
                        break
        for i in range(width):
            column = i
            var = col_var[d0 + column]
            count = v_start[var + 1] - v_start[var]
            j = i - 1
            while j >= 0:
                other = d_col[d0 + j]
                other_var = col_var[d0 + other]
                other_count = v_start[other_var + 1] - v_start[other_var]
                if degree[d0 + other] > degree[d0 + column] or (
                    degree[d0 + other] == degree[d0 + column] and other_count <= count
                ):
                    break
                d_col[d0 + j + 1] = other
                j -= 1
            d_col[d0 + j + 1] = column
    # each relation position's depth in its bag's join order, its variable's domain size and
    # its column in the relation's rows: a rule's own column, or the child's separator column
    # (a child's separator columns are in the order of the parent's positions)
    r_depth = np.empty(r_var.shape[0], dtype=np.int64)
    r_size = np.empty(r_var.shape[0], dtype=np.int64)
    r_col = np.empty(r_var.shape[0], dtype=np.int64)
    for b in range(nbags):
        d0 = b_dstart[b]
        for r in range(b_rel_start[b], b_rel_start[b + 1]):
            p0 = r_pstart[r]
            for q in range(p0, r_pstart[r + 1]):
                var = r_var[q]
                r_size[q] = sizes[var]
                if r_kind[r] == 0:
                    r_col[q] = q - p0
                else:
                    r_col[q] = sep_col[b_sep_start[e_child[r_src[r]]] + q - p0]
                for d in range(b_dstart[b + 1] - d0):
                    if col_var[d0 + d_col[d0 + d]] == var:
                        r_depth[q] = d
                        break
    # each relation's positions in order of depth (insertion sort: a handful each)
    for r in range(r_kind.shape[0]):
        for q in range(r_pstart[r] + 1, r_pstart[r + 1]):
            depth, column, size = r_depth[q], r_col[q], r_size[q]
            j = q - 1
            while j >= r_pstart[r] and r_depth[j] > depth:
                r_depth[j + 1] = r_depth[j]
                r_col[j + 1] = r_col[j]
                r_size[j + 1] = r_size[j]
                j -= 1
            r_depth[j + 1] = depth
            r_col[j + 1] = column
            r_size[j + 1] = size
    # suffix products: position q of a relation weighs r_stride[q] in its row codes
    r_stride = np.ones(r_size.shape[0], dtype=np.int64)
    for r in range(r_kind.shape[0]):
        weight = 1
        for q in range(r_pstart[r + 1] - 1, r_pstart[r] - 1, -1):
            r_stride[q] = weight
            weight *= r_size[q]
    max_width = 1
    for b in range(nbags):
        max_width = max(max_width, b_dstart[b + 1] - b_dstart[b])
    partial = np.zeros(max_width, dtype=np.int64)
    tried = np.zeros(max_width, dtype=np.int64)
    due_start = np.zeros(max_width + 1, dtype=np.int64)
    due_fill = np.zeros(max_width + 1, dtype=np.int64)
    positions = r_size.shape[0]
    due_q = np.zeros(positions, dtype=np.int64)
    due_r = np.zeros(positions, dtype=np.int64)
    q_code = np.zeros(positions, dtype=np.int64)
    q_lo = np.zeros(positions, dtype=np.int64)
    q_hi = np.zeros(positions, dtype=np.int64)
    # relations whose codes span at most _DENSE values are checked through a bitmap of every
    # prefix of their rows (one lookup) instead of binary searches over the sorted codes
    dense = np.zeros(r_kind.shape[0], dtype=np.bool_)
    pre_off = np.zeros(positions, dtype=np.int64)
    # -- bottom-up join into one growing buffer
    capacity = 4096
    buf = np.empty(capacity, dtype=np.int64)
    used = 0
    stored = 0  # rows of every bag so far
    b_boff = np.zeros(nbags, dtype=np.int64)
    b_rows = np.zeros(nbags, dtype=np.int64)
    for oi in range(nbags):
        b = postorder[oi]
        d0 = b_dstart[b]
        width = b_dstart[b + 1] - d0
        r0 = b_rel_start[b]
        r1 = b_rel_start[b + 1]
        total = 0
        for r in range(r0, r1):
            if r_kind[r] == 0:
                total += t_rows[r_src[r]]
            else:
                total += b_rows[e_child[r_src[r]]]
        codes = np.empty(total, dtype=np.int64)
        c_off = np.zeros(r1 - r0 + 1, dtype=np.int64)
        possible = True
        at = 0
        for r in range(r0, r1):
            c_off[r - r0] = at
            p0 = r_pstart[r]
            p1 = r_pstart[r + 1]
            if r_kind[r] == 0:
                t = r_src[r]
                n = t_rows[t]
                base = t_start[t]
                arity = p1 - p0
                for i in range(n):
                    code = 0
                    for q in range(p0, p1):
                        code = code * r_size[q] + t_vals[base + i * arity + r_col[q]]
                    codes[at + i] = code
            else:
                c = e_child[r_src[r]]
                n = b_rows[c]
                base = b_boff[c]
                child_width = b_dstart[c + 1] - b_dstart[c]
                for i in range(n):
                    code = 0
                    for q in range(p0, p1):
                        code = code * r_size[q] + buf[base + i * child_width + r_col[q]]
                    codes[at + i] = code
            if n == 0:
                possible = False
            dense[r] = p1 > p0 and r_stride[p0] * r_size[p0] <= _DENSE
            if not dense[r]:
                codes[at : at + n].sort()
            at += n
        c_off[r1 - r0] = at
        bits = 0
        for r in range(r0, r1):
            if dense[r]:
                span = 1
                for q in range(r_pstart[r], r_pstart[r + 1]):
                    span *= r_size[q]
                    pre_off[q] = bits
                    bits += span
        bitmap = np.zeros(bits, dtype=np.bool_)
        for r in range(r0, r1):
            if dense[r]:
                for i in range(c_off[r - r0], c_off[r - r0 + 1]):
                    for q in range(r_pstart[r], r_pstart[r + 1]):
                        bitmap[pre_off[q] + codes[i] // r_stride[q]] = True
        b_boff[b] = used
        rows = 0
        if possible and width == 0:
            rows = 1
        elif possible:
            # the checks due at each depth: (relation, position), in order of depth
            for d in range(width + 1):
                due_start[d] = 0
            for q in range(r_pstart[r0], r_pstart[r1]):
                due_start[r_depth[q] + 1] += 1
            for d in range(width):
                due_start[d + 1] += due_start[d]
            for d in range(width):
                due_fill[d] = due_start[d]
            for r in range(r0, r1):
                for q in range(r_pstart[r], r_pstart[r + 1]):
                    slot = due_fill[r_depth[q]]
                    due_q[slot] = q
                    due_r[slot] = r
                    due_fill[r_depth[q]] += 1
            steps = 0
            d = 0
            tried[0] = -1
            while d >= 0:
                tried[d] += 1
                var = col_var[d0 + d_col[d0 + d]]
                vs = v_start[var]
                if tried[d] >= v_start[var + 1] - vs:
                    d -= 1
                    continue
                steps += 1
                if steps > step_limit:
                    status[0] = 1
                    status[1] = b
                    return status, empty, empty, empty, empty, empty, empty, empty, empty, empty
                value = v_vals[vs + tried[d]]
                partial[d] = value
                good = True
                for k in range(due_start[d], due_start[d + 1]):
                    q = due_q[k]
                    r = due_r[k]
                    if dense[r]:
                        code = value if q == r_pstart[r] else q_code[q - 1] * r_size[q] + value
                        if not bitmap[pre_off[q] + code]:
                            good = False
                            break
                        q_code[q] = code
                        continue
                    if q == r_pstart[r]:
                        code = value
                        lo = c_off[r - r0]
                        hi = c_off[r - r0 + 1]
                    else:
                        code = q_code[q - 1] * r_size[q] + value
                        lo = q_lo[q - 1]
                        hi = q_hi[q - 1]
                    low = code * r_stride[q]
                    high = low + r_stride[q]
                    # first code >= low, then first code >= high, within [lo, hi)
                    a = lo
                    z = hi
                    while a < z:
                        m = (a + z) >> 1
                        if codes[m] < low:
                            a = m + 1
                        else:
                            z = m
                    if a >= hi or codes[a] >= high:
                        good = False
                        break
                    z = hi
                    y = a
                    while y < z:
                        m = (y + z) >> 1
                        if codes[m] < high:
                            y = m + 1
                        else:
                            z = m
                    q_code[q] = code
                    q_lo[q] = a
                    q_hi[q] = y
                if not good:
                    continue
                if d == width - 1:
                    if used + width > capacity:
                        capacity = max(2 * capacity, used + width)
                        # what the rows take: the grown buffer and the one copied into it, then
                        # a handful of numbers per row (keys, order, costs, links)
                        needed = capacity + used + 8 * stored
                        if needed > entry_limit:
                            status[0] = 3
                            status[1] = b
                            status[2] = rows
                            status[3] = stored
                            status[4] = needed
                            return (
                                status,
                                empty,
                                empty,
                                empty,
                                empty,
                                empty,
                                empty,
                                empty,
                                empty,
                                empty,
                            )
                        grown = np.empty(capacity, dtype=np.int64)
                        grown[:used] = buf[:used]
                        buf = grown
                    for dd in range(width):
                        buf[used + d_col[d0 + dd]] = partial[dd]
                    used += width
                    rows += 1
                    stored += 1
                    if rows > bag_limit:
                        status[0] = 2
                        status[1] = b
                        return status, empty, empty, empty, empty, empty, empty, empty, empty, empty
                else:
                    d += 1
                    tried[d] = -1
        b_rows[b] = rows
    # -- top-down semi-join: keep a child's rows whose key its parent has
    for oi in range(nbags - 1, -1, -1):
        b = postorder[oi]
        d0 = b_dstart[b]
        width = b_dstart[b + 1] - d0
        base = b_boff[b]
        for e in range(b_edge_start[b], b_edge_start[b + 1]):
            c = e_child[e]
            q0 = e_pstart[e]
            q1 = e_pstart[e + 1]
            keys = np.empty(b_rows[b], dtype=np.int64)
            for i in range(b_rows[b]):
                code = 0
                for q in range(q0, q1):
                    column = e_pcol[q]
                    code = code * sizes[col_var[d0 + column]] + buf[base + i * width + column]
                keys[i] = code
            keys.sort()
            cd0 = b_dstart[c]
            child_width = b_dstart[c + 1] - cd0
            child_base = b_boff[c]
            s0 = b_sep_start[c]
            kept = 0
            for i in range(b_rows[c]):
                code = 0
                for k in range(q1 - q0):
                    column = sep_col[s0 + k]
                    code = (
                        code * sizes[col_var[cd0 + column]]
                        + buf[child_base + i * child_width + column]
                    )
                found = np.searchsorted(keys, code)
                if found < keys.shape[0] and keys[found] == code:
                    if kept != i:
                        for w in range(child_width):
                            buf[child_base + kept * child_width + w] = buf[
                                child_base + i * child_width + w
                            ]
                    kept += 1
            b_rows[c] = kept
    # -- sort each bag by its separator key, number the keys
    b_roff = np.zeros(nbags + 1, dtype=np.int64)
    b_voff = np.zeros(nbags + 1, dtype=np.int64)
    for b in range(nbags):
        b_roff[b + 1] = b_roff[b] + b_rows[b]
        b_voff[b + 1] = b_voff[b] + b_rows[b] * (b_dstart[b + 1] - b_dstart[b])
    total_rows = b_roff[nbags]
    scode = np.empty(total_rows, dtype=np.int64)
    perm = np.empty(total_rows, dtype=np.int64)
    b_soff = np.zeros(nbags + 1, dtype=np.int64)
    for b in range(nbags):
        d0 = b_dstart[b]
        width = b_dstart[b + 1] - d0
        base = b_boff[b]
        ro = b_roff[b]
        n = b_rows[b]
        raw = np.empty(n, dtype=np.int64)
        for i in range(n):
            code = 0
            for k in range(b_sep_start[b], b_sep_start[b + 1]):
                column = sep_col[k]
                code = code * sizes[col_var[d0 + column]] + buf[base + i * width + column]
            raw[i] = code
        order = np.argsort(raw, kind="mergesort")
        distinct = 0
        for i in range(n):
            perm[ro + i] = order[i]
            scode[ro + i] = raw[order[i]]
            if i == 0 or scode[ro + i] != scode[ro + i - 1]:
                distinct += 1
        b_soff[b + 1] = b_soff[b] + distinct
    vals = np.empty(b_voff[nbags], dtype=np.int64)
    sep_ids = np.empty(total_rows, dtype=np.int64)
    sep_starts = np.empty(b_soff[nbags], dtype=np.int64)
    dcodes = np.empty(b_soff[nbags], dtype=np.int64)
    cost = np.zeros(total_rows, dtype=np.int64)
    # factor tables as sorted codes with their amounts
    nfac = f_pstart.shape[0] - 1
    f_codes = np.empty(f_amount.shape[0], dtype=np.int64)
    f_sorted = np.empty(f_amount.shape[0], dtype=np.int64)
    f_off = np.zeros(nfac + 1, dtype=np.int64)
    for f in range(nfac):
        p0 = f_pstart[f]
        p1 = f_pstart[f + 1]
        arity = p1 - p0
        n = (f_tstart[f + 1] - f_tstart[f]) // arity if arity else 1
        f_off[f + 1] = f_off[f] + n
        raw = np.empty(n, dtype=np.int64)
        for i in range(n):
            code = 0
            for q in range(p0, p1):
                code = code * f_size[q] + f_vals[f_tstart[f] + i * arity + q - p0]
            raw[i] = code
        order = np.argsort(raw)
        for i in range(n):
            f_codes[f_off[f] + i] = raw[order[i]]
            f_sorted[f_off[f] + i] = f_amount[f_off[f] + order[i]]
    for b in range(nbags):
        d0 = b_dstart[b]
        width = b_dstart[b + 1] - d0
        base = b_boff[b]
        ro = b_roff[b]
        vo = b_voff[b]
        so = b_soff[b]
        key = -1
        for i in range(b_rows[b]):
            source = base + perm[ro + i] * width
            for w in range(width):
                vals[vo + i * width + w] = buf[source + w]
            if i == 0 or scode[ro + i] != scode[ro + i - 1]:
                key += 1
                sep_starts[so + key] = i
                dcodes[so + key] = scode[ro + i]
            sep_ids[ro + i] = key
            amount = 0
            for k in range(b_own_start[b], b_own_start[b + 1]):
                column = own_col[k]
                amount += ucost[u_start[col_var[d0 + column]] + buf[source + column]]
            for f in range(b_fac_start[b], b_fac_start[b + 1]):
                code = 0
                for q in range(f_pstart[f], f_pstart[f + 1]):
                    code = code * f_size[q] + buf[source + f_col[q]]
                segment = f_codes[f_off[f] : f_off[f + 1]]
                found = np.searchsorted(segment, code)
                if found < segment.shape[0] and segment[found] == code:
                    amount += f_sorted[f_off[f] + found]
            cost[ro + i] = amount
    # -- link every row to the key it shares with each child
    nedges = e_child.shape[0]
    e_off = np.zeros(nedges + 1, dtype=np.int64)
    for b in range(nbags):
        for e in range(b_edge_start[b], b_edge_start[b + 1]):
            e_off[e + 1] = e_off[e] + b_rows[b]
    links = np.empty(e_off[nedges], dtype=np.int64)
    for b in range(nbags):
        d0 = b_dstart[b]
        width = b_dstart[b + 1] - d0
        vo = b_voff[b]
        for e in range(b_edge_start[b], b_edge_start[b + 1]):
            c = e_child[e]
            segment = dcodes[b_soff[c] : b_soff[c + 1]]
            for i in range(b_rows[b]):
                code = 0
                for q in range(e_pstart[e], e_pstart[e + 1]):
                    column = e_pcol[q]
                    code = code * sizes[col_var[d0 + column]] + vals[vo + i * width + column]
                links[e_off[e] + i] = np.searchsorted(segment, code)
    return status, vals, b_voff, b_roff, sep_ids, sep_starts, b_soff, links, e_off, cost
