"""Python conventions the errors and entry points follow, so callers can rely on them."""

from __future__ import annotations

import pickle
import traceback
from pathlib import Path

import pytest

import modcfg

PUBLIC_ERRORS = (
    "ModcfgError",
    "CatalogError",
    "CatalogNotFoundError",
    "NeedsError",
    "InfeasibleError",
    "LimitExceeded",
)


def test_bad_input_errors_are_value_errors() -> None:
    assert issubclass(modcfg.CatalogError, ValueError)
    assert issubclass(modcfg.NeedsError, ValueError)
    with pytest.raises(ValueError, match="budget"):
        modcfg.Needs(budget="-1")


def test_a_missing_catalog_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(FileNotFoundError) as caught:
        modcfg.load_catalog(missing)
    error = caught.value
    assert isinstance(error, modcfg.CatalogNotFoundError)
    assert isinstance(error, modcfg.CatalogError)
    assert isinstance(error, modcfg.ModcfgError)
    assert str(missing) in str(error)
    assert error.path == str(missing)


def test_a_missing_foreign_model_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        modcfg.load_catalog(tmp_path / "nowhere.uvl")
    assert isinstance(caught.value, modcfg.CatalogNotFoundError)


def test_an_unknown_bundled_name_is_a_file_not_found_error() -> None:
    with pytest.raises(modcfg.CatalogNotFoundError, match="did you mean 'windows'"):
        modcfg.load_catalog("windowz")


def test_a_catalog_error_keeps_its_class_when_located() -> None:
    error = modcfg.CatalogNotFoundError("file not found: x.yaml", path="x.yaml")
    located = error.located(path="x.yaml", line=3)
    assert type(located) is modcfg.CatalogNotFoundError
    assert str(located) == "file not found: x.yaml (x.yaml, line 3)"


@pytest.mark.parametrize("name", PUBLIC_ERRORS)
def test_errors_show_their_public_path(name: str) -> None:
    cls = getattr(modcfg, name)
    assert cls.__module__ == "modcfg"
    assert f"{cls.__module__}.{cls.__qualname__}" == f"modcfg.{name}"


def test_tracebacks_name_the_public_class() -> None:
    with pytest.raises(modcfg.NeedsError) as caught:
        modcfg.Needs(budget="-1")
    last = traceback.format_exception_only(caught.type, caught.value)[-1]
    assert last.startswith("modcfg.NeedsError: ")


@pytest.mark.parametrize(
    ("name", "args", "options"),
    [
        ("CatalogError", ("bad",), {"path": "x.yaml", "line": 2}),
        ("CatalogNotFoundError", ("file not found: x.yaml",), {"path": "x.yaml"}),
        ("NeedsError", ("bad needs",), {}),
        ("InfeasibleError", ("none",), {"conflict": ["require a.b"], "rules": ["r1"]}),
    ],
)
def test_errors_survive_pickling(
    name: str, args: tuple[str, ...], options: dict[str, object]
) -> None:
    error = getattr(modcfg, name)(*args, **options)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


def test_compile_takes_a_bundled_name_or_a_path(tmp_path: Path) -> None:
    assert modcfg.compile("windows").count() == 1800
    path = tmp_path / "tiny.yaml"
    path.write_text("catalog: tiny\nslots:\n  size: {modules: {s: {}, m: {}}}\n", "utf-8")
    assert modcfg.compile(path).count() == 2
    assert modcfg.compile(str(path)).count() == 2


@pytest.mark.parametrize("wrong", [42, None, {"catalog": "x"}, b"windows"], ids=repr)
def test_compile_of_something_else_says_what_to_call(wrong: object) -> None:
    with pytest.raises(TypeError, match=r"modcfg\.load_catalog"):
        modcfg.compile(wrong)  # type: ignore[arg-type]


def test_a_negative_limit_is_a_needs_error() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    with pytest.raises(modcfg.NeedsError, match="limit"):
        list(cfg.configurations(limit=-1))
    assert list(cfg.configurations(limit=0)) == []
    assert len(list(cfg.configurations(limit=3))) == 3
