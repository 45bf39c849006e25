"""Timing and isolation: every (workload, peer) pair runs in its own process with time limits.

A worker process builds the peer (timed, repeated) and runs the jobs one by one, reporting
each outcome through a pipe. When a job passes its limit the parent kills the worker, marks
the job ``timeout`` and starts a fresh worker for the jobs left, so nothing ever hangs.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal, TypeVar

from modcfg import Needs

from .peers import Peer, PeerTimeout, TooLarge, Unsupported, peer_class
from .workloads import WORKLOADS, load_catalog

__all__ = [
    "JOBS",
    "Fingerprint",
    "Outcome",
    "Settings",
    "fingerprint",
    "run_job",
    "run_peer",
]

T = TypeVar("T")
Status = Literal["ok", "timeout", "n/a", "skip", "error"]
#: The jobs, in the order they run and are reported (the build comes first).
JOBS = ("count", "enumerate", "top10", "best", "step")
#: Seconds a worker may take to start (spawn, imports, loading the catalog) on top of its limits.
STARTUP = 30.0
#: Seconds a worker may take, once a job's timed runs are over, to turn its result into an
#: answer (fingerprinting a large enumeration is slow and must not count as the peer's time).
CONVERT = 120.0


@dataclass(frozen=True)
class Settings:
    """Per-job time limit, and how often to repeat a job (within ``repeat_budget`` seconds).

    A call faster than ``sample`` seconds is timed in loops of calls, as :mod:`timeit` does,
    so that each run lasts about ``sample``: a run's time is then its mean per call, the
    steady state rather than the interpreter's warm-up over the first few calls (Python
    specialises a function's code only after it has run several times).
    """

    timeout: float = 10.0
    repeats: int = 9
    repeat_budget: float = 3.0
    sample: float = 0.02


@dataclass
class Outcome:
    """What one peer did on one job: median seconds over ``runs`` and its answer."""

    status: Status
    seconds: float | None = None
    runs: int = 0
    answer: Any = None
    note: str = ""
    times: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Fingerprint:
    """An order-independent summary of an enumeration: size, distinct size, digest."""

    size: int
    distinct: int
    digest: str


def fingerprint(assignments: Sequence[tuple[int, ...]]) -> Fingerprint:
    distinct = sorted(set(assignments))
    digest = hashlib.sha256(repr(distinct).encode()).hexdigest()[:16]
    return Fingerprint(len(assignments), len(distinct), digest)


#: Loop counts of the calibration: 1, 2, 5, 10, 20, 50, ... (``timeit``'s steps).
_DECADES = tuple(10**power for power in range(9))


def measure(function: Callable[[], T], settings: Settings) -> tuple[T, list[float], float]:
    """Run ``function`` once, then in runs while they fit ``settings.repeats`` and the repeat
    budget; return the last result, every run's seconds per call (``time.perf_counter``) and
    the first call's seconds (the time limit applies to it).

    Unless the first call is long (a fifth of the budget), the runs are loops of as many
    calls as make one last ``settings.sample`` (1, 2, 5, 10, 20, ... calls, as
    ``timeit.Timer.autorange``, found after the first call: a first call that loads caches
    says little about the next ones); a long first call is one of the runs."""
    start = time.perf_counter()
    result = function()
    first = time.perf_counter() - start
    spent, loops, times = first, 1, [first]
    if settings.repeats > 1 and first < settings.repeat_budget / 5:
        for loops in itertools.chain.from_iterable((k, 2 * k, 5 * k) for k in _DECADES):
            start = time.perf_counter()
            for _ in range(loops):
                result = function()
            elapsed = time.perf_counter() - start
            spent += elapsed
            if elapsed >= settings.sample or spent > settings.repeat_budget / 3:
                break
        times = [elapsed / loops]  # the last loop of the search is a run
    while len(times) < settings.repeats and spent + times[-1] * loops <= settings.repeat_budget:
        start = time.perf_counter()
        for _ in range(loops):
            result = function()
        elapsed = time.perf_counter() - start
        spent += elapsed
        times.append(elapsed / loops)
    return result, times, first


def _job(
    peer: Peer, job: str, needs: Needs, picks: Mapping[str, str]
) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    """The timed call of a job and the (untimed) conversion of its result into an answer."""
    if job == "count":
        return peer.count, int
    if job == "enumerate":
        return peer.configurations, lambda found: fingerprint(peer.assignments(found))
    if job == "top10":
        return lambda: peer.cheapest(None, 10), tuple
    if job == "best":
        return lambda: peer.cheapest(needs, 10), tuple
    if job == "step":
        return lambda: peer.step(None, picks), lambda answer: answer
    raise ValueError(f"unknown job {job!r}; known: {', '.join(JOBS)}")


def _guard(function: Callable[[], Outcome]) -> Outcome:
    try:
        return function()
    except Unsupported as exc:
        return Outcome("n/a", note=str(exc))
    except TooLarge as exc:
        return Outcome("skip", note=str(exc))
    except PeerTimeout:
        return Outcome("timeout", note="the peer's own time limit")
    except Exception as exc:  # a peer's failure is a result to report, not a crash
        return Outcome("error", note=f"{type(exc).__name__}: {exc}")


def _timed(
    function: Callable[[], T],
    settings: Settings,
    convert: Callable[[T], Any],
    timed: Callable[[], None] | None = None,
) -> Outcome:
    """Time ``function`` (see :func:`measure`), call ``timed`` once the timing is over, then
    convert the result (untimed)."""
    result, times, first = measure(function, settings)
    if timed is not None:
        timed()
    if first > settings.timeout:
        return Outcome("timeout", first, 1, note=f"took {first:.1f} s")
    return Outcome("ok", statistics.median(times), len(times), convert(result), times=times)


def build_peer(name: str, catalog: Any, settings: Settings) -> tuple[Peer | None, Outcome]:
    """Build (repeatedly, timed) the peer ``name`` for ``catalog``."""
    cls = peer_class(name)
    built: list[Peer] = []

    def build() -> Peer:
        peer = cls(catalog, time_limit=settings.timeout)
        built[:] = [peer]
        return peer

    outcome = _guard(lambda: _timed(build, settings, lambda _: None))
    return (built[0] if built and outcome.status == "ok" else None), outcome


def run_job(
    peer: Peer,
    job: str,
    needs: Needs,
    picks: Mapping[str, str],
    settings: Settings,
    timed: Callable[[], None] | None = None,
) -> Outcome:
    """Run one job on a built peer, in this process; ``timed`` is called between the timed
    runs and the conversion of their result into an answer."""
    call, convert = _job(peer, job, needs, picks)
    return _guard(lambda: _timed(call, settings, convert, timed))


def _warm_modcfg() -> None:
    """Load modcfg's compiled passes, as a process that has served for a while has them: the
    bicycle catalog's passes are large enough to run compiled (a new process runs its first
    small passes as plain Python, see docs/limits.md, which would make the medians of a small
    catalog's builds those of plain Python)."""
    import modcfg

    modcfg.compile(modcfg.load_catalog("bicycle")).count()


