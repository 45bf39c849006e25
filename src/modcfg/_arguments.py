"""Checks of the arguments of the public calls that are not a catalog or needs: numbers of
seconds, counts and engine names. A wrong one raises :class:`~modcfg.NeedsError` (a
``ModcfgError``) naming the argument and what it takes, before any work."""

from __future__ import annotations

import math
import time
from typing import Literal, get_args

from ._errors import NeedsError

__all__ = [
    "ENGINES",
    "Engine",
    "checked_count",
    "checked_engine",
    "checked_seconds",
    "deadline_after",
]

#: An engine a call may ask for.
Engine = Literal["auto", "decomposition", "cpsat", "compiled"]
ENGINES: tuple[Engine, ...] = get_args(Engine)


def checked_seconds(name: str, seconds: float | None) -> float | None:
    """``seconds`` (a time limit: None for none), when it is a number of seconds.

    >>> checked_seconds("time_limit", 2), checked_seconds("time_limit", None)
    (2, None)
    >>> checked_seconds("time_limit", "5")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    modcfg.NeedsError: time_limit='5' is not a number of seconds; give a number, or None ...
    """
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or math.isnan(seconds):
        raise NeedsError(
            f"{name}={seconds!r} is not a number of seconds; give a number, or None for no limit"
        )
    return seconds


def checked_count(name: str, number: int | None, least: int) -> int | None:
    """``number`` (None: no bound), when it is a whole number of at least ``least``."""
    if number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, int):
        raise NeedsError(f"{name}={number!r} is not a whole number; give {name} >= {least}")
    if number < least:
        raise NeedsError(f"{name}={number} is below {least}; give {name} >= {least}")
    return number


def checked_engine(engine: str) -> Engine:
    """``engine``, when it names one."""
    for known in ENGINES:
        if engine == known:
            return known
    raise NeedsError(f"engine={engine!r} is unknown; use one of {', '.join(ENGINES)}")


def deadline_after(seconds: float | None) -> float | None:
    """The :func:`time.monotonic` value ``seconds`` from now (None: no deadline)."""
    return None if seconds is None else time.monotonic() + seconds
