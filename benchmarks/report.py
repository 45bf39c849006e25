"""Cross-checking the peers' answers and printing the results table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from .harness import Fingerprint, Outcome
from .peers import StepAnswer, peer_class

__all__ = ["Check", "cross_check", "print_summary", "print_table", "to_json"]

#: The column of ``run.py --baseline``: modcfg as found in another checkout.
BASELINE = "modcfg@baseline"

#: Who answers for a job when modcfg cannot: exact peers first.
REFERENCE_ORDER = (
    "modcfg",
    "ganak",
    "networkx-dp",
    "itertools",
    "cp-sat",
    "python-constraint",
    "pysat",
    "dd-cudd",
)
#: Counts above this go through a double inexactly.
DOUBLE_EXACT = 2**53
#: (workload, job) -> peer -> outcome
Results = Mapping[tuple[str, str], Mapping[str, Outcome]]


@dataclass(frozen=True)
class Check:
    """How one answer compares with the reference answer of its job."""

    mark: str  # "ref", "=", "≠", "≈" (inexact count), "" (nothing to compare)
    detail: str = ""


def _exact(peer: str) -> bool:
    if peer == BASELINE:
        return True
    try:
        return peer_class(peer).exact
    except ImportError:
        return True


def _step_view(
    answer: StepAnswer, picked: set[str]
) -> tuple[frozenset[tuple[str, str]], dict[tuple[str, str], int] | None]:
    possible = frozenset(option for option in answer.possible if option[0] not in picked)
    counts = None
    if answer.counts is not None:
        counts = {o: n for o, n in answer.counts.items() if o[0] not in picked}
    return possible, counts


def _compare(job: str, reference: Any, answer: Any, *, exact: bool, picked: set[str]) -> Check:
    if job == "step":
        ref_possible, ref_counts = _step_view(reference, picked)
        possible, counts = _step_view(answer, picked)
        if possible != ref_possible:
            extra, missing = sorted(possible - ref_possible), sorted(ref_possible - possible)
            return Check("≠", f"possible options differ: +{extra[:3]} -{missing[:3]}")
        if counts is not None and ref_counts is not None and counts != ref_counts:
            wrong = [o for o in ref_counts if counts.get(o) != ref_counts[o]]
            if not exact:
                return Check("≈", f"{len(wrong)} completion counts off (double arithmetic)")
            return Check("≠", f"completion counts differ for {wrong[:3]}")
        return Check("=")
    if answer == reference:
        if job == "count" and not exact and isinstance(answer, int) and answer > DOUBLE_EXACT:
            return Check("=", "equal, though above 2**53 a double count is not guaranteed")
        return Check("=")
    if job == "count" and not exact:
        return Check("≈", f"{answer} instead of {reference}: a double's count above 2**53")
    return Check("≠", f"{_short(answer)} instead of {_short(reference)}")


def _short(answer: Any) -> str:
    if isinstance(answer, tuple) and answer and isinstance(answer[0], Decimal):
        return (
            "["
            + ", ".join(str(value) for value in answer[:4])
            + (", ...]" if len(answer) > 4 else "]")
        )
    return str(answer)[:80]


def cross_check(
    results: Results, picks: Mapping[str, Mapping[str, str]]
) -> dict[tuple[str, str], dict[str, Check]]:
    """Compare every peer's answer with the job's reference answer."""
    checks: dict[tuple[str, str], dict[str, Check]] = {}
    for (workload, job), outcomes in results.items():
        row: dict[str, Check] = {}
        checks[workload, job] = row
        if job == "build":
            continue
        reference = next(
            (p for p in REFERENCE_ORDER if p in outcomes and outcomes[p].status == "ok"), None
        )
        if reference is None:
            continue
        picked = set(picks.get(workload, {}))
        for peer, outcome in outcomes.items():
            if outcome.status != "ok":
                continue
            if peer == reference:
                row[peer] = Check("ref")
            else:
                row[peer] = _compare(
                    job,
                    outcomes[reference].answer,
                    outcome.answer,
                    exact=_exact(peer),
                    picked=picked,
                )
    return checks


def _seconds(value: float) -> str:
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def _answer(outcomes: Mapping[str, Outcome]) -> str:
    """The first answer in :data:`REFERENCE_ORDER` among ``outcomes``, in a few words."""
    answer = next(
        (
            outcomes[p].answer
            for p in REFERENCE_ORDER
            if p in outcomes and outcomes[p].status == "ok"
        ),
        None,
    )
    if answer is None:
        return ""
    if isinstance(answer, int):
        return f"{answer:,}" if answer < 10**9 else f"{answer:.3e}"
    if isinstance(answer, Fingerprint):
        return f"{answer.distinct:,} configs"
    if isinstance(answer, tuple):
        return f"{answer[0]} … {answer[-1]}" if answer else "none"
    if isinstance(answer, StepAnswer):
        return f"{len(answer.possible)} options"
    return ""


def _cell(outcome: Outcome | None, check: Check | None, base: Outcome | None) -> str:
    if outcome is None:
        return ""
    if outcome.status != "ok" or outcome.seconds is None:
        return outcome.status
    text = _seconds(outcome.seconds)
    if base is not None and base is not outcome and base.status == "ok" and base.seconds:
        text += f" ×{outcome.seconds / base.seconds:.3g}"
    if check is not None and check.mark not in ("=", "ref"):
        text += f" {check.mark}"
    elif check is not None and check.detail:
        text += " ~"
    return text


def print_table(
    results: Results,
    checks: Mapping[tuple[str, str], Mapping[str, Check]],
    peers: Sequence[str],
    *,
    plain: bool = False,
) -> None:
    """Print median times (× modcfg) per workload, job and peer, then the notes."""
    headers = ["workload", "job", "answer", *peers]
    rows: list[list[str]] = []
    for (workload, job), outcomes in results.items():
        base = outcomes.get("modcfg")
        row = [workload, job, _answer(outcomes) if job != "build" else ""]
        for peer in peers:
            row.append(_cell(outcomes.get(peer), checks.get((workload, job), {}).get(peer), base))
        rows.append(row)
    if plain:
        widths = [max(len(line[i]) for line in [headers, *rows]) for i in range(len(headers))]
        for line in [headers, ["-" * w for w in widths], *rows]:
            print("  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)))
    else:
        table = Table(title="Median seconds per job (×: ratio to modcfg)", show_lines=False)
        for header in headers:
            table.add_column(header, no_wrap=True)
        previous = None
        for row in rows:
            if previous is not None and row[0] != previous:
                table.add_section()
            previous = row[0]
            table.add_row(*row)
        Console(width=max(120, 40 + 22 * len(peers))).print(table)
    print()
    print("Marks: ≠ answer differs from the reference (modcfg, else the first exact peer);")
    print("≈ inexact count (a double above 2**53); ~ equal, see the note; timeout: over the limit;")
    print("n/a: the tool cannot answer this job; skip: out of reach by construction.")
    notes = _notes(results, checks)
    if notes:
        print()
        print("Notes:")
        for note in notes:
            print(f"  {note}")


def _total(
    peer: str,
    builds: Mapping[str, Outcome],
    outcomes: Mapping[str, Outcome],
    marks: Mapping[str, Check],
) -> float | None:
    """A peer's median build plus median query, when it answered exactly."""
    built, answered = builds.get(peer), outcomes.get(peer)
    if built is None or answered is None or answered.status != "ok":
        return None
    if built.seconds is None or answered.seconds is None:
        return None
    mark = marks.get(peer)
    if mark is not None and mark.mark in ("≠", "≈"):
        return None
    return built.seconds + answered.seconds