def _worker(
    connection: Connection,
    workload: str,
    peer_name: str,
    needs_data: dict[str, Any],
    picks: dict[str, str],
    jobs: list[str],
    settings: Settings,
) -> None:
    spec = next(spec for spec in WORKLOADS if spec.name == workload)
    catalog = load_catalog(spec)
    needs = Needs(**needs_data)
    if peer_name == "modcfg":
        _warm_modcfg()
    connection.send(("start", "build"))
    peer, built = build_peer(peer_name, catalog, settings)
    connection.send(("done", "build", built))
    for job in jobs:
        connection.send(("start", job))
        if peer is None:
            outcome = Outcome(built.status, note=f"build: {built.note}")
        else:
            timed = functools.partial(connection.send, ("timed", job))
            outcome = run_job(peer, job, needs, picks, settings, timed)
        connection.send(("done", job, outcome))
    connection.close()


def run_peer(
    workload: str,
    peer_name: str,
    needs_data: dict[str, Any],
    picks: dict[str, str],
    jobs: Sequence[str],
    settings: Settings,
    source: Path | None = None,
) -> dict[str, Outcome]:
    """Build ``peer_name`` on ``workload`` and run ``jobs``; a job that passes its limit is
    killed and marked ``timeout``, and a fresh worker (built again, untimed) takes the rest.

    ``source``: a directory whose ``modcfg`` package the worker imports instead of the
    installed one (an earlier checkout's ``src``, to compare two versions in one run)."""
    results: dict[str, Outcome] = {}
    remaining = list(jobs)
    rebuild = False
    while remaining or not rebuild:
        current, outcome = _serve(
            workload, peer_name, needs_data, picks, remaining, settings, results, source
        )
        if current == "build" and outcome is not None:
            note = "the build did not finish" if rebuild else outcome.note
            results.setdefault("build", outcome)
            for job in remaining:
                results[job] = Outcome(outcome.status, note=note)
            remaining = []
        elif outcome is not None:
            results[current] = outcome
        left = [job for job in remaining if job not in results]
        if remaining and len(left) == len(remaining):
            for job in left:
                results[job] = Outcome("error", note="the worker stopped early")
            left = []
        remaining = left
        if "build" not in results or results["build"].status != "ok":
            for job in remaining:
                results[job] = Outcome(
                    results.get("build", Outcome("error")).status, note="no build"
                )
            remaining = []
        rebuild = True
    return results


def _serve(
    workload: str,
    peer_name: str,
    needs_data: dict[str, Any],
    picks: dict[str, str],
    jobs: list[str],
    settings: Settings,
    results: dict[str, Outcome],
    source: Path | None = None,
) -> tuple[str, Outcome | None]:
    """Run one worker until it finishes, dies or passes a limit; outcomes go into ``results``
    (the build's only the first time). Returns the job in progress and, when the worker did
    not finish it, its outcome."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    args = (sender, workload, peer_name, needs_data, picks, jobs, settings)
    process = context.Process(target=_worker, args=args, daemon=True)
    if source is None:
        process.start()
    else:  # a spawned process starts with its parent's sys.path: put the source first
        sys.path.insert(0, str(source))
        try:
            process.start()
        finally:
            sys.path.remove(str(source))
    sender.close()
    current, limit = "build", STARTUP + settings.timeout + settings.repeat_budget
    finished: set[str] = set()
    try:
        while True:
            if not receiver.poll(limit):
                return current, Outcome("timeout", note=f"stopped after {limit:.0f} s")
            message = receiver.recv()
            if message[0] == "timed":
                limit = CONVERT  # the timing is over; the answer is being prepared
            elif message[0] == "start":
                current = message[1]
                limit = settings.timeout + settings.repeat_budget + 2.0
                limit += STARTUP if current == "build" else 0.0
            else:
                finished.add(message[1])
                if message[1] != "build" or "build" not in results:
                    results[message[1]] = message[2]
    except EOFError:
        if current in finished:
            return current, None
        return current, Outcome("error", note="the worker process ended")
    finally:
        receiver.close()
        process.kill()
        process.join()
