"""The command line: every command, its help, and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modcfg.cli import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    "command", ["check", "count", "list", "best", "price", "demo", "configure", "import"]
)
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_demo_shows_count_cheapest_and_best() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "1,800" in result.output
    assert "The five cheapest windows" in result.output
    assert "Best three for a customer" in result.output
    assert result.output.count("#1:") == 2


def test_check_prints_summary() -> None:
    result = runner.invoke(app, ["check", "windows"])
    assert result.exit_code == 0, result.output
    assert "4 slots, 30 modules" in result.output


def test_check_json() -> None:
    result = runner.invoke(app, ["check", "credit_cards", "--format", "json"])
    assert json.loads(result.output)["count"] == 200


def test_count_with_needs() -> None:
    result = runner.invoke(
        app, ["count", "windows", "--needs", str(EXAMPLES / "window_customer.yaml")]
    )
    assert result.exit_code == 0
    assert int(result.output.strip()) > 0


def test_list_csv_in_price_order() -> None:
    result = runner.invoke(
        app, ["list", "windows", "--order", "price", "--limit", "4", "-f", "csv"]
    )
    lines = result.output.strip().splitlines()
    assert lines[0] == "frame,glass,grade,picture,total"
    totals = [float(line.rsplit(",", 1)[1]) for line in lines[1:]]
    assert len(totals) == 4
    assert totals == sorted(totals)


def test_price_and_best() -> None:
    result = runner.invoke(
        app, ["price", "windows", "frame=oak", "glass=triple", "grade=g1", "picture=plain"]
    )
    assert result.exit_code == 0
    assert "EUR 260.00" in result.output
    result = runner.invoke(app, ["best", "windows", "-k", "2"])
    assert "#2:" in result.output


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from modcfg.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_misspelt_reference_exits_non_zero_with_one_clear_line(tmp_path: Path) -> None:
    catalog = tmp_path / "bad.yaml"
    catalog.write_text(
        "catalog: bad\n"
        "slots:\n"
        "  frame: {modules: {oak: {}, pvc: {}}}\n"
        "  glass: {modules: {laminated: {}, float: {}}}\n"
        "rules:\n"
        "  - id: oak-laminated\n"
        "    requires: {if: frame.oak, then: [glass.lamnated]}\n",
        encoding="utf-8",
    )
    result = _run("check", str(catalog))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "oak-laminated" in message
    assert "glass.lamnated" in message
    assert "did you mean 'glass.laminated'?" in message
    assert "line 6" in message


def test_unknown_catalog_name_is_one_line() -> None:
    result = _run("count", "windowz")
    assert result.returncode == 1
    assert "did you mean 'windows'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_converts_and_round_trips(tmp_path: Path) -> None:
    uvl = tmp_path / "phone.uvl"
    uvl.write_text(
        "features\n    Phone\n        optional\n            GPS\n            Camera\n"
        "constraints\n    GPS => Camera\n",
        encoding="utf-8",
    )
    output = tmp_path / "phone.yaml"
    result = runner.invoke(app, ["import", str(uvl), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "3 slots, 3 modules" in " ".join(result.output.split())  # wrapped at any width
    result = runner.invoke(app, ["count", str(output)])
    assert result.output.strip() == "3"


@pytest.mark.parametrize("name", ["windows", "windows_pro", "credit_cards", "bicycle"])
def test_saved_catalogs_load_back_identical(tmp_path: Path, name: str) -> None:
    import modcfg

    catalog = modcfg.load_catalog(name)
    for suffix in (".yaml", ".json"):
        path = modcfg.save_catalog(catalog, tmp_path / f"{name}{suffix}")
        assert modcfg.load_catalog(path) == catalog


def test_configure_dialogue_from_scripted_input() -> None:
    script = "\n".join(
        [
            "help",
            "frame=pvc",
            "why glass triple",
            "choose glass triple",
            "choose glass double",
            "undo",
            "redo",
            "unchoose glass",
            "nonsense words",
            "complete",
            "quit",
        ]
    )
    result = runner.invoke(app, ["configure", "windows_pro"], input=script + "\n")
    assert result.exit_code == 0, result.output
    output = result.output
    assert "complete [cheapest|preferred]" in output
    assert "glass.triple is not possible with your choice frame.pvc" in output
    assert "error:" in output  # choosing the excluded triple glazing is refused
    assert "unknown command: nonsense words" in output
    assert "your configuration" in output
    assert "EUR 354.00" in output
