"""Queries over a compiled tree: counts, cheapest, marginals, enumeration, k-best.

A :class:`TreeQuery` applies one customer's needs to a :class:`Tree` without rebuilding it:
value filters (unary needs and choices) and extra relations/score factors attached to single
bags. Every tuple gets a *key* ``cost x M - score``: ordering keys orders by unit price, then by
preference score (``M`` exceeds twice the largest possible score).

The upward and downward passes are vectorised with NumPy over each bag's tuple array. Counts
use 64-bit integers when the product of the domain sizes proves they cannot overflow, and
Python integers (object arrays) otherwise, so every count stays exact.
"""

from __future__ import annotations

import heapq
import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np

from ._problem import Constraint, Factor, Problem, Resource
from ._sums import cost_distribution, count_within
from ._tree import Key, Tree, tuple_projector

__all__ = ["Marginal", "TreeQuery"]

#: Stands for "no completion" in minimum passes (int64 keys stay well below it).
_BIG = 1 << 60
_SAFE = 1 << 58
_PRIMES: list[int] = []


def _primes_above(bound: int) -> list[int]:
    """Primes just below 2**31, as many as it takes for their product to exceed ``bound``."""
    result: list[int] = []
    product, index = 1, 0
    while product <= bound:
        while index >= len(_PRIMES):
            candidate = (_PRIMES[-1] if _PRIMES else (1 << 31)) - 1
            while not _is_prime(candidate):
                candidate -= 1
            _PRIMES.append(candidate)
        result.append(_PRIMES[index])
        product *= _PRIMES[index]
        index += 1
    return result


def _is_prime(number: int) -> bool:
    """Deterministic Miller-Rabin for numbers below 3.4e14 (bases 2, 3, 5, 7, 11, 13, 17)."""
    if number < 2:
        return False
    odd, twos = number - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    for base in (2, 3, 5, 7, 11, 13, 17):
        if base % number == 0:
            continue
        x = pow(base, odd, number)
        if x in (1, number - 1):
            continue
        for _ in range(twos - 1):
            x = x * x % number
            if x == number - 1:
                break
        else:
            return False
    return True


@dataclass(frozen=True)
class Marginal:
    """For one value of one variable: the number of completions and the cheapest key."""

    count: int
    best: int | None


