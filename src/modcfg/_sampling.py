"""Samples of a space of valid configurations: random ones drawn exactly in proportion to a
weight (uniform by default), and t-wise covering samples for test suites.

Random samples are drawn by the engine of the needs' query (:meth:`~.engines.EngineQuery.draws`),
built once per call from its counts: down the decomposition's tree, or down the compiled
engine's circuit for a catalog too entangled for one; each draw is exact (uniform draws are
proportional to exact integer counts) and takes time linear in the slots. Budgets and global
sums, which the counts do not hold, are met by rejection: a draw outside them is drawn again,
which keeps the distribution exact over the configurations that meet them. So are the widest
clauses of a catalog that sets them aside: draws come from its other rules, and those that
break such a clause are drawn again.

A covering sample holds, for every ``strength`` slots and every combination of their values
that some valid configuration has, at least one configuration with that combination. Each
new configuration starts from an uncovered combination. Over the decomposition's tree it then
takes, slot by slot, the value that covers most of the rest among the values that keep it valid
(a compiled pass per slot); over the engines whose passes run in Python or over several terms
(a catalog too entangled for one tree), the rest is one random draw. Which combinations are
possible comes from exact per-value counts, so the coverage reported is against exactly the
feasible combinations.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ._arguments import deadline_after
from ._compiled import CompiledCatalog, NeedsLike
from ._errors import InfeasibleError, LimitExceeded, NeedsError, TimeLimitExceeded
from ._streams import time_up
from .engines import EngineQuery
from .model import Configuration

__all__ = ["Covering", "covering", "sample"]

#: Draws per requested sample before a sample under a budget or sums is given up.
_ATTEMPTS = 1_000
#: Draws between two looks at the clock and the progress callback.
_CHECK_EVERY = 1_024
#: What one sampled configuration holds at least, in bytes: the object, and per slot.
_BYTES_PER_CONFIGURATION, _BYTES_PER_SLOT = 64, 16
#: Combinations a covering sample may have to cover.
_MAX_COMBINATIONS = 2_000_000
#: Most slots left to cover that a covering sample completes greedily, slot by slot.
_GREEDY_SLOTS = 64

Combination = tuple[tuple[int, int], ...]


def _value_weights(
    compiled: CompiledCatalog, weights: Mapping[str, float | int | Decimal | Fraction]
) -> list[list[int]] | list[list[float]]:
    """Per slot and value, the product of its modules' weights (unlisted modules: 1)."""
    catalog = compiled.catalog
    for ref, weight in weights.items():
        slot, _, module = ref.partition(".")
        if slot not in catalog.slots or module not in catalog.slots[slot].modules:
            raise NeedsError(
                f"weights names {ref!r}, which is no module of catalog {catalog.name!r}; "
                "name modules as slot.module"
            )
        if not 0 <= weight < float("inf"):
            raise NeedsError(f"weights[{ref!r}] is {weight}; give a finite weight >= 0")
    exact = all(isinstance(weight, int) for weight in weights.values())
    table: list[list[float]] = []
    for domain in compiled.domains:
        row = []
        for units in domain.units:
            product: Any = 1  # an int when every weight is one, else a float
            for module in dict.fromkeys(m for m, _ in units):
                factor = weights.get(f"{domain.slot}.{module}", 1)
                product = product * (factor if exact else float(factor))
            row.append(product)
        table.append(row)
    return table


