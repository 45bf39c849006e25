"""The counting passes over a tree's flat layout, written once for every kind of count.

:func:`_up`, :func:`_down` and :func:`_marginals` count completions and track the cheapest key
at once (message passing over a rooted tree decomposition: the upward pass gives, per row, the
completions of its subtree; the downward pass, those outside it; their product, per value,
the completions through that value). How a count is stored and multiplied is the *count
system*, the ``moduli`` argument:

- ``None``: exact 64-bit counts, one per row (count arrays are 1-D). The caller chooses this
  when every count that can arise stays below 2**62 (see :func:`._residues.residue_system`),
  so no sum or product overflows.
- an array of primes below 2**31: residues modulo each prime, one row of residues per count
  (count arrays are 2-D, one column per prime, of ``uint32``: half the memory the passes read
  and write, which their random lookups of messages are bound by). Every residue stored is
  reduced: sums and products are worked out in 64 bits (a product of two residues fits) and
  reduced before they are stored. The caller turns the residues into exact integers by the
  Chinese remainder theorem (:mod:`._residues`).
- an empty array: no counts at all (count arrays with no column), for a pass that only wants
  the cheapest keys.

The passes touch counts only through the small functions below (:func:`_fill`, :func:`_copy`,
:func:`_add`, :func:`_sub`, :func:`_mul`, :func:`_add_product`, :func:`_clear`), each with
one branch per count system. numba compiles a separate copy of
a pass per system: with ``moduli`` None the residue branch is removed before typing, and with
an array the test
``moduli is None`` is a constant false, so the exact passes do no modular arithmetic and the
residue passes test nothing per row. (In the residue copy the exact branch is still typed,
with 2-D arrays: it must stay valid for them, which whole-row numpy operations are.)

Conventions shared with :mod:`._kernels`, which compiles these functions with the others: the
layout is that of :mod:`._layout`; a row is *alive* when its cheapest key is below ``big``;
keys are exact integers well below it, so "has a completion" needs no separate flag and a
residue that happens to be zero is never taken for a zero count. The functions are plain Python
over numpy arrays, so they also run uncompiled when keys do not fit in 64 bits (object arrays
of Python integers).
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel_helper
from ._layout import Columns, Layout, Tally
from ._residues import product_mod

__all__: list[str] = []


# -- the count arithmetic: row ``i`` of a count array is one count ------------------------------


@kernel_helper
def _fill(counts: np.ndarray, i: int, value: int, moduli: np.ndarray | None) -> None:
    """``counts[i] = value`` (0 or 1)."""
    if moduli is None:
        counts[i] = value
    else:
        for j in range(moduli.shape[0]):
            counts[i, j] = value


@kernel_helper
def _copy(
    counts: np.ndarray, i: int, source: np.ndarray, k: int, moduli: np.ndarray | None
) -> None:
    """``counts[i] = source[k]``."""
    if moduli is None:
        counts[i] = source[k]
    else:
        for j in range(moduli.shape[0]):
            counts[i, j] = source[k, j]


@kernel_helper
def _add(counts: np.ndarray, i: int, source: np.ndarray, k: int, moduli: np.ndarray | None) -> None:
    """``counts[i] += source[k]``."""
    if moduli is None:
        counts[i] += source[k]
    else:
        for j in range(moduli.shape[0]):
            total = np.int64(counts[i, j]) + np.int64(source[k, j])
            counts[i, j] = total - moduli[j] if total >= moduli[j] else total


@kernel_helper
def _mul(
    counts: np.ndarray,
    i: int,
    source: np.ndarray,
    k: int,
    moduli: np.ndarray | None,
    reciprocals: np.ndarray,
) -> None:
    """``counts[i] *= source[k]``, reduced."""
    if moduli is None:
        counts[i] *= source[k]
    else:
        for j in range(moduli.shape[0]):
            counts[i, j] = product_mod(counts[i, j], source[k, j], moduli[j], reciprocals[j])


@kernel_helper
def _sub(counts: np.ndarray, i: int, source: np.ndarray, k: int, moduli: np.ndarray | None) -> None:
    """``counts[i] -= source[k]``."""
    if moduli is None:
        counts[i] -= source[k]
    else:
        for j in range(moduli.shape[0]):
            difference = np.int64(counts[i, j]) - np.int64(source[k, j])
            counts[i, j] = difference + moduli[j] if difference < 0 else difference


@kernel_helper
def _reciprocals(moduli: np.ndarray | None) -> np.ndarray:
    """Each modulus's reciprocal, for :func:`._residues.product_mod` (none in the exact
    system)."""
    if moduli is None:
        return np.empty(0, dtype=np.float64)
    return 1.0 / moduli.astype(np.float64)


@kernel_helper
def _add_product(
    counts: np.ndarray,
    i: int,
    left: np.ndarray,
    a: int,
    right: np.ndarray,
    b: int,
    moduli: np.ndarray | None,
    reciprocals: np.ndarray,
) -> None:
    """``counts[i] += left[a] * right[b]``."""
    if moduli is None:
        counts[i] += left[a] * right[b]
    else:
        for j in range(moduli.shape[0]):
            product = product_mod(left[a, j], right[b, j], moduli[j], reciprocals[j])
            total = np.int64(counts[i, j]) + product
            counts[i, j] = total - moduli[j] if total >= moduli[j] else total


@kernel_helper
def _clear(tally: Tally, first: int, last: int, big: int, moduli: np.ndarray | None) -> None:
    """Entries ``first..last-1`` of ``tally``: no completion (count 0, cheapest key ``big``)."""
    ways, best = tally
    for k in range(first, last):
        best[k] = big
        _fill(ways, k, 0, moduli)


# -- the passes ---------------------------------------------------------------------------------


def _up(
    layout: Layout,
    mask: np.ndarray,
    key: np.ndarray,
    moduli: np.ndarray | None,
    up: Tally,
    msg: Tally,
    big: int,
) -> None:
    """Upward pass: per row (``up``), the completions of its subtree that pass ``mask`` and
    the cheapest of their keys; per separator key (``msg``, the messages to the parents),
    their sum and minimum."""
    order = layout[0]
    reciprocals = _reciprocals(moduli)
    for oi in range(order.shape[0] - 1, -1, -1):
        _recount(layout, order[oi], mask, key, moduli, up, msg, reciprocals, big)


@kernel_helper
def _recount(
    layout: Layout,
    b: int,
    mask: np.ndarray,
    key: np.ndarray,
    moduli: np.ndarray | None,
    up: Tally,
    msg: Tally,
    reciprocals: np.ndarray,
    big: int,
) -> None:
    """Bag ``b``'s rows counted from its children's messages, and its own messages (one
    bag of :func:`_up`)."""
    _, start, msg_start, _, edge_begin, edge_child, link_start, links = layout
    up_count, up_best = up
    msg_count, msg_best = msg
    s = start[b]
    e0 = edge_begin[b]
    e1 = edge_begin[b + 1]
    for t in range(s, start[b + 1]):
        best = big
        if mask[t]:
            best = key[t]
            if e0 == e1:
                _fill(up_count, t, 1, moduli)
            for ed in range(e0, e1):
                m = msg_start[edge_child[ed]] + links[link_start[ed] + t - s]
                below = msg_best[m]
                if below >= big:
                    best = big
                    break
                best += below
                if ed == e0:  # (the first child's count as it is: no product by 1)
                    _copy(up_count, t, msg_count, m, moduli)
                else:
                    _mul(up_count, t, msg_count, m, moduli, reciprocals)
        up_best[t] = best
    _send(layout, b, moduli, up, msg, big)


@kernel_helper
def _send(
    layout: Layout, b: int, moduli: np.ndarray | None, up: Tally, msg: Tally, big: int
) -> None:
    """Bag ``b``'s messages: per separator key, the sum of its rows' counts and the least of
    their cheapest keys (a row without a completion gets count 0). (A loop of its own over
    the bag's rows: compiled, a call per row was not inlined, and took a whole pass twice as
    long.)"""
    start, msg_start, sep = layout[1], layout[2], layout[3]
    up_count, up_best = up
    msg_count, msg_best = msg
    _clear(msg, msg_start[b], msg_start[b + 1], big, moduli)
    for t in range(start[b], start[b + 1]):
        best = up_best[t]
        if best < big:
            k = msg_start[b] + sep[t]
            if best < msg_best[k]:
                msg_best[k] = best
            _add(msg_count, k, up_count, t, moduli)
        else:
            _fill(up_count, t, 0, moduli)


#: A bag of this many children or more passes its rows' outsides down by division: each
#: child's outside, seen from a row, is the row's outside times its upward count over that
#: child's count (residues of counts invertible modulo every prime, found for all at once): one
#: product per row and a sum per child, rather than three products per child of prefix and
#: suffix products. (From two children on, it measured no faster on the eCos models.)
_DIVIDED_FROM = 3


@kernel_helper
def _power_mod(base: int, exponent: int, modulus: int, reciprocal: float) -> int:
    """``base ** exponent % modulus`` (square and multiply, :func:`product_mod`)."""
    result = 1
    while exponent:
        if exponent & 1:
            result = product_mod(result, base, modulus, reciprocal)
        base = product_mod(base, base, modulus, reciprocal)
        exponent >>= 1
    return result


@kernel_helper
def _invert_children(
    layout: Layout,
    msg: Tally,
    moduli: np.ndarray,
    reciprocals: np.ndarray,
    inverse: np.ndarray,
    acc: np.ndarray,
    big: int,
) -> bool:
    """The inverses of the counts of the separator keys that have completions, of the
    children of bags of :data:`_DIVIDED_FROM` children or more (``inverse``), modulo every
    prime; False when one of them is not invertible (see :func:`_invert`)."""
    start_of_keys, edge_begin, edge_child = layout[2], layout[4], layout[5]
    msg_count, msg_best = msg
    bags = start_of_keys.shape[0] - 1
    wanted = np.zeros(start_of_keys[bags], dtype=np.bool_)
    for b in range(bags):
        if edge_begin[b + 1] - edge_begin[b] >= _DIVIDED_FROM:
            for ed in range(edge_begin[b], edge_begin[b + 1]):
                c = edge_child[ed]
                for k in range(start_of_keys[c], start_of_keys[c + 1]):
                    wanted[k] = msg_best[k] < big  # (no row with a completion reads the others)
    return _invert(msg_count, wanted, 0, moduli, reciprocals, inverse, acc)


@kernel_helper
def _invert(
    counts: np.ndarray,
    wanted: np.ndarray,
    first: int,
    moduli: np.ndarray,
    reciprocals: np.ndarray,
    inverse: np.ndarray,
    acc: np.ndarray,
) -> bool:
    """``inverse[k]``: the inverse of ``counts[k]`` modulo every prime, for each ``k`` from
    ``first`` that ``wanted[k - first]`` marks; False when one of them is not invertible (a
    residue that happens to be zero, about one chance in 2**31 per count and prime). One
    inversion per prime for all counts (Montgomery's trick: prefix products forward, then the
    inverse of the whole product walked back), so three products per count and prime.
    ``acc`` is room for one row of residues."""
    width = moduli.shape[0]
    last = first + wanted.shape[0]
    for j in range(width):
        acc[0, j] = 1
    for k in range(first, last):
        if not wanted[k - first]:
            continue
        for j in range(width):
            if counts[k, j] == 0:
                return False
        for j in range(width):  # (``inverse`` holds the product of the counts before, for now)
            inverse[k, j] = acc[0, j]
            acc[0, j] = product_mod(acc[0, j], counts[k, j], moduli[j], reciprocals[j])
    for j in range(width):
        acc[0, j] = _power_mod(acc[0, j], moduli[j] - 2, moduli[j], reciprocals[j])
    for k in range(last - 1, first - 1, -1):
        if wanted[k - first]:
            for j in range(width):
                before = inverse[k, j]
                inverse[k, j] = product_mod(acc[0, j], before, moduli[j], reciprocals[j])
                acc[0, j] = product_mod(acc[0, j], counts[k, j], moduli[j], reciprocals[j])
    return True


def _down(
    layout: Layout,
    moduli: np.ndarray | None,
    up: Tally,
    up_base: np.ndarray,
    fresh: np.ndarray,
    msg: Tally,
    dmsg: Tally,
    room: tuple[np.ndarray, np.ndarray],
    big: int,
) -> None:
    """Downward pass: per separator key (``dmsg``, the messages from the parents), the
    completions outside the subtrees of the rows with that key and the cheapest of them, from
    the upward pass (``up``, per row, its counts of unmarked bags in ``up_base``, as in
    :func:`_marginals`) and its messages ``msg``. ``room``: counts for the largest number of
    children plus one (prefix products), counts per separator key (the inverses of
    :func:`_invert_children`). A row's outside is its key's: ``dmsg[msg_start[b] + sep[t]]``
    for row ``t`` of bag ``b`` (the root's keys: one way, key 0), so nothing is stored per row.

    A child's outside, seen from one row of its parent, is the row's own outside times the
    other children's counts: with residues, the row's outside times its upward count times
    the inverse of the child's count (bags of :data:`_DIVIDED_FROM` children or more, when
    every such count is invertible). A child's key sums those products over the rows that
    share it, all with the same inverse: the rows add, and the sum is multiplied by the
    inverse once per key, so a bag of ``c`` children costs one product and ``c`` sums per
    row. Else prefix and suffix products over the children, so a bag of ``c`` children costs
    ``O(c)`` products per row rather than ``O(c**2)``. One or two children, the common
    cases, need neither."""
    order, start, msg_start, sep, edge_begin, edge_child, link_start, links = layout
    up_count, up_best = up
    msg_count, msg_best = msg
    dmsg_count, dmsg_best = dmsg
    prefix, inverse = room
    reciprocals = _reciprocals(moduli)
    divided = False
    if moduli is not None:
        divided = _invert_children(layout, msg, moduli, reciprocals, inverse, prefix, big)
    _clear(dmsg, 0, dmsg_best.shape[0], big, moduli)
    root = order[0]
    for k in range(msg_start[root], msg_start[root + 1]):
        dmsg_best[k] = 0
        _fill(dmsg_count, k, 1, moduli)
    suffix = np.empty_like(prefix[:1])
    for oi in range(order.shape[0]):
        b = order[oi]
        e0 = edge_begin[b]
        e1 = edge_begin[b + 1]
        if e0 == e1:
            continue
        s = start[b]
        ms = msg_start[b]
        counts = up_count if fresh[b] else up_base
        by_division = divided and e1 - e0 >= _DIVIDED_FROM
        for t in range(s, start[b + 1]):
            d = ms + sep[t]  # the row's outside: its key's
            if up_best[t] >= big or dmsg_best[d] >= big:
                continue  # contributes nothing (or only to keys without completions)
            total = up_best[t] + dmsg_best[d]
            if by_division:  # each child's key sums the rows' outsides times their counts
                _fill(suffix, 0, 0, moduli)
                _add_product(suffix, 0, dmsg_count, d, counts, t, moduli, reciprocals)
                for ed in range(e0, e1):
                    m = msg_start[edge_child[ed]] + links[link_start[ed] + t - s]
                    outside = total - msg_best[m]
                    if outside < dmsg_best[m]:
                        dmsg_best[m] = outside
                    _add(dmsg_count, m, suffix, 0, moduli)
                continue
            m = msg_start[edge_child[e0]] + links[link_start[e0] + t - s]
            outside = total - msg_best[m]
            if outside < dmsg_best[m]:
                dmsg_best[m] = outside
            if e1 - e0 == 1:
                _add(dmsg_count, m, dmsg_count, d, moduli)
                continue
            if e1 - e0 == 2:  # each child's outside is the other one's count
                n = msg_start[edge_child[e0 + 1]] + links[link_start[e0 + 1] + t - s]
                outside = total - msg_best[n]
                if outside < dmsg_best[n]:
                    dmsg_best[n] = outside
                _add_product(dmsg_count, m, dmsg_count, d, msg_count, n, moduli, reciprocals)
                _add_product(dmsg_count, n, dmsg_count, d, msg_count, m, moduli, reciprocals)
                continue
            _copy(prefix, 0, dmsg_count, d, moduli)
            for i in range(e1 - e0 - 1):
                m = msg_start[edge_child[e0 + i]] + links[link_start[e0 + i] + t - s]
                _fill(prefix, i + 1, 0, moduli)
                _add_product(prefix, i + 1, prefix, i, msg_count, m, moduli, reciprocals)
            _fill(suffix, 0, 1, moduli)
            for i in range(e1 - e0 - 1, -1, -1):
                m = msg_start[edge_child[e0 + i]] + links[link_start[e0 + i] + t - s]
                outside = total - msg_best[m]
                if outside < dmsg_best[m]:
                    dmsg_best[m] = outside
                _add_product(dmsg_count, m, prefix, i, suffix, 0, moduli, reciprocals)
                _mul(suffix, 0, msg_count, m, moduli, reciprocals)
        if by_division:  # ... then, once per key, divided by the key's own count
            for ed in range(e0, e1):
                c = edge_child[ed]
                for m in range(msg_start[c], msg_start[c + 1]):
                    _mul(dmsg_count, m, inverse, m, moduli, reciprocals)


def _marginals(
    columns: Columns,
    layout: Layout,
    moduli: np.ndarray | None,
    up: Tally,
    up_base: np.ndarray,
    fresh: np.ndarray,
    dmsg: Tally,
    out: Tally,
    big: int,
) -> None:
    """Per (variable, value) (``out``): the completions through it and the cheapest one, from
    the upward pass (``up``, per row) and the downward one (``dmsg``, per separator key). Each
    variable is read in its bag of ``columns`` (the smallest that holds it, see
    :class:`._layout.Flat`), whose rows are read once for all the variables read there; a
    bag's upward counts are
    ``up``'s where ``fresh`` marks it, else ``up_base``'s (see :class:`._views.Upward`). A
    variable's first value (a feature model's "not selected", which most rows of its bag hold)
    is not summed row by row: it gets the completions through the bag's rows less those
    through its other values."""
    var_bag, var_col_start, var_col, val_start, start = columns
    msg_start, sep = layout[2], layout[3]
    up_count, up_best = up
    dmsg_count, dmsg_best = dmsg
    out_count, out_best = out
    reciprocals = _reciprocals(moduli)
    _clear(out, 0, out_best.shape[0], big, moduli)
    through = np.empty_like(up_count[:1])  # the completions through one row
    total = np.empty_like(up_count[:1])  # the completions through every row of a bag
    by_bag = np.argsort(var_bag, kind="mergesort")
    n = by_bag.shape[0]
    first = 0
    while first < n:
        b = var_bag[by_bag[first]]
        last = first + 1
        while last < n and var_bag[by_bag[last]] == b:
            last += 1
        s = start[b]
        ms = msg_start[b]
        counts = up_count if fresh[b] else up_base
        _fill(total, 0, 0, moduli)
        for i in range(start[b + 1] - s):
            t = s + i
            d = ms + sep[t]
            if up_best[t] >= big or dmsg_best[d] >= big:
                continue
            best = up_best[t] + dmsg_best[d]
            _copy(through, 0, counts, t, moduli)
            _mul(through, 0, dmsg_count, d, moduli, reciprocals)
            _add(total, 0, through, 0, moduli)
            for j in range(first, last):
                v = by_bag[j]
                value = var_col[var_col_start[v] + i]
                x = val_start[v] + value
                if best < out_best[x]:
                    out_best[x] = best
                if value:
                    _add(out_count, x, through, 0, moduli)
        for j in range(first, last):
            v = by_bag[j]
            zero = val_start[v]
            _copy(out_count, zero, total, 0, moduli)
            for x in range(zero + 1, val_start[v + 1]):
                _sub(out_count, zero, out_count, x, moduli)
        first = last
