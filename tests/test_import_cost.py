"""Cold start: what ``import modcfg`` and a first count bring into a new process.

Command line calls and web workers start often; heavy libraries (OR-Tools, pandas, numba,
networkx, SciPy) are imported where they are used, never by importing the package.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_parser_tables_are_kept_in_the_cache_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modcfg._grammars import cached_lark
    from modcfg.model._expr_grammar import _GRAMMAR, _ToAst

    monkeypatch.setenv("MODCFG_CACHE_DIR", str(tmp_path / "cache"))
    first = cached_lark("expressions", _GRAMMAR, maybe_placeholders=True, transformer=_ToAst())
    saved = tmp_path / "cache" / "expressions.lark"
    assert saved.stat().st_size > 0
    assert (saved.parent.stat().st_mode & 0o777) == 0o700
    again = cached_lark("expressions", _GRAMMAR, maybe_placeholders=True, transformer=_ToAst())
    assert again.parse("frame.oak and glass.u < 2") == first.parse("frame.oak and glass.u < 2")
    saved.write_bytes(b"not the tables\n")  # a damaged file is built and written anew
    rebuilt = cached_lark("expressions", _GRAMMAR, maybe_placeholders=True, transformer=_ToAst())
    assert rebuilt.parse("frame.oak") == first.parse("frame.oak")
    assert saved.read_bytes() != b"not the tables\n"


def test_without_a_usable_cache_directory_parsers_are_built_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modcfg._grammars import cache_dir

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("MODCFG_CACHE_DIR", str(blocker / "cache"))
    assert cache_dir() is None
    loaded = _modules_after(
        f"import os\nos.environ['MODCFG_CACHE_DIR'] = {str(blocker / 'cache')!r}\n"
        "import modcfg\nfrom modcfg.model import parse\n"
        "assert modcfg.compile('windows').count() == 1800\n"
        "assert parse('frame.oak and glass.u < 2') == parse('frame.oak and (glass.u < 2)')"
    )
    assert "lark" in loaded


def test_a_dimacs_model_loads_neither_yaml_nor_the_expression_parser(tmp_path: Path) -> None:
    """Clause rules are read as literals, not parsed as text: reading and counting a DIMACS
    model imports neither PyYAML nor lark (each costs a new process 10-20 ms)."""
    model = tmp_path / "chain.dimacs"
    model.write_text(_SMALL_CNF)
    loaded = _modules_after(
        f"import modcfg\nassert modcfg.compile(modcfg.load_catalog({str(model)!r})).count() == 13"
    )
    assert not {"yaml", "lark"} & loaded


def test_the_command_line_loads_rich_only_to_draw() -> None:
    loaded = _modules_after("import modcfg.cli")
    assert not {name for name in loaded if name.split(".")[0] in ("rich", *HEAVY)}


_SMALL_CNF = "p cnf 12 11\n" + "".join(f"-{v} {v + 1} 0\n" for v in range(1, 12))


def test_a_small_model_is_compiled_counted_and_explored_without_numba(tmp_path: Path) -> None:
    """Loading numba and the kernels costs a new process more than a small model's whole
    compile, count and session state as plain Python: those run plain, with the answers the
    compiled kernels give (in this process, which runs them compiled)."""
    import modcfg

    model = tmp_path / "chain.dimacs"
    model.write_text(_SMALL_CNF)
    cfg = modcfg.compile(modcfg.load_catalog(model))
    state = cfg.session().state()
    expected = [cfg.count(), *(option.count for slot in state for option in state[slot].values())]
    code = (
        "import sys, modcfg\n"
        f"cfg = modcfg.compile(modcfg.load_catalog({str(model)!r}))\n"
        "state = cfg.session().state()\n"
        "print([cfg.count(), *(o.count for s in state for o in state[s].values())])\n"
        "assert 'numba' not in sys.modules"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(expected)
    assert expected[0] == 13  # a chain of 12 implications: the 13 ways to switch on a suffix


def test_compiled_kernels_load_without_scipys_linear_algebra(tmp_path: Path) -> None:
    """numba's array functions import SciPy's linear algebra, when SciPy is installed, to ask
    whether BLAS is there (0.25-0.3 s); the kernels never call it, so a new process loads them
    without it, and SciPy imports as before afterwards."""
    pytest.importorskip("scipy", reason="SciPy is not installed: nothing to keep out")
    model = tmp_path / "chain.dimacs"
    model.write_text(_SMALL_CNF)
    code = (
        "import sys, modcfg\n"
        "from modcfg.engines.decomposition import compiled_from_now\n"
        "compiled_from_now()\n"
        f"cfg = modcfg.compile(modcfg.load_catalog({str(model)!r}))\n"
        "assert cfg.count() == 13\n"
        "state = cfg.session().state()\n"
        "assert state['x12']['selected'].count == 12\n"
        "assert 'numba.np.arraymath' in sys.modules, 'no kernel was loaded'\n"
        "assert 'scipy.linalg' not in sys.modules\n"
        "import scipy.linalg.cython_blas\n"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


def test_a_process_runs_passes_plain_until_its_budget_is_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modcfg.engines.decomposition import _jit

    monkeypatch.delitem(sys.modules, "numba", raising=False)
    monkeypatch.setattr(_jit, "_plain_left", 1_000)
    assert not _jit.compiled_pays(600)
    assert _jit.compiled_pays(600)  # more than is left: compiled, and so is all that follows
    assert _jit.compiled_pays(1)
    monkeypatch.setattr(_jit, "_plain_left", 1_000)
    monkeypatch.setitem(sys.modules, "numba", sys)  # loaded already: nothing left to save
    assert _jit.compiled_pays(1)
