"""The examples folder: scripts run, needs files load, the demo's customer is the file's."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

import modcfg
from modcfg.cli import DEMO_NEEDS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_example_script_runs(script: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{script.name} printed nothing"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_needs_files_load(path: Path) -> None:
    needs = modcfg.load_needs(path)
    assert isinstance(needs, modcfg.Needs)


def test_demo_customer_matches_the_example_file() -> None:
    from_file = modcfg.load_needs(EXAMPLES / "window_customer.yaml")
    assert from_file == modcfg.Needs(**DEMO_NEEDS)
