"""The storefront API's request and response bodies (pydantic), as the OpenAPI schema shows them.

Invariants: counts are JSON strings of decimal digits (they exceed 2**53, which a JSON number
read by a browser cannot hold exactly); money is a decimal string with its currency, never a
float; every request model forbids unknown fields and bounds its strings, so a malformed
request is refused (422, naming the field) before anything computes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..session._saved import MAX_NAME

__all__ = [
    "CatalogInfo",
    "CheckoutRequest",
    "CheckoutResponse",
    "ChoiceRequest",
    "CompleteRequest",
    "CompleteResponse",
    "Count",
    "Money",
    "OptionView",
    "Problem",
    "QuoteLineView",
    "QuoteView",
    "RecommendRequest",
    "Recommendation",
    "RecommendationsView",
    "RelaxationView",
    "RelaxationsRequest",
    "RelaxationsView",
    "SessionRequest",
    "SessionView",
    "SlotView",
    "StartRequest",
    "StateView",
    "SuggestionView",
    "UnchooseRequest",
    "WhyNotView",
]

#: An exact count: decimal digits in a string (JSON numbers lose exactness past 2**53).
Count = Annotated[str, Field(pattern=r"^[0-9]+$", examples=["1800"])]
_Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
#: A signed session document as the server issued it (see ``Session.to_dict``).
SessionDocument = Annotated[
    dict[str, Any],
    Field(description="The signed session document the previous response returned, unchanged."),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


class Money(_Response):
    """An amount of money: a decimal string and its ISO currency code."""

    amount: Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", examples=["260.00"])]
    currency: str


class Problem(_Response):
    """An RFC 9457 problem: what went wrong, and for a bad request the field at fault."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = Field(None, description="The request field at fault, dotted.")
    errors: list[dict[str, Any]] = Field(
        default_factory=list, description="Each invalid field: its location and message."
    )


class CatalogInfo(_Response):
    """A catalog the storefront serves."""

    name: str
    label: str
    version: str
    currency: str
    count: Count
    slots: int


class StartRequest(_Request):
    """Start a session: the customer's needs (the fields of ``modcfg.Needs``), and optionally
    the customer's id, whose remembered orders give suggestions."""

    needs: Annotated[dict[str, Any], Field(max_length=32)] | None = None
    customer: _Name | None = None


class SessionRequest(_Request):
    """A request on a session: the signed session document, as last returned."""

    session: SessionDocument


class ChoiceRequest(SessionRequest):
    """Choose ``module`` (null: leave an optional slot empty) for ``slot``; in a multi-select
    slot, ``quantity`` units of it (0: none; left out: any quantity of one or more)."""

    slot: _Name
    module: _Name | None
    quantity: Annotated[int, Field(ge=0, le=1_000_000)] | None = None


class UnchooseRequest(SessionRequest):
    """Take back the choice of ``slot`` (or of one ``module`` of a multi-select slot)."""

    slot: _Name
    module: _Name | None = None


class CompleteRequest(SessionRequest):
    """Fill every open slot: the cheapest completion, or the most preferred."""

    strategy: Literal["cheapest", "preferred"] = "cheapest"


class RecommendRequest(SessionRequest):
    """Rank the still-possible modules of ``slot``."""

    slot: _Name


class RelaxationsRequest(_Request):
    """Needs to check: feasible, or the clash and the ways out."""

    needs: Annotated[dict[str, Any], Field(max_length=32)]


class CheckoutRequest(SessionRequest):
    """Check out a complete session; with ``consent`` the order is remembered for the
    customer (when the storefront has a customer memory)."""

    customer: _Name | None = None
    consent: bool = False


class OptionView(_Response):
    """One module of a slot in the current state."""

    module: str
    label: str
    status: Literal["chosen", "implied", "available", "excluded"]
    count: Count
    from_price: Money | None
    reason: str | None
    suggested: bool = False


class SlotView(_Response):
    """One slot and its options."""

    slot: str
    label: str
    multiple: bool
    options: list[OptionView]


class StateView(_Response):
    """What the customer sees: every option's status, count and from-price."""

    catalog: str
    version: str
    count: Count
    complete: bool = Field(description="True when exactly one configuration is left.")
    price_range: tuple[Money, Money] | None
    choices: dict[str, Any]
    can_undo: bool
    slots: list[SlotView]


class QuoteLineView(_Response):
    """One line of a quote."""

    kind: str
    source: str
    label: str
    quantity: int
    amount: Money
    reason: str


class QuoteView(_Response):
    """A quote: the configuration, the lines and the total."""

    configuration: dict[str, Any]
    lines: list[QuoteLineView]
    total: Money
    unit_price: Money
    quantity: int
    instalments: int
    instalment_amount: Money | None


class SuggestionView(_Response):
    """A configuration suggested for a returning customer, and how it differs from the usual."""

    quote: QuoteView
    changes: list[str]


class SessionView(_Response):
    """A session's new document (send it back with the next request) and its state."""

    session: SessionDocument
    state: StateView
    suggestions: list[SuggestionView] = []


class CompleteResponse(SessionView):
    """The completed session and its quote."""

    quote: QuoteView


class WhyNotView(_Response):
    """Why an option is excluded (or, when it is possible, its completions)."""

    option: str
    available: bool
    because: list[str]
    rules: dict[str, str]
    completions: Count
    from_price: Money | None
    text: str


class RelaxationView(_Response):
    """One way out of infeasible needs."""

    description: str
    dropped: list[str]
    unlocked: Count
    from_price: Money | None


class RelaxationsView(_Response):
    """Whether needs are feasible, and otherwise the clash and the ways out, best first."""

    feasible: bool
    count: Count
    conflict: list[str]
    relaxations: list[RelaxationView]


class Recommendation(_Response):
    """A module and its score (how likely a customer with these choices picks it)."""

    module: str
    score: float


class RecommendationsView(_Response):
    """The still-possible modules of a slot, best first."""

    slot: str
    source: Literal["sales", "completions"] = Field(
        description="'sales': learned from the remembered orders; 'completions': the share "
        "of the valid completions holding each module."
    )
    modules: list[Recommendation]


class CheckoutResponse(_Response):
    """The final quote, and the stored order's id when the order was remembered."""

    quote: QuoteView
    remembered: bool
    order_id: int | None
