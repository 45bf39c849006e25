"""A lowered :class:`~modcfg.lower.Problem`'s rules as CNF over Boolean variables.

Each slot variable is encoded by the size of its whole domain (value filters are not encoded:
queries apply them as literal weights, so one circuit serves every customer's choices):

- one value: no Boolean variable (the value always holds);
- two values: one Boolean variable, true for the second value;
- more values: one indicator per value, exactly one of them true (an at-least-one clause and
  pairwise at-most-one clauses).

A clause rule becomes one clause (the literals of the values its masks allow); a tabulated
rule becomes one clause per combination it forbids. Invariant: the models of the CNF are in
one-to-one correspondence with the value assignments that every rule allows, so counts over
the circuit are counts of solutions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import product
from math import prod

from ..._errors import ModcfgError
from ...lower import Problem

__all__ = ["Encoding", "NotCnfError", "encode"]

#: Most clauses a problem's tables may forbid before the problem counts as no CNF problem.
FORBIDDEN_LIMIT = 200_000


class NotCnfError(ModcfgError):
    """A problem whose rules do not lower to a CNF of reasonable size (global sums, tables
    that forbid more combinations than :data:`FORBIDDEN_LIMIT`)."""


@dataclass(frozen=True)
class Encoding:
    """Per slot variable and value, its literal (0: the value always holds)."""

    variables: int
    literals: tuple[tuple[int, ...], ...]
    clauses: tuple[tuple[int, ...], ...]

    def literal(self, var: int, value: int) -> int:
        return self.literals[var][value]

    def value_of(self) -> dict[int, tuple[int, int]]:
        """Which (variable, value) each literal that names a value sets: both literals of a
        two-valued variable, the indicator of each value of a larger one (made once per
        encoding, which every query and sampler of a circuit shares: read it, do not
        change it)."""
        return self._value_of

    @cached_property
    def _value_of(self) -> dict[int, tuple[int, int]]:
        return {
            lit: (var, value)
            for var, literals in enumerate(self.literals)
            for value, lit in enumerate(literals)
            if lit and (len(literals) == 2 or lit > 0)
        }

    def weights(
        self, allowed: Sequence[Sequence[bool]], factors: Sequence[Sequence[int]] | None = None
    ) -> tuple[list[int], bool]:
        """Each literal's weight (literal ``l`` at index ``l``, negative ones wrapping) for
        the value filters ``allowed``: 0 for a value filtered out, else its factor in
        ``factors`` (per variable and value; None: 1); and whether a variable of one value
        is filtered out or weighs 0 (nothing is then a solution)."""
        weight = [1] * (2 * self.variables + 1)
        empty = False
        for var, literals in enumerate(self.literals):
            row = allowed[var]
            if len(literals) == 1:
                empty |= not (row[0] and (factors is None or factors[var][0]))
            elif factors is None:
                for lit, keep in zip(literals, row, strict=True):
                    weight[lit] = int(keep)
            else:
                for lit, keep, times in zip(literals, row, factors[var], strict=True):
                    weight[lit] = times if keep else 0
        return weight, empty

    def narrowed_weights(
        self, before: tuple[list[int], bool], var: int, row: Sequence[bool]
    ) -> tuple[list[int], bool]:
        """What :meth:`weights` gives (without factors) once ``var``'s filter becomes ``row``,
        from what it gave ``before`` (left as it is): a copy with
        ``var``'s literals changed, so that a session of hundreds of choices costs a copy per
        choice rather than a pass over every variable."""
        weight, empty = before
        literals = self.literals[var]
        if len(literals) == 1:
            return weight, empty or not row[0]
        changed = weight.copy()
        for lit, keep in zip(literals, row, strict=True):
            changed[lit] = int(keep)
        return changed, empty


def encode(problem: Problem) -> Encoding:
    """The CNF of ``problem``'s rules (see the module docstring); :class:`NotCnfError` when
    the problem has global sums or tables too large to negate."""
    if problem.resources:
        raise NotCnfError(
            "the compiled engine counts rules, not global sums such as "
            f"'{problem.resources[0].source}': use engine='cpsat' for these needs"
        )
    literals: list[tuple[int, ...]] = []
    clauses: list[tuple[int, ...]] = []
    variables = 0
    for domain in problem.domains:
        size = len(domain.choices)
        if size == 1:
            literals.append((0,))
        elif size == 2:
            variables += 1
            literals.append((-variables, variables))
        else:
            first = variables + 1
            variables += size
            indicators = tuple(range(first, first + size))
            literals.append(indicators)
            clauses.append(indicators)
            clauses.extend((-a, -b) for i, a in enumerate(indicators) for b in indicators[i + 1 :])
    forbidden = 0
    for constraint in problem.constraints:
        if constraint.clause is not None:
            clause = _clause(literals, constraint.scope, constraint.clause)
            if clause is not None:
                clauses.append(clause)
            continue
        sizes = [len(literals[var]) for var in constraint.scope]
        forbidden += prod(sizes) - constraint.size
        if forbidden > FORBIDDEN_LIMIT:
            raise NotCnfError(
                f"rule '{constraint.source}' forbids {prod(sizes) - constraint.size:,} "
                f"combinations: the rules forbid more than {FORBIDDEN_LIMIT:,} in all, too "
                "many clauses for the compiled engine; use engine='decomposition' or 'cpsat'"
            )
        allowed = constraint.allowed
        for row in product(*(range(size) for size in sizes)):
            if row not in allowed:
                negated = [
                    -literals[var][value] for var, value in zip(constraint.scope, row, strict=True)
                ]
                clauses.append(tuple(lit for lit in negated if lit != 0))
    return Encoding(variables, tuple(literals), tuple(clauses))


def _clause(
    literals: list[tuple[int, ...]], scope: tuple[int, ...], masks: tuple[tuple[bool, ...], ...]
) -> tuple[int, ...] | None:
    """The clause of a clause rule (None when one of its values always holds)."""
    lits: list[int] = []
    for var, mask in zip(scope, masks, strict=True):
        chosen = [literals[var][value] for value, keep in enumerate(mask) if keep]
        if len(chosen) == len(mask) or 0 in chosen:
            return None  # every value of the slot satisfies it
        lits.extend(chosen)
    return tuple(lits)
