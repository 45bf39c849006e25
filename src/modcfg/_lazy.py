"""Names a package exports but imports on first use (a module-level ``__getattr__``).

A package lists where each such name lives and calls :func:`lazy_name` from its
``__getattr__``: the module is imported when the name is first read, and the name is then
kept in the package's namespace, so later reads skip the lookup.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_name"]


def lazy_name(
    package: str, homes: Mapping[str, str], name: str, namespace: MutableMapping[str, Any]
) -> Any:
    """``name`` from its module in ``homes`` (a module of ``package``: ``"model"`` is
    ``package.model``), kept in ``namespace``; AttributeError for a name not listed."""
    home = homes.get(name)
    if home is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(import_module(f"{package}.{home}"), name)
    namespace[name] = value  # later look-ups skip the package's __getattr__
    return value
