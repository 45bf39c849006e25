"""Value recommendation on real sales: success rates by cross-validation, against baselines.

python benchmarks/recommend.py                  # Renault medium, 10 folds, every sold car
python benchmarks/recommend.py --cars 300       # a quicker look: 300 test cars in all

The protocol of Fargier, Gimenez and Mengin on these histories: the sales are split into
``folds`` parts; each part in turn is the test set and the others the training set. Each test
car's recorded slots are set one at a time in a random order, in an interactive session on the
compiled model; before each step every learner proposes one module for that slot among the
modules the session still allows, and succeeds when it is the customer's. Success is reported
over all steps and over the non-trivial ones (at least two modules possible), with the time
per recommendation (the session's state is computed first: the session shows it anyway).

Learners: ``modcfg`` (:class:`modcfg.memory.Recommender`), ``most popular`` (the module sold
most often) and ``naive Bayes`` (P(module) times P(choice | module) over the choices made,
Laplace-smoothed), the two baselines of the published comparisons.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import modcfg
import modcfg.io
from modcfg.memory import Recommender

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "renault"

#: (slot, choices, possible modules) -> the proposed module
Proposer = Callable[[str, Mapping[str, Any], Sequence[str]], str]


class MostPopular:
    """Proposes the possible module sold most often (ties: catalog order)."""

    def __init__(self, sales: Sequence[Mapping[str, Any]]) -> None:
        self.counts: dict[tuple[str, Any], int] = {}
        for sale in sales:
            for pair in sale.items():
                self.counts[pair] = self.counts.get(pair, 0) + 1

    def __call__(self, slot: str, choices: Mapping[str, Any], possible: Sequence[str]) -> str:
        return max(possible, key=lambda module: self.counts.get((slot, module), 0))


class NaiveBayes:
    """Proposes argmax P(module) * prod P(choice | module), Laplace-smoothed."""

    def __init__(self, sales: Sequence[Mapping[str, Any]], catalog: modcfg.Catalog) -> None:
        self.catalog = catalog
        self.total = len(sales)
        # which sales chose each (slot, module); pair counts are worked out when first asked
        self.sold: dict[tuple[str, Any], set[int]] = {}
        for number, sale in enumerate(sales):
            for pair in sale.items():
                self.sold.setdefault(pair, set()).add(number)
        self.pairs: dict[tuple[str, Any, str, Any], int] = {}

    def _together(self, slot: str, module: str, other: str, chosen: Any) -> int:
        key = (slot, module, other, chosen)
        found = self.pairs.get(key)
        if found is None:
            found = len(self.sold.get((slot, module), set()) & self.sold[other, chosen])
            self.pairs[key] = found
        return found

    def __call__(self, slot: str, choices: Mapping[str, Any], possible: Sequence[str]) -> str:
        def log_score(module: str) -> float:
            prior = len(self.sold.get((slot, module), ()))
            score = math.log((prior + 1) / (self.total + len(possible)))
            for other, chosen in choices.items():
                if other != slot and (other, chosen) in self.sold:
                    size = len(self.catalog.slots[other].modules)
                    together = self._together(slot, module, other, chosen)
                    score += math.log((together + 1) / (prior + size))
            return score

        return max(possible, key=log_score)


@dataclass
class Tally:
    """Successes of one learner over all steps and over non-trivial steps."""

    steps: int = 0
    hits: int = 0
    open_steps: int = 0
    open_hits: int = 0
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    def add(self, *, hit: bool, choices: int, seconds: float, cpu_seconds: float) -> None:
        self.steps += 1
        self.hits += hit
        if choices >= 2:
            self.open_steps += 1
            self.open_hits += hit
        self.seconds.append(seconds)
        self.cpu_seconds.append(cpu_seconds)


def folds_of(count: int, folds: int, seed: int) -> list[list[int]]:
    """``count`` indices shuffled with ``seed`` and dealt into ``folds`` parts."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return [order[part::folds] for part in range(folds)]


