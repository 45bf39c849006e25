"""Library objects as the API's response models: states, quotes, explanations, relaxations.

Invariants: every count leaves as a string of digits and every amount as a :class:`Money`
(decimal string and currency); an option's order is the catalog's (or the customer's learned
order, as the session gives it), so equal states give equal JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..model import Quantities
from ._models import Money, QuoteLineView, QuoteView, RelaxationView, WhyNotView

if TYPE_CHECKING:
    from .._errors import Relaxation
    from ..explain import Explanation
    from ..model import Catalog
    from ..price import Quote
    from ..session import Session, SessionState

__all__ = ["money", "plain_choices", "quote_view", "relaxation_view", "state_view", "why_not_view"]


def money(amount: Decimal | None, currency: str) -> Money | None:
    """``amount`` as :class:`Money` (None stays None)."""
    if amount is None:
        return None
    return Money(amount=str(amount), currency=currency)


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=str(amount), currency=currency)


def plain_choices(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration as JSON data: slot -> module id, null, or {module: quantity}."""
    return {
        slot: dict(choice) if isinstance(choice, Quantities) else choice
        for slot, choice in configuration.items()
    }


def state_view(catalog: Catalog, session: Session, state: SessionState) -> dict[str, Any]:
    """The state a customer sees, as the JSON data of :class:`StateView` (built as plain
    data: a state of a large catalog has thousands of options, and one validation of the
    response model each would cost more than the step). ``can_undo`` is the caller's."""
    currency = catalog.currency
    slots = []
    for slot_id, options in state.items():
        slot = catalog.slots[slot_id]
        modules = slot.modules
        views = []
        for module_id, option in options.items():
            price = option.from_price
            views.append(
                {
                    "module": module_id,
                    "label": modules[module_id].label or module_id,
                    "status": option.status,
                    "count": str(option.count),
                    "from_price": None
                    if price is None
                    else {"amount": str(price), "currency": currency},
                    "reason": option.reason,
                    "suggested": option.suggested,
                }
            )
        slots.append(
            {
                "slot": slot_id,
                "label": slot.label or slot_id,
                "multiple": not slot.single,
                "options": views,
            }
        )
    spread = state.price_range
    return {
        "catalog": catalog.name,
        "version": catalog.version,
        "count": str(state.count),
        "complete": state.count == 1,
        "price_range": None
        if spread is None
        else [{"amount": str(bound), "currency": currency} for bound in spread],
        "choices": session.choices,
        "can_undo": False,
        "slots": slots,
    }


def quote_view(quote: Quote) -> QuoteView:
    """A quote with its lines."""
    currency = quote.currency
    return QuoteView(
        configuration=plain_choices(quote.configuration),
        lines=[
            QuoteLineView(
                kind=line.kind,
                source=line.source,
                label=line.label,
                quantity=line.quantity,
                amount=_money(line.amount, currency),
                reason=line.reason,
            )
            for line in quote.lines
        ],
        total=_money(quote.total, currency),
        unit_price=_money(quote.unit_price, currency),
        quantity=quote.quantity,
        instalments=quote.instalments,
        instalment_amount=money(quote.instalment_amount, currency),
    )


def why_not_view(explanation: Explanation) -> WhyNotView:
    """An explanation of an option's exclusion (or of its completions, when possible)."""
    return WhyNotView(
        option=explanation.option,
        available=explanation.available,
        because=list(explanation.because),
        rules=dict(explanation.rules),
        completions=str(explanation.completions),
        from_price=money(explanation.from_price, explanation.currency),
        text=str(explanation),
    )


def relaxation_view(relaxations: Iterable[Relaxation]) -> list[RelaxationView]:
    """Ways out of infeasible needs, best first."""
    return [
        RelaxationView(
            description=relaxation.description,
            dropped=list(relaxation.dropped),
            unlocked=str(relaxation.unlocked),
            from_price=None
            if relaxation.from_price is None
            else _money(Decimal(relaxation.from_price), relaxation.currency),
        )
        for relaxation in relaxations
    ]