def summary_rows(
    results: Results, checks: Mapping[tuple[str, str], Mapping[str, Check]]
) -> list[list[str]]:
    """Per workload and job: modcfg's build + query against the fastest peer's build + query.

    A peer counts when it built and answered, exactly (no ``≠``, no ``≈``). The goal is a ratio
    of at least 2, except when enumerating, where a bare itertools scan is the limit and
    modcfg must stay within 3x of it.
    """
    rows: list[list[str]] = []
    workloads = dict.fromkeys(workload for workload, _ in results)
    for workload in workloads:
        builds = results.get((workload, "build"), {})
        for (name, job), outcomes in results.items():
            if name != workload or job == "build":
                continue
            marks = checks.get((workload, job), {})
            ours = _total("modcfg", builds, outcomes, marks)
            if ours is None:
                continue
            peers = {
                p: t
                for p in outcomes
                if p not in ("modcfg", BASELINE)
                and (t := _total(p, builds, outcomes, marks)) is not None
            }
            if not peers:
                rows.append([workload, job, _seconds(ours), "none finishes", "", "exact alone"])
                continue
            fastest = min(peers, key=peers.__getitem__)
            ratio = peers[fastest] / ours
            if job == "enumerate" and fastest == "itertools":
                verdict = "within 3x" if ratio >= 1 / 3 else "slower than 3x"
            else:
                verdict = "2x or more" if ratio >= 2 else "under 2x"
            rows.append(
                [
                    workload,
                    job,
                    _seconds(ours),
                    f"{fastest} {_seconds(peers[fastest])}",
                    f"×{ratio:.3g}",
                    verdict,
                ]
            )
    return rows


