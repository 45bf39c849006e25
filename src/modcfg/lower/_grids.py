"""Expressions evaluated over every combination of their slots' choices at once.

Each reference becomes a table over its slot's choices, read once per compile with the model's
own :class:`~modcfg.model.ConfigurationView`. Two evaluators share those tables:

- a *condition* (and, or, not, implies over references) over a small grid is evaluated on bit
  masks: bit ``i`` stands for the ``i``-th combination (first slot slowest), so a clause over
  three slots is a handful of integer operations;
- anything else is evaluated on NumPy grids: a reference's table is laid along its slot's axis
  and operators combine grids by broadcasting, so a node is evaluated once per combination of
  the slots *it* reads, not of the whole rule's. Comparisons, arithmetic and list membership
  apply the model's own functions (``truthy``, ``compare``, ``same``, ``number``) element by
  element, so a grid means exactly what :func:`~modcfg.model.evaluate` means.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import partial, reduce
from math import prod
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model import Catalog, ConfigurationView, Expr, evaluate
from ..model._expr import (
    Arith,
    BoolOp,
    Compare,
    Count,
    InList,
    Lit,
    Neg,
    Not,
    Num,
    Ref,
    Total,
    Value,
    compare,
    number,
    same,
    truthy,
)

if TYPE_CHECKING:
    from ._problem import SlotDomain

__all__ = ["Tabulator"]

#: Conditions over at most this many combinations are evaluated on bit masks.
_BITS = 4096
#: Comparisons over at most this many combinations are evaluated value by value into masks.
_SMALL_COMPARE = 256
#: What :data:`_ARITH` computes, on one pair of values.
_SPREAD_ARITH: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}

_TRUTHY = np.frompyfunc(truthy, 1, 1)
_NEGATE = np.frompyfunc(lambda value: -number(value), 1, 1)
_SAME = np.frompyfunc(same, 2, 1)
_ARITH: dict[str, Any] = {
    "+": np.frompyfunc(lambda a, b: number(a) + number(b), 2, 1),
    "-": np.frompyfunc(lambda a, b: number(a) - number(b), 2, 1),
    "*": np.frompyfunc(lambda a, b: number(a) * number(b), 2, 1),
}
_COMPARE: dict[str, Any] = {
    op: np.frompyfunc(partial(compare, op), 2, 1) for op in ("==", "!=", "<", "<=", ">", ">=")
}
_CONTAINS = np.frompyfunc(lambda item, found: isinstance(found, tuple) and item in found, 2, 1)


def _objects(values: Sequence[Value], shape: Sequence[int]) -> np.ndarray:
    """An object array of the given shape holding ``values`` (tuples stay single items)."""
    array = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        array[i] = value
    return array.reshape(shape)


def _as_bool(array: np.ndarray) -> np.ndarray:
    return array if array.dtype == bool else _TRUTHY(array).astype(bool)


def _as_objects(array: np.ndarray) -> np.ndarray:
    return array if array.dtype == object else array.astype(object)


#: (grid shape, bit mask) -> the rows of the set bits: shared by every catalog and rule.
_ROWS: dict[tuple[tuple[int, ...], int], np.ndarray] = {}
_ROWS_KEPT = 4096


def _select(shape: tuple[int, ...], mask: int) -> np.ndarray:
    """The combinations of a grid of ``shape`` whose bit is set (read-only rows, first axis
    slowest)."""
    size = prod(shape)
    grid = np.indices(shape, dtype=np.int64).reshape(len(shape), size).T
    raw = np.frombuffer(mask.to_bytes((size + 7) // 8, "little"), dtype=np.uint8)
    holds = np.unpackbits(raw, count=size, bitorder="little").view(bool)
    found: np.ndarray = np.ascontiguousarray(grid[holds])
    found.flags.writeable = False
    return found


class Tabulator:
    """Evaluates expressions of one catalog over the choices of the slots they read."""

    def __init__(self, catalog: Catalog, domains: Mapping[str, SlotDomain]) -> None:
        self.catalog = catalog
        self.domains = domains
        # (slot, reference) -> values per choice, and their truth
        self._values: dict[tuple[str, str], np.ndarray] = {}
        self._truth: dict[tuple[str, str], tuple[bool, ...]] = {}
        # (shape, axis, truth) -> the mask of the combinations whose choice there is true
        self._masks: dict[tuple[tuple[int, ...], int, tuple[bool, ...]], int] = {}

    # -- reference tables ---------------------------------------------------------------------

    def values(self, node: Ref | Count | Total, slot: str) -> np.ndarray:
        """The value of a reference for each choice of ``slot`` (an object array)."""
        match node:
            case Ref(_, name):
                key = (slot, name)
            case Count(_):
                key = (slot, "count()")
            case Total(attribute):
                key = (slot, f"total({attribute})")
        found = self._values.get(key)
        if found is None:
            units = self.domains[slot].units
            values: list[Value]
            match node:
                case Ref(_, name):
                    values = ConfigurationView.ref_per_choice(self.catalog, slot, name, units)
                case Count(_):
                    values = [Decimal(sum(q for _, q in choice)) for choice in units]
                case Total(attribute):
                    read = partial(_total, attribute=attribute)
                    choices = self.domains[slot].choices
                    values = [read(ConfigurationView(self.catalog, {slot: c})) for c in choices]
            found = self._values[key] = _objects(values, [len(values)])
        return found

    def truth(self, node: Ref | Count, slot: str) -> tuple[bool, ...]:
        key = (slot, node.name if isinstance(node, Ref) else "count()")
        found = self._truth.get(key)
        if found is None:
            units = self.domains[slot].units
            if isinstance(node, Ref) and node.name in self.catalog.slots[slot].modules:
                # a module reference holds when the choice takes some of that module
                name = node.name
                if self.catalog.slots[slot].single:  # one unit of one module, or nothing
                    found = tuple(bool(choice) and choice[0][0] == name for choice in units)
                else:
                    found = tuple(any(m == name and q for m, q in choice) for choice in units)
            elif isinstance(node, Count):
                found = tuple(any(q for _, q in choice) for choice in units)
            else:
                found = tuple(truthy(v) for v in self.values(node, slot).tolist())
            self._truth[key] = found
        return found

    # -- evaluation ---------------------------------------------------------------------------

    def rows(
        self, expr: Expr, slots: Sequence[str], allowed: Sequence[Sequence[bool]] | None = None
    ) -> np.ndarray:
        """The combinations of the choices of ``slots`` (value indexes, in order) where
        ``expr`` holds, in lexicographic order; with ``allowed`` (per slot, per choice), only
        combinations of allowed choices. An (n, slots) int64 array."""
        shape = tuple(len(self.domains[slot].choices) for slot in slots)
        size = prod(shape)
        if size <= _BITS:
            mask = self._bits(expr, slots, shape)
            if mask is not None:
                if allowed is not None:
                    for axis, ok in enumerate(allowed):
                        if not all(ok):
                            mask &= self._mask(shape, axis, tuple(ok))
                found = _ROWS.get((shape, mask))  # rules of one shape repeat masks
                if found is None:
                    if len(_ROWS) >= _ROWS_KEPT:
                        _ROWS.clear()
                    found = _ROWS[shape, mask] = _select(shape, mask)
                return found
        return np.argwhere(self.grid(expr, slots, allowed)).astype(np.int64)

    def grid(
        self, expr: Expr, slots: Sequence[str], allowed: Sequence[Sequence[bool]] | None = None
    ) -> np.ndarray:
        """``truthy(expr)`` for every combination of the choices of ``slots`` (in order): a
        Boolean array with one axis per slot, False where a choice is not ``allowed``."""
        shape = [len(self.domains[slot].choices) for slot in slots]
        if not slots:
            return np.asarray(truthy(evaluate(expr, ConfigurationView(self.catalog, {}))))
        found = np.broadcast_to(_as_bool(self._grid(expr, slots)), shape)
        if allowed is None or all(all(ok) for ok in allowed):
            return found
        mask = found.copy()
        for axis, ok in enumerate(allowed):
            along = [1] * len(slots)
            along[axis] = len(ok)
            mask &= np.asarray(ok, dtype=bool).reshape(along)
        return mask

    def _mask(self, shape: tuple[int, ...], axis: int, truth: tuple[bool, ...]) -> int:
        key = (shape, axis, truth)
        found = self._masks.get(key)
        if found is None:
            stride = prod(shape[axis + 1 :])
            # the pattern of one block of the axis, repeated for every combination before it
            block = 0
            for value, ok in enumerate(truth):
                if ok:
                    block |= ((1 << stride) - 1) << (value * stride)
            found = 0
            span = stride * shape[axis]
            for repeat in range(prod(shape[:axis])):
                found |= block << (repeat * span)
            self._masks[key] = found
        return found

    def _bits(self, expr: Expr, slots: Sequence[str], shape: tuple[int, ...]) -> int | None:
        """The condition as a bit mask over the combinations, or None if it is not one."""
        axis = {slot: i for i, slot in enumerate(slots)}
        full = (1 << prod(shape)) - 1

        masks, truth = self._masks, self.truth

        def build(node: Expr) -> int | None:
            # isinstance tests, most frequent first (structural matching costs more here)
            if type(node) is BoolOp:
                op, operands = node.op, node.operands
                if op == "and":
                    result = full
                    for operand in operands:
                        part = build(operand)
                        if part is None:
                            return None
                        result &= part
                    return result
                if op == "or":
                    result = 0
                    for operand in operands:
                        part = build(operand)
                        if part is None:
                            return None
                        result |= part
                    return result
                if len(operands) != 2:
                    return None
                premise, conclusion = build(operands[0]), build(operands[1])
                if premise is None or conclusion is None:
                    return None
                return (full ^ premise) | conclusion
            if type(node) is Ref or type(node) is Count:
                slot = node.slot
                key = (shape, axis[slot], truth(node, slot))
                found = masks.get(key)
                return found if found is not None else self._mask(*key)
            if type(node) is Not:
                inner = build(node.operand)
                return None if inner is None else full ^ inner
            if type(node) is Num or type(node) is Lit:
                return full if truthy(node.value) else 0
            if type(node) is Compare and size <= _SMALL_COMPARE:
                left = self._spread(node.left, slots, shape)
                right = None if left is None else self._spread(node.right, slots, shape)
                if left is None or right is None:
                    return None
                result, holds = 0, partial(compare, node.op)
                for bit, (a, b) in enumerate(zip(left, right, strict=True)):
                    if holds(a, b):
                        result |= 1 << bit
                return result
            return None

        size = prod(shape)
        try:
            return build(expr)
        finally:
            # the recursive closure refers to itself through this name: cleared, it is freed
            # at once instead of by a collection
            build = None  # type: ignore[assignment]

    def _spread(
        self, node: Expr, slots: Sequence[str], shape: tuple[int, ...]
    ) -> list[Value] | None:
        """A numeric subexpression's value for every combination (in the order of the bit
        masks), computed as :meth:`grid` computes it; None for the forms it leaves to
        :meth:`grid`."""
        size = prod(shape)
        if type(node) is Num:
            return [node.value] * size
        if type(node) is Ref or type(node) is Count:
            axis = list(slots).index(node.slot)
            stride, length = prod(shape[axis + 1 :]), shape[axis]
            per_choice = self.values(node, node.slot).tolist()
            return [per_choice[i // stride % length] for i in range(size)]
        if type(node) is Neg:
            inner = self._spread(node.operand, slots, shape)
            return None if inner is None else [-number(value) for value in inner]
        if type(node) is Arith and node.op in _SPREAD_ARITH:
            left = self._spread(node.left, slots, shape)
            right = None if left is None else self._spread(node.right, slots, shape)
            if left is None or right is None:
                return None
            combine = _SPREAD_ARITH[node.op]
            return [combine(number(a), number(b)) for a, b in zip(left, right, strict=True)]
        return None

    def _grid(self, expr: Expr, slots: Sequence[str]) -> np.ndarray:
        axis = {slot: i for i, slot in enumerate(slots)}
        ones = [1] * len(slots)

        def along(table: np.ndarray, slot: str) -> np.ndarray:
            shape = list(ones)
            shape[axis[slot]] = len(table)
            return table.reshape(shape)

        def build(node: Expr) -> np.ndarray:
            match node:
                case Num(value) | Lit(value):
                    return _objects([value], ones)
                case Ref(slot, _) | Count(slot):
                    return along(self.values(node, slot), slot)
                case Total(_):
                    parts = [along(self.values(node, slot), slot) for slot in slots]
                    return reduce(np.add, parts, _objects([Decimal(0)], ones))
                case Not(operand):
                    return ~_as_bool(build(operand))
                case Neg(operand):
                    return _NEGATE(_as_objects(build(operand)))  # type: ignore[no-any-return]
                case BoolOp("and", operands):
                    parts = [_as_bool(build(o)) for o in operands]
                    return reduce(np.logical_and, parts, np.ones(ones, dtype=bool))
                case BoolOp("or", operands):
                    parts = [_as_bool(build(o)) for o in operands]
                    return reduce(np.logical_or, parts, np.zeros(ones, dtype=bool))
                case BoolOp(_, (condition, consequence)):
                    premise = _as_bool(build(condition))
                    implied: np.ndarray = np.logical_or(~premise, _as_bool(build(consequence)))
                    return implied
                case Compare(op, left, right):
                    found = _COMPARE[op](_as_objects(build(left)), _as_objects(build(right)))
                    return found.astype(bool)  # type: ignore[no-any-return]
                case InList(item, options, attribute_list):
                    subject = _as_objects(build(item))
                    if attribute_list:
                        container = _as_objects(build(options[0]))
                        return _CONTAINS(subject, container).astype(bool)  # type: ignore[no-any-return]
                    hits = [_SAME(subject, _as_objects(build(o))).astype(bool) for o in options]
                    return reduce(np.logical_or, hits, np.zeros(ones, dtype=bool))
                case Arith(op, left, right):
                    a, b = _as_objects(build(left)), _as_objects(build(right))
                    return _ARITH[op](a, b)  # type: ignore[no-any-return]
            raise TypeError(f"not an expression: {node!r}")  # pragma: no cover

        try:
            return build(expr)
        finally:
            # the recursive closure refers to itself through this name: cleared, it is freed
            # at once instead of by a collection
            build = None  # type: ignore[assignment]


def _total(view: ConfigurationView, attribute: str) -> Decimal:
    return number(view.total(attribute))
