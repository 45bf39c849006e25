"""Reading catalogs and needs from YAML or JSON, with file and line in every error.

:func:`load_catalog` takes a path or the name of a bundled catalog and picks a reader by the
suffix (or ``format=``): YAML and JSON here, other formats from :data:`FORMAT_READERS`, which
:mod:`modcfg.io` fills when it is imported. Every read keeps the same limits: only regular
files are read (a named pipe or a device is refused without blocking), at most ``max_bytes +
1`` bytes of them; data nested deeper than :data:`MAX_NESTING` levels is refused, and YAML
aliases may repeat at most :data:`MAX_ALIAS_NODES` nodes in all. Every failure is a
:class:`~modcfg.CatalogError` (a :class:`~modcfg.NeedsError` for needs) naming the file and,
when known, the line, with a rule named by its id rather than its position.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .._errors import CatalogError, CatalogNotFoundError, NeedsError, did_you_mean
from .._memory import show_bytes
from ._catalog import Catalog, catalog_error_from_validation
from ._needs import Needs

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_ALIAS_NODES",
    "MAX_NESTING",
    "bundled_catalogs",
    "catalog_from_data",
    "load_catalog",
    "load_needs",
    "read_data",
    "read_file",
    "read_text",
]

Location = tuple[str | int, ...]
#: Readers of other formats, registered by ``modcfg.io``: suffix -> reader(path, max_bytes=)
#: -> Catalog.
FORMAT_READERS: dict[str, Callable[..., Catalog]] = {}
_SUFFIX_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
#: More digits than any catalog number needs (and fewer than ``int()`` refuses).
_MAX_INT_DIGITS = 100
#: Files larger than this are refused unless the caller passes a larger ``max_bytes``.
DEFAULT_MAX_BYTES = 32 * 1024**2
#: Catalog data nests a dozen levels at most; deeper files are refused before anything recurses.
MAX_NESTING = 64
#: YAML aliases may repeat at most this many nodes in all (an "alias bomb" of a few lines
#: expands to billions).
MAX_ALIAS_NODES = 100_000


def bundled_catalogs() -> list[str]:
    """Names of the catalogs shipped with modcfg (``load_catalog("windows")``)."""
    folder = resources.files("modcfg") / "catalogs"
    return sorted(
        entry.name.rsplit(".", 1)[0] for entry in folder.iterdir() if entry.name.endswith(".yaml")
    )


def read_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a whole regular file of at most ``max_bytes`` bytes.

    Named pipes, devices and directories are refused without blocking, and at most
    ``max_bytes + 1`` bytes are ever read (a file may grow after it was checked). Every failure
    is a :class:`CatalogError` naming the file.
    """
    name = str(path)
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer (regular files ignore it)
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise CatalogNotFoundError("file not found", path=name) from None
    except OSError as exc:
        raise CatalogError(f"cannot read {name}: {exc.strerror or exc}", path=name) from None
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise CatalogError(
                f"{name} is not a regular file ({_kind(info.st_mode)}); give the path of a file",
                path=name,
            )
        if info.st_size <= max_bytes:
            try:
                data = file.read(max_bytes + 1)
            except OSError as exc:
                raise CatalogError(
                    f"cannot read {name}: {exc.strerror or exc}", path=name
                ) from None
            if len(data) <= max_bytes:
                return data
        size = max(info.st_size, max_bytes + 1)
    raise CatalogError(
        f"{name} is {'larger than ' if size == max_bytes + 1 else ''}{show_bytes(size)}, more than "
        f"the limit of {show_bytes(max_bytes)}; pass max_bytes= to read larger files",
        path=name,
    )


