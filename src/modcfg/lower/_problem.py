"""The finite-domain problem every engine solves, and the slot domains of a catalog.

Every slot becomes one variable whose domain is the list of its local choices (a module, an
empty optional slot, or a quantity vector of a multi-select slot). Rules become relations over
the variables of their scope (tabulated once), except global linear constraints such as
``total(weight_kg) <= 80``, which become *resources*: per-value integer weights whose sum is
compared with a bound. Prices become integer costs in the currency's minor unit. The lowering
of rules, price rules and needs into these types is in ``_rules`` and ``_needs``.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import compress
from math import prod
from typing import NamedTuple

import numpy as np

from .._errors import CatalogError, LimitExceeded
from .._memory import default_memory_limit
from .._reasons import Reason
from ..model import Catalog, Quantities
from ..model._configuration import Choice

__all__ = [
    "CLAUSE_ROWS",
    "DOMAIN_LIMIT",
    "Constraint",
    "Factor",
    "Problem",
    "Resource",
    "SlotDomain",
    "build_domains",
]

#: Most combinations of a clause listed as tuples (engines read clauses natively).
CLAUSE_ROWS = 1 << 20
#: Largest number of local choices of one multi-select slot.
DOMAIN_LIMIT = 100_000
#: Clauses over at most this many combinations are tabulated in plain Python (faster than
#: numpy's calls for a few rows).
_SMALL_CLAUSE = 64


class SlotDomain(NamedTuple):
    """The local choices of one slot, with what each choice contains."""

    slot: str
    choices: tuple[Choice, ...]
    units: tuple[tuple[tuple[str, int], ...], ...]
    cost: tuple[int, ...]

    def index_of(self, choice: Choice) -> int:
        return self.choices.index(choice)


def clause_rows(
    masks: Sequence[Sequence[bool]], allowed: Sequence[Sequence[bool]] | None = None
) -> np.ndarray:
    """The value tuples where some variable takes a value of its mask (per variable, one flag
    per value of its whole domain), only ``allowed`` values when given, in lexicographic order.
    """
    shapes = [len(mask) for mask in masks]
    holds = np.zeros(shapes, dtype=bool)
    for axis, mask in enumerate(masks):
        holds |= _along(axis, mask, shapes)
    if allowed is not None:
        for axis, values in enumerate(allowed):
            holds &= _along(axis, values, shapes)
    return np.argwhere(holds).astype(np.int64).reshape(-1, len(masks))


def clause_table(
    allowed: tuple[tuple[bool, ...], ...], masks: tuple[tuple[bool, ...], ...]
) -> np.ndarray:
    """The value tuples (one ``allowed`` value per variable) where some variable takes a value
    of its mask, in lexicographic order: a clause as a table."""
    if prod(map(sum, allowed)) <= _SMALL_CLAUSE:  # (most: numpy's calls cost more)
        values = [[v for v, ok in enumerate(row) if ok] for row in allowed]
        rows = [
            combination
            for combination in itertools.product(*values)
            if any(mask[v] for mask, v in zip(masks, combination, strict=True))
        ]
        return np.array(rows, dtype=np.int64).reshape(len(rows), len(allowed))
    return clause_rows(masks, allowed)


def missing_combination(
    columns: Sequence[Sequence[int]], values: Sequence[Collection[int]]
) -> tuple[int, ...] | None:
    """The one combination of ``values`` (per column, the values it may take) that distinct
    rows, given by column, lack when they hold every other and nothing else (a small clause
    tabulated); None otherwise. Found by the columns' sums: each value of a column appears in
    the full product as often as any other.

    >>> missing_combination([[0, 0, 1], [0, 1, 0]], [{0, 1}, {0, 1}])
    (1, 1)
    >>> missing_combination([[0, 1], [0, 1]], [{0, 1}, {0, 1}]) is None
    True
    """
    combinations = prod(len(held) for held in values)
    if not columns or len(columns[0]) != combinations - 1 or combinations < 2:
        return None
    if not all(set(column) <= set(held) for column, held in zip(columns, values, strict=True)):
        return None
    return tuple(
        sum(held) * (combinations // len(held)) - sum(column)
        for column, held in zip(columns, values, strict=True)
    )


def _along(axis: int, flags: Sequence[bool], shapes: list[int]) -> np.ndarray:
    """``flags`` as a boolean array spread along ``axis`` of a grid of ``shapes``."""
    shape = [1] * len(shapes)
    shape[axis] = shapes[axis]
    return np.asarray(flags, dtype=bool).reshape(shape)


class Constraint:
    """A relation: the allowed value-index tuples over ``scope`` (variable indexes, sorted).

    Built from a set of tuples (``allowed``) or from an integer array of distinct rows
    (``rows``); each form is derived from the other when first asked for. ``linear`` keeps the
    linear form of a tabulated sum constraint, for solvers that prefer it.

    A *clause* (``clause``: per scope position, a mask over that variable's values) holds when
    at least one position takes a value of its mask: a wide disjunction forbids one box of
    combinations, so it is kept in this form, whose size grows with its literals, and engines
    handle it natively (the decomposition engine through a chain of auxiliary variables).
    Its tuples are materialised only when asked for and at most :data:`CLAUSE_ROWS` of them.
    """

    # (a feature model has one constraint per clause: no dictionary each)
    __slots__ = ("_allowed", "_rows", "_supports", "clause", "linear", "scope", "source")

    def __init__(
        self,
        scope: tuple[int, ...],
        allowed: frozenset[tuple[int, ...]] | None = None,
        source: str = "",
        linear: Resource | None = None,
        *,
        rows: np.ndarray | None = None,
        clause: tuple[tuple[bool, ...], ...] | None = None,
    ) -> None:
        if allowed is None and rows is None and clause is None:
            raise TypeError("a constraint needs its allowed tuples, rows or clause")
        self.scope = scope
        self.source = source
        self.linear = linear
        self.clause = clause
        self._allowed = allowed
        self._rows = rows
        self._supports: dict[tuple[int, int], dict[int, frozenset[int]]] | None = None

    @property
    def allowed(self) -> frozenset[tuple[int, ...]]:
        """The allowed tuples as a set."""
        if self._allowed is None:
            self._allowed = frozenset(map(tuple, self.rows.tolist()))
        return self._allowed

    @property
    def rows(self) -> np.ndarray:
        """The allowed tuples as an int64 array (one row each, columns in scope order)."""
        if self._rows is None:
            if self._allowed is None:
                self._rows = self._clause_rows()
            else:
                found = np.asarray(sorted(self._allowed), dtype=np.int64)
                self._rows = found.reshape(len(self._allowed), len(self.scope))
        return self._rows

    @property
    def size(self) -> int:
        """The number of allowed tuples."""
        if self.clause is not None and self._rows is None:
            return prod(map(len, self.clause)) - prod(m.count(False) for m in self.clause)
        return len(self._rows) if self._rows is not None else len(self.allowed)

    def holds(self, values: tuple[int, ...]) -> bool:
        """Whether the relation allows ``values`` (one value index per scope variable)."""
        if self.clause is not None:
            return any(mask[v] for mask, v in zip(self.clause, values, strict=True))
        return values in self.allowed

    def _clause_rows(self) -> np.ndarray:
        """A clause's tuples (every combination but the box it forbids), when few enough."""
        assert self.clause is not None  # (a constraint has rows, tuples or a clause)
        combinations = prod(map(len, self.clause))
        if combinations > CLAUSE_ROWS:
            raise LimitExceeded(
                f"rule '{self.source}' is a clause over {len(self.scope)} slots with "
                f"{combinations:,} combinations, more than the {CLAUSE_ROWS:,} this operation "
                "lists a clause's combinations for; count, explore and explain it with the "
                "decomposition or CP-SAT engines (the default), which read clauses natively",
                estimate=combinations,
                limit=CLAUSE_ROWS,
            )
        return clause_rows(self.clause)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Constraint):
            return NotImplemented
        if self.clause is not None or other.clause is not None:
            return (self.scope, self.source, self.clause) == (
                other.scope,
                other.source,
                other.clause,
            )
        return (self.scope, self.source, self.linear, self.allowed) == (
            other.scope,
            other.source,
            other.linear,
            other.allowed,
        )

    def __hash__(self) -> int:
        return hash((self.scope, self.source))

    def __repr__(self) -> str:
        return f"Constraint({self.scope}, {self.size} tuples, {self.source!r})"

    def supports(self, at: int, other: int) -> dict[int, frozenset[int]]:
        """For each value at scope position ``other``: the values at position ``at`` that the
        relation allows with it (memoised)."""
        known = self._supports
        if known is None:
            known = self._supports = {}
        found = known.get((at, other))
        if found is None:
            grouped: dict[int, set[int]] = {}
            for t in self.allowed:
                grouped.setdefault(t[other], set()).add(t[at])
            found = known[at, other] = {k: frozenset(v) for k, v in grouped.items()}
        return found


