"""A returning customer's usual, offered in a session as retractable suggestions.

A session started with ``customer=profile`` (a :class:`~modcfg.memory.CustomerProfile`) keeps
the usual apart from the customer's own choices: :func:`pick` keeps, strongest learned weight
first, each module of the usual whose slot the customer has not chosen nor dismissed and that
still leaves a valid configuration with their choices and the suggestions kept before it. So
the suggestions always extend the choices to a valid configuration, follow every change of
the choices, and never count as choices (``session.choices``, quotes and saved sessions hold
only the customer's own). :func:`marked` flags the suggested options in a state and orders
each slot's options by the learned weights, strongest first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from ._compute import _Choice, _Step
from ._state import Lazy, OptionState, StateData, SuggestedOptionState

if TYPE_CHECKING:
    from .._configurator import Configurator
    from .._plan import Plan
    from ..memory import CustomerProfile
    from ..model import Catalog

__all__ = [
    "NO_PICKS",
    "NO_USUAL",
    "Usual",
    "marked",
    "pick",
    "suggested_choices",
    "suggesting",
    "usual_of",
]


@dataclass(frozen=True)
class Usual:
    """The usual as session choices (strongest weight first) and the learned weights."""

    choices: tuple[_Choice, ...] = ()
    weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


#: The usual of a session without a returning customer (most sessions).
NO_USUAL = Usual()
#: The suggestions of a state without a usual.
NO_PICKS: Lazy[tuple[_Choice, ...]] = Lazy(tuple)


def usual_of(cfg: Configurator, profile: CustomerProfile | None) -> Usual:
    """The part of ``profile``'s usual that this catalog still has, as choices."""
    if profile is None:
        return NO_USUAL
    slots = cfg.catalog.slots
    found: list[tuple[float, int, _Choice]] = []
    for position, (slot, choice) in enumerate(profile.usual.items()):
        here = slots.get(slot)
        if here is None or choice is None:
            continue
        modules = choice if isinstance(choice, Mapping) else {choice: 1}
        for module, quantity in modules.items():
            if (
                quantity
                and module in here.modules
                and quantity <= here.modules[module].max_quantity
            ):
                weight = profile.weight(slot, module)
                found.append((-weight, position, _Choice(slot, module, int(quantity))))
    found.sort(key=lambda entry: entry[:2])
    weights = {slot: dict(shares) for slot, shares in profile.weights.items() if slot in slots}
    return Usual(tuple(entry[2] for entry in found), weights)


def pick(
    usual: Usual,
    choices: tuple[_Choice, ...],
    dismissed: frozenset[str],
    feasible: Callable[[tuple[_Choice, ...]], bool],
) -> tuple[_Choice, ...]:
    """The suggestions for these choices: each usual module of a slot the customer left open
    and did not dismiss, kept when it still leaves a valid configuration."""
    taken = {choice.slot for choice in choices} | dismissed
    kept: list[_Choice] = []
    failed: set[str] = set()  # a multi-select slot's modules stand or fall together
    for choice in usual.choices:
        if choice.slot in taken or choice.slot in failed:
            continue
        if feasible((*choices, *kept, choice)):
            kept.append(choice)
        else:
            failed.add(choice.slot)
            kept = [c for c in kept if c.slot != choice.slot]
    return tuple(kept)


def suggesting(
    compute: Callable[[], StateData],
    usual: Usual,
    step: _Step,
    dismissed: frozenset[str],
    possible: Callable[[Plan, tuple[_Choice, ...]], bool],
) -> tuple[Lazy[tuple[_Choice, ...]], partial[StateData], Lazy[dict[str, Any]]]:
    """For the state of ``step``: its suggestions (worked out when first read), ``compute``
    with them marked, and the suggestions as the state shows them. ``possible(plan,
    choices)`` says whether choices leave a valid configuration."""
    picks = Lazy(partial(pick, usual, step.choices, dismissed, partial(possible, step.plan)))
    marking = partial(marked, compute, picks, usual.weights)
    return picks, marking, Lazy(partial(suggested_choices, picks, step.cfg.catalog))


def suggested_choices(suggestions: Lazy[tuple[_Choice, ...]], catalog: Catalog) -> dict[str, Any]:
    """Suggestions as ``session.choices`` shows choices: slot -> module or {module: qty}."""
    result: dict[str, Any] = {}
    for choice in suggestions.get():
        if catalog.slots[choice.slot].single:
            result[choice.slot] = choice.module
        else:
            result.setdefault(choice.slot, {})[choice.module] = choice.quantity
    return result


def marked(
    compute: Callable[[], StateData],
    suggestions: Lazy[tuple[_Choice, ...]],
    weights: Mapping[str, Mapping[str, float]],
) -> StateData:
    """``compute()``'s state with the suggested options flagged and each slot's options
    ordered by the learned weights (the others after them, in the catalog's order)."""
    options, count, price_range = compute()
    flagged = {(choice.slot, choice.module) for choice in suggestions.get()}
    result: dict[str, dict[str, OptionState]] = {}
    for slot, row in options.items():
        shares = weights.get(slot, {})
        order = sorted(row, key=lambda module: -shares.get(module, 0.0)) if shares else row
        result[slot] = {
            module: _flag(row[module]) if (slot, module) in flagged else row[module]
            for module in order
        }
    return result, count, price_range


def _flag(option: OptionState) -> OptionState:
    return SuggestedOptionState(option.status, option.count, option.from_price, option.cause)
