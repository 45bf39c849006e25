"""Engines: what answers queries on a lowered :class:`~modcfg.lower.Problem` (internal layer).

- :mod:`.decomposition`: a tree decomposition with exact passes over its bags (the default);
- :mod:`._closed_form`: closed forms for problems whose slots no rule ties;
- :mod:`.cpsat`: OR-Tools CP-SAT, for global numeric constraints and minimal conflicts
  (``ortools`` is imported in that package only, and only when used).
"""
