"""DIMACS CNF: read a formula as a catalog, write a catalog as a formula.

Reading: every variable of the ``p cnf V C`` line becomes an optional slot with one module,
``selected`` (chosen = true), named after its ``c N name`` comment line when there is one (the
name made into an id, the label keeping it; unnamed variables are ``x1``, ``x2``...). Every
clause becomes a formula rule, so the catalog's configurations are the formula's models over all
``V`` variables.

Writing: one variable per module (``c N slot.module``, or ``c N slot`` for a slot with a single
module), exactly-one or at-most-one clauses per slot, then the clauses of every rule (see
:mod:`modcfg.io._cnf`). Reading the file back gives a catalog with the same number of
configurations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import CatalogError
from ..model import (
    DEFAULT_MAX_BYTES,
    Catalog,
    ClauseLiteral,
    ConstraintRule,
    Rule,
    Slot,
    TableRule,
    read_text,
)
from ._bulk import BadToken, integer_runs
from ._cnf import Clause, Encoder, Unsupported
from ._common import SELECTED, IdMaker, Location, build_catalog

__all__ = ["read_dimacs", "write_dimacs"]

_NAME_LINE = re.compile(r"c\s+(\d+)\$?\s+(\S.*?)\s*$")
_MAX_VARIABLES = 200_000
#: Variables a file may declare beyond one per byte: every further variable would be a slot
#: that no clause and no name mentions, and a two-line file could otherwise ask for millions.
_FREE_VARIABLES = 1_000
#: The longest clause read by default (``max_clause_literals=`` changes it).
MAX_CLAUSE_LITERALS = 50_000
#: Longer clauses become one-row deny tables: the expression parser nests one level per operand.
_LONGEST_FORMULA = 100
_INTEGER = re.compile(r"-?[0-9]{1,18}")


def read_dimacs(
    path: str | Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_clause_literals: int = MAX_CLAUSE_LITERALS,
) -> Catalog:
    """Read a DIMACS CNF file; each variable is a slot, each clause a rule.

    Files larger than ``max_bytes``, clauses of more than ``max_clause_literals`` literals and
    headers that declare far more variables or clauses than the file could use are refused with
    a :class:`~modcfg.CatalogError` naming the line.

    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "tiny.dimacs"
    >>> _ = file.write_text("c 1 Base\\nc 2 Extra\\np cnf 2 1\\n1 -2 0\\n")
    >>> catalog = read_dimacs(file)
    >>> list(catalog.slots), catalog.rules[0].constraint
    (['Base', 'Extra'], 'Base.selected or not Extra.selected')
    """
    display = str(path)
    text = read_text(path, max_bytes=max_bytes)

    def fail(message: str, line: int | None) -> CatalogError:
        return CatalogError(message, path=display, line=line)

    names: dict[int, tuple[str, int]] = {}
    header: tuple[int, int, int] | None = None
    body: list[str] = []  # the clause lines, read in bulk below
    body_lines: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line == "c" or line.startswith(("c ", "c\t")):
            match = _NAME_LINE.match(line)
            if match:
                index = int(match.group(1))
                if index in names:
                    raise fail(
                        f"variable {index} is named twice (first on line {names[index][1]})", number
                    )
                names[index] = (match.group(2), number)
            continue
        if line.startswith("%"):
            break
        if line.startswith("p"):
            if header is not None:
                raise fail(f"a second 'p cnf' line (the first is on line {header[2]})", number)
            parts = line.split()
            if (
                len(parts) != 4
                or parts[1] != "cnf"
                or not all(_INTEGER.fullmatch(part) and part[0] != "-" for part in parts[2:])
            ):
                raise fail(
                    f"malformed problem line {line[:80]!r}; write it as 'p cnf VARIABLES CLAUSES'",
                    number,
                )
            header = (int(parts[2]), int(parts[3]), number)
            problem = _header_problem(header[0], header[1], len(text))
            if problem:
                raise fail(problem, number)
            continue
        if header is None:
            raise fail("a clause comes before the 'p cnf VARIABLES CLAUSES' line", number)
        body.append(line)
        body_lines.append(number)
    if header is None:
        raise fail("no 'p cnf VARIABLES CLAUSES' line: is this a DIMACS CNF file?", None)
    variables, expected, header_line = header
    clauses = _clauses(body, body_lines, variables, max_clause_literals, fail)
    if len(clauses) != expected:
        raise fail(
            f"the problem line declares {expected} clauses but the file has {len(clauses)}",
            header_line,
        )
    for index, (_, line_number) in names.items():
        if not 1 <= index <= variables:
            raise fail(
                f"comment names variable {index}, but the file has {variables} variables",
                line_number,
            )
    return _catalog(Path(path).stem, names, variables, clauses, display)


def _clauses(
    body: list[str],
    body_lines: list[int],
    variables: int,
    max_literals: int,
    fail: Callable[[str, int | None], CatalogError],
) -> list[tuple[list[int], int]]:
    """The clauses of the clause lines, each with the line it starts on, read in one pass over
    the text; the first problem in the file's order raises, naming its line."""
    text = "\n".join(body)
    line_starts = np.cumsum([0, *(len(line) + 1 for line in body[:-1])])

    def line_at(offset: int) -> int:
        return body_lines[int(np.searchsorted(line_starts, offset, side="right")) - 1]

    try:
        values, _, starts, ends = integer_runs(text)
    except BadToken as exc:
        at_end = not text[exc.offset + len(exc.token) :].strip()
        raise fail(
            f"{exc.token[:40]!r} is not a literal (a non-zero integer, or 0 to end a clause)"
            + ("; is the file cut short?" if at_end else ""),
            line_at(exc.offset),
        ) from None
    zero = values == 0
    ends_at = np.flatnonzero(zero)
    first = np.concatenate(([0], ends_at[:-1] + 1))[: len(ends_at)]  # each clause's first token
    problems: list[tuple[int, str]] = []  # (offset, message): the first one in the file raises
    padded = np.flatnonzero(zero & (ends - starts != 1))
    if len(padded):
        token = text[starts[padded[0]] : ends[padded[0]]]
        problems.append(
            (
                int(starts[padded[0]]),
                f"{token!r} is not a literal: write 0 alone to end a clause (variables are "
                "numbered from 1)",
            )
        )
    above = np.flatnonzero(np.abs(values) > variables)
    if len(above):
        literal = int(values[above[0]])
        problems.append(
            (
                int(starts[above[0]]),
                f"literal {literal} names a variable above the declared {variables}",
            )
        )
    long = np.flatnonzero(ends_at - first > max_literals)
    if len(long):
        clause_start = line_at(int(starts[first[long[0]]]))
        problems.append(
            (
                int(starts[first[long[0]] + max_literals]),
                f"the clause starting on line {clause_start} has more than {max_literals} "
                "literals; pass max_clause_literals= to read longer clauses",
            )
        )
    if problems:
        offset, message = min(problems)
        raise fail(message, line_at(offset))
    if len(values) and not zero[-1]:
        last = int(ends_at[-1]) + 1 if len(ends_at) else 0
        raise fail(
            "the last clause does not end with 0; is the file cut short?",
            line_at(int(starts[last])),
        )
    literals = values.tolist()
    at = np.searchsorted(line_starts, starts[first], side="right") - 1  # each clause's line
    lines = np.asarray(body_lines, dtype=np.int64)[at].tolist()
    return [
        (literals[a:b], line)
        for a, b, line in zip(first.tolist(), ends_at.tolist(), lines, strict=True)
    ]


