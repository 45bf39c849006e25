"""Exact integers from the residues the counting passes compute (Chinese remainder theorem).

:class:`~._passes.TreeQuery` counts modulo a few primes below 2**31 when a count may exceed
64 bits (see :func:`._residues.residue_system`). These helpers turn those residues back into
exact Python integers. Invariants: every true count is below the product of the moduli
(``modulus``), so the reconstruction is exact; a count below every modulus has equal residues
and is returned as is; two moduli are combined in int64 (their product is below 2**62).
"""

from __future__ import annotations

import operator

import numpy as np

from ._kernels import kernels

__all__ = ["exact", "exact_rows"]


def exact(residues: list[int], crt: list[int], modulus: int) -> int:
    """The integer with these residues (Chinese remainder theorem; ``crt``: the basis)."""
    first = residues[0]
    if residues.count(first) == len(residues):
        return first  # below every modulus
    total: int = sum(map(operator.mul, residues, crt))
    return total % modulus


def exact_rows(
    residues: np.ndarray, moduli: np.ndarray, inverses: np.ndarray, *, plain: bool
) -> list[int]:
    """The integers with these rows of residues (``plain``: the Python kernels)."""
    width = residues.shape[1]
    first = residues[:, 0]
    if width == 1 or bool((residues == first[:, None]).all()):
        # one modulus (the bound on counts keeps every count below it), or every count
        # below the smallest one
        below: list[int] = first.tolist()
        return below
    if width == 2:  # the mixed-radix digits of Garner's algorithm, in int64 (< 2**62)
        low, high = (int(p) for p in moduli)
        inverse = int(inverses[0, 1])
        digit = (residues[:, 1] - first) % high * inverse % high
        combined: list[int] = (first + digit * low).tolist()
        return combined
    limbs = np.empty((len(residues), width), dtype=np.int64)
    kernels(compiled=not plain).garner(residues, moduli, inverses, limbs)
    data = memoryview(limbs.astype("<u4").tobytes())
    size = 4 * width
    convert = int.from_bytes
    return [convert(data[i : i + size], "little") for i in range(0, len(data), size)]