@dataclass(frozen=True)
class Factor:
    """An additive term over ``scope``: value-index tuple -> integer amount (missing: 0)."""

    scope: tuple[int, ...]
    table: Mapping[tuple[int, ...], int]
    source: str


@dataclass(frozen=True)
class Resource:
    """A global linear constraint ``sum of weights[var][value] (op) bound`` (integers)."""

    weights: tuple[tuple[int, ...], ...]
    op: str
    bound: int
    source: str

    def holds(self, total: int) -> bool:
        match self.op:
            case "<=":
                return total <= self.bound
            case "<":
                return total < self.bound
            case ">=":
                return total >= self.bound
            case ">":
                return total > self.bound
            case "==":
                return total == self.bound
            case _:
                return total != self.bound


@dataclass
class Problem:
    """A finite-domain problem: what every engine of modcfg solves.

    Every constraint, resource and excluded value (``unary_reasons``) names its source: a
    catalog rule's id, or for a customer's need an id that ``need_reasons`` maps to the need
    as a :class:`~modcfg.Reason`.
    """

    catalog: Catalog
    domains: tuple[SlotDomain, ...]
    allowed: list[list[bool]]
    constraints: list[Constraint] = field(default_factory=list)
    cost_factors: list[Factor] = field(default_factory=list)
    score_factors: list[Factor] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    unary_reasons: dict[tuple[int, int], str] = field(default_factory=dict)
    need_reasons: dict[str, Reason] = field(default_factory=dict)
    #: Bytes any one step of building or querying this problem may allocate (see ``_budget``).
    memory_limit: int = field(default_factory=default_memory_limit)

    @property
    def size(self) -> int:
        return len(self.domains)

    def values(self, var: int) -> list[int]:
        """The value indexes of ``var`` that no unary rule or need has excluded."""
        row = self.allowed[var]
        return list(compress(range(len(row)), row))

    def narrowed(self, var: int, values: frozenset[int]) -> Problem:
        """A copy with ``var`` limited to those of its allowed values in ``values``."""
        return self.with_allowed(var, self.kept(var, values))

    def kept(self, var: int, values: frozenset[int]) -> list[bool]:
        """Per value of ``var``: whether it is allowed and in ``values``."""
        return [ok and value in values for value, ok in enumerate(self.allowed[var])]

    def with_allowed(self, var: int, row: list[bool]) -> Problem:
        """A copy with ``var``'s allowed values replaced by ``row`` (the other rows are shared:
        copy before changing them in place)."""
        allowed = list(self.allowed)
        allowed[var] = row
        # (each field by name rather than dataclasses.replace: this runs at every choice of a
        # customer, and replace walks the fields' descriptions each time)
        return Problem(
            self.catalog,
            self.domains,
            allowed,
            self.constraints,
            self.cost_factors,
            self.score_factors,
            self.resources,
            self.unary_reasons,
            self.need_reasons,
            self.memory_limit,
        )

    def copy(self) -> Problem:
        """A copy whose rows, lists and reason tables can be changed without changing this."""
        return replace(
            self,
            allowed=[list(row) for row in self.allowed],
            constraints=list(self.constraints),
            cost_factors=list(self.cost_factors),
            score_factors=list(self.score_factors),
            resources=list(self.resources),
            unary_reasons=dict(self.unary_reasons),
            need_reasons=dict(self.need_reasons),
        )