def _header_problem(variables: int, clauses: int, size: int) -> str:
    """Why a header declares more than the file (``size`` bytes) can use, or ``""``."""
    limit = min(_MAX_VARIABLES, size + _FREE_VARIABLES)
    if variables > limit:
        return (
            f"the problem line declares {variables} variables, more than the {limit} a file of "
            f"{size} bytes may declare (at most {_MAX_VARIABLES}); is the header right?"
        )
    if clauses > size // 2:
        return (
            f"the problem line declares {clauses} clauses, more than a file of {size} bytes "
            "can hold (each clause ends with ' 0'); is the header right?"
        )
    return ""


def _catalog(
    stem: str,
    names: dict[int, tuple[str, int]],
    variables: int,
    clauses: list[tuple[list[int], int]],
    display: str,
) -> Catalog:
    maker = IdMaker()
    slot_ids: dict[int, str] = {}
    labels: dict[int, str] = {}
    slots: dict[str, object] = {}
    lines: dict[Location, int] = {}
    for index in range(1, variables + 1):
        name = names[index][0] if index in names else f"x{index}"
        slot_id = maker.take(name, prefix="x")
        slot_ids[index], labels[index] = slot_id, name
        slots[slot_id] = Slot.feature(slot_id, name)
        if index in names:
            lines[("slots", slot_id)] = names[index][1]
    # each literal's words in messages and in rule texts, made once (as its clause literal)
    words = {
        sign * index: f"{'' if sign > 0 else 'not '}{labels[index]}"
        for index in labels
        for sign in (1, -1)
    }
    texts = {
        sign * index: f"{'' if sign > 0 else 'not '}{slot_ids[index]}.{SELECTED}"
        for index in slot_ids
        for sign in (1, -1)
    }
    terms = {
        sign * index: (slot_ids[index], SELECTED, sign > 0)
        for index in slot_ids
        for sign in (1, -1)
    }
    rules: list[Rule | dict[str, Any]] = []
    for number, (literals, line) in enumerate(clauses, start=1):
        said = " or ".join([words[literal] for literal in literals])
        lines[("rules", number - 1)] = line
        message = f"clause {number}: {said or 'false (an empty clause)'}"
        rules.append(_clause_rule(f"clause-{number}", literals, slot_ids, message, (terms, texts)))
    data = {
        "catalog": stem or "dimacs",
        "description": "DIMACS CNF formula: each slot is a variable (selected = true)",
        "slots": slots,
        "rules": rules,
    }
    return build_catalog(data, path=display, lines=lines)