def print_summary(results: Results, checks: Mapping[tuple[str, str], Mapping[str, Check]]) -> None:
    """Print build + query (median build plus median query) against the fastest exact peer."""
    rows = summary_rows(results, checks)
    if not rows:
        return
    headers = ["workload", "job", "modcfg", "fastest exact peer", "ratio", "goal"]
    widths = [max(len(line[i]) for line in [headers, *rows]) for i in range(len(headers))]
    print()
    print("Build + query (medians), against the fastest peer that answers exactly:")
    for line in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)))


def baseline_rows(results: Results) -> list[list[str]]:
    """Per workload and job: this version's median against the baseline's (``--baseline``),
    with the ratio new / old; a query more than 15 % slower is marked."""
    rows: list[list[str]] = []
    for (workload, job), outcomes in results.items():
        new, old = outcomes.get("modcfg"), outcomes.get(BASELINE)
        if new is None or old is None or new.seconds is None or old.seconds is None:
            continue
        if new.status != "ok" or old.status != "ok":
            continue
        ratio = new.seconds / old.seconds
        verdict = "" if job == "build" or ratio <= 1.15 else "slower by more than 15%"
        rows.append(
            [workload, job, _seconds(new.seconds), _seconds(old.seconds), f"{ratio:.2f}", verdict]
        )
    return rows


def print_baseline(results: Results) -> None:
    """Print this version's medians against the baseline's (see :func:`baseline_rows`)."""
    rows = baseline_rows(results)
    if not rows:
        return
    headers = ["workload", "job", "modcfg", BASELINE, "new/old", ""]
    widths = [max(len(line[i]) for line in [headers, *rows]) for i in range(len(headers))]
    print()
    print("This version against the baseline (medians; below 1: faster now):")
    for line in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)))


def _notes(results: Results, checks: Mapping[tuple[str, str], Mapping[str, Check]]) -> list[str]:
    notes: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for (workload, job), outcomes in results.items():
        for peer, outcome in outcomes.items():
            check = checks.get((workload, job), {}).get(peer)
            if check is not None and check.detail:
                notes.append(f"{workload}/{job}/{peer}: {check.mark} {check.detail}")
            elif outcome.status == "error":
                notes.append(f"{workload}/{job}/{peer}: error: {outcome.note}")
            elif outcome.status == "skip" and outcome.note:
                key = (workload, job, outcome.note)
                if key not in seen:
                    seen.add(key)
                    notes.append(f"{workload}/{job}: skip: {outcome.note}")
            elif outcome.status == "n/a" and outcome.note and outcome.note != "no build":
                key = (peer, job, outcome.note)
                if key not in seen:
                    seen.add(key)
                    notes.append(f"{peer}/{job}: n/a: {outcome.note}")
    return notes


def to_json(results: Results, checks: Mapping[tuple[str, str], Mapping[str, Check]]) -> str:
    """The raw results (times, statuses, marks) as JSON."""
    rows = []
    for (workload, job), outcomes in results.items():
        for peer, outcome in outcomes.items():
            check = checks.get((workload, job), {}).get(peer)
            rows.append(
                {
                    "workload": workload,
                    "job": job,
                    "peer": peer,
                    "status": outcome.status,
                    "median_seconds": outcome.seconds,
                    "runs": outcome.runs,
                    "times": outcome.times,
                    "note": outcome.note,
                    "check": asdict(check) if check is not None else None,
                    "answer": _answer({peer: outcome}) if outcome.status == "ok" else None,
                }
            )
    return json.dumps(rows, indent=1, ensure_ascii=False)
