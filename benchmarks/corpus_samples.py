"""Random samples of the corpus: n configurations of every model, from modcfg and two samplers.

python benchmarks/corpus_samples.py                          # every model, 100 draws each
python benchmarks/corpus_samples.py --model Fiasco --draws 1000 --json samples.json

For each DIMACS feature model of ``shared/data/corpus``, modcfg loads, compiles and samples
it (``load_catalog`` + ``compile`` + ``sample(n)``: exactly uniform draws, from the tree, the
compiled engine's circuit or the tree of the rules without their widest clauses, whichever
answers the model). Two samplers of the SAT field read the same file and draw ``n`` models:

- CMSGen (``pycmsgen``): a SAT solver's randomised search, fast and "uniform-like", with no
  guarantee on the distribution;
- UniGen (``pyunigen``): hashing into cells of about equal size, each draw within a factor
  1 + epsilon of uniform (here epsilon = 0.8), after an approximate count (ApproxMC).

Every draw of every tool is checked against every clause of the file; a tool that draws a
non-model is reported ``wrong``. Each tool runs in a child forked from a warm parent (the
imports and modcfg's compiled kernels are loaded), bounded in time; its time is the best of
up to three runs within about two seconds. Ratios are modcfg's time over the peer's.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import CORPUS, Result, in_child, read_clauses, seconds_cell, warm_up

#: Runs of one model and tool stop repeating once this many seconds have been spent.
_REPEAT_SECONDS = 2.0

Clauses = list[list[int]]
#: A sampler: (file, its variables and clauses, draws) -> the draws, each a set of true variables.
Draw = Callable[[Path, int, Clauses, int], list[set[int]]]


def draw_modcfg(path: Path, variables: int, clauses: Clauses, n: int) -> list[set[int]]:
    """modcfg's draws: load, compile, sample (its slots are the file's variables, in order)."""
    import modcfg

    cfg = modcfg.compile(modcfg.load_catalog(path))
    slots = list(cfg.compiled.slots)
    drawn = cfg.sample(n, seed=1)
    return [{v + 1 for v, slot in enumerate(slots) if c[slot] is not None} for c in drawn]


def draw_cmsgen(path: Path, variables: int, clauses: Clauses, n: int) -> list[set[int]]:
    """CMSGen's draws: one randomised solve per draw."""
    import pycmsgen

    solver = pycmsgen.Solver(seed=1)
    solver.add_clauses(clauses)
    found = []
    for _ in range(n):
        if not solver.solve()[0]:
            break
        found.append({literal for literal in solver.get_model() if literal > 0})
    return found


def draw_unigen(path: Path, variables: int, clauses: Clauses, n: int) -> list[set[int]]:
    """UniGen's draws over every variable."""
    import pyunigen

    sampler = pyunigen.Sampler(seed=1)
    for clause in clauses:
        sampler.add_clause(clause)
    _, _, samples = sampler.sample(num=n, sampling_set=list(range(1, variables + 1)))
    return [{literal for literal in sample if literal > 0} for sample in samples]


def _check(draws: list[set[int]], clauses: Clauses, n: int) -> str:
    """Why the draws are wrong (too few, or one breaks a clause), or ``""``."""
    if len(draws) != n:
        return f"drew {len(draws)} of {n}"
    for number, chosen in enumerate(draws):
        for clause in clauses:
            if not any((literal > 0) == (abs(literal) in chosen) for literal in clause):
                return f"draw {number} breaks clause {clause[:6]}"
    return ""


def _measure(draw: Draw, path: Path, n: int, pipe: Connection) -> None:
    """In the child: read the file, time up to three samples, check them, send the result."""
    best: float | None = None
    status, detail, spent = "ok", "", 0.0
    try:
        for _ in range(3):
            start = time.perf_counter()
            variables, clauses = read_clauses(path)
            draws = draw(path, variables, clauses, n)
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
            spent += elapsed
            detail = _check(draws, clauses, n)
            if detail:
                status = "wrong"
                break
            if spent > _REPEAT_SECONDS:
                break
    except Exception as exc:  # every failure is reported by name, not raised
        status, detail = type(exc).__name__, str(exc).splitlines()[0][:160] if str(exc) else ""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pipe.send(Result(best, peak, status, detail))
    pipe.close()