def cross_validate(
    cfg: modcfg.Configurator,
    sales: Sequence[Mapping[str, Any]],
    *,
    folds: int = 10,
    seed: int = 0,
    cars: int | None = None,
    progress: Callable[[int, Mapping[str, Tally]], None] | None = None,
    **options: Any,
) -> dict[str, Tally]:
    """Run the protocol; ``cars`` caps the test cars in all (spread over the folds);
    ``progress`` is called after each fold with its number and the tallies so far;
    ``options`` go to :meth:`Recommender.fit`."""
    tallies = {name: Tally() for name in ("modcfg", "most popular", "naive Bayes")}
    rng = random.Random(seed)
    parts = folds_of(len(sales), folds, seed)
    for number, test in enumerate(parts):
        chosen = set(test)
        train = [sale for index, sale in enumerate(sales) if index not in chosen]
        recommender = Recommender.fit(cfg, train, **options)
        baselines: dict[str, Proposer] = {
            "most popular": MostPopular(train),
            "naive Bayes": NaiveBayes(train, cfg.catalog),
        }
        if cars is not None:
            test = test[: cars // folds + (number < cars % folds)]
        for index in test:
            _run_car(cfg, sales[index], recommender, baselines, tallies, rng)
        if progress is not None:
            progress(number, tallies)
    return tallies


def _run_car(
    cfg: modcfg.Configurator,
    car: Mapping[str, Any],
    recommender: Recommender,
    baselines: Mapping[str, Proposer],
    tallies: Mapping[str, Tally],
    rng: random.Random,
) -> None:
    session = cfg.session()
    steps = list(car.items())
    rng.shuffle(steps)
    for slot, module in steps:
        state = session.state()
        possible = state.available(slot)
        choices = session.choices
        start, cpu = time.perf_counter(), time.thread_time()
        proposed = recommender.recommend(session, slot)[0][0]
        tallies["modcfg"].add(
            hit=proposed == module,
            choices=len(possible),
            seconds=time.perf_counter() - start,
            cpu_seconds=time.thread_time() - cpu,
        )
        for name, baseline in baselines.items():
            start, cpu = time.perf_counter(), time.thread_time()
            guess = baseline(slot, choices, possible)
            tallies[name].add(
                hit=guess == module,
                choices=len(possible),
                seconds=time.perf_counter() - start,
                cpu_seconds=time.thread_time() - cpu,
            )
        session.choose(slot, module)


def _milliseconds(seconds: list[float], share: float) -> float:
    ordered = sorted(seconds)
    return 1000 * ordered[int(share * (len(ordered) - 1))] if ordered else 0.0


def print_table(tallies: Mapping[str, Tally]) -> None:
    """Success rates, their ratio to modcfg's, and milliseconds per recommendation: CPU time
    (mean, 95th percentile) and wall-clock time (95th percentile, which a busy machine's
    scheduling inflates)."""
    reference = tallies["modcfg"]
    print(
        f"{'learner':<14}{'all steps':>10}{'non-trivial':>13}{'vs modcfg':>11}"
        f"{'cpu ms mean':>13}{'cpu ms p95':>12}{'wall ms p95':>13}"
    )
    for name, tally in tallies.items():
        ratio = tally.open_hits / reference.open_hits if reference.open_hits else 0.0
        cpu = tally.cpu_seconds
        print(
            f"{name:<14}{tally.hits / max(tally.steps, 1):>10.3f}"
            f"{tally.open_hits / max(tally.open_steps, 1):>13.3f}{ratio:>11.3f}"
            f"{1000 * sum(cpu) / max(len(cpu), 1):>13.3f}{_milliseconds(cpu, 0.95):>12.3f}"
            f"{_milliseconds(tally.seconds, 0.95):>13.3f}"
        )
    print(f"steps: {reference.steps}, non-trivial: {reference.open_steps}")


def _show_progress(number: int, tallies: Mapping[str, Tally]) -> None:
    rates = ", ".join(
        f"{name} {tally.open_hits / max(tally.open_steps, 1):.3f}"
        for name, tally in tallies.items()
    )
    print(f"fold {number + 1}: non-trivial so far: {rates}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA, help="the renault data folder")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--cars", type=int, default=None, help="test cars in all (default all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-support", type=int, default=1)
    parser.add_argument("--smoothing", type=float, default=0.5)
    arguments = parser.parse_args(argv)
    catalog = modcfg.io.read_xcsp(arguments.data / "medium.xml")
    sales = modcfg.io.read_sales(arguments.data / "medium_sales.txt", catalog)
    start = time.perf_counter()
    cfg = modcfg.compile(catalog)
    print(f"Renault medium: {len(sales)} sales, compiled in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    tallies = cross_validate(
        cfg,
        sales,
        folds=arguments.folds,
        seed=arguments.seed,
        cars=arguments.cars,
        min_support=arguments.min_support,
        smoothing=arguments.smoothing,
        progress=_show_progress,
    )
    print(f"{arguments.folds}-fold cross-validation in {time.perf_counter() - start:.0f} s")
    print_table(tallies)


if __name__ == "__main__":
    main()
