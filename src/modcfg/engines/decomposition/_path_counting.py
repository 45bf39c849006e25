"""The upward pass of a session's step: the bags on the changed paths updated from the previous
pass rather than recounted.

After a customer's choice, the rows of one bag lose completions (the bag where the chosen
variable is read: its filter changed), and so do the rows of its ancestors; every other bag
keeps its counts (:meth:`._passes.TreeQuery.restricted`). Recounting a row multiplies its children's
counts: for a hub bag of eight children, seven products per row and prime. Two cases need fewer:

- a bag whose filter changed and none of whose children did: each row keeps its count or,
  filtered out, has none, with no product at all;
- a bag of :data:`._counting._DIVIDED_FROM` children or more whose filter did not change and
  one of whose children did: a row's count is its count before times, for the key the row
  shares with that child, the child's new count over its old one. That ratio is worked out
  once per key (the old counts inverted all at once, by Montgomery's trick, as in the
  downward pass), so a row costs one product. A residue that happens to be zero (about one
  chance in 2**31 per key and prime) has no inverse: that bag is recounted.

Every other bag on the paths is recounted as the whole pass does (:func:`._counting._recount`).
Exact 64-bit counts (no moduli) are only filtered or recounted.
"""

from __future__ import annotations

import numpy as np

from ._counting import (
    _DIVIDED_FROM,
    _copy,
    _invert,
    _mul,
    _reciprocals,
    _recount,
    _send,
)
from ._jit import kernel_helper
from ._layout import Layout, Tally

__all__: list[str] = []


def _up_path(
    layout: Layout,
    mask: np.ndarray,
    key: np.ndarray,
    moduli: np.ndarray | None,
    up: Tally,
    msg: Tally,
    before: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    changed: np.ndarray,
    room: tuple[np.ndarray, np.ndarray],
    big: int,
) -> None:
    """The upward pass over the bags of ``layout``'s order (the changed bags' paths to the
    root, in preorder), from the previous pass ``before``: its ``(count, base, fresh, best,
    msg_count, msg_best)`` as in :class:`._views.Upward`, with ``fresh`` marking every bag when
    ``count`` holds them all. ``up`` and ``msg`` hold the previous pass's rows and messages
    off the paths, and the paths' are written here. ``changed`` marks the bags whose filter
    changed. ``room``: counts per separator key (the ratios) and one row of counts."""
    order, start, _, _, edge_begin, edge_child, _, _ = layout
    old_count, old_base, old_fresh, old_best, old_msg_count, old_msg_best = before
    ratio, acc = room
    reciprocals = _reciprocals(moduli)
    on_path = np.zeros(start.shape[0] - 1, dtype=np.bool_)
    for oi in range(order.shape[0]):
        on_path[order[oi]] = True
    for oi in range(order.shape[0] - 1, -1, -1):
        b = order[oi]
        e0 = edge_begin[b]
        e1 = edge_begin[b + 1]
        moved = -1  # the edge to the child on a path, when there is one
        paths = 0
        for ed in range(e0, e1):
            if on_path[edge_child[ed]]:
                paths += 1
                moved = ed
        counts = old_count if old_fresh[b] else old_base
        if changed[b] and paths == 0:
            _filtered(layout, b, mask, moduli, up, msg, counts, old_best, big)
            continue
        # (numba removes a branch before typing only when its test is ``moduli`` alone)
        if moduli is not None:  # noqa: SIM102
            if not changed[b] and paths == 1 and e1 - e0 >= _DIVIDED_FROM:
                child = edge_child[moved]
                old = (old_msg_count, old_msg_best)
                if _ratios(layout, child, moduli, reciprocals, msg, old, ratio, acc, big):
                    _rescaled(
                        layout, b, moved, moduli, reciprocals, up, msg, counts, before, ratio, big
                    )
                    continue
        _recount(layout, b, mask, key, moduli, up, msg, reciprocals, big)


@kernel_helper
def _filtered(
    layout: Layout,
    b: int,
    mask: np.ndarray,
    moduli: np.ndarray | None,
    up: Tally,
    msg: Tally,
    counts: np.ndarray,
    old_best: np.ndarray,
    big: int,
) -> None:
    """Bag ``b``'s rows as before (``counts``, ``old_best``), less those ``mask`` now filters
    out, and its messages."""
    start = layout[1]
    up_count, up_best = up
    for t in range(start[b], start[b + 1]):
        up_best[t] = big
        if mask[t] and old_best[t] < big:
            up_best[t] = old_best[t]
            _copy(up_count, t, counts, t, moduli)
    _send(layout, b, moduli, up, msg, big)


@kernel_helper
def _ratios(
    layout: Layout,
    child: int,
    moduli: np.ndarray,
    reciprocals: np.ndarray,
    msg: Tally,
    old: Tally,
    ratio: np.ndarray,
    acc: np.ndarray,
    big: int,
) -> bool:
    """Per separator key of ``child`` with completions before (``old``) and now (``msg``), its
    new count over its old one (``ratio``); False when an old count is not invertible."""
    msg_start = layout[2]
    msg_count, msg_best = msg
    old_count, old_best = old
    first, last = msg_start[child], msg_start[child + 1]
    wanted = np.empty(last - first, dtype=np.bool_)
    for k in range(first, last):  # (no row with a completion reads the others)
        wanted[k - first] = old_best[k] < big and msg_best[k] < big
    if not _invert(old_count, wanted, first, moduli, reciprocals, ratio, acc):
        return False
    for k in range(first, last):
        if wanted[k - first]:
            _mul(ratio, k, msg_count, k, moduli, reciprocals)
    return True


@kernel_helper
def _rescaled(
    layout: Layout,
    b: int,
    moved: int,
    moduli: np.ndarray,
    reciprocals: np.ndarray,
    up: Tally,
    msg: Tally,
    counts: np.ndarray,
    before: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    ratio: np.ndarray,
    big: int,
) -> None:
    """Bag ``b``'s rows, of which only the child of edge ``moved`` changed: each row's count
    before (``counts``) times its key's ``ratio``, its cheapest key moved by as much as the
    child's; and its messages."""
    _, start, msg_start, _, _, edge_child, link_start, links = layout
    old_best, old_msg_best = before[3], before[5]
    up_count, up_best = up
    msg_best = msg[1]
    s = start[b]
    keys = msg_start[edge_child[moved]]
    shared = link_start[moved]
    for t in range(s, start[b + 1]):
        up_best[t] = big
        if old_best[t] < big:
            m = keys + links[shared + t - s]
            if msg_best[m] < big:
                up_best[t] = old_best[t] - old_msg_best[m] + msg_best[m]
                _copy(up_count, t, counts, t, moduli)
                _mul(up_count, t, ratio, m, moduli, reciprocals)
    _send(layout, b, moduli, up, msg, big)
