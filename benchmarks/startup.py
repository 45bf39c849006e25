"""Storefront start-up: ``modcfg serve`` of a large model, from the model file and from the
compiled catalog that ``modcfg compile`` saved.

    python benchmarks/startup.py                       # the models below, 3 starts each
    python benchmarks/startup.py --model Renault --starts 5

A server computes every catalog's count and a new session's first state before it answers
(``docs/storefront.md``), so a start is timed from launching ``modcfg serve`` (one uvicorn
worker, a new process: imports and compiled kernels loaded from numba's cache) until its first
session is answered. Each model is served from its file (read, compiled, counted, first state)
and from its ``.modcfg`` file (loaded, which keeps the trees, and for a catalog with clauses set
aside its count and its terms' trees); saving it, once, is timed too. A start's time is the best
of ``--starts``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.storefront import free_port, serve, wait_until_ready
from benchmarks.workloads import DATA

CORPUS = DATA / "corpus"
#: (name shown, model file) of the models started: the largest of the shared data and corpus.
MODELS = (
    ("Renault medium", DATA / "renault" / "medium.xml"),
    ("decision-making", CORPUS / "finance__decisionmaking__AlHajjaji2019.dimacs"),
    ("FinancialServices01", CORPUS / "finance__FinancialServices01__Nieke2018-2018-03-26.dimacs"),
    ("eCos icse11", CORPUS / "systems_software__eCos__Berger2013-icse11.dimacs"),
    ("uCLinux", CORPUS / "systems_software__uCLinux__Berger2013.dimacs"),
    ("e-agribusiness", CORPUS / "e_commerce__e_agribusiness__Pereira2016.dimacs"),
)


def started(source: str) -> float:
    """Seconds from launching ``modcfg serve source`` to its first session answered."""
    port = free_port()
    begin = time.perf_counter()
    process = serve(source, port, workers=1)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", process, workers=1, polled=0.05)
        return time.perf_counter() - begin
    finally:
        process.terminate()
        process.wait(timeout=60)


def saved(model: Path, folder: Path) -> tuple[Path, float]:
    """``model`` compiled and saved by ``modcfg compile`` (in a new process), and the time."""
    target = folder / f"{model.stem}.modcfg"
    begin = time.perf_counter()
    command = "from modcfg.cli import main; main()"
    subprocess.run(
        [sys.executable, "-c", command, "compile", str(model), str(target)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return target, time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="", help="only models whose name contains this")
    parser.add_argument("--starts", type=int, default=3, help="starts of each kind (best kept)")
    options = parser.parse_args()
    print("| model | from the model file, s | compile and save once, s | from .modcfg, s | ratio |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for shown, model in MODELS:
            if options.model.lower() not in shown.lower():
                continue
            if not model.exists():
                print(f"| {shown} | ({model} is absent) | | | |")
                continue
            compiled, saving = saved(model, Path(folder))
            plain = min(started(str(model)) for _ in range(options.starts))
            loaded = min(started(str(compiled)) for _ in range(options.starts))
            print(
                f"| {shown} | {plain:.2f} | {saving:.2f} | {loaded:.2f} | {loaded / plain:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
