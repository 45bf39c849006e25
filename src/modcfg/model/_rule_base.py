"""What every rule kind shares: :class:`RuleBase` (an id, a message, and the three things a
rule says about itself), where a rule sits in a catalog (:data:`Where`) and how a rule's
problem becomes a :class:`~modcfg.CatalogError` (:func:`fail`). The kinds are in
:mod:`._rules` and :mod:`._table_rule`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import CatalogError
from ._base import FrozenModel, Id
from ._expr import Ref

if TYPE_CHECKING:
    from ._catalog import Catalog

__all__ = ["RuleBase", "Where", "fail", "module_ref"]

#: Where a rule sits in a catalog (``("rules", 3)``), for errors.
Where = tuple[str | int, ...]


def module_ref(ref: str) -> Ref:
    """The reference ``slot.module`` as an expression."""
    slot, module = ref.split(".")
    return Ref(slot, module)


def fail(problem: str | None, owner: str, where: Where) -> None:
    """Raise ``problem`` (when there is one) as a :class:`~modcfg.CatalogError` of the rule
    ``owner`` at ``where``."""
    if problem:
        raise CatalogError(f"{owner}: {problem}", where=where)


class RuleBase(FrozenModel):
    """What every rule kind has: an id, a message, and the three things it says about itself
    (``expression``, ``in_words``, ``check``); a kind adds its ``kind`` tag and its fields."""

    id: Id
    message: str = ""

    def describe(self) -> str:
        """The human message used in explanations (the rule id when none was given)."""
        return self.message or self.id

    def in_words(self) -> str:
        """The rule in words: its message, else what it says (``frame.oak requires
        glass.triple``)."""
        return self.message or self._says()

    def _says(self) -> str:
        return self.id

    @property
    def owner(self) -> str:
        """How errors name the rule: ``rule 'pvc-no-triple'``."""
        return f"rule '{self.id}'"

    def check(self, catalog: Catalog, where: Where) -> None:
        """Raise :class:`~modcfg.CatalogError` when the rule names something ``catalog`` does
        not have or can never apply in it (the shape of the rule alone is checked when it is
        read)."""
