"""Reading YAML catalog data with the line of every location, safely.

Imported by :func:`._loading.read_data` with the first YAML file it reads (DIMACS, XCSP and
UVL models never load PyYAML). The loader is PyYAML's safe one (libyaml's when PyYAML was
built with it); numbers too long for ``int()`` and impossible dates fail with their line, and
:func:`_lines` refuses odd keys, deep nesting and alias bombs before anything is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from .._errors import CatalogError
from ._loading import _MAX_INT_DIGITS, MAX_ALIAS_NODES, MAX_NESTING, Location, _too_deep

__all__ = ["read_yaml"]

#: libyaml's safe loader when PyYAML was built with it, else the pure-Python one: both accept
#: the same documents, and the C one is what makes large catalogs load in reasonable time.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_YAML_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader; numbers too long for ``int()`` and impossible dates fail with a line."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = sum(char.isdigit() for char in str(node.value))
        if digits > _MAX_INT_DIGITS:
            raise _BadScalar(
                f"a number with {digits} digits; numbers have at most {_MAX_INT_DIGITS} digits",
                node,
            )
        value: int = super().construct_yaml_int(node)
        return value

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise _BadScalar(
                f"{node.value!r} is not a valid date or time ({exc}); write a real date "
                "as YYYY-MM-DD",
                node,
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


class _BadScalar(ValueError):
    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1


def _lines(root: yaml.Node, found: dict[Location, int], path: str) -> None:
    """Record the line of every location; refuse odd keys, deep nesting and alias bombs.

    Iterative (a stack, not recursion), so hostile nesting cannot exhaust the interpreter's
    stack. A node reached twice is an alias: the nodes it repeats count against
    :data:`MAX_ALIAS_NODES`.
    """
    seen: set[int] = set()
    repeated = 0
    stack: list[tuple[yaml.Node, Location]] = [(root, ())]
    while stack:
        node, where = stack.pop()
        found.setdefault(where, node.start_mark.line + 1)
        if len(where) > MAX_NESTING:
            raise CatalogError(
                f"the data is nested more than {MAX_NESTING} levels deep; a catalog needs far "
                "fewer",
                path=path,
                line=node.start_mark.line + 1,
            )
        if id(node) in seen:
            repeated += 1
            if repeated > MAX_ALIAS_NODES:
                raise CatalogError(
                    f"YAML aliases (*name) repeat more than {MAX_ALIAS_NODES} nodes; an alias "
                    "that expands to so much data is refused (write the data out instead)",
                    path=path,
                    line=node.start_mark.line + 1,
                )
        else:
            seen.add(id(node))
        stack.extend(_children(node, where, found, path))


def _children(
    node: yaml.Node, where: Location, found: dict[Location, int], path: str
) -> Iterator[tuple[yaml.Node, Location]]:
    if isinstance(node, yaml.MappingNode):
        keys: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise CatalogError(
                    "a key is a list or a mapping; keys are text",
                    path=path,
                    line=line,
                    where=where,
                )
            if key_node.tag.endswith((":bool", ":null")):
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
            found.setdefault((*where, key), line)
            yield value_node, (*where, key)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield item, (*where, index)


def read_yaml(text: str, name: str) -> tuple[Any, dict[Location, int]]:
    """The data of a YAML document and the line of every location in it (``name``: the file,
    for errors)."""
    lines: dict[Location, int] = {}
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = None
        if root is not None:
            _lines(root, lines, name)
            data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "malformed YAML"
        raise CatalogError(f"invalid YAML: {problem}", path=name, line=line) from None
    except _BadScalar as exc:
        raise CatalogError(f"invalid YAML: {exc}", path=name, line=exc.line) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML parse error is marked
        raise CatalogError(f"invalid YAML: {exc}", path=name) from None
    except RecursionError:  # pragma: no cover - _lines refuses deep nesting first
        raise _too_deep(name) from None
    finally:
        loader.dispose()
    return data, lines