class TreeQuery:
    """One problem's view of a compiled tree (``problem`` shares the tree's catalog rules)."""

    def __init__(self, tree: Tree, problem: Problem, *, preference_first: bool = False) -> None:
        self.tree = tree
        self.problem = problem
        bound = sum(max(abs(v) for v in f.table.values()) for f in problem.score_factors)
        self.score_bound = bound
        self.scale = 2 * bound + 1
        bags = tree.bags
        extra: dict[int, list[tuple[Constraint, Callable[[tuple[int, ...]], tuple[int, ...]]]]] = {}
        base = {id(c) for c in tree.problem.constraints}
        for constraint in problem.constraints:
            if id(constraint) in base:
                continue
            index = tree.bag_containing(constraint.scope)
            if index is None:
                raise ValueError("constraint scope fits no bag; rebuild the tree")
            bag = bags[index]
            extra.setdefault(index, []).append(
                (constraint, tuple_projector([bag.vars.index(v) for v in constraint.scope]))
            )
        scores: dict[int, list[tuple[Factor, Callable[[tuple[int, ...]], tuple[int, ...]]]]] = {}
        for factor in problem.score_factors:
            index = tree.bag_containing(factor.scope)
            if index is None:
                raise ValueError("preference scope fits no bag; rebuild the tree")
            bag = bags[index]
            scores.setdefault(index, []).append(
                (factor, tuple_projector([bag.vars.index(v) for v in factor.scope]))
            )
        # exact integer types: int64 when nothing can overflow, Python ints otherwise
        space = prod(max(1, sum(row)) for row in problem.allowed)
        primes = _primes_above(space)
        self._moduli = np.asarray(primes, dtype=np.int64)
        self._modulus = prod(primes)
        self._crt = [
            (self._modulus // p) * pow(self._modulus // p, -1, p) % self._modulus for p in primes
        ]
        span, largest = tree.cost_span, tree.cost_magnitude
        magnitude = largest * self.scale + bound * (span if preference_first else 1)
        self._key_type: Any = np.int64 if magnitude < _SAFE else object
        masks = [np.asarray(row, dtype=bool) for row in problem.allowed]
        self.mask: list[np.ndarray] = []
        self.key_array: list[np.ndarray] = []
        self.score_array: list[np.ndarray] = []
        for index, bag in enumerate(bags):
            n = len(bag.tuples)
            mask = np.ones(n, dtype=bool)
            for p in bag.owned:
                mask &= masks[bag.vars[p]][bag.values[:, p]]
            checks = extra.get(index, [])
            if checks:
                mask &= np.asarray(
                    [all(key(t) in c.allowed for c, key in checks) for t in bag.tuples],
                    dtype=bool,
                ).reshape(n)
            factors = scores.get(index, [])
            if factors:
                score = np.asarray(
                    [sum(f.table.get(key(t), 0) for f, key in factors) for t in bag.tuples],
                    dtype=np.int64,
                ).reshape(n)
            else:
                score = self._zeros(n)
            cost = bag.cost_array
            if self._key_type is object:
                cost = cost.astype(object)
            if preference_first:
                key = cost - score.astype(self._key_type) * span
            elif self.scale != 1:
                key = cost * self.scale - score.astype(self._key_type)
            else:
                key = cost  # no preferences at all: the key is the cost
            self.mask.append(mask)
            self.key_array.append(key)
            self.score_array.append(score)
        self._up_done = False
        self._down_done = False
        self._lists: tuple[list[list[int]], list[list[int]], list[list[int]]] | None = None
        self._up_lists: tuple[list[list[bool]], list[list[int]]] | None = None

    _zero_cache: dict[int, np.ndarray] = {}  # noqa: RUF012 - shared read-only zero arrays

    @classmethod
    def _zeros(cls, n: int) -> np.ndarray:
        zeros = cls._zero_cache.get(n)
        if zeros is None:
            zeros = np.zeros(n, dtype=np.int64)
            zeros.flags.writeable = False
            cls._zero_cache[n] = zeros
        return zeros

    def cost_of(self, key: int) -> int:
        """The unit cost part of a key (keys are ``cost x scale - score``)."""
        return (key + self.score_bound) // self.scale

    def score_of(self, key: int) -> int:
        """The preference score part of a key."""
        return self.cost_of(key) * self.scale - key

    # -- list views for the search methods --------------------------------------------------

    def _views(self) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
        if self._lists is None:
            live = [np.flatnonzero(mask) for mask in self.mask]
            self._lists = (
                [indexes.tolist() for indexes in live],
                [key[indexes].tolist() for key, indexes in zip(self.key_array, live, strict=True)],
                [s[indexes].tolist() for s, indexes in zip(self.score_array, live, strict=True)],
            )
        return self._lists

    @property
    def live(self) -> list[list[int]]:
        """Per bag, the indexes of the tuples the query keeps."""
        return self._views()[0]

    @property
    def key(self) -> list[list[int]]:
        """Per bag, the keys of the kept tuples (aligned with :attr:`live`)."""
        return self._views()[1]

    @property
    def score(self) -> list[list[int]]:
        """Per bag, the preference scores of the kept tuples (aligned with :attr:`live`)."""
        return self._views()[2]

    @property
    def up_alive(self) -> list[list[bool]]:
        """Per bag, whether each kept tuple has completions below it (aligned with live)."""
        return self._up_views()[0]

    @property
    def up_best(self) -> list[list[int]]:
        """Per bag, the cheapest key below each kept tuple (aligned with :attr:`live`)."""
        return self._up_views()[1]

    def _up_views(self) -> tuple[list[list[bool]], list[list[int]]]:
        if self._up_lists is None:
            self._up()
            live = self._live_arrays()
            self._up_lists = (
                [alive[i].tolist() for alive, i in zip(self._up_alive, live, strict=True)],
                [
                    [int(b) for b in bests[i].tolist()]
                    for bests, i in zip(self._up_best, live, strict=True)
                ],
            )
        return self._up_lists

    def _live_arrays(self) -> list[np.ndarray]:
        return [np.flatnonzero(mask) for mask in self.mask]

    # -- upward pass ------------------------------------------------------------------------
    #
    # Counts are kept as residues modulo K primes below 2**31 (products fit in 64 bits), K
    # chosen so the primes' product exceeds any possible count; exact integers come back by
    # the Chinese remainder theorem. Whether a count is zero is tracked exactly, apart, by
    # Boolean support arrays (a residue can be zero when the count is not).

    def _up(self) -> None:
        if self._up_done:
            return
        bags = self.tree.bags
        n = len(bags)
        moduli, key_type = self._moduli, self._key_type
        width = len(moduli)
        empty = np.zeros((0, width), dtype=np.int64)
        self._up_count: list[np.ndarray] = [empty] * n
        self._up_alive: list[np.ndarray] = [np.zeros(0, dtype=bool)] * n
        self._up_best: list[np.ndarray] = [np.zeros(0, dtype=key_type)] * n
        self._msg_count: list[np.ndarray] = [empty] * n
        self._msg_alive: list[np.ndarray] = [np.zeros(0, dtype=bool)] * n
        self._msg_best: list[np.ndarray] = [np.zeros(0, dtype=key_type)] * n
        for index in reversed(self.tree.preorder):
            bag = bags[index]
            alive = self.mask[index]
            count = np.repeat(alive.astype(np.int64)[:, None], width, axis=1)
            best = np.where(alive, self.key_array[index], _BIG).astype(key_type)
            for child, positions in zip(bag.children, bag.child_index, strict=True):
                alive = alive & self._msg_alive[child][positions]
                count = count * self._msg_count[child][positions] % moduli
                best = np.minimum(best + self._msg_best[child][positions], _BIG)
            best = np.where(alive, best, _BIG).astype(key_type)
            self._up_count[index] = count
            self._up_alive[index] = alive
            self._up_best[index] = best
            if len(bag.sep_starts):
                starts = bag.sep_starts
                self._msg_count[index] = np.add.reduceat(count, starts, axis=0) % moduli
                self._msg_alive[index] = np.maximum.reduceat(alive.astype(np.uint8), starts) > 0
                self._msg_best[index] = np.minimum.reduceat(best, starts)
        self._up_done = True

    def _exact(self, residues: np.ndarray | list[int]) -> int:
        """The integer with these residues (Chinese remainder theorem)."""
        values: list[int] = residues.tolist() if isinstance(residues, np.ndarray) else residues
        total: int = sum(map(operator.mul, values, self._crt))
        return total % self._modulus

    def feasible(self) -> bool:
        """Whether any solution exists (a Boolean pass: cheaper than counting)."""
        if self._up_done:
            return bool(len(self._msg_alive[0]) and self._msg_alive[0][0])
        bags = self.tree.bags
        support: list[np.ndarray] = [np.zeros(0, dtype=np.uint8)] * len(bags)
        for index in reversed(self.tree.preorder):
            bag = bags[index]
            alive = self.mask[index]
            for child, positions in zip(bag.children, bag.child_index, strict=True):
                alive = alive & (support[child][positions] > 0)
            if not len(bag.sep_starts):
                continue
            support[index] = np.maximum.reduceat(alive.astype(np.uint8), bag.sep_starts)
        return bool(len(support[0]) and support[0][0])

    def count(self) -> int:
        """The exact number of solutions."""
        self._up()
        if not (len(self._msg_alive[0]) and self._msg_alive[0][0]):
            return 0
        return self._exact(self._msg_count[0][0])

    def best_key(self) -> int | None:
        """The smallest key of any solution (None when there is none)."""
        if not self.count():
            return None
        return int(self._msg_best[0][0])

    def worst_key(self) -> int | None:
        """The largest key of any solution (None when there is none)."""
        if not self.count():
            return None
        bags = self.tree.bags
        messages: list[np.ndarray] = [np.zeros(0, dtype=self._key_type)] * len(bags)
        for index in reversed(self.tree.preorder):
            bag = bags[index]
            alive = self._up_alive[index]
            worst = np.where(alive, self.key_array[index], -_BIG).astype(self._key_type)
            for child, positions in zip(bag.children, bag.child_index, strict=True):
                worst = np.maximum(worst + messages[child][positions], -_BIG)
            worst = np.where(alive, worst, -_BIG).astype(self._key_type)
            if len(bag.sep_starts):
                messages[index] = np.maximum.reduceat(worst, bag.sep_starts)
        return int(messages[0][0])

    # -- downward pass and marginals --------------------------------------------------------

    def _down(self) -> None:
        if self._down_done:
            return
        self._up()
        bags = self.tree.bags
        n = len(bags)
        moduli, key_type = self._moduli, self._key_type
        width = len(moduli)
        empty = np.zeros((0, width), dtype=np.int64)
        self._down_count: list[np.ndarray] = [empty] * n
        self._down_alive: list[np.ndarray] = [np.zeros(0, dtype=bool)] * n
        self._down_best: list[np.ndarray] = [np.zeros(0, dtype=key_type)] * n
        roots = len(bags[0].tuples)
        self._down_count[0] = np.ones((roots, width), dtype=np.int64)
        self._down_alive[0] = np.ones(roots, dtype=bool)
        self._down_best[0] = np.zeros(roots, dtype=key_type)
        for index in self.tree.preorder:
            bag = bags[index]
            if not bag.children:
                continue
            up_best = self._up_best[index]
            down_count, down_best = self._down_count[index], self._down_best[index]
            alive = self._up_alive[index] & self._down_alive[index]
            # the product of the other children's messages, by prefix and suffix products
            mask = self.mask[index]
            messages = [
                self._msg_count[child][positions]
                for child, positions in zip(bag.children, bag.child_index, strict=True)
            ]
            prefix = [np.repeat(mask.astype(np.int64)[:, None], width, axis=1)]
            if len(messages) == 1:
                others = prefix
            else:
                for message in messages[:-1]:
                    prefix.append(prefix[-1] * message % moduli)
                suffix = np.ones_like(prefix[0])
                others = [empty] * len(messages)
                for j in range(len(messages) - 1, -1, -1):
                    others[j] = prefix[j] * suffix % moduli
                    suffix = suffix * messages[j] % moduli
            for j, (child, positions) in enumerate(zip(bag.children, bag.child_index, strict=True)):
                child_bag = bags[child]
                # every separator key of the child occurs in this bag (semi-join), so the
                # groups of this bag's tuples sorted by child key are the child's groups
                order, starts = bag.child_order[j], bag.child_starts[j]
                contribution = down_count * others[j] % moduli
                contribution[~alive] = 0
                to_count = np.add.reduceat(contribution[order], starts, axis=0)
                to_alive = np.maximum.reduceat(alive[order].astype(np.uint8), starts) > 0
                outside = np.where(
                    alive, down_best + up_best - self._msg_best[child][positions], _BIG
                ).astype(key_type)
                to_best = np.minimum.reduceat(outside[order], starts)
                ids = child_bag.sep_ids
                self._down_count[child] = to_count[ids] % moduli
                self._down_alive[child] = to_alive[ids]
                self._down_best[child] = to_best[ids]
        self._down_done = True

    def marginals(self) -> list[list[Marginal]]:
        """For every variable and value: completions and cheapest key (exact)."""
        self._down()
        problem = self.problem
        moduli = self._moduli
        result: list[list[Marginal]] = [[] for _ in range(problem.size)]
        owned: dict[int, list[tuple[int, int]]] = {}
        for var, (index, position) in enumerate(self.tree.owner):
            owned.setdefault(index, []).append((var, position))
        for index, members in owned.items():
            bag = self.tree.bags[index]
            alive = self._up_alive[index] & self._down_alive[index]
            total = self._up_count[index] * self._down_count[index] % moduli
            total[~alive] = 0
            best = np.where(alive, self._up_best[index] + self._down_best[index], _BIG).astype(
                self._key_type
            )
            flags = alive.astype(np.uint8)
            for var, position in members:
                order, starts, present = bag.value_groups[position]
                counts = (np.add.reduceat(total[order], starts, axis=0) % moduli).tolist()
                any_alive = np.maximum.reduceat(flags[order], starts).tolist()
                bests = np.minimum.reduceat(best[order], starts).tolist()
                row = [Marginal(0, None)] * len(problem.domains[var].choices)
                for group, value in enumerate(present.tolist()):
                    if any_alive[group]:
                        row[value] = Marginal(self._exact(counts[group]), int(bests[group]))
                result[var] = row
        return result

    # -- enumeration ------------------------------------------------------------------------

    def _candidates(self, *, ranked: bool) -> list[dict[Key, list[int]]]:
        """Per bag: separator key -> live tuple positions with completions (ranked: by best)."""
        self._up()
        result: list[dict[Key, list[int]]] = []
        for index, bag in enumerate(self.tree.bags):
            groups: dict[Key, list[int]] = {}
            sep = bag.sep
            counts = self.up_alive[index]
            for i, ti in enumerate(self.live[index]):
                if counts[i]:
                    groups.setdefault(sep(bag.tuples[ti]), []).append(i)
            if ranked:
                bests = self.up_best[index]
                for positions in groups.values():
                    positions.sort(key=bests.__getitem__)
            result.append(groups)
        return result

    def _assignment(self, chosen: Sequence[int]) -> list[int]:
        """Chosen live positions (in preorder) -> value index per variable."""
        values = [0] * self.problem.size
        bags = self.tree.bags
        for index, i in zip(self.tree.preorder, chosen, strict=True):
            bag = bags[index]
            t = bag.tuples[self.live[index][i]]
            for p in bag.owned:
                values[bag.vars[p]] = t[p]
        return values

    def solutions(self) -> Iterator[list[int]]:
        """Every solution once, as a value index per variable, without dead ends."""
        if not self.count():
            return
        groups = self._candidates(ranked=False)
        order = self.tree.preorder
        bags = self.tree.bags
        position_of = {index: pos for pos, index in enumerate(order)}
        parent_pos = [position_of.get(bags[index].parent, -1) for index in order]
        key_of = []
        for index in order:
            bag = bags[index]
            if bag.parent < 0:
                key_of.append(bag.sep)
            else:
                parent = bags[bag.parent]
                key_of.append(parent.child_keys[parent.children.index(index)])
        n = len(order)
        chosen = [0] * n
        tuples_at = [[bags[index].tuples[ti] for ti in self.live[index]] for index in order]
        iterators: list[Iterator[int]] = [iter(groups[order[0]].get((), []))]
        while iterators:
            depth = len(iterators) - 1
            i = next(iterators[-1], None)
            if i is None:
                iterators.pop()
                continue
            chosen[depth] = i
            if depth + 1 == n:
                yield self._assignment(chosen)
                continue
            nxt = depth + 1
            parent_t = tuples_at[parent_pos[nxt]][chosen[parent_pos[nxt]]]
            iterators.append(iter(groups[order[nxt]].get(key_of[nxt](parent_t), [])))

    def solution_array(self) -> tuple[np.ndarray, np.ndarray]:
        """Every solution at once: value indexes (solutions x variables) and unit costs.

        A vectorised expansion down the tree: each step repeats the current rows once per
        matching tuple of the next bag. Only the bags whose children are still to come are
        carried along; the full rows are put together at the end by walking the steps back.
        """
        self._up()
        bags = self.tree.bags
        order = self.tree.preorder
        n_vars = self.problem.size
        if not self.count():
            return np.zeros((0, n_vars), dtype=np.int32), np.zeros(0, dtype=np.int64)
        pending = {index: len(bags[index].children) for index in order}
        frontier: dict[int, np.ndarray] = {0: np.zeros(1, dtype=np.int32)}
        cost = np.zeros(1, dtype=np.int64)
        steps: list[tuple[int, np.ndarray, np.ndarray]] = []  # bag, picked, row -> previous row
        for index in order[1:]:
            bag = bags[index]
            parent = bags[bag.parent]
            j = parent.children.index(index)
            keys = parent.child_index[j][frontier[bag.parent]]
            valid = np.flatnonzero(self._up_alive[index])
            per_key = np.bincount(bag.sep_ids[valid], minlength=len(bag.sep_starts))
            offsets = np.concatenate(([0], np.cumsum(per_key)[:-1]))
            repeats = per_key[keys]
            total = int(repeats.sum())
            starts = np.repeat(offsets[keys], repeats)
            within = np.arange(total) - np.repeat(np.cumsum(repeats) - repeats, repeats)
            picked = valid[starts + within].astype(np.int32)
            back = np.repeat(np.arange(len(repeats), dtype=np.int32), repeats)
            cost = cost[back] + bag.cost_array[picked]
            pending[bag.parent] -= 1
            if not pending[bag.parent]:
                del frontier[bag.parent]
            frontier = {other: column[back] for other, column in frontier.items()}
            if bag.children:
                frontier[index] = picked
            steps.append((index, picked, back))
        values = np.zeros((len(cost), n_vars), dtype=np.int32)
        owned: dict[int, list[tuple[int, int]]] = {}
        for var, (index, position) in enumerate(self.tree.owner):
            owned.setdefault(index, []).append((var, position))
        rows = np.arange(len(cost), dtype=np.int32)
        for index, picked, back in reversed(steps):
            tuples = picked[rows]
            for var, position in owned.get(index, ()):
                values[:, var] = bags[index].values[tuples, position]
            rows = back[rows]
        return values, cost

    def by_key(self) -> Iterator[tuple[int, list[int]]]:
        """Every solution once, in non-decreasing key (unit price, then -score) order."""
        if not self.count():
            return
        groups = self._candidates(ranked=True)
        order = self.tree.preorder
        bags = self.tree.bags
        position_of = {index: pos for pos, index in enumerate(order)}
        parent_pos = [position_of.get(bags[index].parent, -1) for index in order]
        key_of: list[Callable[[tuple[int, ...]], Key]] = []
        for index in order:
            bag = bags[index]
            if bag.parent < 0:
                key_of.append(bag.sep)
            else:
                parent = bags[bag.parent]
                key_of.append(parent.child_keys[parent.children.index(index)])
        bests = [self.up_best[index] for index in order]
        tuples_at = [[bags[index].tuples[ti] for ti in self.live[index]] for index in order]
        n = len(order)
        counter = itertools.count()

        def candidates(pos: int, chosen: tuple[int, ...]) -> list[int]:
            if pos == 0:
                return groups[order[0]].get((), [])
            parent = parent_pos[pos]
            parent_t = tuples_at[parent][chosen[parent]]
            return groups[order[pos]].get(key_of[pos](parent_t), [])

        root = candidates(0, ())
        heap: list[tuple[int, int, tuple[int, ...], int]] = [
            (bests[0][root[0]], next(counter), (root[0],), 0)
        ]
        while heap:
            f, _, chosen, rank = heapq.heappop(heap)
            pos = len(chosen) - 1
            options = candidates(pos, chosen)
            if rank + 1 < len(options):
                sibling = options[rank + 1]
                f_sibling = f - bests[pos][options[rank]] + bests[pos][sibling]
                heapq.heappush(heap, (f_sibling, next(counter), (*chosen[:-1], sibling), rank + 1))
            if pos + 1 == n:
                yield f, self._assignment(chosen)
                continue
            nxt = candidates(pos + 1, chosen)
            heapq.heappush(heap, (f, next(counter), (*chosen, nxt[0]), 0))

    # -- counting with resources ------------------------------------------------------------

    def count_within(self, resources: Sequence[Resource], cost_bound: int | None) -> int:
        """Solutions whose resource sums hold and whose unit cost is at most ``cost_bound``."""
        return count_within(self, resources, cost_bound)

    def cost_distribution(
        self, resources: Sequence[Resource], cost_bound: int | None
    ) -> dict[int, int]:
        """Unit cost -> number of solutions whose resource sums hold (costs up to the bound)."""
        return cost_distribution(self, resources, cost_bound)
