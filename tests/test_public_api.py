"""The public API: one sorted __all__, every name exported and documented."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

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


@pytest.mark.parametrize(
    "call",
    [
        lambda cfg: cfg.best(k=1.5),
        lambda cfg: cfg.best(k=True),
        lambda cfg: cfg.count(time_limit="5"),
        lambda cfg: cfg.count(time_limit=float("nan")),
        lambda cfg: cfg.count(engine="bogus"),
        lambda cfg: list(cfg.configurations(limit=2.5)),
        lambda cfg: cfg.check(dead_modules="bogus"),
        lambda cfg: cfg.session(time_limit="1"),
        lambda cfg: cfg.price({"frame": 123}),
    ],
)
def test_a_wrong_argument_is_a_modcfg_error_naming_it(call: Any) -> None:
    """Arguments a caller (or a storefront's client) gets wrong raise a NeedsError that says
    which and what it takes, before any work, never a TypeError from inside."""
    cfg = modcfg.compile("windows_pro")
    with pytest.raises(modcfg.NeedsError):
        call(cfg)
