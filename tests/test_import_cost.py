"""Cold start: what ``import modcfg`` and a first count bring into a new process.

Command line calls and web workers start often; heavy libraries (OR-Tools, pandas, numba,
networkx, SciPy) are imported where they are used, never by importing the package.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("ortools", "pandas", "numba", "networkx", "scipy", "sqlalchemy", "matplotlib")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_import_modcfg_imports_no_heavy_library() -> None:
    loaded = _modules_after("import modcfg")
    assert not {name for name in HEAVY if name in loaded}
    assert "numpy" not in loaded  # the engines load on first use


def test_public_names_load_on_first_use() -> None:
    loaded = _modules_after("import modcfg\nprint(modcfg.Configurator, modcfg.load_catalog)")
    assert "modcfg._configurator" in loaded
    assert not {name for name in HEAVY if name in loaded}


def test_counting_a_catalog_no_rule_ties_imports_no_solver() -> None:
    loaded = _modules_after(
        "import modcfg\nassert modcfg.compile(modcfg.load_catalog('windows')).count() == 1800"
    )
    assert not {name for name in ("ortools", "pandas", "numba", "scipy") if name in loaded}


def test_unknown_attribute_is_an_attribute_error() -> None:
    import modcfg

    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        modcfg.nonsense  # noqa: B018
