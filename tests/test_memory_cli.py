"""``modcfg memory ...``: record, suggest, export, forget and segments from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import modcfg
from modcfg.cli import app

runner = CliRunner()
ORDER = ["frame=oak", "glass=triple", "grade=g2", "picture=plain"]


@pytest.mark.parametrize("command", ["record", "suggest", "export", "forget", "segments"])
def test_every_memory_command_has_help(command: str) -> None:
    result = runner.invoke(app, ["memory", command, "--help"])
    assert result.exit_code == 0
    assert "--db" in result.output


def test_record_suggest_export_forget(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'memory.db'}"]
    refused = runner.invoke(app, ["memory", "record", "c-1", "windows", *ORDER, *db])
    assert isinstance(refused.exception, modcfg.ConsentError)
    recorded = runner.invoke(app, ["memory", "record", "c-1", "windows", *ORDER, *db, "--consent"])
    assert recorded.exit_code == 0, recorded.output
    assert "recorded order 1 for c-1: EUR 285.00" in recorded.output
    suggested = runner.invoke(app, ["memory", "suggest", "c-1", "windows", *db, "-k", "2"])
    assert suggested.exit_code == 0, suggested.output
    assert "#1: the usual" in suggested.output
    assert "#2: 1 changes" in suggested.output
    as_json = runner.invoke(app, ["memory", "suggest", "c-1", "windows", *db, "-f", "json"])
    first = json.loads(as_json.output)[0]
    assert first["quote"]["total"] == "285.00"
    assert first["changes"] == []
    segments = runner.invoke(app, ["memory", "segments", *db, "windows", "-f", "json"])
    assert json.loads(segments.output)[0]["quadrant"] == "frequency"
    exported = json.loads(runner.invoke(app, ["memory", "export", "c-1", *db]).output)
    assert exported["orders"][0]["configuration"]["frame"] == "oak"
    forgot = runner.invoke(app, ["memory", "forget", "c-1", *db])
    assert "forgot c-1: 1 orders deleted" in forgot.output
    exported = json.loads(runner.invoke(app, ["memory", "export", "c-1", *db]).output)
    assert exported == {"customer_id": "c-1", "stored": False, "orders": []}


def test_a_bad_url_is_one_clear_error() -> None:
    result = runner.invoke(app, ["memory", "export", "c-1", "--db", "mysql://x/y"])
    assert isinstance(result.exception, modcfg.MemoryStoreError)
    assert "SQLite" in str(result.exception)
