"""Reading catalogs and needs from YAML or JSON, with file and line in every error."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .._errors import CatalogError, CatalogNotFoundError, NeedsError, did_you_mean
from ._catalog import Catalog, catalog_error_from_validation
from ._needs import Needs

__all__ = ["bundled_catalogs", "catalog_from_data", "load_catalog", "load_needs", "read_data"]

Location = tuple[str | int, ...]
#: Readers of other formats, registered by ``modcfg.io``: suffix -> reader(path) -> Catalog.
FORMAT_READERS: dict[str, Callable[[Path], Catalog]] = {}
_SUFFIX_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
#: libyaml's loader when PyYAML was built with it (much faster), else the pure-Python one.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def bundled_catalogs() -> list[str]:
    """Names of the catalogs shipped with modcfg (``load_catalog("windows")``)."""
    folder = resources.files("modcfg") / "catalogs"
    return sorted(
        entry.name.rsplit(".", 1)[0] for entry in folder.iterdir() if entry.name.endswith(".yaml")
    )


def _lines(node: yaml.Node, where: Location, found: dict[Location, int], path: str) -> None:
    found.setdefault(where, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        keys: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith((":bool", ":null")):
                raise CatalogError(
                    f"the key {key!r} is read by YAML as {key_node.tag.rsplit(':', 1)[1]}, not "
                    f'as text; quote it: "{key}"',
                    path=path,
                    line=line,
                    where=(*where, key),
                )
            if key in keys:
                raise CatalogError(
                    f"key '{key}' appears twice in the same mapping (first on line "
                    f"{keys[key]}); ids and keys must be unique",
                    path=path,
                    line=line,
                    where=(*where, key),
                )
            keys[key] = line
            found[(*where, key)] = line
            _lines(value_node, (*where, key), found, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*where, index), found, path)


def read_data(path: Path) -> tuple[Any, dict[Location, int]]:
    """Read YAML or JSON into plain data plus a map from location path to line number."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogNotFoundError(f"file not found: {name}", path=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read {name}: {exc}", path=name) from None
    lines: dict[Location, int] = {}
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text, parse_float=_float_marker, object_pairs_hook=_unique_pairs)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"invalid JSON: {exc.msg}", path=name, line=exc.lineno) from None
        except _DuplicateKey as exc:
            raise CatalogError(
                f"key '{exc}' appears twice in the same object; ids and keys must be unique",
                path=name,
            ) from None
        return data, lines
    loader = _YAML_LOADER(text)
    try:
        root = loader.get_single_node()
        data = None
        if root is not None:
            _lines(root, (), lines, name)
            data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "malformed YAML"
        raise CatalogError(f"invalid YAML: {problem}", path=name, line=line) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML parse error is marked
        raise CatalogError(f"invalid YAML: {exc}", path=name) from None
    finally:
        loader.dispose()
    return data, lines


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


def load_catalog(source: str | Path, *, format: str | None = None) -> Catalog:
    """Load a catalog from a YAML/JSON file, another supported format, or a bundled name.

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
            return _load_file(file, "yaml", display=f"catalogs/{source}.yaml")
    kind = format or _SUFFIX_FORMATS.get(path.suffix.lower())
    if kind is None:
        _register_readers()
        kind = path.suffix.lower().lstrip(".")
    return _load_file(path, kind, display=str(source))


def _register_readers() -> None:
    if not FORMAT_READERS:
        try:
            import modcfg.io  # noqa: F401  (registers its readers)
        except ImportError:  # pragma: no cover - the io package ships with modcfg
            return


def _load_file(path: Path, kind: str, *, display: str) -> Catalog:
    if kind in ("yaml", "json"):
        data, lines = read_data(path)
        return catalog_from_data(data, path=display, lines=lines)
    _register_readers()
    reader = FORMAT_READERS.get(kind)
    if reader is None:
        known = ", ".join(sorted({"yaml", "json", *FORMAT_READERS}))
        raise CatalogError(
            f"cannot read format '{kind}' of {display}; known formats: {known} "
            "(pass format= to choose one)",
            path=display,
        )
    return reader(path)


def load_needs(source: str | Path) -> Needs:
    """Load a customer's needs from a YAML or JSON file."""
    path = Path(source)
    try:
        data, _ = read_data(path)
    except CatalogError as exc:
        raise NeedsError(exc.message.replace("catalog", "needs") + f" ({path})") from None
    return Needs.from_data(data, source=str(path))
