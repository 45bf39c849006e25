"""What a session shows: each module's state, and the mapping of them all.

:class:`SessionState` is computed on first use, so a change that is not looked at costs only
its feasibility check.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, Mapping
from decimal import Decimal
from html import escape
from typing import Literal

__all__ = ["OptionState", "SessionState", "StateData", "Status", "option_state"]

Status = Literal["chosen", "implied", "available", "excluded"]


class _Fields:
    """An option state's storage: plain slots, filled once (see :func:`option_state`)."""

    __slots__ = ("_reason", "count", "from_price", "status")

    def __init__(
        self,
        status: Status,
        count: int,
        from_price: Decimal | None,
        reason: str | Callable[[], str] | None,
    ) -> None:
        self.status = status
        self.count = count
        self.from_price = from_price
        self._reason = reason


class OptionState(_Fields):
    """One module's state in a session.

    ``count`` is the exact number of valid completions that include it and ``from_price``
    the total of the cheapest of them (None when excluded); ``reason`` says briefly why an
    excluded module is excluded, or that an implied one is forced. Immutable; equal when all
    four are equal.
    """

    __slots__ = ()

    status: Status
    count: int
    from_price: Decimal | None
    _reason: str | Callable[[], str] | None

    def __init__(
        self,
        status: Status,
        count: int,
        from_price: Decimal | None,
        reason: str | Callable[[], str] | None = None,
    ) -> None:
        # ``reason`` may be a function: the explanation is then worked out when first read
        _SET_STATUS(self, status)
        _SET_COUNT(self, count)
        _SET_FROM_PRICE(self, from_price)
        _SET_REASON(self, reason)

    @property
    def reason(self) -> str | None:
        reason = self._reason
        if callable(reason):
            worked_out: str = reason()
            _SET_REASON(self, worked_out)
            return worked_out
        return reason

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"OptionState is immutable; cannot set '{name}'")

    def _key(self) -> tuple[str, int, Decimal | None, str | None]:
        return (self.status, self.count, self.from_price, self.reason)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OptionState):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"OptionState(status={self.status!r}, count={self.count!r}, "
            f"from_price={self.from_price!r}, reason={self.reason!r})"
        )


# the slots' own setters: OptionState's __setattr__ refuses every change after __init__
_SET_STATUS = _Fields.__dict__["status"].__set__
_SET_COUNT = _Fields.__dict__["count"].__set__
_SET_FROM_PRICE = _Fields.__dict__["from_price"].__set__
_SET_REASON = _Fields.__dict__["_reason"].__set__


def option_state(
    status: Status,
    count: int,
    from_price: Decimal | None,
    reason: str | Callable[[], str] | None = None,
) -> OptionState:
    """``OptionState(...)`` at a third of the cost (a session makes one per module per step):
    the fields are filled through the plain storage class, then the instance becomes an
    :class:`OptionState` (same slots), which refuses every later change."""
    state = _Fields(status, count, from_price, reason)
    state.__class__ = OptionState
    return state  # type: ignore[return-value]


class SessionState(Mapping[str, Mapping[str, OptionState]]):
    """``state[slot][module]`` -> :class:`OptionState`, plus the totals of the session.

    ``count`` is the number of valid completions of the current choices; ``price_range`` the
    totals of the cheapest and the dearest of them. Computed on first use, so a change that is
    not looked at costs only its feasibility check.
    """

    def __init__(self, compute: Callable[[], StateData], currency: str) -> None:
        # (usually a bound method of the session that keeps this state: dropped once used,
        # so that a session and its states are freed without waiting for a collection)
        self._compute: Callable[[], StateData] | None = compute
        self._data: StateData | None = None
        self.currency = currency

    def _get(self) -> StateData:
        data = self._data
        if data is None:
            compute = self._compute
            if compute is None:  # another thread computed it meanwhile (data first)
                data = self._data
                assert data is not None
            else:
                data = self._data = compute()
                self._compute = None
        return data

    @property
    def count(self) -> int:
        return self._get()[1]

    @property
    def price_range(self) -> tuple[Decimal, Decimal] | None:
        options, count, price_range = self._get()
        if callable(price_range):  # worked out when first read
            price_range = price_range()
            self._data = (options, count, price_range)
        return price_range

    def __getitem__(self, slot: str) -> Mapping[str, OptionState]:
        return self._get()[0][slot]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get()[0])

    def items(self) -> ItemsView[str, Mapping[str, OptionState]]:
        return self._get()[0].items()  # a read-only view, faster than Mapping's generic one

    def __len__(self) -> int:
        return len(self._get()[0])

    def __repr__(self) -> str:
        low, high = self.price_range or (None, None)
        return f"<SessionState {self.count} completions, {self.currency} {low} - {high}>"

    def _repr_html_(self, max_rows: int = 60) -> str:
        """The state as an HTML table for notebooks (at most ``max_rows`` rows)."""
        rows = []
        for slot, options in self.items():
            for module, option in options.items():
                price = "" if option.from_price is None else str(option.from_price)
                rows.append(
                    f"<tr><td>{escape(slot)}</td><td>{escape(module)}</td>"
                    f"<td>{option.status}</td><td style='text-align:right'>{option.count:,}</td>"
                    f"<td style='text-align:right'>{price}</td>"
                    f"<td>{escape(option.reason or '')}</td></tr>"
                )
        more = len(rows) - max_rows
        shown = "".join(rows[:max_rows])
        if more > 0:
            shown += f"<tr><td colspan='6'>... {more} more options</td></tr>"
        return (
            f"<table><caption>{escape(repr(self))}</caption><tr><th>slot</th><th>module</th>"
            "<th>status</th><th>completions</th><th>from</th><th>why not</th></tr>"
            f"{shown}</table>"
        )

    def available(self, slot: str) -> list[str]:
        """The modules of ``slot`` that are chosen, implied or available."""
        return [m for m, option in self[slot].items() if option.status != "excluded"]


PriceRange = tuple[Decimal, Decimal] | None
#: Options by slot and module, the count, and the price range (or a function giving it).
StateData = tuple[dict[str, dict[str, OptionState]], int, "PriceRange | Callable[[], PriceRange]"]
