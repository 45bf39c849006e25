"""Streams of valid configurations: enumeration (lazy, in batches, or expanded at once), the
assignments of each engine, and the ranked searches behind ``best`` and sessions."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

import numpy as np

from ._arguments import deadline_after
from ._compiled import CompiledCatalog, NeedsLike
from ._errors import LimitExceeded, NeedsError, TimeLimitExceeded
from ._plan import Engine, Job, Plan
from .engines import Bounds, EngineQuery
from .engines.compiled import ranking
from .model import Configuration
from .model._configuration import Choice
from .price import Quote, quote, to_minor_units

if TYPE_CHECKING:
    from ._configurator import Order, Progress

#: Up to this many solutions, the compiled engine's enumeration expands them all at once.
_MATERIALISE = 500_000
#: Configurations the decomposition's vectorised walk makes at a time.
_BLOCK = 4096
#: Expansion speed (configurations x slots per second) assumed, conservatively, when a time
#: limit must be honoured: an expansion cannot stop half-way, so a larger one walks instead.
_EXPANDED_PER_SECOND = 4_000_000
#: Rows turned into Python objects at a time when a materialised space is streamed (small:
#: the temporary rows die young instead of filling the collector's oldest generation).
_CHUNK = 1024
#: Configurations made at a time by a stream (see ``Configurator.configurations``).
_BATCH = 1024


def configurations(
    compiled: CompiledCatalog,
    needs: NeedsLike,
    *,
    order: Order,
    limit: int | None,
    engine: Engine,
    time_limit: float | None,
    progress: Progress | None,
) -> Iterator[Configuration]:
    """The stream of :meth:`Configurator.configurations` (checked and planned when first
    read, as a generator)."""
    if order not in (None, "price"):
        raise NeedsError(f"order={order!r} is unknown; use order=None or order='price'")
    if limit is not None and limit < 0:
        raise NeedsError(f"limit={limit} is negative; give limit >= 0 (or None for all)")
    plan = compiled.plan(needs)
    deadline = deadline_after(time_limit)
    total = None
    if progress is not None and not plan.problem.resources and plan.cost_bound is None:
        total = plan.query.count()
    make, slots, index = Configuration.from_values, compiled.slots, compiled.slot_index
    rows: Iterator[tuple[Choice, ...]]
    size = _BATCH  # configurations made at a time (searches start small, see below)
    if order is None and engine != "cpsat" and plan.independent:
        # no rule ties the slots: every combination of the allowed choices is valid
        problem = plan.problem
        rows = itertools.product(
            *(
                [choices[v] for v in problem.values(var)]
                for var, choices in enumerate(compiled.choice_lists)
            )
        )
    elif (
        order is None
        and plan.engine_of(engine, "enumerate") != "cpsat"
        and vectorised(plan, deadline)
    ):
        rows = choice_rows(compiled, plan)
    else:
        stream = assignments(plan, order=order, engine=engine, deadline=deadline)
        choice_lists = compiled.choice_lists
        rows = (tuple(map(tuple.__getitem__, choice_lists, a)) for a in stream)
        size = 1  # the first ones come at once: batches of 1, 1, 2, 4, ... up to _BATCH
    rows = iter(rows)
    produced, reported = 0, 0
    while limit is None or produced < limit:
        wanted = size if limit is None else min(size, limit - produced)
        try:
            batch = [make(slots, values, index) for values in itertools.islice(rows, wanted)]
        except LimitExceeded as error:
            if deadline is None:
                raise
            # the search passed the deadline
            raise time_up("the enumeration", time_limit, f"{produced} configurations") from error
        if deadline is None:
            yield from batch
        else:  # the caller's loop counts too: read the clock before each one
            for done, configuration in enumerate(batch, produced):
                if time.monotonic() > deadline:
                    raise time_up("the enumeration", time_limit, f"{done} configurations")
                yield configuration
        produced += len(batch)
        if produced - reported >= _BATCH:
            reported = produced
            if progress is not None:
                progress(produced, total)
        if len(batch) < wanted:
            return
        size = min(produced, _BATCH)  # 1, 1, 2, 4, ...: reports fall on multiples of it


def assignments(
    plan: Plan, *, order: Order, engine: Engine, deadline: float | None
) -> Iterator[list[int]]:
    """Valid assignments (``order="price"``: by key); every search reads ``deadline``
    (a :func:`time.monotonic` value) and raises :class:`LimitExceeded` once it passes."""
    bounds = plan.bounds
    walk = order
    if order is None and engine != "cpsat" and not bounds.unbounded:
        # guided by the sums' distributions: only into choices that still fit the bounds
        query = plan.query
        time_limit = None if deadline is None else max(0.0, deadline - time.monotonic())
        guided = query.solutions_within(bounds, time_limit=time_limit)
        if guided is None and bounds.resources:  # too wide with the budget: without it
            guided = query.solutions_within(Bounds(bounds.resources), time_limit=time_limit)
        if guided is not None or bounds.cost_bound is None:
            # (unguided: every configuration is tried against the totals, until the deadline)
            every = query.solutions(deadline=deadline) if guided is None else guided
            for assignment in every:
                if plan.within_budget(assignment) and plan.holds_sums(assignment):
                    yield assignment
            return
        # a budget whose partial sums are too many to guide the walk: cheapest first, which
        # reaches every configuration within it before any beyond it
        walk = "price"
    job: Job = "enumerate" if walk is None else "rank"
    query = plan.engine_query(engine, job, deadline=deadline)
    if walk == "price":
        for _, assignment in query.by_key_within(bounds, deadline=deadline):
            yield assignment
        return
    if plan.engine_of(engine, job) == "cpsat":
        time_limit = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        guided = query.solutions_within(bounds, time_limit=time_limit)
        yield from query.solutions(deadline=deadline) if guided is None else guided
        return
    if plan.independent:
        values = [plan.problem.values(var) for var in range(plan.problem.size)]
        for combo in itertools.product(*values):
            yield list(combo)
        return
    if vectorised(plan, deadline):
        for kept in solution_chunks(plan):
            for start in range(0, len(kept), _CHUNK):  # bounded lists, not one huge one
                rows: list[list[int]] = kept[start : start + _CHUNK].tolist()
                yield from rows
        return
    for assignment in query.solutions(deadline=deadline):
        if plan.within_budget(assignment) and plan.holds_sums(assignment):
            yield assignment


def vectorised(plan: Plan, deadline: float | None) -> bool:
    """Whether to enumerate the space with vectorised walks (see :func:`solution_chunks`)
    rather than one search step per configuration: always on the decomposition without a
    budget or global sums, whose walk yields bounded blocks; otherwise (the walk then
    filters, and the compiled engine expands its solutions at once) when they are moderate
    and few enough to be walked well within the deadline, if any. (Under bounds, a larger
    space is searched guided by the sums, which never walks configurations it must refuse.)"""
    if plan.walks_in_blocks and plan.bounds.unbounded:
        return True
    size = plan.query.count()
    if size > _MATERIALISE:
        return False
    if deadline is None:
        return True
    return size * plan.problem.size <= _EXPANDED_PER_SECOND * (deadline - time.monotonic())


def kept_columns(plan: Plan, values: np.ndarray, cost: np.ndarray) -> np.ndarray | None:
    """Which configurations of a block (value indexes, slots x configurations, and unit
    costs) the plan's budget and global sums keep (None: all)."""
    if plan.bounds.unbounded:
        return None
    keep = np.ones(len(cost), dtype=bool)
    if plan.cost_bound is not None:
        keep &= cost <= plan.cost_bound
    for resource in plan.problem.resources:
        totals = np.zeros(len(cost), dtype=np.int64)
        for var, weights in enumerate(resource.weights):
            totals += np.asarray(weights, dtype=np.int64)[values[var]]
        keep &= np.fromiter((resource.holds(int(t)) for t in totals), dtype=bool, count=len(keep))
    return keep


