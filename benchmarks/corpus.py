"""The corpus workload: count every model of ``shared/data/corpus`` with modcfg and with Ganak.

python benchmarks/corpus.py                      # all 90 models, 60 s limit per model and tool
python benchmarks/corpus.py --model Fiasco --timeout 20 --json corpus.json
python benchmarks/corpus.py --engine compiled    # the compiled engine (decision-DNNF) alone

For each DIMACS feature model of the corpus (``manifest.json`` lists its variables, widest
clause and exact count), modcfg loads, compiles and counts it (``load_catalog`` + ``compile`` +
``count``), and Ganak (``pyganak``, an exact model counter) reads and counts the same file;
both counts are checked against the manifest. The parent process imports modcfg and runs one
count first, so that every model runs in a warm process: each model then runs in a child forked
from it (the imports and compiled kernels are already there), which bounds it in time and gives
its peak resident memory (the whole process's, interpreter included). A model's time is the
best of up to three runs within about two seconds.

A model modcfg cannot compile today with default settings is reported by the error it raises
(``LimitExceeded``), not as a failure of the run; a wrong count is.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.workloads import DATA

CORPUS = DATA / "corpus"
#: Runs of one model and tool stop repeating once this many seconds have been spent.
_REPEAT_SECONDS = 2.0


@dataclass
class Result:
    """One tool on one model: ``status`` is ``ok``, ``wrong``, ``timeout`` or an error name."""

    seconds: float | None
    peak_mb: float | None
    status: str
    detail: str = ""


@dataclass
class Row:
    model: str
    variables: int
    widest_clause: int
    modcfg: Result
    ganak: Result | None

    @property
    def ratio(self) -> float | None:
        if self.ganak is None or self.modcfg.status != "ok" or self.ganak.status != "ok":
            return None
        if self.modcfg.seconds is None or not self.ganak.seconds:
            return None
        return self.modcfg.seconds / self.ganak.seconds


def count_modcfg(path: Path) -> int:
    """modcfg's count of a model: load, compile, count."""
    import modcfg

    return modcfg.compile(modcfg.load_catalog(path)).count()


def count_compiled(path: Path) -> int:
    """The compiled engine's count of a model alone: load, lower, compile a decision-DNNF,
    count (what ``modcfg.compile`` does for a model the decomposition refuses, without the
    decomposition's attempt)."""
    import modcfg
    from modcfg.engines.compiled import compile_problem
    from modcfg.lower import build_domains, compile_rules

    catalog = modcfg.load_catalog(path)
    return compile_problem(compile_rules(catalog, build_domains(catalog))).count()


def read_clauses(path: Path) -> tuple[int, list[list[int]]]:
    """A DIMACS file's variables and clauses, read with a plain parser, as a user of a SAT
    tool's Python bindings would."""
    variables = 0
    clauses: list[list[int]] = []
    current: list[int] = []
    for line in path.read_text().splitlines():
        if line.startswith("p"):
            variables = int(line.split()[2])
        elif line and not line.startswith(("c", "%")):
            for token in line.split():
                literal = int(token)
                if literal:
                    current.append(literal)
                else:
                    clauses.append(current)
                    current = []
    return variables, clauses


def count_ganak(path: Path) -> int:
    """Ganak's count of a DIMACS file."""
    from pyganak import Counter

    variables, clauses = read_clauses(path)
    counter = Counter()
    counter.new_vars(variables)
    counter.add_clauses(clauses)
    return int(counter.count())


def _measure(counter: Callable[[Path], int], path: Path, expected: int, pipe: Connection) -> None:
    """In the child: time up to three runs, check the count, send the result back."""
    best: float | None = None
    status, detail = "ok", ""
    spent = 0.0
    try:
        for _ in range(3):
            start = time.perf_counter()
            found = counter(path)
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
            spent += elapsed
            if found != expected:
                status, detail = "wrong", f"counted {found}, expected {expected}"
                break
            if spent > _REPEAT_SECONDS:
                break
    except Exception as exc:  # every failure is reported by name, not raised
        status, detail = type(exc).__name__, str(exc).splitlines()[0][:160]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pipe.send(Result(best, peak, status, detail))
    pipe.close()