def _clause_rule(
    rule_id: str,
    literals: list[int],
    slot_ids: dict[int, str],
    message: str,
    made: tuple[dict[int, ClauseLiteral], dict[int, str]],
) -> Rule | dict[str, Any]:
    """A clause as a formula rule, or as a one-row deny table when it is too long for a formula.

    The formula's expression is built with its text (the reader knows both, ``made``: each
    DIMACS literal's clause literal and text: no clause is parsed again). The table forbids
    the one assignment that falsifies the clause: the slot of every positive literal empty
    (``null``), the variable of every negative literal selected.
    """
    if not literals:
        return {"id": rule_id, "formula": "false", "message": message}
    present = set(literals)
    unique = literals if len(present) == len(literals) else list(dict.fromkeys(literals))
    if any(-literal in present for literal in unique):
        unique = [abs(unique[0]), -abs(unique[0])]  # always true: keep it short
    if len(unique) <= _LONGEST_FORMULA:
        terms, texts = made
        return ConstraintRule.clause(
            rule_id,
            [terms[literal] for literal in unique],
            message=message,
            text=" or ".join([texts[literal] for literal in unique]),
        )
    row = tuple(None if literal > 0 else SELECTED for literal in unique)
    slots = tuple(slot_ids[abs(literal)] for literal in unique)
    return TableRule.from_rows(rule_id, slots, (row,), allow=False, message=message)


def write_dimacs(catalog: Catalog, path: str | Path) -> None:
    """Write a catalog as DIMACS CNF with one variable per module.

    Rules over attributes are written too when their slots are few enough to tabulate (an
    attribute of a single-choice slot is a function of its choice). Raises
    :class:`~modcfg.CatalogError` naming the rule (or slot) that has no clause form: quantities
    above 1, attribute rules over too many combinations (``total(weight) <= 80`` over every
    slot).

    >>> import tempfile, pathlib
    >>> from modcfg.model import Catalog
    >>> catalog = Catalog.model_validate({"catalog": "t", "slots": {
    ...     "frame": {"modules": {"oak": {}, "pvc": {}}},
    ...     "sill": {"cardinality": "optional", "modules": {"stone": {}}}},
    ...     "rules": [{"id": "r", "requires": {"if": "sill.stone", "then": "frame.oak"}}]})
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "t.dimacs"
    >>> write_dimacs(catalog, file)
    >>> print(file.read_text(), end="")
    c 1 frame.oak
    c 2 frame.pvc
    c 3 sill
    p cnf 3 3
    1 2 0
    -1 -2 0
    -3 1 0
    """
    Path(path).write_text(dimacs_text(catalog), encoding="utf-8")


def dimacs_text(catalog: Catalog) -> str:
    """The DIMACS CNF text of a catalog (see :func:`write_dimacs`).

    >>> from modcfg.model import Catalog
    >>> catalog = Catalog.model_validate({"catalog": "t", "slots": {
    ...     "size": {"modules": {"s": {}, "m": {}}}}})
    >>> print(dimacs_text(catalog), end="")
    c 1 size.s
    c 2 size.m
    p cnf 2 2
    1 2 0
    -1 -2 0
    """
    encoder = Encoder(catalog)
    clauses: list[Clause] = []
    for slot in catalog.slots.values():
        try:
            clauses += encoder.slot_clauses(slot)
        except Unsupported as exc:
            raise CatalogError(
                f"slot '{slot.id}' cannot be written as DIMACS: {exc}", where=("slots", slot.id)
            ) from None
    for index, rule in enumerate(catalog.rules):
        try:
            clauses += encoder.rule_clauses(rule)
        except Unsupported as exc:
            raise CatalogError(
                f"rule '{rule.id}' cannot be written as DIMACS: {exc}", where=("rules", index)
            ) from None
    lines = []
    for ref, index in encoder.variables.items():
        slot_id = ref.split(".", 1)[0]
        name = slot_id if len(catalog.slots[slot_id].modules) == 1 else ref
        lines.append(f"c {index} {name}")
    lines.append(f"p cnf {len(encoder.variables)} {len(clauses)}")
    lines += [" ".join(str(literal) for literal in (*clause, 0)) for clause in clauses]
    return "\n".join(lines) + "\n"
