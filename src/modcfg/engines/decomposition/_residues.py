"""Exact counts as residues: primes below 2**31 and the Chinese remainder theorem.

Counts are kept modulo as many primes below 2**31 as it takes for their product to exceed
the largest count that can arise (products of two residues fit in 64 bits); the exact
integer comes back from the residues by the Chinese remainder theorem (or Garner's algorithm
in :mod:`._kernels`).

When every count that can arise is below 2**62, no reduction is needed at all: the system is then
the single "modulus" 0, which the kernels read as "plain 64-bit arithmetic" (no division per
product, the costliest step of the passes).
"""

from __future__ import annotations

from math import prod

import numpy as np

__all__ = ["pass_bytes", "residue_system"]

_PRIMES: list[int] = []


def _primes_above(bound: int) -> list[int]:
    """Primes just below 2**31, as many as it takes for their product to exceed ``bound``."""
    result: list[int] = []
    product, index = 1, 0
    while product <= bound:
        while index >= len(_PRIMES):
            candidate = (_PRIMES[-1] if _PRIMES else (1 << 31)) - 1
            while not _is_prime(candidate):
                candidate -= 1
            _PRIMES.append(candidate)
        result.append(_PRIMES[index])
        product *= _PRIMES[index]
        index += 1
    return result


def _is_prime(number: int) -> bool:
    """Deterministic Miller-Rabin for numbers below 3.4e14 (bases 2, 3, 5, 7, 11, 13, 17)."""
    if number < 2:
        return False
    odd, twos = number - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    for base in (2, 3, 5, 7, 11, 13, 17):
        if base % number == 0:
            continue
        x = pow(base, odd, number)
        if x in (1, number - 1):
            continue
        for _ in range(twos - 1):
            x = x * x % number
            if x == number - 1:
                break
        else:
            return False
    return True


_SYSTEMS: dict[int, tuple[np.ndarray, int, list[int], np.ndarray]] = {}

#: Below this bound counts are exact 64-bit integers (products of two of them are counts too).
EXACT_BOUND = 1 << 62


def _exact_system() -> tuple[np.ndarray, int, list[int], np.ndarray]:
    moduli = np.zeros(1, dtype=np.int64)
    inverses = np.zeros((1, 1), dtype=np.int64)
    moduli.flags.writeable = False
    inverses.flags.writeable = False
    return moduli, EXACT_BOUND, [1], inverses


_EXACT = _exact_system()


def residue_system(bound: int) -> tuple[np.ndarray, int, list[int], np.ndarray]:
    """Moduli whose product exceeds ``bound``, their product, the CRT coefficients and the
    pairwise inverses of Garner's algorithm (``inverses[k, i]``: ``p_k`` inverse mod ``p_i``).

    ``bound`` must bound every intermediate count of a pass too (the tree's tuples are globally
    consistent, so a subtree's or a separator's count is at most the whole count); below
    :data:`EXACT_BOUND` the system is the single modulus 0: no reduction."""
    if bound < EXACT_BOUND:
        return _EXACT
    primes = _primes_above(bound)
    system = _SYSTEMS.get(len(primes))
    if system is None:
        modulus = prod(primes)
        crt = [(modulus // p) * pow(modulus // p, -1, p) % modulus for p in primes]
        inverses = np.asarray(
            [[pow(p, -1, q) if p != q else 0 for q in primes] for p in primes], dtype=np.int64
        ).reshape(len(primes), len(primes))
        moduli = np.asarray(primes, dtype=np.int64)
        moduli.flags.writeable = False
        inverses.flags.writeable = False
        system = _SYSTEMS.setdefault(len(primes), (moduli, modulus, crt, inverses))
    return system


def pass_bytes(rows: int, keys: int, moduli: int) -> int:
    """The bytes the passes over a tree hold at once: for every bag row and every separator
    key, an upward and a downward count per modulus, and their cheapest keys and flags.

    >>> pass_bytes(1_000, 100, 1), pass_bytes(1_000, 100, 4)
    (44000, 96800)
    """
    return (rows + keys) * (2 * moduli + 3) * 8
