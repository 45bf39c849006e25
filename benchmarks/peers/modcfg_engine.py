"""modcfg itself, through its public API only.

Build is ``modcfg.compile``; the jobs are ``count``, ``configurations``, ``best`` and one
session step (``session(needs)``, ``choose``, ``state``). Parts of the API that do not exist
(yet) make the job ``n/a`` instead of failing the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import modcfg
from modcfg import Catalog, Needs

from ._base import Peer, StepAnswer
from ._errors import Unsupported

__all__ = ["Modcfg"]

#: Statuses of a session option that mean "this option cannot be chosen any more".
IMPOSSIBLE = {"impossible", "excluded", "unavailable", "blocked", "conflict", "infeasible"}


def _api(owner: object, name: str) -> Callable[..., Any]:
    function = getattr(owner, name, None)
    if not callable(function):
        raise Unsupported(f"{type(owner).__name__}.{name} is not available")
    return function


class Modcfg(Peer):
    name = "modcfg"

    def __init__(self, catalog: Catalog, *, time_limit: float = 10.0) -> None:
        super().__init__(catalog, time_limit=time_limit)
        self.configurator = _api(modcfg, "compile")(catalog)

    def count(self, needs: Needs | None = None) -> int:
        return int(_api(self.configurator, "count")(needs))

    def configurations(self, needs: Needs | None = None) -> Sequence[object]:
        return list(_api(self.configurator, "configurations")(needs))

    def assignments(self, found: Sequence[object]) -> list[tuple[int, ...]]:
        return [self.problem.assignment(item) for item in found]  # type: ignore[arg-type]

    def cheapest(self, needs: Needs | None, k: int) -> list[Decimal]:
        try:
            quotes = _api(self.configurator, "best")(needs or Needs(), k=k)
        except modcfg.InfeasibleError:
            return []
        return [quote.total for quote in quotes]

    def step(self, needs: Needs | None, picks: Mapping[str, str]) -> StepAnswer:
        session = _api(self.configurator, "session")(needs or Needs())
        for slot, module in picks.items():
            _api(session, "choose")(slot, module)
        state = _api(session, "state")()
        possible: set[tuple[str, str]] = set()
        counts: dict[tuple[str, str], int] = {}
        for slot, options in state.items():
            for module, option in options.items():
                if module is None:
                    continue
                count = getattr(option, "count", None)
                status = str(getattr(option, "status", "")).lower().rsplit(".", 1)[-1]
                if isinstance(count, int):
                    if count:
                        counts[slot, module] = count
                        possible.add((slot, module))
                elif status not in IMPOSSIBLE:
                    possible.add((slot, module))
        return StepAnswer(frozenset(possible), counts or None)