def solution_chunks(plan: Plan) -> Iterator[np.ndarray]:
    """Every valid configuration once, as value indexes (configurations x slots), a block at
    a time: the decomposition's walk, whose memory is one block's however many there are, or
    the compiled engine's array of its solutions."""
    for values, cost in plan.solution_blocks(_BLOCK):
        keep = kept_columns(plan, values, cost)
        chunk = values.T if keep is None else values[:, keep].T
        if len(chunk):
            yield chunk


def choice_rows(compiled: CompiledCatalog, plan: Plan) -> Iterator[tuple[Choice, ...]]:
    """:func:`solution_chunks` turned into the slots' choices, a chunk at a time."""
    columns = []
    for choices in compiled.choice_lists:
        column = np.empty(len(choices), dtype=object)
        for value, choice in enumerate(choices):
            column[value] = choice  # one by one: choices are never split into items
        columns.append(column)
    for kept in solution_chunks(plan):
        if not columns:  # a catalog without slots: one empty configuration, if any
            yield from [()] * len(kept)
            continue
        for start in range(0, len(kept), _CHUNK):
            block = kept[start : start + _CHUNK]
            # a list per slot, zipped into one tuple per configuration (no list per row)
            lists = [column[block[:, var]].tolist() for var, column in enumerate(columns)]
            yield from zip(*lists, strict=True)


