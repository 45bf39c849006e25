"""Queries over a compiled tree: counts, cheapest, marginals, enumeration, k-best.

A :class:`TreeQuery` applies one customer's needs to a :class:`Tree` without rebuilding it:
value filters (unary needs and choices) and extra relations/score factors attached to single
bags. Every tuple gets a *key* ``cost x M - score``: ordering keys orders by unit price, then by
preference score (``M`` exceeds twice the largest possible score).

The upward and downward passes are compiled loops over the tree's flat layout (see
:mod:`._kernels` and :mod:`._counting`). Counts are plain 64-bit integers when the largest
possible count is below 2**62 (the common case: one count per row, no reduction); otherwise
residues modulo as many primes below 2**31 as that count needs, turned into exact integers by
the Chinese remainder theorem (:mod:`._residues`). Keys are 64-bit integers when they provably
fit, Python integers otherwise (the same passes then run as plain Python).

Enumeration and the ordered streams (:class:`._search.Walks`) and counting under global
sums (:class:`._sums.Sums`) are methods a query takes from the modules that implement them.

A query is shared by threads: a pass computes into fresh arrays and publishes them under a
lock, and a query never changes its filters (:meth:`TreeQuery.restricted` makes a new one).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import numpy as np

from ..._memory import check_memory
from ...lower._problem import Problem
from .._protocol import Marginal
from ._jit import compiled_pays
from ._kernels import BIG, Kernels, kernels
from ._marginal_passes import marginal_passes
from ._residues import count_room, exact, exact_rows, pass_bytes, residue_system
from ._search import Walks
from ._sums import Listed, Sums, Within
from ._tree import Tree
from ._views import Below, Kept, Upward, attach

__all__ = ["Marginal", "TreeQuery"]

#: Keys up to this magnitude are int64 (sums of a few of them stay below :data:`BIG`).
_SAFE = 1 << 58

_Views = list[np.ndarray]

#: A query restricted this many times since the last upward pass up its chain runs a whole
#: pass (its paths to the root would be most of the tree).
_CHANGED_BAGS = 16

#: A query whose upward pass is done, and the bags whose rows another filters differently.
_UpFrom = tuple["TreeQuery", tuple[int, ...]]


class TreeQuery(Walks, Sums):
    """One problem's view of a compiled tree (``problem`` shares the tree's catalog rules)."""

    #: Run the passes as plain Python even when keys fit in 64 bits (tests compare both).
    plain = False

    # the upward pass's results, once published (see :meth:`_up` and :class:`Upward`)
    _up_count: np.ndarray
    _up_base: np.ndarray
    _fresh: np.ndarray | None
    _up_best: np.ndarray
    _msg_count: np.ndarray
    _msg_best: np.ndarray

    def __init__(
        self,
        tree: Tree,
        problem: Problem,
        *,
        preference_first: bool = False,
        count_bound: int | None = None,
        count: int | None = None,
    ) -> None:
        """``count_bound``: a bound on the number of solutions, when one is known (the count
        without the customer's needs bounds the count with them); fewer moduli then, or none.
        It bounds the passes' intermediate counts too: the tree's tuples are globally
        consistent (every one is in some solution without the needs), so a tuple's completions
        below it, or outside its subtree, are at most the whole count. ``count``: the number
        of solutions, when another query of the same problem has counted them already."""
        self.tree = tree
        self.problem = problem
        bound = sum(max(abs(v) for v in f.table.values()) for f in problem.score_factors)
        self.score_bound = bound
        self.scale = 2 * bound + 1
        flat = self._flat = tree.flat
        # exact integer types: residues for counts; int64 keys when nothing can overflow
        space = tree.bound_for(problem)
        if count_bound:  # (zero: nothing to bound intermediate counts by)
            space = min(space, count_bound)
        self._moduli, self._modulus, self._crt, self._inverses = residue_system(space)
        check_memory(
            pass_bytes(flat.rows, flat.keys, len(self._moduli)),
            problem.memory_limit,
            f"counting over {flat.rows:,} bag rows (modulo {len(self._moduli)} primes)",
            "split rules that span many slots into smaller ones",
        )
        span, largest = tree.cost_span, tree.cost_magnitude
        magnitude = largest * self.scale + bound * (span if preference_first else 1)
        self._key_type: Any = np.int64 if magnitude < _SAFE else object
        # "no completion": above any sum of keys (a Python integer when keys are)
        self._big = BIG if magnitude < _SAFE else 1 << (magnitude.bit_length() + 8)
        mask = np.ones(flat.rows, dtype=bool)
        self._kernels(flat.rows).mask(flat.columns, flat.flat_allowed(problem.allowed), mask)
        score = attach(tree, problem, mask)
        cost = flat.cost.astype(object) if self._key_type is object else flat.cost
        if preference_first:
            keys = cost - score.astype(self._key_type) * span
        elif self.scale != 1:
            keys = cost * self.scale - score.astype(self._key_type)
        else:
            keys = cost  # no preferences at all: the key is the cost
        self._key_all = keys
        self._score_all = score
        self._start(problem, mask, count)

    def restricted(self, var: int, values: frozenset[int]) -> TreeQuery:
        """This query with ``var`` limited to ``values`` (a customer's choice): shares the keys
        and recomputes only the filter of the bag where ``var`` is read (the smallest that
        holds it, see :class:`._layout.Flat`)."""
        row = self.problem.kept(var, values)
        bag, first, column = self._flat.column(var)
        mask = self._mask_all.copy()
        mask[first : first + len(column)] &= np.asarray(row, dtype=bool)[column]
        # only the rows of that bag changed: the upward pass can start from the last query up
        # the chain that has done its own
        up_from: _UpFrom | None = None
        if self._up_done:
            up_from = (self, (bag,))
        elif self._up_from is not None and len(self._up_from[1]) < _CHANGED_BAGS:
            source, bags = self._up_from
            up_from = (source, (*bags, bag))
        problem = self.problem.with_allowed(var, row)
        listed = self._narrowed_sums(var, values)
        return self._sharing(self, problem, mask, up_from, listed=listed)

    def bounded(self, bound: int) -> TreeQuery:
        """This query counting in the residue system of ``bound``, a bound on each of its
        counts (its own count, once known, bounds them tighter than the tree does: fewer
        moduli for every later pass). Its count and upward pass carry over when done: the
        residues modulo the first primes of a system are those of any smaller one. A bound of
        zero bounds nothing (with no solution at all, a component's bags may still hold
        tuples): this query is returned as it is."""
        if not bound:
            return self
        system = residue_system(bound)
        moduli = system[0]
        upward = None
        if self._up_done and moduli[0] and self._moduli[0] and len(moduli) <= len(self._moduli):
            done = self.upward()
            if done.fresh is None:  # (a whole pass: a session's recounted path is not)
                kept = len(moduli)
                count = np.ascontiguousarray(done.count[:, :kept])
                upward = Upward(
                    count,
                    done.best,
                    np.ascontiguousarray(done.msg_count[:, :kept]),
                    done.msg_best,
                    count,
                )
        return self._sharing(
            self,
            self.problem,
            self._mask_all,
            None,
            system=system,
            upward=upward,
            count=self._count,
        )

    @classmethod
    def _sharing(
        cls,
        source: TreeQuery,
        problem: Problem,
        mask: np.ndarray,
        up_from: _UpFrom | None,
        *,
        system: tuple[np.ndarray, int, list[int], np.ndarray] | None = None,
        upward: Upward | None = None,
        count: int | None = None,
        listed: Listed | None = None,
    ) -> TreeQuery:
        """A query with ``source``'s tree, keys and count system (or ``system``), and these
        filters (and their ``count`` and ``upward`` pass, and solutions ``listed`` within
        bounds, when known)."""
        query = cls.__new__(cls)
        query.__dict__.update(source.__dict__)
        query.__dict__.pop("_prefix_products", None)  # (of the source's moduli)
        if system is not None:
            cls._set_system(query, system)
        cls._start(query, problem, mask, count, up_from=up_from)
        if upward is not None:
            cls._set_upward(query, upward)
        if listed:
            cls._adopt_sums(query, listed)
        return query

    def _set_system(self, system: tuple[np.ndarray, int, list[int], np.ndarray]) -> None:
        self._moduli, self._modulus, self._crt, self._inverses = system

    def _set_upward(self, upward: Upward) -> None:
        self._up_count, self._up_best = upward.count, upward.best
        self._msg_count, self._msg_best = upward.msg_count, upward.msg_best
        self._up_base, self._fresh = upward.base, upward.fresh
        self._best_done = self._up_done = True

    def _start(
        self,
        problem: Problem,
        mask: np.ndarray,
        count: int | None = None,
        *,
        up_from: _UpFrom | None = None,
    ) -> None:
        """Set the filters (``mask``: which rows pass them), with no pass done yet (and the
        number of solutions they leave, when known; ``up_from``: a query whose upward pass is
        done and the bags whose rows this one filters differently)."""
        self.problem = problem
        self._mask_all = mask
        self._publish = threading.Lock()
        self._up_done = False
        self._best_done = False
        self._count: int | None = count
        self._marginals: list[list[Marginal]] | None = None
        self._split_cache: dict[str, _Views] = {}
        self._kept: Kept | None = None
        self._below: Below | None = None
        self._sums: dict[tuple[tuple[int, ...], int | None], Within] = {}
        self._up_from = up_from

    def _split(self, name: str, array: np.ndarray) -> _Views:
        """Per-bag views of a flat array (cached by name)."""
        views = self._split_cache.get(name)
        if views is None:
            starts = self._flat.start.tolist()
            views = [array[a:b] for a, b in itertools.pairwise(starts)]
            self._split_cache[name] = views
        return views

    def cost_of(self, key: int) -> int:
        """The unit cost part of a key (keys are ``cost x scale - score``)."""
        return (key + self.score_bound) // self.scale

    def last_key_of(self, cost: int) -> int:
        """The largest key whose unit cost is at most ``cost``."""
        return (cost + 1) * self.scale - self.score_bound - 1

    def score_of(self, key: int) -> int:
        """The preference score part of a key."""
        return self.cost_of(key) * self.scale - key

    # -- list views for the search methods --------------------------------------------------

    @property
    def kept(self) -> Kept:
        """Per bag, the tuples the query keeps, with their keys and scores (built once)."""
        if self._kept is None:
            keys, scores = self._split("key", self._key_all), self._split("score", self._score_all)
            self._kept = Kept.of(self._live(), keys, scores)
        return self._kept

    @property
    def below(self) -> Below:
        """Per bag and kept tuple, whether it has completions below it (runs the upward pass
        for keys if needed; built once)."""
        if self._below is None:
            alive = self.alive_tuples()  # (runs the upward pass for keys first, if needed)
            self._below = Below.of(alive, self._live())
        return self._below

    def _live(self) -> _Views:
        """Per bag, the indexes of the tuples the filters keep (found once)."""
        if "live" not in self._split_cache:
            masks = self._split("mask", self._mask_all)
            self._split_cache["live"] = [np.flatnonzero(mask) for mask in masks]
        return self._split_cache["live"]

    def alive_tuples(self) -> _Views:
        """Per bag, whether each of its tuples (every one, not only the kept ones: a tuple the
        filters drop has none) has completions below it."""
        return self._split("up_alive", self.alive_rows())

    def alive_rows(self) -> np.ndarray:
        """:meth:`alive_tuples` over every row of every bag, in the flat layout."""
        self._up(counts=False)
        return self._up_best < self._big

    def cheapest_below(self) -> np.ndarray:
        """Every row's (of every bag, in the flat layout) cheapest key of a completion below
        it, its own key included (meaningful where :meth:`alive_rows` says it has one)."""
        self._up(counts=False)
        return self._up_best

    # -- upward pass ------------------------------------------------------------------------

    def _kernels(self, rows: int) -> Kernels:
        """The kernels for work worth ``rows`` rows of a plain pass: compiled, unless the
        tests ask for plain Python or the process's plain budget still covers it
        (:func:`._jit.compiled_pays`)."""
        return kernels(compiled=not self.plain and compiled_pays(rows))

    def _passes(self) -> Kernels:
        """The kernels of the passes over the tree; plain Python when keys exceed 64 bits.
        A pass counts each row once per modulus: a plain pass of counts past 64 bits costs
        its rows that many times over (uCLinux's 608 rows modulo 10 primes: 0.4 s a state
        as plain Python)."""
        if self._key_type is object:
            return kernels(compiled=False)
        return self._kernels(self._flat.rows * len(self._moduli))

    def _system(self) -> np.ndarray | None:
        """The count system of the passes: None for plain 64-bit counts, else the moduli."""
        moduli: np.ndarray = self._moduli
        return moduli if moduli[0] else None

    def _up(self, *, counts: bool = True) -> None:
        """The upward pass; ``counts=False``: cheapest keys only (no moduli, no counts)."""
        if self._up_done or (self._best_done and not counts):
            return
        # computed into fresh arrays and published at the end: queries are shared by threads
        flat = self._flat
        layout = flat.layout
        fresh = None
        if counts and self._up_from is not None:
            # the other bags' rows and messages are the source's: update the changed bags
            # and their ancestors only (a session's choice: a path, not the whole tree; see
            # ._path_counting)
            source, bags = self._up_from
            moduli = self._system()
            path = flat.paths_to_root(bags)
            done = source.upward()
            up_count, fresh = done.path_rows(path, flat.start)
            base = done.base
            up_best, msg_count, msg_best = (
                a.copy() for a in (done.best, done.msg_count, done.msg_best)
            )
            changed = np.zeros(len(flat.start) - 1, dtype=bool)
            changed[list(bags)] = True
            before = (
                done.count,
                done.base,
                flat.every_bag if done.fresh is None else done.fresh,
                done.best,
                done.msg_count,
                done.msg_best,
            )
            self._passes().up_path(
                (path, *layout[1:]),
                self._mask_all,
                self._key_all,
                moduli,
                (up_count, up_best),
                (msg_count, msg_best),
                before,
                changed,
                (count_room(flat.keys, moduli), count_room(1, moduli)),
                self._big,
            )
        else:
            moduli = self._system() if counts else self._moduli[:0]
            up_count, msg_count = count_room(flat.rows, moduli), count_room(flat.keys, moduli)
            up_best = np.empty(flat.rows, dtype=self._key_type)
            msg_best = np.empty(flat.keys, dtype=self._key_type)
            base = up_count
            self._passes().up(
                layout,
                self._mask_all,
                self._key_all,
                moduli,
                (up_count, up_best),
                (msg_count, msg_best),
                self._big,
            )
        with self._publish:
            if self._up_done:
                return  # another thread published the full pass meanwhile: keep it
            self._up_count, self._up_best = up_count, up_best
            self._msg_count, self._msg_best = msg_count, msg_best
            self._up_base, self._fresh = base, fresh
            self._best_done = True
            self._up_done = counts
            if counts:
                self._up_from = None  # (the source may go)

    def upward(self) -> Upward:
        """The upward pass's results (run if needed)."""
        self._up()
        rows, keys = (self._up_count, self._up_best), (self._msg_count, self._msg_best)
        return Upward(*rows, *keys, self._up_base, self._fresh)

    def _exact(self, counts: np.ndarray, bound: int | None = None) -> list[int]:
        """The integers these counts stand for (rows of residues, or exact already);
        ``bound``: a bound on them, when known (see :func:`._residues.exact_rows`)."""
        if counts.ndim == 1:
            found: list[int] = counts.tolist()
            return found
        if len(counts) == 1:
            return [exact(counts[0].tolist(), self._crt, self._modulus)]
        # (Garner's recombination: a product per pair of moduli and value; a plain pass's row
        # costs about ten of them)
        work = len(counts) * len(counts) * counts.shape[1] // 20
        garner = self._kernels(work).garner
        return exact_rows(counts, self._moduli, self._inverses, garner, bound=bound)

    def feasible(self) -> bool:
        """Whether any solution exists (a pass of flags that stops early, unless the cheapest
        key is known already)."""
        flat = self._flat
        if self._best_done or not flat.keys:
            return self.best_key() is not None
        alive = self._kernels(flat.rows).alive(
            flat.layout, self._mask_all, np.empty(flat.keys, dtype=bool)
        )
        return bool(alive)

    def count(self) -> int:
        """The exact number of solutions (computed once)."""
        if self._count is None:
            self._up()
            self._count = 0 if self.best_key() is None else self._exact(self._msg_count[:1])[0]
        return self._count

    def best_key(self) -> int | None:
        """The smallest key of any solution (None when there is none)."""
        self._up(counts=False)
        if not len(self._msg_best) or self._msg_best[0] >= self._big:
            return None
        return int(self._msg_best[0])

    def worst_key(self) -> int | None:
        """The largest key of any solution (None when there is none)."""
        if self.best_key() is None:
            return None
        flat = self._flat
        worst = np.empty(flat.keys, dtype=self._key_type)
        self._passes().worst(flat.layout, self._key_all, self._up_best, worst, self._big)
        return int(worst[0])

    # -- downward pass and marginals --------------------------------------------------------

    def marginals(self, *, deadline: float | None = None) -> list[list[Marginal]]:
        """For every variable and value: completions and cheapest key (exact; computed once,
        in passes that are not interrupted: ``deadline`` is not read)."""
        if self._marginals is None:
            self._marginals = self._compute_marginals()
        return self._marginals

    def _compute_marginals(self) -> list[list[Marginal]]:
        flat = self._flat
        counts, bests = marginal_passes(
            self._passes(), flat, self._system(), self.upward(), self._big
        )
        exact = self._exact(counts, bound=self.count())  # (no option has more completions)
        big = self._big
        best_values = [b if b < big else None for b in bests.tolist()]
        row: list[Marginal] = list(zip(exact, best_values, strict=True))
        starts = flat.val_start.tolist()
        return [row[a:b] for a, b in itertools.pairwise(starts)]
