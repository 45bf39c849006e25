"""Boolean formulas over numbered variables, and their clauses.

A formula is built from constants, literals, ``And``, ``Or`` and ``Linear`` comparisons
(``sum(coefficient * variable) + constant  op  0``, for ``a.x + b.x == p.x``); negation is pushed
to the leaves as it is built. :func:`expand` finds clauses by Shannon expansion: it fixes one
variable at a time, simplifies (a comparison is decided as soon as the interval of its sum is on
one side), and turns every path to a false leaf into a clause. :func:`simplify` then removes
subsumed clauses and shortens others by self-subsuming resolution, which turns the raw paths of an
"exactly one" into the usual at-least-one clause and pairwise exclusions.

Formulas stay simplified as they are built: nodes are immutable, :func:`conjunction` and
:func:`disjunction` fold constants and flatten nested operators of their own kind, :func:`linear`
gives a constant for a comparison its terms already decide, and there is no negation node
(:func:`negate` flips literals and comparisons). Both steps are bounded: :func:`expand` gives
up with :class:`Unsupported` after a fixed number of steps, and :func:`simplify` only drops
duplicates and tautologies from a list too long to resolve pairwise.

>>> at_most_one = linear("<=", {1: Decimal(1), 2: Decimal(1), 3: Decimal(1)}, Decimal(-1))
>>> simplify(expand(at_most_one))
[(-1, -2), (-1, -3), (-2, -3)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "And",
    "Clause",
    "Const",
    "Linear",
    "Node",
    "Or",
    "Unsupported",
    "Var",
    "conjunction",
    "disjunction",
    "expand",
    "linear",
    "negate",
    "restrict",
    "simplify",
]

Clause = tuple[int, ...]
#: Nodes :func:`expand` may visit before it gives up.
_EXPANSION_LIMIT = 200_000
#: Clauses beyond which :func:`simplify` skips subsumption and resolution (quadratic in them).
_SIMPLIFY_LIMIT = 3_000


class Unsupported(Exception):
    """A rule or slot has no encoding in clauses; the message says why."""


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class Var:
    index: int
    positive: bool = True


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Linear:
    """``sum(coefficient * variable) + constant  op  0``."""

    op: str
    terms: tuple[tuple[int, Decimal], ...]
    constant: Decimal


Node = Const | Var | And | Or | Linear
_Value = str | None | frozenset[str]
_NEGATED = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def _decide(op: str, low: Decimal, high: Decimal) -> bool | None:
    """Whether ``x op 0`` holds for every / no ``x`` in ``[low, high]``; None when it depends."""
    checks = {
        "==": (low == high == 0, low > 0 or high < 0),
        "!=": (low > 0 or high < 0, low == high == 0),
        "<": (high < 0, low >= 0),
        "<=": (high <= 0, low > 0),
        ">": (low > 0, high <= 0),
        ">=": (low >= 0, high < 0),
    }
    always, never = checks[op]
    return True if always else False if never else None


def linear(op: str, terms: dict[int, Decimal], constant: Decimal) -> Node:
    kept = tuple((var, coef) for var, coef in sorted(terms.items()) if coef != 0)
    low = constant + sum((min(coef, Decimal(0)) for _, coef in kept), Decimal(0))
    high = constant + sum((max(coef, Decimal(0)) for _, coef in kept), Decimal(0))
    decided = _decide(op, low, high)
    if decided is not None:
        return Const(decided)
    return Linear(op, kept, constant)


def conjunction(operands: Iterable[Node]) -> Node:
    """``a and b and ...``, with constants folded and nested conjunctions flattened."""
    return _combine(operands, is_and=True)


def disjunction(operands: Iterable[Node]) -> Node:
    """``a or b or ...``, with constants folded and nested disjunctions flattened."""
    return _combine(operands, is_and=False)


def _combine(operands: Iterable[Node], *, is_and: bool) -> Node:
    kept: list[Node] = []
    for operand in operands:
        if isinstance(operand, Const):
            if operand.value != is_and:
                return operand
            continue
        if isinstance(operand, And if is_and else Or):
            kept.extend(operand.operands)
        else:
            kept.append(operand)
    if not kept:
        return Const(is_and)
    if len(kept) == 1:
        return kept[0]
    return And(tuple(kept)) if is_and else Or(tuple(kept))


def negate(node: Node) -> Node:
    match node:
        case Const(value):
            return Const(not value)
        case Var(index, positive):
            return Var(index, not positive)
        case And(operands):
            return disjunction(negate(operand) for operand in operands)
        case Or(operands):
            return conjunction(negate(operand) for operand in operands)
        case Linear(op, terms, constant):
            return Linear(_NEGATED[op], terms, constant)
    raise TypeError(node)  # pragma: no cover


def restrict(node: Node, var: int, value: bool) -> Node:  # noqa: FBT001
    """The formula with ``var`` fixed, simplified (constants propagate upward)."""
    match node:
        case Const():
            return node
        case Var(index, positive):
            return Const(value == positive) if index == var else node
        case And(operands):
            return conjunction(restrict(operand, var, value) for operand in operands)
        case Or(operands):
            return disjunction(restrict(operand, var, value) for operand in operands)
        case Linear(op, terms, constant):
            if all(index != var for index, _ in terms):
                return node
            remaining = {index: coef for index, coef in terms if index != var}
            shift = sum((coef for index, coef in terms if index == var), Decimal(0))
            return linear(op, remaining, constant + (shift if value else 0))
    raise TypeError(node)  # pragma: no cover


def _first_var(node: Node) -> int:
    match node:
        case Var(index, _):
            return index
        case And(operands) | Or(operands):
            return _first_var(operands[0])
        case Linear(_, terms, _):
            return terms[0][0]
    raise TypeError(node)  # pragma: no cover


def expand(node: Node) -> list[Clause]:
    """Clauses of ``node`` by Shannon expansion: one clause per path to a false leaf."""
    clauses: list[Clause] = []
    path: list[int] = []
    visits = 0

    def visit(current: Node) -> None:
        nonlocal visits
        visits += 1
        if visits > _EXPANSION_LIMIT:
            raise Unsupported("the formula is too large to turn into clauses")
        if isinstance(current, Const):
            if not current.value:
                clauses.append(tuple(-literal for literal in path))
            return
        var = _first_var(current)
        for value in (False, True):
            path.append(var if value else -var)
            visit(restrict(current, var, value))
            path.pop()

    visit(node)
    return clauses


def simplify(clauses: list[Clause]) -> list[Clause]:
    """Drop tautologies and subsumed clauses; shorten by self-subsuming resolution.

    >>> simplify([(1, -2), (1, 2, -3), (1, 2)])
    [(1,)]
    """
    unique: dict[frozenset[int], None] = {}
    for clause in clauses:
        literals = frozenset(clause)
        if not any(-literal in literals for literal in literals):
            unique[literals] = None
    current = list(unique)
    changed = len(current) <= _SIMPLIFY_LIMIT
    while changed:
        changed = False
        current.sort(key=lambda literals: (len(literals), sorted(literals)))
        kept: list[frozenset[int]] = []
        for literals in current:
            reduced = _reduce(literals, kept)
            changed = changed or reduced != literals
            if reduced is not None and reduced not in kept:
                kept.append(reduced)
        current = kept
    result = [tuple(sorted(literals, key=abs)) for literals in current]
    return sorted(result, key=lambda clause: (len(clause), [abs(literal) for literal in clause]))


def _reduce(clause: frozenset[int], shorter: list[frozenset[int]]) -> frozenset[int] | None:
    """``clause`` shortened by resolution with ``shorter`` clauses; None when one subsumes it."""
    for other in shorter:
        rest = other - clause
        if not rest:
            return None
        if len(rest) == 1:
            (literal,) = rest
            if -literal in clause:
                clause = clause - {-literal}
    return clause
