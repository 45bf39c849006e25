"""Exact counts of any size: the count system of a query, and integers back from residues.

The counting passes (:mod:`._counting`) count either in plain 64-bit integers or modulo
several primes. :func:`residue_system` picks: when every count that can arise is below 2**62
(:data:`EXACT_BOUND`), no reduction is needed and the system is the single "modulus" 0, which
the passes read as plain 64-bit arithmetic; otherwise counts are kept modulo as many primes
below 2**31 as it takes for their product to exceed the largest count (products of two
residues fit in 64 bits).

The exact integers come back from the residues by the Chinese remainder theorem: :func:`exact`
for one count, :func:`exact_rows` for many (Garner's algorithm, :func:`_garner`, a kernel
compiled with the passes). Invariants: every true count is below the product of the moduli,
so the reconstruction is exact; a count below every modulus has equal residues and is returned
as it is; two moduli are combined in int64 (their product is below 2**62).
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable
from math import prod

import numpy as np

from ._jit import kernel_helper

__all__ = [
    "EXACT_BOUND",
    "count_room",
    "exact",
    "exact_rows",
    "pass_bytes",
    "product_mod",
    "residue_system",
]

_PRIMES: list[int] = []


#: The passes' loops over moduli run in vector registers in blocks of this many (eight
#: 64-bit lanes, twice over), the rest one by one at about twice the cost each: on adder
#: (1,272 features, 230,000 bag rows), a session's passes over 16 moduli take half the time
#: of those over 15. So a number of moduli that leaves :data:`_ROUNDED_FROM` or more outside
#: the blocks is rounded up to the next block.
_LANES = 16
_ROUNDED_FROM = 8


def _primes_above(bound: int) -> list[int]:
    """Primes just below 2**31, as many as it takes for their product to exceed ``bound``,
    rounded up to a multiple of :data:`_LANES` when that many would leave
    :data:`_ROUNDED_FROM` or more outside it."""
    result: list[int] = []
    product, index = 1, 0
    while product <= bound or len(result) % _LANES >= _ROUNDED_FROM:
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


def count_room(rows: int, moduli: np.ndarray | None) -> np.ndarray:
    """Room for ``rows`` counts in the count system ``moduli`` (see :mod:`._counting`): one
    64-bit count per row, or a row of 4-byte residues per count."""
    if moduli is None:
        return np.empty(rows, dtype=np.int64)
    return np.empty((rows, len(moduli)), dtype=np.uint32)


def pass_bytes(rows: int, keys: int, moduli: int) -> int:
    """The bytes the passes over a tree hold at once: for every bag row and every separator
    key, an upward and a downward count per modulus (4-byte residues), and their cheapest
    keys and flags (8 bytes each); for every separator key, the inverse of its count per
    modulus (the downward pass's divisions).

    >>> pass_bytes(1_000, 100, 1), pass_bytes(1_000, 100, 4)
    (35600, 63200)
    """
    return (rows + keys) * (2 * moduli * 4 + 3 * 8) + keys * moduli * 4


@kernel_helper
def product_mod(a: int, b: int, modulus: int, reciprocal: float) -> int:
    """``a * b % modulus`` for ``|a|`` and ``b`` below 2**31 (``reciprocal``: ``1 / modulus``):
    the quotient estimated with the reciprocal (off by at most one: the product is below
    2**62), then one correction. Three to four times faster than an integer division, which
    the passes and Garner's algorithm spend most of their time on."""
    product = np.int64(a) * np.int64(b)  # (residues may be stored as uint32)
    remainder = product - np.int64(math.floor(product * reciprocal)) * modulus
    if remainder < 0:
        remainder += modulus
    elif remainder >= modulus:
        remainder -= modulus
    return int(remainder)


def _garner(
    residues: np.ndarray, moduli: np.ndarray, inverses: np.ndarray, limbs: np.ndarray
) -> None:
    """Each row's residues as one integer, in little-endian 32-bit limbs (Garner's algorithm:
    mixed-radix digits, then Horner's rule in multiple precision).

    The digits are worked out for every row at once, one modulus after another: a row's digits
    depend on each other, rows do not, so the inner loop runs over rows without waiting on a
    result. Each reduction is :func:`product_mod`. On 4,476 counts of 73 moduli: 8 ms, against
    65 ms row by row with integer division."""
    rows, width = residues.shape
    digits = np.empty((width, rows), dtype=np.int64)
    for i in range(width):
        modulus = moduli[i]
        reciprocal = 1.0 / modulus
        digit = digits[i]
        for x in range(rows):
            digit[x] = residues[x, i]
        for k in range(i):
            inverse = inverses[k, i]
            earlier = digits[k]
            for x in range(rows):
                digit[x] = product_mod(digit[x] - earlier[x], inverse, modulus, reciprocal)
    for x in range(rows):
        for i in range(limbs.shape[1]):
            limbs[x, i] = 0
        used = 0  # the limbs the value so far takes (the others are zero)
        for i in range(width - 1, -1, -1):
            carry = digits[i, x]
            for limb in range(used):
                product = limbs[x, limb] * moduli[i] + carry
                limbs[x, limb] = product & 0xFFFFFFFF
                carry = product >> 32
            while carry:  # the value grows by at most one limb a digit
                limbs[x, used] = carry & 0xFFFFFFFF
                carry >>= 32
                used += 1


def exact(residues: list[int], crt: list[int], modulus: int) -> int:
    """The integer with these residues (Chinese remainder theorem; ``crt``: the basis)."""
    first = residues[0]
    if residues.count(first) == len(residues):
        return first  # below every modulus
    total: int = sum(map(operator.mul, residues, crt))
    return total % modulus


def exact_rows(
    residues: np.ndarray,
    moduli: np.ndarray,
    inverses: np.ndarray,
    garner: Callable[..., None] = _garner,
    *,
    bound: int | None = None,
) -> list[int]:
    """The integers with these rows of residues (``garner``: :func:`_garner`, compiled or
    not; ``bound``: a bound on them, when known: the first moduli whose product passes it
    determine them, and Garner's algorithm costs their number squared)."""
    needed = len(moduli)
    if bound is not None:
        products = itertools.accumulate(moduli.tolist(), operator.mul)
        needed = next((i + 1 for i, p in enumerate(products) if p > bound), len(moduli))
    # int64 copies, writable and contiguous whatever was given (residues may be stored as
    # uint32, moduli are read-only): one compiled Garner serves every call
    residues = np.array(residues[:, :needed], dtype=np.int64)
    moduli, inverses = moduli[:needed].copy(), inverses[:needed, :needed].copy()
    width = residues.shape[1]
    first = residues[:, 0]
    if bool((residues == first[:, None]).all()):  # every count below the smallest modulus
        below: list[int] = first.tolist()
        return below
    if width == 2:  # the mixed-radix digits of Garner's algorithm, in int64 (< 2**62)
        low, high = (int(p) for p in moduli)
        inverse = int(inverses[0, 1])
        digit = (residues[:, 1] - first) % high * inverse % high
        combined: list[int] = (first + digit * low).tolist()
        return combined
    limbs = np.empty((len(residues), width), dtype=np.int64)
    garner(residues, moduli, inverses, limbs)
    data = memoryview(limbs.astype("<u4").tobytes())
    size = 4 * width
    convert = int.from_bytes
    return [convert(data[i : i + size], "little") for i in range(0, len(data), size)]
