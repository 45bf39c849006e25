"""The notebook experience: exact price distributions and module shares (against the
brute-force oracle), the escaped and row-capped HTML views, the pandas tables and the plots."""

from __future__ import annotations

import os
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings

import modcfg
from modcfg._html import MAX_ROWS

from . import oracle, strategies

#: Configurations (before rules) of the random catalogs, small enough to enumerate at once.
SMALL = 400
HOSTILE = "<script>alert('x')</script>"


# -- exact distributions ------------------------------------------------------------------


def check_distributions(case: strategies.Case) -> None:
    """The price distribution and the module shares of one case, against the oracle."""
    cfg = modcfg.compile(case.catalog)
    rows = oracle.ranked(case.catalog, case.needs)
    expected = Counter(total for total, _, _ in rows)
    try:
        found = cfg.price_distribution(case.needs)
    except modcfg.CatalogError:  # needs dated outside the catalog's validity: no quotes
        with pytest.raises(modcfg.CatalogError):
            cfg.best(case.needs)
        return
    assert dict(found) == dict(expected)
    assert list(found) == sorted(expected)
    assert all(type(count) is int for count in found.values())
    assert found.count == cfg.count(case.needs) == len(rows)

    modules = Counter(ref for _, _, c in rows for ref in oracle.chosen_modules(c))
    shares = cfg.module_shares(case.needs)
    assert shares.total == len(rows)
    for slot in case.catalog.slots.values():
        for module in slot.modules:
            assert shares[slot.id][module] == modules[f"{slot.id}.{module}"], (slot.id, module)
            assert type(shares[slot.id][module]) is int


@settings(max_examples=40, deadline=None)
@given(strategies.cases(max_configurations=SMALL))
def test_distributions_are_the_oracles(case: strategies.Case) -> None:
    check_distributions(case)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(strategies.cases())
def test_distributions_are_the_oracles_on_more_catalogs(case: strategies.Case) -> None:
    check_distributions(case)


def test_the_bicycles_distribution_comes_without_enumerating() -> None:
    cfg = modcfg.compile("bicycle")
    spread = cfg.price_distribution()
    assert spread.count == cfg.count() == 202_516_600
    assert min(spread) == cfg.best(k=1)[0].total
    assert spread.quantile(0) == min(spread)
    assert spread.quantile(1) == max(spread)
    needs = modcfg.Needs(budget="2500")
    within = cfg.price_distribution(needs)
    assert within.count == cfg.count(needs)
    assert max(within) <= Decimal(2500)
    assert dict(within) == {total: n for total, n in spread.items() if total <= 2500}


def test_an_unpriced_feature_models_distribution_is_its_count_at_one_price(
    tmp_path: Path,
) -> None:
    """Every configuration of a feature model costs nothing: the distribution is its count at
    0, read off the cheapest and dearest keys (no grids of partial sums over 2**120 of them)."""
    path = tmp_path / "wide.dimacs"
    clauses = [f"-{i} {i + 1} 0" for i in range(1, 40)]  # a chain, and 80 free variables
    path.write_text(f"p cnf 120 {len(clauses)}\n" + "\n".join(clauses) + "\n")
    cfg = modcfg.compile(modcfg.load_catalog(path))
    spread = cfg.price_distribution()
    assert dict(spread) == {Decimal(0): 41 * 2**80}
    assert spread.count == cfg.count()


def test_bad_quantiles_are_refused() -> None:
    spread = modcfg.compile("windows").price_distribution()
    with pytest.raises(modcfg.NeedsError, match="between 0 and 1"):
        spread.quantile(1.5)
    nothing = modcfg.compile("windows").price_distribution(modcfg.Needs(budget="1"))
    assert not nothing
    assert nothing.count == 0
    with pytest.raises(modcfg.NeedsError, match="no valid configuration"):
        nothing.quantile(0.5)


# -- HTML views -----------------------------------------------------------------------------


def _hostile_catalog() -> modcfg.Catalog:
    modules = {f"m{i}": {"label": f"{HOSTILE} {i}", "price": f"{i}.00"} for i in range(60)}
    return modcfg.Catalog.model_validate(
        {
            "catalog": "hostile",
            "slots": {
                "frame": {"label": HOSTILE, "modules": modules},
                "extras": {
                    "label": "Extras",
                    "cardinality": {"min": 0, "max": 2},
                    "modules": {"a": {"price": "1.00"}, "b": {"price": "2.00"}},
                },
            },
            "rules": [{"id": "no-m1-a", "excludes": ["frame.m1", "extras.a"], "message": HOSTILE}],
        }
    )


def _views() -> dict[str, str]:
    cfg = modcfg.compile(_hostile_catalog())
    session = cfg.session()
    state = session.choose("frame", "m1")
    best = cfg.best(k=3)
    return {
        "catalog": cfg.catalog._repr_html_(),
        "configurator": cfg._repr_html_(),
        "configuration": best[0].configuration._repr_html_(),
        "quote": best[0]._repr_html_(),
        "quotes": best._repr_html_(),
        "state": state._repr_html_(max_rows=100),
        "distribution": cfg.price_distribution()._repr_html_(),
        "shares": cfg.module_shares()._repr_html_(),
        "stream": cfg.configurations()._repr_html_(),
    }


def test_every_view_escapes_what_the_catalog_says() -> None:
    views = _views()
    for name, html in views.items():
        assert html.startswith("<"), name
        assert "<script" not in html.lower(), name
        assert "<style" not in html.lower(), name  # inline styles only
        assert "class=" not in html, name
    for name in ("catalog", "configurator", "quote", "state"):
        assert "&lt;script&gt;" in views[name], name
    # the excluded option's reason, greyed out
    state = views["state"]
    assert "color:#999" in state
    assert "&lt;script&gt;alert(&#x27;x&#x27;)" in state


