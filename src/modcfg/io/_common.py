"""Pieces the readers share: turning foreign names into ids, and validating what they built.

Foreign formats name things freely (``"V3:Small truck 3,5t"``, ``v27_0_Pack``, ``Größe``); modcfg
ids are letters, digits, ``_`` and inner ``-``. :func:`make_id` turns any name into such an id,
and :class:`IdMaker` keeps the ids of one namespace unique. The original name stays the label.

>>> make_id("V3:Small truck 3,5t")
'V3_Small_truck_3_5t'
>>> maker = IdMaker()
>>> maker.take("a b"), maker.take("a_b"), maker.take("not")
('a_b', 'a_b-2', 'not_')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import CatalogError
from ..model import Catalog, catalog_from_data

__all__ = [
    "SELECTED",
    "IdMaker",
    "build_catalog",
    "make_id",
]

#: The module id of a Boolean slot (a feature or a propositional variable): chosen = true.
SELECTED = "selected"

#: Words of the expression language that cannot start a reference (``not.x`` does not parse).
_RESERVED = frozenset({"and", "or", "not", "implies", "in", "true", "false", "total", "count"})
_INVALID = re.compile(r"[^A-Za-z0-9_]+")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Location = tuple[str | int, ...]


def make_id(name: str, *, prefix: str = "_") -> str:
    """A valid modcfg id made from any name (not unique: see :class:`IdMaker`).

    >>> make_id("featureNIO"), make_id("3D view"), make_id("--a--b--"), make_id("Größe")
    ('featureNIO', '_3D_view', 'a-b', 'Grosse')
    """
    if _PLAIN.fullmatch(name) and name not in _RESERVED:
        return name  # already an id: the common case in large models
    text = name
    if not name.isascii():  # (accents dropped: NFKD splits them off as combining characters)
        text = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
        text = "".join(char for char in text if not unicodedata.combining(char))
    result = "-".join(part for part in map(_clean, text.split("-")) if part)
    if not result:
        return prefix if prefix != "_" else "_unnamed"
    if result[0].isdigit():
        result = prefix + result
    if result in _RESERVED:
        result += "_"
    return result


def _clean(part: str) -> str:
    """Replace invalid characters by ``_``, dropping those that would only pad the ends."""
    core = _INVALID.sub("_", part)
    if not part.startswith("_"):
        core = core.lstrip("_")
    if not part.endswith("_"):
        core = core.rstrip("_")
    return core


class IdMaker:
    """Hands out unique ids in one namespace: ``name``, then ``name-2``, ``name-3``...

    Ids differing only in case count as distinct, as they do in a catalog.
    """

    def __init__(self, reserved: tuple[str, ...] = ()) -> None:
        self._used: set[str] = set(reserved)

    def take(self, name: str, *, prefix: str = "_") -> str:
        base = make_id(name, prefix=prefix)
        candidate, number = base, 1
        while candidate in self._used:
            number += 1
            candidate = f"{base}-{number}"
        self._used.add(candidate)
        return candidate


def build_catalog(
    data: dict[str, Any], *, path: str | Path, lines: Mapping[Location, int] | None = None
) -> Catalog:
    """Validate catalog data made by a reader; errors name the file and, when known, the line.

    ``lines`` maps locations such as ``("slots", "frame")`` or ``("rules", 3)`` to source lines.
    """
    try:
        return catalog_from_data(data, path=str(path), lines=lines or {})
    except RecursionError:
        raise CatalogError(
            "a rule is too long or too deeply nested for the expression language; split it",
            path=str(path),
        ) from None
