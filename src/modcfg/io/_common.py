"""Pieces every reader and writer shares: reading files, turning names into ids, building catalogs.

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
from ..model import DEFAULT_MAX_BYTES, Catalog, catalog_from_data, read_file

__all__ = [
    "SELECTED",
    "IdMaker",
    "build_catalog",
    "display_name",
    "make_id",
    "read_bytes",
    "read_text",
]

#: The module id of a Boolean slot (a feature or a propositional variable): chosen = true.
SELECTED = "selected"

#: Words of the expression language that cannot start a reference (``not.x`` does not parse).
_RESERVED = frozenset({"and", "or", "not", "implies", "in", "true", "false", "total", "count"})
_INVALID = re.compile(r"[^A-Za-z0-9_]+")

Location = tuple[str | int, ...]


def display_name(path: str | Path) -> str:
    """The file name as the user gave it, for error messages."""
    return str(path)


def read_bytes(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a whole regular file of at most ``max_bytes`` bytes; every failure becomes a
    :class:`CatalogError` naming the file."""
    return read_file(path, max_bytes=max_bytes)


def read_text(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a UTF-8 text file (a byte-order mark is skipped); errors name the file and line."""
    data = read_bytes(path, max_bytes=max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CatalogError(
            f"the file is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8",
            path=display_name(path),
            line=line,
        ) from None


def make_id(name: str, *, prefix: str = "_") -> str:
    """A valid modcfg id made from any name (not unique: see :class:`IdMaker`).

    >>> make_id("featureNIO"), make_id("3D view"), make_id("--a--b--"), make_id("Größe")
    ('featureNIO', '_3D_view', 'a-b', 'Grosse')
    """
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
        return catalog_from_data(data, path=display_name(path), lines=lines or {})
    except RecursionError:
        raise CatalogError(
            "a rule is too long or too deeply nested for the expression language; split it",
            path=display_name(path),
        ) from None
