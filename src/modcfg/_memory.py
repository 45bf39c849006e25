"""The memory budget of a compile: every large allocation is estimated first.

A compile tabulates rules, fills bags and runs passes; each of these can need memory that grows
with the product of domain sizes. Before allocating, the engine estimates the bytes it is about
to take (rows x columns x 8 for integer tables) and raises :class:`~modcfg.LimitExceeded`
when the estimate is above the limit, so a catalog too large for the machine fails at once with
a message that names the rule or bag, instead of growing until the operating system stops the
process.

:func:`show_bytes` is also how the loaders show their file-size limit, so every limit reads in
the same units.

>>> check_memory(800, 1_000, "rule 'r1' (a table over 3 slots)", "split it")
>>> try:
...     check_memory(8_000, 1_000, "rule 'r1' (a table over 3 slots)", "split it")
... except LimitExceeded as error:
...     print(error.estimate, error.limit)
8000 1000
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NoReturn

from ._errors import LimitExceeded, NeedsError

__all__ = [
    "ENTRY_BYTES",
    "check_memory",
    "default_memory_limit",
    "describe_slots",
    "refuse",
    "resolve_memory_limit",
    "show_bytes",
    "show_count",
]

#: Bytes of one entry of an integer table (int64).
ENTRY_BYTES = 8
#: The default when the physical memory cannot be read: 4 GiB.
_FALLBACK = 4 << 30


def default_memory_limit() -> int:
    """Half the machine's physical memory (4 GiB when it cannot be read)."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf, or no such name here
        return _FALLBACK
    return physical // 2 if physical > 0 else _FALLBACK


def resolve_memory_limit(limit: int | None) -> int:
    """``limit`` checked (a positive whole number of bytes), or the default for None."""
    if limit is None:
        return default_memory_limit()
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise NeedsError(f"memory_limit={limit!r} is not a positive whole number of bytes")
    return limit


def show_bytes(amount: int) -> str:
    """A byte count for people, in binary units (as memory and file limits are documented).

    >>> show_bytes(512), show_bytes(50 * 1024**2), show_bytes(3 * 10**9), show_bytes(2**104 * 8)
    ('512 bytes', '50.0 MiB', '2.8 GiB', '1.5e+20 TiB')
    """
    if amount < 1024:
        return f"{amount} bytes"
    scaled = float(amount)
    for unit in ("KiB", "MiB", "GiB"):
        scaled /= 1024
        if scaled < 1024:
            return f"{scaled:.1f} {unit}"
    scaled /= 1024
    return f"{scaled:.1f} TiB" if scaled < 1024 else f"{scaled:.1e} TiB"


def show_count(number: int) -> str:
    """A count for people: exact up to a trillion, then in powers of ten.

    >>> show_count(50_000), show_count(2**104)
    ('50,000', 'about 2.0e+31')
    """
    return f"{number:,}" if number < 10**12 else f"about {float(number):.1e}"


def describe_slots(slots: Sequence[str], *, shown: int = 6) -> str:
    """A few slot ids, then how many more: ``a, b, c and 9 more``."""
    if len(slots) <= shown:
        return ", ".join(slots)
    return f"{', '.join(slots[:shown])} and {len(slots) - shown} more"


def check_memory(estimate: int, limit: int, what: str, advice: str) -> None:
    """Raise :class:`~modcfg.LimitExceeded` when ``estimate`` bytes are above ``limit``.

    ``what`` names the rule or bag that would need them, ``advice`` says what to change.
    """
    if estimate > limit:
        refuse(estimate, limit, what, advice)


def refuse(
    estimate: int, limit: int, what: str, advice: str, *, at_least: bool = False
) -> NoReturn:
    """Raise :class:`~modcfg.LimitExceeded`: ``what`` would need ``estimate`` bytes (``at_least``
    that many, when the work stopped before it could tell)."""
    amount = "at least" if at_least else "about"
    raise LimitExceeded(
        f"{what} would need {amount} {show_bytes(estimate)}, above the memory limit of "
        f"{show_bytes(limit)} (memory_limit={limit}); {advice}, or raise memory_limit= in "
        "modcfg.compile(catalog, memory_limit=...)",
        estimate=estimate,
        limit=limit,
    )
