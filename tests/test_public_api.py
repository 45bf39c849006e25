"""The public API: one sorted __all__, every name exported and documented."""

from __future__ import annotations

import inspect

import modcfg


def test_all_is_sorted_and_unique() -> None:
    assert list(modcfg.__all__) == sorted(set(modcfg.__all__))


def test_every_public_name_exists_and_is_documented() -> None:
    for name in modcfg.__all__:
        value = getattr(modcfg, name)
        assert inspect.getdoc(value), f"modcfg.{name} has no docstring"


def test_no_private_names_leak() -> None:
    public = {name for name in dir(modcfg) if not name.startswith("_")}
    modules = {
        "cli",
        "distributed",
        "engines",
        "explain",
        "io",
        "lower",
        "memory",
        "model",
        "orders",
        "price",
        "pricing",
        "session",
    }
    assert public - modules <= set(modcfg.__all__)


def test_errors_form_one_tree() -> None:
    for name in ("CatalogError", "NeedsError", "InfeasibleError", "LimitExceeded"):
        assert issubclass(getattr(modcfg, name), modcfg.ModcfgError)
