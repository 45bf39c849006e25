"""Product feeds: valid configurations as columns (Arrow record batches, Parquet), and the
space split into partitions of exactly known sizes.

A feed row is one valid configuration: one dictionary-encoded column per slot (int32 codes
into the slot's choices: the module id, ``a*2+b`` for a multi-select slot's quantities, null
for an optional slot left empty) and the quote total in minor units (int64). Rows come from the
decomposition engine's blocks (:func:`~modcfg.engines.decomposition.solution_blocks`): no
Python object is made per row. A catalog too entangled for one tree is walked by its engine
(:meth:`~modcfg.engines.EngineQuery.blocks`): the tree of its rules but the widest clauses, the
rows that break one of those dropped from each block, or the compiled engine's solutions
gathered into blocks.

A :class:`Partition` is a set of *prefixes*, each fixing a few slots to one value; the
prefixes of all partitions of a space are disjoint and cover it, so every configuration is in
exactly one partition, and each partition's ``rows`` is its exact number of configurations
(under the needs, budget and global sums included). Partitions of the same catalog and needs
are the same on every machine: a partition is enumerated, priced and written on its own, in
any process, in any order, and again after a failure.

pyarrow is imported by the functions that build batches only (the ``feed`` extra).
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._arguments import deadline_after
from ._compiled import CompiledCatalog, NeedsLike
from ._errors import LimitExceeded, ModcfgError, NeedsError
from ._memory import check_memory
from ._plan import Plan
from ._streams import kept_columns, time_up
from .engines import EngineQuery
from .model import Quantities
from .price import total_factor

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "Partition",
    "batches",
    "choice_label",
    "feed_schema",
    "partition_query",
    "partitions",
    "require",
    "write_parquet",
]

#: Prefixes a split may make before it gives up (each costs a restricted query).
_MAX_PREFIXES = 200_000
#: Most partitions made at once (each is a feed of its own, written and redone alone).
_MAX_PARTITIONS = 100_000
#: Unit costs times the order's quantity stay exact in int64 below this.
_FACTOR_SAFE = 1 << 62
#: Bytes a row of a price-ordered feed needs while it is sorted (codes, costs, order).
_SORT_ROW_BYTES = 24


def require(module: str, extra: str) -> Any:
    """Import an optional dependency, or say which extra brings it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise ModcfgError(
            f"this needs the optional package {module!r}; install it with "
            f"pip install 'modcfg[{extra}]'"
        ) from error


@dataclass(frozen=True)
class Partition:
    """A part of a space of valid configurations: the configurations that agree with one of
    its ``prefixes`` (each a tuple of ``(slot index, value index)`` pairs), ``rows`` of them
    exactly. ``index`` numbers the partitions of one split from 0."""

    index: int
    prefixes: tuple[tuple[tuple[int, int], ...], ...]
    rows: int


def choice_label(choice: str | Quantities | None) -> str | None:
    """A slot's choice as a feed writes it: the module id, ``a*2+b`` for quantities (sorted by
    module; a quantity of 1 is not written), None for an empty optional slot."""
    if choice is None or isinstance(choice, str):
        return choice
    return "+".join(m if q == 1 else f"{m}*{q}" for m, q in sorted(choice.items()))


def feed_schema(compiled: CompiledCatalog, price_column: str | None) -> pa.Schema:
    """The Arrow schema of a feed: a dictionary column per slot, then the price column."""
    pa = require("pyarrow", "feed")
    fields = [pa.field(slot, pa.dictionary(pa.int32(), pa.string())) for slot in compiled.slots]
    if price_column is not None:
        if price_column in compiled.slot_index:
            raise NeedsError(
                f"price_column={price_column!r} is also a slot of catalog "
                f"{compiled.catalog.name!r}; pick another name for the price column"
            )
        fields.append(pa.field(price_column, pa.int64(), nullable=False))
    return pa.schema(fields)


def partition_query(plan: Plan, prefix: Sequence[tuple[int, int]]) -> EngineQuery:
    """The plan's query with the prefix's slots fixed."""
    query = plan.query
    for var, value in prefix:
        query = query.restricted(var, frozenset((value,)))
    return query


