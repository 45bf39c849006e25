"""Value recommendation learned from sales: rank a slot's still-possible modules.

The learner follows the findings of Fargier, Gimenez and Mengin on the Renault sales histories
("Recommendation for product configuration: an experimental evaluation", CWS 2016;
"Recommendation using Bayesian inference for product configuration", RIA 2016; "Experimental
evaluation of three value recommendation methods in interactive configuration", JUCS 2020): the
best success rates come from estimating P(slot = module | choices made) from the sales
themselves, restricted to the part of the choices that matters for that slot (their recursive
conditioning reads the conditional frequencies off the sample at query time instead of fitted
tables), while naive Bayes, which treats the choices as independent given the slot, barely
does better than proposing the most popular module.

Here the part of the choices that matters is chosen per query: the chosen slots are taken in
decreasing mutual information with the slot to recommend (measured once per slot asked about), and
each joins the context when at least ``min_support`` sales agree with the context and it (a
choice no such sale shares is passed over). The module frequencies among those sales,
smoothed towards the slot's overall frequencies, are the scores.

Invariants: the learner never decides what is possible. :meth:`Recommender.recommend` ranks
exactly the modules the session's state shows chosen, implied or available (the constraint
model keeps every proposal consistent), each once, best first, with scores in [0, 1] that sum
to 1; ties go to the catalog's module order, so equal inputs give equal rankings. A fitted
recommender answers the same to every caller (the relevance rows it works out on first use are
kept) and is safe to share between threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._errors import NeedsError, did_you_mean
from .._memory import check_memory, default_memory_limit

if TYPE_CHECKING:
    from .._configurator import Configurator
    from ..model import Catalog
    from ..session import Session

__all__ = ["Recommender"]

#: The code of a slot a sale does not record (it matches no module of that slot).
_UNRECORDED = -1
#: Cells of the pairs' joint counts worked out at once when learning (8 bytes each, a few
#: arrays of them).
_PAIR_CELLS = 1 << 21


class Recommender:
    """Proposes modules for a slot of a session, learned from past sales.

    Build one with :meth:`fit`; :meth:`recommend` then ranks a slot's still-possible modules
    for the choices a session holds, best first:

    >>> import modcfg
    >>> from modcfg.memory import Recommender
    >>> cfg = modcfg.compile("windows")
    >>> sales = [{"frame": "oak", "glass": "triple"}] * 3 + [{"frame": "pvc", "glass": "double"}]
    >>> recommender = Recommender.fit(cfg, sales)
    >>> session = cfg.session()
    >>> _ = session.choose("frame", "oak")
    >>> [module for module, _ in recommender.recommend(session, "glass")][:2]
    ['triple', 'double']
    """

    def __init__(
        self,
        catalog: Catalog,
        slots: tuple[str, ...],
        values: tuple[tuple[str | None, ...], ...],
        codes: npt.NDArray[np.int32],
        *,
        min_support: int,
        smoothing: float,
    ) -> None:
        """Use :meth:`fit`; this stores what it learned (``codes``: one row per slot of
        ``slots``, one column per sale, each entry an index into that slot's ``values``)."""
        self._catalog = catalog
        self._slots = slots
        self._index = {slot: number for number, slot in enumerate(slots)}
        self._values = values
        self._codes = codes
        self._min_support = min_support
        self._smoothing = smoothing
        # masks[v][k]: which sales chose value k for slot v
        self._masks = tuple(
            np.stack([row == code for code in range(len(values[number]))])
            for number, row in enumerate(codes)
        )
        self._priors = tuple(_frequencies(row, len(values[n])) for n, row in enumerate(codes))
        # what the relevance of the slots to each other is read from, per slot asked about
        # (a pass over every pair of slots took 70 s for 1,850 slots; a slot's row takes
        # milliseconds): each sale's values one-hot, and which slots each sale records
        sizes = [len(v) for v in values]
        self._starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._slot_of = np.repeat(np.arange(len(sizes)), sizes).astype(np.int64)
        self._onehot = np.concatenate([*self._masks, np.zeros((0, codes.shape[1]), bool)])
        self._onehot = self._onehot.astype(np.float32)
        self._recorded = (codes >= 0).astype(np.float32)
        self._relevance: dict[int, npt.NDArray[np.float64]] = {}  # (rows made so far)

    @classmethod
    def fit(
        cls,
        cfg: Configurator,
        sales: Iterable[Mapping[str, Any]],
        *,
        min_support: int = 1,
        smoothing: float = 0.5,
    ) -> Recommender:
        """Learn from ``sales``: mappings slot id -> module id (None: an optional slot left
        empty), such as the configurations :func:`modcfg.io.read_sales` reads.

        A sale may record only some slots. Multi-select slots are not learned: their modules
        are ranked by their share of the session's completions. ``min_support`` is the fewest
        sales a context keeps (1: the most specific context any sale matches); ``smoothing``
        is the weight, in sales, of the slot's overall frequencies against the context's.
        Raises :class:`~modcfg.NeedsError` for a sale naming a slot or module the catalog lacks.
        """
        if min_support < 1:
            raise NeedsError(f"min_support={min_support}: a context must keep at least 1 sale")
        if not smoothing > 0:
            raise NeedsError(f"smoothing={smoothing}: the smoothing weight must be positive")
        catalog = cfg.catalog
        rows = [_checked_sale(catalog, number, sale) for number, sale in enumerate(sales)]
        if not rows:
            raise NeedsError("no sales to learn from: pass at least one sale to Recommender.fit")
        recorded = {slot for row in rows for slot in row}
        slots = tuple(slot for slot in catalog.slots if slot in recorded)
        values = tuple((*catalog.slots[slot].modules, None) for slot in slots)
        check_memory(  # (per sale: a flag and a 4-byte one-hot cell a value, a code a slot)
            len(rows) * sum(5 * len(v) + 8 for v in values),
            default_memory_limit(),
            f"learning from {len(rows)} sales",
            "learn from fewer sales (the most recent ones)",
        )
        codes = np.full((len(slots), len(rows)), _UNRECORDED, dtype=np.int32)
        for number, slot in enumerate(slots):
            position = {value: code for code, value in enumerate(values[number])}
            line = codes[number]
            for column, row in enumerate(rows):
                if slot in row:
                    line[column] = position[row[slot]]
        return cls(catalog, slots, values, codes, min_support=min_support, smoothing=smoothing)

    @property
    def slots(self) -> tuple[str, ...]:
        """The slots the sales record, in catalog order."""
        return self._slots

    @property
    def sales(self) -> int:
        """How many sales the recommender learned from."""
        return int(self._codes.shape[1])

    def __repr__(self) -> str:
        return (
            f"<Recommender {self._catalog.name}: {self.sales} sales over {len(self._slots)} slots>"
        )

    def recommend(self, session: Session, slot: str) -> list[tuple[str, float]]:
        """The modules of ``slot`` still possible in ``session``, best first, with scores.

        Possible means chosen, implied or available in ``session.state()``; the score
        estimates how likely a customer who made the session's choices picks the module.
        """
        self._check(slot, ())
        state = session.state()
        options = state[slot]
        possible = [module for module, option in options.items() if option.status != "excluded"]
        if slot not in self._index:
            total = sum(options[module].count for module in possible)
            shares = [(m, options[m].count / total if total else 0.0) for m in possible]
            return sorted(shares, key=lambda pair: -pair[1])
        return self.rank(slot, session.choices, possible)

    def rank(
        self, slot: str, choices: Mapping[str, Any], possible: Sequence[str]
    ) -> list[tuple[str, float]]:
        """Rank ``possible`` (modules of ``slot``, all still possible) given ``choices``
        (slot id -> module id), best first: :meth:`recommend` for a caller that already knows
        which modules are possible. Raises :class:`~modcfg.NeedsError` for a slot or module
        the catalog lacks."""
        self._check(slot, possible)
        target = self._index.get(slot)
        if target is None:
            return [(module, 1 / len(possible)) for module in possible]
        counts, matched = self._context_counts(target, choices)
        prior = self._priors[target]
        position = {value: code for code, value in enumerate(self._values[target])}
        codes = [position[module] for module in possible]
        raw = (counts[codes] + self._smoothing * prior[codes]) / (matched + self._smoothing)
        total = float(raw.sum())
        scores = raw / total if total > 0 else np.full(len(codes), 1 / max(len(codes), 1))
        order = np.argsort(-scores, kind="stable")
        return [(possible[i], float(scores[i])) for i in order]

    def _check(self, slot: str, modules: Sequence[str]) -> None:
        known = self._catalog.slots
        if slot not in known:
            raise NeedsError(
                f"'{slot}' is no slot of catalog '{self._catalog.name}'{did_you_mean(slot, known)}"
            )
        for module in modules:
            if module not in known[slot].modules:
                raise NeedsError(
                    f"'{module}' is no module of slot '{slot}'"
                    f"{did_you_mean(str(module), known[slot].modules)}"
                )

    def _relevance_row(self, target: int) -> npt.NDArray[np.float64]:
        """Slot ``target``'s relevance to every slot (see :func:`_relevance_row`), made once."""
        relevance = self._relevance.get(target)
        if relevance is None:  # (two threads may both make it: the same row)
            relevance = _relevance_row(
                target, self._onehot, self._recorded, self._starts, self._slot_of
            )
            self._relevance[target] = relevance
        return relevance

    def _context_counts(
        self, target: int, choices: Mapping[str, Any]
    ) -> tuple[npt.NDArray[np.float64], int]:
        """How often each value of slot ``target`` was sold in the context, and the context's
        number of sales (all sales when no choice qualifies)."""
        relevance = self._relevance_row(target)
        context = []
        for slot, module in choices.items():
            number = self._index.get(slot)
            if number is None or number == target or isinstance(module, Mapping):
                continue
            code = _code_of(self._values[number], module)
            if code is not None:
                context.append((-relevance[number], number, code))
        context.sort()
        agree: npt.NDArray[np.bool_] | None = None
        matched = self.sales
        for _, number, code in context:
            narrower = (
                self._masks[number][code] if agree is None else agree & self._masks[number][code]
            )
            size = int(np.count_nonzero(narrower))
            if size >= self._min_support:
                agree, matched = narrower, size
        row = self._codes[target] if agree is None else self._codes[target][agree]
        counts = np.bincount(row[row >= 0], minlength=len(self._values[target]))
        return counts.astype(np.float64), matched


def _code_of(values: tuple[str | None, ...], module: object) -> int | None:
    try:
        return values.index(module)
    except ValueError:
        return None


def _checked_sale(catalog: Catalog, number: int, sale: Mapping[str, Any]) -> dict[str, str | None]:
    """One sale as slot -> module (None: left empty), single slots only, checked against the
    catalog."""
    if not isinstance(sale, Mapping):
        raise NeedsError(
            f"sale {number} is a {type(sale).__name__}, not a mapping slot id -> module id"
        )
    row: dict[str, str | None] = {}
    for slot_id, module in sale.items():
        slot = catalog.slots.get(slot_id)
        if slot is None:
            raise NeedsError(
                f"sale {number} names slot '{slot_id}', which is no slot of catalog "
                f"'{catalog.name}'{did_you_mean(str(slot_id), catalog.slots)}; read sales with "
                "modcfg.io.read_sales(path, catalog) to map a file's names to the catalog's ids"
            )
        if not slot.single:
            continue
        if module is not None and module not in slot.modules:
            raise NeedsError(
                f"sale {number} chooses '{module}' for slot '{slot_id}', which is no module of "
                f"it{did_you_mean(str(module), slot.modules)}"
            )
        row[slot_id] = module
    return row


def _frequencies(row: npt.NDArray[np.int32], size: int) -> npt.NDArray[np.float64]:
    counts = np.bincount(row[row >= 0], minlength=size).astype(np.float64)
    total = counts.sum()
    return counts / total if total else np.full(size, 1 / size)


def _relevance_row(
    target: int,
    onehot: npt.NDArray[np.float32],
    recorded: npt.NDArray[np.float32],
    starts: npt.NDArray[np.int64],
    slot_of: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """The mutual information of slot ``target`` with every slot, over the sales recording
    both (0 for ``target`` itself), rounded to 12 decimals so that equal ones compare equal.

    ``onehot``: a row per value of every slot (slot ``y``'s from ``starts[y]``), a column per
    sale, 1 where the sale chose it; ``recorded``: a row per slot, 1 where the sale records it;
    ``slot_of``: each value's slot. The joint counts of ``target`` with every slot are one
    matrix product, their margins two more."""
    rows = slice(int(starts[target]), int(starts[target + 1]))
    mine = onehot[rows]
    joint = (mine @ onehot.T).astype(np.float64)  # [k, l]: sales with value k and value l
    pairs = (recorded[target] @ recorded.T).astype(np.float64)[slot_of]  # sales of both
    ahead = (mine @ recorded.T).astype(np.float64)[:, slot_of]  # value k among those sales
    behind = (onehot @ recorded[target]).astype(np.float64)  # value l among those sales
    seen = joint > 0
    ratio = np.divide(joint * pairs, ahead * behind, out=np.ones_like(joint), where=seen)
    terms = np.divide(joint, pairs, out=np.zeros_like(joint), where=seen) * np.log(ratio)
    relevance = np.add.reduceat(terms, starts[:-1], axis=1).sum(axis=0)
    relevance[target] = 0.0
    rounded: npt.NDArray[np.float64] = np.round(relevance, 12)
    return rounded
