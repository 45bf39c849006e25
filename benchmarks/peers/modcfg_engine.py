"""modcfg itself, through its public API only, as an application would call it.

Build is ``modcfg.compile``; the jobs are ``count``, ``configurations``, ``best`` and one
session step (``session(needs)``, ``choose`` for each pick, then every option's state).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import cast

import modcfg
from modcfg import Catalog, Configuration, Needs

from ._base import Peer, StepAnswer

__all__ = ["Modcfg"]


class Modcfg(Peer):
    name = "modcfg"

    def __init__(self, catalog: Catalog, *, time_limit: float = 10.0) -> None:
        super().__init__(catalog, time_limit=time_limit)
        self.configurator = modcfg.compile(catalog)

    def count(self, needs: Needs | None = None) -> int:
        return self.configurator.count(needs)

    def configurations(self, needs: Needs | None = None) -> Sequence[Configuration]:
        # An application that keeps a whole catalog in a list pauses the cyclic collector,
        # as modcfg.collector_paused documents; older versions paused it themselves.
        paused = getattr(modcfg, "collector_paused", contextlib.nullcontext)
        with paused():
            return list(self.configurator.configurations(needs))

    def assignments(self, found: Sequence[object]) -> list[tuple[int, ...]]:
        return [self.problem.assignment(cast(Configuration, item)) for item in found]

    def cheapest(self, needs: Needs | None, k: int) -> list[Decimal]:
        try:
            quotes = self.configurator.best(needs, k=k)
        except modcfg.InfeasibleError:
            return []
        return [quote.total for quote in quotes]

    def step(self, needs: Needs | None, picks: Mapping[str, str]) -> StepAnswer:
        session = self.configurator.session(needs)
        for slot, module in picks.items():
            session.choose(slot, module)
        return StepAnswer.from_counts(
            {
                (slot, module): option.count
                for slot, options in session.state().items()
                for module, option in options.items()
            }
        )