def test_views_cap_their_rows() -> None:
    views = _views()
    rows = views["catalog"].count("<tr>")
    assert rows == 1 + MAX_ROWS + 1  # header, rows, the line that says how many more
    assert "22 more rows" in views["catalog"]  # 62 modules
    state = modcfg.compile(_hostile_catalog()).session().state()
    assert state._repr_html_(max_rows=5).count("<tr>") == 1 + 5 + 1
    huge = modcfg.compile("bicycle").configurations()
    assert "lazy" in huge._repr_html_()


def test_configuration_view_shows_quantities() -> None:
    configuration = modcfg.Configuration({"frame": "m1", "extras": {"a": 2, "b": 1}, "x": None})
    html = configuration._repr_html_()
    assert "a x2, b" in html
    assert ">-</td>" in html


# -- pandas -----------------------------------------------------------------------------------


def test_tables_keep_money_as_decimal_and_counts_as_ints() -> None:
    pytest.importorskip("pandas")
    cfg = modcfg.compile("windows_pro")
    state = cfg.session().choose("frame", "pvc")
    frame = state.to_pandas()
    assert list(frame.columns) == ["slot", "module", "status", "count", "from_price", "reason"]
    assert len(frame) == sum(len(options) for options in state.values())
    row = frame[(frame.slot == "glass") & (frame.module == "laminated")].iloc[0]
    assert row["count"] == 534
    assert type(row["count"]) is int
    assert row["from_price"] == state["glass"]["laminated"].from_price
    assert isinstance(row["from_price"], Decimal)
    triple = frame[(frame.slot == "glass") & (frame.module == "triple")].iloc[0]
    assert triple["status"] == "excluded"
    assert "pvc-double-only" in triple["reason"]

    quote = cfg.best(k=1)[0]
    lines = quote.to_pandas()
    assert sum(lines["amount"]) == quote.total
    assert isinstance(lines["amount"][0], Decimal)

    best = cfg.best(k=4).to_pandas()
    assert list(best["rank"]) == [1, 2, 3, 4]
    assert isinstance(best["total"][0], Decimal)
    assert list(best.columns[5:]) == list(cfg.catalog.slots)

    stream = cfg.configurations(order="price")
    first = next(stream)
    rest = stream.to_pandas(limit=10)
    assert len(rest) == 10
    assert list(rest.columns) == list(cfg.catalog.slots)
    assert dict(rest.iloc[0]) != dict(first)  # the rows not read yet

    spread = cfg.price_distribution().to_pandas()
    assert sum(spread["count"]) == cfg.count()
    assert type(spread["count"][0]) is int
    assert isinstance(spread["total"][0], Decimal)
    shares = cfg.module_shares().to_pandas()
    assert list(shares.columns) == ["slot", "module", "count", "share"]


def test_a_huge_stream_refuses_an_unlimited_table(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas")
    monkeypatch.setattr(modcfg._results, "ROW_LIMIT", 100)  # type: ignore[attr-defined]
    with pytest.raises(modcfg.LimitExceeded, match="to_pandas\\(limit="):
        modcfg.compile("bicycle").configurations().to_pandas()
    assert len(modcfg.compile("windows").configurations(limit=100).to_pandas()) == 100


def test_without_pandas_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    with pytest.raises(modcfg.ModcfgError, match=r"pip install 'modcfg\[notebook\]'"):
        modcfg.compile("windows").best(k=1)[0].to_pandas()


# -- plots ------------------------------------------------------------------------------------


def test_plots_return_figures() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    import modcfg.plot

    cfg = modcfg.compile("windows_pro")
    figure = cfg.price_distribution().plot()
    assert isinstance(figure, Figure)
    (axes,) = figure.axes
    heights = sum(patch.get_height() for patch in axes.patches)
    assert heights == pytest.approx(cfg.count())  # every configuration is in a bar
    shares = modcfg.plot.module_shares(cfg.module_shares(), max_bars=5)
    assert len(shares.axes[0].patches) == 5
    assert "first 5 of" in shares.axes[0].get_title()


def test_without_matplotlib_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(modcfg.ModcfgError, match=r"pip install 'modcfg\[plot\]'"):
        modcfg.compile("windows").price_distribution().plot()


# -- the example notebook -------------------------------------------------------------------

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "explore.ipynb"


def test_the_example_notebook_runs_without_errors() -> None:
    """Every cell of examples/explore.ipynb runs in a fresh kernel (nbclient raises on the
    first cell that errors), against this modcfg, and the plots come out as images."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    source = str(Path(modcfg.__file__).resolve().parents[1])
    paths = [source, *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute(env=env)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) == 2  # the price distribution and the module shares
    tables = [output for output in outputs if "text/html" in output.get("data", {})]
    assert len(tables) >= 8


@pytest.mark.slow
def test_the_documentation_images_are_drawn(tmp_path: Path) -> None:
    import runpy

    script = Path(__file__).resolve().parents[1] / "docs" / "make_images.py"
    written = runpy.run_path(str(script))["make_images"](tmp_path)
    assert [path.name for path in written] == ["price-distribution.png", "module-shares.png"]
    for path in written:
        assert path.read_bytes().startswith(b"\x89PNG")
        shipped = script.parent / "images" / path.name
        assert shipped.is_file(), f"run `make docs` to draw {shipped.name}"
