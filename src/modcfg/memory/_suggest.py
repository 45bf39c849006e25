"""Suggestions: a customer's usual on today's catalog, or the nearest valid configurations.

The usual (a :class:`~modcfg.memory.CustomerProfile`'s) may no longer be valid: a new catalog
version retires modules or slots, or adds a rule that forbids a pair it holds. The search
asks the engine for configurations by preference score first, then price. Each module of the
usual that still exists weighs more than all learned weights together, and every module the
customer ordered before adds its learned weight (in hundredths), so configurations come by the
number of usual modules they keep (fewest changes first), then by how much the customer liked
the modules they bring in, then by price: the first is the usual itself whenever it is still
valid, and a retired module gives way to the customer's own second choice. Each change
is explained from the catalog: a retired module or slot, the rules that forbid the old module
with the rest of the suggestion, or a new slot to fill; a change no rule forces is an
alternative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._errors import NeedsError
from .._slot_breaks import SlotBreaks
from .._streams import ordered
from ..model import Catalog, Configuration, Needs, Quantities
from ..price import Quote
from ._profile import CustomerProfile

if TYPE_CHECKING:
    from .._configurator import Configurator

__all__ = ["Change", "Suggestion", "affinity", "preferences", "suggest"]

ChangeKind = Literal["retired-module", "retired-slot", "rule", "new-slot", "alternative"]


@dataclass(frozen=True)
class Change:
    """One slot where a suggestion differs from the customer's usual, and why.

    ``kind`` is ``retired-module`` (the usual module is no longer in the catalog),
    ``retired-slot``, ``rule`` (``rules`` forbid the usual module with the rest of the
    suggestion), ``new-slot`` (the catalog has a slot the usual never filled) or
    ``alternative`` (no rule forces the change: a nearby option).
    """

    slot: str
    was: Any
    now: Any
    kind: ChangeKind
    reason: str
    rules: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.slot}: {_shown(self.was)} -> {_shown(self.now)} ({self.reason})"


@dataclass(frozen=True)
class Suggestion:
    """A valid configuration of the current catalog suggested for a customer, its quote (at
    their typical quantity), and the :class:`Change` objects from their usual (none when it
    is the usual itself)."""

    configuration: Configuration
    quote: Quote
    changes: tuple[Change, ...]

    @property
    def is_usual(self) -> bool:
        """Whether this is the customer's usual, unchanged."""
        return not self.changes

    @property
    def module_changes(self) -> int:
        """How many slots hold another module than the usual (new slots not counted)."""
        return sum(change.kind != "new-slot" for change in self.changes)

    def __repr__(self) -> str:
        changes = "; ".join(map(str, self.changes)) or "the usual"
        return f"<Suggestion {self.quote.currency} {self.quote.total}: {changes}>"


def _shown(choice: Any) -> str:
    if choice is None:
        return "none"
    if isinstance(choice, Mapping):
        return "{" + ", ".join(f"{m} x{q}" for m, q in choice.items() if q) + "}"
    return str(choice)


def _same(was: Any, now: Any) -> bool:
    if isinstance(was, Mapping) or isinstance(now, Mapping):
        return {m: q for m, q in dict(was or {}).items() if q} == {
            m: q for m, q in dict(now or {}).items() if q
        }
    return bool(was == now)


def affinity(profile: CustomerProfile, slot: str, module: str) -> int:
    """A module's learned weight in whole hundredths (at most 100 per slot)."""
    return int(100 * profile.weight(slot, module))


#: Popularity among all customers, in whole shares of this many per slot.
POPULARITY_STEPS = 99
#: The largest preference weight needs accept (``Needs.prefer``).
MAX_PREFERENCE_WEIGHT = 10**9


def preferences(
    catalog: Catalog,
    profile: CustomerProfile,
    popularity: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, int]:
    """The preference weights of the search, in three tiers that never mix: each usual
    module still in the catalog weighs more than all affinities together, each hundredth of
    a module's affinity more than all popularity together, and ``popularity[slot][module]``
    (the share of all customers' orders, when given) breaks the remaining ties."""
    slots = len(catalog.slots)
    steps = POPULARITY_STEPS if popularity else 0
    liked = steps * slots + 1  # one hundredth of affinity
    # above every affinity and popularity together: at most 100 hundredths and ``steps``
    # shares per slot
    usual_weight = slots * (100 * liked + steps) + 1
    if usual_weight > MAX_PREFERENCE_WEIGHT:  # a huge catalog: no popularity tier
        steps, liked, usual_weight = 0, 1, 100 * slots + 1
    prefer: dict[str, int] = {}
    for slot, found in catalog.slots.items():
        choice = profile.usual.get(slot)
        usual = choice if isinstance(choice, Mapping) else {} if choice is None else {choice: 1}
        shares = (popularity or {}).get(slot, {})
        for module in found.modules:
            weight = liked * affinity(profile, slot, module) + int(steps * shares.get(module, 0))
            weight += usual_weight if usual.get(module) else 0
            if weight:
                prefer[f"{slot}.{module}"] = weight
    return prefer


