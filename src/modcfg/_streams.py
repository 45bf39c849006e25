"""Streams of valid configurations: enumeration (lazy, in batches, or expanded at once), the
assignments of each engine, and the ranked searches behind ``best`` and sessions."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

import numpy as np

from ._collector import pause_collector, resume_collector
from ._errors import LimitExceeded, NeedsError
from ._plan import _Plan, engine_of, independent, plan_of
from .engines._closed_form import IndependentQuery
from .engines.decomposition import TreeQuery
from .engines.decomposition._sums import solutions_within
from .model import Configuration
from .model._configuration import Choice
from .price import Quote, quote

if TYPE_CHECKING:
    from ._configurator import Configurator, Engine, NeedsLike, Order, Progress

#: Up to this many solutions, enumeration expands them all at once (vectorised).
_MATERIALISE = 500_000
#: Expansion speed (configurations x slots per second) assumed, conservatively, when a time
#: limit must be honoured: an expansion cannot stop half-way, so a larger one walks instead.
_EXPANDED_PER_SECOND = 4_000_000
#: Rows turned into Python objects at a time when a materialised space is streamed (small:
#: the temporary rows die young instead of filling the collector's oldest generation).
_CHUNK = 1024
#: Configurations made at a time by a stream (see ``Configurator.configurations``).
_BATCH = 1024


def configurations(
    cfg: Configurator,
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
    plan = plan_of(cfg, needs)
    deadline = None if time_limit is None else time.monotonic() + time_limit
    total = None
    if progress is not None and not plan.problem.resources and plan.cost_bound is None:
        total = plan.query.count()
    make, slots, index = Configuration._from_values, cfg._slots, cfg._slot_index
    rows: Iterator[tuple[Choice, ...]]
    size = _BATCH  # configurations made at a time (searches start small, see below)
    if order is None and engine != "cpsat" and independent(plan):
        # no rule ties the slots: every combination of the allowed choices is valid
        problem = plan.problem
        rows = itertools.product(
            *(
                [choices[v] for v in problem.values(var)]
                for var, choices in enumerate(cfg._choice_lists)
            )
        )
    elif (
        order is None
        and engine_of(plan, engine, "enumerate") != "cpsat"
        and materialises(cfg, plan, deadline)
    ):
        rows = choice_rows(cfg, plan)  # the whole (moderate) space, vectorised
    else:
        stream = assignments(cfg, plan, order=order, engine=engine, deadline=deadline)
        rows = (tuple(map(tuple.__getitem__, cfg._choice_lists, a)) for a in stream)
        size = 1  # the first ones come at once: batches of 1, 1, 2, 4, ... up to _BATCH
    # made in batches with the collector paused: made one by one, a long stream triggers
    # a collection every few hundred configurations (which all survive), and now and then
    # a full one over the whole process, costing several times the making; the collector
    # runs whenever the stream yields
    rows = iter(rows)
    produced, reported = 0, 0
    while limit is None or produced < limit:
        wanted = size if limit is None else min(size, limit - produced)
        paused = pause_collector()
        try:
            batch = [make(slots, values, index) for values in itertools.islice(rows, wanted)]
        except LimitExceeded as error:
            if deadline is None:
                raise
            # the search passed the deadline
            raise time_up("the enumeration", time_limit, f"{produced} configurations") from error
        finally:
            if paused:
                resume_collector()
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
    cfg: Configurator, plan: _Plan, *, order: Order, engine: Engine, deadline: float | None
) -> Iterator[list[int]]:
    """Valid assignments (``order="price"``: by key); every search reads ``deadline``
    (a :func:`time.monotonic` value) and raises :class:`LimitExceeded` once it passes."""
    if order is None and engine != "cpsat" and (plan.global_sums or plan.cost_bound is not None):
        # guided by the sums' distributions: only into choices that still fit the bounds
        problem, query = plan.problem, plan.query
        time_limit = None if deadline is None else max(0.0, deadline - time.monotonic())
        guided = solutions_within(query, problem.resources, plan.cost_bound, time_limit=time_limit)
        if guided is None and problem.resources:  # too wide with the budget: without it
            guided = solutions_within(query, problem.resources, None, time_limit=time_limit)
        for assignment in query.solutions() if guided is None else guided:
            if cfg._within_budget(plan, assignment) and cfg._holds_sums(plan, assignment):
                yield assignment
        return
    if engine_of(plan, engine, "enumerate") == "cpsat":
        from .engines.cpsat._engine import CpSatEngine  # imports ortools only when needed

        solver = CpSatEngine(plan.problem, cost_bound=plan.cost_bound, scale=plan.query.scale)
        time_limit = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        if order == "price":
            for _, assignment in solver.by_key(time_limit=time_limit):
                yield assignment
        else:
            yield from solver.solutions(limit=None, time_limit=time_limit)
        return
    if order == "price":
        closed = plan.closed_form
        ranked = plan.query.by_key(deadline=deadline) if closed is None else closed.by_key()
        for _, assignment in ranked:
            if not cfg._within_budget(plan, assignment):
                return
            if cfg._holds_sums(plan, assignment):
                yield assignment
        return
    if independent(plan):
        values = [plan.problem.values(var) for var in range(plan.problem.size)]
        for combo in itertools.product(*values):
            yield list(combo)
        return
    query = plan.query
    if materialises(cfg, plan, deadline):
        kept = solution_rows(plan)
        for start in range(0, len(kept), _CHUNK):  # bounded lists, not one huge one
            rows: list[list[int]] = kept[start : start + _CHUNK].tolist()
            yield from rows
        return
    for assignment in query.solutions(deadline=deadline):
        if cfg._within_budget(plan, assignment) and cfg._holds_sums(plan, assignment):
            yield assignment


def materialises(cfg: Configurator, plan: _Plan, deadline: float | None) -> bool:
    """Whether to expand the whole space at once (vectorised): when it is moderate, and
    small enough to be expanded well within the deadline, if any."""
    size = plan.query.count()
    if size > _MATERIALISE:
        return False
    if deadline is None:
        return True
    return size * len(cfg._slots) <= _EXPANDED_PER_SECOND * (deadline - time.monotonic())


def solution_rows(plan: _Plan) -> np.ndarray:
    """Every valid configuration at once, as value indexes (configurations x slots)."""
    solutions, cost = plan.query.solution_array()
    keep = np.ones(len(cost), dtype=bool)
    if plan.cost_bound is not None:
        keep &= cost <= plan.cost_bound
    for resource in plan.problem.resources:
        totals = np.zeros(len(cost), dtype=np.int64)
        for var in range(plan.problem.size):
            weights = np.asarray(resource.weights[var], dtype=np.int64)
            totals += weights[solutions[:, var]]
        keep &= np.fromiter((resource.holds(int(t)) for t in totals), dtype=bool)
    kept: np.ndarray = solutions[keep]
    return kept


def choice_rows(cfg: Configurator, plan: _Plan) -> Iterator[tuple[Choice, ...]]:
    """:func:`solution_rows` turned into the slots' choices, a chunk at a time."""
    kept = solution_rows(plan)
    columns = []
    for choices in cfg._choice_lists:
        column = np.empty(len(choices), dtype=object)
        for value, choice in enumerate(choices):
            column[value] = choice  # one by one: choices are never split into items
        columns.append(column)
    for start in range(0, len(kept), _CHUNK):
        block = kept[start : start + _CHUNK]
        table = np.empty(block.shape, dtype=object)
        for var, column in enumerate(columns):
            table[:, var] = column[block[:, var]]
        yield from map(tuple, table.tolist())