def _run(draw: Draw, path: Path, n: int, timeout: float) -> Result:
    result: Result | None = in_child(_measure, (draw, path, n), timeout)
    return result or Result(None, None, "timeout", f"over {timeout:g} s")


PEERS: dict[str, tuple[str, Draw]] = {
    "CMSGen": ("pycmsgen", draw_cmsgen),
    "UniGen": ("pyunigen", draw_unigen),
}


@dataclass
class Row:
    model: str
    variables: int
    results: dict[str, Result]

    def ratio(self, peer: str) -> float | None:
        ours, theirs = self.results["modcfg"], self.results.get(peer)
        if theirs is None or ours.status != "ok" or theirs.status != "ok":
            return None
        if ours.seconds is None or not theirs.seconds:
            return None
        return ours.seconds / theirs.seconds


def _available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def run(pattern: str, n: int, timeout: float) -> list[Row]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    warm_up()
    peers = {name: draw for name, (module, draw) in PEERS.items() if _available(module)}
    for name in PEERS.keys() - peers.keys():
        print(f"{PEERS[name][0]} is not installed: {name} is left out", file=sys.stderr)
    _print_header(list(peers))
    rows = []
    for entry in manifest["models"]:
        if pattern not in entry["file"]:
            continue
        path = CORPUS / entry["file"]
        results = {"modcfg": _run(draw_modcfg, path, n, timeout)}
        for name, draw in peers.items():
            results[name] = _run(draw, path, n, timeout)
        row = Row(entry["file"].removesuffix(".dimacs"), entry["vars"], results)
        rows.append(row)
        _print_row(row, list(peers))
    return rows


def _print_header(peers: list[str]) -> None:
    columns = "".join(f" {name + ' s':>10}" for name in ["modcfg", *peers])
    ratios = "".join(f" {'/' + name:>9}" for name in peers)
    print(f"{'model':<52} {'vars':>6}{columns}{ratios}")


def _print_row(row: Row, peers: list[str]) -> None:
    columns = "".join(f" {seconds_cell(row.results.get(name)):>10}" for name in ["modcfg", *peers])
    ratios = ""
    for name in peers:
        ratio = row.ratio(name)
        ratios += f" {ratio:>9.2f}" if ratio is not None else f" {'-':>9}"
    print(f"{row.model[:52]:<52} {row.variables:>6}{columns}{ratios}", flush=True)


def _print_summary(rows: list[Row], peers: list[str]) -> None:
    print()
    for name in ["modcfg", *peers]:
        statuses: dict[str, int] = {}
        for row in rows:
            status = row.results[name].status
            statuses[status] = statuses.get(status, 0) + 1
        print(f"{name}: " + ", ".join(f"{count} {status}" for status, count in statuses.items()))
    for name in peers:
        ratios = sorted(r for r in (row.ratio(name) for row in rows) if r is not None)
        if ratios:
            faster = sum(ratio < 1 for ratio in ratios)
            print(
                f"ratio modcfg/{name} over {len(ratios)} models both sampled: median "
                f"{ratios[len(ratios) // 2]:.2f}, modcfg faster on {faster}"
            )
    for row in rows:
        for name, result in row.results.items():
            if result.status not in ("ok", "timeout"):
                print(f"  {row.model} ({name}): {result.status}: {result.detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="", help="only models whose file name contains this")
    parser.add_argument("--draws", type=int, default=100, help="configurations per sample")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per model and tool")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    args = parser.parse_args(argv)
    if not (CORPUS / "manifest.json").exists():
        print(f"the corpus is not available ({CORPUS} is absent)", file=sys.stderr)
        return 1
    rows = run(args.model, args.draws, args.timeout)
    peers = [name for name in PEERS if any(name in row.results for row in rows)]
    _print_summary(rows, peers)
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=1))
    return 1 if any(row.results["modcfg"].status == "wrong" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
