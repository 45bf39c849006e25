"""Run the benchmark suite: workloads x jobs x peers, timed, cross-checked, tabulated.

python benchmarks/run.py                       # everything (make bench)
python benchmarks/run.py --quick               # one run per job, 3 s limit
python benchmarks/run.py --workload windows --workload gen20 --job count --peer cp-sat
python benchmarks/run.py --peer modcfg --baseline ../modcfg-1.0   # this version against another
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import JOBS, Outcome, Settings, run_peer
from benchmarks.peers import PEERS
from benchmarks.report import (
    BASELINE,
    cross_check,
    print_baseline,
    print_summary,
    print_table,
    to_json,
)
from benchmarks.workloads import WORKLOADS, Missing, prepare

#: Enumeration is skipped above this many configurations.
ENUMERATE_LIMIT = 1_000_000


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    names = [spec.name for spec in WORKLOADS]
    parser.add_argument("--workload", action="append", choices=names, help="repeatable")
    parser.add_argument("--job", action="append", choices=JOBS, help="repeatable")
    parser.add_argument("--peer", action="append", choices=list(PEERS), help="repeatable")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per job (10)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per job at most (9)")
    parser.add_argument("--quick", action="store_true", help="one run per job, 3 s limit")
    parser.add_argument("--plain", action="store_true", help="a plain-text table")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="fresh processes per peer and workload, taken in turns with the baseline's; each "
        "job keeps its fastest process's median (1)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help=f"a checkout of another modcfg version: adds the column {BASELINE} (its src/ "
        "first on the path) and a table of this version's times against it",
    )
    args = parser.parse_args(argv)
    if args.baseline is not None and not (args.baseline / "src" / "modcfg").is_dir():
        parser.error(f"--baseline {args.baseline}: no src/modcfg there; give a modcfg checkout")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    quick = bool(args.quick)
    settings = Settings(
        timeout=args.timeout or (3.0 if quick else 10.0),
        repeats=args.repeats or (1 if quick else 9),
        repeat_budget=0.0 if quick else 3.0,
    )
    specs = [spec for spec in WORKLOADS if not args.workload or spec.name in args.workload]
    jobs = [job for job in JOBS if not args.job or job in args.job]
    peers = [peer for peer in PEERS if not args.peer or peer in args.peer]
    columns = [*peers, BASELINE] if args.baseline is not None else peers
    results: dict[tuple[str, str], dict[str, Outcome]] = {}
    picks: dict[str, dict[str, str]] = {}
    started = time.perf_counter()
    for spec in specs:
        try:
            workload = prepare(spec)
        except Missing as exc:
            print(f"{spec.name}: skipped ({exc})", flush=True)
            continue
        picks[spec.name] = workload.picks
        count = "unknown" if workload.count is None else f"{workload.count:.4g}"
        print(
            f"{spec.name}: {spec.description}; {count} configurations; "
            f"needs {workload.needs}; picks {workload.picks}",
            flush=True,
        )
        runnable = list(jobs)
        if "enumerate" in runnable and (workload.count is None or workload.count > ENUMERATE_LIMIT):
            runnable.remove("enumerate")
        for job in ["build", *jobs]:
            results[spec.name, job] = {}
        for _ in range(max(args.rounds, 1)):
            for peer in peers:
                print(f"  {peer} ...", end="", flush=True)
                outcomes = run_peer(
                    spec.name, peer, workload.needs, workload.picks, runnable, settings
                )
                for job, outcome in outcomes.items():
                    _keep_faster(results[spec.name, job], peer, outcome)
                for job in jobs:
                    if job not in runnable:
                        results[spec.name, job][peer] = Outcome(
                            "skip", note=f"more than {ENUMERATE_LIMIT:,} configurations"
                        )
                states = " ".join(
                    f"{job}={o.status}" for job, o in outcomes.items() if o.status != "ok"
                )
                print(f" {states or 'ok'}", flush=True)
            if args.baseline is not None:
                print(f"  {BASELINE} ...", end="", flush=True)
                source = (args.baseline / "src").resolve()
                outcomes = run_peer(
                    spec.name, "modcfg", workload.needs, workload.picks, runnable, settings, source
                )
                for job in ["build", *jobs]:
                    outcome = outcomes.get(
                        job, Outcome("skip", note=f"more than {ENUMERATE_LIMIT:,} configurations")
                    )
                    _keep_faster(results[spec.name, job], BASELINE, outcome)
                print(" done", flush=True)
    checks = cross_check(results, picks)
    print(
        f"\nTotal {time.perf_counter() - started:.0f} s; limit {settings.timeout:g} s per job, "
        f"up to {settings.repeats} runs.\n"
    )
    print_table(results, checks, columns, plain=args.plain)
    print_summary(results, checks)
    if args.baseline is not None:
        print_baseline(results)
    if args.json:
        args.json.write_text(to_json(results, checks), encoding="utf-8")
    return 0


def _keep_faster(row: dict[str, Outcome], column: str, outcome: Outcome) -> None:
    """Record ``outcome`` in ``row``, unless an earlier process of the same column answered
    faster (a process that runs slow as a whole, for reasons outside the code, says little)."""
    kept = row.get(column)
    faster = (
        outcome.status == "ok"
        and outcome.seconds is not None
        and kept is not None
        and kept.seconds is not None
        and outcome.seconds < kept.seconds
    )
    if kept is None or kept.status != "ok" or faster:
        row[column] = outcome


if __name__ == "__main__":
    sys.exit(main())
