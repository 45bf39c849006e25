"""Every option's completions and cheapest key: the downward pass, then the marginals.

Both passes run once per query, one after the other, and only the marginals are kept: the
downward messages (a count per separator key and prime) are dropped once read, so a query in
a plan cache holds its upward pass and its answers, not the room of its downward pass.
"""

from __future__ import annotations

import numpy as np

from ._kernels import Kernels
from ._layout import Flat
from ._residues import count_room
from ._views import Upward

__all__ = ["marginal_passes"]


def marginal_passes(
    passes: Kernels, flat: Flat, moduli: np.ndarray | None, upward: Upward, big: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per (variable, value): the completions through it, in the count system ``moduli`` (see
    :mod:`._counting`), and the cheapest key of them; from the upward pass ``upward``."""

    dmsg = count_room(flat.keys, moduli), np.empty_like(upward.msg_best)
    fresh = upward.fresh if upward.fresh is not None else flat.every_bag
    rows = upward.count, upward.best
    passes.down(
        flat.layout,
        moduli,
        rows,
        upward.base,
        fresh,
        (upward.msg_count, upward.msg_best),
        dmsg,
        (count_room(flat.max_children + 1, moduli), count_room(flat.keys, moduli)),
        big,
    )
    out = count_room(flat.values, moduli), np.empty(flat.values, dtype=upward.best.dtype)
    passes.marginals(flat.columns, flat.layout, moduli, rows, upward.base, fresh, dmsg, out, big)
    return out
