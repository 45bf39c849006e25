"""Wide disjunctions as clauses: one mask of values per slot, never a table over the scope.

A rule such as ``a.x or b.y or not c.z or ...`` over many slots allows every combination but
one box (each slot outside its literal's values), so tabulating it costs the product of the
domains while it says one thing per literal. :func:`clause_of` reads an expression as a clause
when it is one: a disjunction (``or``, ``implies``, ``not (... and ...)``, nested) whose
operands each read one slot (or none). Each operand's values come from tabulating it over its
one slot, so every form the expression language has for a literal (module references,
attribute comparisons, counts) is read the same way the tables read it.

Invariants: the masks cover each slot's whole domain (allowed or not); the clause holds exactly
where the expression does; a clause with no slot left, or with one slot whose every value
satisfies it, is reported as such (the caller adds nothing, or an empty constraint).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import ConfigurationView, Expr, evaluate, truthy
from ..model._expr import BoolOp, Not
from ._tabulate import _Scope

__all__: list[str] = []

#: A clause read off an expression: its scope (sorted variables) and, per variable, which of
#: its values satisfy some literal. ``True``: the expression always holds.
Clause = tuple[tuple[int, ...], tuple[tuple[bool, ...], ...]] | bool


def clause_of(helper: _Scope, expr: Expr) -> Clause | None:
    """``expr`` as a clause, ``True`` when it always holds, or None when it is no clause."""
    masks: dict[int, list[bool]] = {}
    for literal in _literals(expr):
        if literal is None:
            return None
        scope = helper.of(literal)
        if not scope:
            if truthy(evaluate(literal, ConfigurationView(helper.catalog, {}))):
                return True
            continue
        if len(scope) > 1:
            return None
        var = scope[0]
        mask = masks.setdefault(var, [False] * len(helper.domains[var].choices))
        for value in helper.rows(literal, scope)[:, 0].tolist():
            mask[value] = True
    if any(all(mask) for mask in masks.values()):
        return True
    scope = tuple(sorted(masks))
    return scope, tuple(tuple(masks[var]) for var in scope)


def _literals(expr: Expr, *, negated: bool = False) -> Iterator[Expr | None]:
    """The operands of the disjunction ``expr`` is (``negated``: of ``not expr``); None for a
    part that makes it no disjunction."""
    if type(expr) is Not:
        yield from _literals(expr.operand, negated=not negated)
    elif type(expr) is BoolOp and expr.op == ("and" if negated else "or"):
        for operand in expr.operands:
            yield from _literals(operand, negated=negated)
    elif type(expr) is BoolOp and expr.op == "implies" and not negated and len(expr.operands) == 2:
        premise, conclusion = expr.operands
        yield from _literals(premise, negated=True)
        yield from _literals(conclusion)
    elif type(expr) is BoolOp and len(expr.operands) == 1:
        yield from _literals(expr.operands[0], negated=negated)
    elif type(expr) is BoolOp:
        yield None
    else:
        yield Not(expr) if negated else expr
