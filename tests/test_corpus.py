"""Exact counts of the corpus of real feature models (``shared/data/corpus``), in 1 GiB.

Every model of ``manifest.json`` is read, compiled with a memory limit of 1 GiB and counted;
the count must be the reference count of the manifest (an exact model counter's). Clauses of
up to 396 literals are among them: they compile as clauses, never as tables over their
scope. The models whose primal graph keeps a tree width of 40 to 100 even with clauses as
chains (``HIGH_TREEWIDTH``) are still refused by the decomposition engine, with a
:class:`~modcfg.LimitExceeded` that names a bag's slots and the limit: the test expects that
refusal, so it fails the day they count.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import modcfg

from .conftest import SHARED_DATA

#: Bytes a compile and count of one corpus model may use.
MEMORY = 1 << 30
#: Models whose decomposition stays 40 to 100 variables wide (min-degree and min-fill agree).
HIGH_TREEWIDTH = frozenset(
    {
        "finance__decisionmaking__AlHajjaji2019.dimacs",
        "finance__FinancialServices01__Nieke2018-2017-11-20.dimacs",
        "finance__FinancialServices01__Nieke2018-2018-01-23.dimacs",
        "finance__FinancialServices01__Nieke2018-2018-03-26.dimacs",
    }
)


def _models() -> list[object]:
    manifest = SHARED_DATA / "corpus" / "manifest.json"
    if not manifest.is_file():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason="no shared/data/corpus"))]
    models = json.loads(manifest.read_text(encoding="utf-8"))["models"]
    return [
        pytest.param(model["file"], int(model["count"]), id=model["file"].removesuffix(".dimacs"))
        for model in models
    ]


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("name", "expected"), _models())
def test_corpus_model_counts_exactly(shared_data: Path, name: str, expected: int) -> None:
    catalog = modcfg.load_catalog(shared_data / "corpus" / name)
    if name in HIGH_TREEWIDTH:
        with pytest.raises(modcfg.LimitExceeded, match="memory_limit"):
            modcfg.compile(catalog, memory_limit=MEMORY).count()
        return
    assert modcfg.compile(catalog, memory_limit=MEMORY).count() == expected
