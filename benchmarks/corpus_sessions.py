"""Interactive sessions on the corpus: a configurator's clicks on every feature model.

python benchmarks/corpus_sessions.py                     # all 90 models
python benchmarks/corpus_sessions.py --model Berger2013 --json sessions.json

For each DIMACS feature model of ``shared/data/corpus``, in a warm process (the imports and
compiled kernels loaded, and one session already run on a small model), modcfg compiles the
model, then times what a storefront shows on each click, reading every option's status, count
and from-price:

- ``state``: a new session's first state (no choice yet);
- ``steps``: three choices, one after another, each of an option the state before allows that
  leaves fewer configurations (the first such option of the first slot not chosen yet);
- ``three``: the same three choices made at once in a new session, then its state.

A model meets the 100 ms goal when all five times are under it. Each model runs in a child
process of its own (forked from the warm parent), so one model's memory never slows the next;
each step's time is the best of ``--rounds`` sessions (a first state is timed once: later
sessions with the same needs share it).

The processes run as a storefront's do (``modcfg serve``): once its start-up is done, which
here is the warm-up in the parent and the model's compile and count in the child, the objects
it made are taken out of Python's full garbage-collection passes (``gc.freeze()``). Without
that (``--no-freeze``, a library that never freezes), a full pass walks numba's 100,000
objects, 50-90 ms, and lands in whichever timed click comes when enough new objects have
survived: a single first state then reads 100-130 ms where it takes 30-50.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.workloads import DATA

CORPUS = DATA / "corpus"
#: The model a warm process has run a session on before any is timed (small, eCos-like).
_WARM_UP = "systems_software__dreamcast__Berger2013.dimacs"
GOAL_MS = 100.0


def _read_all(state: Any) -> None:
    """What a storefront page shows: every option's status, count and from-price."""
    for slot in state:
        for option in state[slot].values():
            _ = option.status, option.count, option.from_price


def _next_pick(state: Any, total: int, chosen: set[str]) -> tuple[str, str] | None:
    """An option of the first slot not chosen yet that ``state`` allows and that leaves fewer
    than ``total`` configurations."""
    return next(
        (
            (slot, module)
            for slot in state
            if slot not in chosen
            for module, option in state[slot].items()
            if module is not None and option.status == "available" and 0 < option.count < total
        ),
        None,
    )


def _timed(cfg: Any, picks: list[tuple[str, str]] | None) -> dict[str, Any]:
    """One session's times (the three choices found as it goes when ``picks`` is None), then
    the same choices at once in a new session."""
    session = cfg.session()
    start = time.perf_counter()
    state = session.state()
    _read_all(state)
    state_ms = (time.perf_counter() - start) * 1000
    found: list[tuple[str, str]] = []
    steps = []
    total = cfg.count()
    for index in range(3):
        pick = _next_pick(state, total, {slot for slot, _ in found}) if picks is None else None
        if picks is not None:
            pick = picks[index] if index < len(picks) else None
        if pick is None:
            break
        start = time.perf_counter()
        state = session.choose(*pick)
        _read_all(state)
        steps.append((time.perf_counter() - start) * 1000)
        found.append(pick)
        total = sum(option.count for option in state[pick[0]].values())
    replay = cfg.session()
    start = time.perf_counter()
    for pick in found:
        replay.choose(*pick)
    _read_all(replay.state())
    three = (time.perf_counter() - start) * 1000
    return {"picks": found, "state_ms": state_ms, "step_ms": steps, "three_ms": three}


def _child(path: str, rounds: int, freeze: bool, out: Connection) -> None:
    import modcfg

    try:
        cfg = modcfg.compile(modcfg.load_catalog(path))
        cfg.count()
        if freeze:  # the start-up is done (see the module)
            gc.freeze()
        first = _timed(cfg, None)
        runs = [first, *(_timed(cfg, first["picks"]) for _ in range(rounds - 1))]
        best = {
            "state_ms": first["state_ms"],  # (later sessions share the first one's state)
            "step_ms": [
                min(times) for times in zip(*(run["step_ms"] for run in runs), strict=True)
            ],
            "three_ms": min(run["three_ms"] for run in runs),
        }
        out.send({"model": Path(path).stem, "picks": first["picks"], **best})
    except Exception as exc:  # reported per model, not a failure of the run
        out.send({"model": Path(path).stem, "error": f"{type(exc).__name__}: {exc}"[:200]})


def _warm_up() -> None:
    import modcfg

    _timed(modcfg.compile(modcfg.load_catalog(CORPUS / _WARM_UP)), None)


def run(model: str, timeout: float, rounds: int, *, freeze: bool = True) -> list[dict[str, Any]]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())["models"]
    _warm_up()
    if freeze:
        gc.freeze()
    context = multiprocessing.get_context("fork")
    rows = []
    for entry in manifest:
        if model not in entry["file"]:
            continue
        receive, send = context.Pipe(duplex=False)
        child = context.Process(
            target=_child, args=(str(CORPUS / entry["file"]), rounds, freeze, send)
        )
        child.start()
        row = (
            receive.recv()
            if receive.poll(timeout)
            else {"model": Path(entry["file"]).stem, "error": f"over {timeout:g} s"}
        )
        child.kill()
        child.join()
        rows.append(row)
        _print_row(row)
    return rows


def _worst(row: dict[str, Any]) -> float:
    return float(max(row["state_ms"], *row["step_ms"], row["three_ms"]))


def _print_row(row: dict[str, Any]) -> None:
    name = row["model"][:52]
    if "error" in row:
        print(f"{name:52s}  {row['error']}", flush=True)
        return
    steps = " ".join(f"{ms:6.1f}" for ms in row["step_ms"])
    mark = "" if _worst(row) < GOAL_MS else "  over"
    print(
        f"{name:52s} {row['state_ms']:7.1f} {steps:>20s} {row['three_ms']:7.1f}{mark}", flush=True
    )


def _print_summary(rows: list[dict[str, Any]]) -> None:
    done = [row for row in rows if "error" not in row]
    met = [row for row in done if _worst(row) < GOAL_MS]
    print(
        f"\nmodels: {len(rows)}; answered: {len(done)}; all times under {GOAL_MS:g} ms: {len(met)}"
    )
    if done:
        states = [row["state_ms"] for row in done]
        slowest = [max(row["step_ms"], default=0.0) for row in done]
        threes = [row["three_ms"] for row in done]
        print(
            f"median ms: state {statistics.median(states):.1f}, slowest step "
            f"{statistics.median(slowest):.1f}, three at once {statistics.median(threes):.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="", help="only models whose file name contains this")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per model")
    parser.add_argument("--rounds", type=int, default=1, help="sessions per model (best kept)")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave the start-up's objects in the garbage collector's full passes",
    )
    args = parser.parse_args(argv)
    if not (CORPUS / "manifest.json").exists():
        print(f"the corpus is not available ({CORPUS} is absent)", file=sys.stderr)
        return 1
    print(f"{'model':52s} {'state':>7s} {'three steps, ms':>20s} {'three':>7s}")
    rows = run(args.model, args.timeout, max(1, args.rounds), freeze=not args.no_freeze)
    _print_summary(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