def _exact_rows(plan: Plan, query: EngineQuery) -> int:
    """The configurations of ``query`` that the plan's sums and budget keep."""
    if plan.problem.resources or plan.cost_bound is not None:
        return query.count_within(plan.bounds)
    return query.count()


def _split_var(query: EngineQuery, fixed: set[int]) -> tuple[int, list[int]] | None:
    """The slot whose values split ``query`` most evenly (its largest part is the smallest),
    with each value's count; None when no free slot has two values left."""
    best: tuple[int, int, list[int]] | None = None
    for var, counts in enumerate(query.option_counts()):
        if var in fixed:
            continue
        if sum(1 for count in counts if count) < 2:
            continue
        largest = max(counts)
        if best is None or largest < best[0]:
            best = (largest, var, counts)
    return None if best is None else (best[1], best[2])


def partitions(
    compiled: CompiledCatalog, needs: NeedsLike, *, rows: int, time_limit: float | None = None
) -> list[Partition]:
    """The space of the needs split into partitions of at most ``rows`` configurations
    (see :meth:`modcfg.Configurator.partitions`)."""
    if rows < 1:
        raise NeedsError(f"rows={rows} leaves no room in a partition; give rows >= 1")
    deadline = deadline_after(time_limit)
    plan = compiled.plan(needs)
    leaves: list[tuple[tuple[tuple[int, int], ...], int]] = []
    whole = plan.query
    # every partition holds at most rows (a budget's rows are counted as the split goes)
    total = whole.count()
    if plan.bounds.unbounded and total > rows * _MAX_PARTITIONS:
        least = -(-total // _MAX_PARTITIONS)
        raise LimitExceeded(
            f"{total:,} configurations in partitions of rows={rows:,} make more than "
            f"{_MAX_PARTITIONS:,} partitions; give a larger rows= (at least {least:,}), or "
            "narrow the needs",
            estimate=-(-total // rows),
            limit=_MAX_PARTITIONS,
        )
    stack: list[tuple[tuple[tuple[int, int], ...], EngineQuery, int]] = [((), whole, total)]
    made = 0
    while stack:
        if deadline is not None and time.monotonic() > deadline:
            done = f"{len(leaves):,} partitions"
            raise time_up("splitting into partitions", time_limit, done, fewer="rows=")
        prefix, query, count = stack.pop()
        split = _split_var(query, {var for var, _ in prefix}) if count > rows else None
        if split is None:
            exact = count if count <= rows and plan.bounds.unbounded else _exact_rows(plan, query)
            if exact:
                leaves.append((prefix, exact))
            continue
        var, counts = split
        made += len(counts)
        if made > _MAX_PREFIXES:
            raise LimitExceeded(
                f"splitting into partitions of rows={rows} needs more than {_MAX_PREFIXES:,} "
                "prefixes; give a larger rows="
            )
        children = [
            ((*prefix, (var, value)), query.restricted(var, frozenset((value,))), sub)
            for value, sub in enumerate(counts)
            if sub
        ]
        stack.extend(reversed(children))  # depth first, in value order
    return _pack(leaves, rows)


def _pack(leaves: list[tuple[tuple[tuple[int, int], ...], int]], rows: int) -> list[Partition]:
    """Consecutive prefixes joined while their rows fit ``rows``."""
    packed: list[Partition] = []
    group: list[tuple[tuple[int, int], ...]] = []
    size = 0
    for prefix, count in leaves:
        if group and size + count > rows:
            packed.append(Partition(len(packed), tuple(group), size))
            group, size = [], 0
        group.append(prefix)
        size += count
    if group:
        packed.append(Partition(len(packed), tuple(group), size))
    return packed


class _Pricer:
    """Unit costs (minor units) to quote totals in minor units under a plan: each distinct
    cost is priced once (exactly, by the plan) and kept in sorted arrays, so a block is
    priced by one vectorised look-up."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.scale = Decimal(10) ** plan.problem.catalog.decimals
        self.costs = np.zeros(0, dtype=np.int64)
        self.totals = np.zeros(0, dtype=np.int64)
        #: the total is exactly unit x factor when the needs add nothing at the order level
        self.factor = total_factor(plan.problem.catalog, plan.resolved)

    def _positions(self, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each cost is (or would go) among the known ones, and whether it is there."""
        positions = np.searchsorted(self.costs, cost)
        if not len(self.costs):
            return positions, np.zeros(len(cost), dtype=bool)
        found = self.costs[np.minimum(positions, len(self.costs) - 1)] == cost
        return positions, found

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        if self.factor is not None and (
            not len(cost) or int(np.abs(cost).max()) <= _FACTOR_SAFE // max(self.factor, 1)
        ):
            scaled: np.ndarray = cost * self.factor
            return scaled
        positions, found = self._positions(cost)
        if not found.all():
            new = np.unique(cost[~found])
            totals = [int(self.plan.total_of(unit) * self.scale) for unit in new.tolist()]
            costs = np.concatenate((self.costs, new))
            order = np.argsort(costs, kind="stable")
            self.costs = costs[order]
            self.totals = np.concatenate((self.totals, np.array(totals, dtype=np.int64)))[order]
            positions, found = self._positions(cost)
        priced: np.ndarray = self.totals[positions]
        return priced


def _blocks(
    plan: Plan,
    prefixes: Sequence[tuple[tuple[int, int], ...]],
    size: int,
    check: Callable[[], None] = lambda: None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Value indexes (slots x rows) and unit costs of the prefixes' configurations that the
    plan keeps, a block of at most ``size`` at a time (``check()`` after each block walked,
    kept or not: it raises when the feed's time is up)."""
    # Arrow takes the blocks without a copy, so they may as well come from its memory pool,
    # which reuses the memory of the batches already dropped instead of asking the system
    # for fresh (cleared) pages per block
    allocate = require("pyarrow", "feed").allocate_buffer
    for prefix in prefixes:
        query = partition_query(plan, prefix)
        for values, cost in query.blocks(size, allocate=allocate):
            check()
            keep = kept_columns(plan, values, cost)
            if keep is None:
                yield values, cost
            elif keep.any():
                yield values[:, keep], cost[keep]


#: Each catalog's dictionaries (Arrow arrays are immutable: every feed shares them).
_DICTIONARIES: weakref.WeakKeyDictionary[CompiledCatalog, list[pa.Array]] = (
    weakref.WeakKeyDictionary()
)


def _dictionaries(compiled: CompiledCatalog) -> list[pa.Array]:
    """Per slot, the labels of its choices (the dictionary its codes index)."""
    found = _DICTIONARIES.get(compiled)
    if found is None:
        arrow = require("pyarrow", "feed")
        # Parquet takes no null inside a dictionary: an empty optional slot is a null code
        found = _DICTIONARIES[compiled] = [
            arrow.array([choice_label(choice) or "" for choice in choices], type=arrow.string())
            for choices in compiled.choice_lists
        ]
    return found


def batches(
    compiled: CompiledCatalog,
    needs: NeedsLike,
    *,
    size: int,
    order: Literal["price"] | None,
    partition: Partition | None,
    price_column: str | None,
    time_limit: float | None = None,
) -> Iterator[pa.RecordBatch]:
    """The feed's record batches (see :meth:`modcfg.Configurator.batches`)."""
    deadline = deadline_after(time_limit)
    if size < 1:
        raise NeedsError(f"size={size} holds no row; give size >= 1")
    if order not in (None, "price"):
        raise NeedsError(f"order={order!r} is unknown; use order=None or order='price'")
    arrow = require("pyarrow", "feed")
    schema = feed_schema(compiled, price_column)
    plan = compiled.plan(needs)
    dictionaries = _dictionaries(compiled)
    empty = [choices.index(None) if None in choices else -1 for choices in compiled.choice_lists]
    pricer = _Pricer(plan)
    prefixes = partition.prefixes if partition is not None else ((),)
    made = 0

    def check() -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise time_up("the feed", time_limit, f"{made:,} rows", fewer="partition=")

    blocks = _blocks(plan, prefixes, size, check)
    if order == "price":
        blocks = _by_price(compiled, plan, prefixes, pricer, size, check)

    def batch(values: np.ndarray, cost: np.ndarray) -> pa.RecordBatch:
        # the codes are the engine's value indexes, in range by construction: Arrow's check
        # of every code against the dictionary would cost more than the walk that made them
        columns = [
            arrow.DictionaryArray.from_arrays(
                arrow.array(
                    values[var], mask=values[var] == empty[var] if empty[var] >= 0 else None
                ),
                dictionary,
                safe=False,
            )
            for var, dictionary in enumerate(dictionaries)
        ]
        if price_column is not None:
            columns.append(arrow.array(pricer(cost)))
        return arrow.RecordBatch.from_arrays(columns, schema=schema)

    for values, cost in blocks:
        for start in range(0, len(cost), size):
            check()
            rows = batch(values[:, start : start + size], cost[start : start + size])
            made += rows.num_rows
            yield rows


def _by_price(
    compiled: CompiledCatalog,
    plan: Plan,
    prefixes: Sequence[tuple[tuple[int, int], ...]],
    pricer: _Pricer,
    size: int,
    check: Callable[[], None],
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The blocks sorted by quote total (equal totals in enumeration order): the whole space
    is held while it is sorted, so it must fit the memory limit."""
    total = sum(partition_query(plan, prefix).count() for prefix in prefixes)
    check_memory(
        total * (4 * len(compiled.slots) + _SORT_ROW_BYTES),
        compiled.memory_limit,
        f"a feed of {total:,} configurations in price order",
        "split it with partitions() and sort each, or leave order=None",
    )
    parts = list(_blocks(plan, prefixes, max(size, 1 << 16), check))
    if not parts:
        return
    values = np.concatenate([part[0] for part in parts], axis=1)
    cost = np.concatenate([part[1] for part in parts])
    ranked = np.argsort(pricer(cost), kind="stable")
    yield values[:, ranked], cost[ranked]


def write_parquet(
    compiled: CompiledCatalog,
    path: Path,
    needs: NeedsLike,
    *,
    order: Literal["price"] | None,
    partition: Partition | None,
    price_column: str | None,
    compression: str,
    time_limit: float | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Write a feed to ``path`` (see :meth:`modcfg.Configurator.to_parquet`); its rows."""
    parquet = require("pyarrow.parquet", "feed")
    schema = feed_schema(compiled, price_column)
    partial = path.with_name(f".{path.name}.partial")
    written = 0
    # the slot columns are dictionary codes already; the total moves by small steps between
    # neighbouring rows of the walk, so its differences store in a few bits (DELTA_BINARY_PACKED
    # shrinks it several times over a dictionary, and writes faster); min/max statistics are
    # kept for the total only, where readers use them to skip row groups by price
    options: dict[str, Any] = {
        "use_dictionary": list(compiled.slots),
        "write_statistics": [price_column] if price_column is not None else False,
    }
    if price_column is not None:
        options["column_encoding"] = {price_column: "DELTA_BINARY_PACKED"}
    rows = _feed_rows(compiled.plan(needs), partition) if progress is not None else None
    try:
        with parquet.ParquetWriter(partial, schema, compression=compression, **options) as writer:
            for batch in batches(
                compiled,
                needs,
                size=1 << 20,
                order=order,
                partition=partition,
                price_column=price_column,
                time_limit=time_limit,
            ):
                writer.write_batch(batch)
                written += batch.num_rows
                if progress is not None:
                    progress(written, rows)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return written


def _feed_rows(plan: Plan, partition: Partition | None) -> int | None:
    """The rows of a feed, exactly, when no budget or global sums filter them (else None)."""
    if not plan.bounds.unbounded:
        return None
    if partition is not None:
        return partition.rows
    return plan.query.count()
