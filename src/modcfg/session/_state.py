"""What a session shows: each module's state, and the mapping of them all.

:class:`SessionState` is computed on first use, so a change that is not looked at costs only
its feasibility check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, ItemsView, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from .._frames import data_frame
from .._html import html_table
from .._reasons import Reason

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Lazy",
    "LazyReason",
    "OptionState",
    "SessionState",
    "StateData",
    "Status",
    "SuggestedOptionState",
]

T = TypeVar("T")

Status = Literal["chosen", "implied", "available", "excluded"]


class LazyReason:
    """A :class:`~modcfg.Reason` worked out when first read, as ``make(*args)`` (explanations
    cost a pass each; most are never read).

    Thread-safe: ``make`` is pure, so two threads reading at once get equal reasons.

    >>> from modcfg import Reason
    >>> later = LazyReason(lambda rule: Reason("rule", rule, rule=rule), "pvc-double-only")
    >>> later.reason.rule
    'pvc-double-only'
    """

    __slots__ = ("_args", "_make", "_reason")

    def __init__(self, make: Callable[..., Reason], *args: object) -> None:
        self._make: Callable[..., Reason] | None = make
        self._args = args
        self._reason: Reason | None = None

    @property
    def reason(self) -> Reason:
        reason = self._reason
        if reason is None:
            make, args = self._make, self._args
            if make is None:  # another thread worked it out meanwhile (reason first)
                reason = self._reason
                assert reason is not None
                return reason
            reason = self._reason = make(*args)
            self._make, self._args = None, ()  # what it read can be freed
        return reason

    def __repr__(self) -> str:
        return f"LazyReason({self._reason!r})" if self._reason is not None else "LazyReason(...)"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class OptionState:
    """One module's state in a session.

    ``count`` is the exact number of valid completions that include it and ``from_price``
    the total of the cheapest of them (None when excluded); ``reason`` says briefly why an
    excluded module is excluded, or that an implied one is forced, and ``cause`` is the same
    reason as a :class:`~modcfg.Reason` (its kind, the rule, need or choice at fault).
    ``suggested`` is true for a module of a returning customer's usual that the session
    suggests (a retractable suggestion, never a choice: its status says what the customer's
    own choices leave it). Immutable; equal when all of these are equal.

    >>> OptionState("available", 36, Decimal("260.00"))
    OptionState(status='available', count=36, from_price=Decimal('260.00'), reason=None)
    """

    status: Status
    count: int
    from_price: Decimal | None
    # the reason, or a LazyReason that works it out when first read (see ``cause``)
    _cause: Reason | LazyReason | None = None
    #: Whether the session suggests this module (a returning customer's usual); true for the
    #: states of :class:`SuggestedOptionState` only. (A class attribute rather than a field:
    #: a session state builds one option state per module at every step, and each field is
    #: one more store in each.)
    suggested: ClassVar[bool] = False

    @property
    def cause(self) -> Reason | None:
        """Why the module is excluded or implied, as a :class:`~modcfg.Reason` (None when it is
        chosen or available)."""
        cause = self._cause
        return cause.reason if isinstance(cause, LazyReason) else cause

    @property
    def reason(self) -> str | None:
        """Why the module is excluded or implied, in words (the text of ``cause``)."""
        cause = self._cause
        if cause is None:
            return None
        return (cause.reason if isinstance(cause, LazyReason) else cause).text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OptionState):
            return NotImplemented
        return _shown(self) == _shown(other)

    def __hash__(self) -> int:
        return hash(_shown(self))

    def __repr__(self) -> str:
        suggested = ", suggested=True" if self.suggested else ""
        return (
            f"OptionState(status={self.status!r}, count={self.count!r}, "
            f"from_price={self.from_price!r}, reason={self.reason!r}{suggested})"
        )


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SuggestedOptionState(OptionState):
    """The state of a module the session suggests (see :attr:`OptionState.suggested`).

    >>> option = SuggestedOptionState("available", 36, Decimal("260.00"))
    >>> option.suggested, option == OptionState("available", 36, Decimal("260.00"))
    (True, False)
    """

    suggested: ClassVar[bool] = True


def _shown(option: OptionState) -> tuple[str, int, Decimal | None, str | None, bool]:
    """What an option state shows (what its equality compares)."""
    return (option.status, option.count, option.from_price, option.reason, option.suggested)


class Lazy(Generic[T]):
    """A value worked out once, when first read, as ``make()``; ``make`` is dropped once
    used, so what it read can be freed. With ``lock`` (for work worth doing once), several
    threads reading at first wait for one of them; without, they may each work it out (for a
    cheap, pure ``make``: they get equal values).

    >>> lazy = Lazy(lambda: 6 * 7)
    >>> lazy.ready, lazy.get(), lazy.ready
    (False, 42, True)
    """

    __slots__ = ("_lock", "_make", "_value")

    def __init__(self, make: Callable[[], T], *, lock: bool = True) -> None:
        self._make: Callable[[], T] | None = make
        self._value: T | None = None
        self._lock = threading.Lock() if lock else None

    @property
    def ready(self) -> bool:
        """Whether the value has been worked out."""
        return self._make is None

    def get(self) -> T:
        make = self._make
        if make is not None:
            if self._lock is None:
                self._value = make()
                self._make = None
            else:
                with self._lock:
                    make = self._make
                    if make is not None:  # (else another thread worked it out meanwhile)
                        self._value = make()
                        self._make = None
        return self._value  # type: ignore[return-value]  # set once make is dropped


def _settled(compute: Callable[[], StateData]) -> StoredData:
    """The state's data, with a price range still to work out made :class:`Lazy`."""
    options, count, price_range = compute()
    if callable(price_range):  # (two passes over the query's keys: racing threads agree)
        return options, count, Lazy(price_range, lock=False)
    return options, count, price_range


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SessionState(Mapping[str, Mapping[str, OptionState]]):
    """``state[slot][module]`` -> :class:`OptionState`, plus the totals of the session.

    ``count`` is the number of valid completions of the current choices; ``price_range`` the
    totals of the cheapest and the dearest of them; ``currency`` the catalog's currency code
    (``EUR``). Immutable; computed on first use, so a change that is not looked at costs only
    its feasibility check.
    """

    # the options, count and price range, worked out when first read; what it reads was
    # captured when the session returned this state, so the state answers the same whenever
    # and wherever it is read
    _data: Lazy[StoredData]
    currency: str
    # a returning customer's suggestions (slot -> module or {module: quantity}), worked out
    # when first read; None when the session has no customer
    _suggested: Lazy[dict[str, Any]] | None = None

    @classmethod
    def of(
        cls,
        compute: Callable[[], StateData],
        currency: str,
        suggested: Lazy[dict[str, Any]] | None = None,
    ) -> SessionState:
        """The state whose data ``compute()`` works out when first read."""
        return cls(Lazy(partial(_settled, compute)), currency, suggested)

    @property
    def suggested(self) -> dict[str, Any]:
        """The returning customer's usual still possible with their choices, as suggestions
        (slot -> module, or {module: quantity}); empty without a customer. Suggestions are
        not choices: ``session.accept()`` makes them so, ``session.dismiss()`` drops them."""
        return {} if self._suggested is None else dict(self._suggested.get())

    @property
    def computed(self) -> bool:
        """Whether the state has been worked out (reading it the first time costs a pass)."""
        return self._data.ready

    @property
    def count(self) -> int:
        return self._data.get()[1]

    @property
    def price_range(self) -> tuple[Decimal, Decimal] | None:
        price_range = self._data.get()[2]
        return price_range.get() if isinstance(price_range, Lazy) else price_range

    def __getitem__(self, slot: str) -> Mapping[str, OptionState]:
        return self._data.get()[0][slot]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data.get()[0])

    def items(self) -> ItemsView[str, Mapping[str, OptionState]]:
        return self._data.get()[0].items()  # a read-only view, faster than Mapping's generic one

    def __len__(self) -> int:
        return len(self._data.get()[0])

    def __repr__(self) -> str:
        low, high = self.price_range or (None, None)
        return f"<SessionState {self.count} completions, {self.currency} {low} - {high}>"

    def _rows(self) -> Iterator[tuple[str, str, Status, int, Decimal | None, str | None]]:
        for slot, options in self.items():
            for module, option in options.items():
                yield slot, module, option.status, option.count, option.from_price, option.reason

    def _repr_html_(self, max_rows: int = 60) -> str:
        """The state as an HTML table for notebooks (at most ``max_rows`` rows; excluded
        options greyed out)."""
        return html_table(
            ["slot", "module", "status", "completions", "from", "why not"],
            self._rows(),
            caption=repr(self),
            max_rows=max_rows,
            total_rows=sum(map(len, self.values())),
            muted=(row[2] == "excluded" for row in self._rows()),
        )

    def to_pandas(self) -> pd.DataFrame:
        """One row per option (needs pandas): ``slot``, ``module``, ``status``, ``count``
        (int), ``from_price`` (Decimal, None when excluded) and ``reason``."""
        return data_frame(
            ["slot", "module", "status", "count", "from_price", "reason"],
            self._rows(),
            exact=["count", "from_price"],
        )

    def available(self, slot: str) -> list[str]:
        """The modules of ``slot`` that are chosen, implied or available."""
        return [m for m, option in self[slot].items() if option.status != "excluded"]


PriceRange = tuple[Decimal, Decimal] | None
#: Options by slot and module, the count, and the price range (or a function giving it).
StateData = tuple[dict[str, dict[str, OptionState]], int, "PriceRange | Callable[[], PriceRange]"]
#: :data:`StateData` as a state keeps it: a price range to work out is :class:`Lazy`.
StoredData = tuple[dict[str, dict[str, OptionState]], int, "PriceRange | Lazy[PriceRange]"]
