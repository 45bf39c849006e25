"""XCSP 2.1 constraint networks with extensional relations, read as catalogs.

Each variable becomes an ``exactly_one`` slot whose modules are its domain values: value ``3`` is
module ``v3`` (label ``"3"``), the joker value a domain declares with ``optional="-1"`` is module
``none`` (label ``"-1"``), any other negative value ``-n`` is module ``mn``. Each constraint
becomes a ``table`` rule over its scope: a ``supports`` relation gives ``allow`` rows, a
``conflicts`` relation ``deny`` rows. Tuples naming a value outside a variable's domain can never
match and are left out. A configuration of the catalog is an assignment of every variable that
satisfies every constraint, so the catalog counts the network's solutions.

Intensional constraints (predicates), global constraints and soft relations are not supported
and raise :class:`~modcfg.CatalogError`. Sales histories over such a network are read by
:func:`~modcfg.io.read_sales`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from math import prod
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import CatalogError
from ..model import DEFAULT_MAX_BYTES, Catalog, Rule, TableRule, read_file
from ._bulk import BadToken, integer_runs
from ._common import IdMaker, Location, build_catalog
from ._xml import Element, parse_xml

__all__ = ["read_xcsp", "value_id"]

_INTEGER = re.compile(r"-?[0-9]{1,18}")
_RANGE = re.compile(r"(-?[0-9]{1,18})\.\.(-?[0-9]{1,18})")
_TOKEN = re.compile(r"\S+")
_MAX_DOMAIN = 100_000


def value_id(value: int, joker: int | None = None) -> str:
    """The module id of a domain value.

    >>> value_id(3), value_id(-1, joker=-1), value_id(-2)
    ('v3', 'none', 'm2')
    """
    if value == joker:
        return "none"
    return f"v{value}" if value >= 0 else f"m{-value}"


def read_xcsp(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Catalog:
    """Read an XCSP 2.1 instance with extensional constraints as a catalog of table rules.

    Files larger than ``max_bytes`` are refused with a :class:`~modcfg.CatalogError`.

    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "pair.xml"
    >>> _ = file.write_text(
    ...     '<instance><domains><domain name="D">0 1</domain></domains>'
    ...     '<variables><variable name="x" domain="D"/><variable name="y" domain="D"/></variables>'
    ...     '<relations><relation name="R" arity="2" semantics="supports">0 1|1 0</relation>'
    ...     '</relations><constraints><constraint name="c" scope="x y" reference="R"/>'
    ...     "</constraints></instance>")
    >>> catalog = read_xcsp(file)
    >>> list(catalog.slots["x"].modules), catalog.rules[0].table.allow
    (['v0', 'v1'], (('v0', 'v1'), ('v1', 'v0')))
    """
    display = str(path)
    root = parse_xml(read_file(path, max_bytes=max_bytes), display)
    return _Reader(root, display).catalog(Path(path).stem)


class _Reader:
    def __init__(self, root: Element, display: str) -> None:
        self.root = root
        self.display = display
        self.arrays: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def fail(self, message: str, line: int | None) -> CatalogError:
        return CatalogError(message, path=self.display, line=line)

    def section(self, tag: str, item: str, *, required: bool = True) -> list[Element]:
        element = self.root.find(tag)
        if element is None:
            if required:
                raise self.fail(f"the instance has no <{tag}> section", self.root.line)
            return []
        items = [child for child in element.children if child.tag == item]
        count_attribute = "nb" + tag[0].upper() + tag[1:]
        self.check_count(element, count_attribute, len(items), f"<{item}> elements")
        return items

    def check_count(self, element: Element, attribute: str, found: int, what: str) -> None:
        declared = element.attrs.get(attribute)
        if declared is not None and declared.strip() != str(found):
            raise self.fail(
                f'<{element.tag}> declares {attribute}="{declared}" but holds {found} {what}',
                element.line,
            )

    def attr(self, element: Element, name: str) -> str:
        value = element.attrs.get(name)
        if value is None or not value.strip():
            raise self.fail(f"<{element.tag}> needs a '{name}' attribute", element.line)
        return value.strip()

    def line_of(self, element: Element, text: str, position: int) -> int:
        return (element.text_line or element.line) + text.count("\n", 0, position)

    def integers(
        self, element: Element, text: str, start: int = 0, end: int | None = None
    ) -> Iterator[int]:
        """The integers and ``a..b`` ranges of ``text[start:end]``; errors name the line."""
        for match in _TOKEN.finditer(text, start, len(text) if end is None else end):
            token = match.group()
            if _INTEGER.fullmatch(token):
                yield int(token)
                continue
            bounds = _RANGE.fullmatch(token)
            if bounds is None:
                line = self.line_of(element, text, match.start())
                raise self.fail(f"{token[:40]!r} is not an integer value", line)
            low, high = int(bounds.group(1)), int(bounds.group(2))
            if high - low >= _MAX_DOMAIN:
                raise self.fail(
                    f"range {token} is too large for a slot",
                    self.line_of(element, text, match.start()),
                )
            yield from range(low, high + 1)

    def catalog(self, stem: str) -> Catalog:
        if "XCSP3" in self.root.attrs.get("format", "").replace(" ", "").upper():
            raise self.fail(
                "this is an XCSP3 instance; only XCSP 2.1 with extensional relations can be read",
                self.root.line,
            )
        if self.root.tag != "instance":
            raise self.fail(
                f"the root element is <{self.root.tag}>, not an XCSP <instance>", self.root.line
            )
        presentation = self.root.find("presentation")
        name = (
            presentation.attrs.get("name", "") if presentation is not None else ""
        ).strip() or stem
        domains = self.domains()
        slots, lines, variables = self.variables(domains)
        rules = self.constraints(variables, lines)
        data = {
            "catalog": name or "xcsp",
            "description": "XCSP network: each slot is a variable, each table a constraint",
            "slots": slots,
            "rules": rules,
        }
        return build_catalog(data, path=self.display, lines=lines)

    def domains(self) -> dict[str, tuple[list[int], int | None]]:
        domains: dict[str, tuple[list[int], int | None]] = {}
        for element in self.section("domains", "domain"):
            name = self.attr(element, "name")
            if name in domains:
                raise self.fail(f"domain '{name}' is declared twice", element.line)
            values = list(self.integers(element, element.text))
            if len(set(values)) != len(values):
                raise self.fail(f"domain '{name}' lists a value twice", element.line)
            if not values:
                raise self.fail(f"domain '{name}' has no values", element.line)
            self.check_count(element, "nbValues", len(values), "values")
            joker_text = element.attrs.get("optional")
            joker = None
            if joker_text is not None:
                if not _INTEGER.fullmatch(joker_text.strip()) or int(joker_text) not in values:
                    raise self.fail(
                        f"domain '{name}': optional=\"{joker_text}\" is not one of its values",
                        element.line,
                    )
                joker = int(joker_text)
            domains[name] = (values, joker)
        return domains

    def variables(
        self, domains: dict[str, tuple[list[int], int | None]]
    ) -> tuple[dict[str, Any], dict[Location, int], dict[str, tuple[str, dict[int, str]]]]:
        maker = IdMaker()
        slots: dict[str, Any] = {}
        lines: dict[Location, int] = {}
        variables: dict[str, tuple[str, dict[int, str]]] = {}
        for element in self.section("variables", "variable"):
            name, domain = self.attr(element, "name"), self.attr(element, "domain")
            if name in variables:
                raise self.fail(f"variable '{name}' is declared twice", element.line)
            if domain not in domains:
                raise self.fail(
                    f"variable '{name}' uses domain '{domain}', which is not declared", element.line
                )
            values, joker = domains[domain]
            slot_id = maker.take(name, prefix="x")
            modules = {value: value_id(value, joker) for value in values}
            variables[name] = (slot_id, modules)
            slots[slot_id] = {
                "label": name,
                "cardinality": "exactly_one",
                "modules": {module: {"label": str(value)} for value, module in modules.items()},
            }
            lines[("slots", slot_id)] = element.line
        return slots, lines, variables

    def relations(self) -> dict[str, tuple[Element, bool, np.ndarray]]:
        declared: dict[str, tuple[Element, bool, int]] = {}
        for element in self.section("relations", "relation", required=False):
            name = self.attr(element, "name")
            if name in declared:
                raise self.fail(f"relation '{name}' is declared twice", element.line)
            semantics = element.attrs.get("semantics", "supports").strip()
            if semantics not in ("supports", "conflicts"):
                raise self.fail(
                    f"relation '{name}' has semantics '{semantics}'; only supports and conflicts "
                    "can be read",
                    element.line,
                )
            arity_text = self.attr(element, "arity")
            if not _INTEGER.fullmatch(arity_text) or not 0 < int(arity_text) <= 1000:
                raise self.fail(f"relation '{name}' has arity '{arity_text}'", element.line)
            declared[name] = (element, semantics == "supports", int(arity_text))
        shapes = {name: (element, arity) for name, (element, _, arity) in declared.items()}
        relations: dict[str, tuple[Element, bool, np.ndarray]] = {}
        for name, tuples in self.tuples(shapes).items():
            element, supports, _ = declared[name]
            self.check_count(element, "nbTuples", len(tuples), "tuples")
            relations[name] = (element, supports, tuples)
        return relations

    def tuples(self, shapes: dict[str, tuple[Element, int]]) -> dict[str, np.ndarray]:
        """The tuples of each relation (by name: its element and arity), one row each: values
        separated by blanks, tuples by ``|``. The texts are read in bulk, all at once joined by
        ``|`` (a Renault-style file holds hundreds of relations of a few tuples each); a
        relation with ``a..b`` ranges is read value by value."""
        texts = {name: element.text for name, (element, _) in shapes.items()}
        bulk = [name for name, text in texts.items() if ".." not in text]
        joined = "|".join(texts[name] for name in bulk)
        # where each relation's text starts in the joined text, and the number of its first tuple
        starts = np.cumsum([0] + [len(texts[name]) + 1 for name in bulk])
        firsts = np.cumsum([0] + [texts[name].count("|") + 1 for name in bulk])
        try:
            values, groups, _, _ = integer_runs(joined, separator="|")
        except BadToken as exc:
            which = int(np.searchsorted(starts, exc.offset, side="right")) - 1
            element = shapes[bulk[which]][0]
            offset = exc.offset - int(starts[which])
            raise self.fail(
                f"{exc.token[:40]!r} is not an integer value",
                self.line_of(element, texts[bulk[which]], offset),
            ) from None
        found = self.shaped({name: shapes[name] for name in bulk}, texts, values, groups, firsts)
        for name in (name for name, text in texts.items() if ".." in text):  # (file order)
            values, groups = self.ranged_tuples(shapes[name][0], texts[name])
            firsts = np.array([0, texts[name].count("|") + 1])
            found |= self.shaped({name: shapes[name]}, texts, values, groups, firsts)
        return {name: found[name] for name in texts}

    def shaped(
        self,
        shapes: dict[str, tuple[Element, int]],
        texts: dict[str, str],
        values: np.ndarray,
        groups: np.ndarray,
        firsts: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """The relations' values as tuples, one row of ``arity`` values each. Relation ``k``
        (in the order of ``shapes``) holds groups ``firsts[k]`` to ``firsts[k + 1]``. A group of
        another size than its relation's arity is refused, by the line of its first value; an
        empty group (after a closing ``|``) holds no tuple."""
        arities = np.array([arity for _, arity in shapes.values()], dtype=np.int64)
        sizes = np.bincount(groups, minlength=int(firsts[-1]))
        wrong = np.flatnonzero((sizes != 0) & (sizes != np.repeat(arities, np.diff(firsts))))
        names = list(shapes)
        if len(wrong):
            group = int(wrong[0])
            which = int(np.searchsorted(firsts, group, side="right")) - 1
            element, arity = shapes[names[which]]
            members = np.flatnonzero(groups == group)
            shown = " ".join(map(str, values[members].tolist()))
            text = texts[names[which]]
            offset = _nth(text, "|", group - int(firsts[which]))
            offset += len(text) - offset - len(text[offset:].lstrip())  # its first value
            raise self.fail(
                f"relation '{names[which]}': tuple {shown} has {len(members)} values, not {arity}",
                self.line_of(element, text, offset),
            )
        bounds = np.searchsorted(groups, firsts).tolist()
        return {
            name: values[bounds[k] : bounds[k + 1]].reshape(-1, arities[k])
            for k, name in enumerate(names)
        }

    def ranged_tuples(self, element: Element, text: str) -> tuple[np.ndarray, np.ndarray]:
        values: list[int] = []
        groups: list[int] = []
        start = 0
        for group, chunk in enumerate(text.split("|")):
            end = start + len(chunk)
            found = list(self.integers(element, text, start, end))
            values += found
            groups += [group] * len(found)
            start = end + 1
        return np.array(values, dtype=np.int64), np.array(groups, dtype=np.int64)

    def constraints(
        self, variables: dict[str, tuple[str, dict[int, str]]], lines: dict[Location, int]
    ) -> list[Rule | dict[str, Any]]:
        relations = self.relations()
        maker = IdMaker()
        rules: list[Rule | dict[str, Any]] = []
        for element in self.section("constraints", "constraint"):
            name, reference = self.attr(element, "name"), self.attr(element, "reference")
            scope = self.attr(element, "scope").split()
            for variable in scope:
                if variable not in variables:
                    raise self.fail(
                        f"constraint '{name}' names variable '{variable}', which is not declared",
                        element.line,
                    )
            if reference not in relations:
                raise self.fail(
                    f"constraint '{name}' refers to '{reference}', which is not an extensional "
                    "relation of this file (predicates and global constraints are not supported)",
                    element.line,
                )
            relation, supports, tuples = relations[reference]
            arity = int(relation.attrs["arity"])
            declared = element.attrs.get("arity", str(len(scope))).strip()
            if len(scope) != arity or declared != str(arity):
                raise self.fail(
                    f"constraint '{name}' has {len(scope)} variables in its scope but relation "
                    f"'{reference}' has arity {arity}",
                    element.line,
                )
            rule_id = maker.take(name, prefix="c")
            lines[("rules", len(rules))] = element.line
            rule = self.table(rule_id, name, reference, scope, variables, supports, tuples)
            if rule is not None:
                rules.append(rule)
            else:
                del lines[("rules", len(rules))]
        return rules

    def domain_arrays(
        self, variable: str, modules: dict[int, str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A variable's values sorted, their positions in the domain, and its module ids (made
        once per variable: a variable is in many constraints)."""
        found = self.arrays.get(variable)
        if found is None:
            values = np.fromiter(modules, dtype=np.int64, count=len(modules))
            order = np.argsort(values)
            found = (values[order], order, np.array(list(modules.values()), dtype=object))
            self.arrays[variable] = found
        return found

    def table(
        self,
        rule_id: str,
        name: str,
        reference: str,
        scope: list[str],
        variables: dict[str, tuple[str, dict[int, str]]],
        supports: bool,  # noqa: FBT001
        tuples: np.ndarray,
    ) -> Rule | dict[str, Any] | None:
        unique = list(dict.fromkeys(scope))
        keep = np.ones(len(tuples), dtype=bool)
        first = {variable: scope.index(variable) for variable in unique}
        for position, variable in enumerate(scope):  # a variable twice: equal values only
            if position != first[variable]:
                keep &= tuples[:, position] == tuples[:, first[variable]]
        codes = np.empty((len(tuples), len(unique)), dtype=np.int64)
        names: list[np.ndarray] = []
        for column, variable in enumerate(unique):
            domain, order, modules = self.domain_arrays(variable, variables[variable][1])
            values = tuples[:, first[variable]]
            place = np.minimum(np.searchsorted(domain, values), len(domain) - 1)
            keep &= domain[place] == values  # values outside the domain never match
            codes[:, column] = order[place]
            names.append(modules)
        codes = codes[keep]
        sizes = [len(column) for column in names]
        if prod(sizes) < 2**62:  # each row as one integer: a flat unique is much faster
            weights = [prod(sizes[:column]) for column in range(len(sizes))]
            key = codes @ np.array(weights, dtype=np.int64)
            _, firsts = np.unique(key, return_index=True)
        else:
            _, firsts = np.unique(codes, axis=0, return_index=True)
        codes = codes[np.sort(firsts)]  # each row once, in the file's order
        message = f"constraint {name} (relation {reference})"
        if supports and not len(codes):
            return {"id": rule_id, "formula": "false", "message": message + ": no tuple is allowed"}
        if not len(codes):
            return None
        rows = tuple(
            zip(*(names[c][codes[:, c]].tolist() for c in range(len(unique))), strict=True)
        )
        slot_ids = tuple(variables[variable][0] for variable in unique)
        return TableRule.from_rows(rule_id, slot_ids, rows, allow=supports, message=message)


def _nth(text: str, char: str, count: int) -> int:
    """The offset just after the ``count``-th ``char`` of ``text`` (0 for none)."""
    offset = 0
    for _ in range(count):
        offset = text.index(char, offset) + 1
    return offset
