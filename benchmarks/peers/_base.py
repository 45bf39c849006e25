"""The small interface every peer implements, and the answers it returns."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import ClassVar, cast

from modcfg import Catalog, Needs

from ._errors import PeerTimeout, Unsupported
from ._problem import Problem, Query

__all__ = ["Peer", "StepAnswer"]


@dataclass(frozen=True)
class StepAnswer:
    """One interactive step: the options (slot, module) that stay possible and, when the peer
    computes them, each option's number of completions."""

    possible: frozenset[tuple[str, str]]
    counts: Mapping[tuple[str, str], int] | None = None

    @classmethod
    def from_counts(cls, counts: Mapping[tuple[str, str], int]) -> StepAnswer:
        kept = {option: count for option, count in counts.items() if count}
        return cls(frozenset(kept), kept)


class Peer:
    """A way to answer the benchmark's jobs with one tool, used as its users would.

    The constructor is the build step (translate the catalog and build the tool's model); each
    job is one method. A method raises :class:`Unsupported` when the tool has no way to answer,
    :class:`TooLarge` when the job is out of its reach by construction, and
    :class:`PeerTimeout` when its own time limit is hit.
    """

    name: ClassVar[str] = "peer"
    #: Counts go through a double (exact up to 2**53 only).
    exact: ClassVar[bool] = True

    def __init__(self, catalog: Catalog, *, time_limit: float = 10.0) -> None:
        self.catalog = catalog
        self.time_limit = time_limit

    @cached_property
    def problem(self) -> Problem:
        """The finite-domain translation (built in the constructor by the peers that use it)."""
        return Problem(self.catalog)

    def deadline(self) -> float:
        return time.perf_counter() + self.time_limit

    @staticmethod
    def check(deadline: float) -> None:
        if time.perf_counter() > deadline:
            raise PeerTimeout

    def count(self, needs: Needs | None = None) -> int:
        """The number of valid configurations."""
        raise Unsupported

    def configurations(self, needs: Needs | None = None) -> Sequence[object]:
        """Every valid configuration (in the tool's own form; see :meth:`assignments`)."""
        raise Unsupported

    def assignments(self, found: Sequence[object]) -> list[tuple[int, ...]]:
        """Turn what :meth:`configurations` returned into value-index tuples (not timed)."""
        return [tuple(cast(Iterable[int], item)) for item in found]

    def cheapest(self, needs: Needs | None, k: int) -> list[Decimal]:
        """The quote totals of the ``k`` cheapest configurations, cheapest first."""
        raise Unsupported

    def step(self, needs: Needs | None, picks: Mapping[str, str]) -> StepAnswer:
        """After taking ``picks`` (slot -> module): the options that stay possible."""
        raise Unsupported

    def totals(self, needs: Needs | None, units: Sequence[int]) -> list[Decimal]:
        """Quote totals of configurations with the given unit prices (minor units)."""
        resolved = (needs or Needs()).resolve(self.catalog)
        return [self.problem.total(resolved, unit) for unit in units]

    def query(self, needs: Needs | None, picks: Mapping[str, str] | None = None) -> Query:
        return self.problem.query(needs, picks)
