"""Interactive sessions over a whole order: line by line, with the other lines' rules applied.

An :class:`OrderSession` is a :class:`~modcfg.Session` on the order's product catalog (one copy
of the catalog per line, see ``_product.py``), so every option it shows available extends to a
complete order that keeps every rule of every line and every order rule: no dead ends, across
lines too. Slots the order's rules add for themselves are filled by the engine and never shown.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._errors import NeedsError, did_you_mean
from ..session._session import Session
from ..session._state import OptionState, SessionState
from ._product import SEPARATOR, line_slot

if TYPE_CHECKING:
    from .._configurator import NeedsLike
    from ._order import Order, OrderQuote

__all__ = ["OrderSession", "OrderState"]


class OrderState(Mapping[str, Mapping[str, Mapping[str, OptionState]]]):
    """The state of an order session: ``state[line][slot][module]`` is an
    :class:`~modcfg.OptionState`; ``count`` completions of the whole order are left."""

    def __init__(self, order: Order, state: SessionState) -> None:
        self._order = order
        self.product_state = state

    @property
    def count(self) -> int:
        return self.product_state.count

    @property
    def price_range(self) -> tuple[Decimal, Decimal] | None:
        return self.product_state.price_range

    def __getitem__(self, line: str) -> Mapping[str, Mapping[str, OptionState]]:
        names = [entry.name for entry in self._order.lines]
        if line not in names:
            raise KeyError(f"order line '{line}' does not exist{did_you_mean(line, names)}")
        return {
            slot: self.product_state[line_slot(line, slot)] for slot in self._order.catalog.slots
        }

    def __iter__(self) -> Iterator[str]:
        return iter([line.name for line in self._order.lines])

    def __len__(self) -> int:
        return len(self._order.lines)


class OrderSession:
    """One customer's order configured line by line.

    >>> import modcfg
    >>> order = modcfg.Order(modcfg.compile("windows"),
    ...     [modcfg.OrderLine("kitchen", 2), modcfg.OrderLine("hall")],
    ...     rules=[modcfg.OrderRule(id="one-frame", same="frame")])
    >>> state = order.session().choose("kitchen", "frame", "oak")
    >>> {m: o.status for m, o in state["hall"]["frame"].items() if o.status != "excluded"}
    {'oak': 'implied'}
    """

    def __init__(self, order: Order, needs: NeedsLike = None) -> None:
        self.order = order
        self._needs = needs
        self.session = Session(order.product, order.product_needs(needs))

    def _slot(self, line: str, slot: str) -> str:
        names = [entry.name for entry in self.order.lines]
        if line not in names:
            raise NeedsError(f"order line '{line}' does not exist{did_you_mean(line, names)}")
        return line_slot(line, slot)

    def state(self) -> OrderState:
        return OrderState(self.order, self.session.state())

    def choose(
        self, line: str, slot: str, module: str | None, quantity: int | None = None
    ) -> OrderState:
        """Choose ``module`` for ``slot`` on ``line`` (``quantity``: as in
        :meth:`Session.choose <modcfg.Session.choose>`; InfeasibleError, with the reason, when
        it would leave no valid order)."""
        return OrderState(self.order, self.session.choose(self._slot(line, slot), module, quantity))

    def unchoose(self, line: str, slot: str, module: str | None = None) -> OrderState:
        return OrderState(self.order, self.session.unchoose(self._slot(line, slot), module))

    def undo(self) -> OrderState:
        return OrderState(self.order, self.session.undo())

    @property
    def choices(self) -> dict[str, dict[str, Any]]:
        """line -> that line's choices (slot -> module or {module: quantity})."""
        out: dict[str, dict[str, Any]] = {line.name: {} for line in self.order.lines}
        for slot, choice in self.session.choices.items():
            line, found, rest = slot.partition(SEPARATOR)
            if found and line in out:
                out[line][rest] = choice
        return out

    def complete(self) -> OrderQuote:
        """Fill every open slot of every line with the cheapest completion; the order quote."""
        found = self.session.complete()
        return self.order.priced(self.order.split(found.configuration), self._needs, found.score)