def read_text(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a whole UTF-8 text file as :func:`read_file` does; a byte-order mark is skipped, and
    text that is not UTF-8 raises a :class:`CatalogError` naming the file and line."""
    data = read_file(path, max_bytes=max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CatalogError(
            f"the file is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8",
            path=str(path),
            line=line,
        ) from None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"  # pragma: no cover - no other kind of file exists on POSIX


def read_data(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, kind: str | None = None
) -> tuple[Any, dict[Location, int]]:
    """Read YAML or JSON (``kind``, by default from the suffix) into plain data plus a map from
    location path to line number."""
    name = str(path)
    text = read_text(path, max_bytes=max_bytes)
    if (kind or ("json" if path.suffix.lower() == ".json" else "yaml")) == "json":
        return _read_json(text, name), {}
    from ._yaml import read_yaml  # PyYAML is imported with the first YAML file read

    return read_yaml(text, name)


def _too_deep(name: str) -> CatalogError:
    return CatalogError(
        f"the data is nested more than {MAX_NESTING} levels deep; a catalog needs far fewer",
        path=name,
    )


def _read_json(text: str, name: str) -> Any:
    try:
        data = json.loads(text, parse_float=_float_marker, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"invalid JSON: {exc.msg}", path=name, line=exc.lineno) from None
    except _DuplicateKey as exc:
        raise CatalogError(
            f"key '{exc}' appears twice in the same object; ids and keys must be unique",
            path=name,
        ) from None
    except RecursionError:
        raise _too_deep(name) from None
    except ValueError as exc:  # int() refuses numbers of thousands of digits
        raise CatalogError(
            f"invalid JSON: a number has too many digits ({exc}); numbers have at most "
            f"{_MAX_INT_DIGITS} digits",
            path=name,
        ) from None
    _check_nesting(data, name)
    return data


def _check_nesting(data: Any, name: str) -> None:
    """Refuse data nested deeper than :data:`MAX_NESTING` (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            raise _too_deep(name)
        if isinstance(item, dict):
            stack.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list):
            stack.extend((value, depth + 1) for value in item)


class _DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _float_marker(text: str) -> float:
    """JSON floats stay floats so money validation can reject them (a float loses cents)."""
    return float(text)


def _line_for(where: Location, lines: Mapping[Location, int]) -> int | None:
    for size in range(len(where), -1, -1):
        line = lines.get(where[:size])
        if line is not None:
            return line
    return None


def _name_rules(where: Location, data: Any) -> str:
    """Say 'rule <id>' rather than 'rule #3' when the raw data has the id."""
    if len(where) >= 2 and where[0] in ("rules", "prices") and isinstance(where[1], int):
        items = data.get(where[0]) if isinstance(data, Mapping) else None
        if (
            isinstance(items, list)
            and where[1] < len(items)
            and isinstance(items[where[1]], Mapping)
        ):
            rule_id = items[where[1]].get("id")
            if isinstance(rule_id, str):
                return rule_id
    return ""


def catalog_from_data(
    data: Any, *, path: str | None = None, lines: Mapping[Location, int] | None = None
) -> Catalog:
    """Validate plain data into a Catalog; errors carry the file and line."""
    lines = lines or {}
    if not isinstance(data, Mapping):
        raise CatalogError(
            "a catalog file holds a mapping with at least 'catalog' and 'slots'", path=path, line=1
        )
    try:
        if all(isinstance(key, str) for key in data):
            # Catalog has its own __init__, and pydantic's model_validate runs a model's
            # after-validators once inside that __init__ and once more around it: calling it
            # directly checks every rule and table row once, not twice
            return Catalog(**data)
        return Catalog.model_validate(data)
    except ValidationError as exc:
        error = catalog_error_from_validation(exc, path)
    except CatalogError as exc:
        error = exc
    rule_id = _name_rules(error.where, data)
    message = error.message
    if rule_id:
        kind = "price rule" if error.where[0] == "prices" else "rule"
        message = message.replace(f"{kind} #{int(error.where[1]) + 1}", f"{kind} '{rule_id}'", 1)
    raise CatalogError(
        message, path=path, line=_line_for(error.where, lines), where=error.where
    ) from None


def load_catalog(
    source: str | Path, *, format: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Catalog:
    """Load a catalog from a YAML/JSON file, another supported format, or a bundled name.

    Files larger than ``max_bytes`` (default 32 MiB) and anything but a regular file (a named
    pipe, a device) are refused with a :class:`CatalogError`.

    >>> catalog = load_catalog("windows")
    >>> len(catalog.slots), catalog.module_count
    (4, 30)
    """
    path = Path(source)
    if format is None and isinstance(source, str) and not path.suffix and not path.exists():
        names = bundled_catalogs()
        if source not in names:
            raise CatalogNotFoundError(
                f"no catalog file or bundled catalog named '{source}'"
                f"{did_you_mean(source, names)} (bundled: {', '.join(names)})"
            )
        bundled = resources.files("modcfg") / "catalogs" / f"{source}.yaml"
        with resources.as_file(bundled) as file:
            return _load_file(file, "yaml", display=f"catalogs/{source}.yaml", max_bytes=max_bytes)
    kind = format or _SUFFIX_FORMATS.get(path.suffix.lower())
    if kind is None:
        _register_readers()
        kind = path.suffix.lower().lstrip(".")
    return _load_file(path, kind, display=str(source), max_bytes=max_bytes)


def _register_readers() -> None:
    if not FORMAT_READERS:
        try:
            import modcfg.io  # noqa: F401  (registers its readers)
        except ImportError:  # pragma: no cover - the io package ships with modcfg
            return


def _load_file(path: Path, kind: str, *, display: str, max_bytes: int) -> Catalog:
    if kind in ("yaml", "json"):
        data, lines = read_data(path, max_bytes=max_bytes, kind=kind)
        return catalog_from_data(data, path=display, lines=lines)
    _register_readers()
    reader = FORMAT_READERS.get(kind)
    if reader is None:
        known = ", ".join(sorted({"yaml", "json", *FORMAT_READERS}))
        if path.is_dir():
            raise CatalogError(
                "is a folder, not a catalog file; give the path of a catalog file in it",
                path=display,
            )
        if kind == "modcfg":
            raise CatalogError(
                "is a compiled catalog (Configurator.save writes them): load it with "
                "modcfg.load_compiled; the command line reads it wherever a catalog goes",
                path=display,
            )
        if not kind:
            problem = "cannot tell the format: the file has no extension"
        else:
            problem = f"cannot read format '{kind}'"
        raise CatalogError(
            f"{problem}; known formats: {known} (name the file with one of these extensions, "
            "or give its format: format= to load_catalog, --format to modcfg import)",
            path=display,
        )
    return reader(path, max_bytes=max_bytes)


def load_needs(source: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Needs:
    """Load a customer's needs from a YAML or JSON file (of at most ``max_bytes`` bytes)."""
    path = Path(source)
    try:
        data, _ = read_data(path, max_bytes=max_bytes)
    except CatalogError as exc:
        raise NeedsError(exc.message.replace("catalog", "needs") + f" ({path})") from None
    return Needs.from_data(data, source=str(path))
