"""What compiling does at an engine's limits: compile's time limit (:class:`Deadline`), the
tree decomposed with min-fill or none (:func:`filled_in`), and the compiled engine after the
tree refused a catalog, or the refusal of both (:func:`compile_wide`).

:class:`~modcfg._compiled.CompiledCatalog` chooses the engine (see its ``_choose_engine``);
these are the steps it takes when one refuses.
"""

from __future__ import annotations

import time

from ._errors import LimitExceeded, TimeLimitExceeded
from .engines.compiled import COMPILE_SECONDS, CompiledQuery, NotCnfError, compile_problem
from .engines.decomposition import BagsTooLarge, Tree, build_tree
from .lower import Problem

__all__ = ["Deadline", "compile_wide", "filled_in", "refused_by_both"]


def filled_in(base: Problem, deadline: float | None) -> Tree | None:
    """The tree of ``base`` decomposed with min-fill on every component, within the full
    limits, or None when its bags pass them (then the default tree is built)."""
    try:
        return build_tree(base, fill_in=True, deadline=deadline)
    except BagsTooLarge:
        return None


class Deadline:
    """Compile's ``time_limit``, started when compiling starts."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self, most: float | None, stopped: str) -> float:
        """The seconds left (at most ``most``); :class:`LimitExceeded` when none are, saying
        the limit ran out ``stopped``."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise self.passed(stopped)
        return left if most is None else min(left, most)

    def passed(self, stopped: str) -> LimitExceeded:
        """The error of the limit passed ``stopped`` (where the work was)."""
        return TimeLimitExceeded(
            f"compiling passed time_limit={self.seconds:g} s {stopped}; raise time_limit= "
            "of modcfg.compile (--time-limit on the command line)",
            limit=int(self.seconds),
        )


def compile_wide(
    base: Problem, refused: LimitExceeded, deadline: Deadline | None = None
) -> CompiledQuery:
    """The compiled engine's query of rules the decomposition ``refused``, or that refusal
    when the rules are no CNF or the compiled engine passes its limits too (then neither
    engine counts the catalog, and the refusal says why each stopped)."""
    try:
        seconds = COMPILE_SECONDS
        if deadline is not None:
            seconds = deadline.left(seconds, "before the compiled engine could start")
        return compile_problem(base, seconds=seconds)
    except NotCnfError:
        raise refused from None
    except LimitExceeded as also:
        raise refused_by_both(refused, also) from None


def refused_by_both(tree: LimitExceeded, engine: LimitExceeded) -> LimitExceeded:
    """The decomposition's refusal ``tree`` and the compiled engine's ``engine`` as one,
    saying why each stopped."""
    return LimitExceeded(
        f"{tree}; the compiled engine stopped too: {engine}",
        estimate=tree.estimate,
        limit=tree.limit,
    )