def base_needs(profile: CustomerProfile, catalog: Catalog) -> Needs:
    """The needs a suggestion is quoted under: the customer's typical quantity, and their
    payment term when the catalog still offers it."""
    payment = profile.payment if profile.payment in catalog.payment_terms else None
    return Needs(quantity=max(1, profile.quantity), payment=payment)


def suggest(
    profile: CustomerProfile,
    cfg: Configurator,
    k: int = 3,
    popularity: Mapping[str, Mapping[str, float]] | None = None,
) -> list[Suggestion]:
    """Up to ``k`` suggestions for ``profile`` on ``cfg``'s catalog, best first (ties in the
    customer's own history broken by ``popularity``, see :func:`preferences`)."""
    if k < 1:
        raise NeedsError(f"k={k} asks for no suggestion; give k >= 1")
    catalog = cfg.catalog
    needs = base_needs(profile, catalog)
    searched = needs.model_copy(update={"prefer": preferences(catalog, profile, popularity)})
    plan = cfg.compiled.plan(searched)
    found: list[Suggestion] = []
    for configuration in ordered(cfg.compiled, plan, plan.session_query, strategy="preferred"):
        changes = explain_changes(cfg, profile.usual, configuration)
        found.append(Suggestion(configuration, cfg.price(configuration, needs), changes))
        if len(found) == k:
            break
    return found


def explain_changes(
    cfg: Configurator, usual: Mapping[str, Any], configuration: Configuration
) -> tuple[Change, ...]:
    """Why ``configuration`` differs from ``usual``, slot by slot (the catalog's order, then
    retired slots)."""
    catalog = cfg.catalog
    version = f"catalog {catalog.name} version {catalog.version}"
    changes = []
    breaks: SlotBreaks | None = None  # (made for the first slot a rule may have changed)
    for slot, found in catalog.slots.items():
        now = configuration[slot]
        if slot not in usual:
            if not _same(None, now):
                reason = f"slot '{slot}' is new in {version}"
                changes.append(Change(slot, None, now, "new-slot", reason))
            continue
        was = usual[slot]
        if _same(was, now):
            continue
        wanted = was if isinstance(was, Mapping) else {} if was is None else {was: 1}
        retired = [m for m, q in wanted.items() if q and m not in found.modules]
        if retired:
            names = ", ".join(f"'{slot}.{m}'" for m in retired)
            noun = "module" if len(retired) == 1 else "modules"
            changes.append(
                Change(slot, was, now, "retired-module", f"{noun} {names} retired in {version}")
            )
            continue
        if breaks is None:
            breaks = SlotBreaks(cfg.compiled, configuration)
        rules = _forbidding(breaks, slot, was)
        if rules:
            texts = "; ".join(text for _, text in rules)
            reason = f"{_shown(was)} is no longer possible with the rest: {texts}"
            ids = tuple(rule for rule, _ in rules)
            changes.append(Change(slot, was, now, "rule", reason, ids))
        else:
            reason = f"an alternative to your usual {_shown(was)}"
            changes.append(Change(slot, was, now, "alternative", reason))
    for slot, was in usual.items():
        if slot not in catalog.slots and not _same(was, None):
            reason = f"slot '{slot}' is retired in {version}"
            changes.append(Change(slot, was, None, "retired-slot", reason))
    return tuple(changes)


def _forbidding(breaks: SlotBreaks, slot: str, was: Any) -> list[tuple[str, str]]:
    """The rules (id, text) the configuration would break with ``slot`` set back to ``was``."""
    try:
        broken = breaks.breaks(slot, Quantities(was) if isinstance(was, Mapping) else was)
    except NeedsError:  # the old choice does not fit the slot any more (its bounds changed)
        return [("", f"slot '{slot}' no longer takes {_shown(was)}")]
    return [(reason.rule or "", reason.text) for reason in broken]