def sample(
    compiled: CompiledCatalog,
    n: int,
    needs: NeedsLike,
    *,
    seed: int | None,
    weights: Mapping[str, float | int | Decimal | Fraction] | None,
    time_limit: float | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> list[Configuration]:
    """``n`` random valid configurations (see :meth:`modcfg.Configurator.sample`)."""
    if n < 0:
        raise NeedsError(f"n={n} is negative; ask for n >= 0 configurations")
    held = n * (_BYTES_PER_CONFIGURATION + _BYTES_PER_SLOT * len(compiled.slots))
    if held > compiled.memory_limit:
        raise LimitExceeded(
            f"a sample of n={n:,} configurations would hold about {held / 1e9:.1f} GB, over "
            f"the memory limit of {compiled.memory_limit / 1e9:.1f} GB; draw smaller samples "
            "(each seed gives another), or write a large sample as a feed with to_parquet()",
            estimate=held,
            limit=compiled.memory_limit,
        )
    deadline = deadline_after(time_limit)
    plan = compiled.plan(needs)
    table = None if weights is None else _value_weights(compiled, weights)
    draws = plan.query.draws(table)
    rng = random.Random(seed)
    found: list[Configuration] = []
    attempts = broken = 0  # (broken: draws that break a clause set aside)
    while len(found) < n:
        if attempts % _CHECK_EVERY == 0 and attempts:
            if progress is not None:
                progress(len(found), n)
            if deadline is not None and time.monotonic() > deadline:
                raise time_up(
                    "the sample", time_limit, f"{len(found):,} of n={n:,} draws", fewer="n="
                )
        assignment = draws.draw(rng)
        if assignment is None:
            raise InfeasibleError("no valid configuration meets these needs: nothing to sample")
        attempts += 1
        if not draws.keeps(assignment):
            broken += 1
        elif plan.within_budget(assignment) and plan.holds_sums(assignment):
            found.append(compiled.configuration(assignment))
        if attempts > _ATTEMPTS * (len(found) + 1):
            raise _too_few_kept(attempts, len(found), broken)
    if progress is not None:
        progress(len(found), n)
    return found


def _too_few_kept(attempts: int, kept: int, broken: int) -> LimitExceeded:
    """Why a sample by rejection stopped: what its draws broke (``broken`` of them a clause
    set aside, the others the budget or sums of the needs)."""
    if broken == attempts - kept:
        what = "that meet the catalog's widest clauses, which its other rules leave out"
    elif not broken:
        what = "within the budget and sums of the needs"
    else:
        what = "that meet the catalog's widest clauses and the budget and sums of the needs"
    return LimitExceeded(
        f"{attempts:,} random configurations gave {kept} {what}; they keep too few to sample "
        "by rejection: narrow the needs with require= or forbid= instead"
    )


@dataclass(frozen=True)
class Covering:
    """A t-wise covering sample: ``configurations``, and how many of the ``possible``
    combinations of ``strength`` slots' values they ``covered``."""

    configurations: list[Configuration]
    strength: int
    covered: int
    possible: int

    @property
    def coverage(self) -> float:
        """The share of the possible combinations covered (1.0 when there is none)."""
        return 1.0 if not self.possible else self.covered / self.possible


def _candidates(query: EngineQuery, strength: int) -> int:
    """How many combinations of ``strength`` slots' allowed values there are (the possible
    ones are among them): the elementary symmetric sum of the slots' value counts."""
    sums = [1] + [0] * strength
    for var in range(query.problem.size):
        width = len(query.problem.values(var))
        for t in range(strength, 0, -1):
            sums[t] += sums[t - 1] * width
    return sums[strength]


def _possible(query: EngineQuery, strength: int, deadline: float | None) -> set[Combination]:
    """Every combination of ``strength`` slots' values that some solution has: the options
    of the query restricted to each combination of ``strength - 2`` values, then the pairs
    its :meth:`~modcfg.engines.EngineQuery.supports` allows (one pass for all of them on
    the compiled engine)."""
    found: set[Combination] = set()

    def add(combination: Combination) -> None:
        found.add(combination)
        if len(found) > _MAX_COMBINATIONS:
            raise LimitExceeded(
                f"more than {_MAX_COMBINATIONS:,} combinations of {strength} slots' values to "
                "cover; ask for a lower strength="
            )

    def extend(prefix: Combination, sub: EngineQuery) -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise _TimeUp(f"{len(found):,} combinations found")
        counts = sub.option_counts()
        first = prefix[-1][0] + 1 if prefix else 0
        options = [
            (var, value)
            for var in range(first, len(counts))
            for value, count in enumerate(counts[var])
            if count
        ]
        if len(prefix) + 1 == strength:
            for option in options:
                add((*prefix, option))
        elif len(prefix) + 2 == strength:
            try:
                masks = sub.supports(options, deadline=deadline)
            except TimeLimitExceeded:
                raise _TimeUp(f"{len(found):,} combinations found") from None
            before = 0  # (the options of the slots before var: the low bits of its masks)
            for var in range(first, len(counts)):
                for value, mask in enumerate(masks[var]):
                    mask &= (1 << before) - 1
                    while mask:
                        low = mask & -mask
                        add((*prefix, options[low.bit_length() - 1], (var, value)))
                        mask ^= low
                before += sum(1 for count in counts[var] if count)
        else:
            for option in options:
                extend((*prefix, option), sub.restricted(option[0], frozenset((option[1],))))

    if query.count():
        extend((), query)
    return found


class _Uncovered:
    """The combinations no configuration of a covering sample holds yet: the least one (the
    next configuration's seed), and those a configuration covers, found through each
    combination's first value (so that a configuration costs the combinations that start
    with one of its values, not every combination of its values)."""

    def __init__(self, combinations: set[Combination]) -> None:
        self.left = combinations
        self._order = sorted(combinations)
        self._next = 0
        self._by_first: dict[tuple[int, int], set[Combination]] = {}
        for combination in combinations:
            self._by_first.setdefault(combination[0], set()).add(combination)
        #: Per slot, the uncovered combinations over it.
        self._over = Counter(var for combination in combinations for var, _ in combination)

    def __bool__(self) -> bool:
        return bool(self.left)

    def __len__(self) -> int:
        return len(self.left)

    def least(self) -> Combination:
        if 2 * len(self.left) < len(self._order) - self._next:  # (most are covered)
            self._order = [c for c in self._order[self._next :] if c in self.left]
            self._next = 0
        while self._order[self._next] not in self.left:
            self._next += 1
        return self._order[self._next]

    def slots(self) -> set[int]:
        """The slots of the uncovered combinations."""
        return {var for var, combinations in self._over.items() if combinations}

    def cover(self, assignment: Sequence[int]) -> None:
        """Drop the combinations ``assignment`` (a value per variable) holds."""
        for var, value in enumerate(assignment):
            starting = self._by_first.get((var, value))
            if not starting:
                continue
            held = {
                combination
                for combination in starting
                if all(assignment[other] == chosen for other, chosen in combination[1:])
            }
            starting -= held
            self.left -= held
            self._over.subtract(var for combination in held for var, _ in combination)


class _TimeUp(Exception):
    """A covering sample's time limit passed (carries what was done)."""


def covering(
    compiled: CompiledCatalog, needs: NeedsLike, *, strength: int, time_limit: float | None = None
) -> Covering:
    """A t-wise covering sample (see :meth:`modcfg.Configurator.covering`)."""
    if isinstance(strength, bool) or not isinstance(strength, int) or strength < 1:
        raise NeedsError(f"strength={strength!r} covers nothing; give a whole strength >= 1")
    deadline = deadline_after(time_limit)
    try:
        return _covering(compiled, needs, strength, deadline)
    except _TimeUp as error:
        raise time_up(
            "the covering sample", time_limit, str(error), fewer="a lower strength="
        ) from None


def _covering(
    compiled: CompiledCatalog, needs: NeedsLike, strength: int, deadline: float | None
) -> Covering:
    plan = compiled.plan(needs)
    if plan.problem.resources or plan.cost_bound is not None:
        raise NeedsError(
            "covering samples do not take a budget or rules over global sums; leave the "
            "budget out of the needs"
        )
    query = plan.query
    size = query.problem.size
    strength = min(strength, size) if size else strength
    candidates = _candidates(query, strength)
    if candidates > _MAX_COMBINATIONS:
        raise LimitExceeded(
            f"up to {candidates:,} combinations of {strength} slots' values to cover, more "
            f"than {_MAX_COMBINATIONS:,}; ask for a lower strength= (pairs: 2)",
            estimate=candidates,
            limit=_MAX_COMBINATIONS,
        )
    uncovered = _Uncovered(_possible(query, strength, deadline))
    possible = len(uncovered)
    chosen: list[Configuration] = []
    rng = random.Random(0)  # (the same sample at every call)
    while uncovered:
        if deadline is not None and time.monotonic() > deadline:
            raise _TimeUp(
                f"{len(chosen):,} configurations covering {possible - len(uncovered):,}"
                f" of {possible:,} combinations"
            )
        seed = uncovered.least()
        sub = query
        for var, value in seed:
            sub = sub.restricted(var, frozenset((value,)))
        # (the greedy completion costs a pass per slot left to cover: on a tree of
        # hundreds of slots, a random draw covers about as much in a fraction of the time)
        if plan.cheap_passes and len(needed := uncovered.slots()) <= _GREEDY_SLOTS:
            assignment = _greedy(sub, dict(seed), uncovered.left, strength, needed, deadline)
        else:
            assignment = _drawn(sub, rng)
        uncovered.cover(assignment)
        chosen.append(compiled.configuration(assignment))
    return Covering(chosen, strength, possible, possible)


def _greedy(
    sub: EngineQuery,
    fixed: dict[int, int],
    uncovered: set[Combination],
    strength: int,
    needed: set[int],
    deadline: float | None,
) -> list[int]:
    """A solution of ``sub`` (the seed's values ``fixed``) that covers many uncovered
    combinations: slot after slot, the value that covers most of them among those that keep
    it valid (a pass of every option's counts per slot). The slots of no uncovered
    combination (not in ``needed``) cover nothing whatever their value: they take the values
    of any solution of the others (one walk, not a pass per slot)."""
    size = sub.problem.size
    for var in range(size):
        if var in fixed or var not in needed:
            continue
        if deadline is not None and time.monotonic() > deadline:
            raise _TimeUp(f"{len(fixed):,} slots of a configuration chosen")
        options = [v for v, count in enumerate(sub.option_counts()[var]) if count]
        value = max(options, key=lambda v: (_gain(uncovered, fixed, var, v, strength), -v))
        sub = sub.restricted(var, frozenset((value,)))
        fixed[var] = value
    rest = next(iter(sub.solutions())) if len(fixed) < size else []
    return [fixed[var] if var in fixed else rest[var] for var in range(size)]


def _drawn(sub: EngineQuery, rng: random.Random) -> list[int]:
    """A random solution of ``sub`` (uniform): where a pass of every option's counts costs
    a pass in Python or several terms' passes, or the slots left to cover are too many for a
    pass each, one draw per configuration rather than a pass per slot; random
    configurations cover many combinations each."""
    draws = sub.draws(None)
    for _ in range(_ATTEMPTS):
        assignment = draws.draw(rng)
        assert assignment is not None  # (the seed is a possible combination)
        if draws.keeps(assignment):
            return assignment
    raise _too_few_kept(_ATTEMPTS, 0, _ATTEMPTS)


def _gain(
    uncovered: set[Combination], fixed: dict[int, int], var: int, value: int, strength: int
) -> int:
    """How many uncovered combinations ``var = value`` would cover with the fixed slots."""
    gain = 0
    for others in itertools.combinations(sorted(fixed.items()), strength - 1):
        if tuple(sorted((*others, (var, value)))) in uncovered:
            gain += 1
    return gain
