"""Every model of the corpus (90 real DIMACS feature models with exact counts) that modcfg
compiles with default settings counts exactly (slow: the whole corpus takes minutes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import modcfg

from .conftest import SHARED_DATA

CORPUS = SHARED_DATA / "corpus"


def _models() -> list[dict[str, Any]]:
    manifest = CORPUS / "manifest.json"
    if not manifest.exists():
        return []
    models: list[dict[str, Any]] = json.loads(manifest.read_text())["models"]
    return models


@pytest.mark.slow
@pytest.mark.parametrize("entry", _models(), ids=lambda entry: entry["file"].split("__", 1)[1])
def test_corpus_model_counts_exactly(entry: dict[str, Any]) -> None:
    path: Path = CORPUS / entry["file"]
    catalog = modcfg.load_catalog(path)
    assert len(catalog.slots) == entry["vars"]
    try:
        compiled = modcfg.compile(catalog)
        count = compiled.count()
    except modcfg.LimitExceeded as exc:
        pytest.skip(f"not compiled with default settings yet: {exc}")
    assert count == int(entry["count"])


def test_corpus_is_listed(shared_data: Path) -> None:
    models = _models()
    assert len(models) == 90
    assert all((CORPUS / entry["file"]).exists() for entry in models)
