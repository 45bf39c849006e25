"""Configurations: one choice for every slot, immutable and hashable.

A :class:`Configuration` maps slot id -> module id (``None`` for an empty optional slot, a
:class:`Quantities` for a multi-select slot). It equals any mapping with the same items,
whatever the order of its slots, and equal configurations hash alike; a :class:`Quantities`
never holds a zero quantity. A configuration made from a mapping is not checked against a
catalog (:meth:`Configuration.validated` does that); the engines make theirs from values that
are valid by construction. :class:`ConfigurationView` is how the expression evaluator reads a
configuration's modules and attributes (see :mod:`._expr`).
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn, Union

from .._errors import NeedsError, did_you_mean
from .._html import MAX_ROWS, html_table
from ._expr import Value

if TYPE_CHECKING:
    from ._catalog import Catalog, Module, Slot

__all__ = ["Choice", "Configuration", "ConfigurationView", "Quantities"]

_EMPTY: Mapping[str, int] = MappingProxyType({})


class Quantities(dict[str, int]):
    """The modules chosen in a multi-select slot with their quantities: a plain ``dict``
    (so ``json.dumps`` writes it as ``{module: quantity}``) that is immutable and hashable.

    >>> import json
    >>> q = Quantities({"bell": 1, "light": 2, "horn": 0})
    >>> q, json.dumps(q), q == {"bell": 1, "light": 2}
    (Quantities({'bell': 1, 'light': 2}), '{"bell": 1, "light": 2}', True)
    """

    __slots__ = ("_hash",)

    def __init__(self, items: Mapping[str, int] = _EMPTY) -> None:
        super().__init__((module, quantity) for module, quantity in items.items() if quantity)
        self._hash: int | None = None

    def __hash__(self) -> int:  # type: ignore[override]
        if self._hash is None:
            self._hash = hash(frozenset(self.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dict):
            return dict.__eq__(self, other)
        if isinstance(other, Mapping):
            return dict.__eq__(self, dict(other.items()))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __repr__(self) -> str:
        return f"Quantities({dict(self)!r})"

    def __reduce__(self) -> tuple[type[Quantities], tuple[dict[str, int]]]:
        return Quantities, (dict(self),)

    def _immutable(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise TypeError("Quantities are immutable; build a new one with Quantities({...})")

    __setitem__ = __delitem__ = _immutable
    clear = pop = popitem = setdefault = update = __ior__ = _immutable


Choice = Union[str, None, Quantities]  # noqa: UP007 - a runtime alias used in isinstance-free code


def choice_text(choice: str | Mapping[str, int]) -> str:
    """A chosen module's id, or a multi-select slot's modules as ``a x2, b`` (or ``-``)."""
    if isinstance(choice, str):
        return choice
    parts = [module if units == 1 else f"{module} x{units}" for module, units in choice.items()]
    return ", ".join(parts) or "-"


class Configuration(Mapping[str, Choice]):
    """One valid choice for every slot: ``slot id -> module id`` (``None`` for an empty optional
    slot, :class:`Quantities` for a multi-select slot). Immutable and hashable.

    >>> c = Configuration({"frame": "oak", "glass": "triple"})
    >>> dict(c)
    {'frame': 'oak', 'glass': 'triple'}
    >>> c == {"frame": "oak", "glass": "triple"}, hash(c) == hash(Configuration(c))
    (True, True)
    """

    # A configuration is a tuple of choices over a shared tuple of slot ids (the engine makes
    # millions of them); the dict view is built only when asked for. The fields are private
    # to the class (name-mangled): only its own constructors and comparison touch them.
    __slots__ = ("__hash", "__index", "__slots", "__values")

    def __init__(self, choices: Mapping[str, Any]) -> None:
        slots = tuple(choices)
        values = []
        for choice in choices.values():
            if isinstance(choice, Mapping) and not isinstance(choice, Quantities):
                choice = Quantities(choice)
            values.append(choice)
        self.__slots = slots
        self.__values: tuple[Choice, ...] = tuple(values)
        self.__index: dict[str, int] | None = None
        self.__hash: int | None = None

    @classmethod
    def from_values(
        cls, slots: tuple[str, ...], values: tuple[Choice, ...], index: dict[str, int] | None
    ) -> Configuration:
        """A configuration over ``slots`` with ``values`` in the same order, shared rather than
        copied and not checked: the caller guarantees they line up and that every multi-select
        choice is a :class:`Quantities`. ``index`` maps slot id -> position (shared), or is None
        to be built on the first lookup."""
        configuration = cls.__new__(cls)
        configuration.__slots = slots
        configuration.__values = values
        configuration.__index = index
        configuration.__hash = None
        return configuration

    def __getitem__(self, slot: str) -> Choice:
        index = self.__index
        if index is None:
            index = self.__index = {s: i for i, s in enumerate(self.__slots)}
        return self.__values[index[slot]]

    def __iter__(self) -> Iterator[str]:
        return iter(self.__slots)

    def __len__(self) -> int:
        return len(self.__slots)

    def __contains__(self, slot: object) -> bool:
        return slot in self.__slots

    def items(self) -> ItemsView[str, Choice]:
        return dict(zip(self.__slots, self.__values, strict=True)).items()

    def __hash__(self) -> int:
        if self.__hash is None:
            self.__hash = hash(frozenset(zip(self.__slots, self.__values, strict=True)))
        return self.__hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Configuration):
            if self.__slots == other.__slots:
                return self.__values == other.__values
            return dict(self.items()) == dict(other.items())
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{slot}={choice!r}" for slot, choice in zip(self.__slots, self.__values, strict=True)
        )
        return f"Configuration({inner})"

    def _repr_html_(self, max_rows: int = MAX_ROWS) -> str:
        """The configuration as an HTML table for notebooks: a row per slot (at most
        ``max_rows``), ``-`` for an empty slot, ``module xN`` for quantities."""
        rows = (
            (slot, "-" if choice is None else choice_text(choice))
            for slot, choice in zip(self.__slots, self.__values, strict=True)
        )
        return html_table(["slot", "choice"], rows, max_rows=max_rows, total_rows=len(self.__slots))

    def units(self) -> Iterator[tuple[str, str, int]]:
        """Yield ``(slot, module, quantity)`` for every chosen module."""
        for slot, choice in zip(self.__slots, self.__values, strict=True):
            if type(choice) is str:  # a module id, as single-choice slots hold
                yield slot, choice, 1
            elif isinstance(choice, Quantities):
                for module, quantity in choice.items():
                    yield slot, module, quantity
            elif choice is not None:
                yield slot, choice, 1

    def refs(self) -> frozenset[str]:
        """The chosen modules as ``slot.module`` references."""
        return frozenset(f"{slot}.{module}" for slot, module, _ in self.units())

    @classmethod
    def validated(cls, catalog: Catalog, choices: Mapping[str, Any]) -> Configuration:
        """Check that ``choices`` names a choice for every slot of ``catalog`` and nothing else.

        Missing optional slots are taken as empty; errors raise :class:`NeedsError`.
        """
        items: dict[str, Any] = {}
        for slot_id in choices:
            if slot_id not in catalog.slots:
                raise NeedsError(
                    f"configuration names slot '{slot_id}', which catalog '{catalog.name}' "
                    f"does not have{did_you_mean(slot_id, catalog.slots)}"
                )
        for slot_id, slot in catalog.slots.items():
            items[slot_id] = cls.checked_choice(slot, choices.get(slot_id))
        return cls(items)

    @staticmethod
    def checked_choice(slot: Slot, choice: Any) -> Choice:
        """``choice`` for ``slot`` as a configuration holds it (a module id or None for a
        slot of one unit, :class:`Quantities` for one of several); NeedsError when the slot
        does not take it. What :meth:`validated` checks of each slot."""
        slot_id = slot.id
        if choice is None or choice == {}:
            if slot.cardinality.min > 0:
                raise NeedsError(
                    f"configuration leaves slot '{slot_id}' empty, but it must be filled; "
                    f"choose one of {', '.join(slot.modules)}"
                )
            return None if slot.single else Quantities({})
        if isinstance(choice, str):
            quantities = {choice: 1}
        elif isinstance(choice, Mapping):
            quantities = dict(choice)
        else:
            raise NeedsError(
                f"configuration gives slot '{slot_id}' {choice!r}; give a module id, or "
                "{module id: quantity} for a slot of several modules"
            )
        for module_id, quantity in quantities.items():
            if module_id not in slot.modules:
                raise NeedsError(
                    f"configuration chooses '{module_id}' for slot '{slot_id}', which has no "
                    f"such module{did_you_mean(module_id, slot.modules)}"
                )
            limit = slot.modules[module_id].max_quantity
            if not isinstance(quantity, int) or not 0 <= quantity <= limit:
                raise NeedsError(
                    f"configuration takes {quantity!r} of '{slot_id}.{module_id}'; "
                    f"allowed: 0..{limit}"
                )
        total = sum(quantities.values())
        if not slot.cardinality.min <= total <= slot.cardinality.max:
            raise NeedsError(
                f"configuration takes {total} units in slot '{slot_id}'; the slot takes "
                f"{slot.cardinality.min}..{slot.cardinality.max}"
            )
        if slot.single:
            return next((m for m, q in quantities.items() if q), None)
        return Quantities(quantities)


class ConfigurationView:
    """Reads a configuration's modules and attributes for expression evaluation."""

    __slots__ = ("_catalog", "_configuration")

    def __init__(self, catalog: Catalog, configuration: Mapping[str, Choice]) -> None:
        self._catalog = catalog
        self._configuration = configuration

    def _units(self, slot: str) -> Iterator[tuple[str, int]]:
        choice = self._configuration.get(slot)
        if isinstance(choice, Mapping):
            yield from choice.items()
        elif choice is not None:
            yield choice, 1

    def ref(self, slot: str, name: str) -> Value:
        modules = self._catalog.slots[slot].modules
        return _read(modules, name, self._units(slot), numeric=_numeric(modules, name))

    @staticmethod
    def ref_per_choice(
        catalog: Catalog, slot: str, name: str, choices: Iterable[Iterable[tuple[str, int]]]
    ) -> list[Value]:
        """``ref(slot, name)`` for each choice of ``slot`` given as its (module, quantity)
        units: what a view holding only that choice would read."""
        modules = catalog.slots[slot].modules
        numeric = _numeric(modules, name)
        return [_read(modules, name, units, numeric=numeric) for units in choices]

    def total(self, attribute: str) -> Decimal:
        total = Decimal(0)
        for slot_id, slot in self._catalog.slots.items():
            for module, quantity in self._units(slot_id):
                value = slot.modules[module].attributes.get(attribute)
                if isinstance(value, Decimal):
                    total += value * quantity
        return total

    def count(self, slot: str) -> Decimal:
        return Decimal(sum(quantity for _, quantity in self._units(slot)))


def _numeric(modules: Mapping[str, Module], name: str) -> bool:
    """Whether ``name`` is a numeric attribute of some module of the slot."""
    return any(isinstance(module.attributes.get(name), Decimal) for module in modules.values())


def _read(
    modules: Mapping[str, Module], name: str, units: Iterable[tuple[str, int]], *, numeric: bool
) -> Value:
    """A slot's ``name`` for a choice's units: a module's quantity, the sum of a numeric
    attribute (x quantity), or the first module's attribute (None when the slot is empty)."""
    if name in modules:
        return Decimal(sum(quantity for module, quantity in units if module == name))
    if numeric:
        total = Decimal(0)
        for module, quantity in units:
            value = modules[module].attributes.get(name)
            if isinstance(value, Decimal):
                total += value * quantity
        return total
    for module, _ in units:
        return modules[module].attributes.get(name)
    return None
