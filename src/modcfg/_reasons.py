"""Why something is not possible, as data: :class:`Reason`.

A reason is made once, where it is found (a rule broken by a configuration, a need that
excludes a module, a choice that conflicts with an option, a need in a conflict), and carries
who is at fault (``kind``, ``rule``, ``need``, ``slot``, ``module``) together with the words
shown to people (``text``). Callers print it (``str()`` is the text) or branch on its fields;
nothing parses the text back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .model import Catalog

__all__ = ["NeedField", "Reason", "ReasonKind", "conflict_reason", "rule_reason", "rule_text"]

#: Who is at fault: a catalog rule, one of the customer's needs, a choice made in a session,
#: nothing but the choices and needs leave (an implied option), or several together.
ReasonKind = Literal["rule", "need", "choice", "forced", "combined"]
#: The field of :class:`~modcfg.Needs` a need reason comes from (a purpose's preset counts as
#: the fields it fills).
NeedField = Literal[
    "require", "forbid", "conditions", "budget", "region", "deliver_by", "purpose", "degree"
]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a configuration breaks the rules, why an option is excluded, or one item of a
    conflict: who is at fault, and the words shown to people.

    :meth:`Configurator.violations` returns reasons; ``OptionState.cause``,
    ``InfeasibleError.reasons``, ``Relaxation.reasons`` and ``Session.why_not(...).reasons``
    hold them (see ``docs/semantics.md``, "Reasons").

    ``kind`` says who is at fault:

    - ``"rule"``: a catalog rule; ``rule`` is its id.
    - ``"need"``: one of the customer's needs; ``need`` is the :class:`Needs` field
      (``"require"``, ``"forbid"``, ``"conditions"``, ``"budget"``, ``"region"``,
      ``"deliver_by"``, ``"purpose"``), ``slot`` and ``module`` the module it names or rules
      out, when it is about one.
    - ``"choice"``: a choice made in a session; ``slot`` and ``module`` name the choice, and
      ``rule`` (or ``need``) what ties it to the option, when one rule (or need) alone does.
    - ``"forced"``: an implied option, the only one the choices and needs leave.
    - ``"combined"``: several choices, needs or rules together; ``Session.why_not`` names them.

    ``text`` is the sentence shown to people, and ``str(reason)``; its wording depends on where
    the reason appears (a violation says ``"need: require glass.triple"``, a conflict
    ``"require glass.triple"``), so branch on the fields, not on the text.

    >>> import modcfg
    >>> cfg = modcfg.compile("windows_pro")
    >>> window = {"frame": "pvc", "glass": "triple", "grade": "g1", "picture": "plain",
    ...           "size": "small", "hardware": {}}
    >>> for reason in cfg.violations(window, modcfg.Needs(require=["glass.laminated"])):
    ...     print(f"{reason.kind:5} {reason.rule or reason.need:16} {reason}")
    rule  pvc-double-only  pvc-double-only: The 70 mm PVC profile is too shallow for triple glazing
    need  require          need: require glass.laminated
    """

    kind: ReasonKind
    text: str
    rule: str | None = field(default=None, kw_only=True)
    need: NeedField | None = field(default=None, kw_only=True)
    slot: str | None = field(default=None, kw_only=True)
    module: str | None = field(default=None, kw_only=True)

    def __str__(self) -> str:
        return self.text


def rule_reason(catalog: Catalog, rule_id: str) -> Reason:
    """A catalog rule as a reason: ``"id: message"`` when the rule has a message, else its id."""
    return Reason("rule", rule_text(catalog, rule_id), rule=rule_id)


def rule_text(catalog: Catalog, rule_id: str) -> str:
    """How a reason names a catalog rule: ``"id: message"``, or the id without a message."""
    rule = catalog.rules_by_id.get(rule_id)
    return f"{rule_id}: {rule.describe()}" if rule is not None and rule.message else rule_id


# The same choice conflicts with the same rule in many steps of many sessions, and reasons are
# immutable values of their arguments: they are shared (the most recent 4096 are kept).
@lru_cache(maxsize=4096)
def conflict_reason(
    choice: str,
    slot: str | None,
    module: str | None,
    words: str,
    rule: str | None = None,
    need: NeedField | None = None,
) -> Reason:
    """An option conflicts with the customer's ``choice`` (its label, slot and module) under
    one rule or need, named by ``words``."""
    text = f"conflicts with your choice {choice} ({words})"
    return Reason("choice", text, rule=rule, need=need, slot=slot, module=module)
