"""Errors pickle whole: every field survives, with or without Dask's exception pickling."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import modcfg
from modcfg import Reason, Relaxation

ERRORS = [
    modcfg.CatalogError("slot 'frame' has no modules", path="shop.yaml", line=4, where=("slots",)),
    modcfg.CatalogNotFoundError("no catalog 'windws'", path="windws"),
    modcfg.NeedsError("slot 'frme' does not exist"),
    modcfg.SignatureError("the signature does not hold"),
    modcfg.InfeasibleError(
        "no window under 100",
        conflict=("budget 100",),
        rules=("oak-needs-triple",),
        relaxations=(Relaxation("drop the budget", ("budget 100",), 1800),),
        reasons=(Reason("need", "budget 100"),),
    ),
    modcfg.LimitExceeded("the count needs 10 GB", estimate=10, limit=2),
    modcfg.TimeLimitExceeded("the count ran past 2 s", estimate=10, limit=2),
    modcfg.ConsentError("no consent"),
    modcfg.MemoryStoreError("unknown schema"),
]


def _fields(error: Exception) -> tuple[type[Exception], str, dict[str, object]]:
    return type(error), str(error), dict(vars(error))


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_an_error_pickles_with_every_field(error: modcfg.ModcfgError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert _fields(again) == _fields(error)
    assert again.args == error.args


def test_errors_pickle_whole_under_dasks_exception_pickling() -> None:
    # tblib (installed by Dask's workers) registers its own reducer for every exception class
    # known when it is installed: run in a fresh process so it sees modcfg's classes
    pytest.importorskip("tblib")
    code = (
        "import pickle, modcfg\n"
        "from tblib import pickling_support\n"
        "pickling_support.install()\n"
        "error = modcfg.CatalogNotFoundError('no catalog', path='windws')\n"
        "again = pickle.loads(pickle.dumps(error))\n"
        "assert type(again) is modcfg.CatalogNotFoundError and again.path == 'windws', again\n"
        "error = modcfg.LimitExceeded('slow', estimate=3, limit=2)\n"
        "again = pickle.loads(pickle.dumps(error))\n"
        "assert (again.estimate, again.limit, str(again)) == (3, 2, 'slow'), again\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
