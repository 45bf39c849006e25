"""Engines: what answers queries on a lowered :class:`~modcfg.lower.Problem` (internal layer).

Every engine implements one protocol, :class:`EngineQuery` (counts, marginals, cheapest keys,
ranked and plain enumeration, value restrictions, counts within global sums); the plan
(``modcfg._plan``) is the one place that picks an implementation:

- :mod:`.decomposition`: a tree decomposition with exact passes over its bags (the default);
- :mod:`._closed_form`: closed forms for problems whose slots no rule ties;
- :mod:`.cpsat`: OR-Tools CP-SAT, for searches under global sums and minimal conflicts
  (``ortools`` is imported in that package only, and only when used);
- :mod:`.compiled`: a decision-DNNF of the rules, for catalogs whose rules no tree
  decomposition with small bags fits (counts, every option's count, choices).

This package imports :mod:`modcfg.lower` (and the model below it), nothing above.
"""

from ._closed_form import IndependentQuery, separable
from ._protocol import Bounds, EngineQuery, Marginal, SumsView

__all__ = ["Bounds", "EngineQuery", "IndependentQuery", "Marginal", "SumsView", "separable"]