def ordered(
    cfg: Configurator,
    plan: _Plan,
    query: TreeQuery | IndependentQuery,
    *,
    strategy: Literal["cheapest", "preferred"],
) -> Iterator[Configuration]:
    """Valid configurations of ``query`` (needs and choices applied), best first."""
    ranked: Iterator[tuple[int, list[int]]]
    if isinstance(query, IndependentQuery):
        ranked = query.by_key(preference_first=strategy == "preferred")
    elif strategy == "preferred":
        ranked = TreeQuery(query.tree, query.problem, preference_first=True).by_key()
    else:
        ranked = query.by_key()
    for _, assignment in ranked:
        if strategy == "cheapest" and not cfg._within_budget(plan, assignment):
            return
        if cfg._within_budget(plan, assignment) and cfg._holds_sums(plan, assignment):
            yield cfg._to_configuration(assignment)


def collect_best(
    cfg: Configurator,
    plan: _Plan,
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
    for assignment in assignments(cfg, plan, order="price", engine=engine, deadline=deadline):
        if deadline is not None and time.monotonic() > deadline:
            raise LimitExceeded("the deadline passed")
        result = quote(
            cfg.catalog,
            cfg._to_configuration(assignment),
            resolved,
            lines_of=cfg._quote_lines,
        )
        if kth is not None and (
            result.total > kth.total
            or result.unit_price == kth.unit_price
            or kth.score >= top_score
        ):
            # later ones cost more, or cost the same with no higher score (none can score
            # higher than the k-th when it has every positive preference)
            return
        quotes.append(result)
        if len(quotes) <= k and progress is not None:
            progress(len(quotes), k)
        if len(quotes) == k:
            kth = result


def time_up(
    what: str, time_limit: float | None, done: str, *, fewer: str = "limit="
) -> LimitExceeded:
    """The error of a call that passed its ``time_limit``, saying what it had done."""
    return LimitExceeded(
        f"{what} passed time_limit={time_limit} s after {done}; raise time_limit=, or ask "
        f"for fewer with {fewer}"
    )
