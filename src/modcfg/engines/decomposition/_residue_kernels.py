"""The residue passes: counts modulo several primes at once, one row of residues per tuple.

Part of the compiled kernels of :mod:`._kernels` (which gathers them into
:class:`~._kernels.Kernels` and compiles them with numba on first use, cached on disk per
module). They share its flat layout (:class:`~._kernels.Flat`) and conventions: ``moduli`` holds
primes below 2**31, or the single "modulus" 0 for plain 64-bit counts without reduction; a tuple
is alive when its cheapest key is below ``big``, keys being exact integers well below it.
Residues stay below their prime, so a product of two fits in 64 bits; products are reduced
before they are summed.
:func:`_garner` turns the residues back into exact integers (Chinese remainder theorem).

The functions are plain Python over numpy arrays, so they also run uncompiled when keys do not
fit in 64 bits (object arrays of Python integers).
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


def _up(
    order: np.ndarray,
    start: np.ndarray,
    msg_start: np.ndarray,
    edge_begin: np.ndarray,
    edge_child: np.ndarray,
    link_start: np.ndarray,
    links: np.ndarray,
    sep: np.ndarray,
    mask: np.ndarray,
    key: np.ndarray,
    moduli: np.ndarray,
    up_count: np.ndarray,
    up_best: np.ndarray,
    msg_count: np.ndarray,
    msg_best: np.ndarray,
    big: int,
) -> None:
    """Upward pass: per row, completions below it and the cheapest; per separator key, sums."""
    width = moduli.shape[0]
    reduce = width > 0 and moduli[0] != 0
    for oi in range(order.shape[0] - 1, -1, -1):
        b = order[oi]
        s = start[b]
        ms = msg_start[b]
        for k in range(ms, msg_start[b + 1]):
            msg_best[k] = big
            for j in range(width):
                msg_count[k, j] = 0
        e0 = edge_begin[b]
        e1 = edge_begin[b + 1]
        for t in range(s, start[b + 1]):
            best = big
            if mask[t]:
                best = key[t]
                for j in range(width):
                    up_count[t, j] = 1
                for ed in range(e0, e1):
                    m = msg_start[edge_child[ed]] + links[link_start[ed] + t - s]
                    below = msg_best[m]
                    if below >= big:
                        best = big
                        break
                    best += below
                    if reduce:
                        for j in range(width):
                            up_count[t, j] = up_count[t, j] * msg_count[m, j] % moduli[j]
                    else:
                        for j in range(width):
                            up_count[t, j] *= msg_count[m, j]
            up_best[t] = best
            if best < big:
                k = ms + sep[t]
                if best < msg_best[k]:
                    msg_best[k] = best
                for j in range(width):
                    msg_count[k, j] += up_count[t, j]
            else:
                for j in range(width):
                    up_count[t, j] = 0
        if reduce:
            for k in range(ms, msg_start[b + 1]):
                for j in range(width):
                    msg_count[k, j] %= moduli[j]


def _down(
    order: np.ndarray,
    start: np.ndarray,
    msg_start: np.ndarray,
    edge_begin: np.ndarray,
    edge_child: np.ndarray,
    link_start: np.ndarray,
    links: np.ndarray,
    sep: np.ndarray,
    moduli: np.ndarray,
    up_best: np.ndarray,
    msg_count: np.ndarray,
    msg_best: np.ndarray,
    down_count: np.ndarray,
    down_best: np.ndarray,
    dmsg_count: np.ndarray,
    dmsg_best: np.ndarray,
    prefix: np.ndarray,
    big: int,
) -> None:
    """Downward pass: per row, completions outside its subtree and the cheapest of them."""
    width = moduli.shape[0]
    reduce = width > 0 and moduli[0] != 0
    for k in range(dmsg_best.shape[0]):
        dmsg_best[k] = big
        for j in range(width):
            dmsg_count[k, j] = 0
    root = order[0]
    for t in range(start[root], start[root + 1]):
        down_best[t] = 0
        for j in range(width):
            down_count[t, j] = 1
    suffix = np.ones(width, dtype=np.int64)
    for oi in range(order.shape[0]):
        b = order[oi]
        e0 = edge_begin[b]
        e1 = edge_begin[b + 1]
        if e0 == e1:
            continue
        s = start[b]
        for t in range(s, start[b + 1]):
            if up_best[t] >= big or down_best[t] >= big:
                continue  # contributes nothing (or only to keys without completions)
            total = up_best[t] + down_best[t]
            if e1 - e0 == 1:
                m = msg_start[edge_child[e0]] + links[link_start[e0] + t - s]
                outside = total - msg_best[m]
                if outside < dmsg_best[m]:
                    dmsg_best[m] = outside
                for j in range(width):
                    dmsg_count[m, j] += down_count[t, j]
                continue
            for j in range(width):
                prefix[0, j] = down_count[t, j]
            for i in range(e1 - e0):
                m = msg_start[edge_child[e0 + i]] + links[link_start[e0 + i] + t - s]
                for j in range(width):
                    product = prefix[i, j] * msg_count[m, j]
                    prefix[i + 1, j] = product % moduli[j] if reduce else product
            for j in range(width):
                suffix[j] = 1
            for i in range(e1 - e0 - 1, -1, -1):
                m = msg_start[edge_child[e0 + i]] + links[link_start[e0 + i] + t - s]
                outside = total - msg_best[m]
                if outside < dmsg_best[m]:
                    dmsg_best[m] = outside
                for j in range(width):
                    if reduce:
                        dmsg_count[m, j] += prefix[i, j] * suffix[j] % moduli[j]
                        suffix[j] = suffix[j] * msg_count[m, j] % moduli[j]
                    else:
                        dmsg_count[m, j] += prefix[i, j] * suffix[j]
                        suffix[j] *= msg_count[m, j]
        for ed in range(e0, e1):
            c = edge_child[ed]
            cms = msg_start[c]
            if reduce:
                for k in range(cms, msg_start[c + 1]):
                    for j in range(width):
                        dmsg_count[k, j] %= moduli[j]
            for ct in range(start[c], start[c + 1]):
                k = cms + sep[ct]
                down_best[ct] = dmsg_best[k]
                for j in range(width):
                    down_count[ct, j] = dmsg_count[k, j]


def _marginals(
    var_bag: np.ndarray,
    var_col_start: np.ndarray,
    var_col: np.ndarray,
    val_start: np.ndarray,
    start: np.ndarray,
    moduli: np.ndarray,
    up_count: np.ndarray,
    up_best: np.ndarray,
    down_count: np.ndarray,
    down_best: np.ndarray,
    out_count: np.ndarray,
    out_best: np.ndarray,
    big: int,
) -> None:
    """Per (variable, value): completions through it and the cheapest one."""
    width = moduli.shape[0]
    reduce = width > 0 and moduli[0] != 0
    for x in range(out_best.shape[0]):
        out_best[x] = big
        for j in range(width):
            out_count[x, j] = 0
    for v in range(var_bag.shape[0]):
        b = var_bag[v]
        s = start[b]
        cs = var_col_start[v]
        vs = val_start[v]
        for i in range(start[b + 1] - s):
            t = s + i
            if up_best[t] >= big or down_best[t] >= big:
                continue
            x = vs + var_col[cs + i]
            best = up_best[t] + down_best[t]
            if best < out_best[x]:
                out_best[x] = best
            if reduce:
                for j in range(width):
                    out_count[x, j] += up_count[t, j] * down_count[t, j] % moduli[j]
            else:
                for j in range(width):
                    out_count[x, j] += up_count[t, j] * down_count[t, j]
    if reduce:
        for x in range(out_best.shape[0]):
            for j in range(width):
                out_count[x, j] %= moduli[j]


def _garner(
    residues: np.ndarray, moduli: np.ndarray, inverses: np.ndarray, limbs: np.ndarray
) -> None:
    """Each row's residues as one integer, in little-endian 32-bit limbs (Garner's algorithm:
    mixed-radix digits, then Horner's rule in multiple precision)."""
    width = moduli.shape[0]
    digits = np.empty(width, dtype=np.int64)
    for x in range(residues.shape[0]):
        for i in range(width):
            value = residues[x, i]
            for k in range(i):
                value = (value - digits[k]) % moduli[i] * inverses[k, i] % moduli[i]
            digits[i] = value
        for i in range(limbs.shape[1]):
            limbs[x, i] = 0
        for i in range(width - 1, -1, -1):
            carry = digits[i]
            for limb in range(limbs.shape[1]):
                product = limbs[x, limb] * moduli[i] + carry
                limbs[x, limb] = product & 0xFFFFFFFF
                carry = product >> 32