def ordered(
    compiled: CompiledCatalog,
    plan: Plan,
    query: EngineQuery,
    *,
    strategy: Literal["cheapest", "preferred"],
    deadline: float | None = None,
) -> Iterator[Configuration]:
    """Valid configurations of ``query`` (needs and choices applied), best first (ranked by
    CP-SAT over the same problem when ``query``'s engine does not rank them);
    :class:`LimitExceeded` once ``deadline`` (:func:`time.monotonic`) passes."""
    query = ranking(query, deadline=deadline)
    preference_first = strategy == "preferred"
    for _, assignment in query.by_key(deadline=deadline, preference_first=preference_first):
        if strategy == "cheapest" and not plan.within_budget(assignment):
            return
        if plan.within_budget(assignment) and plan.holds_sums(assignment):
            yield compiled.configuration(assignment)


def collect_best(
    compiled: CompiledCatalog,
    plan: Plan,
    k: int,
    engine: Engine,
    deadline: float | None,
    quotes: list[Quote],
    progress: Progress | None,
) -> None:
    """Append to ``quotes`` the configurations, by key, that may be among the ``k`` best."""
    resolved = plan.resolved
    # no configuration scores above every positive preference weight
    top_score = sum(max(weight, 0) for weight in resolved.prefer.values()) if resolved else 0
    kth: Quote | None = None
    ties_above = False  # whether a dearer unit price can come to the k-th's total
    for assignment in assignments(plan, order="price", engine=engine, deadline=deadline):
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitExceeded("the deadline passed")
        result = quote(
            compiled.catalog,
            compiled.configuration(assignment),
            resolved,
            lines_of=compiled.quote_lines,
        )
        if kth is not None:
            if result.total > kth.total or kth.score >= top_score:
                return  # later ones cost more (none scores above every positive preference)
            if result.unit_price == kth.unit_price:
                # the same price comes with no higher score; a dearer one may still come to
                # the same total (a financed total is rounded)
                if not ties_above:
                    return
                continue
        quotes.append(result)
        if len(quotes) <= k and progress is not None:
            progress(len(quotes), k)
        if len(quotes) == k:
            kth = result
            ties_above = _ties_above(plan, kth)


def _ties_above(plan: Plan, kth: Quote) -> bool:
    """Whether a unit price above the ``kth`` quote's can come to the same total: totals
    grow with the unit price, so it is enough that the next one up (a minor unit more) does
    (financing rounds: on 12 instalments, 1.90 and 1.95 both come to 2.04)."""
    cost = to_minor_units(plan.problem.catalog, kth.unit_price)
    return plan.total_of(cost + 1) <= kth.total


def time_up(
    what: str, time_limit: float | None, done: str, *, fewer: str = "limit="
) -> TimeLimitExceeded:
    """The error of a call that passed its ``time_limit``, saying what it had done."""
    return TimeLimitExceeded(
        f"{what} passed time_limit={time_limit} s after {done}; raise time_limit=, or ask "
        f"for fewer with {fewer}"
    )