def in_child(target: Callable[..., None], args: tuple[Any, ...], timeout: float) -> Any:
    """What ``target(*args, pipe)`` sends back from a child forked from this (warm) process,
    or None when it sends nothing within ``timeout`` seconds (the child is then killed)."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=target, args=(*args, send), daemon=True)
    child.start()
    send.close()
    if receive.poll(timeout):
        result = receive.recv()
        child.join()
        return result
    child.kill()
    child.join()
    return None


def _run(counter: Callable[[Path], int], path: Path, expected: int, timeout: float) -> Result:
    result: Result | None = in_child(_measure, (counter, path, expected), timeout)
    return result or Result(None, None, "timeout", f"over {timeout:g} s")


def warm_up() -> None:
    """Import modcfg and count once, so that the children start from a warm process: the
    bicycle catalog's passes are large enough to run compiled, so its count loads the compiled
    passes (a small model's would run as plain Python, see docs/limits.md)."""
    import modcfg

    modcfg.compile(modcfg.load_catalog("bicycle")).count()


def _ganak_available() -> bool:
    try:
        import pyganak  # noqa: F401
    except ImportError:
        return False
    return True


def run(pattern: str, timeout: float, *, engine: str = "auto") -> list[Row]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    warm_up()
    with_ganak = _ganak_available()
    if not with_ganak:
        print("pyganak is not installed (pip install pyganak): Ganak is left out", file=sys.stderr)
    rows = []
    for entry in manifest["models"]:
        if pattern not in entry["file"]:
            continue
        path, expected = CORPUS / entry["file"], int(entry["count"])
        ours = _run(
            count_compiled if engine == "compiled" else count_modcfg, path, expected, timeout
        )
        ganak = _run(count_ganak, path, expected, timeout) if with_ganak else None
        row = Row(
            entry["file"].removesuffix(".dimacs"), entry["vars"], entry["max_clause"], ours, ganak
        )
        rows.append(row)
        _print_row(row)
    return rows


def seconds_cell(result: Result | None) -> str:
    """A result's time in a table cell: seconds, its status when it has none, - for none."""
    if result is None:
        return "-"
    if result.status != "ok" or result.seconds is None:
        return result.status
    return f"{result.seconds:.3f}"


def _print_header() -> None:
    print(
        f"{'model':<58} {'vars':>6} {'widest':>6} {'modcfg s':>14} {'ganak s':>8} "
        f"{'ratio':>7} {'peak MB':>8}"
    )


def _print_row(row: Row) -> None:
    ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
    peak = f"{row.modcfg.peak_mb:.0f}" if row.modcfg.peak_mb is not None else "-"
    print(
        f"{row.model[:58]:<58} {row.variables:>6} {row.widest_clause:>6} "
        f"{seconds_cell(row.modcfg):>14} {seconds_cell(row.ganak):>8} {ratio:>7} {peak:>8}",
        flush=True,
    )


def _print_summary(rows: list[Row]) -> None:
    ratios = [row.ratio for row in rows if row.ratio is not None]
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row.modcfg.status] = statuses.get(row.modcfg.status, 0) + 1
    print()
    print(f"models: {len(rows)}; modcfg: " + ", ".join(f"{n} {s}" for s, n in statuses.items()))
    wrong = [
        row.model
        for row in rows
        if "wrong" in (row.modcfg.status, getattr(row.ganak, "status", ""))
    ]
    if wrong:
        print("WRONG COUNTS: " + ", ".join(wrong))
    if ratios:
        ratios.sort()
        half = sum(ratio <= 0.5 for ratio in ratios)
        double = sum(ratio > 2 for ratio in ratios)
        print(
            f"ratio modcfg/Ganak over {len(ratios)} models counted by both: median "
            f"{ratios[len(ratios) // 2]:.2f}, at most 0.5 on {half} ({half / len(ratios):.0%}), "
            f"above 2 on {double}"
        )
    peaks = [row.modcfg.peak_mb for row in rows if row.modcfg.peak_mb is not None]
    if peaks:
        print(f"modcfg peak memory: largest {max(peaks):.0f} MB")
    errors = [row for row in rows if row.modcfg.status not in ("ok", "wrong")]
    for row in errors:
        print(f"  {row.model}: {row.modcfg.status}: {row.modcfg.detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="", help="only models whose file name contains this")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per model and tool")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument(
        "--engine",
        choices=("auto", "compiled"),
        default="auto",
        help="modcfg as users run it (auto), or its compiled engine alone (a decision-DNNF)",
    )
    args = parser.parse_args(argv)
    if not (CORPUS / "manifest.json").exists():
        print(f"the corpus is not available ({CORPUS} is absent)", file=sys.stderr)
        return 1
    _print_header()
    rows = run(args.model, args.timeout, engine=args.engine)
    _print_summary(rows)
    if args.json:
        args.json.write_text(
            json.dumps([{**asdict(row), "ratio": row.ratio} for row in rows], indent=1)
        )
    wrong = any("wrong" in (row.modcfg.status, getattr(row.ganak, "status", "")) for row in rows)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