def _scaled(amount: Decimal, decimals: int) -> int:
    """``amount`` in minor units (an exact integer, or CatalogError)."""
    numerator, denominator = amount.as_integer_ratio()
    scale: int = 10**decimals
    if denominator == 1:
        return numerator * scale  # (whole amounts; feature models' modules cost 0)
    units, rest = divmod(numerator * scale, denominator)
    if rest:
        raise CatalogError(f"amount {amount} has more than {decimals} decimals")
    return units


def _multi_choices(catalog: Catalog, slot_id: str) -> Iterator[Quantities]:
    slot = catalog.slots[slot_id]
    modules = list(slot.modules.values())
    ranges = [range(module.max_quantity + 1) for module in modules]
    size = prod(len(r) for r in ranges)
    if size > DOMAIN_LIMIT * 10:
        raise LimitExceeded(
            f"slot '{slot_id}' has {size} quantity combinations; split it into smaller slots "
            "or lower the modules' max_quantity"
        )
    for quantities in itertools.product(*ranges):
        if slot.cardinality.min <= sum(quantities) <= slot.cardinality.max:
            yield Quantities(
                {module.id: q for module, q in zip(modules, quantities, strict=True) if q}
            )


def build_domains(catalog: Catalog) -> tuple[SlotDomain, ...]:
    """The local choices of every slot, in catalog order."""
    domains = []
    decimals = catalog.decimals
    scale: int = 10**decimals
    for slot_id, slot in catalog.slots.items():
        modules, cardinality = slot.modules, slot.cardinality
        choices: tuple[Choice, ...]
        if cardinality.max == 1:  # single choice: a module, or none when optional
            choices = tuple(modules)
            units: tuple[tuple[tuple[str, int], ...], ...] = tuple([((m, 1),) for m in modules])
            cost = []
            for module in modules.values():  # (minor units, inline: the common whole case)
                numerator, denominator = module.price.as_integer_ratio()
                if denominator == 1:
                    cost.append(numerator * scale)
                else:
                    cost.append(_scaled(module.price, decimals))
            if cardinality.min == 0:
                choices += (None,)
                units += ((),)
                cost.append(0)
        else:
            price = {m: _scaled(module.price, decimals) for m, module in modules.items()}
            choices = tuple(_multi_choices(catalog, slot_id))
            units = tuple([_units(choice) for choice in choices])
            cost = [sum(price[m] * q for m, q in unit) for unit in units]
        if len(choices) > DOMAIN_LIMIT:
            raise LimitExceeded(
                f"slot '{slot_id}' has {len(choices)} local choices (limit {DOMAIN_LIMIT}); "
                "split it into smaller slots"
            )
        domains.append(SlotDomain(slot_id, choices, units, tuple(cost)))
    return tuple(domains)


def _units(choice: Choice) -> tuple[tuple[str, int], ...]:
    if choice is None:
        return ()
    if isinstance(choice, str):
        return ((choice, 1),)
    return tuple(choice.items())
